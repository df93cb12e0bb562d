/*
 * gateway.c - the SMS drivers (see gateway.h).
 *
 * The kannel sender is one thread with its own store handle and one curl
 * easy handle (keep-alive to the smsbox). It polls the store for due
 * messages every POLL_MS: messages are few (a sign-in, a report), so a
 * poll costs one indexed query on an empty partial index and keeps the
 * request path free of any coupling to the sender. Sends are sequential:
 * an smsbox takes one message per request anyway.
 */
#include "sms/gateway.h"

#include "core/errors.h"
#include "core/names.h"
#include "util/metrics.h"
#include "util/thread.h"
#include "store/subscribers.h"
#include "util/clock.h"
#include "util/log.h"

#include <curl/curl.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 100
#define DUE_BATCH 32
#define RETRY_MAX_MS (3600 * 1000)

void sn_sms_defaults(sn_sms_options *o)
{
    memset(o, 0, sizeof(*o));
    o->driver = SN_SMS_DRIVER_OUTBOX;
    o->max_attempts = 5;
    o->retry_base_ms = 2000;
    o->timeout_ms = 10000;
}

int sn_sms_driver_parse(const char *s)
{
    static const char *const drivers[] = {"outbox", "kannel"};
    return sn_name_find(SN_NAMES(drivers), s, -1);
}

/* ---- the gateway file --------------------------------------------------- */

static char *trim(char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int set_text(char *dst, size_t cap, const char *value, const char *path, unsigned line,
                    char *err, size_t errlen)
{
    if (strlen(value) >= cap)
        return sn_fail(err, errlen, SN_ECONFIG, "%s:%u: value longer than %zu bytes", path, line,
                       cap - 1);
    snprintf(dst, cap, "%s", value);
    return SN_OK;
}

static int config_line(sn_sms_options *o, char *key, char *value, const char *path, unsigned line,
                       char *err, size_t errlen)
{
    if (strcmp(key, "driver") == 0) {
        int d = sn_sms_driver_parse(value);
        if (d < 0)
            return sn_fail(err, errlen, SN_ECONFIG, "%s:%u: driver must be outbox or kannel", path,
                           line);
        o->driver = d;
        return SN_OK;
    }
    if (strcmp(key, "url") == 0) {
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
            return sn_fail(err, errlen, SN_ECONFIG, "%s:%u: url must be http:// or https://", path,
                           line);
        return set_text(o->kannel_url, sizeof(o->kannel_url), value, path, line, err, errlen);
    }
    if (strcmp(key, "user") == 0)
        return set_text(o->user, sizeof(o->user), value, path, line, err, errlen);
    if (strcmp(key, "password") == 0)
        return set_text(o->password, sizeof(o->password), value, path, line, err, errlen);
    if (strcmp(key, "from") == 0)
        return set_text(o->from, sizeof(o->from), value, path, line, err, errlen);
    if (strcmp(key, "max_attempts") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || v < 1 || v > 100)
            return sn_fail(err, errlen, SN_ECONFIG, "%s:%u: max_attempts must be 1-100", path,
                           line);
        o->max_attempts = (unsigned)v;
        return SN_OK;
    }
    return sn_fail(err, errlen, SN_ECONFIG, "%s:%u: unknown setting '%.40s'", path, line, key);
}

int sn_sms_config_load(const char *path, sn_sms_options *o, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char buf[2048];
    unsigned line = 0;
    int rc = SN_OK;
    if (f == NULL)
        return sn_fail(err, errlen, SN_EIO, "cannot open %s", path);
    while (rc == SN_OK && fgets(buf, sizeof(buf), f) != NULL) {
        line++;
        if (strchr(buf, '\n') == NULL && !feof(f)) {
            rc = sn_fail(err, errlen, SN_ECONFIG, "%s:%u: line too long", path, line);
            break;
        }
        char *s = trim(buf), *eq;
        if (*s == '\0' || *s == '#')
            continue;
        if ((eq = strchr(s, '=')) == NULL) {
            rc = sn_fail(err, errlen, SN_ECONFIG, "%s:%u: expected key = value", path, line);
            break;
        }
        *eq = '\0';
        rc = config_line(o, trim(s), trim(eq + 1), path, line, err, errlen);
    }
    fclose(f);
    if (rc == SN_OK && o->driver == SN_SMS_DRIVER_KANNEL && o->kannel_url[0] == '\0')
        rc = sn_fail(err, errlen, SN_ECONFIG, "%s: the kannel driver needs a url", path);
    return rc;
}

/* ---- queueing ----------------------------------------------------------- */

int sn_sms_queue(sn_store *s, const sn_sms_options *o, sn_number n, int purpose, const char *lang,
                 const char *text, int64_t now, char *err, size_t errlen)
{
    sn_sms_msg m;
    uint64_t id;
    memset(&m, 0, sizeof(m));
    m.number = n;
    m.purpose = (uint8_t)purpose;
    m.state = o->driver == SN_SMS_DRIVER_KANNEL ? SN_SMS_PENDING : SN_SMS_OUTBOX;
    snprintf(m.lang, sizeof(m.lang), "%s", lang);
    if (strlen(text) > SN_SMS_TEXT_MAX)
        return sn_fail(err, errlen, SN_ELIMIT, "message longer than %d bytes", SN_SMS_TEXT_MAX);
    snprintf(m.text, sizeof(m.text), "%s", text);
    m.created = now;
    m.next_at_ms = now * 1000;
    return sn_store_sms_add(s, &m, &id, err, errlen);
}

/* ---- the Kannel URL ----------------------------------------------------- */

/* Percent-encode s (every byte but unreserved characters) after out[*len]. */
static int encode(const char *s, char *out, size_t *len, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            if (*len + 1 >= cap)
                return -1;
            out[(*len)++] = (char)c;
        } else {
            if (*len + 3 >= cap)
                return -1;
            out[(*len)++] = '%';
            out[(*len)++] = hex[c >> 4];
            out[(*len)++] = hex[c & 15];
        }
    }
    out[*len] = '\0';
    return 0;
}

static int append(const char *s, char *out, size_t *len, size_t cap)
{
    size_t n = strlen(s);
    if (*len + n >= cap)
        return -1;
    memcpy(out + *len, s, n + 1);
    *len += n;
    return 0;
}

int sn_kannel_url(const sn_sms_options *o, const sn_sms_msg *m, char *out, size_t cap)
{
    char to[SN_NUMBER_TEXT_MAX];
    size_t len = 0;
    sn_number_format(m->number, to);
    int bad =
        append(o->kannel_url, out, &len, cap) ||
        append(strchr(o->kannel_url, '?') != NULL ? "&username=" : "?username=", out, &len, cap) ||
        encode(o->user, out, &len, cap) || append("&password=", out, &len, cap) ||
        encode(o->password, out, &len, cap) || append("&to=", out, &len, cap) ||
        encode(to, out, &len, cap) || append("&text=", out, &len, cap) ||
        encode(m->text, out, &len, cap) || append("&charset=UTF-8&coding=2", out, &len, cap);
    if (!bad && o->from[0] != '\0')
        bad = append("&from=", out, &len, cap) || encode(o->from, out, &len, cap);
    return bad ? SN_ELIMIT : SN_OK;
}

/* ---- the sender thread -------------------------------------------------- */

struct sn_sms_sender {
    sn_sms_options opt;
    sn_store *store;
    CURL *curl;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    sn_sms_msg batch[DUE_BATCH];
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

/* One attempt; fills m->error on failure. Returns 1 when the gateway took it. */
static int send_one(sn_sms_sender *w, sn_sms_msg *m)
{
    char url[SN_SMS_URL_MAX + 3 * (SN_SMS_TEXT_MAX + 3 * SN_SMS_CREDENTIAL_MAX) + 128];
    long status = 0;
    if (sn_kannel_url(&w->opt, m, url, sizeof(url)) != SN_OK) {
        snprintf(m->error, sizeof(m->error), "the sendsms URL is too long");
        return 0;
    }
    curl_easy_setopt(w->curl, CURLOPT_URL, url);
    CURLcode rc = curl_easy_perform(w->curl);
    if (rc != CURLE_OK) {
        snprintf(m->error, sizeof(m->error), "%s", curl_easy_strerror(rc));
        return 0;
    }
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(m->error, sizeof(m->error), "HTTP %ld from the gateway", status);
        return 0;
    }
    return 1;
}

typedef struct {
    sn_sms_msg *v;
    size_t n;
} due_list;

static int collect_due(void *ctx, const sn_sms_msg *m)
{
    due_list *d = ctx;
    d->v[d->n++] = *m;
    return 0;
}

static void send_due(sn_sms_sender *w)
{
    char err[SN_ERRMSG_MAX];
    due_list due = {w->batch, 0};
    if (sn_store_sms_due(w->store, now_ms(), DUE_BATCH, collect_due, &due, err, sizeof(err)) !=
        SN_OK) {
        sn_log(SN_LOG_ERROR, "sms: %s", err);
        return;
    }
    for (size_t i = 0; i < due.n; i++) {
        sn_sms_msg *m = &w->batch[i];
        m->attempts++;
        m->error[0] = '\0';
        if (send_one(w, m)) {
            m->state = SN_SMS_SENT;
            m->sent_at = now_ms() / 1000;
            sn_metrics_count_sms(SN_METRICS_SMS_SENT);
        } else if (m->attempts >= w->opt.max_attempts) {
            m->state = SN_SMS_FAILED;
            sn_metrics_count_sms(SN_METRICS_SMS_FAILED);
        } else {
            sn_metrics_count_sms(SN_METRICS_SMS_RETRIED);
            int64_t delay = w->opt.retry_base_ms;
            for (unsigned k = 1; k < m->attempts && delay < RETRY_MAX_MS; k++)
                delay *= 2;
            m->next_at_ms = now_ms() + (delay < RETRY_MAX_MS ? delay : RETRY_MAX_MS);
        }
        if (sn_store_sms_update(w->store, m, err, sizeof(err)) != SN_OK)
            sn_log(SN_LOG_ERROR, "sms: %s", err);
    }
}

static void *sender_main(void *arg)
{
    sn_sms_sender *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        pthread_mutex_unlock(&w->lock);
        send_due(w);
        pthread_mutex_lock(&w->lock);
        if (w->stopping)
            break;
        struct timespec until = sn_realtime_in_ms(POLL_MS);
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Everything but the thread. */
static void sender_free(sn_sms_sender *w)
{
    if (w->curl != NULL)
        curl_easy_cleanup(w->curl);
    sn_store_close(w->store);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
    curl_global_cleanup();
}

int sn_sms_sender_start(const char *db, const sn_sms_options *o, sn_sms_sender **out, char *err,
                        size_t errlen)
{
    sn_sms_sender *w = NULL;
    int rc;
    *out = NULL;
    if (o->driver != SN_SMS_DRIVER_KANNEL)
        return SN_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return sn_fail(err, errlen, SN_EIO, "cannot initialise libcurl");
    if ((w = calloc(1, sizeof(*w))) == NULL) {
        curl_global_cleanup();
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    w->opt = *o;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if ((rc = sn_store_open(db, NULL, &w->store, err, errlen)) != SN_OK)
        goto fail;
    if ((w->curl = curl_easy_init()) == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "cannot start libcurl");
        goto fail;
    }
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (sn_thread_start(&w->tid, sender_main, w) != 0) {
        rc = sn_fail(err, errlen, SN_EIO, "cannot start the sms thread");
        goto fail;
    }
    *out = w;
    return SN_OK;
fail:
    sender_free(w);
    return rc;
}

void sn_sms_sender_stop(sn_sms_sender *w)
{
    if (w == NULL)
        return;
    sn_thread_stop(&w->lock, &w->wake, &w->stopping, w->tid);
    sender_free(w);
}

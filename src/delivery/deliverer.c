/*
 * deliverer.c - webhook deliveries over libcurl's multi interface (see
 * deliverer.h for the guarantees).
 *
 * One thread runs this loop:
 *   1. fetch due deliveries after a cursor (next_at, notice) into free slots,
 *      skipping ids held in memory (in flight, or done but not yet written);
 *      new deliveries and retries come due after the cursor; a notice that
 *      waited behind an earlier one for its number is before it, so a new
 *      pass starts from the beginning after a small flush (low rates: at
 *      once) or every NEW_PASS_MS (high rates, where rescanning the held
 *      ids on every fetch would cost more than the wait);
 *   2. drive the transfers: curl_multi_socket_action on the sockets epoll
 *      reports ready (sn_deliverer_wake writes an eventfd in the same set);
 *   3. turn finished transfers into outcomes (delivered, retry at, dead);
 *   4. write outcomes in one transaction once enough have gathered or a few
 *      milliseconds have passed, then release their ids.
 */
#include "delivery/deliverer.h"

#include "core/errors.h"
#include "core/notice.h"
#include "crypto/signature.h"
#include "delivery/notice_json.h"
#include "delivery/webhook.h"
#include "store/store.h"
#include "util/metrics.h"
#include "util/thread.h"
#include "store/apps.h"
#include "store/notices.h"
#include "store/deliveries.h"
#include "util/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLUSH_AT 1024     /* outcomes written per transaction at most */
#define FLUSH_AFTER_MS 20 /* outcomes wait at most this long */
#define IDLE_POLL_MS 1000 /* look for due retries at least this often */
#define NEW_PASS_MS 500   /* start a new pass at least this often */
#define SMALL_FLUSH 64    /* after a flush this small, start a new pass at once */
#define ELSEWHERE_MS 100  /* look again this soon at deliveries another node holds */

typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    sn_strbuf body; /* the notice JSON, sent from here (no copy) */
    sn_delivery d;
    int busy;
    int refused, opened; /* addresses this transfer was refused, and given a socket for */
} slot;

typedef struct {
    pthread_t tid;
    unsigned part, nparts; /* this worker sends deliveries of numbers n % nparts == part */
    atomic_int stopping;
    atomic_int woken;
    sn_store *store;
    sn_deliverer_options o;
    CURLM *multi;
    slot *slots;
    unsigned nslots, busy;
    sn_delivery *done; /* outcomes not yet written */
    size_t ndone;
    int64_t first_done_ms;
    uint64_t *held; /* open-addressing set of held notice ids (0 = empty) */
    size_t held_cap;
    int64_t cursor_at; /* the current pass */
    uint64_t cursor_notice;
    int64_t pass_started_ms;
    size_t elsewhere;      /* deliveries this pass skipped: another node holds them */
    int64_t quiet_until;   /* no fetch before (unless woken): only others' were due */
    int epoll_fd, wake_fd; /* the sockets curl asks for, and sn_deliverer_wake */
    long curl_timeout_ms;  /* curl's timer, -1 when none */
    int64_t curl_timer_set_at;
} worker;

#define MAX_WORKERS 16

struct sn_deliverer {
    unsigned n;
    worker *w[MAX_WORKERS];
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void sn_deliverer_defaults(sn_deliverer_options *o)
{
    o->retry_budget_ms = 86400 * 1000LL;
    o->retry_base_ms = 1000;
    o->retry_max_ms = 3600 * 1000LL;
    o->timeout_ms = 10000;
    o->max_in_flight = 128;
    o->workers = 2;
}

/* ---- the held set ------------------------------------------------------ */

static size_t held_slot(const worker *d, uint64_t id)
{
    size_t i = (size_t)(id * 0x9E3779B97F4A7C15ull) & (d->held_cap - 1);
    while (d->held[i] != 0 && d->held[i] != id)
        i = (i + 1) & (d->held_cap - 1);
    return i;
}

static int held(const worker *d, uint64_t id)
{
    return d->held[held_slot(d, id)] == id;
}

static void hold(worker *d, uint64_t id)
{
    d->held[held_slot(d, id)] = id;
}

/* After a flush: only the transfers still in flight stay held. */
static void rebuild_held(worker *d)
{
    memset(d->held, 0, d->held_cap * sizeof(*d->held));
    for (unsigned i = 0; i < d->nslots; i++)
        if (d->slots[i].busy)
            hold(d, d->slots[i].d.notice);
}

/* ---- an attempt's result ------------------------------------------------ */

/* One attempt's result into the outcomes to write: delivered (error NULL),
 * else a retry after the backoff or, once the budget is spent, dead. */
static void record(worker *d, sn_delivery *dv, const char *error)
{
    int64_t now = now_ms();
    dv->attempts++;
    if (dv->first_at_ms == 0)
        dv->first_at_ms = now;
    if (error == NULL) {
        dv->state = SN_DELIVERY_DELIVERED;
        dv->last_error[0] = '\0';
        sn_metrics_count_delivery(SN_METRICS_DELIVERY_DELIVERED);
    } else {
        snprintf(dv->last_error, sizeof(dv->last_error), "%s", error);
        if (now - dv->first_at_ms >= d->o.retry_budget_ms) {
            dv->state = SN_DELIVERY_DEAD;
            sn_metrics_count_delivery(SN_METRICS_DELIVERY_DEAD);
        } else {
            sn_metrics_count_delivery(SN_METRICS_DELIVERY_RETRY);
            int64_t wait = sn_retry_delay_ms(dv->attempts, d->o.retry_base_ms, d->o.retry_max_ms,
                                             randombytes_random());
            dv->next_at_ms = now + wait;
        }
    }
    if (d->ndone == 0)
        d->first_done_ms = now;
    d->done[d->ndone++] = *dv;
}

/* ---- starting a transfer ------------------------------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* libcurl asks for a socket for each address it is about to try: one the
 * webhook rules refuse gets none, so not a packet goes to it. curl then
 * tries the next address, and fails with CURLE_COULDNT_CONNECT. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    slot *sl = arg;
    if (purpose != CURLSOCKTYPE_IPCXN || !sn_webhook_address_allowed(&a->addr, a->addrlen, 0)) {
        sl->refused++;
        return CURL_SOCKET_BAD;
    }
    sl->opened++;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* A slot's handle keeps the options every delivery shares, so a transfer
 * sets only its URL, headers and body (curl_easy_reset per transfer showed
 * up as a fifth of the thread's time). */
static int prepare_slot(worker *d, slot *sl)
{
    if (sl->easy != NULL)
        return SN_OK;
    if ((sl->easy = curl_easy_init()) == NULL)
        return SN_ENOMEM;
    curl_easy_setopt(sl->easy, CURLOPT_TIMEOUT_MS, d->o.timeout_ms);
    curl_easy_setopt(sl->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(sl->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(sl->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(sl->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(sl->easy, CURLOPT_PROXY, "");          /* no proxy from the environment */
    curl_easy_setopt(sl->easy, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is an answer */
    if (!d->o.allow_private) {
        curl_easy_setopt(sl->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        curl_easy_setopt(sl->easy, CURLOPT_OPENSOCKETDATA, sl);
    }
    curl_easy_setopt(sl->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl);
    return SN_OK;
}

/* Sign the notice with app's secret (opened for this once, then wiped). */
static int sign(worker *d, slot *sl, const sn_app *app, int64_t t,
                char sig[SN_SIGNATURE_HEADER_MAX])
{
    char key[SN_WEBHOOK_SECRET_MAX + 1];
    size_t len = 0;
    int rc = sn_webhook_secret_open(d->o.secret, app, key, &len);
    if (rc == SN_OK)
        sn_webhook_signature(key, len, t, sl->body.s, sl->body.len, sig);
    sodium_memzero(key, sizeof(key));
    return rc;
}

static int start(worker *d, slot *sl, const sn_delivery *dv, const sn_notice *n, const sn_app *app)
{
    char sig[SN_SIGNATURE_HEADER_MAX], line[SN_SIGNATURE_HEADER_MAX + 64];
    int64_t now = now_ms();
    int rc;
    sl->body.len = 0;
    sn_notice_json(&sl->body, n, 0, now / 1000);
    if (sl->body.failed || prepare_slot(d, sl) != SN_OK)
        return SN_ENOMEM;
    if ((rc = sign(d, sl, app, now / 1000, sig)) != SN_OK)
        return rc;
    sl->headers = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof(line), "Secondnum-Signature: %s", sig);
    sl->headers = curl_slist_append(sl->headers, line);
    snprintf(line, sizeof(line), "Secondnum-Notice-Id: %llu", (unsigned long long)n->id);
    sl->headers = curl_slist_append(sl->headers, line);
    sl->headers = curl_slist_append(sl->headers, "Expect:");
    curl_easy_setopt(sl->easy, CURLOPT_URL, app->url);
    curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, sl->headers);
    curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE, (long)sl->body.len);
    curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, sl->body.s);
    sl->refused = sl->opened = 0;
    if (curl_multi_add_handle(d->multi, sl->easy) != CURLM_OK) { /* arms curl's timer */
        curl_slist_free_all(sl->headers);
        sl->headers = NULL;
        return SN_ENOMEM;
    }
    sl->d = *dv;
    sl->busy = 1;
    d->busy++;
    hold(d, dv->notice);
    return SN_OK;
}

typedef struct {
    worker *d;
    unsigned next_free;
    size_t rows;
} fetch_ctx;

static int on_due(void *arg, const sn_delivery *dv, const sn_notice *n, const sn_app *app)
{
    fetch_ctx *f = arg;
    worker *d = f->d;
    f->rows++;
    int skip = held(d, dv->notice) || dv->claimed_elsewhere;
    if (!skip) {
        while (f->next_free < d->nslots && d->slots[f->next_free].busy)
            f->next_free++;
        if (f->next_free == d->nslots || d->ndone >= (size_t)d->nslots + FLUSH_AT)
            return 1; /* this row starts the next fetch */
    }
    d->cursor_at = dv->next_at_ms;
    d->cursor_notice = dv->notice;
    d->elsewhere += dv->claimed_elsewhere;
    if (skip)
        return 0;
    int rc = start(d, &d->slots[f->next_free], dv, n, app);
    if (rc != SN_OK) { /* an attempt that failed here: retried like any other */
        sn_delivery failed = *dv;
        sn_log(SN_LOG_WARN, "cannot send a webhook delivery of app %s: %s", app->name,
               rc == SN_ENOMEM ? "out of memory"
                               : "its secret does not open with this deployment secret");
        record(d, &failed, SN_DELIVERY_ERR_INTERNAL);
        hold(d, dv->notice);
    }
    return 0;
}

/* Go back to the start of the due deliveries: a notice that waited behind
 * an earlier one for its number sits before the cursor once that one is
 * written as delivered or dead. */
static void new_pass(worker *d)
{
    d->cursor_at = INT64_MIN;
    d->cursor_notice = 0;
    d->pass_started_ms = now_ms();
    d->elsewhere = 0;
}

static void fetch(worker *d)
{
    char err[SN_ERRMSG_MAX];
    uint32_t room = d->nslots - d->busy;
    fetch_ctx f = {d, 0, 0};
    if (room == 0)
        return;
    sn_due_query q = {now_ms(), d->cursor_at, d->cursor_notice, d->part, d->nparts, room};
    if (sn_store_due_deliveries(d->store, &q, on_due, &f, err, sizeof(err)) < 0) {
        sn_log(SN_LOG_ERROR, "reading due deliveries: %s", err);
        d->quiet_until = now_ms() + IDLE_POLL_MS; /* the store is away: not in a loop */
        return;
    }
    /* The pass reached the end having skipped deliveries another node holds
     * (several nodes on one server store): look at them again in a moment,
     * they are ours to send if that node dies. */
    if (f.rows < room && d->elsewhere > 0) {
        new_pass(d);
        d->quiet_until = now_ms() + ELSEWHERE_MS;
    }
}

/* ---- outcomes ----------------------------------------------------------- */

/* What the app reads of a failed attempt: webhook.h's vocabulary, never
 * libcurl's message, an address or a port. A name that did not resolve
 * reads like one that resolved only to refused addresses; a timeout before
 * the connection was made like a refused connection. */
static const char *failure(CURL *easy, CURLcode res, long status, const slot *sl)
{
    static const char *const classes[] = {"HTTP 1xx", "HTTP 2xx", "HTTP 3xx", "HTTP 4xx",
                                          "HTTP 5xx"};
    curl_off_t connected = 0;
    if (res == CURLE_OK && status >= 100 && status <= 599)
        return classes[status / 100 - 1];
    if (sl->refused > 0 && sl->opened == 0)
        return SN_DELIVERY_ERR_ADDRESS;
    switch (res) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return SN_DELIVERY_ERR_ADDRESS;
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected);
        return connected > 0 ? SN_DELIVERY_ERR_TIMEOUT : SN_DELIVERY_ERR_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return SN_DELIVERY_ERR_TLS;
    case CURLE_OUT_OF_MEMORY:
        return SN_DELIVERY_ERR_INTERNAL;
    default:
        return SN_DELIVERY_ERR_CONNECT;
    }
}

static void outcome(worker *d, slot *sl, CURLcode res)
{
    long status = 0;
    curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
    const char *error = res == CURLE_OK && status >= 200 && status < 300
                            ? NULL
                            : failure(sl->easy, res, status, sl);
    curl_multi_remove_handle(d->multi, sl->easy);
    curl_slist_free_all(sl->headers);
    sl->headers = NULL;
    record(d, &sl->d, error);
    sl->busy = 0;
    d->busy--;
}

static void flush(worker *d)
{
    char err[SN_ERRMSG_MAX];
    int rc;
    if (d->ndone == 0)
        return;
    rc = sn_store_begin(d->store, err, sizeof(err));
    for (size_t i = 0; rc == SN_OK && i < d->ndone; i++)
        rc = sn_store_update_delivery(d->store, &d->done[i], err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_store_commit(d->store, err, sizeof(err));
    if (rc != SN_OK) {
        /* Nothing written: the deliveries stay pending and will be sent
         * again (at least once). Keep the outcomes and try again later. */
        sn_store_rollback(d->store);
        sn_log(SN_LOG_ERROR, "recording delivery outcomes: %s", err);
        return;
    }
    if (d->ndone <= SMALL_FLUSH || now_ms() - d->pass_started_ms >= NEW_PASS_MS)
        new_pass(d);
    d->ndone = 0;
    rebuild_held(d);
}

static void collect(worker *d)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
        slot *sl = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
        if (d->ndone == (size_t)d->nslots + FLUSH_AT)
            flush(d);
        outcome(d, sl, m->data.result);
    }
}

/* ---- the loop ------------------------------------------------------------ */

static int poll_timeout_ms(worker *d)
{
    char err[SN_ERRMSG_MAX];
    int64_t next = 0, now = now_ms();
    if (d->busy > 0 || d->ndone > 0)
        return FLUSH_AFTER_MS / 2;
    if (sn_store_next_delivery(d->store, &next, err, sizeof(err)) != SN_OK || next == 0)
        return IDLE_POLL_MS;
    if (next <= now)
        return d->quiet_until > now ? (int)(d->quiet_until - now) : 1;
    return next - now < IDLE_POLL_MS ? (int)(next - now) : IDLE_POLL_MS;
}

/* ---- driving curl with epoll (curl_multi_socket_action) ----------------
 * curl_multi_perform walks every transfer on each call; with hundreds in
 * flight that walk dominated. Here curl tells us which sockets to watch and
 * only the ready ones are driven. */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    worker *d = arg;
    struct epoll_event ev = {0};
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        if (sockp != NULL)
            curl_multi_assign(d->multi, fd, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (sockp == NULL) {
        if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
            epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
        curl_multi_assign(d->multi, fd, d); /* any non-NULL marks "added" */
    } else {
        epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    worker *d = arg;
    (void)multi;
    d->curl_timeout_ms = timeout_ms; /* -1: none */
    d->curl_timer_set_at = now_ms();
    return 0;
}

/* Run curl's timer if it is due. */
static void curl_timers(worker *d)
{
    int running;
    if (d->curl_timeout_ms >= 0 && now_ms() - d->curl_timer_set_at >= d->curl_timeout_ms) {
        d->curl_timeout_ms = -1;
        curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

static int wait_ms(worker *d)
{
    int t = poll_timeout_ms(d);
    if (d->curl_timeout_ms >= 0) {
        int64_t left = d->curl_timeout_ms - (now_ms() - d->curl_timer_set_at);
        if (left < t)
            t = left < 0 ? 0 : (int)left;
    }
    return t;
}

static void *deliverer_main(void *arg)
{
    worker *d = arg;
    struct epoll_event events[64];
    int running;
    while (!atomic_load(&d->stopping)) {
        if (atomic_exchange(&d->woken, 0) ||
            (d->busy < d->nslots / 2 + 1 && now_ms() >= d->quiet_until))
            fetch(d);
        curl_timers(d);
        collect(d);
        if (d->ndone >= FLUSH_AT ||
            (d->ndone > 0 && (now_ms() - d->first_done_ms >= FLUSH_AFTER_MS || d->busy == 0)))
            flush(d);
        if (atomic_load(&d->woken))
            continue;
        int n = epoll_wait(d->epoll_fd, events, 64, wait_ms(d));
        for (int i = 0; i < n; i++) {
            if (events[i].data.fd == d->wake_fd) {
                uint64_t v;
                if (read(d->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    sn_log(SN_LOG_ERROR, "delivery wake-up: %s", strerror(errno));
                continue;
            }
            int mask = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(d->multi, events[i].data.fd, mask, &running);
        }
    }
    flush(d);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------ */

static void release(worker *d)
{
    for (unsigned i = 0; d->slots != NULL && i < d->nslots; i++) {
        slot *sl = &d->slots[i];
        if (sl->busy)
            curl_multi_remove_handle(d->multi, sl->easy);
        curl_slist_free_all(sl->headers);
        if (sl->easy != NULL)
            curl_easy_cleanup(sl->easy);
        free(sl->body.s);
    }
    if (d->multi != NULL)
        curl_multi_cleanup(d->multi);
    if (d->epoll_fd >= 0)
        close(d->epoll_fd);
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    sn_store_close(d->store);
    free(d->slots);
    free(d->done);
    free(d->held);
    free(d);
}

static int start_worker(const char *db, const sn_deliverer_options *o, unsigned part,
                        unsigned nparts, worker **out, char *err, size_t errlen)
{
    worker *d = calloc(1, sizeof(*d));
    int rc;
    *out = NULL;
    if (d == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    d->o = *o;
    d->part = part;
    d->nparts = nparts;
    d->nslots = o->max_in_flight > 0 ? o->max_in_flight : 1;
    d->held_cap = 1;
    while (d->held_cap < 4 * ((size_t)d->nslots + FLUSH_AT))
        d->held_cap <<= 1;
    d->slots = calloc(d->nslots, sizeof(*d->slots));
    d->done = calloc((size_t)d->nslots + FLUSH_AT, sizeof(*d->done));
    d->held = calloc(d->held_cap, sizeof(*d->held));
    d->cursor_at = INT64_MIN;
    d->curl_timeout_ms = -1;
    d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wake = {.events = EPOLLIN, .data.fd = d->wake_fd};
    if (d->slots == NULL || d->done == NULL || d->held == NULL || d->epoll_fd < 0 ||
        d->wake_fd < 0 || epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->wake_fd, &wake) != 0 ||
        (d->multi = curl_multi_init()) == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "cannot set up webhook delivery");
        goto fail;
    }
    /* one connection per slot: no transfer waits in curl's own queue */
    curl_multi_setopt(d->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)d->nslots);
    curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, (long)d->nslots);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
    if ((rc = sn_store_open(db, NULL, &d->store, err, errlen)) != SN_OK ||
        (rc = sn_store_relax_durability(d->store, err, errlen)) != SN_OK)
        goto fail;
    int created = sn_thread_start(&d->tid, deliverer_main, d);
    if (created != 0) {
        rc = sn_fail(err, errlen, SN_EIO, "cannot start a delivery thread");
        goto fail;
    }
    *out = d;
    return SN_OK;
fail:
    release(d);
    return rc;
}

static void poke(worker *d)
{
    uint64_t one = 1;
    if (write(d->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        sn_log(SN_LOG_ERROR, "waking a delivery worker: %s", strerror(errno));
}

static void stop_worker(worker *d)
{
    atomic_store(&d->stopping, 1);
    poke(d);
    pthread_join(d->tid, NULL);
    release(d);
}

int sn_deliverer_start(const char *db, const sn_deliverer_options *o, sn_deliverer **out, char *err,
                       size_t errlen)
{
    sn_deliverer *dl = calloc(1, sizeof(*dl));
    unsigned n = o->workers < 1 ? 1 : o->workers > MAX_WORKERS ? MAX_WORKERS : o->workers;
    *out = NULL;
    if (dl == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(dl);
        return sn_fail(err, errlen, SN_ENOMEM, "cannot set up webhook delivery");
    }
    for (; dl->n < n; dl->n++) {
        int rc = start_worker(db, o, dl->n, n, &dl->w[dl->n], err, errlen);
        if (rc != SN_OK) {
            sn_deliverer_stop(dl);
            return rc;
        }
    }
    *out = dl;
    return SN_OK;
}

void sn_deliverer_wake(sn_deliverer *dl)
{
    if (dl == NULL)
        return;
    for (unsigned i = 0; i < dl->n; i++) {
        atomic_store(&dl->w[i]->woken, 1);
        poke(dl->w[i]);
    }
}

void sn_deliverer_stop(sn_deliverer *dl)
{
    if (dl == NULL)
        return;
    for (unsigned i = 0; i < dl->n; i++)
        stop_worker(dl->w[i]);
    free(dl);
}

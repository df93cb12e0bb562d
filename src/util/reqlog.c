/*
 * reqlog.c - the request log (see reqlog.h): the line's format, the shared
 * buffer the loop threads append to, and the writer thread that empties
 * it into the file.
 *
 * Invariants: buf[active] is filled by the adders under lock, the other
 * one belongs to the writer between two swaps; a line is in the buffer
 * whole or not at all (dropped and counted); a reopen request notes the
 * length of buf[active] under the lock: the writer writes the batch up to
 * there to the old file and the rest to the new. One log per process.
 */
#include "util/reqlog.h"

#include "core/errors.h"
#include "util/log.h"
#include "util/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DROP_WARN_S 10    /* the stderr warning about dropped lines, at most this often */
#define STDERR_CHUNK 4096 /* PIPE_BUF: writes to stderr interleave with other lines whole */

/* ---- the line -------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} out;

static void put(out *o, const char *s, size_t len)
{
    if (o->n + len > o->cap)
        len = o->cap - o->n;
    memcpy(o->p + o->n, s, len);
    o->n += len;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_u64(out *o, uint64_t v)
{
    char digits[20];
    size_t i = sizeof(digits);
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(o, digits + i, sizeof(digits) - i);
}

/* s as a JSON string, quoted; escapes that would pass budget bytes are cut
 * whole (the line stays valid JSON). */
static void put_json(out *o, const char *s, size_t len, size_t budget)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6];
    size_t used = 0, i = 0;
    PUT_LIT(o, "\"");
    while (i < len && i < budget && (unsigned char)s[i] >= 0x20 && s[i] != 0x7f && s[i] != '"' &&
           s[i] != '\\')
        i++;
    put(o, s, i); /* the plain prefix at once: usually all of it */
    used = i;
    for (; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        size_t k = 0;
        if (ch == '"' || ch == '\\') {
            esc[k++] = '\\';
            esc[k++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            k = 6;
        } else {
            esc[k++] = (char)ch;
        }
        if (used + k > budget)
            break;
        put(o, esc, k);
        used += k;
    }
    PUT_LIT(o, "\"");
}

static void put_2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; the seconds' text is kept per thread. */
static void put_time(out *o, int64_t unix_us)
{
    static _Thread_local int64_t cached_s = -1;
    static _Thread_local char cached[19];
    int64_t s = unix_us / 1000000;
    int ms = (int)(unix_us / 1000 % 1000);
    if (s != cached_s) {
        time_t t = (time_t)s;
        struct tm tm;
        gmtime_r(&t, &tm);
        int year = tm.tm_year + 1900;
        put_2(cached, year / 100);
        put_2(cached + 2, year % 100);
        cached[4] = '-';
        put_2(cached + 5, tm.tm_mon + 1);
        cached[7] = '-';
        put_2(cached + 8, tm.tm_mday);
        cached[10] = 'T';
        put_2(cached + 11, tm.tm_hour);
        cached[13] = ':';
        put_2(cached + 14, tm.tm_min);
        cached[16] = ':';
        put_2(cached + 17, tm.tm_sec);
        cached_s = s;
    }
    char frac[5] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10),
                    'Z'};
    PUT_LIT(o, "\"");
    put(o, cached, sizeof(cached));
    put(o, frac, sizeof(frac));
    PUT_LIT(o, "\"");
}

size_t sn_reqlog_format(const sn_reqlog_entry *e, int64_t unix_us, char *buf, size_t cap)
{
    out o = {buf, 0, (cap < SN_REQLOG_LINE_MAX ? cap : SN_REQLOG_LINE_MAX) - 1};
    const char *route = e->route != NULL ? e->route : "";
    const char *method = e->method != NULL ? e->method : "OTHER";
    PUT_LIT(&o, "{\"time\":");
    put_time(&o, unix_us);
    PUT_LIT(&o, ",\"route\":");
    put_json(&o, route, strlen(route), SN_REQLOG_ROUTE_MAX);
    PUT_LIT(&o, ",\"method\":");
    put_json(&o, method, strlen(method), SN_REQLOG_METHOD_MAX);
    PUT_LIT(&o, ",\"status\":");
    put_u64(&o, e->status > 0 ? (uint64_t)e->status : 0);
    PUT_LIT(&o, ",\"latency_us\":");
    put_u64(&o, e->latency_us > 0 ? (uint64_t)e->latency_us : 0);
    if (e->key >= 0) {
        PUT_LIT(&o, ",\"key\":");
        put_u64(&o, (uint64_t)e->key);
    }
    if (e->app != NULL) {
        PUT_LIT(&o, ",\"app\":");
        put_json(&o, e->app, strlen(e->app), SN_REQLOG_APP_MAX);
    }
    if (e->session)
        PUT_LIT(&o, ",\"subscriber\":\"session\"");
    if (e->correlator != NULL) {
        PUT_LIT(&o, ",\"correlator\":");
        put_json(&o, e->correlator, e->correlator_len, SN_REQLOG_CORRELATOR_MAX);
    }
    if (e->client != NULL) {
        PUT_LIT(&o, ",\"client\":");
        put_json(&o, e->client, strlen(e->client), SN_REQLOG_CLIENT_MAX);
    }
    PUT_LIT(&o, ",\"bytes\":");
    put_u64(&o, e->bytes);
    PUT_LIT(&o, "}");
    buf[o.n++] = '\n'; /* the last byte of cap was kept for it */
    return o.n;
}

/* ---- the buffer and its writer ---------------------------------------------- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    char *buf[2];
    size_t len;       /* of buf[active] */
    int active;       /* the buffer the adders fill */
    uint64_t dropped; /* lines dropped since the writer last took the count */
    int reopen, stopping;
    size_t reopen_at; /* the reopen's cut: buf[active]'s length when it was asked */
    int fd;           /* the writer's */
    int is_stderr;
    char path[PATH_MAX]; /* to reopen */
    pthread_t tid;
    int64_t warned_s; /* the writer's last warning about dropped lines */
} L = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static atomic_int on;
static atomic_uint_least64_t dropped_total;

int sn_reqlog_on(void)
{
    return atomic_load_explicit(&on, memory_order_relaxed);
}

uint64_t sn_reqlog_dropped(void)
{
    return atomic_load(&dropped_total);
}

void sn_reqlog_add(const sn_reqlog_entry *e)
{
    char line[SN_REQLOG_LINE_MAX];
    struct timespec now;
    int wake;
    if (!sn_reqlog_on())
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    size_t n =
        sn_reqlog_format(e, (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, line, sizeof(line));
    pthread_mutex_lock(&L.lock);
    if (L.len + n > SN_REQLOG_BUFFER_BYTES) {
        L.dropped++;
        pthread_mutex_unlock(&L.lock);
        atomic_fetch_add(&dropped_total, 1);
        return;
    }
    memcpy(L.buf[L.active] + L.len, line, n);
    wake = L.len < SN_REQLOG_BUFFER_BYTES / 2 && L.len + n >= SN_REQLOG_BUFFER_BYTES / 2;
    L.len += n;
    pthread_mutex_unlock(&L.lock);
    if (wake) /* half full: write now rather than at the next tick */
        pthread_cond_signal(&L.wake);
}

/* All of p, or -1 with errno. To stderr, in pieces of whole lines no larger
 * than a pipe writes at once, so serve's own lines never land inside one. */
static int write_all(const char *p, size_t len)
{
    while (len > 0) {
        size_t chunk = len;
        if (L.is_stderr && chunk > STDERR_CHUNK) {
            const char *nl = memrchr(p, '\n', STDERR_CHUNK);
            chunk = nl != NULL ? (size_t)(nl - p) + 1 : STDERR_CHUNK;
        }
        ssize_t w = write(L.fd, p, chunk);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static size_t count_lines(const char *p, size_t len)
{
    size_t n = 0;
    for (const char *q = p; (q = memchr(q, '\n', len - (size_t)(q - p))) != NULL; q++)
        n++;
    return n;
}

/* Lines were dropped: say so in the log, where they are missing, and on
 * stderr (at most every DROP_WARN_S). */
static void tell_dropped(uint64_t n)
{
    char line[256];
    struct timespec now;
    out o = {line, 0, sizeof(line)};
    clock_gettime(CLOCK_REALTIME, &now);
    PUT_LIT(&o, "{\"time\":");
    put_time(&o, (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000);
    PUT_LIT(&o, ",\"dropped\":");
    put_u64(&o, n);
    PUT_LIT(&o, ",\"message\":\"request log lines dropped: the log could not keep up with the "
                "requests\"}\n");
    if (write_all(line, o.n) != 0)
        sn_log(SN_LOG_ERROR, "cannot write the request log: %s", strerror(errno));
    if (now.tv_sec - L.warned_s >= DROP_WARN_S) {
        L.warned_s = now.tv_sec;
        sn_log(SN_LOG_WARN,
               "warning: %llu request log line(s) dropped: the log could not keep up "
               "with the requests (%u bytes wait at most)",
               (unsigned long long)n, SN_REQLOG_BUFFER_BYTES);
    }
}

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
}

/* The writer's: the file again by its name, after the lines before. */
static void reopen_file(void)
{
    if (L.is_stderr)
        return;
    int fd = open_file(L.path);
    if (fd < 0) {
        sn_log(SN_LOG_ERROR, "cannot reopen the request log %s: %s (writing on to the old file)",
               L.path, strerror(errno));
        return;
    }
    close(L.fd);
    L.fd = fd;
    sn_log(SN_LOG_INFO, "request log reopened: %s", L.path);
}

/* One batch: what the adders wrote since the last swap. */
static void write_batch(const char *batch, size_t len, uint64_t dropped)
{
    if (len > 0 && write_all(batch, len) != 0) {
        size_t lost = count_lines(batch, len);
        atomic_fetch_add(&dropped_total, lost);
        sn_log(SN_LOG_ERROR, "cannot write the request log: %s (%zu line(s) lost)", strerror(errno),
               lost);
    }
    if (dropped > 0)
        tell_dropped(dropped);
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&L.lock);
    for (;;) {
        if (L.len == 0 && L.dropped == 0 && !L.reopen && !L.stopping) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += SN_REQLOG_FLUSH_MS * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&L.wake, &L.lock, &until);
        }
        char *batch = L.buf[L.active];
        size_t len = L.len;
        uint64_t dropped = L.dropped;
        int reopen = L.reopen, stop = L.stopping;
        size_t cut = reopen ? L.reopen_at : len;
        L.active ^= 1;
        L.len = 0;
        L.dropped = 0;
        L.reopen = 0;
        pthread_mutex_unlock(&L.lock);
        write_batch(batch, cut, dropped);
        if (reopen) {
            reopen_file();
            write_batch(batch + cut, len - cut, 0);
        }
        pthread_mutex_lock(&L.lock);
        if (stop && L.len == 0 && L.dropped == 0 && !L.reopen)
            break;
    }
    pthread_mutex_unlock(&L.lock);
    return NULL;
}

static void release(void)
{
    if (L.fd >= 0 && !L.is_stderr)
        close(L.fd);
    L.fd = -1;
    free(L.buf[0]);
    free(L.buf[1]);
    L.buf[0] = L.buf[1] = NULL;
    pthread_cond_destroy(&L.wake);
}

int sn_reqlog_open(const char *path, char *err, size_t errlen)
{
    pthread_condattr_t attr;
    if (sn_reqlog_on())
        return sn_fail(err, errlen, SN_EINVAL, "the request log is open already");
    if (strlen(path) >= sizeof(L.path))
        return sn_fail(err, errlen, SN_EINVAL, "--request-log: the path is too long");
    snprintf(L.path, sizeof(L.path), "%s", path);
    L.is_stderr = strcmp(path, "-") == 0;
    L.fd = L.is_stderr ? STDERR_FILENO : open_file(path);
    if (L.fd < 0)
        return sn_fail(err, errlen, SN_EIO, "cannot open the request log %s: %s", path,
                       strerror(errno));
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&L.wake, &attr);
    pthread_condattr_destroy(&attr);
    L.buf[0] = malloc(SN_REQLOG_BUFFER_BYTES);
    L.buf[1] = malloc(SN_REQLOG_BUFFER_BYTES);
    L.len = 0;
    L.active = 0;
    L.dropped = 0;
    L.reopen = L.stopping = 0;
    L.warned_s = 0;
    atomic_store(&dropped_total, 0);
    if (L.buf[0] == NULL || L.buf[1] == NULL) {
        release();
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    if (sn_thread_start(&L.tid, writer_main, NULL) != 0) {
        release();
        return sn_fail(err, errlen, SN_EIO, "cannot start the request log's thread");
    }
    atomic_store(&on, 1);
    return SN_OK;
}

void sn_reqlog_reopen(void)
{
    if (!sn_reqlog_on())
        return;
    pthread_mutex_lock(&L.lock);
    L.reopen = 1;
    L.reopen_at = L.len;
    pthread_mutex_unlock(&L.lock);
    pthread_cond_signal(&L.wake);
}

void sn_reqlog_close(void)
{
    if (!sn_reqlog_on())
        return;
    sn_thread_stop(&L.lock, &L.wake, &L.stopping, L.tid);
    atomic_store(&on, 0);
    release();
}

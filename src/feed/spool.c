/*
 * spool.c - sorted runs in a temporary file and their k-way merge (see
 * spool.h).
 *
 * A record is the event's fixed part (its string pointers cleared, the
 * event id's length UINT32_MAX when it has none), then the event id's bytes,
 * then a port_out's recipient. Runs are written through one stdio stream and
 * read back with pread at each run's own offset, so one descriptor serves
 * every run. The merge keeps each run's current event in a binary min-heap.
 */
#include "feed/spool.h"

#include "core/errors.h"
#include "ledger/ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_BUFFER (1u << 20)
#define NO_EVENT_ID UINT32_MAX

typedef struct {
    uint64_t pos, end; /* the next unread byte of the run in the file; its end */
    char *buf;
    size_t len, at; /* buffered bytes: buf[at..len) */
    sn_log_event cur;
    char id[SN_EVENT_ID_MAX + 1], to[SN_CARRIER_NAME_MAX + 1];
} cursor;

struct sn_spool {
    int fd;
    FILE *w;
    char *wbuf;
    uint64_t size; /* bytes written */
    uint64_t start[SN_SPOOL_RUNS_MAX], end[SN_SPOOL_RUNS_MAX];
    size_t nruns;
    cursor *cur;
    size_t *heap, nheap;
};

int sn_spool_create(const char *dir, sn_spool **out, char *err, size_t errlen)
{
    char path[4096];
    sn_spool *sp = calloc(1, sizeof(*sp));
    *out = NULL;
    if (sp == NULL || (sp->wbuf = malloc(WRITE_BUFFER)) == NULL) {
        free(sp);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    snprintf(path, sizeof(path), "%s/secondnum-import-XXXXXX", dir);
    if ((sp->fd = mkstemp(path)) < 0) {
        int e = errno;
        free(sp->wbuf);
        free(sp);
        return sn_fail(err, errlen, SN_EIO, "cannot create a temporary file in %s: %s", dir,
                       strerror(e));
    }
    unlink(path); /* gone with the descriptor, whatever ends the process */
    int wfd = dup(sp->fd);
    if (wfd < 0 || (sp->w = fdopen(wfd, "w")) == NULL) {
        if (wfd >= 0)
            close(wfd);
        sn_spool_free(sp);
        return sn_fail(err, errlen, SN_EIO, "cannot write a temporary file: %s", strerror(errno));
    }
    setvbuf(sp->w, sp->wbuf, _IOFBF, WRITE_BUFFER);
    *out = sp;
    return SN_OK;
}

size_t sn_spool_runs(const sn_spool *sp)
{
    return sp->nruns;
}

static int put_event(sn_spool *sp, const sn_log_event *e)
{
    sn_log_event rec = *e;
    int port_out = e->ev.kind == SN_EV_PORT_OUT;
    rec.event_id = NULL;
    if (e->event_id == NULL)
        rec.event_id_len = NO_EVENT_ID;
    if (port_out)
        rec.to = NULL;
    if (fwrite(&rec, sizeof(rec), 1, sp->w) != 1 ||
        (e->event_id != NULL &&
         fwrite(e->event_id, 1, e->event_id_len, sp->w) != e->event_id_len) ||
        (port_out && fwrite(e->to, 1, e->to_len, sp->w) != e->to_len))
        return SN_EIO;
    sp->size +=
        sizeof(rec) + (e->event_id != NULL ? e->event_id_len : 0) + (port_out ? e->to_len : 0);
    return SN_OK;
}

int sn_spool_add_run(sn_spool *sp, const sn_log_event *items, size_t n, char *err, size_t errlen)
{
    if (sp->nruns == SN_SPOOL_RUNS_MAX)
        return sn_fail(err, errlen, SN_ELIMIT,
                       "the feed needs more than %d sorted runs: raise --chunk-lines",
                       SN_SPOOL_RUNS_MAX);
    sp->start[sp->nruns] = sp->size;
    for (size_t i = 0; i < n; i++)
        if (put_event(sp, &items[i]) != SN_OK)
            return sn_fail(err, errlen, SN_EIO, "writing the temporary file failed: %s",
                           strerror(errno));
    sp->end[sp->nruns++] = sp->size;
    return SN_OK;
}

/* Copy the run's next n bytes to dst. */
static int run_bytes(const sn_spool *sp, cursor *c, void *dst, size_t n)
{
    char *d = dst;
    while (n > 0) {
        if (c->at == c->len) {
            uint64_t left = c->end - c->pos;
            size_t want = left < SN_SPOOL_RUN_BUFFER ? (size_t)left : SN_SPOOL_RUN_BUFFER;
            ssize_t got = want > 0 ? pread(sp->fd, c->buf, want, (off_t)c->pos) : 0;
            if (got <= 0)
                return SN_EIO;
            c->pos += (uint64_t)got;
            c->len = (size_t)got;
            c->at = 0;
        }
        size_t k = c->len - c->at < n ? c->len - c->at : n;
        memcpy(d, c->buf + c->at, k);
        c->at += k;
        d += k;
        n -= k;
    }
    return SN_OK;
}

/* Load the run's next event into c->cur; *more is 0 at the run's end. */
static int run_next(const sn_spool *sp, cursor *c, int *more)
{
    sn_log_event *e = &c->cur;
    *more = c->at < c->len || c->pos < c->end;
    if (!*more)
        return SN_OK;
    if (run_bytes(sp, c, e, sizeof(*e)) != SN_OK)
        return SN_EIO;
    if (e->event_id_len == NO_EVENT_ID) {
        e->event_id = NULL;
        e->event_id_len = 0;
    } else if (e->event_id_len > SN_EVENT_ID_MAX || run_bytes(sp, c, c->id, e->event_id_len)) {
        return SN_EIO;
    } else {
        e->event_id = c->id;
    }
    if (e->ev.kind == SN_EV_PORT_OUT) {
        if (e->to_len > SN_CARRIER_NAME_MAX || run_bytes(sp, c, c->to, e->to_len) != SN_OK)
            return SN_EIO;
        e->to = c->to;
    }
    return SN_OK;
}

static int less(const sn_spool *sp, size_t a, size_t b)
{
    return sn_ledger_event_cmp(&sp->cur[sp->heap[a]].cur, &sp->cur[sp->heap[b]].cur) < 0;
}

static void sift_down(sn_spool *sp, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < sp->nheap && less(sp, l, m))
            m = l;
        if (l + 1 < sp->nheap && less(sp, l + 1, m))
            m = l + 1;
        if (m == i)
            return;
        size_t t = sp->heap[i];
        sp->heap[i] = sp->heap[m];
        sp->heap[m] = t;
        i = m;
    }
}

int sn_spool_merge(sn_spool *sp, char *err, size_t errlen)
{
    if (fflush(sp->w) != 0)
        return sn_fail(err, errlen, SN_EIO, "writing the temporary file failed: %s",
                       strerror(errno));
    sp->cur = calloc(sp->nruns ? sp->nruns : 1, sizeof(*sp->cur));
    sp->heap = malloc((sp->nruns ? sp->nruns : 1) * sizeof(*sp->heap));
    if (sp->cur == NULL || sp->heap == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    for (size_t r = 0; r < sp->nruns; r++) {
        cursor *c = &sp->cur[r];
        int more;
        c->pos = sp->start[r];
        c->end = sp->end[r];
        if ((c->buf = malloc(SN_SPOOL_RUN_BUFFER)) == NULL)
            return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        if (run_next(sp, c, &more) != SN_OK)
            return sn_fail(err, errlen, SN_EIO, "reading the temporary file failed");
        if (more)
            sp->heap[sp->nheap++] = r;
    }
    for (size_t i = sp->nheap / 2; i-- > 0;)
        sift_down(sp, i);
    return SN_OK;
}

int sn_spool_read(sn_spool *sp, sn_feed_batch *out, size_t max, char *err, size_t errlen)
{
    sn_feed_batch_clear(out);
    while (out->n < max && sp->nheap > 0) {
        cursor *c = &sp->cur[sp->heap[0]];
        int more;
        if (sn_feed_batch_push(out, &c->cur) != SN_OK)
            return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        if (run_next(sp, c, &more) != SN_OK)
            return sn_fail(err, errlen, SN_EIO, "reading the temporary file failed");
        if (!more)
            sp->heap[0] = sp->heap[--sp->nheap];
        sift_down(sp, 0);
    }
    return SN_OK;
}

void sn_spool_free(sn_spool *sp)
{
    if (sp == NULL)
        return;
    if (sp->w != NULL)
        fclose(sp->w);
    if (sp->fd >= 0)
        close(sp->fd);
    if (sp->cur != NULL)
        for (size_t r = 0; r < sp->nruns; r++)
            free(sp->cur[r].buf);
    free(sp->cur);
    free(sp->heap);
    free(sp->wbuf);
    free(sp);
}

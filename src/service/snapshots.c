/*
 * snapshots.c - serve's index snapshots (see snapshots.h): the load at
 * start (snapshot, then the changes after its position; or the scan), the
 * thread that writes one every interval, and the last one at a clean stop.
 *
 * Invariants: `indexed` (SQLite) only moves from the position a commit's
 * transaction began at to the last change it took, so the index holds
 * every change up to it; a snapshot's position is read before its blocks
 * are copied, and the index only ever moves forward, so every state in the
 * file is at or after that position's; the replay at start puts, for each
 * number changed after the position, its current row: never an older
 * state over a newer one.
 */
#include "service/snapshots.h"

#include "core/errors.h"
#include "follow/follower.h"
#include "index/snapshot.h"
#include "store/log.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

struct sn_snapshots {
    char path[SN_SNAPSHOT_PATH_MAX];
    long interval_s;
    char store_id[SN_STORE_ID_LEN + 1]; /* "" until loaded: nothing is written then */
    _Atomic uint64_t indexed;           /* SQLite: every change up to it is in the index */
    sn_service *svc;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping, started;
    pthread_t tid;
};

int sn_snapshots_new(const char *path, long interval_s, sn_snapshots **out, char *err,
                     size_t errlen)
{
    if (strlen(path) >= SN_SNAPSHOT_PATH_MAX)
        return sn_fail(err, errlen, SN_EINVAL, "--index-snapshot: path too long");
    sn_snapshots *sp = calloc(1, sizeof(*sp));
    if (sp == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    snprintf(sp->path, sizeof(sp->path), "%s", path);
    sp->interval_s = interval_s;
    pthread_mutex_init(&sp->lock, NULL);
    pthread_cond_init(&sp->wake, NULL);
    *out = sp;
    return SN_OK;
}

void sn_snapshots_free(sn_snapshots *sp)
{
    if (sp == NULL)
        return;
    pthread_cond_destroy(&sp->wake);
    pthread_mutex_destroy(&sp->lock);
    free(sp);
}

/* ---- the load at start ----------------------------------------------------- */

typedef struct {
    sn_number_state *page;
    size_t n;
    uint64_t last;
} replay;

static int replay_row(void *ctx, const sn_number_state *st, uint64_t seq)
{
    replay *r = ctx;
    r->page[r->n++] = *st;
    r->last = seq;
    return 0;
}

/* Put every change after *position into the (unshared) index, a page at a
 * time; *position ends at the last one read. */
static int replay_changes(sn_numindex *ix, sn_store *s, uint64_t *position, size_t *count,
                          char *err, size_t errlen)
{
    replay r = {malloc(SN_SNAPSHOT_REPLAY_PAGE * sizeof(sn_number_state)), 0, *position};
    int rc = r.page == NULL ? sn_fail(err, errlen, SN_ENOMEM, "out of memory") : SN_OK;
    *count = 0;
    while (rc == SN_OK) {
        r.n = 0;
        rc =
            sn_store_changes_after(s, r.last, SN_SNAPSHOT_REPLAY_PAGE, replay_row, &r, err, errlen);
        if (rc == SN_OK && r.n > 0 && (rc = sn_numindex_put_many(ix, r.page, r.n)) != SN_OK)
            rc = sn_fail(err, errlen, rc, "replaying the changes: %s",
                         rc == SN_ELIMIT ? "a date outside 1900-4770" : "out of memory");
        *count += r.n;
        if (r.n < SN_SNAPSHOT_REPLAY_PAGE)
            break;
    }
    free(r.page);
    *position = r.last;
    return rc;
}

static int index_state(void *ctx, const sn_number_state *st)
{
    return sn_numindex_load_add(ctx, st);
}

/* The scan of every state, as serve always did: no array of every state
 * first (48 bytes a number for a moment, five times the index). */
static int scan_all(sn_numindex *ix, sn_store *s, char *err, size_t errlen)
{
    int rc = sn_store_scan_states(s, index_state, ix, err, errlen);
    if (rc == SN_OK)
        rc = sn_numindex_load_end(ix);
#ifdef __GLIBC__
    malloc_trim(0); /* the scan's freed pages lie between the blocks: give them back */
#endif
    if (rc == SN_ENOMEM)
        return sn_fail(err, errlen, rc, "out of memory building the index");
    if (rc == SN_ELIMIT)
        return sn_fail(err, errlen, rc, "a number's dates are outside 1900-4770");
    return rc;
}

/* The snapshot and the changes after it: SN_OK; a refusal (err says why)
 * with the index still empty; or, *loaded set, a failure after the load. */
static int from_snapshot(sn_snapshots *sp, sn_numindex *ix, sn_store *s, uint64_t cursor,
                         int *loaded, char *err, size_t errlen)
{
    sn_snapshot_info info;
    size_t replayed;
    int64_t t0 = sn_monotonic_ms();
    int rc = sn_snapshot_load(sp->path, ix, sp->store_id, cursor, &info, err, errlen);
    if (rc != SN_OK)
        return rc;
    int64_t t1 = sn_monotonic_ms();
    uint64_t position = info.position;
    *loaded = 1;
    if ((rc = replay_changes(ix, s, &position, &replayed, err, errlen)) != SN_OK)
        return rc;
    atomic_store(&sp->indexed, position);
    sn_log(SN_LOG_INFO,
           "index snapshot loaded: %llu numbers at position %llu in %.2f s (digest tables %s), "
           "then %zu changes after it in %.2f s",
           (unsigned long long)info.numbers, (unsigned long long)info.position,
           (double)(t1 - t0) / 1000.0,
           !sn_numindex_has_digests(ix) ? "left out"
           : info.digest_bytes > 0      ? "loaded"
                                        : "built",
           replayed, (double)(sn_monotonic_ms() - t1) / 1000.0);
    return SN_OK;
}

int sn_snapshots_load(sn_snapshots *sp, sn_service *svc, sn_store *s, char *err, size_t errlen)
{
    uint64_t cursor = 0;
    int rc, loaded = 0;
    if (sp == NULL || !sn_store_has_changes(s))
        return scan_all(svc->index, s, err, errlen);
    sp->svc = svc;
    if ((rc = sn_store_identity(s, sp->store_id, err, errlen)) != SN_OK ||
        (rc = sn_store_change_cursor(s, &cursor, err, errlen)) != SN_OK)
        return rc;
    rc = from_snapshot(sp, svc->index, s, cursor, &loaded, err, errlen);
    if (rc == SN_OK || loaded)
        return rc; /* a failed replay: this index is no longer empty, serve fails */
    sn_log(rc == SN_ENOTFOUND ? SN_LOG_INFO : SN_LOG_WARN,
           "index snapshot %s not used (%s): building the index from the store", sp->path, err);
    atomic_store(&sp->indexed, cursor); /* read before the scan: the scan holds it all */
    return scan_all(svc->index, s, err, errlen);
}

void sn_snapshots_indexed(sn_snapshots *sp, uint64_t before, uint64_t last)
{
    uint64_t expected = before;
    if (sp != NULL && last > before)
        atomic_compare_exchange_strong(&sp->indexed, &expected, last);
}

/* ---- writing ----------------------------------------------------------------- */

/* One snapshot; `why` for the log line. */
static void write_one(sn_snapshots *sp, const char *why)
{
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info info;
    const sn_service *svc = sp->svc;
    if (svc == NULL || sp->store_id[0] == '\0')
        return; /* loaded without change numbers: nothing to name a position by */
    uint64_t position =
        svc->follower != NULL ? sn_follower_position(svc->follower) : atomic_load(&sp->indexed);
    int64_t t0 = sn_monotonic_ms();
    if (sn_snapshot_write(sp->path, svc->index, sp->store_id, position, &info, err, sizeof(err)) !=
        SN_OK) {
        sn_log(SN_LOG_WARN, "index snapshot not written (%s): %s", why, err);
        return;
    }
    sn_log(SN_LOG_INFO,
           "index snapshot written (%s): %llu numbers at position %llu, %.1f MB in %.2f s", why,
           (unsigned long long)info.numbers, (unsigned long long)position, (double)info.bytes / 1e6,
           (double)(sn_monotonic_ms() - t0) / 1000.0);
}

static void *snapshots_main(void *arg)
{
    sn_snapshots *sp = arg;
    pthread_mutex_lock(&sp->lock);
    while (!sp->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += sp->interval_s;
        while (!sp->stopping && pthread_cond_timedwait(&sp->wake, &sp->lock, &until) == 0)
            ;
        if (sp->stopping)
            break;
        pthread_mutex_unlock(&sp->lock);
        write_one(sp, "periodic");
        pthread_mutex_lock(&sp->lock);
    }
    pthread_mutex_unlock(&sp->lock);
    return NULL;
}

int sn_snapshots_start(sn_snapshots *sp, sn_service *svc, char *err, size_t errlen)
{
    if (sp == NULL || sp->interval_s == 0)
        return SN_OK;
    sp->svc = svc;
    if (sn_thread_start(&sp->tid, snapshots_main, sp) != 0)
        return sn_fail(err, errlen, SN_ENOMEM, "cannot start the index snapshot thread");
    sp->started = 1;
    return SN_OK;
}

void sn_snapshots_stop(sn_snapshots *sp, int final)
{
    if (sp == NULL)
        return;
    if (sp->started)
        sn_thread_stop(&sp->lock, &sp->wake, &sp->stopping, sp->tid);
    sp->started = 0;
    if (final)
        write_one(sp, "stop");
}

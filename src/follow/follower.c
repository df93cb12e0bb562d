/*
 * follower.c - the follower thread (see follower.h): it owns its store
 * handle (one connection, LISTENing), its cursor, and the lock that orders
 * its index updates against the writer's.
 *
 * The loop: read the changes after the cursor, a page at a time, each page
 * read and put into the index in one section under the lock; then wait for
 * a notification, a wake-up (stop, or a rewind below) or POLL_MS; again.
 * When the connection fails: log once, retry (RETRY_MIN_MS doubling to
 * RETRY_MAX_MS) until LISTEN works again, then read from the same cursor.
 *
 * Polling (serve --follow URL): the thread reads from that server, a hot
 * standby where LISTEN is refused, every SN_FOLLOW_POLL_MS instead of
 * waiting for a notification; it also keeps a handle on --db (the head)
 * for the floor below. Polling rather than waiting on the standby's replay
 * position (pg_last_wal_replay_lsn): WAL moves for every write (deliveries,
 * sessions, rate limits), not only for states, and an LSN cannot be told
 * against a change number; the probe, max(seq) over the index numbers_seq
 * inside the read itself, costs one index page when nothing changed.
 *
 * Invariants:
 *   1. Nothing missed: the cursor only moves to a change number just read,
 *      and every change up to the cursor is in the index (or a later state
 *      of the same number is). The store makes change numbers visible in
 *      increasing order, so nothing can still appear below the cursor.
 *   2. Nothing repeated needlessly: a change is read again only after a
 *      rewind (3), or at start for those committed during the index load.
 *      Putting the same state twice is harmless either way.
 *   3. Never an older state over a newer one. The writer puts its own
 *      commits into the index (sn_follower_index_own) without asking the
 *      store, so two threads write the index:
 *      - a section that read a number before the writer's commit must not
 *        put it after the writer did: a section holds the lock from before
 *        its query until its last put, and the writer's puts take it, so
 *        such a section ends before the writer puts;
 *      - the writer must not put its state over a newer one a section put
 *        meanwhile (another node committed the number again right after
 *        this writer's commit, and a section read that before the writer
 *        got the lock). It rewinds instead: sn_follower_mark, before its
 *        transaction, notes the sections done and the cursor; if a section
 *        ended since and may have put a newer state, the writer (holding
 *        the lock, after its puts) moves the cursor back to the noted one
 *        and wakes the thread, which reads every change since then again
 *        and puts the latest states over the writer's. Every state newer
 *        than the writer's was committed after it, so has a change number
 *        above the transaction's last and above the noted cursor: none is
 *        skipped, and a section put one only if the highest change number
 *        a section put (`high`) is above the transaction's last. Given the
 *        transaction's change numbers, the writer rewinds only then (not
 *        knowing them, after any section): under a steady events load the
 *        once-a-second read, or the last commit's own move (5), made
 *        nearly every commit rewind, and the node read back all its own
 *        writes (46% of serve's CPU samples on PostgreSQL).
 *      A check on this node right after the writer's answer sees the
 *      writer's states or newer ones: no section can put older ones after
 *      the writer's puts (the first rule).
 *   4. Polling a standby keeps 3. The first rule above rests on a section
 *      that starts after the writer's puts reading a snapshot that holds
 *      the writer's commit; a standby replays later, so a section could read
 *      a state committed before the writer's (above the cursor, not yet
 *      read) and put it after. Hence the floor: the highest change number
 *      any state in the index may carry, raised (under the lock) to the
 *      head's change number before the first section after the writer's
 *      puts (own_unseen; the head's number is read after the writer's
 *      commit, so it is at least the writer's), set to the head's number
 *      read before the index load (so the loaded states are covered too),
 *      and to the last change a section read. A section puts only what a
 *      snapshot holding the floor returns (sn_store_changes_after_floor:
 *      the test and the rows in one statement), and in such a snapshot each
 *      number's row is its state at or after every change up to the floor:
 *      never older than what the index holds. A standby behind the floor
 *      returns nothing, and the section ends without moving the cursor; it
 *      is read again SN_FOLLOW_POLL_MS later. The rewind (second rule) is
 *      unchanged: what it reads again also comes through the floor. The
 *      floor also covers the connection moving to another, further behind
 *      standby of a multi-host URL. Cost: one head read per writer
 *      commit, at most one per section, never when the node does not write.
 *   5. The node does not read back its own writes (LISTEN only). The
 *      writer's states are in the index already; reading them again cost
 *      the server about a quarter of its CPU under an events load. The
 *      store tells the writer which change numbers its commit took, all of
 *      (from, to] and no other writer's (drawn one at a time under the
 *      writer lock, from read under it at begin). After putting the
 *      transaction's last states (the publisher goes in commit order; a
 *      transaction several batches shared is passed on with its last one),
 *      under the lock and when no rewind (3) is due: if the cursor is at
 *      `from`, every change up to `from` is in the index (1) and every one
 *      in (from, to] was just put, so the cursor moves to `to` and 1 holds;
 *      nothing newer than the writer's states is skipped (those come after
 *      `to`, as in 3). Otherwise (another writer's changes between, a gap
 *      from a rollback) the thread is woken and reads from its cursor as
 *      before. Notifications from the writer's server session (recorded at
 *      the last move) are dropped unread, so the thread does not race the
 *      publisher to read those rows; a commit of that session is always
 *      published with its changes (only the events path writes states in
 *      serve), and the wake above covers the one that cannot be skipped.
 *      A reconnected writer has a new session, whose notifications wake
 *      the thread until the next move; a session id reused by another
 *      process after that only delays its changes to the POLL_MS read.
 *
 * Thread-safety: the handle is the thread's alone; cursor and sections are
 * written under the lock and read without it (atomics).
 */
#include "follow/follower.h"

#include "core/errors.h"
#include "store/store.h"
#include "util/thread.h"
#include "store/log.h"
#include "util/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PAGE_ROWS 2048    /* changes per section: the writer waits for one at most */
#define POLL_MS 1000      /* read at least this often, notified or not */
#define RETRY_MIN_MS 50   /* first retry after a failure */
#define RETRY_MAX_MS 1000 /* retries back off to this */

struct sn_follower {
    pthread_mutex_t lock;      /* a section; the writer's puts and rewinds */
    _Atomic uint64_t cursor;   /* written under lock */
    _Atomic uint64_t sections; /* sections ended; written under lock */
    atomic_int stopping;
    sn_store *store; /* the thread's own: --db, or --follow's server */
    sn_store *head;  /* polling (--follow): a handle on --db; NULL otherwise */
    uint64_t floor;  /* polling: reads must hold this change (under lock) */
    uint64_t high;   /* the highest change number a section put (under lock) */
    int own_unseen;  /* polling: the writer put states since floor was read */
    /* The writer's server session whose commits wake nobody (invariant 5;
     * 0: none), set under lock. */
    _Atomic int64_t own_session;
    sn_numindex *ix;
    int wake_fd; /* eventfd: stop, or read again after a rewind */
    pthread_t tid;
    int started;
};

static void report_put(int rc)
{
    if (rc != SN_OK)
        sn_log(SN_LOG_ERROR, "index update failed (%s)",
               rc == SN_ELIMIT ? "a date outside 1900-4770" : "out of memory");
}

static void wake(sn_follower *f)
{
    uint64_t one = 1;
    if (write(f->wake_fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
        sn_log(SN_LOG_ERROR, "waking the follower: %s", strerror(errno));
}

static void drain_wake(sn_follower *f)
{
    uint64_t count;
    if (read(f->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        sn_log(SN_LOG_ERROR, "follower wake-up: %s", strerror(errno));
}

/* Sleep ms, or less when woken (stop). */
static void pause_ms(sn_follower *f, int ms)
{
    struct pollfd p = {f->wake_fd, POLLIN, 0};
    if (poll(&p, 1, ms) > 0)
        drain_wake(f);
}

typedef struct {
    sn_follower *f;
    uint64_t last;
    uint32_t count;
} page;

static int put_change(void *ctx, const sn_number_state *st, uint64_t seq)
{
    page *p = ctx;
    report_put(sn_numindex_put(p->f->ix, st));
    p->last = seq;
    p->count++;
    return 0;
}

/* One page, under the lock. Polling, it reads with the floor (invariant
 * 4): first raised to --db's change number when the writer put states
 * since it was last read; a standby behind the floor returns nothing. */
static int read_page(sn_follower *f, page *p, char *err, size_t errlen)
{
    uint64_t head = 0, at = atomic_load(&f->cursor);
    int rc;
    if (f->head == NULL)
        return sn_store_changes_after(f->store, at, PAGE_ROWS, put_change, p, err, errlen);
    if (f->own_unseen) {
        if ((rc = sn_store_change_cursor(f->head, &head, err, errlen)) != SN_OK)
            return rc;
        f->floor = head > f->floor ? head : f->floor;
        f->own_unseen = 0;
    }
    rc =
        sn_store_changes_after_floor(f->store, at, f->floor, PAGE_ROWS, put_change, p, err, errlen);
    if (p->count > 0 && p->last > f->floor)
        f->floor = p->last;
    return rc;
}

/* Read and put the changes after the cursor, one section per page, until a
 * page comes back short. A failed read puts nothing (one statement). */
static int catch_up(sn_follower *f, char *err, size_t errlen)
{
    page p;
    int rc;
    do {
        p = (page){f, 0, 0};
        pthread_mutex_lock(&f->lock);
        rc = read_page(f, &p, err, errlen);
        if (p.count > 0)
            atomic_store(&f->cursor, p.last);
        if (p.count > 0 && p.last > f->high) /* a page comes in change order */
            f->high = p.last;
        atomic_fetch_add(&f->sections, 1);
        pthread_mutex_unlock(&f->lock);
    } while (rc == SN_OK && p.count == PAGE_ROWS && !atomic_load(&f->stopping));
    return rc;
}

/* Until the next read: a notification (LISTEN), or SN_FOLLOW_POLL_MS
 * (polling); a wake-up ends either early. */
static int wait_next(sn_follower *f, char *err, size_t errlen)
{
    if (f->head != NULL) {
        pause_ms(f, SN_FOLLOW_POLL_MS);
        return SN_OK;
    }
    if (sn_store_wait_changes(f->store, POLL_MS, f->wake_fd, atomic_load(&f->own_session), err,
                              errlen) < 0)
        return SN_ESTORE;
    drain_wake(f);
    return SN_OK;
}

static void *follow_main(void *arg)
{
    sn_follower *f = arg;
    char err[SN_ERRMSG_MAX];
    int lost = 0, retry_ms = RETRY_MIN_MS;
    sn_thread_name("sn-follower"); /* else the main thread's name, which started it */
    while (!atomic_load(&f->stopping)) {
        int rc = lost && f->head == NULL ? sn_store_listen(f->store, err, sizeof(err)) : SN_OK;
        if (rc == SN_OK)
            rc = catch_up(f, err, sizeof(err));
        if (rc == SN_OK && lost) {
            sn_log(SN_LOG_INFO, "following changes again from change %llu",
                   (unsigned long long)atomic_load(&f->cursor));
            lost = 0;
            retry_ms = RETRY_MIN_MS;
        }
        if (rc == SN_OK && (rc = wait_next(f, err, sizeof(err))) == SN_OK)
            continue;
        if (!lost)
            sn_log(SN_LOG_WARN,
                   "following changes: %s; retrying (checks answer from "
                   "the index meanwhile)",
                   err);
        lost = 1;
        pause_ms(f, retry_ms);
        retry_ms = retry_ms * 2 < RETRY_MAX_MS ? retry_ms * 2 : RETRY_MAX_MS;
    }
    return NULL;
}

/* The handles: the one read from (follow, else db) and, polling, db's.
 * LISTEN first: a commit after the cursor was read also wakes the thread.
 * Polling, the cursor comes from db: changes up to it are in the index
 * (loaded after), and the floor (own_unseen) keeps a standby that is
 * behind it from handing back older states. */
static int open_handles(const char *db, const char *follow, sn_store **store, sn_store **head,
                        uint64_t *cursor, char *err, size_t errlen)
{
    int rc;
    *store = *head = NULL;
    if ((rc = sn_store_open(follow != NULL ? follow : db, NULL, store, err, errlen)) != SN_OK)
        return rc;
    if (!sn_store_can_follow(*store))
        return SN_OK;
    if (follow == NULL)
        rc = sn_store_listen(*store, err, errlen);
    else if ((rc = sn_store_open(db, NULL, head, err, errlen)) == SN_OK &&
             !sn_store_can_follow(*head))
        rc = sn_fail(err, errlen, SN_ECONFIG, "--follow needs a PostgreSQL store in --db");
    if (rc == SN_OK)
        rc = sn_store_change_cursor(*head != NULL ? *head : *store, cursor, err, errlen);
    return rc;
}

int sn_follower_open(const char *db, const char *follow, sn_numindex *ix, sn_follower **out,
                     char *err, size_t errlen)
{
    sn_follower *f = NULL;
    sn_store *store = NULL, *head = NULL;
    uint64_t cursor = 0;
    int rc;
    *out = NULL;
    if ((rc = open_handles(db, follow, &store, &head, &cursor, err, errlen)) != SN_OK)
        goto fail;
    if (!sn_store_can_follow(store)) {
        sn_store_close(store);
        return follow == NULL ? SN_OK
                              : sn_fail(err, errlen, SN_ECONFIG,
                                        "--follow must name a PostgreSQL server (a URL)");
    }
    if ((f = calloc(1, sizeof(*f))) == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        goto fail;
    }
    if ((f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        rc = sn_fail(err, errlen, SN_EIO, "eventfd: %s", strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&f->lock, NULL);
    atomic_init(&f->cursor, cursor);
    atomic_init(&f->sections, 0);
    atomic_init(&f->own_session, 0);
    atomic_init(&f->stopping, 0);
    f->store = store;
    f->head = head;
    f->floor = cursor;
    f->own_unseen = head != NULL;
    f->ix = ix;
    *out = f;
    return SN_OK;
fail:
    free(f);
    sn_store_close(store);
    sn_store_close(head);
    return rc;
}

int sn_follower_start(sn_follower *f, char *err, size_t errlen)
{
    if (sn_thread_start(&f->tid, follow_main, f) != 0)
        return sn_fail(err, errlen, SN_EIO, "cannot start the follower thread");
    f->started = 1;
    sn_log(SN_LOG_INFO, "following the store's changes from change %llu%s",
           (unsigned long long)atomic_load(&f->cursor),
           f->head != NULL ? " (--follow: polling)" : "");
    return SN_OK;
}

void sn_follower_stop(sn_follower *f)
{
    if (f == NULL)
        return;
    if (f->started) {
        atomic_store(&f->stopping, 1);
        wake(f);
        pthread_join(f->tid, NULL);
    }
    sn_store_close(f->store);
    sn_store_close(f->head);
    close(f->wake_fd);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void sn_follower_mark(sn_follower *f, sn_follow_mark *m)
{
    if (f == NULL) {
        m->sections = m->cursor = 0;
        return;
    }
    m->sections = atomic_load(&f->sections);
    m->cursor = atomic_load(&f->cursor);
}

/* Invariant 5, under the lock after the writer's puts: the cursor moves
 * over the transaction's own changes when it stands right below them, and
 * the writer's session stops waking the thread; otherwise the thread is
 * woken to read them (it may have dropped their notification). */
static void skip_own(sn_follower *f, const sn_store_commit_changes *c)
{
    if (c->to <= c->from || f->head != NULL)
        return;
    if (c->session != 0 && atomic_load(&f->cursor) == c->from) {
        atomic_store(&f->cursor, c->to);
        atomic_store(&f->own_session, c->session);
        return;
    }
    wake(f);
}

/* Invariant 3: whether a section since the writer's mark may have put a
 * state newer than the transaction's, one committed after it: only such a
 * state has a change number above the transaction's last (c->to), so a
 * section put one exactly when the highest it put is above that. Not
 * knowing the transaction's changes, any section may have. */
static int newer_put(const sn_follower *f, const sn_store_commit_changes *c)
{
    return c == NULL || c->to <= c->from || f->high > c->to;
}

void sn_follower_index_own(sn_follower *f, sn_numindex *ix, const sn_follow_mark *m,
                           const sn_number_state *states, size_t n,
                           const sn_store_commit_changes *c, int last)
{
    if (n == 0 && (c == NULL || c->to <= c->from || !last))
        return;
    if (f != NULL)
        pthread_mutex_lock(&f->lock);
    if (n > 0)
        report_put(sn_numindex_put_many(ix, states, n));
    if (f != NULL) {
        f->own_unseen = 1; /* invariant 4: the next section reads db's number first */
        if (atomic_load(&f->sections) != m->sections && atomic_load(&f->cursor) > m->cursor &&
            newer_put(f, c)) {
            atomic_store(&f->cursor, m->cursor); /* invariant 3: read them again */
            wake(f);
        } else if (c != NULL && last) {
            skip_own(f, c);
        }
        pthread_mutex_unlock(&f->lock);
    }
}

uint64_t sn_follower_position(const sn_follower *f)
{
    return f != NULL ? atomic_load(&f->cursor) : 0;
}

/*
 * trail.c - the audit trail's buffer and its background thread (see
 * audit.h). One trail per process; the buffer is a list of copied records
 * in arrival order under one mutex, weighed by records (a batch's items
 * count one each) against the buffer's bound.
 */
#include "audit/audit.h"

#include "audit/group.h"
#include "core/errors.h"
#include "core/verdict.h"
#include "store/audit.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/thread.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct entry {
    struct entry *next;
    sn_audit_record r; /* items point into the entry's own tail */
    uint64_t weight;
    int kind; /* its size: SMALL (no items), LARGE (SPARE_ITEMS), or OWN (malloc'd to fit) */
} entry;

/* Written records' entries are kept for the next ones (a batch's is 16 KB:
 * a malloc and free of it per request made the heap grow and shrink, a
 * quarter of the trail's time in page faults), at most this many of each
 * size. */
enum { SMALL, LARGE, OWN };
#define SPARE_ITEMS 1024 /* items a LARGE entry holds */
#define SPARE_SMALL 4096 /* spare entries without items */
#define SPARE_LARGE 256  /* spare LARGE entries (4 MB) */

#define USAGE_SLOTS 256 /* distinct (day, app) of one transaction before they are written */

typedef struct {
    sn_day day;
    char app[SN_AUDIT_APP_MAX];
    uint64_t counts[SN_AUDIT_VERDICTS];
} usage_slot;

typedef struct {
    sn_audit_options o;
    uint8_t key[SN_AUDIT_KEY_LEN]; /* of the numbers' hashes (with o.secret) */
    char db[4096];
    sn_store *store;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t wake, room;
    int stopping;
    int idle;       /* the thread waits for a first record */
    int grouping;   /* the thread waits for more records to write together */
    uint64_t group; /* the weight that ends a group wait: SN_AUDIT_GROUP_RECORDS or less */
    entry *head, *tail;
    uint64_t weight; /* of the waiting records */
    size_t held;     /* waiting records with a done callback (a write's held answer) */
    int64_t last_log_ms, next_purge_ms;
    uint8_t *items; /* the packed items of one row */
    size_t items_cap;
    sn_audit_groups *groups; /* the transaction's single checks (group.h) */
    entry *spare[2];         /* SMALL, LARGE */
    size_t nspare[2];
    usage_slot usage[USAGE_SLOTS];
    size_t nusage;
    uint64_t unindexed;    /* rows whose numbers are not yet indexed (store/audit.h) */
    uint64_t pended;       /* rows of the transaction being written that pend */
    int64_t next_index_ms; /* after a failed index, not before */
    int64_t index_end_ms, index_took_ms; /* the last indexer transaction's end and length */
    int64_t wrote_ms;                    /* the last write of records ended */
    atomic_int_fast64_t write_in_tx_ms;  /* a write's own row last committed (monotonic) */
    _Atomic uint64_t written, items_written, waits, failures, purged, pending;
    _Atomic uint64_t indexed, unindexed_gauge, transactions;
} trail;

static trail *the_trail;

void sn_audit_hash_key(const sn_secret *secret, uint8_t key[SN_AUDIT_KEY_LEN])
{
    sn_number_hash(secret, "secondnum-audit-key", 0, NULL, 0, key, SN_AUDIT_KEY_LEN);
}

void sn_audit_hash(const uint8_t key[SN_AUDIT_KEY_LEN], sn_number n, uint8_t out[SN_AUDIT_HASH_LEN])
{
    uint8_t num[8];
    for (int i = 0; i < 8; i++)
        num[i] = (uint8_t)(n >> (8 * i));
    crypto_shorthash_siphash24(out, num, sizeof(num), key);
}

void sn_audit_number_hash(const sn_secret *secret, sn_number n, uint8_t out[SN_AUDIT_HASH_LEN])
{
    uint8_t key[SN_AUDIT_KEY_LEN];
    sn_audit_hash_key(secret, key);
    sn_audit_hash(key, n, out);
    sodium_memzero(key, sizeof(key));
}

int sn_audit_on(void)
{
    return the_trail != NULL;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A spare entry of kind SMALL or LARGE, or NULL (lock held). */
static entry *spare_take(trail *t, int kind)
{
    entry *e = t->spare[kind];
    if (e != NULL) {
        t->spare[kind] = e->next;
        t->nspare[kind]--;
    }
    return e;
}

/* A new entry of kind for n items (NULL: out of memory). */
static entry *entry_new(int kind, uint32_t n)
{
    size_t items = kind == SMALL ? 0 : kind == LARGE ? SPARE_ITEMS : n;
    entry *e = malloc(sizeof(*e) + items * sizeof(sn_audit_item));
    if (e != NULL)
        e->kind = kind;
    return e;
}

/* An entry for n items (n > 0): a spare one, or a new one (NULL: out of
 * memory). */
static entry *entry_for(trail *t, uint32_t n)
{
    int kind = n <= SPARE_ITEMS ? LARGE : OWN;
    entry *e = NULL;
    if (kind != OWN) {
        pthread_mutex_lock(&t->lock);
        e = spare_take(t, kind);
        pthread_mutex_unlock(&t->lock);
    }
    return e != NULL ? e : entry_new(kind, n);
}

/* r into e (its items, if any, after fill_items). */
static void fill(entry *e, const sn_audit_record *r)
{
    e->next = NULL;
    e->r = *r;
    e->weight = 1 + r->nitems;
}

/* r's items into the tail of e (made for them by entry_for). */
static void fill_items(entry *e, const sn_audit_record *r)
{
    memcpy(e + 1, r->items, (size_t)r->nitems * sizeof(sn_audit_item));
    e->r.items = (const sn_audit_item *)(e + 1);
}

/* Keep e for a later record, or free it (lock held; *drop collects those
 * to free after it is released). */
static void spare(trail *t, entry *e, entry **drop)
{
    static const size_t most[2] = {SPARE_SMALL, SPARE_LARGE};
    if (e->kind != OWN && t->nspare[e->kind] < most[e->kind]) {
        e->next = t->spare[e->kind];
        t->spare[e->kind] = e;
        t->nspare[e->kind]++;
    } else {
        e->next = *drop;
        *drop = e;
    }
}

void sn_audit_add(const sn_audit_record *r)
{
    trail *t = the_trail;
    entry *e = NULL;
    if (r->nitems > 0 && (e = entry_for(t, r->nitems)) != NULL) {
        fill(e, r); /* a batch's items are copied before the lock */
        fill_items(e, r);
    }
    pthread_mutex_lock(&t->lock);
    if (r->nitems == 0 && (e = spare_take(t, SMALL)) != NULL)
        fill(e, r); /* a single record: one lock for its entry and its place */
    if (e == NULL && r->nitems == 0) {
        pthread_mutex_unlock(&t->lock);
        if ((e = entry_new(SMALL, 0)) != NULL)
            fill(e, r);
        pthread_mutex_lock(&t->lock);
    }
    if (e == NULL) { /* nothing can be kept: the process is out of memory */
        pthread_mutex_unlock(&t->lock);
        sn_log(SN_LOG_ERROR, "audit: out of memory; a record of %s is lost", r->route);
        if (r->done != NULL)
            r->done(r->arg);
        return;
    }
    if (t->weight > 0 && t->weight + e->weight > t->o.buffer) {
        atomic_fetch_add(&t->waits, 1);
        int64_t ms = sn_monotonic_ms();
        if (ms - t->last_log_ms >= SN_AUDIT_LOG_EVERY_MS) {
            t->last_log_ms = ms;
            sn_log(SN_LOG_WARN,
                   "audit: the store is not keeping up: %llu records wait (the buffer holds "
                   "%u); requests wait for room",
                   (unsigned long long)t->weight, t->o.buffer);
        }
        pthread_cond_signal(&t->wake); /* no group wait while a request waits */
        while (t->weight > 0 && t->weight + e->weight > t->o.buffer)
            pthread_cond_wait(&t->room, &t->lock);
    }
    if (t->tail != NULL)
        t->tail->next = e;
    else
        t->head = e;
    t->tail = e;
    t->weight += e->weight;
    t->held += e->r.done != NULL;
    atomic_store(&t->pending, t->weight);
    /* Wake the thread for a first record, and end its group wait for a
     * held answer or a full group; else it wakes when the wait ends. */
    if (t->idle || (t->grouping && (e->r.done != NULL || t->weight >= t->group)))
        pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
}

/* A record's answer text. */
static const char *answer_of(const sn_audit_record *r)
{
    if (r->answer != NULL)
        return r->answer;
    if (r->verdict >= 0)
        return sn_verdict_name((sn_verdict)r->verdict);
    return r->status < 400 ? "ok" : "error";
}

/* Count the checks of r into the usage slots (written when full). */
static int count_usage(trail *t, const sn_audit_record *r, char *err, size_t errlen);

/* Pack r's items (hashing their numbers) into t->items. */
static int pack_items(trail *t, const sn_audit_record *r)
{
    size_t need = (size_t)r->nitems * SN_AUDIT_ITEM_BYTES;
    if (need > t->items_cap) {
        uint8_t *p = realloc(t->items, need);
        if (p == NULL)
            return SN_ENOMEM;
        t->items = p;
        t->items_cap = need;
    }
    for (uint32_t i = 0; i < r->nitems; i++) {
        const sn_audit_item *it = &r->items[i];
        uint8_t hash[SN_AUDIT_HASH_LEN], *h = NULL;
        if (it->has_number && t->o.secret != NULL)
            sn_audit_hash(t->key, it->number, h = hash);
        sn_audit_item_put(t->items + (size_t)i * SN_AUDIT_ITEM_BYTES, h, it->day,
                          it->verdict == -2 ? SN_AUDIT_NOT_CHECK
                          : it->verdict < 0 ? SN_AUDIT_NO_VERDICT
                                            : (uint8_t)it->verdict);
    }
    return SN_OK;
}

/* A row into the open transaction (a record's own, or a group's). */
static int write_row(void *ctx, const sn_audit_row *row, char *err, size_t errlen)
{
    trail *t = ctx;
    int pending = 0;
    int rc = sn_store_audit_add(t->store, row, &pending, err, errlen);
    t->pended += rc == SN_OK && pending;
    return rc;
}

static int grouped(const trail *t, const sn_audit_record *r)
{
    return sn_audit_groupable(r, t->o.secret != NULL);
}

/* r's own row, its items not packed. */
static void row_of(const trail *t, const sn_audit_record *r, sn_audit_row *row)
{
    row->at = r->at_ms;
    row->status = r->status;
    row->day = r->day;
    row->items = r->nitems;
    row->id = 0;
    row->has_number = 0;
    row->item_data = NULL;
    row->item_meta = NULL;
    row->item_meta_len = 0;
    sn_text_copy(row->route, sizeof(row->route), r->route);
    sn_text_copy(row->method, sizeof(row->method), r->method);
    sn_text_copy(row->who_kind, sizeof(row->who_kind), r->who_kind);
    sn_text_copy(row->who, sizeof(row->who), r->who);
    sn_text_copy(row->app, sizeof(row->app), r->app);
    sn_text_copy(row->answer, sizeof(row->answer), answer_of(r));
    sn_text_copy(row->request, sizeof(row->request), r->request);
    if (r->has_number && t->o.secret != NULL) {
        row->has_number = 1;
        sn_audit_hash(t->key, r->number, row->number_hash);
    }
}

static int write_record(trail *t, const sn_audit_record *r, char *err, size_t errlen)
{
    sn_audit_row row;
    if (grouped(t, r)) {
        uint8_t hash[SN_AUDIT_HASH_LEN];
        sn_audit_hash(t->key, r->number, hash);
        int rc = sn_audit_groups_add(t->groups, r, hash, write_row, t, err, errlen);
        return rc == SN_OK ? count_usage(t, r, err, errlen) : rc;
    }
    row_of(t, r, &row);
    if (r->nitems > 0) {
        if (pack_items(t, r) != SN_OK)
            return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        row.item_data = t->items;
    }
    int rc = write_row(t, &row, err, errlen);
    return rc == SN_OK ? count_usage(t, r, err, errlen) : rc;
}

static int flush_usage(trail *t, char *err, size_t errlen)
{
    int rc = SN_OK;
    for (size_t i = 0; i < t->nusage && rc == SN_OK; i++)
        rc = sn_store_audit_usage_add(t->store, t->usage[i].day, t->usage[i].app,
                                      t->usage[i].counts, err, errlen);
    t->nusage = 0;
    return rc;
}

static int count_usage(trail *t, const sn_audit_record *r, char *err, size_t errlen)
{
    if (r->app[0] == '\0' || (r->verdict < 0 && r->nitems == 0))
        return SN_OK;
    sn_day day = sn_day_of(r->at_ms / 1000, t->o.tz_minutes);
    size_t i = 0;
    while (i < t->nusage && (t->usage[i].day != day || strcmp(t->usage[i].app, r->app) != 0))
        i++;
    if (i == t->nusage) {
        int rc = t->nusage == USAGE_SLOTS ? flush_usage(t, err, errlen) : SN_OK;
        if (rc != SN_OK)
            return rc;
        i = t->nusage++;
        memset(&t->usage[i], 0, sizeof(t->usage[i]));
        t->usage[i].day = day;
        snprintf(t->usage[i].app, sizeof(t->usage[i].app), "%s", r->app);
    }
    if (r->nitems == 0 && r->verdict < SN_AUDIT_VERDICTS)
        t->usage[i].counts[r->verdict]++;
    for (uint32_t k = 0; k < r->nitems; k++)
        if (r->items[k].verdict >= 0 && r->items[k].verdict < SN_AUDIT_VERDICTS)
            t->usage[i].counts[r->items[k].verdict]++;
    return SN_OK;
}

int sn_audit_write_in_tx(sn_store *s, const sn_audit_record *r, char *err, size_t errlen)
{
    trail *t = the_trail;
    sn_audit_row row;
    if (t == NULL)
        return SN_OK;
    if (r->nitems > 0 || r->verdict >= 0 || r->done != NULL)
        return sn_fail(err, errlen, SN_EINVAL,
                       "audit: only a write's record without items goes in its transaction");
    row_of(t, r, &row);
    row.at = now_ms(); /* the commit's, about: the answer follows it */
    return sn_store_audit_add(s, &row, NULL, err, errlen);
}

void sn_audit_written_in_tx(size_t n)
{
    if (the_trail == NULL || n == 0)
        return;
    atomic_fetch_add(&the_trail->written, n);
    atomic_store(&the_trail->write_in_tx_ms, sn_monotonic_ms());
}

/* Write the records from first (n of them) in one transaction. */
static int write_batch(trail *t, entry *first, size_t n, char *err, size_t errlen)
{
    t->nusage = 0;
    t->pended = 0;
    sn_audit_groups_clear(t->groups);
    int rc = sn_store_begin(t->store, err, errlen);
    /* The group rows first: their checks keep their order against the
     * transaction's other rows up to its SN_AUDIT_GROUP_MS (an id order
     * the portal's list follows), where written last they would all come
     * after them. */
    entry *e = first;
    for (size_t i = 0; i < n && rc == SN_OK; i++, e = e->next)
        if (grouped(t, &e->r))
            rc = write_record(t, &e->r, err, errlen);
    if (rc == SN_OK)
        rc = sn_audit_groups_flush(t->groups, write_row, t, err, errlen);
    e = first;
    for (size_t i = 0; i < n && rc == SN_OK; i++, e = e->next)
        if (!grouped(t, &e->r))
            rc = write_record(t, &e->r, err, errlen);
    if (rc == SN_OK)
        rc = flush_usage(t, err, errlen);
    return sn_store_end(t->store, rc, 0, err, errlen);
}

/* Delete what is past the retention, a batch a transaction. */
static void purge(trail *t)
{
    char err[SN_ERRMSG_MAX];
    uint64_t n = SN_AUDIT_PURGE_BATCH;
    int64_t before = now_ms() - (int64_t)t->o.retention_days * 86400 * 1000;
    t->next_purge_ms = sn_monotonic_ms() + SN_AUDIT_PURGE_EVERY_MS;
    if (t->o.retention_days == 0)
        return;
    while (n == SN_AUDIT_PURGE_BATCH) {
        if (sn_store_audit_purge(t->store, before, SN_AUDIT_PURGE_BATCH, &n, err, sizeof(err)) !=
            SN_OK) {
            sn_log(SN_LOG_WARN, "audit: purge failed (tried again in an hour): %s", err);
            return;
        }
        atomic_fetch_add(&t->purged, n);
        pthread_mutex_lock(&t->lock); /* records waiting go first */
        int waiting = t->head != NULL;
        pthread_mutex_unlock(&t->lock);
        if (waiting) {
            t->next_purge_ms = sn_monotonic_ms(); /* the rest after them */
            return;
        }
    }
}

/* Take up to SN_AUDIT_BATCH_RECORDS records off the list (lock held): the
 * first, with *n; they stay linked to each other. */
static entry *take(trail *t, size_t *n, uint64_t *weight)
{
    entry *first = t->head, *e = first, *last = NULL;
    *n = 0;
    *weight = 0;
    while (e != NULL && *n < SN_AUDIT_BATCH_RECORDS) {
        *weight += e->weight;
        t->held -= e->r.done != NULL;
        (*n)++;
        last = e;
        e = e->next;
    }
    t->head = e;
    if (e == NULL)
        t->tail = NULL;
    if (last != NULL)
        last->next = NULL;
    return first;
}

/* Put records that could not be written back at the head (lock held). */
static void put_back(trail *t, entry *first)
{
    entry *last = first;
    t->held += first->r.done != NULL;
    while (last->next != NULL) {
        last = last->next;
        t->held += last->r.done != NULL;
    }
    last->next = t->head;
    t->head = first;
    if (t->tail == NULL)
        t->tail = last;
}

static void finish(trail *t, entry *first, size_t n, uint64_t weight)
{
    uint64_t items = 0;
    entry *drop = NULL;
    for (entry *e = first; e != NULL; e = e->next) {
        items += e->r.nitems;
        if (e->r.done != NULL)
            e->r.done(e->r.arg);
    }
    atomic_fetch_add(&t->written, n);
    atomic_fetch_add(&t->transactions, 1);
    atomic_fetch_add(&t->items_written, items);
    pthread_mutex_lock(&t->lock);
    for (entry *e = first, *next; e != NULL; e = next) {
        next = e->next;
        spare(t, e, &drop);
    }
    t->weight -= weight;
    t->unindexed += t->pended; /* committed */
    atomic_store(&t->pending, t->weight);
    atomic_store(&t->unindexed_gauge, t->unindexed);
    pthread_cond_broadcast(&t->room);
    pthread_mutex_unlock(&t->lock);
    for (entry *e = drop, *next; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
}

/* One batch written (or put back after a failure, then a wait). */
static void write_some(trail *t, entry *first, size_t n, uint64_t weight)
{
    char err[SN_ERRMSG_MAX] = "";
    if (write_batch(t, first, n, err, sizeof(err)) == SN_OK) {
        finish(t, first, n, weight);
        return;
    }
    atomic_fetch_add(&t->failures, 1);
    int64_t ms = sn_monotonic_ms();
    if (ms - t->last_log_ms >= SN_AUDIT_LOG_EVERY_MS) {
        t->last_log_ms = ms;
        sn_log(SN_LOG_ERROR, "audit: writing %zu records failed (kept, tried again): %s", n, err);
    }
    struct timespec pause = {SN_AUDIT_RETRY_MS / 1000, (SN_AUDIT_RETRY_MS % 1000) * 1000000L};
    pthread_mutex_lock(&t->lock);
    put_back(t, first);
    pthread_mutex_unlock(&t->lock);
    nanosleep(&pause, NULL);
}

/* Records that came within SN_AUDIT_GROUP_MS of the first are written in
 * one transaction: a commit (a WAL write and an fsync) per few records cost
 * a check answered alone a third of its rate. The wait ends at once when a
 * record holds a write's answer, when a group's weight waits, when a
 * request waits for room, or at stop (lock held). */
static void wait_for_group(trail *t)
{
    if (t->stopping || t->held > 0 || t->weight >= t->group)
        return;
    struct timespec until = sn_realtime_in_ms(SN_AUDIT_GROUP_MS);
    t->grouping = 1;
    while (!t->stopping && t->held == 0 && t->weight < t->group)
        if (pthread_cond_timedwait(&t->wake, &t->lock, &until) != 0)
            break; /* the time is up */
    t->grouping = 0;
}

/* Whether the indexer takes a turn: batch rows wait to be indexed, no
 * write's answer is held, no write committed its own row (events, with
 * sn_audit_write_in_tx) for SN_AUDIT_INDEX_IDLE_MS, and either no record
 * was written for SN_AUDIT_INDEX_IDLE_MS, or the buffer is under a quarter
 * full and the indexer has had less than 1/SN_AUDIT_INDEX_SHARE of the
 * time since its last turn, which ended SN_AUDIT_INDEX_GAP_MS ago or more
 * (a turn is a transaction: a commit and an fsync, however few its rows):
 * under load its CPU is the checks', and its
 * transaction must make neither requests wait for room nor writes for the
 * store's lock (lock held). */
static int index_due(trail *t)
{
    if (t->unindexed == 0 || t->stopping || t->held > 0)
        return 0;
    int64_t now = sn_monotonic_ms();
    /* writes whose rows go in their own transactions hold no answer here,
     * but the indexer's transaction would make them wait for the lock */
    if (now - atomic_load(&t->write_in_tx_ms) < SN_AUDIT_INDEX_IDLE_MS)
        return 0;
    return now >= t->next_index_ms &&
           ((t->head == NULL && now - t->wrote_ms >= SN_AUDIT_INDEX_IDLE_MS) ||
            (t->weight < t->o.buffer / 4 && now - t->index_end_ms >= SN_AUDIT_INDEX_GAP_MS &&
             now - t->index_end_ms >= (SN_AUDIT_INDEX_SHARE - 1) * t->index_took_ms));
}

/* One indexer transaction (lock not held). */
static void index_some(trail *t)
{
    char err[SN_ERRMSG_MAX];
    uint64_t rows = 0;
    int64_t start = sn_monotonic_ms();
    int rc = sn_store_audit_index(t->store, SN_AUDIT_INDEX_ROWS, &rows, err, sizeof(err));
    t->index_end_ms = sn_monotonic_ms();
    t->index_took_ms = t->index_end_ms > start ? t->index_end_ms - start : 1;
    if (rc != SN_OK) {
        atomic_fetch_add(&t->failures, 1);
        t->next_index_ms = sn_monotonic_ms() + SN_AUDIT_RETRY_MS;
        sn_log(SN_LOG_WARN, "audit: indexing batch items failed (tried again): %s", err);
        return;
    }
    pthread_mutex_lock(&t->lock);
    /* an estimate: this process's rows and those pending at its start (on
     * PostgreSQL another node's indexer may take some first) */
    t->unindexed = rows == 0 || t->unindexed < rows ? 0 : t->unindexed - rows;
    atomic_store(&t->unindexed_gauge, t->unindexed);
    pthread_mutex_unlock(&t->lock);
    atomic_fetch_add(&t->indexed, rows);
}

/* The batch rows pending from an earlier run (an estimate of 1 when they
 * cannot be counted: the indexer then finds out). */
static void count_unindexed(trail *t)
{
    char err[SN_ERRMSG_MAX];
    if (sn_store_audit_unindexed(t->store, &t->unindexed, err, sizeof(err)) != SN_OK)
        t->unindexed = 1;
    atomic_store(&t->unindexed_gauge, t->unindexed);
}

static void *run(void *arg)
{
    trail *t = arg;
    sn_thread_name("sn-audit");
    count_unindexed(t);
    pthread_mutex_lock(&t->lock);
    for (;;) {
        if (index_due(t)) {
            pthread_mutex_unlock(&t->lock);
            index_some(t);
            pthread_mutex_lock(&t->lock);
            continue;
        }
        t->idle = 1;
        while (t->head == NULL && !t->stopping && sn_monotonic_ms() < t->next_purge_ms &&
               !index_due(t)) {
            struct timespec until = sn_realtime_in_ms(1000);
            pthread_cond_timedwait(&t->wake, &t->lock, &until);
        }
        t->idle = 0;
        if (t->head == NULL && t->stopping)
            break;
        if (t->head == NULL && index_due(t))
            continue; /* indexed at the top */
        if (t->head == NULL) {
            pthread_mutex_unlock(&t->lock);
            purge(t);
            pthread_mutex_lock(&t->lock);
            continue;
        }
        wait_for_group(t);
        size_t n;
        uint64_t weight;
        entry *first = take(t, &n, &weight);
        pthread_mutex_unlock(&t->lock);
        write_some(t, first, n, weight);
        pthread_mutex_lock(&t->lock);
        t->wrote_ms = sn_monotonic_ms();
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int sn_audit_start(const sn_audit_options *o, char *err, size_t errlen)
{
    trail *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    t->o = *o;
    snprintf(t->db, sizeof(t->db), "%s", o->db);
    t->o.db = t->db;
    t->group = o->buffer / 2 < SN_AUDIT_GROUP_RECORDS ? o->buffer / 2 : SN_AUDIT_GROUP_RECORDS;
    if (t->group == 0)
        t->group = 1;
    if (o->secret != NULL)
        sn_audit_hash_key(o->secret, t->key);
    if (sn_audit_groups_new(&t->groups) != SN_OK) {
        free(t);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    int rc = sn_store_open(t->db, NULL, &t->store, err, errlen);
    if (rc != SN_OK) {
        sn_audit_groups_free(t->groups);
        free(t);
        return rc;
    }
    sn_store_side_writer(t->store);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->room, NULL);
    t->next_purge_ms = sn_monotonic_ms(); /* at once */
    if (sn_thread_start(&t->tid, run, t) != 0) {
        sn_store_close(t->store);
        sn_audit_groups_free(t->groups);
        free(t);
        return sn_fail(err, errlen, SN_ENOMEM, "cannot start the audit thread");
    }
    the_trail = t;
    return SN_OK;
}

void sn_audit_stop(void)
{
    trail *t = the_trail;
    if (t == NULL)
        return;
    sn_thread_stop(&t->lock, &t->wake, &t->stopping, t->tid);
    the_trail = NULL;
    sn_store_close(t->store);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    pthread_cond_destroy(&t->room);
    for (int k = 0; k < 2; k++)
        for (entry *e = t->spare[k], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    free(t->items);
    sn_audit_groups_free(t->groups);
    sodium_memzero(t->key, sizeof(t->key));
    free(t);
}

void sn_audit_metrics(sn_strbuf *out)
{
    trail *t = the_trail;
    if (t == NULL)
        return;
    sn_strbuf_printf(
        out,
        "# HELP secondnum_audit_pending Audit records (batch items count one) waiting to be "
        "written.\n# TYPE secondnum_audit_pending gauge\nsecondnum_audit_pending %llu\n"
        "# HELP secondnum_audit_buffer Audit records that may wait at most.\n"
        "# TYPE secondnum_audit_buffer gauge\nsecondnum_audit_buffer %u\n"
        "# HELP secondnum_audit_written_total Audit records written.\n"
        "# TYPE secondnum_audit_written_total counter\nsecondnum_audit_written_total %llu\n"
        "# HELP secondnum_audit_items_total Batch items written in audit rows.\n"
        "# TYPE secondnum_audit_items_total counter\nsecondnum_audit_items_total %llu\n"
        "# HELP secondnum_audit_backpressure_total Requests that waited for room in the audit "
        "buffer.\n# TYPE secondnum_audit_backpressure_total counter\n"
        "secondnum_audit_backpressure_total %llu\n"
        "# HELP secondnum_audit_failures_total Audit batches whose write failed (kept, "
        "retried).\n# TYPE secondnum_audit_failures_total counter\n"
        "secondnum_audit_failures_total %llu\n"
        "# HELP secondnum_audit_purged_total Audit rows deleted past the retention.\n"
        "# TYPE secondnum_audit_purged_total counter\nsecondnum_audit_purged_total %llu\n"
        "# HELP secondnum_audit_unindexed Batch and group audit rows whose items are not yet "
        "indexed (audit_pending).\n# TYPE secondnum_audit_unindexed "
        "gauge\nsecondnum_audit_unindexed %llu\n"
        "# HELP secondnum_audit_transactions_total Transactions that wrote audit rows.\n"
        "# TYPE secondnum_audit_transactions_total counter\n"
        "secondnum_audit_transactions_total %llu\n"
        "# HELP secondnum_audit_indexed_total Batch and group audit rows whose items were "
        "indexed.\n"
        "# TYPE secondnum_audit_indexed_total counter\nsecondnum_audit_indexed_total %llu\n",
        (unsigned long long)atomic_load(&t->pending), t->o.buffer,
        (unsigned long long)atomic_load(&t->written),
        (unsigned long long)atomic_load(&t->items_written),
        (unsigned long long)atomic_load(&t->waits), (unsigned long long)atomic_load(&t->failures),
        (unsigned long long)atomic_load(&t->purged),
        (unsigned long long)atomic_load(&t->unindexed_gauge),
        (unsigned long long)atomic_load(&t->transactions),
        (unsigned long long)atomic_load(&t->indexed));
}

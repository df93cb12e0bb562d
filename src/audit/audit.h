/*
 * audit.h - the audit trail: every answered request of a route recorded
 * off the hot path (docs/operations.md, "Audit trail").
 *
 * The loop threads hand each answer's record to sn_audit_add (a mutex
 * held to link it in; a batch's items copied as they are, 16 bytes each,
 * outside the lock). One background thread takes the records in arrival
 * order and writes them in batches, one transaction each (records that
 * came within SN_AUDIT_GROUP_MS of each other together, unless one holds
 * a write's answer), through a store
 * handle of its own: a number is hashed (BLAKE2b keyed by the deployment
 * secret, crypto/secret.h) only there, a batch's items are packed into one
 * row, single checks of one key and second share a group row (group.h),
 * and the checks are added to the usage counters (per day, app and
 * verdict) in the same transaction. Invariants:
 *   - nothing is dropped: at most the buffer's records (a batch item counts
 *     one) wait; a request that would pass it waits on its loop thread until
 *     the thread has written enough (back-pressure, counted in
 *     secondnum_audit_backpressure_total and logged at most every
 *     SN_AUDIT_LOG_EVERY_MS); a failed write is retried every
 *     SN_AUDIT_RETRY_MS, never skipped;
 *   - a record given a `done` callback is committed before done runs: the
 *     router holds an acknowledged write's answer until then, so a write
 *     whose answer was sent has its audit row in the store;
 *   - at stop, every record handed over is written before the thread ends.
 * Rows older than the retention are deleted by the same thread, at start
 * and every SN_AUDIT_PURGE_EVERY_MS, SN_AUDIT_PURGE_BATCH rows a
 * transaction. The same thread indexes batch rows' items by number after
 * the rows (sn_store_audit_index, store/audit.h): whenever nothing was
 * written for SN_AUDIT_INDEX_IDLE_MS, else in turns at least
 * SN_AUDIT_INDEX_GAP_MS apart that leave it at most
 * 1/SN_AUDIT_INDEX_SHARE of the time while the buffer is under a quarter
 * full, never while a write's answer waits.
 */
#ifndef SN_AUDIT_H
#define SN_AUDIT_H

#include "core/date.h"
#include "core/number.h"
#include "crypto/secret.h"
#include "store/audit.h"
#include "util/strbuf.h"

#include <stddef.h>
#include <stdint.h>

#define SN_AUDIT_BUFFER_DEFAULT 262144 /* records waiting at most (serve --audit-buffer) */
#define SN_AUDIT_BUFFER_MAX 16777216
#define SN_AUDIT_BATCH_RECORDS 8192 /* records written in one transaction at most */
#define SN_AUDIT_GROUP_MS 50 /* a write waits this long for more records (not a held answer) */
#define SN_AUDIT_GROUP_RECORDS 4096 /* ...unless this many wait (at most half the buffer) */
#define SN_AUDIT_INDEX_SHARE 10     /* under load the batch-item indexer gets 1/10 of the time */
#define SN_AUDIT_INDEX_IDLE_MS 100  /* ...all of it once nothing was written for this long */
#define SN_AUDIT_INDEX_GAP_MS 100   /* ...its turns under load this far apart at least */
#define SN_AUDIT_RETRY_MS 1000      /* wait before a failed write is tried again */
#define SN_AUDIT_LOG_EVERY_MS 10000 /* back-pressure and failures logged at most this often */
#define SN_AUDIT_PURGE_EVERY_MS 3600000 /* the retention purge runs hourly (and at start) */
#define SN_AUDIT_PURGE_BATCH 10000      /* rows one purge transaction deletes at most */
#define SN_AUDIT_RETENTION_DEFAULT 180  /* days (serve --audit-retention-days; 0 keeps all) */
#define SN_AUDIT_RETENTION_MAX 36500
#define SN_AUDIT_WHO_MAX 140    /* bytes of who asked: "12" (key id), an OAuth client */
#define SN_AUDIT_REQUEST_MAX 64 /* bytes of the x-correlator kept (longer is cut) */
#define SN_AUDIT_APP_MAX 80     /* bytes of an app's name kept (SN_APP_NAME_MAX and its NUL) */

/* One question of a batch: the number (has_number 0: asked by digest or
 * unreadable), the day asked (SN_DAY_NONE), the verdict (-1: an error; -2:
 * no check, an item of a write such as a binding, answered as its request). */
typedef struct {
    sn_number number;
    sn_day day;
    int8_t verdict;
    uint8_t has_number;
} sn_audit_item;

/* What a request's answer records. Strings are copied; route, method,
 * who_kind and answer must be static. */
typedef struct {
    int64_t at_ms; /* Unix milliseconds of the answer */
    const char *route, *method;
    int status;
    const char *who_kind; /* "app", "carrier", "admin", "oauth", "session", "none" */
    char who[SN_AUDIT_WHO_MAX];
    char app[SN_AUDIT_APP_MAX];
    int has_number;
    sn_number number;
    sn_day day;
    int verdict;        /* sn_verdict, or -1 */
    const char *answer; /* NULL: the verdict's name, else "ok" or "error" by status */
    char request[SN_AUDIT_REQUEST_MAX + 1];
    const sn_audit_item *items; /* a batch's, copied */
    uint32_t nitems;
    void (*done)(void *arg); /* NULL, or called on the audit thread once committed */
    void *arg;
} sn_audit_record;

typedef struct {
    const char *db;          /* the store (its own handle) */
    const sn_secret *secret; /* numbers' keyed hashes; NULL: numbers are not recorded */
    uint32_t retention_days; /* 0: kept */
    uint32_t buffer;         /* records waiting at most */
    int tz_minutes;          /* the day of the usage counters */
} sn_audit_options;

/* Start the trail's thread (sn_audit_on() is then 1). */
int sn_audit_start(const sn_audit_options *o, char *err, size_t errlen);

/* Write every record handed over, then stop; accepts no trail. */
void sn_audit_stop(void);

int sn_audit_on(void);

/* Hand r over (copied); may wait for room (back-pressure). */
void sn_audit_add(const sn_audit_record *r);

/* A write's own record (no items, no verdict, no done) as a row of the
 * transaction open on s, the write's: the row commits or rolls back with
 * what it records, so its answer need not wait for the trail's thread
 * (and on SQLite no second transaction takes the write lock for it).
 * SN_OK without writing when the trail is off; the store's failure
 * otherwise (the caller rolls back). */
int sn_audit_write_in_tx(sn_store *s, const sn_audit_record *r, char *err, size_t errlen);

/* n records written by sn_audit_write_in_tx were committed (the counters). */
void sn_audit_written_in_tx(size_t n);

/* The trail's counters in the Prometheus text format (nothing when off). */
void sn_audit_metrics(sn_strbuf *out);

/* A number in the trail is kept as SipHash-2-4 (libsodium
 * crypto_shorthash, 8 bytes) of its 8 bytes (little-endian) under a key
 * derived from the deployment secret (BLAKE2b keyed by it, sn_number_hash
 * with the label "secondnum-audit-key"). A keyed PRF like the BLAKE2b
 * hashes of crypto/secret.h, about 40 times cheaper (23 ns against 1 us
 * measured here), and 8 bytes a batch item instead of 16: what batch
 * checks at millions of numbers a second need. 64 bits: a filter by one
 * number matches another number's record with a chance of 2^-64 each. */
#define SN_AUDIT_KEY_LEN 16

/* The key of the trail's number hashes. */
void sn_audit_hash_key(const sn_secret *secret, uint8_t key[SN_AUDIT_KEY_LEN]);

/* The trail's hash of n under key. */
void sn_audit_hash(const uint8_t key[SN_AUDIT_KEY_LEN], sn_number n,
                   uint8_t out[SN_AUDIT_HASH_LEN]);

/* Both at once (what exports filter on). */
void sn_audit_number_hash(const sn_secret *secret, sn_number n, uint8_t out[SN_AUDIT_HASH_LEN]);

#endif

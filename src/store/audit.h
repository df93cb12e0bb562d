/*
 * audit.h - the audit trail's rows and the checks counted per day, app and
 * verdict (the usage apps are billed on).
 *
 * A row is one answered request: when (Unix milliseconds), the route's
 * pattern and method, the status, who asked (the kind: app, carrier,
 * admin, oauth, session or none; the key's id, the OAuth client or the
 * session's marker; the app's name), the number asked as a keyed hash
 * (never in clear), the day asked, the answer (a verdict, or ok/error) and
 * the request's x-correlator. A batch check's items are packed into the
 * row's item_data (SN_AUDIT_ITEM_BYTES each: the number's keyed hash, the
 * day, the verdict), one record per item when exported. Rows are only
 * added and purged (oldest first); audit_usage is only added to.
 *
 * A batch row's items that carry a number are also unpacked into
 * audit_items (number hash, time, the row's id, check or binding), and
 * purged with it: what lets a subscriber's "who checked my number"
 * (sn_store_audit_inquiries) read one number's batch items through an
 * index instead of scanning every batch of the period (at national scale,
 * months of batch checks: billions of packed items a question). They are
 * unpacked after the row, not in its transaction: the row's transaction
 * adds its id to audit_pending, and sn_store_audit_index (the trail's
 * thread, when few records wait) moves the oldest pending rows' items into
 * audit_items, each row and its removal from audit_pending in one
 * transaction. An index row per item costs about four times the packed
 * row (random places in a B-tree); unpacking them in the row's transaction
 * held batch checks to a tenth of their rate. Invariant: a batch row is in
 * audit_pending or has its items in audit_items (or both, inside the
 * indexer's transaction only); an inquiry reads the pending rows whole, so
 * its answer does not depend on how far the indexer got.
 *
 * A group row holds single check records of one app, route, key and
 * status, answered within one second, written together by the trail (a
 * row per check cost its thread about as much as the check itself): its
 * item_data is theirs, one item each, as a batch's, and item_meta (NULL
 * in every other row) gives each record its own time, at + an offset in
 * milliseconds, and x-correlator: SN_AUDIT_META_FIXED bytes (the offset,
 * 2 bytes little-endian, below 1000; the correlator's length, 1 byte),
 * then the correlator. A group row is one record per item when exported
 * and counted, is indexed by number like a batch (audit_pending), and has
 * no number_hash, answer, request or day of its own.
 */
#ifndef SN_STORE_AUDIT_H
#define SN_STORE_AUDIT_H

#include "core/date.h"
#include "store/store.h"

#include <stdint.h>

#define SN_AUDIT_HASH_LEN 8      /* bytes of a number's keyed hash in the trail */
#define SN_AUDIT_ITEM_BYTES 13   /* hash (8), day (4, little-endian), verdict (1) */
#define SN_AUDIT_NO_VERDICT 0xff /* an item answered with an error */
#define SN_AUDIT_NOT_CHECK 0xfe  /* an item of a write (a binding): the request's answer */
#define SN_AUDIT_TEXT_MAX 160    /* bytes of the longest text column kept (longer is cut) */
#define SN_AUDIT_META_FIXED 3    /* a group record's meta before its correlator */

typedef struct {
    int64_t id;
    int64_t at; /* Unix milliseconds */
    int status;
    sn_day day; /* asked; SN_DAY_NONE when none */
    uint32_t items;
    char route[SN_AUDIT_TEXT_MAX];
    char method[16];
    char who_kind[16];
    char who[SN_AUDIT_TEXT_MAX];
    char app[SN_AUDIT_TEXT_MAX];
    char answer[32];
    char request[SN_AUDIT_TEXT_MAX];
    int has_number;
    uint8_t number_hash[SN_AUDIT_HASH_LEN];
    const uint8_t *item_data; /* items * SN_AUDIT_ITEM_BYTES; valid during the call */
    const uint8_t *item_meta; /* a group row's (NULL: not one); valid during the call */
    size_t item_meta_len;
} sn_audit_row;

/* A group record's own time offset and x-correlator, read from meta at
 * *pos (moved past them): 1, or 0 when meta ends or is damaged there. */
int sn_audit_meta_read(const uint8_t *meta, size_t len, size_t *pos, uint32_t *offset_ms,
                       const char **request, size_t *request_len);

/* Add r (its id is the store's) in the open transaction. *pending (may be
 * NULL) is 1 when the row waits in audit_pending to have its items indexed
 * (an app's answered batch, whose items "who checked my number" may list),
 * else 0. */
int sn_store_audit_add(sn_store *s, const sn_audit_row *r, int *pending, char *err, size_t errlen);

/* The verdicts counted apart: sn_verdict's order (unknown, unchanged,
 * disconnected, reassigned). */
#define SN_AUDIT_VERDICTS 4

/* Add counts[] to app's checks of day. */
int sn_store_audit_usage_add(sn_store *s, sn_day day, const char *app,
                             const uint64_t counts[SN_AUDIT_VERDICTS], char *err, size_t errlen);

/* Delete at most max rows older than before (Unix ms), oldest first;
 * *purged gets how many. */
int sn_store_audit_purge(sn_store *s, int64_t before, uint32_t max, uint64_t *purged, char *err,
                         size_t errlen);

#define SN_AUDIT_INDEX_ROWS 1024   /* pending rows one indexer transaction takes at most */
#define SN_AUDIT_INDEX_ITEMS 16384 /* ...and numbers (one row alone may have more) */

/* Index the numbers of the oldest pending rows, at most max of them (up to
 * SN_AUDIT_INDEX_ROWS) and SN_AUDIT_INDEX_ITEMS numbers (a batch row's
 * items sorted), into audit_items, in one transaction; *rows gets how
 * many rows it took (0: none was pending). */
int sn_store_audit_index(sn_store *s, uint32_t max, uint64_t *rows, char *err, size_t errlen);

/* The batch rows still pending. */
int sn_store_audit_unindexed(sn_store *s, uint64_t *rows, char *err, size_t errlen);

/* What a row tells about one number: an app checked it, or bound (or
 * unbound) an account to it. */
enum { SN_AUDIT_KIND_CHECK = 0, SN_AUDIT_KIND_BINDING = 1 };

/* One app's question about a number: when (Unix ms), the row's id, the
 * app's display name (else its name), SN_AUDIT_KIND_*. */
typedef struct {
    int64_t at, id;
    char app[SN_AUDIT_TEXT_MAX];
    int kind;
} sn_audit_inquiry;

typedef int (*sn_audit_inquiry_fn)(void *ctx, const sn_audit_inquiry *q);

/* The successful answers to apps about the number whose trail hash is
 * hash, single rows and batch items, with at >= since (Unix ms) and row id
 * below `before`, in descending id order (the trail's order: newest
 * first), at most limit, to fn. */
int sn_store_audit_inquiries(sn_store *s, const uint8_t hash[SN_AUDIT_HASH_LEN], int64_t since,
                             int64_t before, uint32_t limit, sn_audit_inquiry_fn fn, void *ctx,
                             char *err, size_t errlen);

typedef int (*sn_audit_row_fn)(void *ctx, const sn_audit_row *r);

/* Rows with from <= at < to (Unix ms), of app when not NULL, with id >
 * after, in id order, at most limit of them, to fn (non-zero stops). */
int sn_store_audit_list(sn_store *s, int64_t from, int64_t to, const char *app, int64_t after,
                        uint32_t limit, sn_audit_row_fn fn, void *ctx, char *err, size_t errlen);

/* Records (a row's own, or a group row's each) and batch items with
 * from <= at < to. */
int sn_store_audit_count(sn_store *s, int64_t from, int64_t to, uint64_t *records, uint64_t *items,
                         char *err, size_t errlen);

typedef struct {
    sn_day day;
    char app[SN_AUDIT_TEXT_MAX];
    uint64_t counts[SN_AUDIT_VERDICTS];
} sn_audit_usage;

typedef int (*sn_audit_usage_fn)(void *ctx, const sn_audit_usage *u);

/* Each day from..to (inclusive) and app (all when NULL) with checks, in
 * day then app order, to fn. */
int sn_store_audit_usage(sn_store *s, sn_day from, sn_day to, const char *app, sn_audit_usage_fn fn,
                         void *ctx, char *err, size_t errlen);

#endif

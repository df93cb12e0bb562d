/*
 * deliveries.h - the durable retry queue of webhook deliveries: one per
 * notice of an app with a webhook, pending until delivered or dead.
 */
#ifndef SN_STORE_DELIVERIES_H
#define SN_STORE_DELIVERIES_H

#include "store/apps.h"
#include "store/notices.h"

typedef enum {
    SN_DELIVERY_PENDING = 0,
    SN_DELIVERY_DELIVERED = 1,
    SN_DELIVERY_DEAD = 2
} sn_delivery_state;

typedef struct sn_delivery {
    uint64_t notice;
    uint32_t app;
    sn_number number;
    uint8_t state; /* sn_delivery_state */
    uint32_t attempts;
    int64_t first_at_ms; /* first attempt, 0 before it */
    int64_t next_at_ms;
    char last_error[SN_DELIVERY_ERROR_MAX + 1];
    char app_name[SN_APP_NAME_MAX + 1]; /* filled by list */
    /* Filled by due_deliveries: another handle (another serve node) holds
     * this delivery's claim, so this one must skip it for now. */
    uint8_t claimed_elsewhere;
} sn_delivery;

/* Which due deliveries to fetch. */
typedef struct {
    int64_t now_ms;
    int64_t after_at_ms; /* the cursor (next_at, notice) */
    uint64_t after_notice;
    uint32_t part, nparts; /* only numbers with number % nparts == part */
    uint32_t limit;
} sn_due_query;

typedef int (*sn_due_fn)(void *ctx, const sn_delivery *d, const sn_notice *n, const sn_app *app);
typedef int (*sn_delivery_fn)(void *ctx, const sn_delivery *d);

/* Pending deliveries due at q->now_ms whose app has a webhook and that have
 * no earlier pending delivery for the same app and number (so deliveries
 * keep their order per number), in (next_at_ms, notice) order after the
 * cursor, only one delivery worker's share, at most q->limit. fn gets the
 * delivery, its notice and the app (url and secret).
 * Claims (several serve nodes on one server store): each delivery handed to
 * fn is claimed by this handle until its outcome is written by
 * update_delivery and committed, or the handle's connection ends (a node
 * that dies releases its claims at once); a delivery claimed by another
 * handle comes with claimed_elsewhere set and must not be sent. A claimed
 * delivery is not handed out again on this handle. SQLite (one node) never
 * sets claimed_elsewhere. */
int sn_store_due_deliveries(sn_store *s, const sn_due_query *q, sn_due_fn fn, void *ctx, char *err,
                            size_t errlen);

/* Write a delivery's state, attempts, times and error. */
int sn_store_update_delivery(sn_store *s, const sn_delivery *d, char *err, size_t errlen);

/* Deliveries of app (0: all) in the given state, notice id order. */
int sn_store_list_deliveries(sn_store *s, uint32_t app, int state, uint64_t after, uint32_t limit,
                             sn_delivery_fn fn, void *ctx, char *err, size_t errlen);

/* Deliveries of app per state (counts[SN_DELIVERY_PENDING..DEAD]). */
int sn_store_delivery_counts(sn_store *s, uint32_t app, uint64_t counts[3], char *err,
                             size_t errlen);

/* Deliveries of every app: pending, pending after a failed attempt, and
 * dead (for the metrics; reads the whole table). */
int sn_store_delivery_totals(sn_store *s, uint64_t totals[3], char *err, size_t errlen);

/* The earliest next_at_ms of a pending delivery of an app with a webhook
 * (0 when none). */
int sn_store_next_delivery(sn_store *s, int64_t *at_ms, char *err, size_t errlen);

#endif

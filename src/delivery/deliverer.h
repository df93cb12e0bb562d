/*
 * deliverer.h - the webhook delivery thread.
 *
 * Deliveries are split between worker threads by number (n % workers), so
 * one worker owns every delivery of a number and keeps their order; each
 * worker is what the rest of this comment describes.
 *
 * Pending deliveries live in the store (deliveries table), so nothing is
 * lost when the process dies: a delivery in flight at a crash is simply
 * still pending and is sent again (at least once; the notice id lets the
 * receiver drop a repeat). The thread owns its own store handle and a
 * libcurl multi handle, keeps up to max_in_flight POSTs going at once over
 * reused connections, and writes outcomes back in batches (one transaction
 * per batch). A delivery stays "in flight" in memory until its outcome is
 * committed, so it is never fetched twice, and the next notice for the same
 * app and number only becomes due after that commit: order per number holds.
 * Failures retry with exponential backoff and jitter (core/notice.h) until
 * retry_budget_ms has passed since the first attempt; then the delivery is
 * dead (visible to the app and to admins).
 *
 * Where a delivery may go and what its failure tells the app are
 * webhook.h's rules: every address is checked before a socket is opened
 * for it (CURLOPT_OPENSOCKETFUNCTION), and last_error is one of the
 * SN_DELIVERY_ERR_* sentences or an HTTP status class. The app's secret is
 * opened (webhook.h) for each delivery and wiped once the body is signed.
 *
 * Several serve nodes on one PostgreSQL store: every node runs deliverers;
 * the store hands each due delivery to one of them at a time (a claim held
 * by that node's connection until the outcome is committed) and marks the
 * others' as claimed elsewhere. A node that dies drops its connection and
 * with it its claims, and another node's next pass (within ELSEWHERE_MS of
 * seeing them, or the idle poll) sends them.
 */
#ifndef SN_DELIVERER_H
#define SN_DELIVERER_H

#include "crypto/secret.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sn_deliverer sn_deliverer;

typedef struct {
    int64_t retry_budget_ms; /* default 24 h */
    int64_t retry_base_ms;   /* first backoff, default 1 s */
    int64_t retry_max_ms;    /* longest backoff, default 1 h */
    long timeout_ms;         /* one attempt, default 10 s */
    unsigned max_in_flight;  /* concurrent POSTs per worker, default 128 */
    unsigned workers;        /* delivery threads, default 2 */
    const sn_secret *secret; /* opens the apps' sealed secrets (the caller's, outlives us) */
    int allow_private;       /* deliver to non-public addresses too (default 0) */
} sn_deliverer_options;

/* The defaults above. */
void sn_deliverer_defaults(sn_deliverer_options *o);

/* Start the thread on its own handle of the store at db. */
int sn_deliverer_start(const char *db, const sn_deliverer_options *o, sn_deliverer **out, char *err,
                       size_t errlen);

/* New deliveries were committed: look now rather than at the next poll.
 * Thread-safe; accepts NULL. */
void sn_deliverer_wake(sn_deliverer *d);

/* Stop: transfers in flight are abandoned (they stay pending in the store),
 * outcomes already known are written, the store is closed. Accepts NULL. */
void sn_deliverer_stop(sn_deliverer *d);

#endif

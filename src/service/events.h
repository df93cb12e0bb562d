/*
 * events.h - applying carrier events: the one path every event takes,
 * from the live feed (POST /v1/events) and from feed files (import).
 *
 * A batch is applied in one transaction through the ledger (ledger.h):
 * every valid event is logged and every affected number's state rewritten,
 * or nothing is (on a store failure). Around each event:
 *   - the carrier's ranges (when the batch enforces them): a carrier may
 *     report only numbers in its ranges or ported to it (SN_EPERM);
 *   - the reissue guard: an activation that would start a new tenure is
 *     held (SN_EHELD) while the number has open number_cancelled notices
 *     before their deadline, unless the event is forced (SN_LOG_FORCED,
 *     recorded in the log);
 *   - notices: the ones core/notice.h calls for are issued in the same
 *     transaction, with a pending delivery for each app with a webhook, so
 *     a committed cancellation always has its notices and a rolled-back
 *     one has none.
 * After the commit the deliverer is woken, and on the live path the
 * changed states go into the serving index (through the follower, which
 * never lets an older state of a number replace a newer one) before the
 * answer: a check right after an events answer sees the events.
 * Live batches waiting together are committed in one transaction (one
 * fsync for many requests); if that fails, each runs alone, so a batch
 * still applies whole or not at all.
 */
#ifndef SN_EVENTS_H
#define SN_EVENTS_H

#include "audit/audit.h"
#include "core/errors.h"
#include "follow/follower.h"
#include "ledger/ledger.h"
#include "service/service.h"
#include "service/writer.h"

#define SN_EVENTS_MAX_RANGES 256 /* ranges of one carrier read per batch */
/* Events of one number in one live request (POST /v1/events): a day's
 * changes to a number are a handful; the bound keeps any one request from
 * writing a long history onto a number. */
#define SN_EVENTS_PER_NUMBER_MAX 64

typedef struct sn_events_batch sn_events_batch;

struct sn_events_batch {
    /* in */
    sn_log_event *items; /* the valid events, in input order (they are reordered); the caller's */
    size_t n;
    uint32_t carrier; /* the reporting carrier */
    int ranges;       /* enforce the carrier's ranges */
    /* NULL, or the request's audit record as its success answer will be:
     * written in the batch's transaction (sn_audit_write_in_tx), so it
     * commits with the events or not at all; the caller's */
    const sn_audit_record *audit;
    /* out: counts and rejects accumulate here (parse rejects may be in it
     * before); rc is SN_OK, or why nothing was applied (SN_EUNAVAILABLE
     * when the database cannot be reached) with message */
    sn_ledger_report rep;
    int rc;
    char message[SN_ERRMSG_MAX];
    size_t issued; /* notices */
    int audited;   /* audit was committed with the events */
    /* the service's own */
    struct {
        const sn_service *svc;
        sn_job job;
        void (*done)(sn_events_batch *b, void *ctx);
        void *ctx;
        sn_ledger_report before;  /* rep before the transaction */
        sn_number_state *changed; /* what the transaction changed, for the index */
        size_t nchanged;
        sn_follow_mark mark; /* the follower before the transaction */
        /* its transaction's change numbers (log.h), for the follower and
         * the snapshot; used from the last batch of a transaction several
         * batches shared */
        sn_store_commit_changes changes;
        int last_of_tx;
        char ranges[SN_EVENTS_MAX_RANGES][SN_PREFIX_MAX + 1];
        size_t nranges;
        int64_t now, now_ms;
    } own;
};

/* Does a live request keep to SN_EVENTS_PER_NUMBER_MAX events per number?
 * SN_OK, or SN_ELIMIT naming the number's first event over it (its index). */
int sn_events_check_request(const sn_log_event *items, size_t n, char *why, size_t len);

/* Apply b in one transaction of its own (an import's chunk). SN_OK or the
 * store's failure (nothing applied; b->rep as before). The serving index is
 * not touched. */
int sn_events_apply(const sn_service *svc, sn_store *s, sn_events_batch *b, char *err,
                    size_t errlen);

/* Apply b inside a transaction the caller opened (sn_store_begin), as one
 * part of a larger one (an import's batch bigger than its chunk). On a
 * failure the caller rolls back and restores b->rep (sn_ledger_restore);
 * notices issued are delivered by the next deliverer wake. */
int sn_events_apply_part(const sn_service *svc, sn_store *s, sn_events_batch *b, char *err,
                         size_t errlen);

/* The live path: queue b for the writer, then put what it committed into
 * the serving index and call done(b, ctx) on the publisher thread (b->rc
 * says how it went). SN_EUNAVAILABLE when the writer's queue is full: then
 * nothing was queued and done is not called. */
int sn_events_submit(const sn_service *svc, sn_events_batch *b,
                     void (*done)(sn_events_batch *b, void *ctx), void *ctx);

/* What b owns (rejects, the changed states); accepts a zeroed batch. */
void sn_events_free(sn_events_batch *b);

#endif

/*
 * ledger.h - applying carrier events to the store: the one place where a
 * batch is deduplicated, checked against the timeline rules and committed.
 *
 * A batch is applied in one transaction: every valid event is logged and
 * every affected number's state rewritten, or nothing is (on a store
 * failure). Invalid events are rejected one by one with their position and
 * reason and never stop the batch. Events are applied per number in time
 * order (ties in input order), whatever order the caller gives them in.
 *
 * An event identical to a logged one (same number, kind and time, and the
 * same event id when both have one) is counted as a duplicate and changes
 * nothing, so replaying an interrupted feed finishes it without applying
 * anything twice. Only events no newer than the number's latest event can be
 * duplicates, so the log is consulted only for those.
 */
#ifndef SN_LEDGER_H
#define SN_LEDGER_H

#include "store/log.h"

typedef struct {
    uint32_t index; /* the event's position in the caller's input */
    int code;       /* SN_E* */
    char *reason;   /* owned by the report */
    sn_event ev;    /* the rejected event when it was parsed (ev.kind != 0) */
} sn_reject;

/* Outcome of one or more batches; counts accumulate across calls. */
typedef struct {
    size_t applied;
    size_t duplicates;
    sn_reject *rejects;
    size_t nrejects;
    size_t cap;
} sn_ledger_report;

/* Called once after a successful commit with every state the batch changed,
 * so a serving index can follow the store without ever running ahead of it. */
typedef void (*sn_ledger_observer)(void *ctx, const sn_number_state *states, size_t n);

/* Optional hooks around each event, inside the batch's transaction.
 * allow (may be NULL) runs before an event is applied, with the number's
 * state at that point: SN_OK to go on, or a code (SN_EPERM, SN_EHELD) and a
 * reason to reject the event. applied (may be NULL) runs after an event was
 * logged, with the state before and after it (notices are issued there); a
 * failure fails the batch. */
typedef struct {
    int (*allow)(void *ctx, const sn_number_state *st, const sn_log_event *e, char *why,
                 size_t len);
    void *ctx;
    int (*applied)(void *ctx, sn_store *s, const sn_number_state *before,
                   const sn_number_state *after, const sn_log_event *e, char *err, size_t errlen);
} sn_ledger_guard;

/* Record a rejection (used by the ledger and by input parsers alike); ev is
 * the parsed event or NULL when the input did not parse. */
int sn_ledger_reject(sn_ledger_report *rep, uint32_t index, int code, const char *reason,
                     const sn_event *ev);

/* Sort rejects by input position. */
void sn_ledger_sort_rejects(sn_ledger_report *rep);

/* Undo what happened to rep since the copy `before` was taken (for a
 * transaction rolled back). */
void sn_ledger_restore(sn_ledger_report *rep, const sn_ledger_report *before);

/* Free what the report owns and zero it; accepts a zeroed report. */
void sn_ledger_report_free(sn_ledger_report *rep);

/* Apply items[0..n) as one transaction (guard may be NULL). items come in input order (index
 * increasing) or already sorted; they are reordered in place.
 * On SN_OK the batch is committed and rep counts it. On a store failure
 * (SN_ESTORE, SN_ENOMEM) nothing is applied and rep is as before the call. */
int sn_ledger_apply(sn_store *s, sn_log_event *items, size_t n, sn_ledger_report *rep,
                    const sn_ledger_guard *guard, sn_ledger_observer observe, void *ctx, char *err,
                    size_t errlen);

/* The body of sn_ledger_apply for a caller that runs the transaction itself
 * (the server commits several requests at once): items must already be
 * sorted (sn_ledger_sort); every state the batch changes is appended to
 * changed[*nchanged...] (room for n more). No begin, commit or observer. On a
 * store failure the caller rolls back and restores rep. */
int sn_ledger_apply_in_tx(sn_store *s, const sn_log_event *items, size_t n, sn_ledger_report *rep,
                          const sn_ledger_guard *guard, sn_number_state *changed, size_t *nchanged,
                          char *err, size_t errlen);

/* Order of application: number, then time, then input position. */
int sn_ledger_event_cmp(const void *a, const void *b);

/* The order of application of items (given in input order, index
 * increasing): sets *sorted to a new array (the caller frees it) holding the
 * events sorted, or to NULL when items are already in order. Large batches
 * are sorted through compact keys with a radix sort and one gather.
 * SN_OK, SN_ENOMEM or SN_ELIMIT (more than 2^32 events). */
int sn_ledger_sort(const sn_log_event *items, size_t n, sn_log_event **sorted);

/* The id6 the carriers reported for n's current tenure: the latest one on
 * its latest activation or any later event (*has is 0 when none). */
int sn_ledger_tenure_id6(sn_store *s, sn_number n, int *has, uint8_t hash[SN_ID6_HASH_LEN],
                         char *err, size_t errlen);

#endif

/*
 * verify.c - proving a store consistent (see verify.h).
 */
#include "service/verify.h"

#include "core/errors.h"
#include "store/log.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    sn_store *store;
    sn_verify_report *r;
    sn_problem_fn problem;
    void *ctx;
    sn_number_state replay;
    char *err;
    size_t errlen;
} verifying;

/* Tell of a problem with number n: "<number>: <what>". */
static void report(verifying *v, sn_number n, const char *what)
{
    char number[SN_NUMBER_TEXT_MAX], sentence[3 * SN_ERRMSG_MAX];
    if (v->problem == NULL)
        return;
    sn_number_format(n, number);
    snprintf(sentence, sizeof(sentence), "%s: %s", number, what);
    v->problem(v->ctx, sentence);
}

static int replay_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    verifying *v = ctx;
    char why[SN_ERRMSG_MAX], what[2 * SN_ERRMSG_MAX];
    v->r->events++;
    if (sn_lifecycle_apply(sn_store_rules(v->store), &v->replay, &e->ev, why, sizeof(why)) !=
        SN_OK) {
        snprintf(what, sizeof(what), "logged event %u does not replay: %s", ordinal, why);
        report(v, e->ev.number, what);
        v->r->replay_errors++;
    }
    return 0;
}

static int same_state(const sn_number_state *a, const sn_number_state *b)
{
    return a->status == b->status && a->first_is_activation == b->first_is_activation &&
           a->tenure == b->tenure && a->carrier == b->carrier && a->events == b->events &&
           a->first_day == b->first_day && a->last_activation_day == b->last_activation_day &&
           a->last_cancel_day == b->last_cancel_day && a->last_at == b->last_at;
}

static int verify_number(void *ctx, const sn_number_state *st)
{
    verifying *v = ctx;
    v->r->numbers++;
    sn_state_init(&v->replay, st->number);
    int rc = sn_store_scan_events(v->store, st->number, replay_event, v, v->err, v->errlen);
    if (rc != SN_OK)
        return rc;
    if (!same_state(&v->replay, st)) {
        char what[SN_ERRMSG_MAX];
        snprintf(what, sizeof(what), "state row differs from the replay of its %u logged events",
                 v->replay.events);
        report(v, st->number, what);
        v->r->mismatches++;
    }
    return 0;
}

int sn_verify(sn_store *s, sn_verify_report *r, sn_problem_fn problem, void *ctx, char *err,
              size_t errlen)
{
    verifying v = {s, r, problem, ctx, {0}, err, errlen};
    memset(r, 0, sizeof(*r));
    int rc = sn_store_integrity(s, err, errlen);
    return rc != SN_OK ? rc : sn_store_scan_states(s, verify_number, &v, err, errlen);
}

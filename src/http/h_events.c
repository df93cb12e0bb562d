/*
 * h_events.c - POST /v1/events: a carrier's live feed.
 *
 * The loop thread parses and validates the body (each invalid event is
 * rejected on its own); the writer thread applies the valid ones in one
 * transaction through the ledger, with a guard that enforces the carrier's
 * ranges; its publisher puts the changed states into the serving index
 * after the commit; the loop thread replies. So the answer is sent only
 * after the commit and the index update, and a check right after it sees
 * the events.
 */
#include "http/http.h"

#include "core/errors.h"
#include "feed/feed.h"
#include "follow/follower.h"
#include "http/flatjson.h"
#include "http/writer.h"
#include "ledger/ledger.h"
#include "notice/deliverer.h"
#include "notice/notifier.h"
#include "store/log.h"
#include "store/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_RANGES 256

typedef struct {
    sn_log_event *items; /* event ids point into the request's pool */
    size_t n;
    sn_ledger_report rep;
    sn_ledger_report before;  /* rep as the loop thread left it (parse rejects) */
    sn_number_state *changed; /* states the transaction changed, for the index */
    size_t nchanged;
    uint32_t carrier;
    sn_numindex *index;
    sn_service *svc;
    sn_follow_mark mark; /* the follower before the transaction (follower.h) */
    sn_notifier notifier;
    char ranges[MAX_RANGES][17];
    size_t nranges;
} events_job;

static const char *reject_code(int code, const sn_reject *r)
{
    switch (code) {
    case SN_ENUMBER: return "INVALID_NUMBER";
    case SN_EDATE: return "INVALID_TIME";
    case SN_EFUTURE: return "FUTURE_TIME";
    case SN_ETRANSITION: return "INVALID_TRANSITION";
    case SN_EAGING: return "MINIMUM_AGING";
    case SN_EORDER: return "OUT_OF_ORDER";
    case SN_EPERM: return "NOT_CARRIER_OF_RECORD";
    case SN_EHELD: return "REISSUE_HELD";
    default: break;
    }
    return strncmp(r->reason, "unknown event", 13) == 0 ? "INVALID_EVENT" : "INVALID_ARGUMENT";
}

/* ---- the carrier's ranges (writer thread) ------------------------------ */

static int collect_range(void *ctx, const sn_range *r)
{
    uint32_t carrier = r->carrier;
    const char *name = r->name, *prefix = r->prefix[0] != '\0' ? r->prefix : NULL;
    events_job *j = ctx;
    (void)name;
    if (carrier == j->carrier && prefix != NULL && j->nranges < MAX_RANGES)
        snprintf(j->ranges[j->nranges++], sizeof(j->ranges[0]), "%s", prefix);
    return 0;
}

static int carrier_may_report(events_job *j, const sn_number_state *st, const sn_log_event *e,
                              char *why, size_t len)
{
    char text[SN_NUMBER_TEXT_MAX];
    if (e->ev.kind == SN_EV_PORT_IN || (st->status != SN_ST_UNSEEN && st->carrier == j->carrier))
        return SN_OK;
    sn_number_format(e->ev.number, text);
    for (size_t i = 0; i < j->nranges; i++)
        if (strncmp(text, j->ranges[i], strlen(j->ranges[i])) == 0)
            return SN_OK;
    return sn_fail(why, len, SN_EPERM, "%s is outside this carrier's ranges and not ported to it",
                   text);
}

/* The guard: the carrier's ranges, then the reissue guard. */
static int events_allow(void *ctx, const sn_number_state *st, const sn_log_event *e, char *why,
                        size_t len)
{
    events_job *j = ctx;
    int rc = carrier_may_report(j, st, e, why, len);
    return rc != SN_OK ? rc : sn_notifier_allow(&j->notifier, st, e, why, len);
}

static int events_applied(void *ctx, sn_store *s, const sn_number_state *before,
                          const sn_number_state *after, const sn_log_event *e, char *err,
                          size_t errlen)
{
    events_job *j = ctx;
    return sn_notifier_applied(&j->notifier, s, before, after, e, err, errlen);
}

/* The ledger's observer (run alone): keep the committed states for publish. */
static void keep_states(void *ctx, const sn_number_state *states, size_t n)
{
    events_job *j = ctx;
    memcpy(j->changed, states, n * sizeof(*states));
    j->nchanged = n;
}

/* After the commit (publisher thread): the states go into the index in step
 * with the follower (other nodes' changes), which never puts an older state
 * over them. */
static void events_publish(sn_write_job *job)
{
    events_job *j = job->data;
    sn_follower_index_own(j->svc->follower, j->index, &j->mark, j->changed, j->nchanged);
}

/* ---- the answer ---------------------------------------------------------- */

static int build_answer(sn_write_job *job, events_job *j)
{
    size_t cap = 96 + j->rep.nrejects * (2 * SN_ERRMSG_MAX + 96), len;
    char *out = malloc(cap);
    if (out == NULL)
        return SN_ENOMEM;
    sn_ledger_sort_rejects(&j->rep);
    len = (size_t)snprintf(out, cap, "{\"applied\":%zu,\"duplicates\":%zu,\"rejected\":[",
                           j->rep.applied, j->rep.duplicates);
    for (size_t i = 0; i < j->rep.nrejects; i++) {
        const sn_reject *r = &j->rep.rejects[i];
        char esc[2 * SN_ERRMSG_MAX];
        size_t e = sn_json_escape(r->reason, strlen(r->reason), esc, sizeof(esc));
        len += (size_t)snprintf(out + len, cap - len, "%s{\"index\":%u,\"code\":\"%s\",\"reason\":\"%.*s\"}",
                                i ? "," : "", r->index, reject_code(r->code, r),
                                (int)(e < sizeof(esc) ? e : sizeof(esc)), esc);
    }
    len += (size_t)snprintf(out + len, cap - len, "]}");
    job->body = out;
    job->body_len = len;
    return SN_OK;
}

static int alloc_changed(events_job *j, char *err, size_t errlen)
{
    if (j->changed == NULL && j->n > 0 && (j->changed = malloc(j->n * sizeof(*j->changed))) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    return SN_OK;
}

static void run_events(sn_write_job *job, sn_store *store)
{
    events_job *j = job->data;
    sn_ledger_guard guard = {events_allow, j, events_applied};
    char err[SN_ERRMSG_MAX];
    j->nranges = 0;
    j->nchanged = 0;
    sn_follower_mark(j->svc->follower, &j->mark);
    sn_notifier_start(&j->notifier, store, j->svc->notice_deadline_s);
    int rc = alloc_changed(j, err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_store_list_ranges(store, collect_range, j, err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_ledger_apply(store, j->items, j->n, &j->rep, &guard, keep_states, j, err,
                             sizeof(err));
    if (rc == SN_OK)
        rc = build_answer(job, j);
    if (rc != SN_OK)
        fprintf(stderr, "secondnum serve: events not applied: %s\n", err);
    else if (j->notifier.issued > 0)
        sn_deliverer_wake(j->svc->deliverer);
    job->status = rc == SN_OK ? 200 : sn_store_reachable(store) ? 500 : 503;
}

/* ---- sharing a transaction with other requests (writer thread) --------- */

static int events_in_tx(sn_write_job *job, sn_store *store, char *err, size_t errlen)
{
    events_job *j = job->data;
    sn_ledger_guard guard = {events_allow, j, events_applied};
    sn_log_event *sorted = NULL;
    int rc;
    j->nchanged = 0;
    j->nranges = 0;
    sn_follower_mark(j->svc->follower, &j->mark); /* before the shared commit */
    sn_notifier_start(&j->notifier, store, j->svc->notice_deadline_s);
    if (j->n == 0)
        return SN_OK;
    if ((rc = sn_store_list_ranges(store, collect_range, j, err, errlen)) != SN_OK)
        return rc;
    if ((rc = sn_ledger_sort(j->items, j->n, &sorted)) != SN_OK)
        return sn_fail(err, errlen, rc, "cannot sort the events");
    if (sorted != NULL) {
        free(j->items);
        j->items = sorted;
    }
    if ((rc = alloc_changed(j, err, errlen)) != SN_OK)
        return rc;
    return sn_ledger_apply_in_tx(store, j->items, j->n, &j->rep, &guard, j->changed, &j->nchanged,
                                 err, errlen);
}

static void events_committed(sn_write_job *job)
{
    events_job *j = job->data;
    if (j->notifier.issued > 0)
        sn_deliverer_wake(j->svc->deliverer);
    job->status = build_answer(job, j) == SN_OK ? 200 : 500;
}

static void events_aborted(sn_write_job *job)
{
    events_job *j = job->data;
    sn_ledger_restore(&j->rep, &j->before);
    j->nchanged = 0;
}

static void events_done(sn_write_job *job)
{
    events_job *j = job->data;
    if (job->busy)
        sn_writer_reply_busy(job->call);
    else if (job->status == 200)
        sn_reply_json(job->call, 200, job->body, job->body_len);
    else if (job->status == 503)
        sn_reply_error(job->call, SN_HTTP_UNAVAILABLE,
                       "the database cannot be reached; nothing was applied; retry later");
    else
        sn_reply_error(job->call, SN_HTTP_INTERNAL, "the store failed; nothing was applied");
    free(job->body);
    free(j->items);
    free(j->changed);
    sn_ledger_report_free(&j->rep);
}

/* ---- parsing (loop thread) ---------------------------------------------- */

enum { E_NUMBER, E_EVENT, E_AT, E_EVENT_ID, E_ID6, E_FORCE, E_COUNT };
static const char *const event_fields[E_COUNT] = {"number", "event", "at",
                                                  "event_id", "id6", "force"};

/* One event's text to a log event; decoded values go to scratch, which must
 * outlive the event (it holds the event id). */
static int event_of(const sn_feed_context *fc, const sn_flat_span *item, char *scratch,
                    size_t scratch_len, sn_log_event *out, char *why, size_t len)
{
    sn_flat_field f[E_COUNT];
    int rc;
    if (*item->start != '{')
        return sn_fail(why, len, SN_EINVAL, "an event must be an object");
    for (int k = 0; k < E_COUNT; k++)
        f[k] = (sn_flat_field){event_fields[k], NULL, 0, k == E_FORCE};
    if ((rc = sn_flatjson_parse(item->start, (size_t)(item->end - item->start), f, E_COUNT, scratch,
                                scratch_len, why, len)) != SN_OK)
        return rc;
    sn_event_fields ef = {f[E_NUMBER].value, f[E_NUMBER].len, f[E_EVENT].value, f[E_EVENT].len,
                          f[E_AT].value,     f[E_AT].len,     f[E_EVENT_ID].value,
                          f[E_EVENT_ID].len, f[E_ID6].value,  f[E_ID6].len};
    if ((rc = sn_feed_event_parse(fc, &ef, out, why, len)) != SN_OK)
        return rc;
    out->flags = f[E_FORCE].value != NULL && f[E_FORCE].value[0] == 't' ? SN_LOG_FORCED : 0;
    return SN_OK;
}

void sn_h_events(sn_call *c)
{
    const char *body = c->req->entity.base;
    size_t body_len = c->req->entity.len, n = 0;
    sn_flat_span *spans = h2o_mem_alloc_pool(&c->req->pool, SN_HTTP_MAX_ITEMS * sizeof(*spans));
    int rc = body == NULL ? SN_EINVAL
                          : sn_flatjson_array(body, body_len, "events", spans, SN_HTTP_MAX_ITEMS,
                                              SN_HTTP_MAX_JSON_DEPTH - 2, &n);
    if (rc != SN_OK || n == 0) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "the body must be {\"events\": [...]} with 1 to %d events, nested at "
                       "most %d deep",
                       SN_HTTP_MAX_ITEMS, SN_HTTP_MAX_JSON_DEPTH);
        return;
    }
    sn_write_job *job = h2o_mem_alloc_pool(&c->req->pool, sizeof(*job));
    events_job *j = h2o_mem_alloc_pool(&c->req->pool, sizeof(*j));
    /* decoded text is never longer than its JSON, plus one NUL per field */
    size_t scratch_len = body_len + n * (E_COUNT + 1), used = 0;
    char *scratch = h2o_mem_alloc_pool(&c->req->pool, scratch_len);
    memset(job, 0, sizeof(*job));
    memset(j, 0, sizeof(*j));
    j->carrier = c->key.carrier;
    j->index = c->svc->index;
    j->svc = c->svc;
    if ((j->items = malloc(n * sizeof(*j->items))) == NULL) {
        sn_reply_error(c, SN_HTTP_INTERNAL, "out of memory");
        return;
    }
    sn_feed_context fc = {&c->svc->rules, (int64_t)time(NULL), c->svc->secret, c->key.carrier};
    for (size_t i = 0; i < n; i++) {
        char why[SN_ERRMSG_MAX];
        size_t room = (size_t)(spans[i].end - spans[i].start) + E_COUNT + 1;
        sn_log_event e;
        int code = event_of(&fc, &spans[i], scratch + used, room, &e, why, sizeof(why));
        used += room;
        if (code != SN_OK) {
            if (sn_ledger_reject(&j->rep, (uint32_t)i, code, why, NULL) != SN_OK)
                break;
            continue;
        }
        e.index = (uint32_t)i;
        j->items[j->n++] = e;
    }
    j->before = j->rep;
    job->data = j;
    job->run = run_events;
    job->done = events_done;
    job->run_in_tx = events_in_tx;
    job->committed = events_committed;
    job->aborted = events_aborted;
    job->publish = events_publish;
    job->weight = j->n;
    sn_writer_submit(c->svc->writer, c, job);
}

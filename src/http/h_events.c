/*
 * h_events.c - POST /v1/events: a carrier's live feed.
 *
 * The loop thread reads the body (each invalid event is rejected on its
 * own, with its position); the events service (events.h) applies the
 * valid ones in one transaction, puts the changed states into the serving
 * index and hands the batch back; the loop thread answers. So the answer
 * is sent only after the commit and the index update, and a check right
 * after it sees the events. With the audit trail on, the success answer's
 * audit row is written in the events' transaction (events.h): it commits
 * with them, and the answer does not wait for the trail's thread.
 */
#include "http/body.h"
#include "http/job.h"
#include "service/events.h"

#include "core/errors.h"
#include "feed/feed.h"
#include "util/clock.h"
#include "util/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The code of a rejected event in the answer. */
static const char *reject_code(int code)
{
    switch (code) {
    case SN_ENUMBER:
        return "INVALID_NUMBER";
    case SN_EDATE:
        return "INVALID_TIME";
    case SN_EFUTURE:
        return "FUTURE_TIME";
    case SN_EEVENT:
        return "INVALID_EVENT";
    case SN_ETRANSITION:
        return "INVALID_TRANSITION";
    case SN_EAGING:
        return "MINIMUM_AGING";
    case SN_EORDER:
        return "OUT_OF_ORDER";
    case SN_EPERM:
        return "NOT_CARRIER_OF_RECORD";
    case SN_EHELD:
        return "REISSUE_HELD";
    case SN_EPORT:
        return "PORT_NOT_AUTHORIZED";
    default:
        return "INVALID_ARGUMENT";
    }
}

static void answer(sn_http_job *j)
{
    sn_events_batch *b = j->data;
    sn_call *c = j->call;
    sn_strbuf out = {0};
    if (b->rc == SN_EUNAVAILABLE) {
        sn_reply_error(c, SN_HTTP_UNAVAILABLE,
                       "the database cannot be reached; nothing was applied; retry later");
    } else if (b->rc != SN_OK) {
        sn_reply_error(c, SN_HTTP_INTERNAL, "the store failed; nothing was applied");
    } else {
        sn_ledger_sort_rejects(&b->rep);
        sn_metrics_count_events(c->who.carrier, b->rep.applied, b->rep.duplicates, b->rep.nrejects);
        sn_strbuf_printf(&out, "{\"applied\":%zu,\"duplicates\":%zu,\"rejected\":[", b->rep.applied,
                         b->rep.duplicates);
        for (size_t i = 0; i < b->rep.nrejects; i++) {
            const sn_reject *r = &b->rep.rejects[i];
            sn_strbuf_printf(&out, "%s{\"index\":%u,\"code\":\"%s\",\"reason\":", i ? "," : "",
                             r->index, reject_code(r->code));
            sn_strbuf_string(&out, r->reason);
            sn_strbuf_printf(&out, "}");
        }
        sn_strbuf_printf(&out, "]}");
        c->audit.written = b->audited; /* its row committed with the events */
        sn_reply_buf(c, 200, &out);
    }
    free(out.s);
    free(b->items);
    sn_events_free(b);
}

static void resume(sn_events_batch *b, void *ctx)
{
    (void)b;
    sn_http_resume(ctx);
}

enum { E_NUMBER, E_EVENT, E_AT, E_EVENT_ID, E_ID6, E_TO, E_FORCE, E_COUNT };

/* One event's text to a log event (its decoded text in the request's pool). */
static int event_of(sn_call *c, const sn_feed_context *fc, const sn_flat_span *item,
                    sn_log_event *out, char *why, size_t len)
{
    sn_flat_field f[E_COUNT] = {{"number", NULL, 0, 0},   {"event", NULL, 0, 0}, {"at", NULL, 0, 0},
                                {"event_id", NULL, 0, 0}, {"id6", NULL, 0, 0},   {"to", NULL, 0, 0},
                                {"force", NULL, 0, 1}};
    char inner[SN_ERRMSG_MAX];
    int rc = sn_body_item(c, item, f, E_COUNT, inner, sizeof(inner));
    if (rc != SN_OK)
        return sn_fail(why, len, rc, "%s%s", *item->start == '{' ? "" : "an event ", inner);
    sn_event_fields ef = {f[E_NUMBER].value,   f[E_NUMBER].len,   f[E_EVENT].value,
                          f[E_EVENT].len,      f[E_AT].value,     f[E_AT].len,
                          f[E_EVENT_ID].value, f[E_EVENT_ID].len, f[E_ID6].value,
                          f[E_ID6].len,        f[E_TO].value,     f[E_TO].len};
    if ((rc = sn_feed_event_parse(fc, &ef, out, why, len)) != SN_OK)
        return rc;
    out->flags = f[E_FORCE].value != NULL && f[E_FORCE].value[0] == 't' ? SN_LOG_FORCED : 0;
    return SN_OK;
}

void sn_h_events(sn_call *c)
{
    sn_flat_span *spans;
    size_t n;
    if (!sn_body_items(c, "events", SN_HTTP_MAX_ITEMS, &spans, &n))
        return;
    sn_events_batch *b = h2o_mem_alloc_pool(&c->req->pool, sizeof(*b));
    memset(b, 0, sizeof(*b));
    b->carrier = c->who.carrier;
    b->ranges = 1;
    if ((b->items = malloc(n * sizeof(*b->items))) == NULL) {
        sn_reply_error(c, SN_HTTP_INTERNAL, "out of memory");
        return;
    }
    sn_feed_context fc = {&c->svc->rules, sn_wall_sec(), c->svc->secret, c->who.carrier};
    for (size_t i = 0; i < n; i++) {
        char why[SN_ERRMSG_MAX];
        sn_log_event e;
        int code = event_of(c, &fc, &spans[i], &e, why, sizeof(why));
        if (code != SN_OK) {
            if (sn_ledger_reject(&b->rep, (uint32_t)i, code, why, NULL) != SN_OK)
                break;
            continue;
        }
        e.index = (uint32_t)i;
        b->items[b->n++] = e;
    }
    char why[SN_ERRMSG_MAX];
    if (sn_events_check_request(b->items, b->n, why, sizeof(why)) != SN_OK) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s; nothing was applied", why);
        free(b->items);
        sn_events_free(b);
        return;
    }
    if (sn_audit_on()) { /* the row of the success answer, written with the events */
        sn_audit_record *r = h2o_mem_alloc_pool(&c->req->pool, sizeof(*r));
        sn_audit_of_call(c, 200, r);
        b->audit = r;
    }
    sn_http_job *j = sn_http_job_new(c, NULL, b);
    j->answer = answer;
    if (sn_events_submit(c->svc, b, resume, j) != SN_OK) {
        sn_http_reply_busy(c);
        free(b->items);
        sn_events_free(b);
    }
}

/*
 * events.c - applying carrier events (see events.h): the guard around each
 * event (the carrier's ranges, the reissue guard), the notices each one
 * issues, one transaction per batch or per group of live batches, the
 * serving index after the commit, and the deliverer's wake-up.
 * Thread-safety: a batch belongs to one thread at a time (the writer, then
 * the publisher); the index and the follower lock themselves.
 */
#include "service/events.h"

#include "store/stats.h"

#include "core/errors.h"
#include "core/notice.h"
#include "delivery/deliverer.h"
#include "service/receipts.h"
#include "service/snapshots.h"
#include "store/keys.h"
#include "store/notices.h"
#include "store/ports.h"
#include "util/log.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- around each event (the ledger's guard) -------------------------------- */

static int collect_range(void *ctx, const sn_range *r)
{
    sn_events_batch *b = ctx;
    if (r->carrier == b->carrier && r->prefix[0] != '\0' && b->own.nranges < SN_EVENTS_MAX_RANGES)
        snprintf(b->own.ranges[b->own.nranges++], sizeof(b->own.ranges[0]), "%s", r->prefix);
    return 0;
}

static int in_own_ranges(const sn_events_batch *b, const sn_log_event *e, char *why, size_t len)
{
    char text[SN_NUMBER_TEXT_MAX];
    sn_number_format(e->ev.number, text);
    for (size_t i = 0; i < b->own.nranges; i++)
        if (strncmp(text, b->own.ranges[i], strlen(b->own.ranges[i])) == 0)
            return SN_OK;
    return sn_fail(why, len, SN_EPERM, "%s is outside this carrier's ranges and not ported to it",
                   text);
}

/* A port_in from a carrier that is not the carrier of record: the carrier
 * of record must have reported port_out to it in the current tenure. */
static int port_authorized(sn_store *s, const sn_events_batch *b, const sn_number_state *st,
                           char *why, size_t len)
{
    char err[SN_ERRMSG_MAX];
    sn_port p;
    int rc = sn_store_port_get(s, st->number, &p, err, sizeof(err));
    if (rc != SN_OK && rc != SN_ENOTFOUND)
        return sn_fail(why, len, rc, "cannot read port authorisations: %s", err);
    if (rc == SN_OK && p.recipient == b->carrier && p.donor == st->carrier &&
        p.tenure == st->tenure)
        return SN_OK;
    return sn_fail(why, len, SN_EPORT,
                   "port not authorised: the carrier of record has not reported port_out to "
                   "this carrier");
}

/* With b->ranges: the carrier of record reports on its number; another
 * carrier only within its ranges, and a port_in only when authorised. */
static int carrier_may_report(sn_store *s, const sn_events_batch *b, const sn_number_state *st,
                              const sn_log_event *e, char *why, size_t len)
{
    if (!b->ranges || (st->status != SN_ST_UNSEEN && st->carrier == b->carrier))
        return SN_OK;
    if (st->status != SN_ST_UNSEEN && e->ev.kind == SN_EV_PORT_IN)
        return port_authorized(s, b, st, why, len);
    if (st->status != SN_ST_UNSEEN && e->ev.kind == SN_EV_PORT_OUT)
        return sn_fail(why, len, SN_EPERM, "only the carrier of record may report port_out");
    return in_own_ranges(b, e, why, len);
}

/* id6 changes only with a new tenure (activate) or an authorised port. */
static int id6_may_change(sn_store *s, const sn_events_batch *b, const sn_number_state *st,
                          const sn_log_event *e, char *why, size_t len)
{
    char err[SN_ERRMSG_MAX];
    uint8_t hash[SN_ID6_HASH_LEN];
    int has = 0;
    if (!b->ranges || !e->has_id6 || st->status == SN_ST_UNSEEN || e->ev.kind == SN_EV_ACTIVATE ||
        (e->ev.kind == SN_EV_PORT_IN && st->carrier != b->carrier))
        return SN_OK;
    if (sn_ledger_tenure_id6(s, e->ev.number, &has, hash, err, sizeof(err)) != SN_OK)
        return sn_fail(why, len, SN_ESTORE, "cannot read the number's id6: %s", err);
    if (!has || sodium_memcmp(hash, e->id6_hash, SN_ID6_HASH_LEN) == 0)
        return SN_OK;
    return sn_fail(why, len, SN_EPORT,
                   "id6 differs from the one on record: it changes only with a new tenure "
                   "(activate) or an authorised port (port_in)");
}

/* The reissue guard. */
static int reissue_allowed(sn_store *s, const sn_events_batch *b, const sn_number_state *st,
                           const sn_log_event *e, char *why, size_t len)
{
    char err[SN_ERRMSG_MAX], until_text[SN_TIME_TEXT_MAX];
    uint32_t apps = 0;
    int64_t until = 0;
    if ((e->flags & SN_LOG_FORCED) || !sn_notice_is_reissue(st, e->ev.kind))
        return SN_OK;
    if (sn_store_open_cancellations(s, e->ev.number, b->own.now, &apps, &until, err, sizeof(err)) !=
        SN_OK)
        return sn_fail(why, len, SN_ESTORE, "cannot read open notices: %s", err);
    if (apps == 0)
        return SN_OK;
    sn_utc_format(until, until_text);
    return sn_fail(why, len, SN_EHELD,
                   "reissue held: %u app%s still ha%s open number_cancelled notices, deadline %s; "
                   "send \"force\": true to reissue anyway",
                   apps, apps == 1 ? "" : "s", apps == 1 ? "s" : "ve", until_text);
}

typedef struct {
    sn_events_batch *b;
    sn_store *s;
    uint32_t recipient; /* of the port_out being applied */
} guard_ctx;

/* A port_out's recipient: a known carrier other than the reporting one. */
static int recipient_of(guard_ctx *g, const sn_log_event *e, char *why, size_t len)
{
    char name[SN_CARRIER_NAME_MAX + 1], err[SN_ERRMSG_MAX];
    snprintf(name, sizeof(name), "%.*s", (int)e->to_len, e->to);
    int rc = sn_store_carrier_id(g->s, name, 0, &g->recipient, err, sizeof(err));
    if (rc == SN_ENOTFOUND)
        return sn_fail(why, len, SN_EINVAL, "port_out to an unknown carrier '%s'", name);
    if (rc != SN_OK)
        return sn_fail(why, len, rc, "cannot read carriers: %s", err);
    if (g->recipient == e->ev.carrier)
        return sn_fail(why, len, SN_EINVAL, "port_out to the reporting carrier itself");
    return SN_OK;
}

static int allow(void *ctx, const sn_number_state *st, const sn_log_event *e, char *why, size_t len)
{
    guard_ctx *g = ctx;
    int rc = carrier_may_report(g->s, g->b, st, e, why, len);
    if (rc == SN_OK)
        rc = id6_may_change(g->s, g->b, st, e, why, len);
    if (rc == SN_OK && e->ev.kind == SN_EV_PORT_OUT)
        rc = recipient_of(g, e, why, len);
    return rc != SN_OK ? rc : reissue_allowed(g->s, g->b, st, e, why, len);
}

/* A port_out records its authorisation; a port_in that moved the number uses it up. */
static int record_port(guard_ctx *g, sn_store *s, const sn_number_state *before,
                       const sn_number_state *after, const sn_log_event *e, char *err,
                       size_t errlen)
{
    if (e->ev.kind == SN_EV_PORT_OUT) {
        sn_port p = {before->carrier, g->recipient, after->tenure, e->ev.at};
        return sn_store_port_authorize(s, e->ev.number, &p, err, errlen);
    }
    if (e->ev.kind == SN_EV_PORT_IN && before->carrier != after->carrier)
        return sn_store_port_clear(s, e->ev.number, err, errlen);
    return SN_OK;
}

/* Issue the notices an applied event calls for. */
static int applied(void *ctx, sn_store *s, const sn_number_state *before,
                   const sn_number_state *after, const sn_log_event *e, char *err, size_t errlen)
{
    sn_events_batch *b = ((guard_ctx *)ctx)->b;
    sn_notice_spec spec;
    size_t issued = 0;
    int rc = record_port(ctx, s, before, after, e, err, errlen);
    if (rc != SN_OK)
        return rc;
    memset(&spec, 0, sizeof(spec));
    spec.kind = (uint8_t)sn_notice_for(before, after, e->ev.kind, &spec.tenure);
    if (spec.kind == SN_NOTICE_NONE)
        return SN_OK;
    spec.number = e->ev.number;
    spec.event = e->ev.kind;
    spec.event_at = e->ev.at;
    spec.created = b->own.now;
    spec.deadline = b->own.now + b->own.svc->notice_deadline_s;
    spec.now_ms = b->own.now_ms;
    rc = sn_store_issue_notices(s, &spec, &issued, err, errlen);
    b->issued += issued;
    return rc;
}

/* ---- a live request's bound ------------------------------------------------------ */

/* What the bound needs of an event: its number and its place in the request. */
typedef struct {
    sn_number number;
    uint32_t index;
} number_at;

static int by_number_then_index(const void *a, const void *b)
{
    const number_at *x = a, *y = b;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int sn_events_check_request(const sn_log_event *items, size_t n, char *why, size_t len)
{
    if (n <= SN_EVENTS_PER_NUMBER_MAX)
        return SN_OK;
    number_at *v = malloc(n * sizeof(*v));
    if (v == NULL)
        return sn_fail(why, len, SN_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = (number_at){items[i].ev.number, items[i].index};
    qsort(v, n, sizeof(*v), by_number_then_index);
    int rc = SN_OK;
    for (size_t i = SN_EVENTS_PER_NUMBER_MAX; i < n && rc == SN_OK; i++)
        if (v[i].number == v[i - SN_EVENTS_PER_NUMBER_MAX].number)
            rc = sn_fail(why, len, SN_ELIMIT,
                         "events[%u]: more than %d events for one number in one request",
                         v[i].index, SN_EVENTS_PER_NUMBER_MAX);
    free(v);
    return rc;
}

/* ---- one batch in a transaction ----------------------------------------------- */

/* Inside the transaction, before the ledger: the clock, the carrier's
 * ranges, the order of application, and room for the changed states. */
static int prepare(sn_store *s, sn_events_batch *b, char *err, size_t errlen)
{
    struct timespec ts;
    sn_log_event *sorted = NULL;
    int rc;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->own.now = ts.tv_sec;
    b->own.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    b->own.before = b->rep;
    b->own.nranges = 0;
    b->own.nchanged = 0;
    b->issued = 0;
    if (b->ranges && (rc = sn_store_list_ranges(s, collect_range, b, err, errlen)) != SN_OK)
        return rc;
    if ((rc = sn_ledger_sort(b->items, b->n, &sorted)) != SN_OK)
        return sn_fail(err, errlen, rc, "cannot sort %zu events", b->n);
    if (sorted != NULL) {
        memcpy(b->items, sorted, b->n * sizeof(*b->items));
        free(sorted);
    }
    if (b->own.changed == NULL && b->n > 0 && b->own.svc->index != NULL &&
        (b->own.changed = malloc(b->n * sizeof(*b->own.changed))) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    return SN_OK;
}

/* Count the activations the guard held in this batch (rejects from
 * `first` on), per day of the event, in the batch's transaction: the
 * dashboard's "held" figure (store/stats.h). */
static int count_held(sn_store *s, const sn_ledger_report *rep, size_t first, char *err,
                      size_t errlen)
{
    int tz = sn_store_rules(s)->tz_minutes, rc = SN_OK;
    for (size_t i = first; i < rep->nrejects && rc == SN_OK; i++)
        if (rep->rejects[i].code == SN_EHELD && rep->rejects[i].ev.kind != 0)
            rc = sn_store_stats_add_held(s, sn_day_of(rep->rejects[i].ev.at, tz), 1, err, errlen);
    return rc;
}

static int apply_in_tx(sn_store *s, sn_events_batch *b, char *err, size_t errlen)
{
    guard_ctx g = {b, s, 0};
    sn_ledger_guard guard = {allow, &g, applied};
    size_t rejects_before = b->rep.nrejects;
    int rc = prepare(s, b, err, errlen);
    if (rc != SN_OK)
        return rc;
    rc = sn_ledger_apply_in_tx(s, b->items, b->n, &b->rep, &guard, b->own.changed, &b->own.nchanged,
                               err, errlen);
    if (rc == SN_OK)
        rc = count_held(s, &b->rep, rejects_before, err, errlen);
    if (rc == SN_OK && b->audit != NULL)
        rc = sn_audit_write_in_tx(s, b->audit, err, errlen);
    return rc;
}

/* The outcome of a transaction for b: the report restored after a failure,
 * the deliverer woken after a commit that issued notices. */
static void conclude(sn_store *s, sn_events_batch *b, int rc, const char *err)
{
    b->rc = rc;
    b->audited = rc == SN_OK && b->audit != NULL;
    if (b->audited)
        sn_audit_written_in_tx(1);
    if (rc != SN_OK) {
        sn_ledger_restore(&b->rep, &b->own.before);
        b->own.nchanged = 0;
        b->issued = 0;
        if (rc == SN_ESTORE && !sn_store_reachable(s))
            b->rc = SN_EUNAVAILABLE;
        snprintf(b->message, sizeof(b->message), "%s", err);
        return;
    }
    if (b->issued > 0)
        sn_deliverer_wake(b->own.svc->deliverer);
}

int sn_events_apply(const sn_service *svc, sn_store *s, sn_events_batch *b, char *err,
                    size_t errlen)
{
    int rc;
    b->own.svc = svc;
    sn_follower_mark(svc->follower, &b->own.mark); /* before the transaction */
    if ((rc = sn_store_begin(s, err, errlen)) == SN_OK &&
        (rc = apply_in_tx(s, b, err, errlen)) == SN_OK)
        rc = sn_store_commit(s, err, errlen);
    if (rc != SN_OK)
        sn_store_rollback(s);
    b->own.changes = (sn_store_commit_changes){0, 0, 0};
    if (rc == SN_OK)
        sn_store_last_commit_changes(s, &b->own.changes);
    b->own.last_of_tx = 1;
    conclude(s, b, rc, err != NULL ? err : "");
    return rc;
}

int sn_events_apply_part(const sn_service *svc, sn_store *s, sn_events_batch *b, char *err,
                         size_t errlen)
{
    b->own.svc = svc;
    return apply_in_tx(s, b, err, errlen);
}

/* ---- the live path ------------------------------------------------------------------ */

static sn_events_batch *batch_of(sn_job *job)
{
    return (sn_events_batch *)((char *)job - offsetof(sn_events_batch, own.job));
}

static void run_one(sn_job *job, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    sn_events_batch *b = batch_of(job);
    if (sn_events_apply(b->own.svc, s, b, err, sizeof(err)) != SN_OK)
        sn_log(SN_LOG_ERROR, "events not applied: %s", err);
}

/* Several live batches in one transaction; when it fails, each alone. */
static void run_many(sn_job **jobs, size_t n, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    size_t i = 0;
    for (size_t k = 0; k < n; k++) { /* before the shared transaction */
        sn_events_batch *b = batch_of(jobs[k]);
        sn_follower_mark(b->own.svc->follower, &b->own.mark);
        b->own.before = b->rep;
    }
    int rc = sn_store_begin(s, err, sizeof(err));
    for (; rc == SN_OK && i < n; i++)
        rc = apply_in_tx(s, batch_of(jobs[i]), err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_store_commit(s, err, sizeof(err));
    if (rc == SN_OK) {
        for (i = 0; i < n; i++) {
            sn_events_batch *b = batch_of(jobs[i]);
            b->own.last_of_tx = i == n - 1; /* published in this order */
            sn_store_last_commit_changes(s, &b->own.changes);
            conclude(s, b, SN_OK, "");
        }
        return;
    }
    sn_store_rollback(s);
    sn_log(SN_LOG_WARN, "a shared transaction failed (%s); applying one by one", err);
    for (i = 0; i < n; i++) {
        sn_events_batch *b = batch_of(jobs[i]);
        sn_ledger_restore(&b->rep, &b->own.before);
        b->own.nchanged = 0;
        run_one(jobs[i], s);
    }
}

/* After the commit: the states go into the index in step with the follower
 * (other nodes' changes), which never puts an older state over them. */
static void publish(sn_job *job)
{
    sn_events_batch *b = batch_of(job);
    if (b->rc == SN_OK && b->own.svc->index != NULL) {
        sn_follower_index_own(b->own.svc->follower, b->own.svc->index, &b->own.mark, b->own.changed,
                              b->own.nchanged, &b->own.changes, b->own.last_of_tx);
        if (b->own.nchanged > 0)
            sn_receipts_committed(b->own.svc->receipts);
    }
    if (b->rc == SN_OK && b->own.last_of_tx) /* its transaction's states are all in now */
        sn_snapshots_indexed(b->own.svc->snapshots, b->own.changes.from, b->own.changes.to);
}

static void finish(sn_job *job)
{
    sn_events_batch *b = batch_of(job);
    b->own.done(b, b->own.ctx);
}

int sn_events_submit(const sn_service *svc, sn_events_batch *b,
                     void (*done)(sn_events_batch *b, void *ctx), void *ctx)
{
    b->own.svc = svc;
    b->own.done = done;
    b->own.ctx = ctx;
    b->own.job = (sn_job){run_one, run_many, publish, finish, b->n, NULL};
    return sn_writer_submit(svc->writer, &b->own.job);
}

void sn_events_free(sn_events_batch *b)
{
    sn_ledger_report_free(&b->rep);
    free(b->own.changed);
    b->own.changed = NULL;
}

/*
 * h_dashboard.c - the dashboard's JSON (GET /v1/admin/stats/...), which
 * the /admin page draws and scripts read alike: numbers by carrier and
 * status, events and reissues per day, notices per app, complaints. Admin
 * keys only (routes.c). Parses the query, calls service/dashboard.h on the
 * writer thread and formats; the figures are the service's.
 */
#include "http/job.h"
#include "service/dashboard.h"

#include "core/complaint.h"
#include "core/errors.h"
#include "util/clock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- numbers ------------------------------------------------------------ */

#define STATUSES 5 /* sn_status: unseen .. pool */

typedef struct {
    sn_strbuf *b;
    char carrier[SN_NAME_MAX + 1];
    uint64_t row[STATUSES], all[STATUSES];
    int any;
} numbers_out;

static void statuses_json(sn_strbuf *b, const uint64_t *counts)
{
    uint64_t total = 0;
    sn_strbuf_printf(b, "\"statuses\":{");
    for (int st = SN_ST_ACTIVE; st < STATUSES; st++) {
        sn_strbuf_printf(b, "%s\"%s\":%llu", st > SN_ST_ACTIVE ? "," : "", sn_status_name(st),
                         (unsigned long long)counts[st]);
        total += counts[st];
    }
    sn_strbuf_printf(b, "},\"total\":%llu", (unsigned long long)total);
}

static void flush_carrier(numbers_out *o)
{
    if (!o->any)
        return;
    sn_strbuf_printf(o->b, "%s{\"carrier\":", o->any > 1 ? "," : "");
    sn_strbuf_string(o->b, o->carrier[0] != '\0' ? o->carrier : NULL);
    sn_strbuf_printf(o->b, ",");
    statuses_json(o->b, o->row);
    sn_strbuf_printf(o->b, "}");
    memset(o->row, 0, sizeof(o->row));
}

static int number_row(void *ctx, const char *carrier, int status, uint64_t count)
{
    numbers_out *o = ctx;
    if (status < SN_ST_ACTIVE || status >= STATUSES)
        return 0;
    if (o->any == 0 || strcmp(o->carrier, carrier) != 0) {
        flush_carrier(o);
        o->any++;
        snprintf(o->carrier, sizeof(o->carrier), "%s", carrier);
    }
    o->row[status] += count;
    o->all[status] += count;
    return 0;
}

int sn_w_stats_numbers(sn_http_job *j, sn_store *s)
{
    numbers_out o;
    memset(&o, 0, sizeof(o));
    o.b = &j->out;
    sn_strbuf_printf(&j->out, "{\"carriers\":[");
    int rc = sn_store_stats_numbers(s, number_row, &o, j->message, sizeof(j->message));
    flush_carrier(&o);
    sn_strbuf_printf(&j->out, "],");
    statuses_json(&j->out, o.all);
    sn_strbuf_printf(&j->out, "}");
    return rc;
}

/* ---- events per day ----------------------------------------------------- */

typedef struct {
    sn_day from, to;
} day_range;

static void day_json(sn_strbuf *b, const sn_dashboard_day *d)
{
    char date[SN_DAY_TEXT_MAX];
    sn_day_format(d->day, date);
    sn_strbuf_printf(b, "{\"date\":\"%s\",\"events\":{", date);
    for (int k = 1; k < SN_EV_COUNT; k++)
        sn_strbuf_printf(b, "%s\"%s\":%llu", k > 1 ? "," : "", sn_event_name(k),
                         (unsigned long long)d->kinds[k]);
    sn_strbuf_printf(b,
                     "},\"forced\":%llu,\"reissues\":%llu,\"reissues_forced\":%llu,"
                     "\"reissues_held\":%llu}",
                     (unsigned long long)d->forced, (unsigned long long)d->reissues,
                     (unsigned long long)d->reissues_forced, (unsigned long long)d->held);
}

static int stats_events(sn_http_job *j, sn_store *s)
{
    day_range *r = j->data;
    size_t n = (size_t)(r->to - r->from + 1);
    sn_dashboard_day *days = h2o_mem_alloc_pool(&j->call->req->pool, n * sizeof(*days));
    char from[SN_DAY_TEXT_MAX], to[SN_DAY_TEXT_MAX];
    int rc = sn_dashboard_events(s, r->from, r->to, days, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_day_format(r->from, from);
    sn_day_format(r->to, to);
    sn_strbuf_printf(&j->out, "{\"from\":\"%s\",\"to\":\"%s\",\"days\":[", from, to);
    for (size_t i = 0; i < n; i++) {
        sn_strbuf_printf(&j->out, "%s", i ? "," : "");
        day_json(&j->out, &days[i]);
    }
    sn_strbuf_printf(&j->out, "]}");
    return SN_OK;
}

/* A day parameter: its day, the default when absent; 0 after a 400. */
static int day_param(sn_call *c, const char *name, sn_day def, sn_day *out)
{
    const char *v = sn_call_param(c, name);
    char err[SN_ERRMSG_MAX];
    *out = def;
    if (v == NULL || sn_day_parse(v, strlen(v), out, err, sizeof(err)) == SN_OK)
        return 1;
    sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s must be a date YYYY-MM-DD", name);
    return 0;
}

void sn_h_stats_events(sn_call *c)
{
    day_range *r = h2o_mem_alloc_pool(&c->req->pool, sizeof(*r));
    sn_day today = sn_day_of(sn_wall_sec(), c->svc->rules.tz_minutes);
    if (!day_param(c, "to", today, &r->to) ||
        !day_param(c, "from", r->to - (SN_DASHBOARD_DAYS_DEFAULT - 1), &r->from))
        return;
    if (r->to < r->from || (int64_t)r->to - r->from + 1 > SN_DASHBOARD_DAYS_MAX)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "from must not be after to, at most %d days",
                       SN_DASHBOARD_DAYS_MAX);
    else
        sn_http_submit(sn_http_job_new(c, stats_events, r));
}

/* ---- notices per app ---------------------------------------------------- */

typedef struct {
    sn_strbuf *b;
    int any;
} apps_out;

static int app_row(void *ctx, const sn_dashboard_app *a)
{
    apps_out *o = ctx;
    sn_strbuf_printf(o->b, "%s{\"app\":", o->any++ ? "," : "");
    sn_strbuf_string(o->b, a->app);
    sn_strbuf_printf(o->b,
                     ",\"issued\":%llu,\"acknowledged\":%llu,\"overdue\":%llu,\"ack_rate\":%.4f,"
                     "\"below_threshold\":%s",
                     (unsigned long long)a->issued, (unsigned long long)a->acked,
                     (unsigned long long)a->overdue, a->ack_rate, a->below ? "true" : "false");
    if (a->has_times)
        sn_strbuf_printf(o->b, ",\"median_ack_seconds\":%lld,\"p95_ack_seconds\":%lld}",
                         (long long)a->median_s, (long long)a->p95_s);
    else
        sn_strbuf_printf(o->b, ",\"median_ack_seconds\":null,\"p95_ack_seconds\":null}");
    return 0;
}

static int stats_notices(sn_http_job *j, sn_store *s)
{
    double threshold = *(double *)j->data;
    apps_out o = {&j->out, 0};
    sn_strbuf_printf(&j->out, "{\"threshold\":%.4f,\"apps\":[", threshold);
    int rc = sn_dashboard_notices(s, sn_wall_sec(), threshold, app_row, &o, j->message,
                                  sizeof(j->message));
    sn_strbuf_printf(&j->out, "]}");
    return rc;
}

void sn_h_stats_notices(sn_call *c)
{
    const char *v = sn_call_param(c, "threshold");
    double *t = h2o_mem_alloc_pool(&c->req->pool, sizeof(*t));
    char *end = NULL;
    *t = SN_DASHBOARD_THRESHOLD_DEFAULT;
    if (v != NULL)
        *t = strtod(v, &end);
    if (v != NULL && (end == v || *end != '\0' || !(*t >= 0 && *t <= 1)))
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "threshold must be a number from 0 to 1");
    else
        sn_http_submit(sn_http_job_new(c, stats_notices, t));
}

/* ---- complaints --------------------------------------------------------- */

static void levels_json(sn_strbuf *b, const char *name, const uint64_t *n)
{
    sn_strbuf_printf(b, ",\"%s\":{\"app\":%llu,\"carrier\":%llu,\"regulator\":%llu}", name,
                     (unsigned long long)n[0], (unsigned long long)n[1], (unsigned long long)n[2]);
}

int sn_w_stats_complaints(sn_http_job *j, sn_store *s)
{
    sn_dashboard_complaints t;
    int rc = sn_dashboard_complaint_stats(s, sn_wall_sec(), &t, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "{\"total\":%llu,\"by_kind\":{", (unsigned long long)t.total);
    for (int k = SN_COMPLAINT_HARASSMENT; k <= SN_COMPLAINT_OTHER; k++)
        sn_strbuf_printf(&j->out, "%s\"%s\":{\"open\":%llu,\"resolved\":%llu}",
                         k > SN_COMPLAINT_HARASSMENT ? "," : "", sn_complaint_kind_name(k),
                         (unsigned long long)t.open[k], (unsigned long long)t.resolved[k]);
    sn_strbuf_printf(&j->out, "}");
    levels_json(&j->out, "open_by_level", t.level);
    levels_json(&j->out, "resolved_by", t.resolved_by);
    sn_strbuf_printf(&j->out,
                     ",\"open_by_deadline\":{\"overdue\":%llu,\"within_day\":%llu,"
                     "\"within_week\":%llu,\"later\":%llu,\"none\":%llu}}",
                     (unsigned long long)t.due[SN_DUE_OVERDUE],
                     (unsigned long long)t.due[SN_DUE_DAY], (unsigned long long)t.due[SN_DUE_WEEK],
                     (unsigned long long)t.due[SN_DUE_LATER],
                     (unsigned long long)t.due[SN_DUE_NONE]);
    return SN_OK;
}

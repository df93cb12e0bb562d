/*
 * dashboard.c - the dashboard's figures (dashboard.h) from the store's
 * aggregates (store/stats.h). Invariants: the per-day figures cover exactly
 * the days asked (a day without events is there with zeros); an app's
 * percentiles are picked from its times in ascending order at the ranks
 * its acknowledged count gives.
 */
#include "service/dashboard.h"

#include "core/errors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_SECONDS 86400

uint64_t sn_dashboard_rank(uint64_t n, double p)
{
    double r = ceil(p * (double)n);
    return r < 1 ? 0 : (uint64_t)r - 1;
}

/* ---- per day ------------------------------------------------------------ */

typedef struct {
    sn_day from, to;
    sn_dashboard_day *days;
} day_span;

static int add_events(void *ctx, sn_day day, int kind, uint64_t count, uint64_t forced)
{
    day_span *d = ctx;
    if (day < d->from || day > d->to || kind <= 0 || kind >= SN_EV_COUNT)
        return 0;
    d->days[day - d->from].kinds[kind] += count;
    d->days[day - d->from].forced += forced;
    return 0;
}

static int add_reissues(void *ctx, sn_day day, uint64_t count, uint64_t forced)
{
    day_span *d = ctx;
    if (day >= d->from && day <= d->to) {
        d->days[day - d->from].reissues += count;
        d->days[day - d->from].reissues_forced += forced;
    }
    return 0;
}

static int add_held(void *ctx, sn_day day, uint64_t held)
{
    day_span *d = ctx;
    if (day >= d->from && day <= d->to)
        d->days[day - d->from].held += held;
    return 0;
}

int sn_dashboard_events(sn_store *s, sn_day from, sn_day to, sn_dashboard_day *days, char *err,
                        size_t errlen)
{
    if (to < from || (int64_t)to - from + 1 > SN_DASHBOARD_DAYS_MAX)
        return sn_fail(err, errlen, SN_EINVAL, "the days must run forward, at most %d of them",
                       SN_DASHBOARD_DAYS_MAX);
    int tz = sn_store_rules(s)->tz_minutes;
    int64_t start = sn_day_start(from, tz), end = sn_day_start(to, tz) + DAY_SECONDS;
    day_span span = {from, to, days};
    for (sn_day d = from; d <= to; d++) {
        memset(&days[d - from], 0, sizeof(days[0]));
        days[d - from].day = d;
    }
    int rc = sn_store_stats_events(s, start, end, add_events, &span, err, errlen);
    if (rc == SN_OK)
        rc = sn_store_stats_reissues(s, start, end, add_reissues, &span, err, errlen);
    if (rc == SN_OK)
        rc = sn_store_stats_held(s, from, to, add_held, &span, err, errlen);
    return rc;
}

/* ---- notices per app ---------------------------------------------------- */

typedef struct {
    uint32_t id;
    char *name;
    uint64_t issued, acked, overdue;
} app_counts;

typedef struct {
    app_counts *apps;
    size_t n, cap;
    int failed;
    /* while the times stream: the app they are of, and how far in */
    size_t at;
    uint64_t seen;
    int64_t (*picked)[2];
} app_table;

static int add_app(void *ctx, uint32_t id, const char *app, uint64_t issued, uint64_t acked,
                   uint64_t overdue)
{
    app_table *t = ctx;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        app_counts *more = realloc(t->apps, cap * sizeof(*more));
        if (more == NULL)
            return t->failed = 1;
        t->apps = more;
        t->cap = cap;
    }
    app_counts *a = &t->apps[t->n];
    if ((a->name = strdup(app)) == NULL)
        return t->failed = 1;
    a->id = id;
    a->issued = issued;
    a->acked = acked;
    a->overdue = overdue;
    t->n++;
    return 0;
}

/* An acknowledgement time, in app then time order: keep it when it is at
 * the app's median or 95th-percentile rank. */
static int add_time(void *ctx, uint32_t app, int64_t seconds)
{
    app_table *t = ctx;
    while (t->at < t->n && t->apps[t->at].id < app) {
        t->at++;
        t->seen = 0;
    }
    if (t->at == t->n || t->apps[t->at].id != app)
        return 0;
    uint64_t n = t->apps[t->at].acked, i = t->seen++;
    if (n == 0)
        return 0;
    if (i == sn_dashboard_rank(n, 0.5) || (i < sn_dashboard_rank(n, 0.5) && i + 1 == n))
        t->picked[t->at][0] = seconds;
    if (i == sn_dashboard_rank(n, 0.95) || (i < sn_dashboard_rank(n, 0.95) && i + 1 == n))
        t->picked[t->at][1] = seconds;
    return 0;
}

static int report_apps(const app_table *t, double threshold, sn_dashboard_app_fn fn, void *ctx)
{
    for (size_t i = 0; i < t->n; i++) {
        const app_counts *c = &t->apps[i];
        sn_dashboard_app a = {c->name, c->issued, c->acked, c->overdue, 1.0, 0, 0, 0, 0};
        if (c->issued > 0)
            a.ack_rate = (double)c->acked / (double)c->issued;
        a.below = a.ack_rate < threshold;
        a.has_times = c->acked > 0;
        a.median_s = t->picked[i][0];
        a.p95_s = t->picked[i][1];
        int rc = fn(ctx, &a);
        if (rc != 0)
            return rc;
    }
    return SN_OK;
}

int sn_dashboard_notices(sn_store *s, int64_t now, double threshold, sn_dashboard_app_fn fn,
                         void *ctx, char *err, size_t errlen)
{
    app_table t;
    memset(&t, 0, sizeof(t));
    int rc = sn_store_stats_notices(s, now, add_app, &t, err, errlen);
    if (rc == SN_OK && !t.failed && t.n > 0) {
        t.picked = calloc(t.n, sizeof(*t.picked));
        t.failed = t.picked == NULL;
        if (!t.failed)
            rc = sn_store_stats_ack_times(s, add_time, &t, err, errlen);
    }
    if (rc == SN_OK && t.failed)
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory for the notices per app");
    if (rc == SN_OK)
        rc = report_apps(&t, threshold, fn, ctx);
    for (size_t i = 0; i < t.n; i++)
        free(t.apps[i].name);
    free(t.apps);
    free(t.picked);
    return rc;
}

/* ---- complaints --------------------------------------------------------- */

typedef struct {
    sn_dashboard_complaints *out;
    int64_t now;
} complaint_tally;

static int add_complaint(void *ctx, const sn_complaint *c)
{
    complaint_tally *t = ctx;
    sn_dashboard_complaints *o = t->out;
    int kind = c->kind >= 1 && c->kind <= 4 ? c->kind : SN_COMPLAINT_OTHER;
    o->total++;
    if (c->resolved_at != 0) {
        o->resolved[kind]++;
        if (c->resolved_level >= 1 && c->resolved_level <= 3)
            o->resolved_by[c->resolved_level - 1]++;
        return 0;
    }
    o->open[kind]++;
    int level = sn_complaint_level_at(c, t->now);
    level = level < SN_LEVEL_APP         ? SN_LEVEL_APP
            : level > SN_LEVEL_REGULATOR ? SN_LEVEL_REGULATOR
                                         : level;
    o->level[level]++;
    int64_t ends = sn_complaint_level_ends(c, level), left = ends - t->now;
    if (ends == 0)
        o->due[SN_DUE_NONE]++;
    else if (left < 0)
        o->due[SN_DUE_OVERDUE]++;
    else if (left <= DAY_SECONDS)
        o->due[SN_DUE_DAY]++;
    else if (left <= 7 * DAY_SECONDS)
        o->due[SN_DUE_WEEK]++;
    else
        o->due[SN_DUE_LATER]++;
    return 0;
}

int sn_dashboard_complaint_stats(sn_store *s, int64_t now, sn_dashboard_complaints *out, char *err,
                                 size_t errlen)
{
    complaint_tally t = {out, now};
    memset(out, 0, sizeof(*out));
    return sn_store_stats_complaints(s, add_complaint, &t, err, errlen);
}

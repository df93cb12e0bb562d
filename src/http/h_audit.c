/*
 * h_audit.c - reading the audit trail over HTTP: GET /v1/admin/audit (an
 * admin's export, CSV or JSON, a page of rows at a time) and the checks
 * per day, app and verdict: GET /v1/usage (an app's own) and GET
 * /v1/admin/usage (every app's, or one's). Both read the store on the
 * writer thread; the rows are those the audit thread has committed.
 */
#include "audit/export.h"
#include "core/errors.h"
#include "http/job.h"
#include "service/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SN_USAGE_DAYS_MAX 366    /* days one usage answer covers at most */
#define SN_USAGE_DAYS_DEFAULT 30 /* without from: the 30 days to today */

/* The days from and to (inclusive) of the query; to defaults to today,
 * from to `back` days before it. 1, or 0 with the error recorded in j. */
static int day_range(sn_http_job *j, uint32_t back, uint32_t max, sn_day *from, sn_day *to)
{
    const char *f = sn_call_param(j->call, "from"), *t = sn_call_param(j->call, "to");
    char why[SN_ERRMSG_MAX];
    *to = sn_check_today(j->call->svc);
    if (t != NULL && sn_day_parse(t, strlen(t), to, why, sizeof(why)) != SN_OK)
        return !sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "to: %s", why);
    *from = *to - (sn_day)back + 1;
    if (f != NULL && sn_day_parse(f, strlen(f), from, why, sizeof(why)) != SN_OK)
        return !sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "from: %s", why);
    if (*from > *to)
        return !sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "from is after to");
    if ((uint32_t)(*to - *from) >= max)
        return !sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "from..to spans more than %u days",
                                max);
    return 1;
}

/* ---- GET /v1/admin/audit ------------------------------------------------------- */

typedef struct {
    sn_strbuf *out;
    int csv, first;
    const uint8_t *only;
    uint32_t rows;
    int64_t last;
} export_page;

static int export_row(void *ctx, const sn_audit_row *r)
{
    export_page *p = ctx;
    sn_audit_export_row(p->out, r, p->csv, ",", p->only, &p->first);
    p->rows++;
    p->last = r->id;
    return 0;
}

static void answer_csv(sn_http_job *j)
{
    if (j->rc != SN_OK && j->has_error)
        sn_reply_error(j->call, j->error, "%s", j->message);
    else if (j->rc != SN_OK)
        sn_reply_status(j->call, j->rc, j->message);
    else if (j->out.failed)
        sn_reply_error(j->call, SN_HTTP_INTERNAL, "out of memory");
    else
        sn_reply(j->call, 200, "text/csv; charset=utf-8", j->out.s, j->out.len);
}

/* The number filter's keyed hash into hash: 1 (*only set or NULL), or 0
 * with the error recorded. */
static int number_filter(sn_http_job *j, uint8_t hash[SN_AUDIT_HASH_LEN], const uint8_t **only)
{
    const char *n = sn_call_param(j->call, "number");
    const sn_service *svc = j->call->svc;
    char why[SN_ERRMSG_MAX];
    sn_number number;
    *only = NULL;
    if (n == NULL)
        return 1;
    if (sn_number_parse(n, strlen(n), svc->rules.default_cc, &number, why, sizeof(why)) != SN_OK)
        return !sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "number: %s", why);
    if (svc->secret == NULL)
        return !sn_http_fail_as(j, SN_HTTP_UNAVAILABLE,
                                "numbers are recorded only with the deployment secret (--key)");
    sn_audit_number_hash(svc->secret, number, hash);
    *only = hash;
    return 1;
}

/* after (a row id, default 0) and limit (rows, 1 to SN_PAGE_MAX, default
 * SN_PAGE_DEFAULT): 1, or 0 with the error recorded. */
static int paging(sn_http_job *j, uint64_t *after, uint32_t *limit)
{
    const char *a = sn_call_param(j->call, "after"), *l = sn_call_param(j->call, "limit");
    char *end;
    *after = 0;
    *limit = SN_PAGE_DEFAULT;
    if (a != NULL) {
        *after = strtoull(a, &end, 10);
        if (a[0] < '0' || a[0] > '9' || *end != '\0')
            return !sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "after must be a row id");
    }
    if (l != NULL) {
        unsigned long v = strtoul(l, &end, 10);
        if (l[0] < '0' || l[0] > '9' || *end != '\0' || v < 1 || v > SN_PAGE_MAX)
            return !sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "limit must be 1-%d", SN_PAGE_MAX);
        *limit = (uint32_t)v;
    }
    return 1;
}

int sn_w_admin_audit(sn_http_job *j, sn_store *s)
{
    const char *format = sn_call_param(j->call, "format"), *app = sn_call_param(j->call, "app");
    uint8_t hash[SN_AUDIT_HASH_LEN];
    export_page p = {&j->out, 0, 1, NULL, 0, 0};
    sn_day from, to;
    int64_t lo, hi;
    uint64_t after;
    uint32_t limit;
    if (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return sn_http_fail_as(j, SN_HTTP_INVALID_ARGUMENT, "format must be csv or json");
    if (!day_range(j, 1, SN_AUDIT_RETENTION_MAX, &from, &to) || !number_filter(j, hash, &p.only))
        return SN_EINVAL;
    if (!paging(j, &after, &limit))
        return SN_EINVAL;
    p.csv = format != NULL && strcmp(format, "csv") == 0;
    p.last = (int64_t)after;
    sn_audit_day_bounds(from, to, j->call->svc->rules.tz_minutes, &lo, &hi);
    if (p.csv) {
        j->answer = answer_csv;
        sn_strbuf_printf(&j->out, SN_AUDIT_CSV_HEADER);
    } else {
        sn_strbuf_printf(&j->out, "{\"records\":[");
    }
    int rc = sn_store_audit_list(s, lo, hi, app, (int64_t)after, limit, export_row, &p, j->message,
                                 sizeof(j->message));
    if (!p.csv && p.rows == limit)
        sn_strbuf_printf(&j->out, "],\"next\":\"%lld\"}", (long long)p.last);
    else if (!p.csv)
        sn_strbuf_printf(&j->out, "],\"next\":null}");
    return rc;
}

/* ---- GET /v1/usage, /v1/admin/usage ------------------------------------------- */

static int usage_row(void *ctx, const sn_audit_usage *u)
{
    sn_listing *l = ctx;
    sn_strbuf *b = sn_listing_row(l, 0);
    char date[SN_DAY_TEXT_MAX];
    uint64_t conclusive = u->counts[1] + u->counts[2] + u->counts[3];
    sn_day_format(u->day, date);
    sn_strbuf_printf(b, "{\"date\":\"%s\",\"app\":", date);
    sn_strbuf_string(b, u->app);
    sn_strbuf_printf(b,
                     ",\"verdicts\":{\"reassigned\":%llu,\"disconnected\":%llu,\"unchanged\":%llu,"
                     "\"unknown\":%llu},\"conclusive\":%llu,\"total\":%llu}",
                     (unsigned long long)u->counts[3], (unsigned long long)u->counts[2],
                     (unsigned long long)u->counts[1], (unsigned long long)u->counts[0],
                     (unsigned long long)conclusive,
                     (unsigned long long)(conclusive + u->counts[0]));
    return 0;
}

int sn_w_usage(sn_http_job *j, sn_store *s)
{
    const sn_call *c = j->call;
    const char *app = c->who.role == SN_ROLE_APP ? c->who.app : sn_call_param(c, "app");
    sn_day from, to;
    sn_listing l;
    if (!day_range(j, SN_USAGE_DAYS_DEFAULT, SN_USAGE_DAYS_MAX, &from, &to))
        return SN_EINVAL;
    sn_listing_open(&l, j, "days", 0);
    int rc = sn_store_audit_usage(s, from, to, app, usage_row, &l, j->message, sizeof(j->message));
    sn_listing_close_plain(&l);
    return rc;
}

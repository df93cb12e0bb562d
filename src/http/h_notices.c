/*
 * h_notices.c - the app's side of notices: the pull feed, acknowledgements,
 * the webhook and subscription settings, delivery states, the
 * disconnections feed; and the admin views across apps.
 *
 * Every query is scoped to the caller's app id (tenant.h), so an app never
 * sees another app's notices, deliveries or settings: another app's notice
 * id answers 404 exactly like an id that does not exist.
 */
#include "http/tenant.h"

#include "core/errors.h"
#include "notice/notice_json.h"
#include "notice/notifier.h"
#include "store/log.h"
#include "store/apps.h"
#include "store/bindings.h"
#include "store/notices.h"
#include "store/deliveries.h"

#include <stdio.h>
#include <stdlib.h>

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

static int store_failed(sn_tenant_job *t, const char *err)
{
    fprintf(stderr, "secondnum serve: notices: %s\n", err);
    return sn_tenant_fail(t, SN_HTTP_INTERNAL, "the store failed; nothing was changed");
}

/* ---- notices ---------------------------------------------------------------- */

typedef struct {
    sn_tenant_job *t;
    int with_app;
    size_t n;
    uint64_t last;
} notice_page;

static int page_notice(void *ctx, const sn_notice *n)
{
    notice_page *p = ctx;
    if (p->n++ > 0)
        sn_strbuf_printf(&p->t->out, ",");
    sn_notice_json(&p->t->out, n, p->with_app, p->t->now);
    p->last = n->id;
    return 0;
}

static int parse_filter(sn_tenant_job *t, uint8_t *filter)
{
    static const char *const names[] = {"", "open", "acknowledged", "overdue"};
    const char *state = sn_tenant_param(t, "state");
    *filter = SN_NOTICES_ALL;
    if (state == NULL)
        return SN_OK;
    for (uint8_t i = 1; i < 4; i++)
        if (strcmp(state, names[i]) == 0) {
            *filter = i;
            return SN_OK;
        }
    return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                          "state must be open, acknowledged or overdue");
}

static int list_notices(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    sn_notice_query q = {t->app_id, 0, 0, SN_NOTICES_ALL, t->now};
    int rc = sn_tenant_paging(t, &q.after, &q.limit, PAGE_DEFAULT, PAGE_MAX);
    if (rc == SN_OK)
        rc = parse_filter(t, &q.filter);
    if (rc != SN_OK)
        return rc;
    notice_page p = {t, t->app_id == 0, 0, q.after};
    sn_strbuf_printf(&t->out, "{\"notices\":[");
    if (sn_store_list_notices(s, &q, page_notice, &p, err, sizeof(err)) != SN_OK)
        return store_failed(t, err);
    sn_strbuf_printf(&t->out, "],\"next\":\"%llu\"}", (unsigned long long)p.last);
    return SN_OK;
}

/* The caller's notice t->id, or a recorded 404. */
static int own_notice(sn_tenant_job *t, sn_store *s, sn_notice *n)
{
    char err[SN_ERRMSG_MAX];
    int rc = sn_store_get_notice(s, t->id, n, err, sizeof(err));
    if (rc == SN_ENOTFOUND || (rc == SN_OK && n->app != t->app_id))
        return sn_tenant_fail(t, SN_HTTP_NOT_FOUND, "no notice %llu",
                              (unsigned long long)t->id);
    return rc == SN_OK ? SN_OK : store_failed(t, err);
}

static int get_notice(sn_tenant_job *t, sn_store *s)
{
    sn_notice n;
    int rc = own_notice(t, s, &n);
    if (rc == SN_OK)
        sn_notice_json(&t->out, &n, 0, t->now);
    return rc;
}

static int ack_notice(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    const char *key;
    json_t *v;
    sn_notice n;
    json_object_foreach(t->body, key, v) {
        if (strcmp(key, "outcome") != 0 && strcmp(key, "note") != 0)
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "unknown property '%.64s'", key);
        if (!json_is_string(v))
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "%s must be a string", key);
    }
    json_t *o = json_object_get(t->body, "outcome"), *note = json_object_get(t->body, "note");
    int outcome = o != NULL ? sn_outcome_parse(json_string_value(o)) : SN_OUTCOME_NONE;
    if (outcome == SN_OUTCOME_NONE)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                              "outcome must be unbound, reverified, not_found or refused");
    if (note != NULL && (json_string_length(note) > SN_NOTE_MAX ||
                         strlen(json_string_value(note)) != json_string_length(note)))
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                              "note must be at most %d bytes, without NUL", SN_NOTE_MAX);
    int rc = own_notice(t, s, &n);
    if (rc != SN_OK)
        return rc;
    if (n.outcome != SN_OUTCOME_NONE && n.outcome != outcome)
        return sn_tenant_fail(t, SN_HTTP_CONFLICT, "notice %llu was already acknowledged as %s",
                              (unsigned long long)n.id, sn_outcome_name(n.outcome));
    if (n.outcome == SN_OUTCOME_NONE) {
        const char *text = note != NULL ? json_string_value(note) : NULL;
        int found;
        if (sn_store_ack_notice(s, n.id, outcome, text, t->now, err, sizeof(err)) != SN_OK)
            return store_failed(t, err);
        if (sn_outcome_unbinds(outcome) && n.has_account &&
            sn_store_delete_binding(s, n.app, n.number, n.account, &found, err, sizeof(err)) !=
                SN_OK)
            return store_failed(t, err);
        if (sn_store_get_notice(s, n.id, &n, err, sizeof(err)) != SN_OK)
            return store_failed(t, err);
    }
    sn_notice_json(&t->out, &n, 0, t->now);
    return SN_OK;
}

static const char *const page_params[] = {"after", "limit", NULL};
static const char *const admin_page_params[] = {"state", "after", "limit", NULL};

void sn_h_notices_list(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, list_notices, page_params, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_notice_get(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, get_notice, NULL, 0, 1);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_notice_ack(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, ack_notice, NULL, 1, 1);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_admin_notices(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, list_notices, admin_page_params, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

/* ---- webhook and subscription ------------------------------------------------ */

static int webhook_answer(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    sn_app app;
    uint64_t counts[3];
    if (sn_store_get_app(s, t->app_id, &app, err, sizeof(err)) != SN_OK ||
        sn_store_delivery_counts(s, t->app_id, counts, err, sizeof(err)) != SN_OK)
        return store_failed(t, err);
    if (app.url[0] == '\0')
        return sn_tenant_fail(t, SN_HTTP_NOT_FOUND, "no webhook is set");
    sn_strbuf_printf(&t->out, "{\"url\":");
    sn_strbuf_string(&t->out, app.url);
    sn_strbuf_printf(&t->out, ",\"pending\":%llu,\"delivered\":%llu,\"dead\":%llu}",
                     (unsigned long long)counts[0], (unsigned long long)counts[1],
                     (unsigned long long)counts[2]);
    return SN_OK;
}

static int put_webhook(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    const char *key;
    json_t *v;
    json_object_foreach(t->body, key, v) {
        if (strcmp(key, "url") != 0 && strcmp(key, "secret") != 0)
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "unknown property '%.64s'", key);
        if (!json_is_string(v))
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "%s must be a string", key);
    }
    json_t *url = json_object_get(t->body, "url"), *secret = json_object_get(t->body, "secret");
    if (url == NULL || secret == NULL)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "url and secret are required");
    const char *u = json_string_value(url);
    size_t ulen = json_string_length(url), slen = json_string_length(secret);
    int scheme_ok = strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
    if (!scheme_ok || ulen > SN_URL_MAX || strlen(u) != ulen || strpbrk(u, " \t\r\n") != NULL ||
        ulen <= (size_t)(u[4] == 's' ? 8 : 7))
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                              "url must be an http:// or https:// URL of at most %d bytes",
                              SN_URL_MAX);
    if (slen < 16 || slen > SN_WEBHOOK_SECRET_MAX ||
        strlen(json_string_value(secret)) != slen)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "secret must be 16 to %d bytes",
                              SN_WEBHOOK_SECRET_MAX);
    if (sn_store_set_webhook(s, t->app_id, u, json_string_value(secret), err, sizeof(err)) !=
        SN_OK)
        return store_failed(t, err);
    t->wake = 1; /* deliveries waiting for a webhook may go now */
    return webhook_answer(t, s);
}

static int delete_webhook(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    if (sn_store_set_webhook(s, t->app_id, NULL, NULL, err, sizeof(err)) != SN_OK)
        return store_failed(t, err);
    sn_strbuf_printf(&t->out, "{\"url\":null}");
    return SN_OK;
}

static int subscription_answer(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    sn_app app;
    if (sn_store_get_app(s, t->app_id, &app, err, sizeof(err)) != SN_OK)
        return store_failed(t, err);
    sn_strbuf_printf(&t->out, "{\"cancellations\":%s,\"reissues\":%s}",
                     app.sub_cancellations ? "true" : "false", app.sub_reissues ? "true" : "false");
    return SN_OK;
}

static int put_subscription(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    const char *key;
    json_t *v;
    json_object_foreach(t->body, key, v) {
        if (strcmp(key, "cancellations") != 0 && strcmp(key, "reissues") != 0)
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "unknown property '%.64s'", key);
        if (!json_is_boolean(v))
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "%s must be true or false", key);
    }
    json_t *c = json_object_get(t->body, "cancellations"), *r = json_object_get(t->body, "reissues");
    if (c == NULL || r == NULL)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "cancellations and reissues are required");
    if (sn_store_set_subscription(s, t->app_id, json_is_true(c), json_is_true(r), err,
                                  sizeof(err)) != SN_OK)
        return store_failed(t, err);
    return subscription_answer(t, s);
}

void sn_h_webhook_put(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, put_webhook, NULL, 1, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_webhook_get(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, webhook_answer, NULL, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_webhook_delete(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, delete_webhook, NULL, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_subscription_put(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, put_subscription, NULL, 1, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_subscription_get(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, subscription_answer, NULL, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

/* ---- deliveries ---------------------------------------------------------------- */

typedef struct {
    sn_tenant_job *t;
    size_t n;
    uint64_t last;
} delivery_page;

static int page_delivery(void *ctx, const sn_delivery *d)
{
    delivery_page *p = ctx;
    char next[SN_TIME_TEXT_MAX];
    sn_strbuf *b = &p->t->out;
    sn_strbuf_printf(b, "%s{\"notice_id\":\"%llu\"", p->n++ ? "," : "",
                     (unsigned long long)d->notice);
    if (p->t->app_id == 0) {
        sn_strbuf_printf(b, ",\"app\":");
        sn_strbuf_string(b, d->app_name);
    }
    sn_strbuf_printf(b, ",\"state\":\"%s\",\"attempts\":%u,\"last_error\":",
                     d->state == SN_DELIVERY_PENDING     ? "pending"
                     : d->state == SN_DELIVERY_DELIVERED ? "delivered"
                                                         : "dead",
                     d->attempts);
    sn_strbuf_string(b, d->last_error[0] != '\0' ? d->last_error : NULL);
    if (d->state == SN_DELIVERY_PENDING) {
        sn_utc_format(d->next_at_ms / 1000, next);
        sn_strbuf_printf(b, ",\"next_attempt_at\":\"%s\"}", next);
    } else {
        sn_strbuf_printf(b, ",\"next_attempt_at\":null}");
    }
    p->last = d->notice;
    return 0;
}

static int list_deliveries(sn_tenant_job *t, sn_store *s)
{
    static const char *const names[] = {"pending", "delivered", "dead"};
    const char *state = sn_tenant_param(t, "state");
    char err[SN_ERRMSG_MAX];
    uint64_t after;
    uint32_t limit;
    int st = -1;
    for (int i = 0; state != NULL && i < 3; i++)
        if (strcmp(state, names[i]) == 0)
            st = i;
    if (st < 0)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                              "state must be pending, delivered or dead");
    int rc = sn_tenant_paging(t, &after, &limit, PAGE_DEFAULT, PAGE_MAX);
    if (rc != SN_OK)
        return rc;
    delivery_page p = {t, 0, after};
    sn_strbuf_printf(&t->out, "{\"deliveries\":[");
    if (sn_store_list_deliveries(s, t->app_id, st, after, limit, page_delivery, &p, err,
                                 sizeof(err)) != SN_OK)
        return store_failed(t, err);
    sn_strbuf_printf(&t->out, "],\"next\":\"%llu\"}", (unsigned long long)p.last);
    return SN_OK;
}

void sn_h_deliveries(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, list_deliveries, admin_page_params, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

/* ---- disconnections ---------------------------------------------------------- */

typedef struct {
    sn_tenant_job *t;
    size_t n;
    sn_number last;
} disconnection_page;

static void put_day(sn_strbuf *b, const char *name, sn_day day)
{
    char text[SN_DAY_TEXT_MAX];
    if (day == SN_DAY_NONE) {
        sn_strbuf_printf(b, ",\"%s\":null", name);
        return;
    }
    sn_day_format(day, text);
    sn_strbuf_printf(b, ",\"%s\":\"%s\"", name, text);
}

static int page_disconnection(void *ctx, sn_number n, sn_day cancelled, sn_day reissued)
{
    disconnection_page *p = ctx;
    char number[SN_NUMBER_TEXT_MAX];
    sn_number_format(n, number);
    sn_strbuf_printf(&p->t->out, "%s{\"number\":\"%s\"", p->n++ ? "," : "", number);
    put_day(&p->t->out, "cancelled_on", cancelled);
    put_day(&p->t->out, "reissued_on", reissued);
    sn_strbuf_printf(&p->t->out, "}");
    p->last = n;
    return 0;
}

static int list_disconnections(sn_tenant_job *t, sn_store *s)
{
    const char *since = sn_tenant_param(t, "since");
    char err[SN_ERRMSG_MAX];
    sn_day day;
    uint64_t after;
    uint32_t limit;
    if (since == NULL || sn_day_parse(since, strlen(since), &day, err, sizeof(err)) != SN_OK)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "since must be a date YYYY-MM-DD");
    if (day > sn_day_of(t->now, t->svc->rules.tz_minutes))
        return sn_tenant_fail(t, SN_HTTP_OUT_OF_RANGE, "since is in the future");
    int rc = sn_tenant_paging(t, &after, &limit, PAGE_DEFAULT, PAGE_MAX);
    if (rc != SN_OK)
        return rc;
    disconnection_page p = {t, 0, 0};
    sn_strbuf_printf(&t->out, "{\"disconnections\":[");
    if (sn_store_list_disconnections(s, day, (sn_number)after, limit, page_disconnection, &p, err,
                                     sizeof(err)) != SN_OK)
        return store_failed(t, err);
    if (p.n == limit)
        sn_strbuf_printf(&t->out, "],\"next\":\"%llu\"}", (unsigned long long)p.last);
    else
        sn_strbuf_printf(&t->out, "],\"next\":null}");
    return SN_OK;
}

void sn_h_disconnections(sn_call *c)
{
    static const char *const params[] = {"since", "after", "limit", NULL};
    sn_tenant_job *t = sn_tenant_job_new(c, list_disconnections, params, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

/* ---- admin: per-app coverage and acknowledgement ------------------------------ */

static int app_row(void *ctx, const sn_app_stats *st)
{
    sn_tenant_job *t = ctx;
    double rate = st->notices > 0 ? (double)st->acknowledged / (double)st->notices : 0.0;
    sn_strbuf_printf(&t->out, "%s{\"name\":", t->out.len > 9 ? "," : "");
    sn_strbuf_string(&t->out, st->name);
    sn_strbuf_printf(&t->out,
                     ",\"bindings\":%llu,\"numbers\":%llu,\"notices\":%llu,\"acknowledged\":%llu,"
                     "\"overdue\":%llu,\"ack_rate\":%.4f,\"webhook\":%s,\"pending\":%llu,"
                     "\"dead\":%llu}",
                     (unsigned long long)st->bindings, (unsigned long long)st->numbers,
                     (unsigned long long)st->notices, (unsigned long long)st->acknowledged,
                     (unsigned long long)st->overdue, rate, st->webhook ? "true" : "false",
                     (unsigned long long)st->pending, (unsigned long long)st->dead);
    return 0;
}

static int admin_apps(sn_tenant_job *t, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    sn_strbuf_printf(&t->out, "{\"apps\":[");
    if (sn_store_app_stats(s, t->now, app_row, t, err, sizeof(err)) != SN_OK)
        return store_failed(t, err);
    sn_strbuf_printf(&t->out, "]}");
    return SN_OK;
}

void sn_h_admin_apps(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, admin_apps, NULL, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

/*
 * h_subscriber.c - a subscriber's routes: signing in (a code by SMS, then
 * the code with the last six ID characters) and the session (signin.h);
 * the number's bindings per app, unbind requests, the summary by SMS and
 * the checklist before cancelling (selfservice.h); who checked the number
 * in the subscriber's tenure (inquiries.h). Complaints are in
 * h_complaints.c. The session's token was hashed by the router; the
 * service judges it.
 */
#include "http/body.h"
#include "http/job.h"
#include "service/inquiries.h"
#include "service/selfservice.h"

#include "core/errors.h"
#include "crypto/tokens.h"
#include "delivery/notice_json.h"
#include "util/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void session_json(sn_strbuf *b, const sn_session *ses, const char *token)
{
    char number[SN_NUMBER_TEXT_MAX];
    sn_number_format(ses->number, number);
    sn_strbuf_printf(b, "{");
    if (token != NULL)
        sn_strbuf_printf(b, "\"token\":\"%s\",", token);
    sn_strbuf_printf(b, "\"number\":\"%s\",\"tenure\":%u,\"lang\":\"%s\"", number, ses->tenure,
                     ses->lang);
    sn_json_time_field(b, "expires_at", ses->expires);
    sn_strbuf_printf(b, "}");
}

/* "number" of the body as a number; 0 after a 400. */
static int read_number(sn_call *c, sn_number *n)
{
    const sn_flat_field *f = sn_call_field(c, "number");
    char why[SN_ERRMSG_MAX];
    if (f->value == NULL)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "number is required");
    else if (sn_number_parse(f->value, f->len, c->svc->rules.default_cc, n, why, sizeof(why)) !=
             SN_OK)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "number: %s", why);
    else
        return 1;
    return 0;
}

/* ---- signing in ----------------------------------------------------------- */

typedef struct {
    sn_number number;
    char lang[SN_LANG_LEN + 1];
    const char *code;
    char id6[SN_ID6_LEN];
} signin;

static int request_code(sn_http_job *j, sn_store *s)
{
    const sn_subscriber_options *opt = &j->call->svc->subscribers->opt;
    signin *in = j->data;
    char text[SN_NUMBER_TEXT_MAX];
    int rc = sn_signin_request_code(j->call->svc, s, j->call->addr, in->number, in->lang,
                                    j->message, sizeof(j->message));
    sn_number_format(in->number, text);
    if (rc == SN_OK)
        sn_strbuf_printf(&j->out,
                         "{\"status\":\"code_requested\",\"number\":\"%s\",\"expires_in\":%lld,"
                         "\"max_attempts\":%u}",
                         text, (long long)opt->otp_ttl_s, opt->otp_max_attempts);
    return rc;
}

void sn_h_signin_code(sn_call *c)
{
    signin *in = h2o_mem_alloc_pool(&c->req->pool, sizeof(*in));
    char why[SN_ERRMSG_MAX];
    if (!read_number(c, &in->number))
        return;
    if (sn_signin_lang(c->svc, sn_call_field(c, "lang")->value, in->lang, why, sizeof(why)) !=
        SN_OK)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", why);
    else
        sn_http_submit(sn_http_job_new(c, request_code, in));
}

static int start_session(sn_http_job *j, sn_store *s)
{
    signin *in = j->data;
    char token[SN_SESSION_TOKEN_LEN + 1];
    sn_session ses;
    int rc = sn_signin_start(j->call->svc, s, j->call->addr, in->number, in->code, in->id6, &ses,
                             token, j->message, sizeof(j->message));
    sodium_memzero(in->id6, sizeof(in->id6));
    if (rc != SN_OK)
        return rc;
    session_json(&j->out, &ses, token);
    sodium_memzero(token, sizeof(token));
    j->status = 201;
    return SN_OK;
}

void sn_h_signin_start(sn_call *c)
{
    const sn_flat_field *code = sn_call_field(c, "code"), *id6 = sn_call_field(c, "id6");
    signin *in = h2o_mem_alloc_pool(&c->req->pool, sizeof(*in));
    char why[SN_ERRMSG_MAX];
    if (!read_number(c, &in->number))
        return;
    if (code->value == NULL || !sn_otp_code_valid(code->value, code->len))
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "code must be the 6 digits sent");
    else if (id6->value == NULL || sn_id6_parse(id6->value, id6->len, in->id6, why, sizeof(why)))
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "id6 must be the last six characters of your ID (5 digits, then a digit "
                       "or X)");
    else {
        in->code = code->value;
        sn_http_submit(sn_http_job_new(c, start_session, in));
    }
}

int sn_w_session_get(sn_http_job *j, sn_store *s)
{
    sn_session ses;
    int rc = sn_signin_session(j->call->svc, s, j->call->token_hash, &ses, NULL, j->message,
                               sizeof(j->message));
    if (rc == SN_OK)
        session_json(&j->out, &ses, NULL);
    return rc;
}

int sn_w_session_end(sn_http_job *j, sn_store *s)
{
    int rc = sn_signin_end(j->call->svc, s, j->call->token_hash, j->message, sizeof(j->message));
    if (rc == SN_OK)
        sn_strbuf_printf(&j->out, "{\"signed_out\":true}");
    return rc;
}

/* ---- the number's bindings and the checklist ------------------------------ */

static void app_names(sn_strbuf *b, const char *name, const char *display)
{
    sn_strbuf_printf(b, "\"app\":");
    sn_strbuf_string(b, name);
    sn_strbuf_printf(b, ",\"display_name\":");
    sn_strbuf_string(b, display);
}

static void summary_json(sn_strbuf *b, const sn_app_summary *a)
{
    char at[SN_TIME_TEXT_MAX];
    sn_strbuf_printf(b, "{");
    app_names(b, a->name, a->display);
    sn_strbuf_printf(b, ",\"mine\":{\"count\":%u,\"bound_at\":[", a->mine);
    for (uint32_t k = 0; k < a->mine && k < SN_SUMMARY_DATES; k++) {
        sn_utc_format(a->dates[k], at);
        sn_strbuf_printf(b, "%s\"%s\"", k ? "," : "", at);
    }
    sn_strbuf_printf(b, "]},\"previous\":{\"count\":%u}}", a->previous);
}

static void checklist_json(sn_strbuf *b, const sn_app_summary *a)
{
    sn_strbuf_printf(b, "{");
    app_names(b, a->name, a->display);
    sn_strbuf_printf(b, ",\"bindings\":%u", a->mine);
    sn_json_time_field(b, "first_bound_at", a->dates[0]);
    sn_strbuf_printf(b, ",\"requested\":%s}", a->requested ? "true" : "false");
}

/* Both answer {"number","tenure","apps":[...]}; the checklist lists only
 * the apps holding this tenure's bindings, and whether it is ready. */
static int apps_work(sn_http_job *j, sn_store *s, int checklist)
{
    char number[SN_NUMBER_TEXT_MAX];
    sn_app_summary *apps;
    sn_session ses;
    size_t n, shown = 0;
    int rc = (checklist ? sn_selfservice_checklist : sn_selfservice_bindings)(
        j->call->svc, s, j->call->token_hash, &ses, &apps, &n, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_number_format(ses.number, number);
    sn_strbuf_printf(&j->out, "{\"number\":\"%s\",\"tenure\":%u,\"apps\":[", number, ses.tenure);
    for (size_t i = 0; i < n; i++) {
        if (checklist && apps[i].mine == 0)
            continue;
        sn_strbuf_printf(&j->out, "%s", shown++ ? "," : "");
        (checklist ? checklist_json : summary_json)(&j->out, &apps[i]);
    }
    if (checklist)
        sn_strbuf_printf(&j->out, "],\"ready\":%s}", shown == 0 ? "true" : "false");
    else
        sn_strbuf_printf(&j->out, "]}");
    free(apps);
    return SN_OK;
}

int sn_w_sub_bindings(sn_http_job *j, sn_store *s)
{
    return apps_work(j, s, 0);
}

int sn_w_sub_checklist(sn_http_job *j, sn_store *s)
{
    return apps_work(j, s, 1);
}

/* ---- unbind requests ------------------------------------------------------ */

static void request_json(sn_strbuf *b, const sn_request *r, int64_t now)
{
    const char *state = r->acknowledged >= r->notices ? "done"
                        : r->deadline < now           ? "overdue"
                                                      : "open";
    sn_strbuf_printf(b, "{\"id\":\"%llu\",", (unsigned long long)r->id);
    app_names(b, r->app_name, r->display[0] != '\0' ? r->display : r->app_name);
    sn_strbuf_printf(b, ",\"scope\":\"%s\"", sn_scope_name(r->scope));
    sn_json_time_field(b, "created_at", r->created);
    sn_json_time_field(b, "deadline", r->deadline);
    sn_strbuf_printf(b, ",\"state\":\"%s\",\"notices\":%u,\"acknowledged\":%u,\"outcomes\":{",
                     state, r->notices, r->acknowledged);
    for (int i = SN_OUTCOME_UNBOUND; i <= SN_OUTCOME_REFUSED; i++)
        sn_strbuf_printf(b, "%s\"%s\":%u", i > SN_OUTCOME_UNBOUND ? "," : "", sn_outcome_name(i),
                         r->outcomes[i]);
    sn_strbuf_printf(b, "}}");
}

typedef struct {
    const char *app;
    int scope;
} unbind_request;

static int ask_unbind(sn_http_job *j, sn_store *s)
{
    unbind_request *u = j->data;
    sn_request r;
    int rc = sn_selfservice_unbind(j->call->svc, s, j->call->token_hash, u->app, u->scope, &r,
                                   j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    request_json(&j->out, &r, sn_wall_sec());
    j->status = 201;
    return SN_OK;
}

/* ---- a refusal that waits for the session ------------------------------------ */

typedef struct {
    sn_http_error e;
    char *msg;
} refusal;

static int judge_session(sn_http_job *j, sn_store *s)
{
    sn_session ses;
    return sn_signin_session(j->call->svc, s, j->call->token_hash, &ses, NULL, j->message,
                             sizeof(j->message));
}

static void refusal_answer(sn_http_job *j)
{
    const refusal *r = j->data;
    if (j->rc != SN_OK)
        sn_reply_status(j->call, j->rc, j->message);
    else
        sn_reply_error(j->call, r->e, "%s", r->msg);
}

void sn_h_session_refuse(sn_call *c, sn_http_error e, const char *msg)
{
    refusal *r = h2o_mem_alloc_pool(&c->req->pool, sizeof(*r));
    r->e = e;
    r->msg = h2o_mem_alloc_pool(&c->req->pool, strlen(msg) + 1);
    memcpy(r->msg, msg, strlen(msg) + 1);
    sn_http_job *j = sn_http_job_new(c, judge_session, r);
    j->answer = refusal_answer;
    sn_http_submit(j);
}

void sn_h_sub_unbind(sn_call *c)
{
    unbind_request *u = h2o_mem_alloc_pool(&c->req->pool, sizeof(*u));
    u->app = sn_call_field(c, "app")->value;
    u->scope = sn_scope_parse(sn_call_field(c, "scope")->value);
    if (u->app == NULL || u->scope == 0)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "give app and scope (previous or mine)");
    else
        sn_http_submit(sn_http_job_new(c, ask_unbind, u));
}

typedef struct {
    sn_listing l;
    int64_t now;
} request_page;

static int page_request(void *ctx, const sn_request *r)
{
    request_page *p = ctx;
    request_json(sn_listing_row(&p->l, r->id), r, p->now);
    return 0;
}

int sn_w_sub_requests(sn_http_job *j, sn_store *s)
{
    request_page p = {{0}, sn_wall_sec()};
    sn_listing_open(&p.l, j, "requests", 0);
    int rc = sn_selfservice_requests(j->call->svc, s, j->call->token_hash, page_request, &p,
                                     j->message, sizeof(j->message));
    sn_listing_close_plain(&p.l);
    return rc;
}

/* ---- who checked my number ------------------------------------------------ */

typedef struct {
    sn_listing l;
    uint64_t before;
    uint32_t limit;
    int tz;
} inquiry_page;

static int page_inquiry(void *ctx, const sn_audit_inquiry *q)
{
    inquiry_page *p = ctx;
    char day[SN_DAY_TEXT_MAX];
    sn_strbuf *b = sn_listing_row(&p->l, (uint64_t)q->id);
    sn_day_format(sn_day_of(q->at / 1000, p->tz), day);
    sn_strbuf_printf(b, "{\"app\":");
    sn_strbuf_string(b, q->app);
    sn_strbuf_printf(b, ",\"kind\":\"%s\",\"day\":\"%s\"",
                     q->kind == SN_AUDIT_KIND_BINDING ? "binding" : "check", day);
    sn_json_time_field(b, "at", q->at / 1000);
    sn_strbuf_printf(b, "}");
    return 0;
}

static int list_inquiries(sn_http_job *j, sn_store *s)
{
    inquiry_page *p = j->data;
    int64_t since = 0;
    sn_listing_open(&p->l, j, "checks", p->before);
    int rc = sn_inquiries_list(j->call->svc, s, j->call->token_hash, p->before, p->limit,
                               page_inquiry, p, &since, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "]");
    if (since == INT64_MAX)
        sn_strbuf_printf(&j->out, ",\"tenure_since\":null");
    else
        sn_json_time_field(&j->out, "tenure_since", since);
    if (p->l.n == p->limit)
        sn_strbuf_printf(&j->out, ",\"next\":\"%llu\"}", (unsigned long long)p->l.last);
    else
        sn_strbuf_printf(&j->out, ",\"next\":null}");
    return SN_OK;
}

void sn_h_sub_checks(sn_call *c)
{
    inquiry_page *p = h2o_mem_alloc_pool(&c->req->pool, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->tz = c->svc->rules.tz_minutes;
    if (sn_call_paging(c, &p->before, &p->limit, SN_INQUIRIES_PAGE_DEFAULT, SN_INQUIRIES_PAGE_MAX))
        sn_http_submit(sn_http_job_new(c, list_inquiries, p));
}

/* ---- the summary by SMS ---------------------------------------------------- */

static int report(sn_http_job *j, sn_store *s, const char *lang)
{
    char used[SN_LANG_LEN + 1], text[SN_SMS_TEXT_MAX + 1];
    int rc = sn_selfservice_report(j->call->svc, s, j->call->token_hash, lang, used, text,
                                   sizeof(text), j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "{\"status\":\"queued\",\"lang\":\"%s\",\"text\":", used);
    sn_strbuf_string(&j->out, text);
    sn_strbuf_printf(&j->out, "}");
    return SN_OK;
}

int sn_w_sub_report(sn_http_job *j, sn_store *s)
{
    return report(j, s, sn_call_field(j->call, "lang")->value);
}

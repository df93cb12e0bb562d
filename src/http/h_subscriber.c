/*
 * h_subscriber.c - what a subscriber does with secondnum: sign in (a code
 * by SMS, then the code with the last six ID characters), see every app
 * bound to the number split into their own tenure's bindings and a previous
 * owner's, ask an app to unbind, complain, get the summary by SMS, and the
 * check before cancelling a number; and the CAMARA check with a session as
 * a three-legged token.
 *
 * Every handler runs on the writer thread as a subscriber job
 * (subscriber.h), in one transaction (GETs: without one). Sign-in answers
 * never tell whether a number is known: a number without a subscriber gets
 * a code row like any other (its code is sent nowhere), so rate limits,
 * wrong answers and lockouts behave the same; only a right code, which
 * takes the phone, leads further.
 */
#include "http/subscriber.h"

#include "core/errors.h"
#include "core/verdict.h"
#include "http/flatjson.h"
#include "notice/notifier.h"
#include "sms/messages.h"
#include "crypto/tokens.h"
#include "util/grow.h"
#include "store/log.h"
#include "store/keys.h"
#include "store/apps.h"
#include "store/bindings.h"
#include "store/notices.h"
#include "store/subscribers.h"
#include "store/complaints.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PURGE_EVERY_S 60
#define DATES_LISTED 100 /* bound_at times listed per app; the count is exact */
#define REPORT_APPS_MAX 64

/* ---- small helpers ------------------------------------------------------------ */

/* The body's string members: names[] NULL-terminated, out[] set to each
 * value or NULL. Unknown members and non-strings are a recorded 400. */
static int string_fields(sn_sub_job *j, const char *const *names, const char **out)
{
    const char *key;
    json_t *v;
    size_t i;
    for (i = 0; names[i] != NULL; i++)
        out[i] = NULL;
    if (j->t.body == NULL)
        return SN_OK;
    json_object_foreach(j->t.body, key, v) {
        for (i = 0; names[i] != NULL && strcmp(names[i], key) != 0; i++)
            ;
        if (names[i] == NULL)
            return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "unknown property '%.64s'",
                                  key);
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT,
                                  "%s must be a string without NUL", key);
        out[i] = json_string_value(v);
    }
    return SN_OK;
}

static int parse_number(sn_sub_job *j, const char *text, sn_number *n)
{
    char why[SN_ERRMSG_MAX];
    if (text == NULL)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "number is required");
    if (sn_number_parse(text, strlen(text), j->t.svc->rules.default_cc, n, why, sizeof(why)) !=
        SN_OK)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "number: %s", why);
    return SN_OK;
}

/* "zh" or "en" from the body, else the deployment's default. */
static int parse_lang(sn_sub_job *j, const char *text, char lang[SN_LANG_LEN + 1])
{
    int l = text != NULL ? sn_lang_parse(text) : (j->t.svc->rules.default_cc == 86 ? SN_LANG_ZH
                                                                                    : SN_LANG_EN);
    if (l < 0)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "lang must be zh or en");
    snprintf(lang, SN_LANG_LEN + 1, "%s", sn_lang_code(l));
    return SN_OK;
}

static void put_time(sn_strbuf *b, const char *name, int64_t t)
{
    char text[SN_TIME_TEXT_MAX];
    if (t == 0) {
        sn_strbuf_printf(b, "\"%s\":null", name);
        return;
    }
    sn_utc_format(t, text);
    sn_strbuf_printf(b, "\"%s\":\"%s\"", name, text);
}

static int failed(sn_sub_job *j, const char *err)
{
    return sn_sub_store_failed(j, "subscribers", err);
}

/* Drop dead codes, sessions and rate windows, at most once a minute. */
static int purge_if_due(sn_sub_job *j, sn_store *s)
{
    sn_subscribers *sub = j->t.svc->subscribers;
    char err[SN_ERRMSG_MAX];
    if (j->t.now - sub->purged_at < PURGE_EVERY_S)
        return SN_OK;
    if (sn_store_subscriber_purge(s, j->t.now, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sub->purged_at = j->t.now;
    return SN_OK;
}

/* rc of sn_sub_rate_limited as a work result */
static int limited(int rc)
{
    return rc < 0 ? SN_ESTORE : SN_EINVAL;
}

/* ---- sign-in ------------------------------------------------------------------- */

static int request_code(sn_sub_job *j, sn_store *s)
{
    static const char *const names[] = {"number", "lang", NULL};
    const sn_subscriber_options *opt = &j->t.svc->subscribers->opt;
    const char *f[2];
    char err[SN_ERRMSG_MAX], text[SN_NUMBER_TEXT_MAX], lang[SN_LANG_LEN + 1];
    char code[SN_OTP_DIGITS + 1], until[SN_TIME_TEXT_MAX], sms[SN_SMS_TEXT_MAX + 1];
    sn_number n;
    sn_number_state st;
    sn_otp o;
    int rc;
    if ((rc = string_fields(j, names, f)) != SN_OK || (rc = parse_number(j, f[0], &n)) != SN_OK ||
        (rc = parse_lang(j, f[1], lang)) != SN_OK)
        return rc;
    sn_number_format(n, text);
    if ((rc = sn_sub_rate_limited(j, s, "otp-a", j->addr, opt->otp_per_address,
                                  "code requests from your address")) != 0 ||
        (rc = sn_sub_rate_limited(j, s, "otp-n", text, opt->otp_per_number,
                                  "codes for this number")) != 0)
        return limited(rc);
    if ((rc = purge_if_due(j, s)) != SN_OK)
        return rc;
    rc = sn_store_otp_get(s, n, &o, err, sizeof(err));
    if (rc != SN_OK && rc != SN_ENOTFOUND)
        return failed(j, err);
    if (rc == SN_OK && sn_otp_locked(&o, j->t.now)) {
        sn_utc_format(o.locked_until, until);
        return sn_sub_committed_error(j, SN_HTTP_TOO_MANY_REQUESTS,
                                      "too many wrong answers for this number: locked until %s",
                                      until); /* committed: the request counts against the limits */
    }
    memset(&o, 0, sizeof(o));
    o.number = n;
    sn_otp_new_code(code);
    sn_otp_hash(j->t.svc->secret, n, code, SN_OTP_DIGITS, o.code_hash);
    o.created = j->t.now;
    o.expires = j->t.now + opt->otp_ttl_s;
    snprintf(o.lang, sizeof(o.lang), "%s", lang);
    if (sn_store_otp_put(s, &o, err, sizeof(err)) != SN_OK ||
        sn_store_get_state(s, n, &st, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    if (sn_has_subscriber(&st)) {
        unsigned minutes = (unsigned)((opt->otp_ttl_s + 59) / 60);
        sn_sms_otp_text(sn_lang_parse(lang), code, minutes, sms, sizeof(sms));
        if (sn_sms_queue(s, &j->t.svc->subscribers->sms, n, SN_SMS_OTP, lang, sms, j->t.now, err,
                         sizeof(err)) != SN_OK)
            return failed(j, err);
    }
    sodium_memzero(code, sizeof(code));
    sn_strbuf_printf(&j->t.out,
                     "{\"status\":\"code_requested\",\"number\":\"%s\",\"expires_in\":%lld,"
                     "\"max_attempts\":%u}",
                     text, (long long)opt->otp_ttl_s, opt->otp_max_attempts);
    return SN_OK;
}

typedef struct {
    int has;
    uint8_t hash[SN_ID6_HASH_LEN];
} id6_scan;

/* The latest id6 the carrier reported in the current tenure: on the latest
 * activation or any later event of the number. */
static int id6_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    id6_scan *sc = ctx;
    (void)ordinal;
    if (e->ev.kind == SN_EV_ACTIVATE)
        sc->has = 0;
    if (e->has_id6) {
        sc->has = 1;
        memcpy(sc->hash, e->id6_hash, SN_ID6_HASH_LEN);
    }
    return 0;
}

/* Answer a failed attempt (the code row o was judged and must be kept). */
static int wrong_answer(sn_sub_job *j, sn_store *s, sn_otp *o, sn_otp_verdict v, int code_right)
{
    const sn_subscriber_options *opt = &j->t.svc->subscribers->opt;
    char err[SN_ERRMSG_MAX], until[SN_TIME_TEXT_MAX];
    unsigned left = opt->otp_max_attempts - o->attempts;
    if (sn_store_otp_put(s, o, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    if (v == SN_OTP_LOCKOUT) {
        sn_utc_format(o->locked_until, until);
        return sn_sub_committed_error(j, SN_HTTP_TOO_MANY_REQUESTS,
                                      "too many wrong answers: the number is locked until %s; "
                                      "request a new code then",
                                      until);
    }
    if (code_right)
        return sn_sub_committed_error(j, SN_HTTP_PERMISSION_DENIED,
                                      "the ID digits do not match the carrier's record: %u "
                                      "attempt%s left",
                                      left, left == 1 ? "" : "s");
    return sn_sub_committed_error(j, SN_HTTP_UNAUTHENTICATED, "wrong code: %u attempt%s left",
                                  left, left == 1 ? "" : "s");
}

static int start_session(sn_sub_job *j, sn_store *s, const sn_otp *o, const sn_number_state *st)
{
    const sn_subscriber_options *opt = &j->t.svc->subscribers->opt;
    char err[SN_ERRMSG_MAX], token[SN_SESSION_TOKEN_LEN + 1], number[SN_NUMBER_TEXT_MAX];
    sn_session ses;
    memset(&ses, 0, sizeof(ses));
    sn_session_token_new(token, ses.token_hash);
    ses.number = o->number;
    ses.tenure = st->tenure;
    ses.cancel_day = st->last_cancel_day;
    ses.created = j->t.now;
    ses.expires = j->t.now + opt->session_ttl_s;
    snprintf(ses.lang, sizeof(ses.lang), "%s", o->lang);
    if (sn_store_otp_put(s, o, err, sizeof(err)) != SN_OK ||
        sn_store_session_put(s, &ses, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_number_format(o->number, number);
    sn_strbuf_printf(&j->t.out, "{\"token\":\"%s\",\"number\":\"%s\",\"tenure\":%u,\"lang\":\"%s\",",
                     token, number, ses.tenure, ses.lang);
    put_time(&j->t.out, "expires_at", ses.expires);
    sn_strbuf_printf(&j->t.out, "}");
    sodium_memzero(token, sizeof(token));
    j->t.status = 201;
    return SN_OK;
}

static int create_session(sn_sub_job *j, sn_store *s)
{
    static const char *const names[] = {"number", "code", "id6", NULL};
    const sn_subscriber_options *opt = &j->t.svc->subscribers->opt;
    const char *f[3];
    char err[SN_ERRMSG_MAX], id6[SN_ID6_LEN], until[SN_TIME_TEXT_MAX];
    uint8_t hash[SN_SECRET_HASH_LEN], id6_hash[SN_ID6_HASH_LEN];
    id6_scan scan = {0, {0}};
    sn_number n;
    sn_number_state st;
    sn_otp row, *o = &row;
    int rc, code_right = 0, right = 0;
    if ((rc = string_fields(j, names, f)) != SN_OK || (rc = parse_number(j, f[0], &n)) != SN_OK)
        return rc;
    if (f[1] == NULL || !sn_otp_code_valid(f[1], strlen(f[1])))
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "code must be the 6 digits sent");
    if (f[2] == NULL || sn_id6_parse(f[2], strlen(f[2]), id6, err, sizeof(err)) != SN_OK)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT,
                              "id6 must be the last six characters of your ID (5 digits, then a "
                              "digit or X)");
    if ((rc = sn_sub_rate_limited(j, s, "signin-a", j->addr, opt->signin_per_address,
                                  "sign-in attempts from your address")) != 0)
        return limited(rc);
    if ((rc = purge_if_due(j, s)) != SN_OK)
        return rc;
    rc = sn_store_otp_get(s, n, &row, err, sizeof(err));
    if (rc == SN_ENOTFOUND)
        o = NULL;
    else if (rc != SN_OK)
        return failed(j, err);
    if (sn_store_get_state(s, n, &st, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    if (o != NULL && !sn_otp_locked(o, j->t.now)) {
        sn_otp_hash(j->t.svc->secret, n, f[1], SN_OTP_DIGITS, hash);
        code_right = sodium_memcmp(hash, o->code_hash, SN_SECRET_HASH_LEN) == 0 &&
                     sn_has_subscriber(&st);
    }
    if (code_right && o->expires > j->t.now) {
        if (sn_store_scan_events(s, n, id6_event, &scan, err, sizeof(err)) != SN_OK)
            return failed(j, err);
        if (!scan.has)
            return sn_sub_committed_error(j, SN_HTTP_PERMISSION_DENIED,
                                          "the carrier has no ID on record for this number: ask "
                                          "the carrier to add it");
        sn_id6_hash(j->t.svc->secret, n, id6, id6_hash);
        right = sodium_memcmp(id6_hash, scan.hash, SN_ID6_HASH_LEN) == 0;
    }
    sodium_memzero(id6, sizeof(id6));
    /* Every answer from here on commits: the attempt counts against the
     * address's limit whatever it says. */
    sn_otp_verdict v = sn_otp_judge(o, right, j->t.now, opt);
    switch (v) {
    case SN_OTP_OK: return start_session(j, s, o, &st);
    case SN_OTP_NONE:
        return sn_sub_committed_error(j, SN_HTTP_UNAUTHENTICATED,
                                      "no code is waiting for this number: request one");
    case SN_OTP_EXPIRED:
        return sn_sub_committed_error(j, SN_HTTP_UNAUTHENTICATED,
                                      "the code has expired: request a new one");
    case SN_OTP_LOCKED:
        sn_utc_format(o->locked_until, until);
        return sn_sub_committed_error(j, SN_HTTP_TOO_MANY_REQUESTS,
                                      "too many wrong answers: the number is locked until %s",
                                      until);
    default: return wrong_answer(j, s, o, v, code_right);
    }
}

static int session_answer(sn_sub_job *j)
{
    char number[SN_NUMBER_TEXT_MAX];
    sn_number_format(j->ses.number, number);
    sn_strbuf_printf(&j->t.out, "{\"number\":\"%s\",\"tenure\":%u,\"lang\":\"%s\",", number,
                     j->ses.tenure, j->ses.lang);
    put_time(&j->t.out, "expires_at", j->ses.expires);
    sn_strbuf_printf(&j->t.out, "}");
    return SN_OK;
}

static int get_session(sn_sub_job *j, sn_store *s)
{
    (void)s;
    return session_answer(j);
}

static int end_session(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    if (sn_store_session_delete(s, j->token_hash, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_strbuf_printf(&j->t.out, "{\"signed_out\":true}");
    return SN_OK;
}

/* ---- the number's bindings, per app ------------------------------------------- */

typedef struct {
    uint32_t app;
    char name[SN_APP_NAME_MAX + 1];
    char display[SN_DISPLAY_NAME_MAX + 1];
    uint32_t mine, previous;
    int64_t dates[DATES_LISTED]; /* bound_at of the first `mine` ones, oldest first */
} app_summary;

typedef struct {
    app_summary *v;
    size_t n, cap;
    uint32_t tenure;
    int failed;
} summary;

static int summarise(void *ctx, const sn_binding *b, const char *app, const char *display)
{
    summary *sm = ctx;
    app_summary *a;
    if (sm->n == 0 || sm->v[sm->n - 1].app != b->app) {
        a = sn_grow(sm->v, &sm->cap, sm->n, sizeof(*a), 8);
        if (a == NULL) {
            sm->failed = 1;
            return SN_ENOMEM;
        }
        sm->v = a;
        a = &sm->v[sm->n++];
        memset(a, 0, sizeof(*a));
        a->app = b->app;
        snprintf(a->name, sizeof(a->name), "%s", app != NULL ? app : "");
        snprintf(a->display, sizeof(a->display), "%s",
                 display != NULL && display[0] != '\0' ? display : a->name);
    }
    a = &sm->v[sm->n - 1];
    if (b->tenure == sm->tenure) {
        if (a->mine < DATES_LISTED)
            a->dates[a->mine] = b->bound_at;
        a->mine++;
    } else if (b->tenure < sm->tenure) {
        a->previous++;
    }
    return 0;
}

/* Every app's bindings on the session's number, summarised; the caller
 * frees sm->v. */
static int summarise_bindings(sn_sub_job *j, sn_store *s, summary *sm)
{
    char err[SN_ERRMSG_MAX];
    memset(sm, 0, sizeof(*sm));
    sm->tenure = j->ses.tenure;
    int rc = sn_store_number_bindings(s, j->ses.number, summarise, sm, err, sizeof(err));
    if (rc != SN_OK && sm->failed)
        return sn_tenant_fail(&j->t, SN_HTTP_INTERNAL, "out of memory");
    return rc == SN_OK ? SN_OK : failed(j, err);
}

static void put_app(sn_strbuf *b, const app_summary *a)
{
    sn_strbuf_printf(b, "\"app\":");
    sn_strbuf_string(b, a->name);
    sn_strbuf_printf(b, ",\"display_name\":");
    sn_strbuf_string(b, a->display);
}

static int list_bindings(sn_sub_job *j, sn_store *s)
{
    char number[SN_NUMBER_TEXT_MAX], at[SN_TIME_TEXT_MAX];
    summary sm;
    int rc = summarise_bindings(j, s, &sm);
    if (rc != SN_OK)
        return rc;
    sn_number_format(j->ses.number, number);
    sn_strbuf_printf(&j->t.out, "{\"number\":\"%s\",\"tenure\":%u,\"apps\":[", number,
                     j->ses.tenure);
    size_t shown = 0;
    for (size_t i = 0; i < sm.n; i++) {
        const app_summary *a = &sm.v[i];
        if (a->mine == 0 && a->previous == 0)
            continue; /* bound only in a later tenure: cannot happen, kept out anyway */
        sn_strbuf_printf(&j->t.out, "%s{", shown++ ? "," : "");
        put_app(&j->t.out, a);
        sn_strbuf_printf(&j->t.out, ",\"mine\":{\"count\":%u,\"bound_at\":[", a->mine);
        for (uint32_t k = 0; k < a->mine && k < DATES_LISTED; k++) {
            sn_utc_format(a->dates[k], at);
            sn_strbuf_printf(&j->t.out, "%s\"%s\"", k ? "," : "", at);
        }
        sn_strbuf_printf(&j->t.out, "]},\"previous\":{\"count\":%u}}", a->previous);
    }
    sn_strbuf_printf(&j->t.out, "]}");
    free(sm.v);
    return SN_OK;
}

/* ---- unbind requests ------------------------------------------------------------- */

static void request_json(sn_strbuf *b, const sn_request *r, int64_t now)
{
    const char *state = r->acknowledged >= r->notices ? "done"
                        : r->deadline < now          ? "overdue"
                                                     : "open";
    sn_strbuf_printf(b, "{\"id\":\"%llu\",\"app\":", (unsigned long long)r->id);
    sn_strbuf_string(b, r->app_name);
    sn_strbuf_printf(b, ",\"display_name\":");
    sn_strbuf_string(b, r->display[0] != '\0' ? r->display : r->app_name);
    sn_strbuf_printf(b, ",\"scope\":\"%s\",", sn_scope_name(r->scope));
    put_time(b, "created_at", r->created);
    sn_strbuf_printf(b, ",");
    put_time(b, "deadline", r->deadline);
    sn_strbuf_printf(b, ",\"state\":\"%s\",\"notices\":%u,\"acknowledged\":%u,\"outcomes\":{", state,
                     r->notices, r->acknowledged);
    for (int i = SN_OUTCOME_UNBOUND; i <= SN_OUTCOME_REFUSED; i++)
        sn_strbuf_printf(b, "%s\"%s\":%u", i > SN_OUTCOME_UNBOUND ? "," : "", sn_outcome_name(i),
                         r->outcomes[i]);
    sn_strbuf_printf(b, "}}");
}

typedef struct {
    uint32_t tenure;
    int scope;
    size_t in_scope;
} scope_count;

static int count_in_scope(void *ctx, const sn_binding *b)
{
    scope_count *sc = ctx;
    if (sc->scope == SN_SCOPE_PREVIOUS ? b->tenure < sc->tenure : b->tenure == sc->tenure)
        sc->in_scope++;
    return 0;
}

static int ask_unbind(sn_sub_job *j, sn_store *s)
{
    static const char *const names[] = {"app", "scope", NULL};
    const char *f[2];
    char err[SN_ERRMSG_MAX];
    sn_request r;
    size_t issued = 0;
    int rc;
    if ((rc = string_fields(j, names, f)) != SN_OK)
        return rc;
    if (f[0] == NULL || f[1] == NULL || sn_scope_parse(f[1]) == 0)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT,
                              "give app and scope (previous or mine)");
    memset(&r, 0, sizeof(r));
    rc = sn_store_app_id(s, f[0], 0, &r.app, err, sizeof(err));
    if (rc == SN_ENOTFOUND)
        return sn_tenant_fail(&j->t, SN_HTTP_NOT_FOUND, "no app named '%.64s'", f[0]);
    if (rc != SN_OK)
        return failed(j, err);
    r.number = j->ses.number;
    r.tenure = j->ses.tenure;
    r.scope = (uint8_t)sn_scope_parse(f[1]);
    r.created = j->t.now;
    r.deadline = j->t.now + j->t.svc->notice_deadline_s;
    if (sn_store_add_request(s, &r, j->t.now * 1000, &issued, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    if (issued == 0) {
        scope_count sc = {r.tenure, r.scope, 0};
        if (sn_store_list_bindings(s, r.app, r.number, count_in_scope, &sc, err, sizeof(err)) !=
            SN_OK)
            return failed(j, err);
        if (sc.in_scope > 0)
            return sn_tenant_fail(&j->t, SN_HTTP_CONFLICT,
                                  "already asked: the app has yet to answer the open requests");
        return sn_tenant_fail(&j->t, SN_HTTP_NOT_FOUND, "'%.64s' holds no binding %s on this number",
                              f[0],
                              r.scope == SN_SCOPE_PREVIOUS ? "of a previous owner" : "of yours");
    }
    if (sn_store_app_display(s, r.app, r.display, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    snprintf(r.app_name, sizeof(r.app_name), "%s", f[0]);
    r.notices = (uint32_t)issued;
    request_json(&j->t.out, &r, j->t.now);
    j->t.status = 201;
    j->t.wake = 1; /* webhook deliveries for the new notices */
    return SN_OK;
}

typedef struct {
    sn_sub_job *j;
    size_t n;
} request_page;

static int page_request(void *ctx, const sn_request *r)
{
    request_page *p = ctx;
    if (p->n++ > 0)
        sn_strbuf_printf(&p->j->t.out, ",");
    request_json(&p->j->t.out, r, p->j->t.now);
    return 0;
}

static int list_requests(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    request_page p = {j, 0};
    sn_strbuf_printf(&j->t.out, "{\"requests\":[");
    if (sn_store_list_requests(s, j->ses.number, j->ses.tenure, page_request, &p, err,
                               sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_strbuf_printf(&j->t.out, "]}");
    return SN_OK;
}

/* ---- complaints ------------------------------------------------------------------- */

static int file_complaint(sn_sub_job *j, sn_store *s)
{
    static const char *const names[] = {"app", "kind", "text", NULL};
    const sn_subscriber_options *opt = &j->t.svc->subscribers->opt;
    const char *f[3];
    char err[SN_ERRMSG_MAX], number[SN_NUMBER_TEXT_MAX];
    sn_complaint c;
    int rc;
    if ((rc = string_fields(j, names, f)) != SN_OK)
        return rc;
    if (f[1] == NULL || sn_complaint_kind_parse(f[1]) == 0)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT,
                              "kind must be harassment, cannot_register, takeover or other");
    if (f[2] == NULL || f[2][0] == '\0' || strlen(f[2]) > SN_COMPLAINT_TEXT_MAX)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "text must be 1 to %d bytes",
                              SN_COMPLAINT_TEXT_MAX);
    memset(&c, 0, sizeof(c));
    if (f[0] != NULL) {
        rc = sn_store_app_id(s, f[0], 0, &c.app, err, sizeof(err));
        if (rc == SN_ENOTFOUND)
            return sn_tenant_fail(&j->t, SN_HTTP_NOT_FOUND, "no app named '%.64s'", f[0]);
        if (rc != SN_OK)
            return failed(j, err);
    }
    sn_number_format(j->ses.number, number);
    if ((rc = sn_sub_rate_limited(j, s, "complaint-n", number, opt->complaints_per_number,
                                  "complaints for this number")) != 0)
        return limited(rc);
    c.number = j->ses.number;
    c.tenure = j->ses.tenure;
    c.carrier = j->st.carrier;
    c.kind = (uint8_t)sn_complaint_kind_parse(f[1]);
    c.created = j->t.now;
    c.period = opt->complaint_period_s;
    snprintf(c.text, sizeof(c.text), "%s", f[2]);
    if (sn_store_add_complaint(s, &c, err, sizeof(err)) != SN_OK ||
        sn_store_get_complaint(s, c.id, &c, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_sub_complaint_json(&j->t.out, &c, 0, j->t.now);
    j->t.status = 201;
    return SN_OK;
}

typedef struct {
    sn_sub_job *j;
    size_t n;
} complaint_page;

static int page_complaint(void *ctx, const sn_complaint *c)
{
    complaint_page *p = ctx;
    if (p->n++ > 0)
        sn_strbuf_printf(&p->j->t.out, ",");
    sn_sub_complaint_json(&p->j->t.out, c, 0, p->j->t.now);
    return 0;
}

static int list_complaints(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    sn_complaint_query q;
    complaint_page p = {j, 0};
    memset(&q, 0, sizeof(q));
    q.number = j->ses.number;
    q.tenure = j->ses.tenure;
    q.limit = 500;
    q.now = j->t.now;
    sn_strbuf_printf(&j->t.out, "{\"complaints\":[");
    if (sn_store_list_complaints(s, &q, page_complaint, &p, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_strbuf_printf(&j->t.out, "]}");
    return SN_OK;
}

/* ---- the summary by SMS and the checklist ------------------------------------------ */

typedef struct {
    uint32_t open_mine[REPORT_APPS_MAX]; /* apps with an open "mine" request */
    size_t nmine;
    uint32_t open;
    int64_t now;
} open_requests;

static int count_open(void *ctx, const sn_request *r)
{
    open_requests *o = ctx;
    if (r->acknowledged >= r->notices)
        return 0;
    o->open++;
    if (r->scope == SN_SCOPE_MINE && o->nmine < REPORT_APPS_MAX)
        o->open_mine[o->nmine++] = r->app;
    return 0;
}

static int report_by_sms(sn_sub_job *j, sn_store *s)
{
    static const char *const names[] = {"lang", NULL};
    const sn_subscriber_options *opt = &j->t.svc->subscribers->opt;
    const char *f[1];
    char err[SN_ERRMSG_MAX], lang[SN_LANG_LEN + 1], masked[SN_NUMBER_TEXT_MAX];
    char number[SN_NUMBER_TEXT_MAX], text[SN_SMS_TEXT_MAX + 1];
    sn_report_app apps[REPORT_APPS_MAX];
    open_requests open;
    summary sm;
    size_t n = 0;
    int rc;
    if ((rc = string_fields(j, names, f)) != SN_OK ||
        (rc = parse_lang(j, f[0] != NULL ? f[0] : j->ses.lang, lang)) != SN_OK)
        return rc;
    sn_number_format(j->ses.number, number);
    if ((rc = sn_sub_rate_limited(j, s, "report-n", number, opt->reports_per_number,
                                  "reports by SMS for this number")) != 0)
        return limited(rc);
    memset(&open, 0, sizeof(open));
    if (sn_store_list_requests(s, j->ses.number, j->ses.tenure, count_open, &open, err,
                               sizeof(err)) != SN_OK)
        return failed(j, err);
    if ((rc = summarise_bindings(j, s, &sm)) != SN_OK)
        return rc;
    for (size_t i = 0; i < sm.n && n < REPORT_APPS_MAX; i++)
        if (sm.v[i].mine > 0 || sm.v[i].previous > 0)
            apps[n++] = (sn_report_app){sm.v[i].display, sm.v[i].mine, sm.v[i].previous};
    sn_mask_number(j->ses.number, masked);
    sn_sms_report_text(sn_lang_parse(lang), masked, apps, n, open.open, text, sizeof(text));
    free(sm.v);
    if (sn_sms_queue(s, &j->t.svc->subscribers->sms, j->ses.number, SN_SMS_REPORT, lang, text,
                     j->t.now, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_strbuf_printf(&j->t.out, "{\"status\":\"queued\",\"lang\":\"%s\",\"text\":", lang);
    sn_strbuf_string(&j->t.out, text);
    sn_strbuf_printf(&j->t.out, "}");
    return SN_OK;
}

static int checklist(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX], number[SN_NUMBER_TEXT_MAX];
    open_requests open;
    summary sm;
    size_t shown = 0;
    int rc;
    memset(&open, 0, sizeof(open));
    if (sn_store_list_requests(s, j->ses.number, j->ses.tenure, count_open, &open, err,
                               sizeof(err)) != SN_OK)
        return failed(j, err);
    if ((rc = summarise_bindings(j, s, &sm)) != SN_OK)
        return rc;
    sn_number_format(j->ses.number, number);
    sn_strbuf_printf(&j->t.out, "{\"number\":\"%s\",\"tenure\":%u,\"apps\":[", number,
                     j->ses.tenure);
    for (size_t i = 0; i < sm.n; i++) {
        const app_summary *a = &sm.v[i];
        int requested = 0;
        if (a->mine == 0)
            continue;
        for (size_t k = 0; k < open.nmine; k++)
            requested |= open.open_mine[k] == a->app;
        sn_strbuf_printf(&j->t.out, "%s{", shown++ ? "," : "");
        put_app(&j->t.out, a);
        sn_strbuf_printf(&j->t.out, ",\"bindings\":%u,", a->mine);
        put_time(&j->t.out, "first_bound_at", a->dates[0]);
        sn_strbuf_printf(&j->t.out, ",\"requested\":%s}", requested ? "true" : "false");
    }
    sn_strbuf_printf(&j->t.out, "],\"ready\":%s}", shown == 0 ? "true" : "false");
    free(sm.v);
    return SN_OK;
}

/* ---- the CAMARA check with a session ----------------------------------------------- */

/* The body was read on the loop thread; the session is judged first. */
static int camara_session_check(sn_sub_job *j, sn_store *s)
{
    (void)s;
    sn_verdict_reason reason;
    if (j->camara_status != 0)
        return sn_tenant_fail(&j->t, j->camara_error, "%s", j->camara_message);
    sn_verdict v = sn_verdict_of(&j->st, j->camara_day, &reason);
    if (v == SN_VERDICT_UNKNOWN) {
        char first[SN_DAY_TEXT_MAX];
        sn_day_format(j->st.first_day, first);
        return sn_tenant_fail(&j->t, SN_HTTP_OUT_OF_RANGE,
                              "no data covers specifiedDate: records begin on %s", first);
    }
    sn_strbuf_printf(&j->t.out, "{\"phoneNumberRecycled\":%s}",
                     v == SN_VERDICT_REASSIGNED ? "true" : "false");
    return SN_OK;
}

static void camara_body_error(sn_sub_job *j, sn_http_error e, const char *fmt, const char *arg)
{
    j->camara_status = sn_http_error_status(e);
    j->camara_error = e;
    snprintf(j->camara_message, sizeof(j->camara_message), fmt, arg);
}

static void camara_with_session(sn_call *c)
{
    sn_flat_field f[2] = {{"phoneNumber", NULL, 0, 0}, {"specifiedDate", NULL, 0, 0}};
    char scratch[1024], why[SN_ERRMSG_MAX];
    sn_sub_job *j = sn_sub_job_new(c, camara_session_check, NULL, 0, 0, 1);
    if (j == NULL)
        return;
    j->t.read_only = 1;
    sn_day today = sn_day_of(j->t.now, c->svc->rules.tz_minutes);
    if (c->req->entity.len > sizeof(scratch) - 8)
        camara_body_error(j, SN_HTTP_INVALID_ARGUMENT, "%s", "the request body is too long for a check");
    else if (sn_flatjson_parse(c->req->entity.base, c->req->entity.len, f, 2, scratch,
                               sizeof(scratch), why, sizeof(why)) != SN_OK)
        camara_body_error(j, SN_HTTP_INVALID_ARGUMENT, "%s", why);
    else if (f[0].value != NULL)
        camara_body_error(j, SN_HTTP_UNNECESSARY_IDENTIFIER, "%s",
                          "the phone number is already identified by the access token");
    else if (f[1].value == NULL)
        camara_body_error(j, SN_HTTP_INVALID_ARGUMENT, "%s", "specifiedDate is required");
    else if (sn_day_parse(f[1].value, f[1].len, &j->camara_day, why, sizeof(why)) != SN_OK)
        camara_body_error(j, SN_HTTP_INVALID_ARGUMENT, "specifiedDate: %s", why);
    else if (sn_check_day(j->camara_day, today, why, sizeof(why)) != SN_OK)
        camara_body_error(j, SN_HTTP_OUT_OF_RANGE, "specifiedDate: %s", why);
    sn_sub_submit(c, j);
}

/* The CAMARA route authenticates here: a session token (three-legged: the
 * subscriber's own number) or an app key (two-legged), as server.c does
 * for every other route, then the index-only check of h_check.c. */
void sn_h_camara_entry(sn_call *c)
{
    ssize_t i = h2o_find_header(&c->req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    h2o_iovec_t v = i != -1 ? c->req->headers.entries[i].value : h2o_iovec_init(NULL, 0);
    if (i == -1) {
        sn_reply_error(c, SN_HTTP_UNAUTHENTICATED, "missing Authorization: Bearer API key");
        return;
    }
    if (v.len > 7 && strncasecmp(v.base, "Bearer ", 7) == 0 &&
        sn_session_token_shaped(v.base + 7, v.len - 7)) {
        camara_with_session(c);
        return;
    }
    if (v.len < 8 || strncasecmp(v.base, "Bearer ", 7) != 0 ||
        !sn_keyring_find(c->svc->keys, v.base + 7, v.len - 7, &c->key)) {
        sn_reply_error(c, SN_HTTP_UNAUTHENTICATED,
                       "Request not authenticated due to missing, invalid, or revoked credentials");
        return;
    }
    if (c->key.role != SN_ROLE_APP) {
        sn_reply_error(c, SN_HTTP_PERMISSION_DENIED, "this operation needs a key with the %s role",
                       sn_role_name(SN_ROLE_APP));
        return;
    }
    sn_h_camara_check(c);
}

/* ---- handlers ------------------------------------------------------------------------ */

static void submit(sn_call *c, int (*work)(sn_sub_job *, sn_store *), int with_body,
                   int need_session)
{
    sn_sub_job *j = sn_sub_job_new(c, work, NULL, with_body, 0, need_session);
    if (j != NULL)
        sn_sub_submit(c, j);
}

void sn_h_sub_otp(sn_call *c)
{
    submit(c, request_code, 1, 0);
}

void sn_h_sub_session_create(sn_call *c)
{
    submit(c, create_session, 1, 0);
}

void sn_h_sub_session_get(sn_call *c)
{
    submit(c, get_session, 0, 1);
}

void sn_h_sub_session_delete(sn_call *c)
{
    submit(c, end_session, 0, 1);
}

void sn_h_sub_bindings(sn_call *c)
{
    submit(c, list_bindings, 0, 1);
}

void sn_h_sub_unbind(sn_call *c)
{
    submit(c, ask_unbind, 1, 1);
}

void sn_h_sub_requests(sn_call *c)
{
    submit(c, list_requests, 0, 1);
}

void sn_h_sub_complaint_add(sn_call *c)
{
    submit(c, file_complaint, 1, 1);
}

void sn_h_sub_complaints(sn_call *c)
{
    submit(c, list_complaints, 0, 1);
}

void sn_h_sub_report(sn_call *c)
{
    submit(c, report_by_sms, 2, 1);
}

void sn_h_sub_checklist(sn_call *c)
{
    submit(c, checklist, 0, 1);
}

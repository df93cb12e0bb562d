/*
 * h_camara.c - POST /number-recycling/{v0.2,v0.3,v0.3rc1}/check, the
 * CAMARA Number Recycling check: {phoneNumber, specifiedDate} ->
 * {phoneNumberRecycled}.
 *
 * With an app key (two-legged, sn_h_camara*) the number is in the body and
 * the answer comes from the serving index on this loop thread (checks.h):
 * nothing on that path touches the writer or the store; it counts against
 * the key's limits (limits.c). With a
 * subscriber's session token (three-legged, sn_w_camara*_session) the token
 * names the number: a phoneNumber in the body is UNNECESSARY_IDENTIFIER,
 * and the session, which lives in the store (several nodes share it, and
 * signing out ends it everywhere at once), is judged there, on the writer,
 * before anything else is answered. With a three-legged OAuth access token
 * (router.c) the token names the number too, and the check runs on this
 * loop thread as an app key's does. The router read the body (its form;
 * an unknown property is 400 INVALID_ARGUMENT for every version).
 *
 * The versions differ only here (docs/http-api.md): v0.3 (v0.3.0-rc.1's
 * text) names the longest phoneNumber and specifiedDate, holds the day
 * against the provider's window (serve --camara-window-start). Both answer
 * a number they do not know, outside every carrier's range when ranges are
 * configured, 422 SERVICE_NOT_APPLICABLE (v0.2.0 lists the code, and its
 * published test definitions expect it), any other unknown number 404.
 *
 * Receipts: an app's check with the request header Secondnum-Receipt: true
 * gets the signed receipt of a 200 answer (h_receipts.c) in the response
 * header Secondnum-Receipt, base64url of the receipt's JSON; the body stays
 * CAMARA's. Without the header nothing about the answer changes.
 */
#include "http/job.h"
#include "service/checks.h"
#include "crypto/receipt.h"
#include "service/signin.h"

#include "core/errors.h"
#include "util/metrics.h"

#include <sodium.h>
#include <stdio.h>

/* v0.3's maxLength of the body's strings (the x-correlator's, 256, is the
 * router's for every route). */
#define SN_CAMARA_PHONE_NUMBER_MAX 16
#define SN_CAMARA_SPECIFIED_DATE_MAX 64

/* The body (the router reads it by this form): c->form[F_NUMBER] and
 * c->form[F_DATE]. */
enum { F_NUMBER, F_DATE };
const sn_form sn_camara_form = {{"phoneNumber", "specifiedDate"}, 0, 0};

typedef enum { V02, V03 } camara_version;

#define RECEIPT_HEADER "secondnum-receipt"
/* The header's value: base64url of a receipt, and its NUL. */
#define RECEIPT_HEADER_MAX (SN_RECEIPT_MAX / 3 * 4 + 4)

/* What to answer: an error, or whether the number was recycled. */
typedef struct {
    int failed;
    sn_http_error error;
    char message[2 * SN_ERRMSG_MAX];
    int recycled;
} camara_outcome;

/* Record why; returns 0. */
static int fail(camara_outcome *o, sn_http_error e, const char *fmt, const char *arg)
{
    o->failed = 1;
    o->error = e;
    snprintf(o->message, sizeof(o->message), fmt, arg);
    return 0;
}

/* v0.3's length limits of the body's strings: 1, or 0 with the error. */
static int lengths_ok(const sn_call *c, camara_outcome *o)
{
    char text[96];
    if (c->form[F_NUMBER].value != NULL && c->form[F_NUMBER].len > SN_CAMARA_PHONE_NUMBER_MAX) {
        snprintf(text, sizeof(text), "%d", SN_CAMARA_PHONE_NUMBER_MAX);
        return fail(o, SN_HTTP_INVALID_ARGUMENT, "phoneNumber is longer than %s characters", text);
    }
    if (c->form[F_DATE].value != NULL && c->form[F_DATE].len > SN_CAMARA_SPECIFIED_DATE_MAX) {
        snprintf(text, sizeof(text), "%d", SN_CAMARA_SPECIFIED_DATE_MAX);
        return fail(o, SN_HTTP_INVALID_ARGUMENT, "specifiedDate is longer than %s characters",
                    text);
    }
    return 1;
}

/* The question of the body, in CAMARA's order of errors (the day is not
 * yet held against today): 1, or 0 with the error in o. */
static int read_question(const sn_call *c, camara_version v, sn_check_question *q,
                         camara_outcome *o)
{
    const sn_flat_field *number = &c->form[F_NUMBER], *date = &c->form[F_DATE];
    char why[SN_ERRMSG_MAX];
    int identified = c->session || c->oauth_subscriber;
    memset(q, 0, sizeof(*q));
    if (number->value != NULL && identified)
        return fail(o, SN_HTTP_UNNECESSARY_IDENTIFIER, "%s",
                    "the phone number is already identified by the access token");
    if (date->value == NULL)
        return fail(o, SN_HTTP_INVALID_ARGUMENT, "%s", "specifiedDate is required");
    if (v == V03 && !lengths_ok(c, o))
        return 0;
    if (sn_day_parse(date->value, date->len, &q->day, why, sizeof(why)) != SN_OK)
        return fail(o, SN_HTTP_INVALID_ARGUMENT, "specifiedDate: %s", why);
    if (number->value != NULL &&
        sn_number_parse(number->value, number->len, 0, &q->number, why, sizeof(why)) != SN_OK)
        return fail(o, SN_HTTP_INVALID_ARGUMENT, "%s",
                    "phoneNumber must match ^\\+[1-9][0-9]{4,14}$");
    if (number->value == NULL && !identified)
        return fail(o, SN_HTTP_MISSING_IDENTIFIER, "%s", "The phone number cannot be identified");
    if (c->oauth_subscriber)
        q->number = c->oauth_number;
    return 1;
}

/* v0.3: a day before the provider's window is OUT_OF_RANGE: 1 when inside. */
static int in_window(const sn_service *svc, camara_version v, sn_day day, camara_outcome *o)
{
    char first[SN_DAY_TEXT_MAX];
    if (v != V03 || svc->window_start == SN_DAY_NONE || day >= svc->window_start)
        return 1;
    sn_day_format(svc->window_start, first);
    return fail(o, SN_HTTP_OUT_OF_RANGE,
                "specifiedDate is before %s, the first day this service "
                "evaluates",
                first);
}

/* The check's result (rc SN_OK or SN_EFUTURE) for number n as the outcome. */
static void judge(const sn_service *svc, sn_number n, int rc, const sn_check_answer *a,
                  const char *msg, camara_outcome *o)
{
    char first[SN_DAY_TEXT_MAX];
    if (rc == SN_EFUTURE) {
        fail(o, SN_HTTP_OUT_OF_RANGE, "specifiedDate: %s", msg);
    } else if (!a->known && !sn_coverage_covers(svc->coverage, n)) {
        fail(o, SN_HTTP_SERVICE_NOT_APPLICABLE, "%s",
             "The service is not available for the provided phone number: it is in no "
             "participating carrier's number ranges");
    } else if (!a->known) {
        fail(o, SN_HTTP_IDENTIFIER_NOT_FOUND, "%s", "Phone number not found");
    } else if (a->verdict == SN_VERDICT_UNKNOWN) {
        sn_day_format(a->first_day, first);
        fail(o, SN_HTTP_OUT_OF_RANGE, "no data covers specifiedDate: records begin on %s", first);
    } else {
        o->recycled = a->verdict == SN_VERDICT_REASSIGNED;
    }
}

/* Whether the request asks for a receipt (*want): 1, or 0 with the error
 * (a value other than true; a subscriber's check, whose number the app may
 * not know; receipts off). */
static int receipt_asked(const sn_call *c, int *want, camara_outcome *o)
{
    ssize_t i = h2o_find_header_by_str(&c->req->headers, H2O_STRLIT(RECEIPT_HEADER), -1);
    *want = 0;
    if (i < 0)
        return 1;
    const h2o_iovec_t *v = &c->req->headers.entries[i].value;
    if (v->len != 4 || memcmp(v->base, "true", 4) != 0)
        return fail(o, SN_HTTP_INVALID_ARGUMENT, "%s",
                    "the Secondnum-Receipt header must be true (or absent)");
    if (c->session || c->oauth_subscriber)
        return fail(o, SN_HTTP_INVALID_ARGUMENT, "%s",
                    "receipts are given for an app's checks, which name their number");
    if (c->svc->receipts == NULL)
        return fail(o, SN_HTTP_UNAVAILABLE, "%s", SN_RECEIPTS_OFF);
    *want = 1;
    return 1;
}

/* Sign the receipt of q's answer into the response's header: 1, or 0 with
 * the error. */
static int add_receipt(sn_call *c, camara_version v, const sn_check_question *q,
                       const sn_check_answer *a, camara_outcome *o)
{
    char receipt[SN_RECEIPT_MAX], asked[SN_NUMBER_TEXT_MAX];
    size_t len = 0;
    sn_number_format(q->number, asked);
    if (sn_call_receipt(c, v == V03 ? "camara-v0.3" : "camara-v0.2", "number", asked, q->day,
                        a->verdict, receipt, sizeof(receipt), &len) != SN_OK)
        return fail(o, SN_HTTP_INTERNAL, "%s", "the receipt could not be signed");
    char *text = h2o_mem_alloc_pool(&c->req->pool, RECEIPT_HEADER_MAX);
    sodium_bin2base64(text, RECEIPT_HEADER_MAX, (const unsigned char *)receipt, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    h2o_add_header_by_str(&c->req->pool, &c->req->res.headers, H2O_STRLIT(RECEIPT_HEADER), 0, NULL,
                          text, strlen(text));
    return 1;
}

static const char recycled[] = "{\"phoneNumberRecycled\":true}";
static const char not_recycled[] = "{\"phoneNumberRecycled\":false}";

static int metrics_api(camara_version v)
{
    return v == V03 ? SN_METRICS_API_CAMARA_V03 : SN_METRICS_API_CAMARA;
}

static void answer_with_key(sn_call *c, camara_version v)
{
    camara_outcome o = {0};
    sn_check_question q;
    sn_check_answer a;
    char msg[SN_ERRMSG_MAX];
    if (!sn_call_count_checks(c, 1))
        return;
    int verdict = SN_METRICS_VERDICT_INVALID, want = 0, asked = 0;
    if (receipt_asked(c, &want, &o) && (asked = read_question(c, v, &q, &o)) != 0 &&
        in_window(c->svc, v, q.day, &o)) {
        int rc = sn_check(c->svc, sn_check_today(c->svc), &q, &a, msg, sizeof(msg));
        if (rc == SN_OK)
            verdict = (int)a.verdict;
        judge(c->svc, q.number, rc, &a, msg, &o);
        if (!o.failed && want)
            add_receipt(c, v, &q, &a, &o);
    }
    sn_metrics_count_check(c->who.app, metrics_api(v), verdict);
    if (asked)
        sn_call_audit_check(c, q.by == SN_CHECK_NUMBER, q.number, q.day,
                            verdict == SN_METRICS_VERDICT_INVALID ? -1 : verdict);
    if (o.failed)
        sn_reply_error(c, o.error, "%s", o.message);
    else if (o.recycled)
        sn_reply_json(c, 200, recycled, sizeof(recycled) - 1);
    else
        sn_reply_json(c, 200, not_recycled, sizeof(not_recycled) - 1);
}

void sn_h_camara(sn_call *c)
{
    answer_with_key(c, V02);
}

void sn_h_camara_v03(sn_call *c)
{
    answer_with_key(c, V03);
}

static int answer_session(sn_http_job *j, sn_store *s, camara_version v)
{
    const sn_service *svc = j->call->svc;
    camara_outcome o = {0};
    sn_check_question q;
    sn_check_answer a;
    int want = 0;
    int asked = receipt_asked(j->call, &want, &o) && read_question(j->call, v, &q, &o);
    int rc = sn_signin_check(svc, s, j->call->token_hash, asked ? &q : NULL, sn_check_today(svc),
                             &a, j->message, sizeof(j->message));
    if (rc != SN_OK && rc != SN_EFUTURE)
        return rc; /* the session first */
    int verdict = SN_METRICS_VERDICT_INVALID;
    if (asked && in_window(svc, v, q.day, &o)) {
        if (rc == SN_OK)
            verdict = (int)a.verdict;
        judge(svc, q.number, rc, &a, j->message, &o);
    }
    sn_metrics_count_check(NULL, metrics_api(v), verdict);
    if (asked) /* the session's number, the trail's (never the usage: no app asked) */
        sn_call_audit_check(j->call, 1, q.number, q.day,
                            verdict == SN_METRICS_VERDICT_INVALID ? -1 : verdict);
    if (o.failed)
        return sn_http_fail_as(j, o.error, "%s", o.message);
    sn_strbuf_printf(&j->out, "%s", o.recycled ? recycled : not_recycled);
    return SN_OK;
}

int sn_w_camara_session(sn_http_job *j, sn_store *s)
{
    return answer_session(j, s, V02);
}

int sn_w_camara_v03_session(sn_http_job *j, sn_store *s)
{
    return answer_session(j, s, V03);
}

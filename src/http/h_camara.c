/*
 * h_camara.c - POST /number-recycling/v0.2/check, the CAMARA Number
 * Recycling check: {phoneNumber, specifiedDate} -> {phoneNumberRecycled}.
 *
 * With an app key (two-legged, sn_h_camara) the number is in the body and
 * the answer comes from the serving index on this loop thread (checks.h):
 * nothing on that path touches the writer or the store; it counts against
 * the key's limits (limits.c). With a
 * subscriber's session token (three-legged, sn_w_camara_session) the token
 * names the number: a phoneNumber in the body is UNNECESSARY_IDENTIFIER,
 * and the session, which lives in the store (several nodes share it, and
 * signing out ends it everywhere at once), is judged there, on the writer,
 * before anything else is answered. With a three-legged OAuth access token
 * (router.c) the token names the number too, and the check runs on this
 * loop thread as an app key's does. The router read the body (its form).
 */
#include "http/job.h"
#include "service/checks.h"
#include "service/signin.h"

#include "core/errors.h"
#include "util/metrics.h"

#include <stdio.h>

/* The body (the router reads it by this form): c->form[F_NUMBER] and
 * c->form[F_DATE]. */
enum { F_NUMBER, F_DATE };
const sn_form sn_camara_form = {{"phoneNumber", "specifiedDate"}, 0, 0};

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

/* The question of the body, in CAMARA's order of errors (the day is not
 * yet held against today): 1, or 0 with the error in o. */
static int read_question(const sn_call *c, sn_check_question *q, camara_outcome *o)
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

/* The check's result (rc SN_OK or SN_EFUTURE) as the outcome. */
static void judge(int rc, const sn_check_answer *a, const char *msg, camara_outcome *o)
{
    char first[SN_DAY_TEXT_MAX];
    if (rc == SN_EFUTURE) {
        fail(o, SN_HTTP_OUT_OF_RANGE, "specifiedDate: %s", msg);
    } else if (!a->known) {
        fail(o, SN_HTTP_IDENTIFIER_NOT_FOUND, "%s", "Phone number not found");
    } else if (a->verdict == SN_VERDICT_UNKNOWN) {
        sn_day_format(a->first_day, first);
        fail(o, SN_HTTP_OUT_OF_RANGE, "no data covers specifiedDate: records begin on %s", first);
    } else {
        o->recycled = a->verdict == SN_VERDICT_REASSIGNED;
    }
}

static const char recycled[] = "{\"phoneNumberRecycled\":true}";
static const char not_recycled[] = "{\"phoneNumberRecycled\":false}";

void sn_h_camara(sn_call *c)
{
    camara_outcome o = {0};
    sn_check_question q;
    sn_check_answer a;
    char msg[SN_ERRMSG_MAX];
    if (!sn_call_count_checks(c, 1))
        return;
    int verdict = SN_METRICS_VERDICT_INVALID;
    if (read_question(c, &q, &o)) {
        int rc = sn_check(c->svc, sn_check_today(c->svc), &q, &a, msg, sizeof(msg));
        if (rc == SN_OK)
            verdict = (int)a.verdict;
        judge(rc, &a, msg, &o);
    }
    sn_metrics_count_check(c->who.app, SN_METRICS_API_CAMARA, verdict);
    if (o.failed)
        sn_reply_error(c, o.error, "%s", o.message);
    else if (o.recycled)
        sn_reply_json(c, 200, recycled, sizeof(recycled) - 1);
    else
        sn_reply_json(c, 200, not_recycled, sizeof(not_recycled) - 1);
}

int sn_w_camara_session(sn_http_job *j, sn_store *s)
{
    const sn_service *svc = j->call->svc;
    camara_outcome o = {0};
    sn_check_question q;
    sn_check_answer a;
    int asked = read_question(j->call, &q, &o);
    int rc = sn_signin_check(svc, s, j->call->token_hash, asked ? &q : NULL, sn_check_today(svc),
                             &a, j->message, sizeof(j->message));
    if (rc != SN_OK && rc != SN_EFUTURE)
        return rc; /* the session first */
    if (asked)
        judge(rc, &a, j->message, &o);
    sn_metrics_count_check(NULL, SN_METRICS_API_CAMARA,
                           asked && rc == SN_OK ? (int)a.verdict : SN_METRICS_VERDICT_INVALID);
    if (o.failed)
        return sn_http_fail_as(j, o.error, "%s", o.message);
    sn_strbuf_printf(&j->out, "%s", o.recycled ? recycled : not_recycled);
    return SN_OK;
}

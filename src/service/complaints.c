/*
 * complaints.c - complaints and their desks (see complaints.h).
 */
#include "service/complaints.h"

#include "core/errors.h"
#include "store/apps.h"
#include "util/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int file(const sn_service *svc, sn_store *s, const uint8_t *token_hash, const char *app,
                int kind, const char *text, sn_complaint *c, char *err, size_t errlen)
{
    const sn_subscriber_options *opt = &svc->subscribers->opt;
    char number[SN_NUMBER_TEXT_MAX];
    sn_session ses;
    sn_number_state st;
    int rc = sn_signin_session(svc, s, token_hash, &ses, &st, err, errlen);
    if (rc != SN_OK)
        return rc;
    memset(c, 0, sizeof(*c));
    if (app != NULL && (rc = sn_store_app_id(s, app, 0, &c->app, err, errlen)) != SN_OK)
        return rc == SN_ENOTFOUND ? sn_fail(err, errlen, rc, "no app named '%.64s'", app) : rc;
    sn_number_format(ses.number, number);
    if ((rc = sn_signin_rate(svc, s, "complaint-n", number, opt->complaints_per_number,
                             "complaints for this number", err, errlen)) != SN_OK)
        return rc;
    c->number = ses.number;
    c->tenure = ses.tenure;
    c->carrier = st.carrier;
    c->kind = (uint8_t)kind;
    c->created = sn_wall_sec();
    c->period = opt->complaint_period_s;
    snprintf(c->text, sizeof(c->text), "%s", text);
    if ((rc = sn_store_add_complaint(s, c, err, errlen)) != SN_OK)
        return rc;
    return sn_store_get_complaint(s, c->id, c, err, errlen);
}

int sn_complaints_file(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                       const char *app, int kind, const char *text, sn_complaint *out, char *err,
                       size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    if (rc == SN_OK)
        rc = file(svc, s, token_hash, app, kind, text, out, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

int sn_complaints_mine(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                       sn_complaint_fn fn, void *ctx, char *err, size_t errlen)
{
    sn_complaint_query q;
    sn_session ses;
    int rc = sn_signin_session(svc, s, token_hash, &ses, NULL, err, errlen);
    if (rc != SN_OK)
        return rc;
    memset(&q, 0, sizeof(q));
    q.number = ses.number;
    q.tenure = ses.tenure;
    q.limit = SN_COMPLAINTS_LISTED;
    q.now = sn_wall_sec();
    return sn_store_list_complaints(s, &q, fn, ctx, err, errlen);
}

int sn_complaints_desk(sn_store *s, const sn_caller *who, sn_complaint_query *q, sn_complaint_fn fn,
                       void *ctx, char *err, size_t errlen)
{
    q->now = sn_wall_sec();
    if (who->role == SN_ROLE_APP) {
        q->app = who->app_id;
    } else if (who->role == SN_ROLE_CARRIER) {
        if (who->carrier == 0) /* 0 would mean "every carrier" to the store */
            return sn_fail(err, errlen, SN_EPERM, "the key names no carrier");
        q->carrier = who->carrier;
        q->min_level = SN_LEVEL_CARRIER;
    }
    return sn_store_list_complaints(s, q, fn, ctx, err, errlen);
}

/* May who's desk see (and so resolve) complaint c at time now? */
static int visible(const sn_caller *who, const sn_complaint *c, int64_t now)
{
    switch (who->role) {
    case SN_ROLE_APP:
        return c->app == who->app_id;
    case SN_ROLE_CARRIER:
        return who->carrier != 0 && c->carrier == who->carrier &&
               sn_complaint_level_at(c, now) >= SN_LEVEL_CARRIER;
    case SN_ROLE_ADMIN:
        return 1;
    default:
        return 0;
    }
}

static int resolve(sn_store *s, const sn_caller *who, uint64_t id, const char *resolution,
                   sn_complaint *c, char *err, size_t errlen)
{
    int64_t now = sn_wall_sec();
    int level = who->role == SN_ROLE_APP       ? SN_LEVEL_APP
                : who->role == SN_ROLE_CARRIER ? SN_LEVEL_CARRIER
                                               : SN_LEVEL_REGULATOR;
    int rc = sn_store_get_complaint(s, id, c, err, errlen);
    if (rc == SN_ENOTFOUND || (rc == SN_OK && !visible(who, c, now)))
        return sn_fail(err, errlen, SN_ENOTFOUND, "no complaint %llu", (unsigned long long)id);
    if (rc != SN_OK)
        return rc;
    if (c->resolved_at != 0)
        return sn_fail(err, errlen, SN_ECONFLICT, "complaint %llu was already resolved",
                       (unsigned long long)id);
    if ((rc = sn_store_resolve_complaint(s, id, level, resolution, now, err, errlen)) != SN_OK)
        return rc;
    return sn_store_get_complaint(s, id, c, err, errlen);
}

int sn_complaints_resolve(sn_store *s, const sn_caller *who, uint64_t id, const char *resolution,
                          sn_complaint *out, char *err, size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    if (rc == SN_OK)
        rc = resolve(s, who, id, resolution, out, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

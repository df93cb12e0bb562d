/*
 * subscriber.c - subscriber self-service rules (see subscriber.h). Pure.
 */
#include "core/subscriber.h"

#include "core/names.h"

#include <string.h>

void sn_subscriber_defaults(sn_subscriber_options *o)
{
    memset(o, 0, sizeof(*o));
    o->otp_ttl_s = 300;
    o->otp_max_attempts = 5;
    o->lockout_s = 900;
    o->otp_per_number = 5;
    o->otp_per_address = 20;
    o->signin_per_address = 30;
    o->reports_per_number = 3;
    o->complaints_per_number = 10;
    o->session_ttl_s = 900;
    o->complaint_period_s = 5 * 86400;
    o->client_ip_hops = SN_CLIENT_IP_HOPS_DEFAULT;
}

int64_t sn_rate_window(int64_t t)
{
    int64_t w = t - t % 3600;
    return t % 3600 < 0 ? w - 3600 : w;
}

int sn_has_subscriber(const sn_number_state *st)
{
    return st->status == SN_ST_ACTIVE || st->status == SN_ST_SUSPENDED;
}

int sn_otp_locked(const sn_otp *o, int64_t now)
{
    return o != NULL && o->locked_until > now;
}

sn_otp_verdict sn_otp_judge(sn_otp *o, int right, int64_t now, const sn_subscriber_options *opt)
{
    if (o == NULL)
        return SN_OTP_NONE;
    if (sn_otp_locked(o, now))
        return SN_OTP_LOCKED;
    if (o->attempts >= opt->otp_max_attempts)
        return SN_OTP_NONE; /* killed; the lockout is over */
    if (o->expires <= now)
        return o->created == o->expires ? SN_OTP_NONE : SN_OTP_EXPIRED;
    if (right) {
        o->expires = o->created; /* used up */
        return SN_OTP_OK;
    }
    if (++o->attempts < opt->otp_max_attempts)
        return SN_OTP_WRONG;
    o->locked_until = now + opt->lockout_s;
    o->expires = o->created;
    return SN_OTP_LOCKOUT;
}

sn_session_verdict sn_session_judge(const sn_session *ses, const sn_number_state *st, int64_t now)
{
    if (ses->expires <= now)
        return SN_SESSION_EXPIRED;
    if (!sn_has_subscriber(st) || st->tenure != ses->tenure ||
        st->last_cancel_day != ses->cancel_day)
        return SN_SESSION_ENDED;
    return SN_SESSION_OK;
}

static const char *const scopes[] = {NULL, "previous", "mine"};

const char *sn_scope_name(int scope)
{
    return sn_name_of(SN_NAMES(scopes), scope);
}

int sn_scope_parse(const char *s)
{
    return sn_name_find(SN_NAMES(scopes), s, 0);
}

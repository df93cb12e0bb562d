/*
 * subscriber.c - subscriber self-service rules (see subscriber.h). Pure.
 */
#include "core/subscriber.h"

#include "core/names.h"

#include <string.h>

void sn_subscriber_defaults(sn_subscriber_options *o)
{
    memset(o, 0, sizeof(*o));
    o->otp_ttl_s = SN_OTP_TTL_S;
    o->otp_max_attempts = SN_OTP_MAX_ATTEMPTS;
    o->otp_code_max_wrong = SN_OTP_CODE_MAX_WRONG;
    o->lockout_s = SN_OTP_LOCKOUT_S;
    o->otp_per_number = SN_OTP_PER_NUMBER;
    o->otp_per_address = SN_OTP_PER_ADDRESS;
    o->signin_per_address = SN_SIGNIN_PER_ADDRESS;
    o->reports_per_number = SN_REPORTS_PER_NUMBER;
    o->complaints_per_number = SN_COMPLAINTS_PER_NUMBER;
    o->session_ttl_s = SN_SESSION_TTL_S;
    o->complaint_period_s = SN_COMPLAINT_PERIOD_S;
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

int sn_otp_pair_locked(const sn_otp_pair *p, int64_t now, const sn_subscriber_options *opt)
{
    return p->wrong >= opt->otp_max_attempts && p->until > now;
}

uint32_t sn_otp_left(const sn_otp *o, const sn_otp_pair *p, const sn_subscriber_options *opt)
{
    uint32_t pair = p->wrong < opt->otp_max_attempts ? opt->otp_max_attempts - p->wrong : 0;
    uint32_t code =
        o->attempts < opt->otp_code_max_wrong ? opt->otp_code_max_wrong - o->attempts : 0;
    return pair < code ? pair : code;
}

sn_otp_verdict sn_otp_judge(sn_otp *o, sn_otp_pair *p, int right, int64_t now,
                            const sn_subscriber_options *opt)
{
    if (sn_otp_pair_locked(p, now, opt))
        return SN_OTP_LOCKED;
    if (p->until <= now)
        p->wrong = 0; /* forgotten, or the lockout is over */
    if (o == NULL || o->attempts >= opt->otp_code_max_wrong)
        return SN_OTP_NONE; /* no code, or a killed one */
    if (o->expires <= now)
        return o->created == o->expires ? SN_OTP_NONE : SN_OTP_EXPIRED;
    if (right) {
        o->expires = o->created; /* used up */
        p->wrong = 0;
        p->until = now;
        return SN_OTP_OK;
    }
    o->attempts++;
    p->wrong++;
    p->until = now + SN_OTP_FORGET_S;
    int killed = o->attempts >= opt->otp_code_max_wrong;
    if (killed)
        o->expires = o->created;
    if (p->wrong >= opt->otp_max_attempts) {
        p->until = now + opt->lockout_s;
        return SN_OTP_LOCKOUT;
    }
    return killed ? SN_OTP_KILLED : SN_OTP_WRONG;
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

/*
 * policy.c - subscriber self-service rules (see policy.h). Pure.
 */
#include "subscriber/policy.h"

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

static const char *const kinds[] = {NULL, "harassment", "cannot_register", "takeover", "other"};

const char *sn_complaint_kind_name(int kind)
{
    return kind >= SN_COMPLAINT_HARASSMENT && kind <= SN_COMPLAINT_OTHER ? kinds[kind] : NULL;
}

int sn_complaint_kind_parse(const char *s)
{
    for (int i = SN_COMPLAINT_HARASSMENT; i <= SN_COMPLAINT_OTHER; i++)
        if (strcmp(s, kinds[i]) == 0)
            return i;
    return 0;
}

static const char *const levels[] = {"app", "carrier", "regulator"};

const char *sn_level_name(int level)
{
    return level >= SN_LEVEL_APP && level <= SN_LEVEL_REGULATOR ? levels[level] : NULL;
}

int sn_level_parse(const char *s)
{
    for (int i = SN_LEVEL_APP; i <= SN_LEVEL_REGULATOR; i++)
        if (strcmp(s, levels[i]) == 0)
            return i;
    return -1;
}

static int first_level(const sn_complaint *c)
{
    return c->app != 0 ? SN_LEVEL_APP : SN_LEVEL_CARRIER;
}

static int64_t period_of(const sn_complaint *c)
{
    return c->period > 0 ? c->period : 1;
}

int sn_complaint_level_at(const sn_complaint *c, int64_t t)
{
    if (c->resolved_at != 0 && c->resolved_at < t)
        t = c->resolved_at;
    int64_t steps = t > c->created ? (t - c->created) / period_of(c) : 0;
    int64_t level = first_level(c) + steps;
    return level > SN_LEVEL_REGULATOR ? SN_LEVEL_REGULATOR : (int)level;
}

int64_t sn_complaint_level_starts(const sn_complaint *c, int level)
{
    int first = first_level(c);
    return c->created + (level > first ? (int64_t)(level - first) * period_of(c) : 0);
}

int64_t sn_complaint_level_ends(const sn_complaint *c, int level)
{
    if (level >= SN_LEVEL_REGULATOR)
        return 0;
    return sn_complaint_level_starts(c, level) + period_of(c);
}

static const char *const scopes[] = {NULL, "previous", "mine"};

const char *sn_scope_name(int scope)
{
    return scope == SN_SCOPE_PREVIOUS || scope == SN_SCOPE_MINE ? scopes[scope] : NULL;
}

int sn_scope_parse(const char *s)
{
    if (strcmp(s, "previous") == 0)
        return SN_SCOPE_PREVIOUS;
    if (strcmp(s, "mine") == 0)
        return SN_SCOPE_MINE;
    return 0;
}

/*
 * feed.c - validation of one carrier event (see feed.h). Thread-safe: no state.
 */
#include "feed/feed.h"

#include "core/errors.h"
#include "core/limits.h"
#include "store/log.h"

#include <string.h>

static int check_event_id(const char *s, size_t len, char *err, size_t errlen)
{
    if (len > SN_EVENT_ID_MAX)
        return sn_fail(err, errlen, SN_ELIMIT, "event_id longer than %d characters",
                       SN_EVENT_ID_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return sn_fail(err, errlen, SN_EINVAL, "event_id has a control character");
    return SN_OK;
}

/* port_out names its recipient (to); no other event takes one. */
static int recipient(const sn_event_fields *f, sn_log_event *out, char *err, size_t errlen)
{
    int port_out = out->ev.kind == SN_EV_PORT_OUT;
    if (f->to == NULL || f->to_len == 0)
        return port_out ? sn_fail(err, errlen, SN_EINVAL,
                                  "port_out needs the recipient carrier's name (to)")
                        : SN_OK;
    if (!port_out)
        return sn_fail(err, errlen, SN_EINVAL, "only port_out takes a recipient (to)");
    if (f->to_len > SN_CARRIER_NAME_MAX)
        return sn_fail(err, errlen, SN_ELIMIT, "to longer than %d characters", SN_CARRIER_NAME_MAX);
    out->to = f->to;
    out->to_len = (uint32_t)f->to_len;
    return SN_OK;
}

int sn_feed_event_parse(const sn_feed_context *c, const sn_event_fields *f, sn_log_event *out,
                        char *err, size_t errlen)
{
    char why[SN_ERRMSG_MAX];
    int rc;

    memset(out, 0, sizeof(*out));
    out->ev.carrier = c->carrier;
    if (f->number_len == 0)
        return sn_fail(err, errlen, SN_ENUMBER, "missing number");
    if ((rc = sn_number_parse(f->number, f->number_len, c->rules->default_cc, &out->ev.number, why,
                              sizeof(why))) != SN_OK)
        return sn_fail(err, errlen, rc, "%s", why);
    out->ev.kind = (uint8_t)sn_event_parse(f->event, f->event_len);
    if (out->ev.kind == SN_EV_NONE)
        return sn_fail(err, errlen, SN_EEVENT,
                       "unknown event '%.*s' (expected activate, suspend, resume, cancel, "
                       "reclaim, release, port_in or port_out)",
                       (int)(f->event_len > 32 ? 32 : f->event_len), f->event);
    if (f->at_len == 0)
        return sn_fail(err, errlen, SN_EDATE, "missing time (at)");
    if ((rc = sn_time_parse(f->at, f->at_len, c->rules->tz_minutes, &out->ev.at, why,
                            sizeof(why))) != SN_OK)
        return sn_fail(err, errlen, rc, "%s", why);
    if (out->ev.at < sn_day_start(sn_day_from_civil(1900, 1, 1), c->rules->tz_minutes))
        return sn_fail(err, errlen, SN_EDATE, "time '%.*s' is before 1900", (int)f->at_len, f->at);
    if (out->ev.at > c->now)
        return sn_fail(err, errlen, SN_EFUTURE, "time '%.*s' is in the future", (int)f->at_len,
                       f->at);
    if (f->event_id != NULL && f->event_id_len > 0) {
        if ((rc = check_event_id(f->event_id, f->event_id_len, err, errlen)) != SN_OK)
            return rc;
        out->event_id = f->event_id;
        out->event_id_len = (uint32_t)f->event_id_len;
    }
    if (f->id6 != NULL && f->id6_len > 0) {
        char id6[SN_ID6_LEN];
        if (c->secret == NULL)
            return sn_fail(err, errlen, SN_ECONFIG, "id6 given but no deployment secret is loaded");
        if ((rc = sn_id6_parse(f->id6, f->id6_len, id6, why, sizeof(why))) != SN_OK)
            return sn_fail(err, errlen, rc, "%s", why);
        if (out->ev.kind == SN_EV_PORT_OUT)
            return sn_fail(err, errlen, SN_EINVAL,
                           "id6 is not taken on port_out: the recipient reports it on port_in");
        sn_id6_hash(c->secret, out->ev.number, id6, out->id6_hash);
        out->has_id6 = 1;
    }
    return recipient(f, out, err, errlen);
}

/*
 * lifecycle.c - the timeline rules (see lifecycle.h for the state diagram).
 *
 * Each rule is checked against the event's own time, never the wall clock,
 * so a feed replayed years later is judged exactly as it was live.
 * Thread-safe: no state.
 */
#include "core/lifecycle.h"

#include "core/errors.h"

#include <string.h>

static const char *const event_names[SN_EV_COUNT] = {
    NULL, "activate", "suspend", "resume", "cancel", "reclaim", "release", "port_in", "port_out",
};

static const char *const status_names[] = {"unseen", "active", "suspended", "frozen", "pool"};

const char *sn_event_name(int kind)
{
    return kind > 0 && kind < SN_EV_COUNT ? event_names[kind] : NULL;
}

sn_event_kind sn_event_parse(const char *s, size_t len)
{
    for (int k = 1; k < SN_EV_COUNT; k++)
        if (strlen(event_names[k]) == len && memcmp(event_names[k], s, len) == 0)
            return (sn_event_kind)k;
    return SN_EV_NONE;
}

const char *sn_status_name(int status)
{
    return status >= 0 && status <= SN_ST_POOL ? status_names[status] : "invalid";
}

void sn_state_init(sn_number_state *st, sn_number number)
{
    memset(st, 0, sizeof(*st));
    st->number = number;
    st->first_day = SN_DAY_NONE;
    st->last_activation_day = SN_DAY_NONE;
    st->last_cancel_day = SN_DAY_NONE;
}

static int refuse(char *err, size_t errlen, const sn_number_state *st, int kind, const char *need)
{
    return sn_fail(err, errlen, SN_ETRANSITION, "%s is allowed only when %s; the number is %s",
                   sn_event_name(kind), need, sn_status_name(st->status));
}

/* SN_OK when a frozen number has aged enough by event day d (FROZEN always has a cancel day). */
static int check_aged(const sn_rules *r, const sn_number_state *st, sn_day d, int kind, char *err,
                      size_t errlen)
{
    if ((int64_t)d - st->last_cancel_day >= (int64_t)r->min_aging_days)
        return SN_OK;
    char cancelled[SN_DAY_TEXT_MAX], until[SN_DAY_TEXT_MAX];
    sn_day_format(st->last_cancel_day, cancelled);
    sn_day_format(st->last_cancel_day + (sn_day)r->min_aging_days, until);
    return sn_fail(err, errlen, SN_EAGING,
                   "%s before the minimum aging: cancelled %s, %u days of freeze end on %s",
                   sn_event_name(kind), cancelled, r->min_aging_days, until);
}

/* The first event: accepted whatever it is; it sets the state it implies. */
static void apply_first(sn_number_state *st, const sn_event *ev, sn_day d)
{
    static const uint8_t implied[SN_EV_COUNT] = {
        [SN_EV_ACTIVATE] = SN_ST_ACTIVE, [SN_EV_SUSPEND] = SN_ST_SUSPENDED,
        [SN_EV_RESUME] = SN_ST_ACTIVE,   [SN_EV_CANCEL] = SN_ST_FROZEN,
        [SN_EV_RECLAIM] = SN_ST_ACTIVE,  [SN_EV_RELEASE] = SN_ST_POOL,
        [SN_EV_PORT_IN] = SN_ST_ACTIVE,  [SN_EV_PORT_OUT] = SN_ST_ACTIVE,
    };
    st->status = implied[ev->kind];
    st->first_day = d;
    st->first_is_activation = ev->kind == SN_EV_ACTIVATE;
    st->carrier = ev->carrier;
    if (ev->kind == SN_EV_ACTIVATE) {
        st->tenure = 1;
        st->last_activation_day = d;
    } else if (ev->kind == SN_EV_CANCEL) {
        st->last_cancel_day = d;
    }
}

int sn_lifecycle_apply(const sn_rules *r, sn_number_state *st, const sn_event *ev, char *err,
                       size_t errlen)
{
    sn_day d = sn_day_of(ev->at, r->tz_minutes);
    sn_number_state next = *st;
    int rc;

    if (sn_event_name(ev->kind) == NULL)
        return sn_fail(err, errlen, SN_EINVAL, "unknown event kind %d", ev->kind);
    if (st->events >= SN_MAX_EVENTS_PER_NUMBER)
        return sn_fail(err, errlen, SN_ELIMIT, "the number's history is full (%d events)",
                       SN_MAX_EVENTS_PER_NUMBER);
    if (st->status == SN_ST_UNSEEN) {
        apply_first(&next, ev, d);
        goto done;
    }
    if (ev->at < st->last_at) {
        char latest[SN_TIME_TEXT_MAX];
        sn_time_format(st->last_at, r->tz_minutes, latest);
        return sn_fail(err, errlen, SN_EORDER,
                       "out of order: older than the number's latest event (%s)", latest);
    }
    switch (ev->kind) {
    case SN_EV_ACTIVATE:
        if (st->status == SN_ST_FROZEN) {
            if ((rc = check_aged(r, st, d, ev->kind, err, errlen)) != SN_OK)
                return rc;
        } else if (st->status != SN_ST_POOL) {
            return refuse(err, errlen, st, ev->kind,
                          "the number is in the pool or frozen past the minimum aging");
        }
        next.status = SN_ST_ACTIVE;
        next.tenure++;
        next.last_activation_day = d;
        next.carrier = ev->carrier;
        break;
    case SN_EV_SUSPEND:
        if (st->status != SN_ST_ACTIVE)
            return refuse(err, errlen, st, ev->kind, "active");
        next.status = SN_ST_SUSPENDED;
        break;
    case SN_EV_RESUME:
        if (st->status != SN_ST_SUSPENDED)
            return refuse(err, errlen, st, ev->kind, "suspended");
        next.status = SN_ST_ACTIVE;
        break;
    case SN_EV_CANCEL:
        if (st->status != SN_ST_ACTIVE && st->status != SN_ST_SUSPENDED)
            return refuse(err, errlen, st, ev->kind, "active or suspended");
        next.status = SN_ST_FROZEN;
        next.last_cancel_day = d;
        break;
    case SN_EV_RECLAIM:
        if (st->status != SN_ST_FROZEN)
            return refuse(err, errlen, st, ev->kind, "frozen");
        next.status = SN_ST_ACTIVE;
        break;
    case SN_EV_RELEASE:
        if (st->status != SN_ST_FROZEN)
            return refuse(err, errlen, st, ev->kind, "frozen");
        if ((rc = check_aged(r, st, d, ev->kind, err, errlen)) != SN_OK)
            return rc;
        next.status = SN_ST_POOL;
        break;
    case SN_EV_PORT_IN:
        if (st->status != SN_ST_ACTIVE && st->status != SN_ST_SUSPENDED)
            return refuse(err, errlen, st, ev->kind, "active or suspended");
        next.carrier = ev->carrier;
        break;
    case SN_EV_PORT_OUT: /* the recipient is the ledger's guard's business */
        if (st->status != SN_ST_ACTIVE && st->status != SN_ST_SUSPENDED)
            return refuse(err, errlen, st, ev->kind, "active or suspended");
        break;
    }
done:
    next.last_at = ev->at;
    next.events++;
    *st = next;
    return SN_OK;
}

/*
 * lifecycle.h - a number's lifecycle: events, states and the timeline rules (pure).
 *
 * State machine (the "Timeline rules" of PRODUCT.md), on event times only:
 *
 *     never seen --activate--> ACTIVE <--resume-- SUSPENDED
 *                                |  \--suspend-->    |
 *          port_out (same state: the carrier of record authorises a port)
 *                  port_in (same state, new carrier of record)
 *                                |                   |
 *                              cancel             cancel
 *                                v                   v
 *     POOL <--release (aging)-- FROZEN --reclaim--> ACTIVE (same tenure)
 *       |                          |
 *       +---activate--> ACTIVE <---+ activate once aged (a reissue: new tenure)
 *
 * The first event seen for a number is accepted whatever it is: the feed may
 * start mid-history. Only an activation starts a *known* tenure; a history
 * whose first record is anything else leaves the time before it uncovered
 * (see verdict.h).
 *
 * Invariant: a state only changes through sn_lifecycle_apply, which either
 * applies the event entirely or leaves the state untouched.
 */
#ifndef SN_LIFECYCLE_H
#define SN_LIFECYCLE_H

#include "core/date.h"
#include "core/number.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SN_EV_NONE = 0,
    SN_EV_ACTIVATE = 1,
    SN_EV_SUSPEND = 2,
    SN_EV_RESUME = 3,
    SN_EV_CANCEL = 4,
    SN_EV_RECLAIM = 5,
    SN_EV_RELEASE = 6,
    SN_EV_PORT_IN = 7,
    SN_EV_PORT_OUT = 8,
} sn_event_kind;
#define SN_EV_COUNT 9

typedef enum {
    SN_ST_UNSEEN = 0, /* no event recorded */
    SN_ST_ACTIVE = 1,
    SN_ST_SUSPENDED = 2,
    SN_ST_FROZEN = 3, /* cancelled, in the freeze; the owner may reclaim */
    SN_ST_POOL = 4,   /* cancelled, released for reissue */
} sn_status;

/* Everything the verdict and the timeline rules need about one number.
 * Kept small: the serving index holds one per number. */
typedef struct {
    sn_number number;
    int64_t last_at;            /* instant of the latest applied event */
    sn_day first_day;           /* day of the first record */
    sn_day last_activation_day; /* SN_DAY_NONE if never activated */
    sn_day last_cancel_day;     /* SN_DAY_NONE if never cancelled */
    uint32_t tenure;            /* activations seen; bindings name the tenure they were made in */
    uint32_t carrier;           /* carrier of record (store id), 0 = unknown */
    uint32_t events;            /* events applied; the ordinal of the next one is events + 1 */
    uint8_t status;             /* sn_status */
    uint8_t first_is_activation;
} sn_number_state;

/* One carrier event as the ledger applies it. */
typedef struct {
    sn_number number;
    int64_t at;       /* event instant */
    uint32_t carrier; /* reporting carrier (store id) */
    uint8_t kind;     /* sn_event_kind */
} sn_event;

/* Per-jurisdiction parameters. */
typedef struct {
    unsigned default_cc;     /* country code for national numbers, 0 = E.164 only */
    unsigned min_aging_days; /* freeze before a number may be released or reissued */
    int tz_minutes;          /* jurisdiction offset east of UTC */
} sn_rules;

#define SN_DEFAULT_CC 86
#define SN_DEFAULT_MIN_AGING_DAYS 90
#define SN_DEFAULT_TZ_MINUTES 480
#define SN_MAX_AGING_DAYS 3650
/* Longest history of one number: what its 32-bit event counter holds. No
 * feed reaches it (a monthly suspend and resume for a century is 2,400
 * events; POST /v1/events takes at most SN_EVENTS_PER_NUMBER_MAX of one
 * number per request, and the log would fill any disk first). */
#define SN_MAX_EVENTS_PER_NUMBER 4294967294u

/* "activate", ... or NULL for an invalid kind. */
const char *sn_event_name(int kind);
/* Kind from its name (exact, lowercase); SN_EV_NONE if unknown. */
sn_event_kind sn_event_parse(const char *s, size_t len);
/* "active", "suspended", "frozen", "pool", "unseen". */
const char *sn_status_name(int status);

/* A fresh state for a number with no events. */
void sn_state_init(sn_number_state *st, sn_number number);

/* Apply ev to st under rules r. On success st reflects the event. On failure
 * st is unchanged and the code is SN_EORDER (older than the latest event),
 * SN_ETRANSITION (not allowed from the current state), SN_EAGING (release
 * or reissue before the minimum aging) or SN_ELIMIT (the history holds
 * SN_MAX_EVENTS_PER_NUMBER events), with a sentence in err.
 * Duplicate detection is not done here: it needs the log (see ledger.h). */
int sn_lifecycle_apply(const sn_rules *r, sn_number_state *st, const sn_event *ev, char *err,
                       size_t errlen);

#endif

/*
 * complaint.h - a subscriber's complaint and how it escalates (pure).
 *
 * A complaint is held by the app it names (or by the carrier when it names
 * none) for one period, then by the carrier for one period, then by the
 * regulator (admin) until resolved. Its level at any time follows from its
 * creation time and period alone, so nothing has to run to escalate it.
 */
#ifndef SN_CORE_COMPLAINT_H
#define SN_CORE_COMPLAINT_H

#include "core/lifecycle.h"
#include "core/limits.h"

#include <stdint.h>

typedef enum {
    SN_COMPLAINT_HARASSMENT = 1,
    SN_COMPLAINT_CANNOT_REGISTER = 2,
    SN_COMPLAINT_TAKEOVER = 3,
    SN_COMPLAINT_OTHER = 4,
} sn_complaint_kind;

/* Who holds a complaint: it starts with the app (or the carrier when it
 * names none) and moves up one level each time its deadline passes. */
typedef enum {
    SN_LEVEL_APP = 0,
    SN_LEVEL_CARRIER = 1,
    SN_LEVEL_REGULATOR = 2,
} sn_complaint_level;

typedef struct {
    uint64_t id;
    sn_number number;
    uint32_t tenure;
    uint32_t app;           /* 0: none named */
    uint32_t carrier;       /* the number's carrier of record when filed */
    uint8_t kind;           /* sn_complaint_kind */
    uint8_t resolved_level; /* sn_complaint_level + 1 of whoever resolved it; 0 open */
    int64_t created, period, resolved_at;
    char text[SN_COMPLAINT_TEXT_MAX + 1];
    char resolution[SN_NOTE_MAX + 1];
    /* the names behind the ids, filled when read from the store: */
    char app_name[SN_APP_NAME_MAX + 1];
    char display[SN_DISPLAY_NAME_MAX + 1];
    char carrier_name[SN_CARRIER_NAME_MAX + 1];
} sn_complaint;

/* "harassment", "cannot_register", "takeover", "other"; NULL otherwise. */
const char *sn_complaint_kind_name(int kind);
int sn_complaint_kind_parse(const char *s); /* 0 when unknown */

/* "app", "carrier", "regulator"; NULL otherwise. */
const char *sn_level_name(int level);
int sn_level_parse(const char *s); /* -1 when unknown */

/* The level complaint c has reached at time t (its resolution time when
 * resolved and t is later). */
int sn_complaint_level_at(const sn_complaint *c, int64_t t);
/* When c leaves `level` for the next one (0 at the regulator, who keeps it). */
int64_t sn_complaint_level_ends(const sn_complaint *c, int level);
/* When c reached `level` (c->created for its first level). */
int64_t sn_complaint_level_starts(const sn_complaint *c, int level);

#endif

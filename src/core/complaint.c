/*
 * complaint.c - complaint kinds and escalation (see complaint.h). Pure.
 */
#include "core/complaint.h"

#include "core/names.h"

#include <string.h>

static const char *const kinds[] = {NULL, "harassment", "cannot_register", "takeover", "other"};
static const char *const levels[] = {"app", "carrier", "regulator"};

const char *sn_complaint_kind_name(int kind)
{
    return sn_name_of(SN_NAMES(kinds), kind);
}

int sn_complaint_kind_parse(const char *s)
{
    return sn_name_find(SN_NAMES(kinds), s, 0);
}

const char *sn_level_name(int level)
{
    return sn_name_of(SN_NAMES(levels), level);
}

int sn_level_parse(const char *s)
{
    return sn_name_find(SN_NAMES(levels), s, -1);
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

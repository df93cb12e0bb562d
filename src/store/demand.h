/*
 * demand.h - coverage demand: the apps subscribers asked to be able to
 * check ("I want to check more apps"). One row per normalized name and
 * subscriber (number and tenure, so a number's next owner votes anew);
 * asking again changes nothing. The names are the service's, already
 * normalized (service/demand.h).
 */
#ifndef SN_STORE_DEMAND_H
#define SN_STORE_DEMAND_H

#include "core/number.h"
#include "store/store.h"

#include <stdint.h>

/* Record that the subscriber (number, tenure) asked for name at time at:
 * *added 1, or 0 when they had asked before. */
int sn_store_demand_add(sn_store *s, const char *name, sn_number number, uint32_t tenure,
                        int64_t at, int *added, char *err, size_t errlen);

/* How many names the subscriber asked for (*mine), how many subscribers
 * asked for name (*votes), and whether the subscriber is one of them. */
int sn_store_demand_count(sn_store *s, sn_number number, uint32_t tenure, const char *name,
                          uint64_t *mine, uint64_t *votes, int *asked, char *err, size_t errlen);

/* 1 in *known when name is an app's name or display name (compared in
 * lower case), else 0. */
int sn_store_demand_known(sn_store *s, const char *name, int *known, char *err, size_t errlen);

/* The names most asked for: votes descending, then name; at most limit. */
typedef int (*sn_demand_fn)(void *ctx, const char *name, uint64_t votes, int64_t first,
                            int64_t last);
int sn_store_demand_top(sn_store *s, uint32_t limit, sn_demand_fn fn, void *ctx, char *err,
                        size_t errlen);

#endif

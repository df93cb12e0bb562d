/*
 * coverage.h - the number ranges of the participating carriers, in memory,
 * for "is this number one the registry could know?" (CAMARA v0.3's
 * SERVICE_NOT_APPLICABLE). A copy of the store's ranges (store/keys.h):
 * loaded at startup and reloaded by the writer's tick, so a range added by
 * the API or the CLI counts within a second or so. Readers (the loop
 * threads) take a shared lock; a reload swaps the whole table under the
 * exclusive one. When no carrier has a range, every number is covered.
 */
#ifndef SN_COVERAGE_H
#define SN_COVERAGE_H

#include "core/number.h"
#include "store/store.h"

#include <stddef.h>

typedef struct sn_coverage sn_coverage;

/* An empty set (covering every number); NULL when out of memory. */
sn_coverage *sn_coverage_new(void);
void sn_coverage_free(sn_coverage *cv);

/* Replace the set with the ranges in the store: SN_OK, or the store's
 * failure / SN_ENOMEM with the set unchanged. */
int sn_coverage_load(sn_coverage *cv, sn_store *s, char *err, size_t errlen);

/* How many ranges the set holds. */
size_t sn_coverage_count(sn_coverage *cv);

/* 1 when n is in a range, or no range is configured at all (or cv is
 * NULL); 0 when ranges are configured and none holds n. */
int sn_coverage_covers(sn_coverage *cv, sn_number n);

#endif

/*
 * verify.h - proving a store consistent: the backend's structural check,
 * then every number's logged events replayed through the lifecycle rules
 * against its state row (store.h invariant 3). Read-only; used after
 * crashes and by the kill -9 test (`secondnum verify`).
 */
#ifndef SN_VERIFY_H
#define SN_VERIFY_H

#include "store/store.h"

#include <stddef.h>

typedef struct {
    size_t numbers, events;
    size_t mismatches;    /* state rows that differ from their replay */
    size_t replay_errors; /* logged events the rules refuse */
} sn_verify_report;

/* Each problem found, as a sentence naming the number. */
typedef void (*sn_problem_fn)(void *ctx, const char *sentence);

/* Verify s into *r; problem (may be NULL) hears of each one. SN_OK when
 * the store could be read (r says whether it is consistent), else the
 * failure with err. */
int sn_verify(sn_store *s, sn_verify_report *r, sn_problem_fn problem, void *ctx, char *err,
              size_t errlen);

#endif

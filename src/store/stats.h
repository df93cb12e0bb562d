/*
 * stats.h - read-only aggregates over the store for the regulator and
 * operator dashboard (service/dashboard.h): numbers by carrier and status,
 * events and reissues per day, notices and their acknowledgement times per
 * app, complaints' raw times. Each call is one statement in the SQL both
 * backends run (sql.h). All of it reads, but one write: the reissue
 * guard's count of the activations it held, per day (a held event is
 * refused, so the log never has it). Days are the jurisdiction's (the store's rules):
 * a day number is (instant + offset) / 86400, as sn_day_of counts them.
 */
#ifndef SN_STORE_STATS_H
#define SN_STORE_STATS_H

#include "core/date.h"
#include "store/complaints.h"

#include <stdint.h>

/* Numbers of carrier (its name, "" for unknown) in status (sn_status). */
typedef int (*sn_stats_numbers_fn)(void *ctx, const char *carrier, int status, uint64_t count);
int sn_store_stats_numbers(sn_store *s, sn_stats_numbers_fn fn, void *ctx, char *err,
                           size_t errlen);

/* Events logged at instants [from, to), per jurisdiction day and kind,
 * with how many of them were forced past the reissue guard. In day order. */
typedef int (*sn_stats_events_fn)(void *ctx, sn_day day, int kind, uint64_t count, uint64_t forced);
int sn_store_stats_events(sn_store *s, int64_t from, int64_t to, sn_stats_events_fn fn, void *ctx,
                          char *err, size_t errlen);

/* Reissues at instants [from, to) per day (activations following a
 * cancellation or a release of the number), and how many were forced. */
typedef int (*sn_stats_reissues_fn)(void *ctx, sn_day day, uint64_t count, uint64_t forced);
int sn_store_stats_reissues(sn_store *s, int64_t from, int64_t to, sn_stats_reissues_fn fn,
                            void *ctx, char *err, size_t errlen);

/* Count n activations the reissue guard held on day (in the open
 * transaction, so a batch rolled back counts none). */
int sn_store_stats_add_held(sn_store *s, sn_day day, uint64_t n, char *err, size_t errlen);

/* The held activations of days [from, to], in day order. */
typedef int (*sn_stats_held_fn)(void *ctx, sn_day day, uint64_t held);
int sn_store_stats_held(sn_store *s, sn_day from, sn_day to, sn_stats_held_fn fn, void *ctx,
                        char *err, size_t errlen);

/* Per app (its id and name, in id order): notices issued, acknowledged,
 * and open past their deadline at time now. */
typedef int (*sn_stats_notices_fn)(void *ctx, uint32_t id, const char *app, uint64_t issued,
                                   uint64_t acked, uint64_t overdue);
int sn_store_stats_notices(sn_store *s, int64_t now, sn_stats_notices_fn fn, void *ctx, char *err,
                           size_t errlen);

/* Every acknowledged notice's seconds from issue to acknowledgement, by
 * app id, then seconds, ascending. */
typedef int (*sn_stats_ack_fn)(void *ctx, uint32_t app, int64_t seconds);
int sn_store_stats_ack_times(sn_store *s, sn_stats_ack_fn fn, void *ctx, char *err, size_t errlen);

/* Every complaint's id, app, carrier, kind, times and resolution level
 * (no text, no number): the dashboard derives its level and deadline. */
int sn_store_stats_complaints(sn_store *s, sn_complaint_fn fn, void *ctx, char *err, size_t errlen);

#endif

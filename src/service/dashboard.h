/*
 * dashboard.h - the figures of the regulator and operator dashboard
 * (/admin) and of the scripts that read the same JSON (h_dashboard.c):
 * numbers by carrier and status, events and reissues per day, notices and
 * acknowledgement times per app, complaints by kind, level and deadline.
 * Read-only: every figure is an aggregate of the store (store/stats.h)
 * taken when asked; nothing is cached, so each call costs a scan of what
 * it counts (an admin's page, not a hot path). The median and 95th
 * percentile are exact nearest-rank figures picked while the store streams
 * each app's times in ascending order: no list of times is held.
 */
#ifndef SN_SERVICE_DASHBOARD_H
#define SN_SERVICE_DASHBOARD_H

#include "core/lifecycle.h"
#include "store/stats.h"

#include <stdint.h>

#define SN_DASHBOARD_DAYS_DEFAULT 30       /* days of the per-day figures when none are asked */
#define SN_DASHBOARD_DAYS_MAX 366          /* days one per-day request may span */
#define SN_DASHBOARD_THRESHOLD_DEFAULT 0.9 /* acknowledgement rate an app should reach */

/* One jurisdiction day's events. */
typedef struct {
    sn_day day;
    uint64_t kinds[SN_EV_COUNT]; /* events of each kind (sn_event_kind) */
    uint64_t forced;             /* events forced past the reissue guard */
    uint64_t reissues;           /* activations that started a new tenure */
    uint64_t reissues_forced;    /* of them, forced past the guard */
    uint64_t held;               /* activations the guard held (refused) */
} sn_dashboard_day;

/* Fill days[0 .. to - from] (the caller's, to - from + 1 of them, at most
 * SN_DASHBOARD_DAYS_MAX; SN_EINVAL otherwise) for the days from..to. */
int sn_dashboard_events(sn_store *s, sn_day from, sn_day to, sn_dashboard_day *days, char *err,
                        size_t errlen);

/* One app's notices. */
typedef struct {
    const char *app;
    uint64_t issued, acked, overdue;
    double ack_rate;         /* acked / issued (1 when none were issued) */
    int below;               /* ack_rate < the threshold asked */
    int has_times;           /* some were acknowledged: */
    int64_t median_s, p95_s; /* nearest-rank median and 95th percentile, seconds */
} sn_dashboard_app;

typedef int (*sn_dashboard_app_fn)(void *ctx, const sn_dashboard_app *a);

/* Every app that has notices, in id order (registration), at time now. */
int sn_dashboard_notices(sn_store *s, int64_t now, double threshold, sn_dashboard_app_fn fn,
                         void *ctx, char *err, size_t errlen);

/* The 0-based position of the nearest-rank p-th percentile (0 < p <= 1)
 * among n > 0 sorted values: ceil(p * n) - 1. */
uint64_t sn_dashboard_rank(uint64_t n, double p);

/* Deadline buckets of an open complaint at the app or carrier desk. */
enum {
    SN_DUE_OVERDUE = 0, /* not possible while escalation is by time; kept for clarity */
    SN_DUE_DAY,         /* within 24 hours */
    SN_DUE_WEEK,        /* within 7 days */
    SN_DUE_LATER,
    SN_DUE_NONE, /* at the regulator: no deadline */
    SN_DUE_COUNT
};

typedef struct {
    uint64_t open[5], resolved[5]; /* by kind (sn_complaint_kind, 1..4) */
    uint64_t level[3];             /* open ones by the desk holding them (sn_complaint_level) */
    uint64_t resolved_by[3];       /* resolved ones by the desk that resolved them */
    uint64_t due[SN_DUE_COUNT];    /* open ones by deadline */
    uint64_t total;
} sn_dashboard_complaints;

int sn_dashboard_complaint_stats(sn_store *s, int64_t now, sn_dashboard_complaints *out, char *err,
                                 size_t errlen);

#endif

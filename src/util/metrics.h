/*
 * metrics.h - the server's counters, summed over threads, and their
 * Prometheus text exposition (format 0.0.4). Knows nothing of HTTP: the
 * HTTP layer passes route indexes and their labels (h_metrics.c).
 *
 * Counting costs the counting thread a few plain stores: each thread that
 * counts gets its own block (thread-local, allocated and registered in one
 * list on its first count; never freed, so a thread that ends keeps its
 * counts in the sums). Each counter is written only by its block's thread,
 * with a relaxed load and store (no lock, no locked instruction); a scrape
 * reads every block with relaxed loads and adds them up, so a sum may miss
 * counts being made at that instant, never invent or lose one for good.
 *
 * Labels by app and by carrier are bounded: each thread's block has a table
 * of SN_METRICS_NAMES_MAX names per kind; a name first seen when its
 * thread's table is full is counted under the name SN_METRICS_OTHER. A
 * published name never changes (the scrape reads it after the slot's
 * release store). Label values are app names and carrier ids, never a
 * number.
 */
#ifndef SN_METRICS_H
#define SN_METRICS_H

#include "util/strbuf.h"

#include <stddef.h>
#include <stdint.h>

/* Routes counted apart (the route table's entries); a route index past it,
 * and requests that matched no route, count under one slot labelled
 * route="unmatched". */
#define SN_METRICS_ROUTES_MAX 96
/* Distinct apps (and, apart, carriers) each thread counts by name; a name
 * seen when its thread has this many counts as SN_METRICS_OTHER. */
#define SN_METRICS_NAMES_MAX 64
#define SN_METRICS_OTHER "(other)"
/* The longest name kept (longer ones are cut). */
#define SN_METRICS_NAME_LEN 64
/* Latency buckets, upper bounds in microseconds (then +Inf). */
#define SN_METRICS_BUCKETS 14

/* Which check API a check came through. */
typedef enum {
    SN_METRICS_API_CAMARA = 0,
    SN_METRICS_API_NATIVE = 1,     /* POST /v1/check by number */
    SN_METRICS_API_BATCH = 2,      /* an item of POST /v1/check/batch by number */
    SN_METRICS_API_HASHED = 3,     /* a native or batch question by digest */
    SN_METRICS_API_CAMARA_V03 = 4, /* the CAMARA v0.3 paths (CAMARA is v0.2) */
    SN_METRICS_API_RANGE = 5,      /* a number listed by POST /v1/check/range */
    SN_METRICS_APIS
} sn_metrics_api;

/* A check's verdict: sn_verdict's values (0 to 3), or the question was
 * refused (a bad date, number or digest). */
#define SN_METRICS_VERDICT_INVALID 4
#define SN_METRICS_VERDICTS 5

typedef enum {
    SN_METRICS_EVENT_APPLIED = 0,
    SN_METRICS_EVENT_DUPLICATE = 1,
    SN_METRICS_EVENT_REJECTED = 2,
    SN_METRICS_EVENT_OUTCOMES
} sn_metrics_event;

typedef enum {
    SN_METRICS_SMS_SENT = 0,
    SN_METRICS_SMS_FAILED = 1,  /* given up after its last attempt */
    SN_METRICS_SMS_RETRIED = 2, /* an attempt failed, another is scheduled */
    SN_METRICS_SMS_OUTCOMES
} sn_metrics_sms;

typedef enum {
    SN_METRICS_DELIVERY_DELIVERED = 0,
    SN_METRICS_DELIVERY_RETRY = 1,
    SN_METRICS_DELIVERY_DEAD = 2,
    SN_METRICS_DELIVERY_OUTCOMES
} sn_metrics_delivery;

/* Why a request was answered 429. */
typedef enum {
    SN_METRICS_REFUSAL_KEY_SECOND = 0, /* a key's checks a second */
    SN_METRICS_REFUSAL_KEY_DAY = 1,    /* a key's checks a day */
    SN_METRICS_REFUSAL_SIGNIN = 2,     /* the subscriber sign-in limits */
    SN_METRICS_REFUSALS
} sn_metrics_refusal;

/* ---- counting (any thread; its own block) ---------------------------- */

/* A request answered: its route index (>= SN_METRICS_ROUTES_MAX or
 * negative: unmatched), status and latency. */
void sn_metrics_count_request(int route, int status, int64_t micros);
/* A request answered before the router saw it (from its head alone, over
 * the connection cap, or an error of h2o's own): its status. */
void sn_metrics_count_refused(int status);
/* A check answered for app (NULL or "": a subscriber's session), or n
 * alike. */
void sn_metrics_count_check(const char *app, sn_metrics_api api, int verdict);
void sn_metrics_count_checks(const char *app, sn_metrics_api api, int verdict, uint64_t n);
/* A carrier's events, by outcome. */
void sn_metrics_count_events(uint32_t carrier, uint64_t applied, uint64_t duplicates,
                             uint64_t rejected);
void sn_metrics_count_sms(sn_metrics_sms outcome);
void sn_metrics_count_delivery(sn_metrics_delivery outcome);
void sn_metrics_count_refusal(sn_metrics_refusal reason);

/* ---- the exposition ---------------------------------------------------- */

/* The labels of route i (method and path pattern). */
typedef struct {
    const char *method;
    const char *path;
} sn_metrics_route;

/* Gauges read at scrape time by the caller; a group whose `have` is 0 is
 * left out. */
typedef struct {
    int have_writer;
    uint64_t writer_jobs, writer_rows;
    int have_index;
    uint64_t index_numbers, index_bytes;
    int have_store; /* the store answered (secondnum_store_up) */
    uint64_t notices_open, notices_overdue;
    uint64_t deliveries_pending, deliveries_retrying, deliveries_dead;
    int have_follower;
    uint64_t follower_lag;
} sn_metrics_gauges;

/* Append the exposition of every counter (summed over threads) and of g. */
void sn_metrics_write(sn_strbuf *out, const sn_metrics_route *routes, size_t nroutes,
                      const sn_metrics_gauges *g);

/* The statuses counted apart ("other" for the rest), for tests. */
#define SN_METRICS_STATUSES 20

#endif

/*
 * counts.c - what each answer adds to the metrics (util/metrics.h): its
 * route (the table's index, never the path), status and latency. Called
 * by sn_reply on the loop thread that answers; the counters are that
 * thread's own.
 */
#include "http/http.h"

#include "util/clock.h"
#include "util/metrics.h"

void sn_metrics_request(sn_call *c, int status)
{
    int route = c->route != NULL ? (int)(c->route - sn_routes) : -1;
    int64_t took = c->started_us != 0 ? sn_monotonic_us() - c->started_us : 0;
    sn_metrics_count_request(route, status, took);
}

/*
 * h_metrics.c - GET /metrics: the counters of util/metrics.h and the
 * gauges read at scrape time, in the Prometheus text format; on the API's
 * address for an admin key (routes.c), and on the --metrics-listen address
 * without a credential (sn_metrics_listener_handle). Each answer's own
 * count is counts.c's.
 *
 * The gauges that need the store (notices, deliveries, the follower's lag)
 * are read on the writer thread, as a job like any other store read, and
 * the answer is written back on the loop; the writer's queue and the index
 * are read on the loop before the job is queued. A store that fails, or a
 * full writer queue, leaves those gauges out (secondnum_store_up 0): the
 * counters are answered whatever the store does.
 *
 * The metrics address answers GET and HEAD /metrics and 404 to the rest; a
 * request with a body is answered 404 from its head, its body never read.
 */
#include "http/job.h"
#include "http/router.h"

#include "core/errors.h"
#include "index/numindex.h"
#include "util/clock.h"
#include "util/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char content_type[] = "text/plain; version=0.0.4; charset=utf-8";

/* The exposition, answered on the loop thread. */
static void answer_metrics(sn_call *c, const sn_metrics_gauges *g)
{
    sn_metrics_route routes[SN_METRICS_ROUTES_MAX];
    size_t n = sn_nroutes < SN_METRICS_ROUTES_MAX ? sn_nroutes : SN_METRICS_ROUTES_MAX;
    sn_strbuf out = {0};
    for (size_t i = 0; i < n; i++)
        routes[i] = (sn_metrics_route){sn_routes[i].method, sn_routes[i].path};
    sn_metrics_write(&out, routes, n, g);
    sn_audit_metrics(&out);
    if (out.failed || out.s == NULL)
        sn_reply_error(c, SN_HTTP_INTERNAL, "out of memory");
    else
        sn_reply(c, 200, content_type, out.s, out.len);
    free(out.s);
}

/* Writer thread: the gauges read from the store. Never fails: what the
 * store does not answer is left out. */
static int read_store(sn_http_job *j, sn_store *s)
{
    sn_service_read_gauges(j->call->svc, s, j->data);
    return SN_OK;
}

static void answer_job(sn_http_job *j)
{
    answer_metrics(j->call, j->data);
}

void sn_h_metrics(sn_call *c)
{
    sn_metrics_gauges *g = h2o_mem_alloc_pool(&c->req->pool, sizeof(*g));
    const sn_service *svc = c->svc;
    memset(g, 0, sizeof(*g));
    if (svc->writer != NULL) {
        size_t jobs, rows;
        sn_writer_depth(svc->writer, &jobs, &rows);
        g->have_writer = 1;
        g->writer_jobs = jobs;
        g->writer_rows = rows;
    }
    if (svc->index != NULL) {
        g->have_index = 1;
        g->index_numbers = sn_numindex_count(svc->index);
        g->index_bytes = sn_numindex_bytes(svc->index);
    }
    sn_http_job *j = sn_http_job_new(c, read_store, g);
    j->answer = answer_job;
    if (svc->writer == NULL || sn_writer_submit(svc->writer, &j->job) != SN_OK)
        answer_metrics(c, g); /* without the store's gauges */
}

/* The /metrics entry of the route table (its labels in the counts). */
static const sn_route *metrics_route(void)
{
    for (size_t i = 0; i < sn_nroutes; i++)
        if (strcmp(sn_routes[i].path, "/metrics") == 0)
            return &sn_routes[i];
    return NULL;
}

int sn_metrics_listener_admit_head(void *ctx, const sn_head *h, sn_head_verdict *v)
{
    (void)ctx;
    v->status = sn_http_error_status(SN_HTTP_NOT_FOUND);
    v->code = sn_http_error_code(SN_HTTP_NOT_FOUND);
    v->correlator = sn_head_get(h, "x-correlator");
    if (v->correlator.base != NULL && !sn_correlator_valid(v->correlator))
        v->correlator = h2o_iovec_init(NULL, 0);
    snprintf(v->message, sizeof(v->message), "this address serves GET /metrics only");
    return 0;
}

int sn_metrics_listener_handle(void *ctx, h2o_req_t *req)
{
    sn_call *c = h2o_mem_alloc_pool(&req->pool, sizeof(*c));
    h2o_iovec_t path = req->path_normalized;
    memset(c, 0, sizeof(*c));
    c->started_us = sn_monotonic_us();
    c->req = req;
    c->svc = ctx;
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    if (get && h2o_memis(path.base, path.len, H2O_STRLIT("/metrics"))) {
        c->route = metrics_route();
        sn_h_metrics(c);
    } else {
        sn_reply_error(c, SN_HTTP_NOT_FOUND, "this address serves GET /metrics only");
    }
    return 0;
}

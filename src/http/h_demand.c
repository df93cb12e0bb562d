/*
 * h_demand.c - coverage demand (service/demand.h): a subscriber names an
 * app the registry does not have (POST /v1/subscriber/app-requests, with a
 * session); admins read the names most asked for (GET
 * /v1/admin/stats/demand, drawn by the /admin dashboard).
 */
#include "http/job.h"
#include "service/demand.h"

#include "core/errors.h"
#include "delivery/notice_json.h"

#include <stdlib.h>
#include <string.h>

int sn_w_sub_app_request(sn_http_job *j, sn_store *s)
{
    sn_demand_vote v;
    int rc =
        sn_demand_ask(j->call->svc, s, j->call->token_hash, sn_call_field(j->call, "name")->value,
                      &v, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "{\"name\":");
    sn_strbuf_string(&j->out, v.name);
    sn_strbuf_printf(&j->out, ",\"added\":%s,\"votes\":%llu}", v.added ? "true" : "false",
                     (unsigned long long)v.votes);
    j->status = v.added ? 201 : 200;
    return SN_OK;
}

typedef struct {
    sn_strbuf *b;
    int any;
} demand_out;

static int demand_row(void *ctx, const char *name, uint64_t votes, int64_t first, int64_t last)
{
    demand_out *o = ctx;
    sn_strbuf_printf(o->b, "%s{\"name\":", o->any++ ? "," : "");
    sn_strbuf_string(o->b, name);
    sn_strbuf_printf(o->b, ",\"votes\":%llu", (unsigned long long)votes);
    sn_json_time_field(o->b, "first_asked_at", first);
    sn_json_time_field(o->b, "last_asked_at", last);
    sn_strbuf_printf(o->b, "}");
    return 0;
}

static int stats_demand(sn_http_job *j, sn_store *s)
{
    demand_out o = {&j->out, 0};
    sn_strbuf_printf(&j->out, "{\"apps\":[");
    int rc = sn_demand_top(s, *(uint32_t *)j->data, demand_row, &o, j->message, sizeof(j->message));
    sn_strbuf_printf(&j->out, "]}");
    return rc;
}

void sn_h_stats_demand(sn_call *c)
{
    const char *v = sn_call_param(c, "limit");
    uint32_t *limit = h2o_mem_alloc_pool(&c->req->pool, sizeof(*limit));
    char *end = NULL;
    long n = v != NULL ? strtol(v, &end, 10) : SN_DEMAND_TOP_DEFAULT;
    if (v != NULL && (end == v || *end != '\0' || n < 1 || n > SN_DEMAND_TOP_MAX)) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "limit must be 1 to %d", SN_DEMAND_TOP_MAX);
        return;
    }
    *limit = (uint32_t)n;
    sn_http_submit(sn_http_job_new(c, stats_demand, limit));
}

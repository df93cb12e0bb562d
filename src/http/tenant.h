/*
 * tenant.h - requests that read or change one app's data (bindings,
 * notices, webhook, subscription) or the admin views of all of them.
 *
 * The loop thread parses the body and query into a tenant job; the writer
 * thread resolves the caller's app (the name of its app key; created on first
 * use), runs the job's `work` inside one store transaction (reads: without
 * one) and builds the answer; the loop thread replies. A work function that fails (bad input
 * found against the store, a conflict, a store error) rolls everything back:
 * a request applies whole or not at all.
 */
#ifndef SN_TENANT_H
#define SN_TENANT_H

#include "core/errors.h"
#include "http/http.h"
#include "http/query.h"
#include "http/writer.h"

#include <jansson.h>

typedef struct sn_tenant_job sn_tenant_job;

struct sn_tenant_job {
    sn_write_job job;
    sn_service *svc;
    int (*work)(sn_tenant_job *t, sn_store *s); /* writer thread; SN_OK or a failure */
    json_t *body;                               /* the parsed body, or NULL */
    char app[SN_APP_NAME_MAX + 1];              /* the caller's app ("" for admin) */
    uint32_t app_id;
    sn_query_param q[SN_QUERY_MAX_PARAMS];
    size_t nq;
    uint64_t id;  /* the {id} of the path, when the route has one */
    int64_t now;  /* request time (seconds) */
    int status;   /* of a successful answer (200 unless set) */
    sn_strbuf out;
    sn_http_error error;
    char message[SN_ERRMSG_MAX];
    int wake;      /* set by work: wake the deliverer after the commit */
    int read_only; /* a GET: no transaction */
};

/* A job for c: parses the query against the names given (NULL-terminated),
 * the body when with_body, and the {id} when with_id. NULL when a reply
 * (400) was already sent. */
sn_tenant_job *sn_tenant_job_new(sn_call *c, int (*work)(sn_tenant_job *, sn_store *),
                                 const char *const *query_names, int with_body, int with_id);

/* Hand the job to the writer thread. */
void sn_tenant_submit(sn_call *c, sn_tenant_job *t);

/* Record an error answer; returns SN_EINVAL so work can `return` it. */
int sn_tenant_fail(sn_tenant_job *t, sn_http_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A query parameter's value, or NULL when absent. */
const char *sn_tenant_param(const sn_tenant_job *t, const char *name);

/* Parse the optional paging parameters after (an id, default 0) and limit
 * (1..max, default def). SN_OK or a recorded 400. */
int sn_tenant_paging(sn_tenant_job *t, uint64_t *after, uint32_t *limit, uint32_t def,
                     uint32_t max);

#endif

/*
 * tenant.c - the tenant job machinery (see tenant.h).
 */
#include "http/tenant.h"

#include "core/errors.h"
#include "http/json_body.h"
#include "notice/deliverer.h"
#include "store/keys.h"
#include "store/apps.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int sn_tenant_fail(sn_tenant_job *t, sn_http_error e, const char *fmt, ...)
{
    va_list ap;
    t->error = e;
    va_start(ap, fmt);
    vsnprintf(t->message, sizeof(t->message), fmt, ap);
    va_end(ap);
    return SN_EINVAL;
}

const char *sn_tenant_param(const sn_tenant_job *t, const char *name)
{
    for (size_t i = 0; i < t->nq; i++)
        if (t->q[i].present && strcmp(t->q[i].name, name) == 0)
            return t->q[i].value;
    return NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9' || strlen(s) > 19)
        return -1;
    *out = strtoull(s, &end, 10);
    return *end == '\0' ? 0 : -1;
}

int sn_tenant_paging(sn_tenant_job *t, uint64_t *after, uint32_t *limit, uint32_t def,
                     uint32_t max)
{
    const char *a = sn_tenant_param(t, "after"), *l = sn_tenant_param(t, "limit");
    uint64_t v;
    *after = 0;
    *limit = def;
    if (a != NULL && parse_u64(a, after) != 0)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "after must be a cursor from 'next'");
    if (l != NULL) {
        if (parse_u64(l, &v) != 0 || v < 1 || v > max)
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "limit must be 1 to %u", max);
        *limit = (uint32_t)v;
    }
    return SN_OK;
}

/* ---- writer thread -------------------------------------------------------- */

/* The caller's app id, created (in its own transaction) on first use. */
static int resolve_app(sn_tenant_job *t, sn_store *store, char *err, size_t errlen)
{
    int rc = sn_store_app_id(store, t->app, 0, &t->app_id, err, errlen);
    if (rc != SN_ENOTFOUND)
        return rc;
    if ((rc = sn_store_begin(store, err, errlen)) != SN_OK)
        return rc;
    if ((rc = sn_store_app_id(store, t->app, 1, &t->app_id, err, errlen)) != SN_OK ||
        (rc = sn_store_commit(store, err, errlen)) != SN_OK)
        sn_store_rollback(store);
    return rc;
}

/* A store failure because the database server cannot be reached becomes
 * 503 UNAVAILABLE (retry later), not a 500: nothing was changed, and the
 * store reconnects by itself on the next request. 1 when that was the case. */
static int unreachable(sn_tenant_job *t, sn_store *store)
{
    if (sn_store_reachable(store))
        return 0;
    sn_tenant_fail(t, SN_HTTP_UNAVAILABLE,
                   "the database cannot be reached; nothing was changed; retry later");
    return 1;
}

/* Reads run without a transaction: a write transaction would hold the
 * store's write lock (and stall the deliverer's writes) for the length of a
 * listing. Each statement still reads a consistent snapshot. */
static void run_tenant(sn_write_job *job, sn_store *store)
{
    sn_tenant_job *t = (sn_tenant_job *)job;
    char err[SN_ERRMSG_MAX] = "";
    int rc = SN_OK;
    if (t->app[0] != '\0')
        rc = resolve_app(t, store, err, sizeof(err));
    if (rc == SN_OK && !t->read_only)
        rc = sn_store_begin(store, err, sizeof(err));
    if (rc != SN_OK) {
        sn_tenant_fail(t, SN_HTTP_INTERNAL, "the store failed; nothing was changed");
        if (!unreachable(t, store))
            fprintf(stderr, "secondnum serve: %s\n", err);
        return;
    }
    t->error = SN_HTTP_INTERNAL;
    t->message[0] = '\0';
    rc = t->work(t, store);
    if (rc == SN_OK && t->out.failed)
        rc = sn_tenant_fail(t, SN_HTTP_INTERNAL, "out of memory");
    if (rc == SN_OK && !t->read_only && (rc = sn_store_commit(store, err, sizeof(err))) != SN_OK)
        sn_tenant_fail(t, SN_HTTP_INTERNAL, "the store failed; nothing was changed");
    if (rc != SN_OK) {
        if (!t->read_only)
            sn_store_rollback(store);
        if (t->message[0] == '\0')
            sn_tenant_fail(t, SN_HTTP_INTERNAL, "the store failed; nothing was changed");
        if (t->error == SN_HTTP_INTERNAL && !unreachable(t, store))
            fprintf(stderr, "secondnum serve: %s %s\n", t->message, err);
        return;
    }
    job->status = t->status != 0 ? t->status : 200;
    if (t->wake)
        sn_deliverer_wake(t->svc->deliverer);
}

static void tenant_done(sn_write_job *job)
{
    sn_tenant_job *t = (sn_tenant_job *)job;
    if (job->busy)
        sn_writer_reply_busy(job->call);
    else if (job->status != 0)
        sn_reply_json(job->call, job->status, t->out.s != NULL ? t->out.s : "{}",
                      t->out.s != NULL ? t->out.len : 2);
    else
        sn_reply_error(job->call, t->error, "%s", t->message);
    free(t->out.s);
    if (t->body != NULL)
        json_decref(t->body);
}

/* ---- loop thread ---------------------------------------------------------- */

sn_tenant_job *sn_tenant_job_new(sn_call *c, int (*work)(sn_tenant_job *, sn_store *),
                                 const char *const *query_names, int with_body, int with_id)
{
    sn_tenant_job *t = h2o_mem_alloc_pool(&c->req->pool, sizeof(*t));
    memset(t, 0, sizeof(*t));
    t->svc = c->svc;
    t->work = work;
    t->now = (int64_t)time(NULL);
    t->read_only = h2o_memis(c->req->method.base, c->req->method.len, H2O_STRLIT("GET"));
    if (c->key.role == SN_ROLE_APP)
        snprintf(t->app, sizeof(t->app), "%s", c->key.name);
    for (; query_names != NULL && query_names[t->nq] != NULL && t->nq < SN_QUERY_MAX_PARAMS; t->nq++)
        t->q[t->nq].name = query_names[t->nq];
    if (sn_query_parse(c, t->q, t->nq) != 0)
        return NULL;
    if (with_id) {
        char text[24];
        if (c->param_len == 0 || c->param_len >= sizeof(text)) {
            sn_reply_error(c, SN_HTTP_NOT_FOUND, "no such resource");
            return NULL;
        }
        memcpy(text, c->param, c->param_len);
        text[c->param_len] = '\0';
        if (parse_u64(text, &t->id) != 0 || t->id == 0) {
            sn_reply_error(c, SN_HTTP_NOT_FOUND, "no such resource: id '%s'", text);
            return NULL;
        }
    }
    if (with_body && (t->body = sn_json_body(c)) == NULL)
        return NULL;
    return t;
}

void sn_tenant_submit(sn_call *c, sn_tenant_job *t)
{
    t->job.run = run_tenant;
    t->job.done = tenant_done;
    sn_writer_submit(c->svc->writer, c, &t->job);
}

/*
 * job.c - a request's use case on the writer thread (see job.h).
 */
#include "http/job.h"

#include "core/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int sn_http_fail(sn_http_job *j, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->message, sizeof(j->message), fmt, ap);
    va_end(ap);
    return code;
}

int sn_http_fail_as(sn_http_job *j, sn_http_error e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->message, sizeof(j->message), fmt, ap);
    va_end(ap);
    j->has_error = 1;
    j->error = e;
    return SN_EINVAL;
}

static sn_http_job *job_of(sn_job *job)
{
    return (sn_http_job *)((char *)job - offsetof(sn_http_job, job));
}

/* Writer thread: the caller's app, the work, then the 503 of a database
 * that cannot be reached (the store reconnects on the next request). */
static void run(sn_job *job, sn_store *s)
{
    sn_http_job *j = job_of(job);
    j->message[0] = '\0';
    j->rc = sn_service_app_of(s, &j->call->who, j->message, sizeof(j->message));
    if (j->rc == SN_OK)
        j->rc = j->work(j, s);
    if (j->rc == SN_OK && j->out.failed)
        j->rc = sn_http_fail(j, SN_ENOMEM, "out of memory");
    if (j->rc == SN_ESTORE && !sn_store_reachable(s))
        j->rc = sn_http_fail(j, SN_EUNAVAILABLE,
                             "the database cannot be reached; nothing was changed; retry later");
}

/* Loop thread. */
static void answer(sn_loop_message *m)
{
    sn_http_job *j = (sn_http_job *)((char *)m - offsetof(sn_http_job, done));
    if (j->answer != NULL)
        j->answer(j);
    else if (j->rc != SN_OK && j->has_error)
        sn_reply_error(j->call, j->error, "%s", j->message);
    else if (j->rc != SN_OK)
        sn_reply_status(j->call, j->rc, j->message);
    else if (j->out.s != NULL)
        sn_reply_buf(j->call, j->status != 0 ? j->status : 200, &j->out);
    else
        sn_reply_json(j->call, j->status != 0 ? j->status : 200, "{}", 2);
    free(j->out.s);
}

void sn_http_resume(sn_http_job *j)
{
    sn_server_post(j->call->req, &j->done);
}

static void finish(sn_job *job)
{
    sn_http_resume(job_of(job));
}

sn_http_job *sn_http_job_new(sn_call *c, int (*work)(sn_http_job *j, sn_store *s), void *data)
{
    sn_http_job *j = h2o_mem_alloc_pool(&c->req->pool, sizeof(*j));
    memset(j, 0, sizeof(*j));
    j->job.run = run;
    j->job.finish = finish;
    j->done.run = answer;
    j->call = c;
    j->work = work;
    j->data = data;
    c->refuse = NULL; /* the work judges a session first */
    return j;
}

void sn_http_reply_busy(sn_call *c)
{
    sn_reply_error(c, SN_HTTP_UNAVAILABLE,
                   "too many writes are waiting for the store; nothing was applied; retry later");
}

void sn_http_submit(sn_http_job *j)
{
    const sn_service *svc = j->call->svc;
    const sn_route *r = j->call->route;
    sn_writer *w = r != NULL && (r->flags & SN_ROUTE_REPORT) && svc->reports != NULL ? svc->reports
                                                                                     : svc->writer;
    if (sn_writer_submit(w, &j->job) != SN_OK)
        sn_http_reply_busy(j->call);
}

void sn_listing_open(sn_listing *l, sn_http_job *j, const char *name, uint64_t after)
{
    l->j = j;
    l->n = 0;
    l->last = after;
    sn_strbuf_printf(&j->out, "{\"%s\":[", name);
}

sn_strbuf *sn_listing_row(sn_listing *l, uint64_t cursor)
{
    if (l->n++ > 0)
        sn_strbuf_printf(&l->j->out, ",");
    l->last = cursor;
    return &l->j->out;
}

void sn_listing_close(sn_listing *l)
{
    sn_strbuf_printf(&l->j->out, "],\"next\":\"%llu\"}", (unsigned long long)l->last);
}

void sn_listing_close_paged(sn_listing *l, uint32_t limit)
{
    if (l->n == limit)
        sn_listing_close(l);
    else
        sn_strbuf_printf(&l->j->out, "],\"next\":null}");
}

void sn_listing_close_plain(sn_listing *l)
{
    sn_strbuf_printf(&l->j->out, "]}");
}

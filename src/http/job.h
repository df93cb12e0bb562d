/*
 * job.h - handing a request's use case to the writer thread and answering
 * it back on its loop thread: the one way a handler reaches the store.
 *
 * A handler parses the request on the loop thread, then submits a job
 * whose work calls one service function on the writer thread with its
 * store handle and formats the answer into out; the loop thread that owns
 * the request sends it (or the error the work returned, through
 * sn_reply_status). A report route's job (SN_ROUTE_REPORT: reads that may
 * scan months of the log or the trail) goes to the reports thread
 * instead, the same machinery on a store handle of its own, so the
 * dashboard never holds up a write. A store that cannot be reached turns a failure into
 * 503 with Retry-After (the request changed nothing; the store reconnects
 * by itself on the next one). A full writer queue answers 503 at once.
 *
 * A job lives in its request's memory pool: h2o 2.2 over HTTP/1 (the only
 * protocol served) stops reading a connection while its request is being
 * handled and disposes the request only after the response was sent, so a
 * client that goes away cannot free a queued job; its answer goes to a dead
 * socket, which closes then. At shutdown the loops wait for their
 * connections, and the writer finishes every queued job before the loops
 * dispose their contexts (server.c).
 */
#ifndef SN_JOB_H
#define SN_JOB_H

#include "core/errors.h"
#include "http/http.h"
#include "http/server.h"
#include "service/writer.h"

struct sn_http_job {
    sn_job job;           /* the writer's */
    sn_loop_message done; /* back to the request's loop thread */
    sn_call *call;
    /* writer thread: call one service function, format into out; SN_OK or
     * its failure, with message */
    int (*work)(sn_http_job *j, sn_store *s);
    /* loop thread, optional: answer a job that went through another path
     * (the events service's own queueing) */
    void (*answer)(sn_http_job *j);
    void *data;    /* the handler's */
    int rc;        /* what work returned */
    int has_error; /* work chose the answer's error (sn_http_fail_as): */
    sn_http_error error;
    int status; /* of a success: 200 unless work set it */
    char message[SN_ERRMSG_MAX];
    sn_strbuf out;
};

/* A job for c (in its pool); NULL never: the pool aborts when out of memory. */
sn_http_job *sn_http_job_new(sn_call *c, int (*work)(sn_http_job *j, sn_store *s), void *data);

/* Queue j for the writer; a full queue answers 503 at once. */
void sn_http_submit(sn_http_job *j);

/* Record the error to answer with, whatever the code (work returns what it
 * returns: SN_EINVAL). */
int sn_http_fail_as(sn_http_job *j, sn_http_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record a failure for work to return: SN_E* code and message. */
int sn_http_fail(sn_http_job *j, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* From any thread: run j->answer (or the default answer) on the loop thread
 * that owns j's request. */
void sn_http_resume(sn_http_job *j);

/* The answer to a refused job: 503 UNAVAILABLE, Retry-After. */
void sn_http_reply_busy(sn_call *c);

/* A listing answered as {"<name>":[row,...],"next":"<cursor>"}: open it,
 * take each row's buffer (the comma written), close it with the last
 * row's cursor (or the one asked after when none came; next_null: "next"
 * is null unless the page is full). */
typedef struct {
    sn_http_job *j;
    size_t n;
    uint64_t last;
} sn_listing;

void sn_listing_open(sn_listing *l, sn_http_job *j, const char *name, uint64_t after);
sn_strbuf *sn_listing_row(sn_listing *l, uint64_t cursor);
void sn_listing_close(sn_listing *l);
void sn_listing_close_paged(sn_listing *l, uint32_t limit);
/* Close a listing without a cursor: {"<name>":[...]}. */
void sn_listing_close_plain(sn_listing *l);

#endif

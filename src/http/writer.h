/*
 * writer.h - the writer thread: the only owner of a writable store handle.
 *
 * Loop threads never block on the store. A handler that writes (carrier
 * events, admin changes) fills a job and submits it; the writer runs the
 * job's `run` against the store, then hands the job back to the loop thread
 * that owns the request, where `done` replies. Jobs run one at a time in
 * submission order, so writes are serialized as SQLite wants.
 * Jobs that can share a transaction (carrier events) set the three
 * group callbacks: the writer takes every such job waiting in the queue,
 * runs them in one transaction with one commit (one fsync for many
 * requests), and calls `committed` for each after the commit. If anything
 * fails, it rolls back, calls `aborted` for each, and runs each alone with
 * `run`: a request still applies whole or not at all.
 * A job may also set `publish`: work that must be done before the answer
 * but needs no store, such as putting committed states into the serving
 * index. The writer's publisher thread runs it, for finished jobs in the
 * order the writer finished them, and then hands the job back; meanwhile
 * the writer goes on with the next transaction (measured: the index update
 * was 30% of the writer's time at 170K events/s).
 * Every second the writer also reloads the API keyring, so keys revoked by
 * the CLI stop working on a running server within a second.
 *
 * A job may live in its request's memory pool: h2o 2.2 over HTTP/1 (the only
 * protocol served) stops reading a connection while its request is being
 * handled and disposes the request only after the response was sent, so a
 * client that goes away cannot free a queued job; its answer goes to a dead
 * socket, which closes then. At shutdown the loops wait for their
 * connections, and the writer runs every queued job before the loops dispose
 * their contexts (server.c).
 */
#ifndef SN_WRITER_H
#define SN_WRITER_H

#include "http/http.h"

typedef struct sn_write_job sn_write_job;

struct sn_write_job {
    h2o_multithread_message_t msg; /* zeroed by sn_writer_submit */
    h2o_multithread_receiver_t *reply_to;
    sn_call *call;
    void (*run)(sn_write_job *job, sn_store *store); /* on the writer thread */
    void (*done)(sn_write_job *job);                 /* on the loop thread */
    /* Optional, for jobs that may share a transaction (writer thread): */
    int (*run_in_tx)(sn_write_job *job, sn_store *store, char *err, size_t errlen);
    void (*committed)(sn_write_job *job);
    void (*aborted)(sn_write_job *job);
    void (*publish)(sn_write_job *job); /* optional, on the publisher thread */
    sn_write_job *next;
    void *data;   /* the handler's */
    uint64_t arg; /* the handler's */
    size_t weight; /* rows the job writes (events: its events), at least 1 */
    int busy;      /* set when the queue was full: done answers 503, nothing ran */
    int status;
    char *body; /* reply body built by run (malloc'd; done frees it) */
    size_t body_len;
};

/* Start the writer on its own store handle for db. */
int sn_writer_start(const char *db, sn_service *svc, sn_writer **out, char *err, size_t errlen);

/* Queue a job for the request c (the job lives in c's pool). When the jobs
 * submitted and not yet answered already number SN_WRITER_QUEUE_JOBS or
 * carry SN_WRITER_QUEUE_WEIGHT rows,
 * the job is not queued: job->busy is set and job->done runs at once, to
 * answer with sn_writer_reply_busy. The bound keeps memory and the work left
 * at shutdown in proportion to what the store can write, whatever clients
 * send (clients that post and hang up without reading keep adding work). */
#define SN_WRITER_QUEUE_JOBS 256
#define SN_WRITER_QUEUE_WEIGHT 100000
void sn_writer_submit(sn_writer *w, sn_call *c, sn_write_job *job);

/* The answer to a job refused with busy: 503 UNAVAILABLE, Retry-After. */
void sn_writer_reply_busy(sn_call *c);

/* Run and publish the remaining jobs, stop both threads, close the store;
 * accepts NULL. */
void sn_writer_stop(sn_writer *w);

/* Called by the loop thread for a completed job's message. */
void sn_writer_complete(h2o_multithread_message_t *m);

#endif

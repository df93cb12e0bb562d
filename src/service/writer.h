/*
 * writer.h - the writer thread: the only owner of a writable store handle
 * in a serving process, and its publisher.
 *
 * Loop threads never block on the store. A use case that needs the store
 * is handed to the writer as a job; the writer runs the job's `run` with
 * its handle, then the publisher thread runs the job's `publish` (when it
 * has one) and `finish`, through which the job goes back to whoever
 * submitted it (the HTTP layer answers from there). Jobs run one at a time
 * in submission order, so writes are serialized as SQLite wants.
 * Jobs that may share a transaction set `run_many`: the writer takes every
 * waiting job with the same run_many from the head of the queue and hands
 * them over together (the events service commits them at once: one fsync
 * for many requests).
 * `publish` is work that must be done before the answer but needs no store,
 * such as putting committed states into the serving index: the publisher
 * does it for finished jobs in the order the writer finished them, while
 * the writer goes on with the next transaction (measured: the index update
 * was 30% of the writer's time at 170K events/s).
 * Every second the writer also calls its tick (sn_service_tick: reloading
 * the API keys, so keys revoked by the CLI stop working on a running server
 * within a second, and erasing the texts of dead sign-in codes).
 *
 * The queue is bounded: when the jobs submitted and not yet finished
 * number SN_WRITER_QUEUE_JOBS or carry SN_WRITER_QUEUE_WEIGHT rows, a job is
 * refused (SN_EUNAVAILABLE) and nothing runs: memory and the work left at
 * shutdown stay in proportion to what the store can write, whatever
 * clients send (clients that post and hang up without reading keep adding
 * work). At stop, every queued job runs and finishes first.
 */
#ifndef SN_WRITER_H
#define SN_WRITER_H

#include "store/store.h"

#include <stddef.h>

typedef struct sn_writer sn_writer;
typedef struct sn_job sn_job;

struct sn_job {
    void (*run)(sn_job *job, sn_store *store);                  /* writer thread */
    void (*run_many)(sn_job **jobs, size_t n, sn_store *store); /* optional, writer thread */
    void (*publish)(sn_job *job);                               /* optional, publisher thread */
    void (*finish)(sn_job *job); /* publisher thread: the job is its submitter's again */
    size_t weight;               /* rows the job writes, at least 1 */
    sn_job *next;                /* the writer's */
};

#define SN_WRITER_QUEUE_JOBS 256
#define SN_WRITER_QUEUE_WEIGHT 100000
#define SN_WRITER_MANY_MAX 64 /* jobs handed to one run_many at most */

/* The names a writer's two threads take (at most 15 bytes: what top -H,
 * ps -L and perf show). */
typedef struct {
    const char *writer, *publisher;
} sn_writer_names;

/* Start the writer on its own store handle for db, its threads named as
 * names says; tick (may be NULL) runs on the writer thread about once a
 * second with that handle. */
int sn_writer_start(const char *db, sn_writer_names names, void (*tick)(void *ctx, sn_store *store),
                    void *tick_ctx, sn_writer **out, char *err, size_t errlen);

/* Queue job. SN_OK, or SN_EUNAVAILABLE when the queue is full (the job is
 * not queued and none of its functions will be called). Thread-safe. */
int sn_writer_submit(sn_writer *w, sn_job *job);

/* The jobs submitted and not yet finished, and the rows they carry
 * (thread-safe; for the metrics). */
void sn_writer_depth(sn_writer *w, size_t *jobs, size_t *rows);

/* Run and finish the remaining jobs, stop both threads, close the store;
 * accepts NULL. */
void sn_writer_stop(sn_writer *w);

#endif

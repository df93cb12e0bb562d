/*
 * writer.c - the writer thread and its publisher (see writer.h). Two
 * mutex-protected FIFOs, each with a condition variable: submitted jobs,
 * which the writer takes, and finished ones, which the publisher takes in
 * the order the writer finished them. The writer also wakes once a second
 * for its tick. Both threads start with SIGTERM and SIGINT blocked (they
 * start before the server blocks them): those are the main thread's.
 */
#include "service/writer.h"

#include "core/errors.h"
#include "util/clock.h"
#include "util/thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TICK_MS 1000

struct sn_writer {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    sn_job *head, **tail;
    size_t queued_jobs, queued_weight; /* submitted, not yet finished */
    int stopping;
    pthread_t tid;
    sn_writer_names names; /* static strings */
    sn_store *store;
    void (*tick)(void *ctx, sn_store *store);
    void *tick_ctx;
    /* the publisher: jobs the writer finished, oldest first */
    pthread_mutex_t publish_lock;
    pthread_cond_t publish_wake;
    sn_job *finished, **finished_tail;
    int publisher_stopping;
    pthread_t publisher_tid;
};

/* Tick when a second has passed since the last tick, jobs or no jobs (the
 * lock is released around it). */
static void maybe_tick(sn_writer *w, int64_t *last)
{
    if (sn_monotonic_ms() - *last < TICK_MS)
        return;
    if (w->tick != NULL) {
        pthread_mutex_unlock(&w->lock);
        w->tick(w->tick_ctx, w->store);
        pthread_mutex_lock(&w->lock);
    }
    *last = sn_monotonic_ms();
}

/* ---- the publisher --------------------------------------------------------- */

static void hand_to_publisher(sn_writer *w, sn_job **jobs, size_t n)
{
    pthread_mutex_lock(&w->publish_lock);
    for (size_t i = 0; i < n; i++) {
        jobs[i]->next = NULL;
        *w->finished_tail = jobs[i];
        w->finished_tail = &jobs[i]->next;
    }
    pthread_cond_signal(&w->publish_wake);
    pthread_mutex_unlock(&w->publish_lock);
}

/* Publish each finished job in turn, then finish it; the job leaves the
 * queue's bound once finished. */
static void *publisher_main(void *arg)
{
    sn_writer *w = arg;
    sn_thread_name(w->names.publisher);
    pthread_mutex_lock(&w->publish_lock);
    for (;;) {
        while (w->finished == NULL && !w->publisher_stopping)
            pthread_cond_wait(&w->publish_wake, &w->publish_lock);
        sn_job *job = w->finished;
        if (job == NULL)
            break; /* stopping, nothing left */
        w->finished = NULL;
        w->finished_tail = &w->finished;
        pthread_mutex_unlock(&w->publish_lock);
        while (job != NULL) {
            sn_job *next = job->next;
            size_t weight = job->weight;
            if (job->publish != NULL)
                job->publish(job);
            job->finish(job); /* the job is its submitter's now */
            pthread_mutex_lock(&w->lock);
            w->queued_jobs--;
            w->queued_weight -= weight;
            pthread_mutex_unlock(&w->lock);
            job = next;
        }
        pthread_mutex_lock(&w->publish_lock);
    }
    pthread_mutex_unlock(&w->publish_lock);
    return NULL;
}

/* ---- the writer -------------------------------------------------------------- */

static void *writer_main(void *arg)
{
    sn_writer *w = arg;
    sn_thread_name(w->names.writer);
    int64_t last_tick = sn_monotonic_ms();
    pthread_mutex_lock(&w->lock);
    for (;;) {
        maybe_tick(w, &last_tick);
        while (w->head == NULL && !w->stopping) {
            struct timespec until = sn_realtime_in_ms(200); /* wake at least 5 times a second */
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
            maybe_tick(w, &last_tick);
        }
        if (w->head == NULL)
            break; /* stopping, queue empty */
        sn_job *group[SN_WRITER_MANY_MAX];
        size_t n = 0;
        do { /* one job, or every job of the same run_many at the head of the queue */
            group[n++] = w->head;
            if ((w->head = w->head->next) == NULL)
                w->tail = &w->head;
        } while (group[0]->run_many != NULL && n < SN_WRITER_MANY_MAX && w->head != NULL &&
                 w->head->run_many == group[0]->run_many);
        pthread_mutex_unlock(&w->lock);
        if (n > 1)
            group[0]->run_many(group, n, w->store);
        else
            group[0]->run(group[0], w->store);
        hand_to_publisher(w, group, n);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void stop_publisher(sn_writer *w)
{
    sn_thread_stop(&w->publish_lock, &w->publish_wake, &w->publisher_stopping, w->publisher_tid);
}

static void writer_free(sn_writer *w)
{
    sn_store_close(w->store);
    pthread_cond_destroy(&w->publish_wake);
    pthread_mutex_destroy(&w->publish_lock);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int sn_writer_start(const char *db, sn_writer_names names, void (*tick)(void *ctx, sn_store *store),
                    void *tick_ctx, sn_writer **out, char *err, size_t errlen)
{
    sn_writer *w = calloc(1, sizeof(*w));
    int rc;
    if (w == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_mutex_init(&w->publish_lock, NULL);
    pthread_cond_init(&w->publish_wake, NULL);
    w->tail = &w->head;
    w->finished_tail = &w->finished;
    w->names = names;
    w->tick = tick;
    w->tick_ctx = tick_ctx;
    if ((rc = sn_store_open(db, NULL, &w->store, err, errlen)) != SN_OK)
        goto fail;
    if (sn_thread_start(&w->publisher_tid, publisher_main, w) != 0) {
        rc = sn_fail(err, errlen, SN_EIO, "cannot start the publisher thread");
        goto fail;
    }
    if (sn_thread_start(&w->tid, writer_main, w) != 0) {
        rc = sn_fail(err, errlen, SN_EIO, "cannot start the writer thread");
        stop_publisher(w);
        goto fail;
    }
    *out = w;
    return SN_OK;
fail:
    writer_free(w);
    return rc;
}

int sn_writer_submit(sn_writer *w, sn_job *job)
{
    job->next = NULL;
    if (job->weight == 0)
        job->weight = 1;
    pthread_mutex_lock(&w->lock);
    if (w->queued_jobs >= SN_WRITER_QUEUE_JOBS ||
        (w->queued_jobs > 0 && w->queued_weight + job->weight > SN_WRITER_QUEUE_WEIGHT)) {
        pthread_mutex_unlock(&w->lock);
        return SN_EUNAVAILABLE;
    }
    w->queued_jobs++;
    w->queued_weight += job->weight;
    *w->tail = job;
    w->tail = &job->next;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return SN_OK;
}

void sn_writer_stop(sn_writer *w)
{
    if (w == NULL)
        return;
    sn_thread_stop(&w->lock, &w->wake, &w->stopping, w->tid);
    stop_publisher(w); /* after the writer: it finishes every job the writer ran */
    writer_free(w);
}

void sn_writer_depth(sn_writer *w, size_t *jobs, size_t *rows)
{
    pthread_mutex_lock(&w->lock);
    *jobs = w->queued_jobs;
    *rows = w->queued_weight;
    pthread_mutex_unlock(&w->lock);
}

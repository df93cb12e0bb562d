/*
 * writer.c - the writer thread and its publisher (see writer.h). Two
 * mutex-protected FIFOs, each with a condition variable: submitted jobs,
 * which the writer takes, and finished ones, which the publisher takes in
 * the order the writer finished them. The writer also wakes once a second
 * to reload the keyring. Both threads start with SIGTERM and SIGINT blocked
 * (they start before the server blocks them): those are the main thread's.
 */
#include "http/writer.h"

#include "core/errors.h"
#include "http/server.h"
#include "util/thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define KEYRING_RELOAD_MS 1000
#define GROUP_MAX 64

struct sn_writer {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    sn_write_job *head, **tail;
    size_t queued_jobs, queued_weight; /* submitted, not yet published */
    int stopping;
    pthread_t tid;
    sn_store *store;
    sn_service *svc;
    int keys_failing; /* the last reload failed */
    /* the publisher: jobs the writer finished, oldest first */
    pthread_mutex_t publish_lock;
    pthread_cond_t publish_wake;
    sn_write_job *finished, **finished_tail;
    int publisher_stopping;
    pthread_t publisher_tid;
};

/* A failure is logged once, not every second while the database is away;
 * the keys loaded last stay in use meanwhile. */
static void reload_keys(sn_writer *w)
{
    char err[SN_ERRMSG_MAX];
    int ok = sn_keyring_load(w->svc->keys, w->store, err, sizeof(err)) == SN_OK;
    if (!ok && !w->keys_failing)
        fprintf(stderr, "secondnum serve: reloading keys: %s (keeping the loaded ones)\n", err);
    else if (ok && w->keys_failing)
        fprintf(stderr, "secondnum serve: keys reloaded again\n");
    w->keys_failing = !ok;
}

static long monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reload the keyring when a second has passed since the last reload, jobs
 * or no jobs (the lock is released around the reload). */
static void maybe_reload(sn_writer *w, long *last)
{
    if (monotonic_ms() - *last < KEYRING_RELOAD_MS)
        return;
    pthread_mutex_unlock(&w->lock);
    reload_keys(w);
    pthread_mutex_lock(&w->lock);
    *last = monotonic_ms();
}

/* Run n jobs: alone, or (groupable ones) in one transaction, falling back
 * to one transaction each when the shared one fails. */
static void run_group(sn_writer *w, sn_write_job **jobs, size_t n)
{
    char err[SN_ERRMSG_MAX];
    size_t i = 0;
    int rc;

    if (jobs[0]->run_in_tx == NULL || n == 1) {
        for (i = 0; i < n; i++)
            jobs[i]->run(jobs[i], w->store);
        return;
    }
    rc = sn_store_begin(w->store, err, sizeof(err));
    for (; rc == SN_OK && i < n; i++)
        rc = jobs[i]->run_in_tx(jobs[i], w->store, err, sizeof(err));
    if (rc == SN_OK)
        rc = sn_store_commit(w->store, err, sizeof(err));
    if (rc == SN_OK) {
        for (i = 0; i < n; i++)
            jobs[i]->committed(jobs[i]);
        return;
    }
    sn_store_rollback(w->store);
    fprintf(stderr, "secondnum serve: a shared transaction failed (%s); applying one by one\n", err);
    for (i = 0; i < n; i++) {
        jobs[i]->aborted(jobs[i]);
        jobs[i]->run(jobs[i], w->store);
    }
}

/* ---- the publisher --------------------------------------------------------- */

static void hand_to_publisher(sn_writer *w, sn_write_job **jobs, size_t n)
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

/* Publish each finished job in turn, then answer it; the job leaves the
 * queue's bound once answered. */
static void *publisher_main(void *arg)
{
    sn_writer *w = arg;
    pthread_mutex_lock(&w->publish_lock);
    for (;;) {
        while (w->finished == NULL && !w->publisher_stopping)
            pthread_cond_wait(&w->publish_wake, &w->publish_lock);
        sn_write_job *job = w->finished;
        if (job == NULL)
            break; /* stopping, nothing left */
        w->finished = NULL;
        w->finished_tail = &w->finished;
        pthread_mutex_unlock(&w->publish_lock);
        while (job != NULL) {
            sn_write_job *next = job->next;
            size_t weight = job->weight;
            if (job->publish != NULL)
                job->publish(job);
            h2o_multithread_send_message(job->reply_to, &job->msg); /* job is the loop's now */
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
    long last_reload = monotonic_ms();
    pthread_mutex_lock(&w->lock);
    for (;;) {
        maybe_reload(w, &last_reload);
        while (w->head == NULL && !w->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 200 * 1000000L; /* wake at least 5 times a second */
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
            maybe_reload(w, &last_reload);
        }
        if (w->head == NULL)
            break; /* stopping, queue empty */
        sn_write_job *group[GROUP_MAX];
        size_t n = 0;
        do { /* one job, or every groupable job at the head of the queue */
            group[n++] = w->head;
            if ((w->head = w->head->next) == NULL)
                w->tail = &w->head;
        } while (group[0]->run_in_tx != NULL && n < GROUP_MAX && w->head != NULL &&
                 w->head->run_in_tx != NULL);
        pthread_mutex_unlock(&w->lock);
        run_group(w, group, n);
        hand_to_publisher(w, group, n);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void stop_publisher(sn_writer *w)
{
    pthread_mutex_lock(&w->publish_lock);
    w->publisher_stopping = 1;
    pthread_cond_signal(&w->publish_wake);
    pthread_mutex_unlock(&w->publish_lock);
    pthread_join(w->publisher_tid, NULL);
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

int sn_writer_start(const char *db, sn_service *svc, sn_writer **out, char *err, size_t errlen)
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
    w->svc = svc;
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

void sn_writer_submit(sn_writer *w, sn_call *c, sn_write_job *job)
{
    memset(&job->msg, 0, sizeof(job->msg));
    job->call = c;
    job->reply_to = sn_server_completions(c->req);
    job->next = NULL;
    if (job->weight == 0)
        job->weight = 1;
    pthread_mutex_lock(&w->lock);
    if (w->queued_jobs >= SN_WRITER_QUEUE_JOBS ||
        (w->queued_jobs > 0 && w->queued_weight + job->weight > SN_WRITER_QUEUE_WEIGHT)) {
        pthread_mutex_unlock(&w->lock);
        job->busy = 1;
        job->done(job);
        return;
    }
    w->queued_jobs++;
    w->queued_weight += job->weight;
    *w->tail = job;
    w->tail = &job->next;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void sn_writer_stop(sn_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->tid, NULL);
    stop_publisher(w); /* after the writer: it publishes every job the writer finished */
    writer_free(w);
}

void sn_writer_reply_busy(sn_call *c)
{
    sn_reply_error(c, SN_HTTP_UNAVAILABLE,
                   "too many writes are waiting for the store; nothing was applied; retry later");
}

void sn_writer_complete(h2o_multithread_message_t *m)
{
    sn_write_job *job = H2O_STRUCT_FROM_MEMBER(sn_write_job, msg, m);
    job->done(job);
}

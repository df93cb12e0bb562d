/*
 * writer.c - the writer thread (see writer.h). A mutex-protected FIFO of
 * jobs and a condition variable; the thread wakes for a job or once a
 * second to reload the keyring. It starts with SIGTERM and SIGINT blocked
 * (it starts before the server blocks them): they are the main thread's.
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
    size_t queued_jobs, queued_weight; /* in the queue, not yet taken */
    int stopping;
    pthread_t tid;
    sn_store *store;
    sn_service *svc;
    int keys_failing; /* the last reload failed */
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
            w->queued_jobs--;
            w->queued_weight -= w->head->weight;
            if ((w->head = w->head->next) == NULL)
                w->tail = &w->head;
        } while (group[0]->run_in_tx != NULL && n < GROUP_MAX && w->head != NULL &&
                 w->head->run_in_tx != NULL);
        pthread_mutex_unlock(&w->lock);
        run_group(w, group, n);
        for (size_t i = 0; i < n; i++)
            h2o_multithread_send_message(group[i]->reply_to, &group[i]->msg);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int sn_writer_start(const char *db, sn_service *svc, sn_writer **out, char *err, size_t errlen)
{
    sn_writer *w = calloc(1, sizeof(*w));
    int rc, created;
    if (w == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->tail = &w->head;
    w->svc = svc;
    if ((rc = sn_store_open(db, NULL, &w->store, err, errlen)) != SN_OK)
        goto fail;
    created = sn_thread_start(&w->tid, writer_main, w) == 0;
    if (!created) {
        rc = sn_fail(err, errlen, SN_EIO, "cannot start the writer thread");
        goto fail;
    }
    *out = w;
    return SN_OK;
fail:
    sn_store_close(w->store);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
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
    sn_store_close(w->store);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
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

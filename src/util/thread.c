/*
 * thread.c - helper threads without the shutdown signals (see thread.h).
 */
#include "util/thread.h"

#include <signal.h>

int sn_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(tid, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void sn_thread_name(const char *name)
{
    pthread_setname_np(pthread_self(), name);
}

void sn_thread_stop(pthread_mutex_t *lock, pthread_cond_t *wake, int *stopping, pthread_t tid)
{
    pthread_mutex_lock(lock);
    *stopping = 1;
    pthread_cond_signal(wake);
    pthread_mutex_unlock(lock);
    pthread_join(tid, NULL);
}

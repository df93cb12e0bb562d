/*
 * thread.h - starting helper threads that leave SIGTERM and SIGINT to the
 * thread that handles shutdown (the server's main thread).
 */
#ifndef SN_THREAD_H
#define SN_THREAD_H

#include <pthread.h>

/* pthread_create with SIGTERM, SIGINT and SIGHUP blocked in the new thread (the mask
 * is inherited at creation; the caller's own mask is left as it was).
 * Returns pthread_create's result. */
int sn_thread_start(pthread_t *tid, void *(*fn)(void *), void *arg);

/* Name the calling thread (at most 15 bytes: what top -H, ps -L and perf
 * show for it). */
void sn_thread_name(const char *name);

/* Stop a thread that waits on wake under lock for work or for *stopping:
 * set *stopping (under lock), wake it, and join it. */
void sn_thread_stop(pthread_mutex_t *lock, pthread_cond_t *wake, int *stopping, pthread_t tid);

#endif

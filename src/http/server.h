/*
 * server.h - run the HTTP API (see server.c for threads and shutdown).
 */
#ifndef SN_SERVER_H
#define SN_SERVER_H

#include "http/http.h"

typedef struct {
    const char *listen; /* HOST:PORT */
    unsigned threads;   /* event loops, >= 1 */
} sn_server_options;

/* Serve until SIGTERM or SIGINT, then shut down gracefully (stopping
 * svc->writer once the loops are done). ready(arg) is called once every
 * listener is open. SN_OK after a clean shutdown, or an error (port in use)
 * with a message. */
int sn_server_run(const sn_server_options *o, sn_service *svc, void (*ready)(void *), void *arg,
                  char *err, size_t errlen);

/* The completion receiver of the loop thread that owns req. */
h2o_multithread_receiver_t *sn_server_completions(h2o_req_t *req);

#endif

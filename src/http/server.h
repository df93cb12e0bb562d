/*
 * server.h - the HTTP server: listeners, one event loop per thread, and
 * graceful shutdown (server.c). It knows nothing of routes or of the
 * writer: every request goes to the one handler the options name, and
 * work finished on another thread comes back to a request's loop as a
 * message posted to it.
 */
#ifndef SN_SERVER_H
#define SN_SERVER_H

#include "http/head.h"

#include <h2o.h>

/* Work to run on the loop thread that owns a request (sn_server_post). */
typedef struct sn_loop_message sn_loop_message;
struct sn_loop_message {
    h2o_multithread_message_t super; /* the server's */
    void (*run)(sn_loop_message *m);
};

/* What the handler makes of a request from its head alone, before any of
 * its body is read (sn_server_options.admit_head). */
typedef struct {
    /* given: the body's bytes already received with the head (as many as
     * the body has when it arrived whole) */
    size_t body_here;
    /* admitted: the body the request may have, and whether its caller is
     * unknown (no valid API key: its body counts against the server-wide
     * budget of unauthenticated bodies) */
    size_t max_body;
    int anonymous;
    /* refused: the answer, in the CAMARA shape; the connection is closed */
    int status;
    const char *code;
    char message[256];
    h2o_iovec_t correlator; /* a valid x-correlator to echo, or {NULL, 0} */
} sn_head_verdict;

typedef struct {
    const char *listen; /* HOST:PORT */
    unsigned threads;   /* event loops, >= 1 */
    /* every request (loop thread); returns 0, the answer being its own */
    int (*handle)(void *ctx, h2o_req_t *req);
    /* a request's head, as soon as it has arrived (loop thread; its framing
     * is sound): 1 to read the body (v->max_body, v->anonymous), or 0 to
     * answer v->status and close without reading it */
    int (*admit_head)(void *ctx, const sn_head *head, sn_head_verdict *v);
    void *ctx;
    /* connections served at once, over all loops; more are answered 503
     * and closed (0: sn_server_limits sets the default) */
    size_t max_connections;
    /* a second address (NULL: none), served by the first loop: its
     * requests go to metrics_handle and metrics_admit_head instead */
    const char *metrics_listen;
    int (*metrics_handle)(void *ctx, h2o_req_t *req);
    int (*metrics_admit_head)(void *ctx, const sn_head *head, sn_head_verdict *v);
    /* once the loops are done with their connections and before they go:
     * stop whatever posts messages to them (may be NULL) */
    void (*drained)(void *ctx);
    /* as soon as SIGTERM or SIGINT arrives, before the loops stop (main
     * thread; may be NULL): say that shutdown began */
    void (*stopping)(void *ctx);
    /* on SIGHUP (main thread): reopen the logs (may be NULL: ignored) */
    void (*hangup)(void *ctx);
} sn_server_options;

#define SN_LISTEN_HOST_MAX 256 /* the HOST of --listen HOST:PORT, with its NUL */

/* Connections served at once by default, unless the open-files limit
 * (raised to its hard limit at start) leaves room for fewer: then the limit
 * less SN_SERVER_FD_RESERVE and SN_SERVER_FD_PER_THREAD per loop, which the
 * store, the listeners, the loops and the refusals use. */
#define SN_SERVER_DEFAULT_MAX_CONNECTIONS 10000
#define SN_SERVER_MAX_CONNECTIONS_LIMIT 1000000 /* --max-connections at most */
#define SN_SERVER_FD_RESERVE 128
#define SN_SERVER_FD_PER_THREAD 4

/* Raise the soft open-files limit to the hard one, and settle
 * o->max_connections (its default when 0). Writes what it did, one line,
 * into note (for the log); when --max-connections is more than the limit
 * allows, says so there. */
void sn_server_limits(sn_server_options *o, char *note, size_t notelen);

/* Is address HOST:PORT with a port of 1 to 65535? SN_OK, or SN_EUSAGE with
 * why (checked again when listening; HOST is resolved then). */
int sn_server_listen_valid(const char *address, char *err, size_t errlen);

/* Serve until SIGTERM or SIGINT, then shut down gracefully; SIGHUP calls
 * o->hangup and serving goes on. ready(arg) is
 * called once every listener is open. SN_OK after a clean shutdown, or an
 * error (port in use) with a message. */
int sn_server_run(const sn_server_options *o, void (*ready)(void *), void *arg, char *err,
                  size_t errlen);

/* From any thread: run m->run on the loop thread that owns req. */
void sn_server_post(h2o_req_t *req, sn_loop_message *m);

#endif

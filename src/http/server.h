/*
 * server.h - the HTTP server: listeners, one event loop per thread, and
 * graceful shutdown (server.c). It knows nothing of routes or of the
 * writer: every request goes to the one handler the options name, and
 * work finished on another thread comes back to a request's loop as a
 * message posted to it.
 */
#ifndef SN_SERVER_H
#define SN_SERVER_H

#include <h2o.h>

/* Work to run on the loop thread that owns a request (sn_server_post). */
typedef struct sn_loop_message sn_loop_message;
struct sn_loop_message {
    h2o_multithread_message_t super; /* the server's */
    void (*run)(sn_loop_message *m);
};

typedef struct {
    const char *listen; /* HOST:PORT */
    unsigned threads;   /* event loops, >= 1 */
    /* every request (loop thread); returns 0, the answer being its own */
    int (*handle)(void *ctx, h2o_req_t *req);
    void *ctx;
    /* once the loops are done with their connections and before they go:
     * stop whatever posts messages to them (may be NULL) */
    void (*drained)(void *ctx);
} sn_server_options;

#define SN_LISTEN_HOST_MAX 256 /* the HOST of --listen HOST:PORT, with its NUL */

/* Is address HOST:PORT with a port of 1 to 65535? SN_OK, or SN_EUSAGE with
 * why (checked again when listening; HOST is resolved then). */
int sn_server_listen_valid(const char *address, char *err, size_t errlen);

/* Serve until SIGTERM or SIGINT, then shut down gracefully. ready(arg) is
 * called once every listener is open. SN_OK after a clean shutdown, or an
 * error (port in use) with a message. */
int sn_server_run(const sn_server_options *o, void (*ready)(void *), void *arg, char *err,
                  size_t errlen);

/* From any thread: run m->run on the loop thread that owns req. */
void sn_server_post(h2o_req_t *req, sn_loop_message *m);

#endif

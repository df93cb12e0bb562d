/*
 * conn.h - the server's side of each connection, around h2o's HTTP/1
 * (conn.c; used by server.c only): every request's head judged before its
 * body is read, the connection cap, and lingering close.
 */
#ifndef SN_CONN_H
#define SN_CONN_H

#include "http/server.h"

#include <h2o.h>

/* After an answer that closes a connection on a client that may still be
 * sending (an error, or unread bytes), the server stops writing, then
 * reads and discards for at most this long and this many bytes before it
 * closes, so that the client reads the answer instead of a reset. */
#define SN_HTTP_LINGER_MS 5000
#define SN_HTTP_LINGER_MAX_BYTES (64u << 20)
/* A connection over --max-connections gets its 503, then this long. */
#define SN_HTTP_REFUSAL_LINGER_MS 1000
/* Refused connections lingering at once, over all loops; past this they
 * are closed right after the 503 is written. */
#define SN_HTTP_REFUSALS_MAX 32
/* Bodies of requests without a valid API key (public routes, sessions,
 * unknown paths) being received at once, over all connections: a request
 * that would take more is answered 503 (Retry-After: 1) from its head. */
#define SN_HTTP_ANON_BODY_BUDGET (16u << 20)
/* A chunked body of such a request may take this much chunk framing over
 * its limit before it is refused (413) as it arrives. */
#define SN_HTTP_CHUNK_SLACK (16u << 10)

/* One loop's connections. */
typedef struct {
    h2o_context_t *ctx;
    h2o_accept_ctx_t *accept_ctx;
    const sn_server_options *options;
    h2o_timeout_t linger, refusal;
    size_t live;        /* connections not yet gone: served, lingering, refused */
    char scratch[8192]; /* where lingering reads go */
} sn_conns;

void sn_conns_init(sn_conns *l, h2o_context_t *ctx, h2o_accept_ctx_t *accept_ctx,
                   const sn_server_options *o);
/* Once no connection is left (l->live == 0). */
void sn_conns_dispose(sn_conns *l);

/* A connection just accepted (non-blocking fd): served, or answered 503
 * when --max-connections are served already. */
void sn_conn_accept(sn_conns *l, int fd);

/* The options of the listener req's connection came from (NULL: a
 * connection conn.c does not know). */
const sn_server_options *sn_conn_options(h2o_req_t *req);

/* Watch every answer on this path (it tells when a connection closes). */
void sn_conn_register(h2o_pathconf_t *path);

/* For a request whose head the loop did not see before h2o read its body
 * (one that came pipelined behind another): its framing. 1 when sound, or
 * 0 with *status and *why. */
int sn_conn_framing_ok(h2o_req_t *req, int *status, const char **why);

#endif

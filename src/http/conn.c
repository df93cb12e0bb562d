/*
 * conn.c - the server's side of each connection (see conn.h).
 *
 * h2o 2.2 reads a request's whole body into the connection's buffer before
 * it calls any handler, and has no hook between the head and the body. So
 * the server stands in front of h2o's two socket callbacks, which h2o sets
 * on the socket it was given (socket.h: _cb.read, _cb.write):
 *
 *   - read: every time bytes arrive while h2o reads a request, the head at
 *     the start of the buffer (h2o keeps it there until the answer is
 *     sent) is judged first, once it is complete: its framing (head.h),
 *     then the router's verdict from the head alone (authentication, the
 *     body the route may have). A refused request is answered here, on
 *     the socket, and h2o is told the connection failed, so it closes it
 *     without reading the body: an unauthenticated client holds no more
 *     than its head. A request without a valid key may have only a small
 *     body, counted against one budget for the whole server.
 *   - write: h2o sets its read callback again when an answer has been
 *     written (for the next request, or after "100 Continue"); the server
 *     steps back in front of it each time a write of h2o's completes.
 *
 * Both are put back only where h2o's own reader is found, so an h2o that
 * worked otherwise would lose the checks, not crash; the router checks the
 * same things again once the body is in (and the framing of a request the
 * reader did not see, because it came pipelined and complete behind
 * another, is judged when it reaches the handler).
 *
 * Lingering close: an answer that closes the connection on a client that
 * may still be sending (an error, or bytes not read) would otherwise reach
 * it as a reset, which can destroy the answer before it is read. Before
 * h2o closes such a connection, its descriptor is duplicated; once h2o has
 * closed its own, the server shuts down writing on the duplicate and reads
 * and discards until the client closes, SN_HTTP_LINGER_MS pass or
 * SN_HTTP_LINGER_MAX_BYTES arrive (nginx's lingering close).
 *
 * A connection's state lives until h2o has closed its socket and no
 * callback of the server's is on the stack (busy), then lingers or goes.
 * Everything runs on the connection's loop thread; the counters shared by
 * the loops are atomic.
 */
#include "http/conn.h"

#include "http/http.h"
#include "util/clock.h"
#include "util/metrics.h"
#include "util/strbuf.h"
#include "http/reqlog.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CORRELATOR_MAX 256

typedef struct sn_conn {
    sn_conns *l;
    h2o_socket_t *sock;                    /* h2o's, until it closes it */
    int fd;                                /* its descriptor */
    h2o_socket_cb http1_read, http1_write; /* h2o's callbacks the server stands in front of */
    unsigned busy;                         /* the server's callbacks on the stack */
    unsigned closed : 1;                   /* h2o has closed its socket */
    unsigned refusal : 1;                  /* over the cap: answered 503, never served */
    /* the answer being written */
    unsigned response_done : 1; /* its last bytes went to h2o: the write's end ends the request */
    unsigned closing : 1;       /* it closes the connection */
    int status;
    /* the request being read */
    unsigned head_seen : 1; /* its head was judged and admitted */
    unsigned chunked : 1;
    unsigned anonymous : 1;
    size_t scanned;                      /* bytes of the head seen incomplete so far */
    const sn_head *head;                 /* while gate() judges a complete head */
    size_t head_len, max_body, reserved; /* reserved: of the unauthenticated budget */
    char correlator[CORRELATOR_MAX + 1];
    /* lingering */
    int lfd;
    h2o_socket_t *lsock;
    h2o_timeout_entry_t ltimer;
    size_t discarded;
} sn_conn;

static atomic_size_t served;    /* connections counted against max_connections */
static atomic_size_t refusing;  /* refused connections lingering */
static atomic_size_t anon_body; /* bytes of the unauthenticated budget taken */
static atomic_llong cap_logged; /* when "at the connection limit" was last logged */

static void on_read(h2o_socket_t *sock, const char *err);
static void on_write_done(h2o_socket_t *sock, const char *err);

/* ---- counters ---------------------------------------------------------- */

static int take(atomic_size_t *counter, size_t n, size_t max)
{
    size_t now = atomic_load(counter);
    do {
        if (now > max || max - now < n)
            return 0;
    } while (!atomic_compare_exchange_weak(counter, &now, now + n));
    return 1;
}

/* ---- answers written straight to the socket ---------------------------- */

static const char *reason_of(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

/* A whole answer, closing, with a CAMARA body; its length (*body: the
 * body's). */
static size_t format_answer(char *out, size_t cap, int status, const char *code, const char *msg,
                            const char *correlator, size_t *body_len)
{
    char esc[600], body[800], date[64];
    time_t now = (time_t)sn_wall_sec();
    struct tm tm;
    size_t n = sn_json_escape(msg, strlen(msg), esc, sizeof(esc) - 1);
    esc[n < sizeof(esc) ? n : sizeof(esc) - 1] = '\0';
    int blen = snprintf(body, sizeof(body), "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}\n",
                        status, code, esc);
    *body_len = blen > 0 ? (size_t)blen : 0;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int len =
        snprintf(out, cap,
                 "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: close\r\n"
                 "Content-Type: application/json\r\nContent-Length: %d\r\n%s%s%s%s\r\n%s",
                 status, reason_of(status), date, blen, status == 503 ? "Retry-After: 1\r\n" : "",
                 correlator[0] != '\0' ? "x-correlator: " : "", correlator,
                 correlator[0] != '\0' ? "\r\n" : "", body);
    return len < 0 || (size_t)len >= cap ? 0 : (size_t)len;
}

/* Write it at once: the socket has sent nothing of this request, so its
 * buffer takes a short answer whole. 1 if it did. The request's line goes
 * to the request log first unless logged is NULL (a refused connection,
 * no request read); a head with no target: one that could not be read. */
static int write_answer(int fd, int status, const char *code, const char *msg,
                        const char *correlator, const sn_head *logged)
{
    char out[1536];
    size_t body_len,
        len = format_answer(out, sizeof(out), status, code, msg, correlator, &body_len);
    if (len > 0 && logged != NULL) { /* before it leaves: in the log when the client has it */
        sn_reqlog_refused(logged, fd, status, correlator, body_len);
        sn_audit_refused(logged, status, correlator);
    }
    sn_metrics_count_refused(status);
    return len > 0 && send(fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len;
}

static void keep_correlator(char *out, h2o_iovec_t v)
{
    out[0] = '\0';
    if (v.base != NULL && sn_correlator_valid(v)) {
        memcpy(out, v.base, v.len);
        out[v.len] = '\0';
    }
}

/* ---- lingering close --------------------------------------------------- */

static void conn_free(sn_conn *cs)
{
    cs->l->live--;
    if (cs->refusal)
        atomic_fetch_sub(&refusing, 1);
    else
        atomic_fetch_sub(&served, 1);
    free(cs);
}

static void linger_end(sn_conn *cs)
{
    h2o_timeout_unlink(&cs->ltimer);
    h2o_socket_close(cs->lsock); /* and cs->lfd with it */
    conn_free(cs);
}

static void on_linger_timeout(h2o_timeout_entry_t *entry)
{
    linger_end(H2O_STRUCT_FROM_MEMBER(sn_conn, ltimer, entry));
}

/* Read and discard until the client closes (or fails, or sends too much). */
static void on_linger_read(h2o_socket_t *sock, const char *err)
{
    sn_conn *cs = sock->data;
    (void)err;
    for (;;) {
        ssize_t r = recv(cs->lfd, cs->l->scratch, sizeof(cs->l->scratch), MSG_DONTWAIT);
        if (r > 0) {
            cs->discarded += (size_t)r;
            if (cs->discarded > SN_HTTP_LINGER_MAX_BYTES)
                break;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            break; /* closed, or failed */
        }
    }
    linger_end(cs);
}

static void linger_start(sn_conn *cs, h2o_timeout_t *timeout)
{
    shutdown(cs->lfd, SHUT_WR); /* the answer is in the socket's buffer: FIN follows it */
    cs->lsock = h2o_evloop_socket_create(cs->l->ctx->loop, cs->lfd, H2O_SOCKET_FLAG_DONT_READ);
    cs->lsock->data = cs;
    cs->ltimer.cb = on_linger_timeout;
    h2o_timeout_link(cs->l->ctx->loop, timeout, &cs->ltimer);
    h2o_socket_read_start(cs->lsock, on_linger_read);
}

/* Before h2o closes a connection after an answer: keep the socket open
 * under a second descriptor when the client may still be sending. */
static void linger_prepare(sn_conn *cs)
{
    int unread = 0;
    if (cs->lfd >= 0)
        return;
    if (cs->status < 400 && (ioctl(cs->fd, FIONREAD, &unread) != 0 || unread == 0))
        return;
    cs->lfd = fcntl(cs->fd, F_DUPFD_CLOEXEC, 0); /* out of descriptors: a plain close */
}

/* h2o is done with the connection and so is the server's stack. */
static void finish(sn_conn *cs)
{
    if (cs->lfd >= 0)
        linger_start(cs, &cs->l->linger);
    else
        conn_free(cs);
}

/* ---- standing in front of h2o ------------------------------------------ */

/* The request is over (answered, or the connection closed). */
static void request_reset(sn_conn *cs)
{
    if (cs->reserved > 0)
        atomic_fetch_sub(&anon_body, cs->reserved);
    cs->reserved = 0;
    cs->scanned = 0;
    cs->head_seen = 0;
    cs->chunked = 0;
    cs->anonymous = 0;
    cs->correlator[0] = '\0';
}

static void on_conn_closed(void *data)
{
    sn_conn *cs = data;
    cs->closed = 1;
    cs->sock = NULL;
    request_reset(cs);
    if (cs->busy == 0)
        finish(cs);
}

/* Back from h2o: stand in front of whatever it has set since. */
static void after_h2o(sn_conn *cs)
{
    if (!cs->closed) {
        h2o_socket_t *s = cs->sock;
        if (s->_cb.write != NULL && s->_cb.write != on_write_done) {
            cs->http1_write = s->_cb.write;
            s->_cb.write = on_write_done;
        }
        if (s->_cb.read != NULL && s->_cb.read == cs->http1_read)
            s->_cb.read = on_read;
    }
    if (--cs->busy == 0 && cs->closed)
        finish(cs);
}

static sn_conn *conn_of(h2o_req_t *req)
{
    h2o_socket_t *sock;
    if (req->conn->callbacks->get_socket == NULL ||
        (sock = req->conn->callbacks->get_socket(req->conn)) == NULL ||
        sock->on_close.cb != on_conn_closed)
        return NULL;
    return sock->on_close.data;
}

/* Answer the request being read and have h2o close the connection without
 * reading more of it; 0. */
static int refuse_request(sn_conn *cs, int status, const char *code, const char *msg,
                          const char *correlator)
{
    static const sn_head unread = {0};
    if (write_answer(cs->fd, status, code, msg, correlator,
                     cs->head != NULL ? cs->head : &unread)) {
        cs->status = status;
        cs->lfd = fcntl(cs->fd, F_DUPFD_CLOEXEC, 0); /* lingers once h2o has closed */
    }
    cs->busy++;
    cs->http1_read(cs->sock, h2o_socket_error_closed); /* h2o closes its connection */
    after_h2o(cs);
    return 0;
}

static int refuse_large(sn_conn *cs, size_t max)
{
    char msg[96];
    snprintf(msg, sizeof(msg), "the request body is larger than %zu bytes", max);
    return refuse_request(cs, 413, "PAYLOAD_TOO_LARGE", msg, cs->correlator);
}

/* The head, once complete: framing, the handler's verdict, the body's
 * limits. 1 to let h2o read on, 0 after refusing. */
static int judge_head(sn_conn *cs, const sn_head *h)
{
    const sn_server_options *o = cs->l->options;
    sn_head_verdict v;
    memset(&v, 0, sizeof(v));
    v.max_body = cs->l->ctx->globalconf->max_request_entity_size;
    size_t body = h->chunked ? SIZE_MAX : h->content_length == SIZE_MAX ? 0 : h->content_length;
    size_t here = cs->sock->input->size - h->len;
    v.body_here = h->chunked ? 0 : here < body ? here : body;
    keep_correlator(cs->correlator, sn_head_get(h, "x-correlator"));
    /* without a body there is nothing to spare: the router judges it all */
    if (body > 0 && o->admit_head != NULL && !o->admit_head(o->ctx, h, &v)) {
        char corr[CORRELATOR_MAX + 1];
        keep_correlator(corr, v.correlator);
        return refuse_request(cs, v.status, v.code, v.message, corr);
    }
    if (h->content_length != SIZE_MAX && h->content_length > v.max_body)
        return refuse_large(cs, v.max_body);
    if (h->chunked)
        body = v.max_body;
    if (v.anonymous && body > 0) {
        if (!take(&anon_body, body, SN_HTTP_ANON_BODY_BUDGET))
            return refuse_request(cs, 503, "UNAVAILABLE",
                                  "too many request bodies without an API key are being received; "
                                  "retry",
                                  cs->correlator);
        cs->reserved = body;
    }
    cs->head_seen = 1;
    cs->head_len = h->len;
    cs->chunked = h->chunked;
    cs->anonymous = v.anonymous;
    cs->max_body = v.max_body;
    return 1;
}

/* Before h2o reads what arrived: 1 to let it, 0 after refusing. */
static int gate(sn_conn *cs)
{
    h2o_buffer_t *in = cs->sock->input;
    if (!cs->head_seen) {
        sn_head h;
        switch (sn_head_parse(in->bytes, in->size, cs->scanned, &h)) {
        case SN_HEAD_PARTIAL:
            cs->scanned = in->size;
            return 1;
        case SN_HEAD_BLANK:
            return 1;
        case SN_HEAD_BAD:
            keep_correlator(cs->correlator, sn_head_get(&h, "x-correlator"));
            return refuse_request(cs, h.status,
                                  h.status == 431 ? "REQUEST_HEADER_FIELDS_TOO_LARGE"
                                                  : "INVALID_ARGUMENT",
                                  h.why, cs->correlator);
        default:
            cs->head = &h;
            int admitted = judge_head(cs, &h);
            cs->head = NULL;
            if (!admitted)
                return 0;
        }
    }
    /* a chunked body is counted as it comes (h2o decodes it in place) */
    if (cs->chunked && cs->anonymous &&
        in->size - cs->head_len > cs->max_body + SN_HTTP_CHUNK_SLACK)
        return refuse_large(cs, cs->max_body);
    return 1;
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    sn_conn *cs = sock->on_close.data;
    if (err == NULL && !gate(cs))
        return;
    cs->busy++;
    cs->http1_read(sock, err);
    after_h2o(cs);
}

static void on_write_done(h2o_socket_t *sock, const char *err)
{
    sn_conn *cs = sock->on_close.data;
    h2o_socket_cb cb = cs->http1_write;
    int ends = cs->response_done;
    cs->http1_write = NULL;
    cs->response_done = 0;
    if (ends) {
        if (cs->closing && err == NULL)
            linger_prepare(cs);
        request_reset(cs); /* before h2o starts on a request that came pipelined */
    }
    cs->busy++;
    cb(sock, err); /* h2o: the next request, or close */
    after_h2o(cs);
}

/* ---- watching answers --------------------------------------------------- */

static void watch_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n,
                       h2o_send_state_t state)
{
    sn_conn *cs = conn_of(req);
    if (cs == NULL || cs->closed || h2o_send_state_is_in_progress(state)) {
        h2o_ostream_send_next(self, req, bufs, n, state);
        return;
    }
    cs->response_done = 1;
    cs->closing = !req->http1_is_persistent || state == H2O_SEND_STATE_ERROR;
    cs->status = req->res.status;
    cs->busy++;
    h2o_ostream_send_next(self, req, bufs, n, state); /* req may be gone after this */
    if (!cs->closed && cs->response_done && cs->sock->_cb.write == NULL) {
        cs->response_done = 0; /* written and done with at once */
        request_reset(cs);
    }
    after_h2o(cs);
}

static void watch_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    h2o_ostream_t *os = h2o_add_ostream(req, sizeof(*os), slot);
    os->do_send = watch_send;
    h2o_setup_next_ostream(req, &os->next);
}

void sn_conn_register(h2o_pathconf_t *path)
{
    h2o_create_filter(path, sizeof(h2o_filter_t))->on_setup_ostream = watch_setup;
}

const sn_server_options *sn_conn_options(h2o_req_t *req)
{
    sn_conn *cs = conn_of(req);
    return cs != NULL ? cs->l->options : NULL;
}

int sn_conn_framing_ok(h2o_req_t *req, int *status, const char **why)
{
    sn_conn *cs = conn_of(req);
    sn_head h;
    if (cs == NULL || cs->closed || cs->head_seen)
        return 1;
    h2o_buffer_t *in = cs->sock->input;
    int rc = sn_head_parse(in->bytes, in->size, 0, &h);
    if (rc != SN_HEAD_BAD || h.status == 431)
        return 1;
    *status = h.status;
    *why = h.why;
    return 0;
}

/* ---- accepting ----------------------------------------------------------- */

/* Over the cap: a 503, then a short linger, or a plain close when many are
 * refused at once. */
static void refuse_connection(sn_conns *l, int fd)
{
    char msg[128];
    long long now = (long long)sn_wall_sec(), last = atomic_load(&cap_logged);
    snprintf(msg, sizeof(msg), "the server is serving its maximum of %zu connections; retry",
             l->options->max_connections);
    if (now - last >= 60 && atomic_compare_exchange_strong(&cap_logged, &last, now))
        sn_log(SN_LOG_WARN, "%zu connections (--max-connections): refusing more",
               l->options->max_connections);
    sn_conn *cs = NULL;
    if (write_answer(fd, 503, "UNAVAILABLE", msg, "", NULL) &&
        take(&refusing, 1, SN_HTTP_REFUSALS_MAX)) {
        if ((cs = calloc(1, sizeof(*cs))) == NULL)
            atomic_fetch_sub(&refusing, 1);
    }
    if (cs == NULL) {
        close(fd);
        return;
    }
    cs->l = l;
    cs->fd = cs->lfd = fd;
    cs->closed = 1;
    cs->refusal = 1;
    l->live++;
    linger_start(cs, &l->refusal);
}

void sn_conn_accept(sn_conns *l, int fd)
{
    int on = 1;
    sn_conn *cs = NULL;
    size_t max = l->options->max_connections;
    if (!take(&served, 1, max > 0 ? max : SN_SERVER_DEFAULT_MAX_CONNECTIONS)) {
        refuse_connection(l, fd);
        return;
    }
    if ((cs = calloc(1, sizeof(*cs))) == NULL) {
        atomic_fetch_sub(&served, 1);
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    cs->l = l;
    cs->fd = fd;
    cs->lfd = -1;
    cs->sock = h2o_evloop_socket_create(l->ctx->loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
    cs->sock->on_close.cb = on_conn_closed;
    cs->sock->on_close.data = cs;
    l->live++;
    cs->busy++;
    h2o_accept(l->accept_ctx, cs->sock);
    if (!cs->closed)
        cs->http1_read = cs->sock->_cb.read; /* h2o's request reader */
    after_h2o(cs);
}

void sn_conns_init(sn_conns *l, h2o_context_t *ctx, h2o_accept_ctx_t *accept_ctx,
                   const sn_server_options *o)
{
    l->ctx = ctx;
    l->accept_ctx = accept_ctx;
    l->options = o;
    l->live = 0;
    h2o_timeout_init(ctx->loop, &l->linger, SN_HTTP_LINGER_MS);
    h2o_timeout_init(ctx->loop, &l->refusal, SN_HTTP_REFUSAL_LINGER_MS);
}

void sn_conns_dispose(sn_conns *l)
{
    h2o_timeout_dispose(l->ctx->loop, &l->linger);
    h2o_timeout_dispose(l->ctx->loop, &l->refusal);
}

/*
 * server.c - the HTTP server on libh2o-evloop: listeners, one event loop per
 * thread, and graceful shutdown.
 *
 * Threads: each loop thread has its own SO_REUSEPORT listener (the kernel
 * spreads connections evenly), its own h2o context, and a receiver for
 * messages posted from other threads (sn_server_post). All listeners are
 * bound before any thread starts, so "port in use" is reported at startup.
 * Each loop creates and disposes its h2o context (event loop, message
 * queue) on its own thread, as h2o's own server does: libh2o 2.2 gives
 * every socket's input buffer the creating thread's buffer recycler (a
 * __thread free list without a lock), so a context made by the main thread
 * left every loop's queue socket allocating from, and freeing into, the
 * main thread's list at once: with two loops, a double free soon after
 * writes began.
 *
 * Connections: each loop accepts its own (accept4), up to --max-connections
 * over all loops, and hands each to conn.c, which stands in front of h2o's
 * HTTP/1 reader (the head judged before the body, lingering close) and
 * answers 503 to those over the cap. Out of file descriptors (EMFILE), the
 * pending connection would wake the loop again at once, forever: the loop
 * stops listening for ACCEPT_BACKOFF_MS instead. At start the soft
 * open-files limit is raised to the hard one (sn_server_limits).
 *
 * The metrics address (--metrics-listen), when asked for, is one more
 * listener of the first loop, bound without SO_REUSEPORT (so that it can
 * never share the API's address): its connections go through conn.c like
 * the others (the cap, lingering close), with options of their own whose
 * handler answers them (no API route, no credential), and it is drained
 * and closed with the loop.
 *
 * Requests: one catch-all h2o handler on "/" hands every request to the
 * options' handler (the router), so every 404 and 405 is the API's. Errors
 * that h2o produces itself before that (413 for a body over the limit, 400
 * for a broken body) are rewritten to the CAMARA shape by a filter on the
 * host's fallback path.
 *
 * SIGHUP, taken by the same sigwait, calls the options' `hangup` (the
 * request log is reopened) and serving goes on.
 *
 * Shutdown (SIGTERM/SIGINT, taken by sigwait in the main thread): each loop
 * stops accepting (draining its accept queue first), marks its context shut
 * down so answers carry "Connection: close", gives every connection one
 * second to finish sending its request (idle keep-alive ones close), and
 * runs until its connections are gone (requests in flight, including those
 * waiting for another thread, are answered) or the grace period ends. Then
 * the options' `drained` stops what posts messages (the writer); only then
 * does each loop dispose its context (a message may come until then), and
 * only when no connection still refers to it.
 */
#include "http/server.h"

#include "core/errors.h"
#include "http/conn.h"
#include "http/http.h"
#include "http/reqlog.h"
#include "util/clock.h"
#include "util/thread.h"
#include "util/log.h"
#include "util/metrics.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ACCEPT_BATCH 16
/* Out of file descriptors (EMFILE, ENFILE), a loop stops accepting for this
 * long instead of being woken at once by the connection it cannot take. */
#define ACCEPT_BACKOFF_MS 100
/* ... and says so at most this often. */
#define ACCEPT_BACKOFF_LOG_S 60
#define GRACE_MS 10000
/* At shutdown every connection gets at most this long, counted from the start
 * of its current request or idle period, to finish sending a request: idle
 * keep-alive connections close within it, a body still arriving can finish. */
#define SHUTDOWN_READ_GRACE_MS 1000

/* Shutdown in order: the main thread waits until every loop is drained,
 * runs `drained`, then lets the loops dispose their contexts. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned drained; /* loops done with their connections (or their grace period) */
    int quiet;        /* no message will be posted any more */
} stop_order;

typedef struct {
    h2o_context_t ctx; /* first: requests find their thread through it */
    h2o_accept_ctx_t accept_ctx;
    h2o_multithread_receiver_t messages;
    h2o_globalconf_t *conf;
    stop_order *order;
    pthread_t tid;
    int listen_fd;
    int wake_fd;
    h2o_socket_t *listener;
    h2o_socket_t *wake;
    sn_conns conns;
    /* the metrics address (first loop only; metrics_fd -1: none) */
    int metrics_fd;
    h2o_socket_t *metrics_listener;
    sn_conns metrics_conns;
    sn_server_options metrics_options;
    h2o_timeout_t backoff; /* ACCEPT_BACKOFF_MS */
    h2o_timeout_entry_t backoff_entry;
    int accepting; /* 0 once draining */
    volatile int stop;
} loop_thread;

static const sn_server_options *options; /* for the h2o callbacks; set before threads start */

static size_t live_connections(const loop_thread *t)
{
    return t->conns.live + (t->metrics_fd >= 0 ? t->metrics_conns.live : 0);
}

void sn_server_post(h2o_req_t *req, sn_loop_message *m)
{
    loop_thread *t = (loop_thread *)req->conn->ctx;
    h2o_multithread_send_message(&t->messages, &m->super);
}

/* An error of the server's own, in the CAMARA shape; the connection closes. */
static int answer_error(h2o_req_t *req, int status, const char *code, const char *msg)
{
    char body[320];
    int len = snprintf(body, sizeof(body), "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}\n",
                       status, code, msg);
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-correlator"), -1);
    sn_metrics_count_refused(status);
    req->res.status = status;
    req->res.reason = "Bad Request";
    req->http1_is_persistent = 0;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    if (i != -1 && sn_correlator_valid(req->headers.entries[i].value))
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-correlator"), 0, NULL,
                              req->headers.entries[i].value.base,
                              req->headers.entries[i].value.len);
    sn_reqlog_server(req, status, (size_t)len);
    h2o_send_inline(req, body, (size_t)len);
    return 0;
}

static int on_request(h2o_handler_t *self, h2o_req_t *req)
{
    int status;
    const char *why;
    (void)self;
    if (!sn_conn_framing_ok(req, &status, &why)) /* a pipelined request conn.c did not see */
        return answer_error(req, status, "INVALID_ARGUMENT", why);
    const sn_server_options *o = sn_conn_options(req); /* which listener */
    if (o == NULL)
        o = options;
    return o->handle(o->ctx, req);
}

/* ---- h2o's own errors in the CAMARA shape ------------------------------ */

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
} error_ostream;

static void error_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n,
                       h2o_send_state_t state)
{
    error_ostream *os = (error_ostream *)self;
    if (n != 0)
        h2o_ostream_send_next(&os->super, req, &os->body, 1, state);
    else
        h2o_ostream_send_next(&os->super, req, bufs, n, state);
}

static void error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    if (req->res.status >= 400) {
        sn_metrics_count_refused(req->res.status);
        int large = req->res.status == 413;
        char body[160];
        int len = snprintf(
            body, sizeof(body), "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}\n",
            req->res.status, large ? "PAYLOAD_TOO_LARGE" : "INVALID_ARGUMENT",
            large ? "the request body is larger than 8 MiB" : "the request could not be read");
        error_ostream *os = (error_ostream *)h2o_add_ostream(req, sizeof(*os), slot);
        os->super.do_send = error_send;
        os->body = h2o_strdup(&req->pool, body, (size_t)len);
        req->res.content_length = os->body.len;
        sn_reqlog_server(req, req->res.status, os->body.len);
        h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
                       H2O_STRLIT("application/json"), 1);
        ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-correlator"), -1);
        if (i != -1 && sn_correlator_valid(req->headers.entries[i].value))
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-correlator"), 0,
                                  NULL, req->headers.entries[i].value.base,
                                  req->headers.entries[i].value.len);
        slot = &os->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

/* ---- connections and loops -------------------------------------------- */

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_backoff_end(h2o_timeout_entry_t *entry)
{
    loop_thread *t = H2O_STRUCT_FROM_MEMBER(loop_thread, backoff_entry, entry);
    if (t->accepting) {
        h2o_socket_read_start(t->listener, on_accept);
        if (t->metrics_listener != NULL)
            h2o_socket_read_start(t->metrics_listener, on_accept);
    }
}

/* Out of descriptors: the pending connection stays in the listen queue and
 * would wake the loop at once, again and again; stop listening a while. */
static void back_off(loop_thread *t, int err)
{
    static atomic_llong logged;
    long long now = (long long)sn_wall_sec(), last = atomic_load(&logged);
    if (!t->accepting || h2o_timeout_is_linked(&t->backoff_entry))
        return;
    h2o_socket_read_stop(t->listener);
    if (t->metrics_listener != NULL)
        h2o_socket_read_stop(t->metrics_listener);
    h2o_timeout_link(t->ctx.loop, &t->backoff, &t->backoff_entry);
    if (now - last >= ACCEPT_BACKOFF_LOG_S && atomic_compare_exchange_strong(&logged, &last, now))
        sn_log(SN_LOG_WARN,
               "cannot accept connections (%s): pausing %d ms at a time; "
               "raise the open-files limit or lower --max-connections",
               strerror(err), ACCEPT_BACKOFF_MS);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    loop_thread *t = listener->data;
    int metrics = listener == t->metrics_listener;
    if (err != NULL)
        return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(metrics ? t->metrics_fd : t->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
                back_off(t, e);
            if (e != EINTR && e != ECONNABORTED)
                return; /* EAGAIN: none left */
            continue;
        }
        sn_conn_accept(metrics ? &t->metrics_conns : &t->conns, fd);
    }
}

/* The main thread asks the loop to stop. The socket is DONT_READ: take the
 * eventfd's count here, and stop watching it, else the level-triggered fd
 * wakes every later turn of the loop (drain would spin). */
static void on_wake(h2o_socket_t *sock, const char *err)
{
    (void)err;
    loop_thread *t = sock->data;
    uint64_t count;
    if (read(t->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        return;
    h2o_socket_read_stop(sock);
    t->stop = 1;
}

static void on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        sn_loop_message *m = H2O_STRUCT_FROM_MEMBER(sn_loop_message, super.link, messages->next);
        h2o_linklist_unlink(&m->super.link);
        m->run(m);
    }
}

static void drain(loop_thread *t)
{
    h2o_socket_read_stop(t->listener);
    h2o_timeout_unlink(&t->backoff_entry);
    on_accept(t->listener, NULL);
    t->accepting = 0;
    h2o_timeout_unlink(&t->backoff_entry);
    h2o_socket_close(t->listener);
    if (t->metrics_listener != NULL) {
        h2o_socket_read_stop(t->metrics_listener);
        on_accept(t->metrics_listener, NULL);
        h2o_socket_close(t->metrics_listener);
        t->metrics_listener = NULL;
    }
    h2o_context_request_shutdown(&t->ctx);
    if (t->ctx.http1.req_timeout.timeout > SHUTDOWN_READ_GRACE_MS)
        t->ctx.http1.req_timeout.timeout = SHUTDOWN_READ_GRACE_MS;
    uint64_t deadline = h2o_now(t->ctx.loop) + GRACE_MS;
    while (live_connections(t) > 0 && h2o_now(t->ctx.loop) < deadline)
        h2o_evloop_run(t->ctx.loop, (int32_t)(deadline - h2o_now(t->ctx.loop)));
}

/* After the messages stopped: free the context, unless a connection the grace
 * period gave up on still refers to it (then the exit does). */
static void dispose_loop(loop_thread *t)
{
    h2o_evloop_t *loop = t->ctx.loop;
    if (live_connections(t) > 0)
        return;
    sn_conns_dispose(&t->conns);
    if (t->metrics_fd >= 0)
        sn_conns_dispose(&t->metrics_conns);
    h2o_timeout_dispose(loop, &t->backoff);
    h2o_timeout_unlink(&t->ctx.http2._graceful_shutdown_timeout);
    h2o_multithread_unregister_receiver(t->ctx.queue, &t->messages);
    h2o_context_dispose(&t->ctx);
    h2o_evloop_run(loop, 0);
    h2o_evloop_destroy(loop);
}

static void *loop_main(void *arg)
{
    loop_thread *t = arg;
    sn_thread_name("sn-loop");
    h2o_evloop_t *loop = h2o_evloop_create();

    /* on this thread: sockets made here recycle buffers through its own list */
    h2o_context_init(&t->ctx, loop, t->conf);
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = t->conf->hosts;
    h2o_multithread_register_receiver(t->ctx.queue, &t->messages, on_messages);
    sn_conns_init(&t->conns, &t->ctx, &t->accept_ctx, options);
    h2o_timeout_init(loop, &t->backoff, ACCEPT_BACKOFF_MS);
    t->backoff_entry.cb = on_backoff_end;
    t->accepting = 1;
    t->listener = h2o_evloop_socket_create(loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);
    if (t->metrics_fd >= 0) {
        t->metrics_options = *options;
        t->metrics_options.handle = options->metrics_handle;
        t->metrics_options.admit_head = options->metrics_admit_head;
        sn_conns_init(&t->metrics_conns, &t->ctx, &t->accept_ctx, &t->metrics_options);
        t->metrics_listener =
            h2o_evloop_socket_create(loop, t->metrics_fd, H2O_SOCKET_FLAG_DONT_READ);
        t->metrics_listener->data = t;
        h2o_socket_read_start(t->metrics_listener, on_accept);
    }
    t->wake = h2o_evloop_socket_create(loop, t->wake_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->wake->data = t;
    h2o_socket_read_start(t->wake, on_wake);
    while (!t->stop)
        h2o_evloop_run(loop, INT32_MAX);
    drain(t);
    h2o_socket_read_stop(t->wake);
    h2o_socket_close(t->wake);
    pthread_mutex_lock(&t->order->lock);
    t->order->drained++;
    pthread_cond_broadcast(&t->order->changed);
    while (!t->order->quiet)
        pthread_cond_wait(&t->order->changed, &t->order->lock);
    pthread_mutex_unlock(&t->order->lock);
    dispose_loop(t);
    return NULL;
}

/* ---- setup ------------------------------------------------------------- */

int sn_server_listen_valid(const char *address, char *err, size_t errlen)
{
    const char *colon = strrchr(address, ':');
    char *end;
    long port;
    if (colon == NULL || colon == address || (size_t)(colon - address) >= SN_LISTEN_HOST_MAX ||
        colon[1] < '0' || colon[1] > '9')
        return sn_fail(err, errlen, SN_EUSAGE, "--listen must be HOST:PORT, not '%s'", address);
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535)
        return sn_fail(err, errlen, SN_EUSAGE, "--listen: the port must be 1 to 65535, not '%s'",
                       colon + 1);
    return SN_OK;
}

/* Bind address; shared: with SO_REUSEPORT (one listener per loop), else
 * alone (the address must be free). */
static int open_listener(const char *address, int shared, int *fd, char *err, size_t errlen)
{
    char host[SN_LISTEN_HOST_MAX];
    const char *colon = strrchr(address, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int on = 1, rc;

    if ((rc = sn_server_listen_valid(address, err, errlen)) != SN_OK)
        return rc;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:8080 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0)
        return sn_fail(err, errlen, SN_EUSAGE, "cannot resolve '%s': %s", address,
                       gai_strerror(rc));
    *fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0 || setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        (shared && setsockopt(*fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) ||
        bind(*fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(*fd, SOMAXCONN) != 0) {
        rc = sn_fail(err, errlen, SN_EIO, "cannot listen on %s: %s", address, strerror(errno));
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    return SN_OK;
}

/* The hard limit the soft one may be raised to (Linux: no more than
 * fs.nr_open, whatever the hard limit says). */
static rlim_t raisable(rlim_t hard)
{
    unsigned long long nr_open = 0;
    FILE *f;
    if (hard != RLIM_INFINITY)
        return hard;
    if ((f = fopen("/proc/sys/fs/nr_open", "r")) != NULL) {
        if (fscanf(f, "%llu", &nr_open) != 1)
            nr_open = 0;
        fclose(f);
    }
    return nr_open > 0 ? (rlim_t)nr_open : hard;
}

void sn_server_limits(sn_server_options *o, char *note, size_t notelen)
{
    struct rlimit rl;
    size_t limit = SIZE_MAX, reserve, fit;
    char said[128] = "open-files limit unknown";
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t before = rl.rlim_cur, to = raisable(rl.rlim_max);
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < to) {
            struct rlimit up = {to, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                rl.rlim_cur = to;
        }
        if (rl.rlim_cur != RLIM_INFINITY)
            limit = (size_t)rl.rlim_cur;
        if (rl.rlim_cur != before)
            snprintf(said, sizeof(said), "open-files limit raised from %llu to %llu",
                     (unsigned long long)before, (unsigned long long)rl.rlim_cur);
        else
            snprintf(said, sizeof(said), "open-files limit %llu%s", (unsigned long long)rl.rlim_cur,
                     rl.rlim_cur == rl.rlim_max ? " (the hard limit)" : "");
    }
    reserve = SN_SERVER_FD_RESERVE + SN_SERVER_FD_PER_THREAD * (size_t)o->threads;
    fit = limit > 2 * reserve ? limit - reserve : limit / 2;
    if (fit < 1)
        fit = 1;
    if (o->max_connections == 0)
        o->max_connections =
            fit < SN_SERVER_DEFAULT_MAX_CONNECTIONS ? fit : SN_SERVER_DEFAULT_MAX_CONNECTIONS;
    snprintf(note, notelen, "%s; at most %zu connections%s", said, o->max_connections,
             o->max_connections > fit
                 ? " (more than the open-files limit leaves room for: when descriptors run "
                   "out, accepting pauses)"
                 : "");
}

static void configure(h2o_globalconf_t *conf)
{
    h2o_config_init(conf);
    conf->server_name = h2o_iovec_init(H2O_STRLIT(""));
    conf->max_request_entity_size = SN_HTTP_MAX_BODY;
    conf->http1.req_timeout = SN_HTTP_REQ_TIMEOUT_MS;
    conf->http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host =
        h2o_config_register_host(conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = on_request;
    h2o_create_filter(&host->fallback_path, sizeof(h2o_filter_t))->on_setup_ostream = error_setup;
    sn_conn_register(path); /* every answer: conn.c learns when a request ends */
    sn_conn_register(&host->fallback_path);
}

/* Open the listeners and start the loops; threads[] is zeroed by the caller. */
static int start_loops(const sn_server_options *o, h2o_globalconf_t *conf, stop_order *order,
                       loop_thread *threads, unsigned *started, char *err, size_t errlen)
{
    for (unsigned i = 0; i < o->threads; i++) {
        loop_thread *t = &threads[i];
        int rc = open_listener(o->listen, 1, &t->listen_fd, err, errlen);
        if (rc != SN_OK)
            return rc;
        if ((t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
            close(t->listen_fd);
            return sn_fail(err, errlen, SN_EIO, "eventfd: %s", strerror(errno));
        }
        t->conf = conf;
        t->order = order;
    }
    if (o->metrics_listen != NULL) { /* after the API's: it cannot take their address */
        int rc = open_listener(o->metrics_listen, 0, &threads[0].metrics_fd, err, errlen);
        if (rc != SN_OK)
            return rc;
    }
    for (unsigned i = 0; i < o->threads; i++) {
        if (pthread_create(&threads[i].tid, NULL, loop_main, &threads[i]) != 0)
            return sn_fail(err, errlen, SN_EIO, "cannot start thread %u", i);
        (*started)++;
    }
    return SN_OK;
}

/* Wake the loops and wait until each has drained its connections. */
static void stop_loops(loop_thread *threads, unsigned started, stop_order *order)
{
    uint64_t one = 1;
    for (unsigned i = 0; i < started; i++)
        if (write(threads[i].wake_fd, &one, sizeof(one)) != sizeof(one))
            threads[i].stop = 1;
    pthread_mutex_lock(&order->lock);
    while (order->drained < started)
        pthread_cond_wait(&order->changed, &order->lock);
    pthread_mutex_unlock(&order->lock);
}

/* With the messages stopped: let the loops dispose their contexts and end;
 * close what the loops that never started had opened. */
static void end_loops(loop_thread *threads, unsigned n, unsigned started, stop_order *order)
{
    pthread_mutex_lock(&order->lock);
    order->quiet = 1;
    pthread_cond_broadcast(&order->changed);
    pthread_mutex_unlock(&order->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i].tid, NULL);
    for (unsigned i = started; i < n; i++) {
        if (threads[i].listen_fd >= 0)
            close(threads[i].listen_fd);
        if (threads[i].wake_fd >= 0)
            close(threads[i].wake_fd);
        if (threads[i].metrics_fd >= 0)
            close(threads[i].metrics_fd);
    }
}

int sn_server_run(const sn_server_options *o, void (*ready)(void *), void *arg, char *err,
                  size_t errlen)
{
    h2o_globalconf_t conf;
    stop_order order = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    loop_thread *threads = calloc(o->threads, sizeof(*threads));
    unsigned started = 0;
    sigset_t set;
    int sig, rc;

    if (threads == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    for (unsigned i = 0; i < o->threads; i++)
        threads[i].listen_fd = threads[i].wake_fd = threads[i].metrics_fd = -1;
    options = o;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);
    configure(&conf);
    rc = start_loops(o, &conf, &order, threads, &started, err, errlen);
    if (rc == SN_OK) {
        if (ready != NULL)
            ready(arg);
        while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
            if (o->hangup != NULL)
                o->hangup(o->ctx); /* reopen the logs; serving goes on */
        if (o->stopping != NULL)
            o->stopping(o->ctx);
    }
    stop_loops(threads, started, &order);
    if (o->drained != NULL)
        o->drained(o->ctx); /* after the loops: no request waits for it any more */
    end_loops(threads, o->threads, started, &order);
    h2o_config_dispose(&conf);
    free(threads);
    return rc;
}

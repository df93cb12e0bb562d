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
 * Requests: one catch-all h2o handler on "/" hands every request to the
 * options' handler (the router), so every 404 and 405 is the API's. Errors
 * that h2o produces itself before that (413 for a body over the limit, 400
 * for a broken body) are rewritten to the CAMARA shape by a filter on the
 * host's fallback path.
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
#include "http/http.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 16
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
    size_t connections;
    volatile int stop;
} loop_thread;

static const sn_server_options *options; /* for the h2o callbacks; set before threads start */

void sn_server_post(h2o_req_t *req, sn_loop_message *m)
{
    loop_thread *t = (loop_thread *)req->conn->ctx;
    h2o_multithread_send_message(&t->messages, &m->super);
}

static int on_request(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    return options->handle(options->ctx, req);
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
        int large = req->res.status == 413;
        char body[160];
        int len = snprintf(body, sizeof(body), "{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}",
                           req->res.status, large ? "PAYLOAD_TOO_LARGE" : "INVALID_ARGUMENT",
                           large ? "the request body is larger than 8 MiB"
                                 : "the request could not be read");
        error_ostream *os = (error_ostream *)h2o_add_ostream(req, sizeof(*os), slot);
        os->super.do_send = error_send;
        os->body = h2o_strdup(&req->pool, body, (size_t)len);
        req->res.content_length = os->body.len;
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

static void on_connection_closed(void *data)
{
    ((loop_thread *)data)->connections--;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    loop_thread *t = listener->data;
    if (err != NULL)
        return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            break;
        t->connections++;
        sock->on_close.cb = on_connection_closed;
        sock->on_close.data = t;
        h2o_accept(&t->accept_ctx, sock);
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
    on_accept(t->listener, NULL);
    h2o_socket_close(t->listener);
    h2o_context_request_shutdown(&t->ctx);
    if (t->ctx.http1.req_timeout.timeout > SHUTDOWN_READ_GRACE_MS)
        t->ctx.http1.req_timeout.timeout = SHUTDOWN_READ_GRACE_MS;
    uint64_t deadline = h2o_now(t->ctx.loop) + GRACE_MS;
    while (t->connections > 0 && h2o_now(t->ctx.loop) < deadline)
        h2o_evloop_run(t->ctx.loop, (int32_t)(deadline - h2o_now(t->ctx.loop)));
}

/* After the messages stopped: free the context, unless a connection the grace
 * period gave up on still refers to it (then the exit does). */
static void dispose_loop(loop_thread *t)
{
    h2o_evloop_t *loop = t->ctx.loop;
    if (t->connections > 0)
        return;
    h2o_timeout_unlink(&t->ctx.http2._graceful_shutdown_timeout);
    h2o_multithread_unregister_receiver(t->ctx.queue, &t->messages);
    h2o_context_dispose(&t->ctx);
    h2o_evloop_run(loop, 0);
    h2o_evloop_destroy(loop);
}

static void *loop_main(void *arg)
{
    loop_thread *t = arg;
    h2o_evloop_t *loop = h2o_evloop_create();

    /* on this thread: sockets made here recycle buffers through its own list */
    h2o_context_init(&t->ctx, loop, t->conf);
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = t->conf->hosts;
    h2o_multithread_register_receiver(t->ctx.queue, &t->messages, on_messages);
    t->listener = h2o_evloop_socket_create(loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);
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

static int open_listener(const char *address, int *fd, char *err, size_t errlen)
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
        setsockopt(*fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
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
}

/* Open the listeners and start the loops; threads[] is zeroed by the caller. */
static int start_loops(const sn_server_options *o, h2o_globalconf_t *conf, stop_order *order,
                       loop_thread *threads, unsigned *started, char *err, size_t errlen)
{
    for (unsigned i = 0; i < o->threads; i++) {
        loop_thread *t = &threads[i];
        int rc = open_listener(o->listen, &t->listen_fd, err, errlen);
        if (rc != SN_OK)
            return rc;
        if ((t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
            close(t->listen_fd);
            return sn_fail(err, errlen, SN_EIO, "eventfd: %s", strerror(errno));
        }
        t->conf = conf;
        t->order = order;
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
        threads[i].listen_fd = threads[i].wake_fd = -1;
    options = o;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);
    configure(&conf);
    rc = start_loops(o, &conf, &order, threads, &started, err, errlen);
    if (rc == SN_OK) {
        if (ready != NULL)
            ready(arg);
        sigwait(&set, &sig);
    }
    stop_loops(threads, started, &order);
    if (o->drained != NULL)
        o->drained(o->ctx); /* after the loops: no request waits for it any more */
    end_loops(threads, o->threads, started, &order);
    h2o_config_dispose(&conf);
    free(threads);
    return rc;
}

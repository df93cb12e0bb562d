/*
 * curl_post.c - the libcurl baseline for bench/notices.sh: how many POSTs a
 * second libcurl alone sends into the receiver on this machine, set up the
 * way the deliverer sets it up (src/notice/deliverer.c: the multi interface
 * driven by epoll through curl_multi_socket_action, one reused easy handle
 * per slot, keep-alive connections, THREADS threads of CONNS transfers
 * each) and doing none of the deliverer's other work: no store, no notice
 * JSON, no signature; every POST carries the same body and headers (a
 * notice id of "-", which the receiver log of bench/notices.sh tells apart
 * from deliveries).
 *
 * usage: curl_post URL SECONDS THREADS CONNS BODY_BYTES
 * prints one line: the POSTs answered 2xx per second, all threads together.
 * Exits 1 on any answer that is not 2xx or any transfer error.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *url;
    const char *body;
    long body_len;
    unsigned conns;
    double seconds;
    unsigned long answered, failed;
    int epoll_fd;
    long timer_ms; /* curl's timer, -1 when none */
    double timer_set_at;
} poster;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    poster *p = arg;
    struct epoll_event ev = {0};
    (void)easy;
    (void)sockp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(p->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(p->epoll_fd, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
        epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    poster *p = arg;
    (void)multi;
    p->timer_ms = timeout_ms;
    p->timer_set_at = now_s();
    return 0;
}

static void *run(void *arg)
{
    poster *p = arg;
    CURLM *multi = curl_multi_init();
    CURL **easy = calloc(p->conns, sizeof(*easy));
    struct curl_slist *headers = NULL;
    struct epoll_event events[64];
    int running;

    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Secondnum-Signature: t=1700000000,v1=0000000000000000"
                                         "000000000000000000000000000000000000000000000000");
    headers = curl_slist_append(headers, "Secondnum-Notice-Id: -");
    headers = curl_slist_append(headers, "Expect:");
    p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    p->timer_ms = -1;
    if (multi == NULL || easy == NULL || headers == NULL || p->epoll_fd < 0) {
        fprintf(stderr, "curl_post: cannot set up\n");
        p->failed++;
        goto out;
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->conns);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)p->conns);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, p);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, p);
    for (unsigned i = 0; i < p->conns; i++) {
        if ((easy[i] = curl_easy_init()) == NULL) {
            p->failed++;
            goto out;
        }
        curl_easy_setopt(easy[i], CURLOPT_URL, p->url);
        curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy[i], CURLOPT_POST, 1L);
        curl_easy_setopt(easy[i], CURLOPT_PROXY, "");
        curl_easy_setopt(easy[i], CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(easy[i], CURLOPT_POSTFIELDSIZE, p->body_len);
        curl_easy_setopt(easy[i], CURLOPT_POSTFIELDS, p->body);
        curl_multi_add_handle(multi, easy[i]);
    }
    double end = now_s() + p->seconds;
    while (now_s() < end) {
        int wait = 10;
        if (p->timer_ms >= 0) {
            double left = (double)p->timer_ms - (now_s() - p->timer_set_at) * 1000;
            wait = left <= 0 ? 0 : left < wait ? (int)left : wait;
        }
        int n = epoll_wait(p->epoll_fd, events, 64, wait);
        if (n == 0 || (p->timer_ms >= 0 &&
                       (now_s() - p->timer_set_at) * 1000 >= (double)p->timer_ms)) {
            p->timer_ms = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        for (int i = 0; i < n; i++) {
            int mask = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(multi, events[i].data.fd, mask, &running);
        }
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            long status = 0;
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *e = m->easy_handle;
            CURLcode res = m->data.result;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (res == CURLE_OK && status >= 200 && status < 300) {
                p->answered++;
            } else {
                if (p->failed++ == 0)
                    fprintf(stderr, "curl_post: %s, HTTP %ld\n", curl_easy_strerror(res), status);
            }
            curl_multi_remove_handle(multi, e);
            curl_multi_add_handle(multi, e); /* the next POST, on the same connection */
        }
    }
out:
    for (unsigned i = 0; easy != NULL && i < p->conns; i++) {
        if (easy[i] != NULL) {
            curl_multi_remove_handle(multi, easy[i]);
            curl_easy_cleanup(easy[i]);
        }
    }
    free(easy);
    curl_slist_free_all(headers);
    if (multi != NULL)
        curl_multi_cleanup(multi);
    if (p->epoll_fd >= 0)
        close(p->epoll_fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: curl_post URL SECONDS THREADS CONNS BODY_BYTES\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    unsigned threads = (unsigned)atoi(argv[3]), conns = (unsigned)atoi(argv[4]);
    long body_len = atol(argv[5]);
    if (seconds <= 0 || threads < 1 || threads > 64 || conns < 1 || body_len < 2 ||
        body_len > 1 << 20) {
        fprintf(stderr, "curl_post: bad arguments\n");
        return 2;
    }
    char *body = malloc((size_t)body_len);
    poster *p = calloc(threads, sizeof(*p));
    pthread_t *tid = calloc(threads, sizeof(*tid));
    if (body == NULL || p == NULL || tid == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "curl_post: out of memory\n");
        return 1;
    }
    memset(body, 'x', (size_t)body_len); /* a JSON string of that length */
    body[0] = '"';
    body[body_len - 1] = '"';
    double t0 = now_s();
    for (unsigned i = 0; i < threads; i++) {
        p[i] = (poster){.url = argv[1], .body = body, .body_len = body_len, .conns = conns,
                        .seconds = seconds};
        if (pthread_create(&tid[i], NULL, run, &p[i]) != 0) {
            fprintf(stderr, "curl_post: cannot start a thread\n");
            return 1;
        }
    }
    unsigned long answered = 0, failed = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        answered += p[i].answered;
        failed += p[i].failed;
    }
    double took = now_s() - t0;
    printf("%.0f\n", (double)answered / took);
    curl_global_cleanup();
    free(body);
    free(p);
    free(tid);
    return failed == 0 ? 0 : 1;
}

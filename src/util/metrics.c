/*
 * metrics.c - per-thread counters and their exposition (see metrics.h).
 *
 * Invariants: a block is written by its own thread only (relaxed load and
 * store of each counter, no locked instruction); blocks are linked into
 * `blocks` once, under `blocks_lock`, and never unlinked or freed while the
 * process runs; a name slot's text is written before its `ready` flag is
 * stored with release, and the scrape reads the text only after an acquire
 * load saw the flag set.
 */
#include "util/metrics.h"

#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef _Atomic uint64_t counter;

#define ROUTE_SLOTS (SN_METRICS_ROUTES_MAX + 1) /* the last: unmatched */
#define STATUS_SLOTS (SN_METRICS_STATUSES + 1)  /* the last: other */
#define NAME_SLOTS (SN_METRICS_NAMES_MAX + 1)   /* the last: SN_METRICS_OTHER */
#define PROBE_SLOTS (2 * SN_METRICS_NAMES_MAX)  /* a power of two */

typedef struct {
    _Atomic int ready;
    char name[SN_METRICS_NAME_LEN + 1];
} name_slot;

typedef struct {
    name_slot s;
    counter n[SN_METRICS_APIS][SN_METRICS_VERDICTS];
} app_slot;

typedef struct {
    name_slot s;
    counter n[SN_METRICS_EVENT_OUTCOMES];
} carrier_slot;

/* A name -> slot map, the owning thread's alone. */
typedef struct {
    uint8_t probe[PROBE_SLOTS]; /* slot index + 1, or 0: empty */
    size_t n;
} name_map;

typedef struct block {
    struct block *next;
    counter requests[ROUTE_SLOTS][STATUS_SLOTS];
    counter buckets[ROUTE_SLOTS][SN_METRICS_BUCKETS + 1];
    counter sum_us[ROUTE_SLOTS];
    counter refused[STATUS_SLOTS];
    app_slot apps[NAME_SLOTS];
    carrier_slot carriers[NAME_SLOTS];
    name_map app_map, carrier_map;
    counter sms[SN_METRICS_SMS_OUTCOMES];
    counter delivery[SN_METRICS_DELIVERY_OUTCOMES];
    counter refusals[SN_METRICS_REFUSALS];
} block;

static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static block *_Atomic blocks;
static _Thread_local block *mine;

static const int statuses[SN_METRICS_STATUSES] = {200, 201, 202, 204, 301, 302, 304, 400, 401, 403,
                                                  404, 405, 409, 413, 415, 422, 429, 431, 500, 503};
static const int64_t bounds_us[SN_METRICS_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};
static const char *const bounds_text[SN_METRICS_BUCKETS] = {
    "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",  "0.025",  "0.05",    "0.1",    "0.25",  "1",      "5"};
static const char *const api_names[SN_METRICS_APIS] = {"camara", "native",      "batch",
                                                       "hashed", "camara_v0.3", "range"};
static const char *const verdict_names[SN_METRICS_VERDICTS] = {
    "unknown", "unchanged", "disconnected", "reassigned", "invalid"};
static const char *const event_names[SN_METRICS_EVENT_OUTCOMES] = {"applied", "duplicate",
                                                                   "rejected"};
static const char *const sms_names[SN_METRICS_SMS_OUTCOMES] = {"sent", "failed", "retried"};
static const char *const delivery_names[SN_METRICS_DELIVERY_OUTCOMES] = {"delivered", "retry",
                                                                         "dead"};
static const char *const refusal_names[SN_METRICS_REFUSALS] = {"key_per_second", "key_per_day",
                                                               "signin"};

/* ---- counting ------------------------------------------------------------ */

static inline void add(counter *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t get(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* This thread's block (NULL when out of memory: the count is lost). */
static block *my_block(void)
{
    if (mine != NULL)
        return mine;
    block *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    snprintf(b->apps[SN_METRICS_NAMES_MAX].s.name, SN_METRICS_NAME_LEN + 1, SN_METRICS_OTHER);
    atomic_store_explicit(&b->apps[SN_METRICS_NAMES_MAX].s.ready, 1, memory_order_release);
    snprintf(b->carriers[SN_METRICS_NAMES_MAX].s.name, SN_METRICS_NAME_LEN + 1, SN_METRICS_OTHER);
    atomic_store_explicit(&b->carriers[SN_METRICS_NAMES_MAX].s.ready, 1, memory_order_release);
    pthread_mutex_lock(&blocks_lock);
    b->next = atomic_load(&blocks);
    atomic_store(&blocks, b);
    pthread_mutex_unlock(&blocks_lock);
    mine = b;
    return b;
}

static unsigned hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The slot index of name in a table of `stride`-byte slots starting at base
 * (each beginning with its name_slot): found, added, or the last (other). */
static size_t slot_of(name_map *m, char *base, size_t stride, const char *name)
{
    size_t h = hash_name(name) & (PROBE_SLOTS - 1);
    for (; m->probe[h] != 0; h = (h + 1) & (PROBE_SLOTS - 1)) {
        name_slot *s = (name_slot *)(base + (m->probe[h] - 1) * stride);
        if (strncmp(s->name, name, SN_METRICS_NAME_LEN) == 0)
            return m->probe[h] - 1u;
    }
    if (m->n == SN_METRICS_NAMES_MAX)
        return SN_METRICS_NAMES_MAX;
    name_slot *s = (name_slot *)(base + m->n * stride);
    snprintf(s->name, sizeof(s->name), "%s", name);
    atomic_store_explicit(&s->ready, 1, memory_order_release);
    m->probe[h] = (uint8_t)(++m->n);
    return m->n - 1;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < SN_METRICS_STATUSES; i++)
        if (statuses[i] == status)
            return i;
    return SN_METRICS_STATUSES;
}

void sn_metrics_count_request(int route, int status, int64_t micros)
{
    block *b = my_block();
    size_t r = route < 0 || route >= SN_METRICS_ROUTES_MAX ? SN_METRICS_ROUTES_MAX : (size_t)route;
    size_t k = 0;
    if (b == NULL)
        return;
    if (micros < 0)
        micros = 0;
    while (k < SN_METRICS_BUCKETS && micros > bounds_us[k])
        k++;
    add(&b->requests[r][status_slot(status)], 1);
    add(&b->buckets[r][k], 1);
    add(&b->sum_us[r], (uint64_t)micros);
}

void sn_metrics_count_refused(int status)
{
    block *b = my_block();
    if (b != NULL)
        add(&b->refused[status_slot(status)], 1);
}

void sn_metrics_count_check(const char *app, sn_metrics_api api, int verdict)
{
    sn_metrics_count_checks(app, api, verdict, 1);
}

void sn_metrics_count_checks(const char *app, sn_metrics_api api, int verdict, uint64_t n)
{
    block *b = my_block();
    if (b == NULL || (unsigned)api >= SN_METRICS_APIS || verdict < 0 ||
        verdict >= SN_METRICS_VERDICTS)
        return;
    size_t i = slot_of(&b->app_map, (char *)b->apps, sizeof(app_slot),
                       app != NULL && app[0] != '\0' ? app : "(subscriber)");
    add(&b->apps[i].n[api][verdict], n);
}

void sn_metrics_count_events(uint32_t carrier, uint64_t applied, uint64_t duplicates,
                             uint64_t rejected)
{
    block *b = my_block();
    char name[16];
    if (b == NULL)
        return;
    snprintf(name, sizeof(name), "%u", carrier);
    size_t i = slot_of(&b->carrier_map, (char *)b->carriers, sizeof(carrier_slot), name);
    add(&b->carriers[i].n[SN_METRICS_EVENT_APPLIED], applied);
    add(&b->carriers[i].n[SN_METRICS_EVENT_DUPLICATE], duplicates);
    add(&b->carriers[i].n[SN_METRICS_EVENT_REJECTED], rejected);
}

void sn_metrics_count_sms(sn_metrics_sms outcome)
{
    block *b = my_block();
    if (b != NULL && (unsigned)outcome < SN_METRICS_SMS_OUTCOMES)
        add(&b->sms[outcome], 1);
}

void sn_metrics_count_delivery(sn_metrics_delivery outcome)
{
    block *b = my_block();
    if (b != NULL && (unsigned)outcome < SN_METRICS_DELIVERY_OUTCOMES)
        add(&b->delivery[outcome], 1);
}

void sn_metrics_count_refusal(sn_metrics_refusal reason)
{
    block *b = my_block();
    if (b != NULL && (unsigned)reason < SN_METRICS_REFUSALS)
        add(&b->refusals[reason], 1);
}

/* ---- the exposition ---------------------------------------------------- */

#define NAMED_COUNTS (SN_METRICS_APIS * SN_METRICS_VERDICTS)

/* Counts by name, summed over the blocks. */
typedef struct {
    char name[SN_METRICS_NAME_LEN + 1];
    uint64_t n[NAMED_COUNTS];
} named;

typedef struct {
    named *v;
    size_t n, cap;
    int failed;
} named_list;

static uint64_t *named_counts(named_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return l->v[i].n;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        named *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->failed = 1;
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    named *e = &l->v[l->n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
    return e->n;
}

/* A label value, escaped as the format asks (backslash, quote, newline). */
static void label(sn_strbuf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            sn_strbuf_printf(out, "\\%c", *s);
        else if (*s == '\n')
            sn_strbuf_printf(out, "\\n");
        else
            sn_strbuf_printf(out, "%c", *s);
    }
}

static void head(sn_strbuf *out, const char *name, const char *type, const char *help)
{
    sn_strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void route_labels(sn_strbuf *out, const sn_metrics_route *routes, size_t nroutes, size_t r)
{
    int known = r < SN_METRICS_ROUTES_MAX && r < nroutes;
    sn_strbuf_printf(out, "method=\"");
    label(out, known ? routes[r].method : "");
    sn_strbuf_printf(out, "\",route=\"");
    label(out, known ? routes[r].path : "unmatched");
    sn_strbuf_printf(out, "\"");
}

static void write_requests(sn_strbuf *out, const sn_metrics_route *routes, size_t nroutes)
{
    head(out, "secondnum_http_requests_total", "counter",
         "Requests answered, by route pattern (method, route) and status.");
    for (size_t r = 0; r < ROUTE_SLOTS; r++)
        for (size_t k = 0; k < STATUS_SLOTS; k++) {
            uint64_t n = 0;
            for (block *b = atomic_load(&blocks); b != NULL; b = b->next)
                n += get(&b->requests[r][k]);
            if (n == 0)
                continue;
            sn_strbuf_printf(out, "secondnum_http_requests_total{");
            route_labels(out, routes, nroutes, r);
            if (k < SN_METRICS_STATUSES)
                sn_strbuf_printf(out, ",status=\"%d\"} %llu\n", statuses[k], (unsigned long long)n);
            else
                sn_strbuf_printf(out, ",status=\"other\"} %llu\n", (unsigned long long)n);
        }
}

static void write_refused(sn_strbuf *out)
{
    head(out, "secondnum_http_refused_total", "counter",
         "Requests answered before routing: refused from their head alone (a bad credential "
         "or size before the body is read), over --max-connections, or unreadable.");
    for (size_t k = 0; k < STATUS_SLOTS; k++) {
        uint64_t n = 0;
        for (block *b = atomic_load(&blocks); b != NULL; b = b->next)
            n += get(&b->refused[k]);
        if (n == 0)
            continue;
        if (k < SN_METRICS_STATUSES)
            sn_strbuf_printf(out, "secondnum_http_refused_total{status=\"%d\"} %llu\n", statuses[k],
                             (unsigned long long)n);
        else
            sn_strbuf_printf(out, "secondnum_http_refused_total{status=\"other\"} %llu\n",
                             (unsigned long long)n);
    }
}

static void write_latency(sn_strbuf *out, const sn_metrics_route *routes, size_t nroutes)
{
    static const char name[] = "secondnum_http_request_duration_seconds";
    head(out, name, "histogram",
         "Time from the request's arrival at the router to its answer, by route pattern.");
    for (size_t r = 0; r < ROUTE_SLOTS; r++) {
        uint64_t n[SN_METRICS_BUCKETS + 1] = {0}, sum = 0, total = 0;
        for (block *b = atomic_load(&blocks); b != NULL; b = b->next) {
            for (size_t k = 0; k <= SN_METRICS_BUCKETS; k++)
                n[k] += get(&b->buckets[r][k]);
            sum += get(&b->sum_us[r]);
        }
        for (size_t k = 0; k <= SN_METRICS_BUCKETS; k++)
            total += n[k];
        if (total == 0)
            continue;
        uint64_t below = 0;
        for (size_t k = 0; k <= SN_METRICS_BUCKETS; k++) {
            below += n[k];
            sn_strbuf_printf(out, "%s_bucket{", name);
            route_labels(out, routes, nroutes, r);
            sn_strbuf_printf(out, ",le=\"%s\"} %llu\n",
                             k < SN_METRICS_BUCKETS ? bounds_text[k] : "+Inf",
                             (unsigned long long)below);
        }
        sn_strbuf_printf(out, "%s_sum{", name);
        route_labels(out, routes, nroutes, r);
        sn_strbuf_printf(out, "} %llu.%06llu\n%s_count{", (unsigned long long)(sum / 1000000),
                         (unsigned long long)(sum % 1000000), name);
        route_labels(out, routes, nroutes, r);
        sn_strbuf_printf(out, "} %llu\n", (unsigned long long)total);
    }
}

/* The apps' (carriers: 0) named counts of every block, merged by name. */
static void merge_named(named_list *l, int apps)
{
    for (block *b = atomic_load(&blocks); b != NULL; b = b->next)
        for (size_t i = 0; i < NAME_SLOTS; i++) {
            name_slot *s = apps ? &b->apps[i].s : &b->carriers[i].s;
            if (!atomic_load_explicit(&s->ready, memory_order_acquire))
                continue;
            uint64_t *n = named_counts(l, s->name);
            if (n == NULL)
                return;
            for (size_t k = 0; k < (apps ? NAMED_COUNTS : SN_METRICS_EVENT_OUTCOMES); k++)
                n[k] += apps ? get(&b->apps[i].n[k / SN_METRICS_VERDICTS][k % SN_METRICS_VERDICTS])
                             : get(&b->carriers[i].n[k]);
        }
}

static void write_checks(sn_strbuf *out)
{
    named_list l = {0};
    merge_named(&l, 1);
    head(out, "secondnum_checks_total", "counter",
         "Numbers checked, by API (camara, native, batch, hashed, range), app and verdict.");
    for (size_t i = 0; i < l.n; i++)
        for (size_t k = 0; k < NAMED_COUNTS; k++) {
            if (l.v[i].n[k] == 0)
                continue;
            sn_strbuf_printf(out, "secondnum_checks_total{api=\"%s\",app=\"",
                             api_names[k / SN_METRICS_VERDICTS]);
            label(out, l.v[i].name);
            sn_strbuf_printf(out, "\",verdict=\"%s\"} %llu\n",
                             verdict_names[k % SN_METRICS_VERDICTS],
                             (unsigned long long)l.v[i].n[k]);
        }
    out->failed |= l.failed;
    free(l.v);
}

static void write_events(sn_strbuf *out)
{
    named_list l = {0};
    merge_named(&l, 0);
    head(out, "secondnum_events_total", "counter",
         "Carrier events received on POST /v1/events, by carrier id and outcome.");
    for (size_t i = 0; i < l.n; i++)
        for (size_t k = 0; k < SN_METRICS_EVENT_OUTCOMES; k++) {
            if (l.v[i].n[k] == 0)
                continue;
            sn_strbuf_printf(out, "secondnum_events_total{carrier=\"");
            label(out, l.v[i].name);
            sn_strbuf_printf(out, "\",outcome=\"%s\"} %llu\n", event_names[k],
                             (unsigned long long)l.v[i].n[k]);
        }
    out->failed |= l.failed;
    free(l.v);
}

/* A counter with one label, every value shown (0 too). */
static void write_by(sn_strbuf *out, const char *name, const char *help, const char *key,
                     const char *const *values, size_t n, size_t offset)
{
    head(out, name, "counter", help);
    for (size_t k = 0; k < n; k++) {
        uint64_t sum = 0;
        for (block *b = atomic_load(&blocks); b != NULL; b = b->next)
            sum += get((counter *)((char *)b + offset) + k);
        sn_strbuf_printf(out, "%s{%s=\"%s\"} %llu\n", name, key, values[k],
                         (unsigned long long)sum);
    }
}

static void gauge(sn_strbuf *out, const char *name, const char *help, uint64_t v)
{
    head(out, name, "gauge", help);
    sn_strbuf_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void write_gauges(sn_strbuf *out, const sn_metrics_gauges *g)
{
    if (g->have_writer) {
        gauge(out, "secondnum_writer_queue_jobs", "Jobs waiting for or running on the writer.",
              g->writer_jobs);
        gauge(out, "secondnum_writer_queue_rows", "Rows those jobs write.", g->writer_rows);
    }
    if (g->have_index) {
        gauge(out, "secondnum_index_numbers", "Numbers in the serving index.", g->index_numbers);
        gauge(out, "secondnum_index_bytes", "Memory of the serving index's tables.",
              g->index_bytes);
    }
    gauge(out, "secondnum_store_up", "1 when the store answered this scrape's queries.",
          (uint64_t)(g->have_store != 0));
    if (g->have_store) {
        gauge(out, "secondnum_notices_open", "Notices not acknowledged, within their deadline.",
              g->notices_open);
        gauge(out, "secondnum_notices_overdue", "Notices not acknowledged past their deadline.",
              g->notices_overdue);
        gauge(out, "secondnum_deliveries_pending", "Webhook deliveries not yet made.",
              g->deliveries_pending);
        gauge(out, "secondnum_deliveries_retrying",
              "Pending webhook deliveries with a failed attempt.", g->deliveries_retrying);
        gauge(out, "secondnum_deliveries_dead", "Webhook deliveries given up.", g->deliveries_dead);
    }
    if (g->have_follower)
        gauge(out, "secondnum_follower_lag_changes",
              "Changes committed to the store not yet in this node's index.", g->follower_lag);
}

void sn_metrics_write(sn_strbuf *out, const sn_metrics_route *routes, size_t nroutes,
                      const sn_metrics_gauges *g)
{
    write_requests(out, routes, nroutes);
    write_refused(out);
    write_latency(out, routes, nroutes);
    write_checks(out);
    write_events(out);
    write_by(out, "secondnum_sms_total",
             "Sign-in text messages handed to the gateway (sent), given up (failed), or to be "
             "tried again (retried).",
             "outcome", sms_names, SN_METRICS_SMS_OUTCOMES, offsetof(block, sms));
    write_by(out, "secondnum_webhook_attempts_total",
             "Webhook delivery attempts by outcome (retry: failed, tried again later; dead: "
             "failed, given up).",
             "outcome", delivery_names, SN_METRICS_DELIVERY_OUTCOMES, offsetof(block, delivery));
    write_by(out, "secondnum_rate_limited_total", "Requests answered 429, by limit.", "reason",
             refusal_names, SN_METRICS_REFUSALS, offsetof(block, refusals));
    write_gauges(out, g);
}

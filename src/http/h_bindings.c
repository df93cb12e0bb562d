/*
 * h_bindings.c - PUT, DELETE and GET /v1/bindings: which of an app's
 * accounts are bound to which numbers (bindings.h). The items are read on
 * the loop thread, each error naming its index; the service applies them
 * all or none.
 */
#include "http/body.h"
#include "http/job.h"
#include "service/bindings.h"

#include "core/errors.h"
#include "util/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <time.h>

typedef struct {
    sn_binding_item *items;
    size_t n;
} binding_items;

enum { B_NUMBER, B_ACCOUNT, B_BOUND_AT, B_COUNT };

/* Item i of the body into it; 0 after a 400 naming the index. */
static int read_item(sn_call *c, const sn_flat_span *span, size_t i, int need_time,
                     sn_binding_item *it)
{
    sn_flat_field f[B_COUNT] = {
        {"number", NULL, 0, 0}, {"account", NULL, 0, 0}, {"bound_at", NULL, 0, 0}};
    char why[SN_ERRMSG_MAX];
    const sn_rules *rules = &c->svc->rules;
    if (sn_body_item(c, span, f, B_COUNT, why, sizeof(why)) != SN_OK)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu]: %s", i, why);
    else if (f[B_NUMBER].value == NULL || f[B_ACCOUNT].value == NULL ||
             (need_time && f[B_BOUND_AT].value == NULL))
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu] needs number, account%s", i,
                       need_time ? " and bound_at" : "");
    else if (sn_number_parse(f[B_NUMBER].value, f[B_NUMBER].len, rules->default_cc, &it->number,
                             why, sizeof(why)) != SN_OK)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu].number: %s", i, why);
    else if (f[B_ACCOUNT].len == 0 || f[B_ACCOUNT].len > SN_ACCOUNT_MAX)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu].account must be 1 to %d bytes",
                       i, SN_ACCOUNT_MAX);
    else if (need_time && sn_time_parse(f[B_BOUND_AT].value, f[B_BOUND_AT].len, rules->tz_minutes,
                                        &it->bound_at, why, sizeof(why)) != SN_OK)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu].bound_at: %s", i, why);
    else if (need_time && it->bound_at > sn_wall_sec())
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu].bound_at is in the future", i);
    else {
        it->account = f[B_ACCOUNT].value;
        it->account_len = f[B_ACCOUNT].len;
        return 1;
    }
    return 0;
}

/* The audit trail's records of the bindings: one an item, its number. */
static void note_items(sn_call *c, const binding_items *b)
{
    c->audit.items = h2o_mem_alloc_pool(&c->req->pool, b->n * sizeof(sn_audit_item) + 1);
    c->audit.nitems = (uint32_t)b->n;
    for (size_t i = 0; i < b->n; i++)
        c->audit.items[i] = (sn_audit_item){b->items[i].number, SN_DAY_NONE, -2, 1};
}

/* The body's items; NULL after a 400. */
static binding_items *read_items(sn_call *c, int need_time)
{
    binding_items *b = h2o_mem_alloc_pool(&c->req->pool, sizeof(*b));
    sn_flat_span *spans;
    if (!sn_body_items(c, "bindings", SN_HTTP_MAX_ITEMS, &spans, &b->n))
        return NULL;
    b->items = h2o_mem_alloc_pool(&c->req->pool, b->n * sizeof(*b->items));
    memset(b->items, 0, b->n * sizeof(*b->items));
    for (size_t i = 0; i < b->n; i++)
        if (!read_item(c, &spans[i], i, need_time, &b->items[i]))
            return NULL;
    note_items(c, b);
    return b;
}

static int put_bindings(sn_http_job *j, sn_store *s)
{
    binding_items *b = j->data;
    int rc = sn_bindings_put(j->call->svc, s, j->call->who.app_id, b->items, b->n, j->message,
                             sizeof(j->message));
    if (rc == SN_OK)
        sn_strbuf_printf(&j->out, "{\"bound\":%zu}", b->n);
    return rc;
}

static int delete_bindings(sn_http_job *j, sn_store *s)
{
    binding_items *b = j->data;
    size_t unbound, missing;
    int rc = sn_bindings_delete(j->call->svc, s, j->call->who.app_id, b->items, b->n, &unbound,
                                &missing, j->message, sizeof(j->message));
    if (rc == SN_OK)
        sn_strbuf_printf(&j->out, "{\"unbound\":%zu,\"not_found\":%zu}", unbound, missing);
    return rc;
}

void sn_h_bindings_put(sn_call *c)
{
    binding_items *b = read_items(c, 1);
    if (b != NULL)
        sn_http_submit(sn_http_job_new(c, put_bindings, b));
}

void sn_h_bindings_delete(sn_call *c)
{
    binding_items *b = read_items(c, 0);
    if (b != NULL)
        sn_http_submit(sn_http_job_new(c, delete_bindings, b));
}

/* GET: the number's bindings of the caller's app (one account's when asked). */
typedef struct {
    sn_number number;
    const char *account;
    sn_listing l;
    uint32_t tenure;
} binding_query;

static int list_binding(void *ctx, const sn_binding *b)
{
    binding_query *q = ctx;
    char hex[2 * SN_ACCOUNT_HASH_LEN + 1], at[SN_TIME_TEXT_MAX];
    sn_strbuf *out = sn_listing_row(&q->l, 0);
    sodium_bin2hex(hex, sizeof(hex), b->account, SN_ACCOUNT_HASH_LEN);
    sn_utc_format(b->bound_at, at);
    sn_strbuf_printf(out, "{");
    if (q->account != NULL) {
        sn_strbuf_printf(out, "\"account\":");
        sn_strbuf_string(out, q->account);
        sn_strbuf_printf(out, ",");
    }
    sn_strbuf_printf(out,
                     "\"account_hash\":\"%s\",\"bound_at\":\"%s\",\"tenure\":%u,\"current\":%s}",
                     hex, at, b->tenure, b->tenure == q->tenure ? "true" : "false");
    return 0;
}

static int get_bindings(sn_http_job *j, sn_store *s)
{
    binding_query *q = j->data;
    char text[SN_NUMBER_TEXT_MAX];
    sn_listing_open(&q->l, j, "bindings", 0);
    int rc = sn_bindings_of(j->call->svc, s, j->call->who.app_id, q->number, q->account,
                            q->account != NULL ? strlen(q->account) : 0, &q->tenure, list_binding,
                            q, j->message, sizeof(j->message));
    sn_number_format(q->number, text);
    sn_strbuf_printf(&j->out, "],\"number\":\"%s\",\"tenure\":%u}", text, q->tenure);
    return rc;
}

void sn_h_bindings_get(sn_call *c)
{
    const char *number = sn_call_param(c, "number"), *account = sn_call_param(c, "account");
    binding_query *q = h2o_mem_alloc_pool(&c->req->pool, sizeof(*q));
    char why[SN_ERRMSG_MAX];
    if (number == NULL)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the number query parameter is required");
    else if (sn_number_parse(number, strlen(number), c->svc->rules.default_cc, &q->number, why,
                             sizeof(why)) != SN_OK)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "number: %s", why);
    else if (account != NULL && (account[0] == '\0' || strlen(account) > SN_ACCOUNT_MAX))
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "account must be 1 to %d bytes",
                       SN_ACCOUNT_MAX);
    else {
        q->account = account;
        sn_http_submit(sn_http_job_new(c, get_bindings, q));
    }
}

/*
 * h_bindings.c - PUT, DELETE and GET /v1/bindings: which of an app's
 * accounts are bound to which numbers.
 *
 * The account reference never reaches the store: it is hashed with a key
 * derived from the deployment secret and the app's id (crypto/secret.h) on
 * the writer thread, once the app's id is known. A binding records the
 * number's tenure at bound_at, found from the number's state or, for a time
 * before its latest event, by replaying its log up to that time.
 */
#include "http/tenant.h"

#include "core/errors.h"
#include "store/log.h"
#include "store/bindings.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#define ACCOUNT_MAX 256

/* ---- the tenure of a number at a time ----------------------------------- */

typedef struct {
    const sn_rules *rules;
    sn_number_state st;
    int64_t at;
} replay;

static int replay_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    replay *r = ctx;
    char why[SN_ERRMSG_MAX];
    (void)ordinal;
    if (e->ev.at > r->at)
        return 1; /* stop: past the time asked about */
    if (sn_lifecycle_apply(r->rules, &r->st, &e->ev, why, sizeof(why)) != SN_OK)
        return SN_ESTORE; /* the log always replays (store.h invariant 3) */
    return 0;
}

static int tenure_at(sn_store *s, sn_number n, int64_t at, uint32_t *tenure, char *err,
                     size_t errlen)
{
    sn_number_state st;
    int rc = sn_store_get_state(s, n, &st, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (st.status == SN_ST_UNSEEN || at >= st.last_at) {
        *tenure = st.tenure;
        return SN_OK;
    }
    replay r = {sn_store_rules(s), {0}, at};
    sn_state_init(&r.st, n);
    rc = sn_store_scan_events(s, n, replay_event, &r, err, errlen);
    if (rc < 0)
        return sn_fail(err, errlen, SN_ESTORE, "the log of a number does not replay");
    *tenure = r.st.tenure;
    return SN_OK;
}

/* ---- items ------------------------------------------------------------------ */

typedef struct {
    sn_number number;
    const char *account;
    size_t account_len;
    int64_t bound_at;
} binding_item;

/* One item of the body; SN_OK or a recorded 400 naming the index. */
static int parse_item(sn_tenant_job *t, json_t *item, size_t i, int need_time, binding_item *out)
{
    const char *key;
    json_t *v;
    char why[SN_ERRMSG_MAX];
    const sn_rules *rules = &t->svc->rules;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(item))
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu] must be an object", i);
    json_object_foreach(item, key, v) {
        if (strcmp(key, "number") != 0 && strcmp(key, "account") != 0 &&
            strcmp(key, "bound_at") != 0)
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                                  "bindings[%zu]: unknown property '%.64s'", i, key);
        if (!json_is_string(v))
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu].%s must be a string",
                                  i, key);
    }
    json_t *number = json_object_get(item, "number"), *account = json_object_get(item, "account");
    json_t *at = json_object_get(item, "bound_at");
    if (number == NULL || account == NULL || (need_time && at == NULL))
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu] needs number, account%s",
                              i, need_time ? " and bound_at" : "");
    if (sn_number_parse(json_string_value(number), json_string_length(number), rules->default_cc,
                        &out->number, why, sizeof(why)) != SN_OK)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu].number: %s", i, why);
    out->account = json_string_value(account);
    out->account_len = json_string_length(account);
    if (out->account_len == 0 || out->account_len > ACCOUNT_MAX)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                              "bindings[%zu].account must be 1 to %d bytes", i, ACCOUNT_MAX);
    if (at != NULL && need_time) {
        if (sn_time_parse(json_string_value(at), json_string_length(at), rules->tz_minutes,
                          &out->bound_at, why, sizeof(why)) != SN_OK)
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "bindings[%zu].bound_at: %s", i,
                                  why);
        if (out->bound_at > t->now)
            return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                                  "bindings[%zu].bound_at is in the future", i);
    }
    return SN_OK;
}

/* The array of the body, 1 to SN_HTTP_MAX_ITEMS items, nothing else. */
static json_t *items_of(sn_tenant_job *t)
{
    json_t *items = json_object_get(t->body, "bindings");
    if (json_object_size(t->body) != 1 || !json_is_array(items) || json_array_size(items) == 0 ||
        json_array_size(items) > SN_HTTP_MAX_ITEMS) {
        sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT,
                       "the body must be {\"bindings\": [...]} with 1 to %d items",
                       SN_HTTP_MAX_ITEMS);
        return NULL;
    }
    return items;
}

static int store_failed(sn_tenant_job *t, const char *err)
{
    fprintf(stderr, "secondnum serve: bindings: %s\n", err);
    return sn_tenant_fail(t, SN_HTTP_INTERNAL, "the store failed; nothing was changed");
}

static int put_bindings(sn_tenant_job *t, sn_store *s)
{
    json_t *items = items_of(t);
    char err[SN_ERRMSG_MAX];
    size_t i;
    if (items == NULL)
        return SN_EINVAL;
    for (i = 0; i < json_array_size(items); i++) {
        binding_item it;
        sn_binding b;
        int rc = parse_item(t, json_array_get(items, i), i, 1, &it);
        if (rc != SN_OK)
            return rc;
        memset(&b, 0, sizeof(b));
        b.number = it.number;
        b.app = t->app_id;
        b.bound_at = it.bound_at;
        sn_account_hash(t->svc->secret, t->app_id, it.account, it.account_len, b.account);
        if (tenure_at(s, b.number, b.bound_at, &b.tenure, err, sizeof(err)) != SN_OK ||
            sn_store_put_binding(s, &b, err, sizeof(err)) != SN_OK)
            return store_failed(t, err);
    }
    sn_strbuf_printf(&t->out, "{\"bound\":%zu}", i);
    return SN_OK;
}

static int delete_bindings(sn_tenant_job *t, sn_store *s)
{
    json_t *items = items_of(t);
    char err[SN_ERRMSG_MAX];
    size_t unbound = 0, missing = 0;
    if (items == NULL)
        return SN_EINVAL;
    for (size_t i = 0; i < json_array_size(items); i++) {
        binding_item it;
        uint8_t hash[SN_ACCOUNT_HASH_LEN];
        int rc = parse_item(t, json_array_get(items, i), i, 0, &it), found = 0;
        if (rc != SN_OK)
            return rc;
        sn_account_hash(t->svc->secret, t->app_id, it.account, it.account_len, hash);
        if (sn_store_delete_binding(s, t->app_id, it.number, hash, &found, err, sizeof(err)) !=
            SN_OK)
            return store_failed(t, err);
        if (found)
            unbound++;
        else
            missing++;
    }
    sn_strbuf_printf(&t->out, "{\"unbound\":%zu,\"not_found\":%zu}", unbound, missing);
    return SN_OK;
}

typedef struct {
    sn_tenant_job *t;
    uint32_t current;
    const uint8_t *only; /* the account asked about, or NULL */
    const char *account;
    size_t n;
} listing;

static int list_binding(void *ctx, const sn_binding *b)
{
    listing *l = ctx;
    char hex[2 * SN_ACCOUNT_HASH_LEN + 1], at[SN_TIME_TEXT_MAX];
    if (l->only != NULL && sodium_memcmp(l->only, b->account, SN_ACCOUNT_HASH_LEN) != 0)
        return 0;
    sodium_bin2hex(hex, sizeof(hex), b->account, SN_ACCOUNT_HASH_LEN);
    sn_time_format(b->bound_at, 0, at);
    sn_strbuf_printf(&l->t->out, "%s{", l->n++ ? "," : "");
    if (l->account != NULL) {
        sn_strbuf_printf(&l->t->out, "\"account\":");
        sn_strbuf_string(&l->t->out, l->account);
        sn_strbuf_printf(&l->t->out, ",");
    }
    sn_strbuf_printf(&l->t->out,
                     "\"account_hash\":\"%s\",\"bound_at\":\"%.19sZ\",\"tenure\":%u,"
                     "\"current\":%s}",
                     hex, at, b->tenure, b->tenure == l->current ? "true" : "false");
    return 0;
}

static int get_bindings(sn_tenant_job *t, sn_store *s)
{
    const char *number = sn_tenant_param(t, "number"), *account = sn_tenant_param(t, "account");
    char err[SN_ERRMSG_MAX], text[SN_NUMBER_TEXT_MAX];
    uint8_t hash[SN_ACCOUNT_HASH_LEN];
    sn_number n;
    sn_number_state st;
    if (number == NULL)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "the number query parameter is required");
    if (sn_number_parse(number, strlen(number), t->svc->rules.default_cc, &n, err, sizeof(err)) !=
        SN_OK)
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "number: %s", err);
    if (account != NULL && (account[0] == '\0' || strlen(account) > ACCOUNT_MAX))
        return sn_tenant_fail(t, SN_HTTP_INVALID_ARGUMENT, "account must be 1 to %d bytes",
                              ACCOUNT_MAX);
    if (account != NULL)
        sn_account_hash(t->svc->secret, t->app_id, account, strlen(account), hash);
    if (sn_store_get_state(s, n, &st, err, sizeof(err)) != SN_OK)
        return store_failed(t, err);
    sn_number_format(n, text);
    listing l = {t, st.tenure, account != NULL ? hash : NULL, account, 0};
    sn_strbuf_printf(&t->out, "{\"number\":\"%s\",\"tenure\":%u,\"bindings\":[", text, st.tenure);
    if (sn_store_list_bindings(s, t->app_id, n, list_binding, &l, err, sizeof(err)) != SN_OK)
        return store_failed(t, err);
    sn_strbuf_printf(&t->out, "]}");
    return SN_OK;
}

static const char *const get_params[] = {"number", "account", NULL};

void sn_h_bindings_put(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, put_bindings, NULL, 1, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_bindings_delete(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, delete_bindings, NULL, 1, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

void sn_h_bindings_get(sn_call *c)
{
    sn_tenant_job *t = sn_tenant_job_new(c, get_bindings, get_params, 0, 0);
    if (t != NULL)
        sn_tenant_submit(c, t);
}

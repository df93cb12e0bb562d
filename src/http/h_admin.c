/*
 * h_admin.c - the admin endpoints for carriers and API keys (keys.h), a
 * key's check limits with it.
 */
#include "http/body.h"
#include "http/job.h"
#include "service/keys.h"

#include "core/errors.h"
#include "core/number.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- carriers ------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *ranges[SN_CARRIER_RANGES_MAX];
    size_t n;
} carrier_add;

static int add_carrier(sn_http_job *j, sn_store *s)
{
    carrier_add *a = j->data;
    uint32_t id;
    int rc = sn_carriers_add(s, a->name, a->ranges, a->n, &id, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "{\"name\":");
    sn_strbuf_string(&j->out, a->name);
    sn_strbuf_printf(&j->out, ",\"ranges\":[");
    for (size_t i = 0; i < a->n; i++)
        sn_strbuf_printf(&j->out, "%s\"%s\"", i ? "," : "", a->ranges[i]);
    sn_strbuf_printf(&j->out, "]}");
    j->status = 201;
    return SN_OK;
}

/* The body {"name": "...", "ranges": ["+86138", ...]}: its one array makes
 * it the one body that is not flat, read with jansson. */
static int read_carrier(sn_call *c, carrier_add *a)
{
    json_error_t jerr;
    h2o_iovec_t body = c->req->entity;
    json_t *root =
        body.base != NULL ? json_loadb(body.base, body.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    json_t *name = json_object_get(root, "name"), *ranges = json_object_get(root, "ranges"), *r;
    size_t i;
    int ok = json_is_object(root) && json_object_size(root) == 2 && json_is_string(name) &&
             sn_name_valid(json_string_value(name)) && json_is_array(ranges) &&
             json_array_size(ranges) > 0 && json_array_size(ranges) <= SN_CARRIER_RANGES_MAX;
    json_array_foreach(ranges, i, r)
    {
        ok = ok && json_is_string(r) && sn_number_prefix_valid(json_string_value(r));
        if (ok)
            a->ranges[a->n++] = h2o_strdup(&c->req->pool, json_string_value(r), SIZE_MAX).base;
    }
    if (ok)
        a->name = h2o_strdup(&c->req->pool, json_string_value(name), SIZE_MAX).base;
    json_decref(root);
    return ok;
}

void sn_h_carriers_add(sn_call *c)
{
    carrier_add *a = h2o_mem_alloc_pool(&c->req->pool, sizeof(*a));
    a->n = 0;
    if (read_carrier(c, a))
        sn_http_submit(sn_http_job_new(c, add_carrier, a));
    else
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "the body must be {\"name\": \"...\", \"ranges\": [\"+86138\", ...]}");
}

typedef struct {
    sn_strbuf *b;
    uint32_t last;
    int any;
} carriers_list;

static int list_range(void *ctx, const sn_range *r)
{
    carriers_list *l = ctx;
    if (!l->any || r->carrier != l->last) {
        sn_strbuf_printf(l->b, "%s{\"name\":", l->any ? "]}," : "");
        sn_strbuf_string(l->b, r->name);
        sn_strbuf_printf(l->b, ",\"ranges\":[");
        if (r->prefix[0] != '\0')
            sn_strbuf_printf(l->b, "\"%s\"", r->prefix);
        l->any = 1;
        l->last = r->carrier;
    } else if (r->prefix[0] != '\0') {
        sn_strbuf_printf(l->b, ",\"%s\"", r->prefix);
    }
    return 0;
}

int sn_w_carriers_list(sn_http_job *j, sn_store *s)
{
    carriers_list l = {&j->out, 0, 0};
    sn_strbuf_printf(&j->out, "{\"carriers\":[");
    int rc = sn_carriers_list(s, list_range, &l, j->message, sizeof(j->message));
    sn_strbuf_printf(&j->out, "%s]}", l.any ? "]}" : "");
    return rc;
}

/* ---- keys ---------------------------------------------------------------- */

typedef struct {
    int role;
    const char *name, *carrier;
    uint32_t rate_per_s;
    uint64_t rate_per_day;
} key_create;

/* A key's check limit as JSON: its number, or null for the server's. */
static void limit_json(sn_strbuf *b, const char *name, uint64_t v)
{
    if (v != 0)
        sn_strbuf_printf(b, ",\"%s\":%llu", name, (unsigned long long)v);
    else
        sn_strbuf_printf(b, ",\"%s\":null", name);
}

static int create_key(sn_http_job *j, sn_store *s)
{
    key_create *k = j->data;
    sn_new_key nk;
    int rc = sn_keys_create(j->call->svc, s, k->role, k->name, k->carrier, k->rate_per_s,
                            k->rate_per_day, &nk, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "{\"id\":%u,\"key\":\"%s\",\"role\":\"%s\",\"name\":", nk.key.id,
                     nk.text, sn_role_name(k->role));
    sn_strbuf_string(&j->out, k->name);
    limit_json(&j->out, "rate_per_s", k->rate_per_s);
    limit_json(&j->out, "rate_per_day", k->rate_per_day);
    sn_strbuf_printf(&j->out, "}");
    j->status = 201;
    return SN_OK;
}

/* A limit of the body: absent (0), or an integer from 1 to max. */
static int read_limit(json_t *root, const char *name, json_int_t max, uint64_t *out, char *why,
                      size_t whylen)
{
    json_t *v = json_object_get(root, name);
    *out = 0;
    if (v == NULL)
        return 1;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
        snprintf(why, whylen, "%s must be an integer from 1 to %lld", name, (long long)max);
        return 0;
    }
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

/* The body {"role", "name", "carrier"?, "rate_per_s"?, "rate_per_day"?}:
 * its integers make it a body the flat reader refuses, read with jansson. */
static int read_key(sn_call *c, key_create *k, char *why, size_t whylen)
{
    static const char *const known[] = {"role", "name", "carrier", "rate_per_s", "rate_per_day"};
    json_error_t jerr;
    h2o_iovec_t body = c->req->entity;
    json_t *root =
        body.base != NULL ? json_loadb(body.base, body.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    json_t *role = json_object_get(root, "role"), *name = json_object_get(root, "name"),
           *carrier = json_object_get(root, "carrier");
    const char *prop;
    json_t *v;
    uint64_t rate = 0, daily = 0;
    int ok = json_is_object(root);
    snprintf(why, whylen,
             "the body must be {\"role\": \"app|carrier|admin\", \"name\": \"...\"}, with "
             "\"carrier\" for (and only for) carrier keys, and optional \"rate_per_s\" and "
             "\"rate_per_day\"");
    json_object_foreach(root, prop, v)
    {
        int found = 0;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            found |= strcmp(prop, known[i]) == 0;
        ok = ok && found;
    }
    k->role = json_is_string(role) ? sn_role_parse(json_string_value(role)) : SN_ROLE_NONE;
    ok = ok && k->role != SN_ROLE_NONE && json_is_string(name) &&
         sn_name_valid(json_string_value(name)) &&
         (carrier == NULL ||
          (json_is_string(carrier) && sn_name_valid(json_string_value(carrier)))) &&
         (k->role == SN_ROLE_CARRIER) == (carrier != NULL);
    ok = ok && read_limit(root, "rate_per_s", SN_CHECK_RATE_MAX, &rate, why, whylen) &&
         read_limit(root, "rate_per_day", SN_CHECK_DAILY_MAX, &daily, why, whylen);
    if (ok) {
        k->name = h2o_strdup(&c->req->pool, json_string_value(name), SIZE_MAX).base;
        k->carrier = carrier != NULL
                         ? h2o_strdup(&c->req->pool, json_string_value(carrier), SIZE_MAX).base
                         : NULL;
        k->rate_per_s = (uint32_t)rate;
        k->rate_per_day = daily;
    }
    json_decref(root);
    return ok;
}

void sn_h_keys_create(sn_call *c)
{
    key_create *k = h2o_mem_alloc_pool(&c->req->pool, sizeof(*k));
    char why[SN_ERRMSG_MAX];
    if (read_key(c, k, why, sizeof(why)))
        sn_http_submit(sn_http_job_new(c, create_key, k));
    else
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", why);
}

static int list_key(void *ctx, const sn_api_key *k, const char *carrier)
{
    sn_strbuf *b = ctx;
    sn_strbuf_printf(b, "%s{\"id\":%u,\"name\":", b->len > 10 ? "," : "", k->id);
    sn_strbuf_string(b, k->name);
    sn_strbuf_printf(b, ",\"role\":\"%s\",", sn_role_name(k->role));
    if (carrier != NULL) {
        sn_strbuf_printf(b, "\"carrier\":");
        sn_strbuf_string(b, carrier);
        sn_strbuf_printf(b, ",");
    }
    sn_strbuf_printf(b, "\"revoked\":%s", k->revoked ? "true" : "false");
    limit_json(b, "rate_per_s", k->rate_per_s);
    limit_json(b, "rate_per_day", k->rate_per_day);
    sn_strbuf_printf(b, "}");
    return 0;
}

int sn_w_keys_list(sn_http_job *j, sn_store *s)
{
    sn_strbuf_printf(&j->out, "{\"keys\":[");
    int rc = sn_keys_list(s, list_key, &j->out, j->message, sizeof(j->message));
    sn_strbuf_printf(&j->out, "]}");
    return rc;
}

int sn_w_keys_revoke(sn_http_job *j, sn_store *s)
{
    int rc = sn_keys_revoke(j->call->svc, s, j->call->id, j->message, sizeof(j->message));
    if (rc == SN_OK)
        sn_strbuf_printf(&j->out, "{\"id\":%llu,\"revoked\":true}",
                         (unsigned long long)j->call->id);
    return rc;
}

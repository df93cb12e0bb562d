/*
 * h_admin.c - the admin endpoints for carriers and API keys (keys.h).
 */
#include "http/body.h"
#include "http/job.h"
#include "service/keys.h"

#include "core/errors.h"
#include "core/number.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

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
} key_create;

static int create_key(sn_http_job *j, sn_store *s)
{
    key_create *k = j->data;
    sn_new_key nk;
    int rc = sn_keys_create(j->call->svc, s, k->role, k->name, k->carrier, &nk, j->message,
                            sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "{\"id\":%u,\"key\":\"%s\",\"role\":\"%s\",\"name\":", nk.key.id,
                     nk.text, sn_role_name(k->role));
    sn_strbuf_string(&j->out, k->name);
    sn_strbuf_printf(&j->out, "}");
    j->status = 201;
    return SN_OK;
}

void sn_h_keys_create(sn_call *c)
{
    const char *role = sn_call_field(c, "role")->value;
    key_create *k = h2o_mem_alloc_pool(&c->req->pool, sizeof(*k));
    k->role = role != NULL ? sn_role_parse(role) : SN_ROLE_NONE;
    k->name = sn_call_field(c, "name")->value;
    k->carrier = sn_call_field(c, "carrier")->value;
    if (k->role == SN_ROLE_NONE || k->name == NULL || !sn_name_valid(k->name) ||
        (k->role == SN_ROLE_CARRIER) != (k->carrier != NULL) ||
        (k->carrier != NULL && !sn_name_valid(k->carrier)))
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "the body must be {\"role\": \"app|carrier|admin\", \"name\": "
                       "\"...\"}, with \"carrier\" for (and only for) carrier keys");
    else
        sn_http_submit(sn_http_job_new(c, create_key, k));
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
    sn_strbuf_printf(b, "\"revoked\":%s}", k->revoked ? "true" : "false");
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

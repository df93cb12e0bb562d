/*
 * h_admin.c - health, the OpenAPI document, and the admin endpoints for
 * carriers and API keys. Admin reads and writes go through the writer
 * thread, which owns the store handle; they are rare and small.
 */
#include "http/http.h"

#include "core/errors.h"
#include "http/json_body.h"
#include "http/writer.h"
#include "store/keys.h"

#include <stdio.h>
#include <stdlib.h>

void sn_h_healthz(sn_call *c)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"numbers\":%zu}",
                     sn_numindex_count(c->svc->index));
    sn_reply_json(c, 200, body, (size_t)n);
}

void sn_h_openapi(sn_call *c)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = c->req;
    h2o_iovec_t body = h2o_iovec_init(c->svc->openapi, c->svc->openapi_len);
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/yaml"));
    if (c->correlator.base != NULL)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-correlator"), 0, NULL,
                              c->correlator.base, c->correlator.len);
    h2o_start_response(req, &generator);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

/* ---- replies built on the writer thread ---------------------------------- */

static void finish(sn_write_job *job, sn_strbuf *b, int status)
{
    job->status = b->failed ? 500 : status;
    job->body = b->s;
    job->body_len = b->len;
}

/* 503 when the database server cannot be reached (retry later), else 500. */
static int failed_status(sn_store *store)
{
    return sn_store_reachable(store) ? 500 : 503;
}

static void reply_done(sn_write_job *job)
{
    if (job->busy)
        sn_writer_reply_busy(job->call);
    else if (job->status >= 200 && job->status < 300)
        sn_reply_json(job->call, job->status, job->body, job->body_len);
    else if (job->status == 404)
        sn_reply_error(job->call, SN_HTTP_NOT_FOUND, "no such key");
    else if (job->status == 400)
        sn_reply_error(job->call, SN_HTTP_INVALID_ARGUMENT, "%s", job->body ? job->body : "invalid");
    else if (job->status == 503)
        sn_reply_error(job->call, SN_HTTP_UNAVAILABLE,
                       "the database cannot be reached; nothing was changed; retry later");
    else
        sn_reply_error(job->call, SN_HTTP_INTERNAL, "the store failed; nothing was changed");
    free(job->body);
    json_decref(job->data);
}

static void submit(sn_call *c, json_t *body, void (*run)(sn_write_job *, sn_store *))
{
    sn_write_job *job = h2o_mem_alloc_pool(&c->req->pool, sizeof(*job));
    memset(job, 0, sizeof(*job));
    job->data = body;
    job->run = run;
    job->done = reply_done;
    sn_writer_submit(c->svc->writer, c, job);
}

/* ---- carriers ------------------------------------------------------------ */



static void run_carriers_add(sn_write_job *job, sn_store *store)
{
    json_t *body = job->data, *ranges = json_object_get(body, "ranges"), *r;
    const char *name = json_string_value(json_object_get(body, "name"));
    char err[SN_ERRMSG_MAX];
    uint32_t id;
    size_t i;
    sn_strbuf b = {0};

    if (sn_store_begin(store, err, sizeof(err)) != SN_OK ||
        sn_store_carrier_id(store, name, 1, &id, err, sizeof(err)) != SN_OK)
        goto fail;
    json_array_foreach(ranges, i, r) if (sn_store_add_range(store, id, json_string_value(r), err,
                                                            sizeof(err)) != SN_OK) goto fail;
    if (sn_store_commit(store, err, sizeof(err)) != SN_OK)
        goto fail;
    sn_strbuf_printf(&b, "{\"name\":");
    sn_strbuf_string(&b, name);
    sn_strbuf_printf(&b, ",\"ranges\":[");
    json_array_foreach(ranges, i, r) sn_strbuf_printf(&b, "%s\"%s\"", i ? "," : "", json_string_value(r));
    sn_strbuf_printf(&b, "]}");
    finish(job, &b, 201);
    return;
fail:
    sn_store_rollback(store);
    fprintf(stderr, "secondnum serve: carriers: %s\n", err);
    job->status = failed_status(store);
}

void sn_h_carriers_add(sn_call *c)
{
    json_t *body = sn_json_body(c), *name, *ranges, *r;
    size_t i;
    if (body == NULL)
        return;
    name = json_object_get(body, "name");
    ranges = json_object_get(body, "ranges");
    int ok = json_object_size(body) == 2 && json_is_string(name) &&
             sn_name_valid(json_string_value(name)) && json_is_array(ranges) &&
             json_array_size(ranges) > 0 && json_array_size(ranges) <= 256;
    json_array_foreach(ranges, i, r) ok = ok && json_is_string(r) && sn_number_prefix_valid(json_string_value(r));
    if (!ok) {
        json_decref(body);
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "the body must be {\"name\": \"...\", \"ranges\": [\"+86138\", ...]}");
        return;
    }
    submit(c, body, run_carriers_add);
}

typedef struct {
    sn_strbuf *b;
    uint32_t last;
    int any;
} carriers_list;

static int list_range(void *ctx, const sn_range *r)
{
    uint32_t carrier = r->carrier;
    const char *name = r->name, *prefix = r->prefix[0] != '\0' ? r->prefix : NULL;
    carriers_list *l = ctx;
    if (!l->any || carrier != l->last) {
        sn_strbuf_printf(l->b, "%s{\"name\":", l->any ? "]}," : "");
        sn_strbuf_string(l->b, name);
        sn_strbuf_printf(l->b, ",\"ranges\":[");
        if (prefix != NULL)
            sn_strbuf_printf(l->b, "\"%s\"", prefix);
        l->any = 1;
        l->last = carrier;
    } else if (prefix != NULL) {
        sn_strbuf_printf(l->b, ",\"%s\"", prefix);
    }
    return 0;
}

static void run_carriers_list(sn_write_job *job, sn_store *store)
{
    char err[SN_ERRMSG_MAX];
    sn_strbuf b = {0};
    carriers_list l = {&b, 0, 0};
    sn_strbuf_printf(&b, "{\"carriers\":[");
    if (sn_store_list_ranges(store, list_range, &l, err, sizeof(err)) != SN_OK) {
        free(b.s);
        job->status = failed_status(store);
        return;
    }
    sn_strbuf_printf(&b, "%s]}", l.any ? "]}" : "");
    finish(job, &b, 200);
}

void sn_h_carriers_list(sn_call *c)
{
    submit(c, NULL, run_carriers_list);
}

/* ---- keys ---------------------------------------------------------------- */

static void run_keys_create(sn_write_job *job, sn_store *store)
{
    json_t *body = job->data;
    const char *role = json_string_value(json_object_get(body, "role"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *carrier = json_string_value(json_object_get(body, "carrier"));
    char err[SN_ERRMSG_MAX], text[SN_KEY_TEXT_LEN + 1];
    sn_api_key k;
    sn_strbuf b = {0};

    memset(&k, 0, sizeof(k));
    k.role = (uint8_t)sn_role_parse(role);
    snprintf(k.name, sizeof(k.name), "%s", name);
    if (k.role == SN_ROLE_CARRIER &&
        sn_store_carrier_id(store, carrier, 1, &k.carrier, err, sizeof(err)) != SN_OK)
        goto fail;
    sn_apikey_generate(text, k.hash);
    if (sn_store_add_key(store, &k, &k.id, err, sizeof(err)) != SN_OK)
        goto fail;
    sn_keyring_put(job->call->svc->keys, &k);
    sn_strbuf_printf(&b, "{\"id\":%u,\"key\":\"%s\",\"role\":\"%s\",\"name\":", k.id, text, role);
    sn_strbuf_string(&b, name);
    sn_strbuf_printf(&b, "}");
    finish(job, &b, 201);
    return;
fail:
    fprintf(stderr, "secondnum serve: keys: %s\n", err);
    job->status = failed_status(store);
}

void sn_h_keys_create(sn_call *c)
{
    json_t *body = sn_json_body(c), *role, *name, *carrier;
    if (body == NULL)
        return;
    role = json_object_get(body, "role");
    name = json_object_get(body, "name");
    carrier = json_object_get(body, "carrier");
    sn_role r = json_is_string(role) ? sn_role_parse(json_string_value(role)) : SN_ROLE_NONE;
    int ok = r != SN_ROLE_NONE && json_is_string(name) && sn_name_valid(json_string_value(name)) &&
             json_object_size(body) == 2u + (carrier != NULL) &&
             ((r == SN_ROLE_CARRIER) == (carrier != NULL)) &&
             (carrier == NULL || (json_is_string(carrier) && sn_name_valid(json_string_value(carrier))));
    if (!ok) {
        json_decref(body);
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "the body must be {\"role\": \"app|carrier|admin\", \"name\": \"...\"}, "
                       "with \"carrier\" for (and only for) carrier keys");
        return;
    }
    submit(c, body, run_keys_create);
}

/* Carrier names by id, for naming a carrier key's carrier. */
typedef struct {
    sn_strbuf *b;
    uint32_t ids[1024];
    char names[1024][SN_KEY_NAME_MAX + 1];
    size_t n;
} keys_listing;

static int remember_carrier(void *ctx, const sn_range *r)
{
    uint32_t carrier = r->carrier;
    const char *name = r->name, *prefix = r->prefix[0] != '\0' ? r->prefix : NULL;
    keys_listing *l = ctx;
    (void)prefix;
    if ((l->n == 0 || l->ids[l->n - 1] != carrier) && l->n < 1024) {
        l->ids[l->n] = carrier;
        snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", name);
    }
    return 0;
}

static int list_key(void *ctx, const sn_api_key *k)
{
    keys_listing *l = ctx;
    sn_strbuf *b = l->b;
    sn_strbuf_printf(b, "%s{\"id\":%u,\"name\":", b->len > 10 ? "," : "", k->id);
    sn_strbuf_string(b, k->name);
    sn_strbuf_printf(b, ",\"role\":\"%s\",", sn_role_name(k->role));
    for (size_t i = 0; k->role == SN_ROLE_CARRIER && i < l->n; i++)
        if (l->ids[i] == k->carrier) {
            sn_strbuf_printf(b, "\"carrier\":");
            sn_strbuf_string(b, l->names[i]);
            sn_strbuf_printf(b, ",");
        }
    sn_strbuf_printf(b, "\"revoked\":%s}", k->revoked ? "true" : "false");
    return 0;
}

static void run_keys_list(sn_write_job *job, sn_store *store)
{
    char err[SN_ERRMSG_MAX];
    sn_strbuf b = {0};
    keys_listing *l = calloc(1, sizeof(*l));
    sn_strbuf_printf(&b, "{\"keys\":[");
    int rc = l == NULL ? SN_ENOMEM : sn_store_list_ranges(store, remember_carrier, l, err, sizeof(err));
    if (rc == SN_OK) {
        l->b = &b;
        rc = sn_store_list_keys(store, list_key, l, err, sizeof(err));
    }
    free(l);
    if (rc != SN_OK) {
        free(b.s);
        job->status = failed_status(store);
        return;
    }
    sn_strbuf_printf(&b, "]}");
    finish(job, &b, 200);
}

void sn_h_keys_list(sn_call *c)
{
    submit(c, NULL, run_keys_list);
}

static void run_keys_revoke(sn_write_job *job, sn_store *store)
{
    char err[SN_ERRMSG_MAX];
    uint32_t id = (uint32_t)job->arg;
    int found = 0;
    sn_strbuf b = {0};
    if (sn_store_revoke_key(store, id, &found, err, sizeof(err)) != SN_OK) {
        job->status = failed_status(store);
        return;
    }
    if (!found) {
        job->status = 404;
        return;
    }
    sn_api_key k = {.id = id, .revoked = 1};
    sn_keyring_put(job->call->svc->keys, &k);
    sn_strbuf_printf(&b, "{\"id\":%u,\"revoked\":true}", id);
    finish(job, &b, 200);
}

void sn_h_keys_revoke(sn_call *c)
{
    char digits[16];
    long id = 0;
    if (c->param_len == 0 || c->param_len >= sizeof(digits)) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the key id must be a positive integer");
        return;
    }
    memcpy(digits, c->param, c->param_len);
    digits[c->param_len] = '\0';
    char *end;
    id = strtol(digits, &end, 10);
    if (*end != '\0' || id < 1 || id > (long)UINT32_MAX) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the key id must be a positive integer");
        return;
    }
    sn_write_job *job = h2o_mem_alloc_pool(&c->req->pool, sizeof(*job));
    memset(job, 0, sizeof(*job));
    job->arg = (uint64_t)id;
    job->run = run_keys_revoke;
    job->done = reply_done;
    sn_writer_submit(c->svc->writer, c, job);
}

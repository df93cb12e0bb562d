/*
 * keys.c - API keys and carriers (see keys.h).
 */
#include "service/keys.h"

#include "core/errors.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARRIERS_NAMED 1024 /* carriers whose names a key listing knows */

int sn_carriers_add(sn_store *s, const char *name, const char *const *ranges, size_t n,
                    uint32_t *id, char *err, size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    if (rc == SN_OK)
        rc = sn_store_carrier_id(s, name, 1, id, err, errlen);
    for (size_t i = 0; rc == SN_OK && i < n; i++)
        rc = sn_store_add_range(s, *id, ranges[i], err, errlen);
    if (rc == SN_OK)
        rc = sn_store_commit(s, err, errlen);
    if (rc != SN_OK)
        sn_store_rollback(s);
    return rc;
}

int sn_carriers_list(sn_store *s, sn_range_fn fn, void *ctx, char *err, size_t errlen)
{
    return sn_store_list_ranges(s, fn, ctx, err, errlen);
}

int sn_keys_create(const sn_service *svc, sn_store *s, int role, const char *name,
                   const char *carrier, uint32_t rate_per_s, uint64_t rate_per_day, sn_new_key *out,
                   char *err, size_t errlen)
{
    int rc = SN_OK;
    memset(out, 0, sizeof(*out));
    out->key.role = (uint8_t)role;
    out->key.rate_per_s = rate_per_s;
    out->key.rate_per_day = rate_per_day;
    snprintf(out->key.name, sizeof(out->key.name), "%s", name);
    if (role == SN_ROLE_CARRIER)
        rc = sn_store_carrier_id(s, carrier, 1, &out->key.carrier, err, errlen);
    if (rc != SN_OK)
        return rc;
    sn_apikey_generate(out->text, out->key.hash);
    if ((rc = sn_store_add_key(s, &out->key, &out->key.id, err, errlen)) == SN_OK && svc != NULL &&
        svc->keys != NULL)
        sn_keyring_put(svc->keys, &out->key);
    return rc;
}

/* Carrier names by id, for naming a carrier key's carrier. */
typedef struct {
    sn_key_view_fn fn;
    void *ctx;
    uint32_t ids[CARRIERS_NAMED];
    char names[CARRIERS_NAMED][SN_CARRIER_NAME_MAX + 1];
    size_t n;
} key_listing;

static int remember_carrier(void *ctx, const sn_range *r)
{
    key_listing *l = ctx;
    if ((l->n == 0 || l->ids[l->n - 1] != r->carrier) && l->n < CARRIERS_NAMED) {
        l->ids[l->n] = r->carrier;
        snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", r->name);
    }
    return 0;
}

static int list_key(void *ctx, const sn_api_key *k)
{
    key_listing *l = ctx;
    const char *carrier = NULL;
    for (size_t i = 0; k->role == SN_ROLE_CARRIER && i < l->n && carrier == NULL; i++)
        if (l->ids[i] == k->carrier)
            carrier = l->names[i];
    return l->fn(l->ctx, k, carrier);
}

int sn_keys_list(sn_store *s, sn_key_view_fn fn, void *ctx, char *err, size_t errlen)
{
    key_listing *l = calloc(1, sizeof(*l));
    int rc;
    if (l == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    l->fn = fn;
    l->ctx = ctx;
    rc = sn_store_list_ranges(s, remember_carrier, l, err, errlen);
    if (rc == SN_OK)
        rc = sn_store_list_keys(s, list_key, l, err, errlen);
    free(l);
    return rc;
}

int sn_keys_revoke(const sn_service *svc, sn_store *s, uint64_t id, char *err, size_t errlen)
{
    int found = 0,
        rc = id > UINT32_MAX ? SN_OK : sn_store_revoke_key(s, (uint32_t)id, &found, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (!found)
        return sn_fail(err, errlen, SN_ENOTFOUND, "no such key");
    sn_api_key k = {.id = (uint32_t)id, .revoked = 1};
    if (svc != NULL && svc->keys != NULL)
        sn_keyring_put(svc->keys, &k);
    return SN_OK;
}

void sn_keys_reload(void *ctx, sn_store *s)
{
    sn_service *svc = ctx;
    char err[SN_ERRMSG_MAX];
    int ok = sn_keyring_load(svc->keys, s, err, sizeof(err)) == SN_OK &&
             (svc->oauth_clients == NULL ||
              sn_oauth_clients_load(svc->oauth_clients, s, err, sizeof(err)) == SN_OK);
    if (!ok && !svc->keys_stale)
        sn_log(SN_LOG_WARN, "reloading keys: %s (keeping the loaded ones)", err);
    else if (ok && svc->keys_stale)
        sn_log(SN_LOG_INFO, "keys reloaded again");
    svc->keys_stale = !ok;
}

/*
 * bindings.c - an app's bindings (see bindings.h).
 */
#include "service/bindings.h"

#include "core/errors.h"
#include "store/log.h"

#include <sodium.h>
#include <string.h>

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
        return SN_ESTORE; /* the log always replays (ledger.h) */
    return 0;
}

/* The tenure of n at time at. */
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

int sn_bindings_put(const sn_service *svc, sn_store *s, uint32_t app, const sn_binding_item *items,
                    size_t n, char *err, size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    for (size_t i = 0; rc == SN_OK && i < n; i++) {
        sn_binding b;
        memset(&b, 0, sizeof(b));
        b.number = items[i].number;
        b.app = app;
        b.bound_at = items[i].bound_at;
        sn_account_hash(svc->secret, app, items[i].account, items[i].account_len, b.account);
        if ((rc = tenure_at(s, b.number, b.bound_at, &b.tenure, err, errlen)) == SN_OK)
            rc = sn_store_put_binding(s, &b, err, errlen);
    }
    return sn_store_end(s, rc, 0, err, errlen);
}

int sn_bindings_delete(const sn_service *svc, sn_store *s, uint32_t app,
                       const sn_binding_item *items, size_t n, size_t *unbound, size_t *missing,
                       char *err, size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    *unbound = *missing = 0;
    for (size_t i = 0; rc == SN_OK && i < n; i++) {
        uint8_t hash[SN_ACCOUNT_HASH_LEN];
        int found = 0;
        sn_account_hash(svc->secret, app, items[i].account, items[i].account_len, hash);
        rc = sn_store_delete_binding(s, app, items[i].number, hash, &found, err, errlen);
        *(found ? unbound : missing) += 1;
    }
    return sn_store_end(s, rc, 0, err, errlen);
}

typedef struct {
    const uint8_t *only; /* the account's hash, or NULL */
    sn_binding_fn fn;
    void *ctx;
} binding_filter;

static int filter_binding(void *ctx, const sn_binding *b)
{
    binding_filter *f = ctx;
    if (f->only != NULL && sodium_memcmp(f->only, b->account, SN_ACCOUNT_HASH_LEN) != 0)
        return 0;
    return f->fn(f->ctx, b);
}

int sn_bindings_of(const sn_service *svc, sn_store *s, uint32_t app, sn_number number,
                   const char *account, size_t account_len, uint32_t *tenure, sn_binding_fn fn,
                   void *ctx, char *err, size_t errlen)
{
    uint8_t hash[SN_ACCOUNT_HASH_LEN];
    binding_filter f = {account != NULL ? hash : NULL, fn, ctx};
    sn_number_state st;
    if (account != NULL)
        sn_account_hash(svc->secret, app, account, account_len, hash);
    int rc = sn_store_get_state(s, number, &st, err, errlen);
    if (rc != SN_OK)
        return rc;
    *tenure = st.tenure;
    return sn_store_list_bindings(s, app, number, filter_binding, &f, err, errlen);
}

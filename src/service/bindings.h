/*
 * bindings.h - which of an app's accounts are bound to which numbers.
 *
 * The account reference never reaches the store: it is hashed with a key
 * derived from the deployment secret and the app's id (crypto/secret.h).
 * A binding records the number's tenure at bound_at: from the number's
 * state, or for a time before its latest event by replaying its log up to
 * that time. A request's items apply in one transaction, all or none.
 */
#ifndef SN_SERVICE_BINDINGS_H
#define SN_SERVICE_BINDINGS_H

#include "service/service.h"
#include "store/bindings.h"

#define SN_ACCOUNT_MAX 256 /* bytes of an app's account reference */

typedef struct {
    sn_number number;
    const char *account; /* 1 to SN_ACCOUNT_MAX bytes */
    size_t account_len;
    int64_t bound_at; /* put only; not after now */
} sn_binding_item;

/* Bind items[0..n) for app. */
int sn_bindings_put(const sn_service *svc, sn_store *s, uint32_t app, const sn_binding_item *items,
                    size_t n, char *err, size_t errlen);

/* Unbind items[0..n) of app (bound_at ignored): how many were bound and
 * how many were not. */
int sn_bindings_delete(const sn_service *svc, sn_store *s, uint32_t app,
                       const sn_binding_item *items, size_t n, size_t *unbound, size_t *missing,
                       char *err, size_t errlen);

/* app's bindings on number (only the account's when account is not
 * NULL), and the number's current tenure in *tenure. */
int sn_bindings_of(const sn_service *svc, sn_store *s, uint32_t app, sn_number number,
                   const char *account, size_t account_len, uint32_t *tenure, sn_binding_fn fn,
                   void *ctx, char *err, size_t errlen);

#endif

/*
 * bindings.h - which app accounts (as keyed hashes) are bound to which
 * numbers, and in which tenure of the number each was made.
 */
#ifndef SN_STORE_BINDINGS_H
#define SN_STORE_BINDINGS_H

#include "crypto/secret.h"
#include "store/store.h"

typedef struct {
    sn_number number;
    uint32_t app;
    uint8_t account[SN_ACCOUNT_HASH_LEN];
    int64_t bound_at;
    uint32_t tenure; /* of the number at bound_at; 0 = before its first record */
} sn_binding;

typedef int (*sn_binding_fn)(void *ctx, const sn_binding *b);
/* A binding with its app's name and display name ("" when it set none). */
typedef int (*sn_app_binding_fn)(void *ctx, const sn_binding *b, const char *app,
                                 const char *display);

/* Insert or replace (same number, app, account). */
int sn_store_put_binding(sn_store *s, const sn_binding *b, char *err, size_t errlen);

/* *found is 0 when there was no such binding. */
int sn_store_delete_binding(sn_store *s, uint32_t app, sn_number n,
                            const uint8_t account[SN_ACCOUNT_HASH_LEN], int *found, char *err,
                            size_t errlen);

/* An app's bindings on n, in account-hash order. */
int sn_store_list_bindings(sn_store *s, uint32_t app, sn_number n, sn_binding_fn fn, void *ctx,
                           char *err, size_t errlen);

/* Every app's bindings on n, by app name then bound_at. */
int sn_store_number_bindings(sn_store *s, sn_number n, sn_app_binding_fn fn, void *ctx, char *err,
                             size_t errlen);

#endif

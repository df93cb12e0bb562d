/*
 * receipts.h - the receipt signing keys (Ed25519): each key's public half,
 * its secret seed sealed under the deployment secret (secret.h, context
 * SN_SEAL_CONTEXT_RECEIPT, the key's id), when it was made and when it was
 * retired (0: it is the current key). At most one key is current; retired
 * keys are kept, so receipts they signed still verify.
 */
#ifndef SN_STORE_RECEIPTS_H
#define SN_STORE_RECEIPTS_H

#include "crypto/receipt.h"
#include "crypto/secret.h"
#include "store/store.h"

#define SN_SEAL_CONTEXT_RECEIPT "receipt1" /* a receipt key's seed, id = the key's */

typedef struct {
    uint32_t id;
    uint8_t public_key[SN_RECEIPT_PK_LEN];
    char sealed[SN_SEALED_TEXT_LEN(SN_RECEIPT_SEED_LEN) + 1];
    int64_t created_at; /* Unix seconds */
    int64_t retired_at; /* Unix seconds; 0 while current */
} sn_receipt_key;

typedef int (*sn_receipt_key_fn)(void *ctx, const sn_receipt_key *k);

/* Call fn for every key, in id order. */
int sn_store_list_receipt_keys(sn_store *s, sn_receipt_key_fn fn, void *ctx, char *err,
                               size_t errlen);

/* The id the next key added gets (in the caller's transaction). */
int sn_store_next_receipt_key_id(sn_store *s, uint32_t *id, char *err, size_t errlen);

/* Add k (its id from sn_store_next_receipt_key_id) and retire every other
 * current key at k->created_at, in the caller's transaction. */
int sn_store_add_receipt_key(sn_store *s, const sn_receipt_key *k, char *err, size_t errlen);

#endif

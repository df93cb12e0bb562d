/*
 * receipts.h - signing check receipts (crypto/receipt.h) with the
 * deployment's current receipt key, publishing every key's public half,
 * and rotating keys (store/receipts.h).
 *
 * serve loads the keys at start (making the first one when the store has
 * none) into an sn_receipt_keys; the loop threads sign with it and read
 * its keys document, the writer's tick reloads it when the keys in the
 * store changed (`secondnum receipts rotate` by another process), so a
 * rotation is taken within a second. Thread-safe (a readers-writer lock).
 */
#ifndef SN_SERVICE_RECEIPTS_H
#define SN_SERVICE_RECEIPTS_H

#include "crypto/receipt.h"
#include "service/service.h"
#include "util/strbuf.h"

typedef struct sn_receipt_keys sn_receipt_keys;

sn_receipt_keys *sn_receipt_keys_new(void);
void sn_receipt_keys_free(sn_receipt_keys *rk);

/* Make a new key, current from now; the others are retired (kept and
 * published). One transaction; *id gets the new key's id. */
int sn_receipts_rotate(const sn_secret *secret, sn_store *s, uint32_t *id, char *err,
                       size_t errlen);

/* Read the keys from s into rk: the keys document and the current key's
 * secret (unsealed). With create, a store without a current key, or whose
 * current key does not open with secret (another deployment secret: a
 * warning is logged), gets a new one first. SN_OK; SN_ENOTFOUND when there
 * is no current key (and create is not set); SN_EINVAL when the current
 * key does not open with secret (and create is not set). */
int sn_receipts_load(sn_receipt_keys *rk, const sn_secret *secret, sn_store *s, int create,
                     char *err, size_t errlen);

/* The writer's tick: load again when the keys in s changed (a warning is
 * logged once when that fails; the keys held are kept). */
void sn_receipts_reload(sn_receipt_keys *rk, const sn_secret *secret, sn_store *s);

/* Sign r with the current key (r->key_id is set) into out (cap bytes):
 * SN_OK, SN_EUNAVAILABLE (no key loaded) or SN_ELIMIT (out too small). */
int sn_receipts_sign(sn_receipt_keys *rk, sn_receipt *r, char *out, size_t cap, size_t *len);

/* The keys document (the body of GET /v1/receipts/keys) copied into
 * memory from alloc(ctx, size); NULL when alloc failed or none is loaded. */
char *sn_receipts_document(sn_receipt_keys *rk, void *(*alloc)(void *ctx, size_t size), void *ctx,
                           size_t *len);

/* The keys document of s, made afresh (`secondnum receipts keys`), into b. */
int sn_receipts_list(sn_store *s, sn_strbuf *b, char *err, size_t errlen);

/* Count a committed batch of states put into the index (events.c): the
 * position on a store without a follower. rk may be NULL. */
void sn_receipts_committed(sn_receipt_keys *rk);

/* The data's position a check is answered at (receipts' as_of): on a store
 * with a follower its cursor (the change number every change up to which
 * is in the index), else the batches of states this server committed and
 * put into the index since it started. */
uint64_t sn_receipts_position(const sn_service *svc);

#endif

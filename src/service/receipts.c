/*
 * receipts.c - the receipt keys a server signs with and publishes, their
 * rotation, and the data's position receipts carry (receipts.h).
 * Invariant: rk->current is 0, or the id of the key whose secret rk->sk
 * holds and which the keys document lists without a retired time.
 */
#include "service/receipts.h"

#include "core/date.h"
#include "core/errors.h"
#include "follow/follower.h"
#include "store/receipts.h"
#include "util/clock.h"
#include "util/grow.h"
#include "util/log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sn_receipt_keys {
    pthread_rwlock_t lock;
    uint32_t current;              /* the signing key's id; 0: none */
    uint8_t sk[SN_RECEIPT_SK_LEN]; /* its secret key */
    char *doc;                     /* the keys document (malloc'd) */
    size_t doc_len;
    uint32_t seen_keys, seen_max; /* what the store listed last: a change reloads */
    int stale;                    /* the last reload failed (writer thread) */
    uint64_t committed;           /* batches of states committed (atomic) */
};

sn_receipt_keys *sn_receipt_keys_new(void)
{
    sn_receipt_keys *rk = calloc(1, sizeof(*rk));
    if (rk != NULL)
        pthread_rwlock_init(&rk->lock, NULL);
    return rk;
}

void sn_receipt_keys_free(sn_receipt_keys *rk)
{
    if (rk == NULL)
        return;
    pthread_rwlock_destroy(&rk->lock);
    sodium_memzero(rk->sk, sizeof(rk->sk));
    free(rk->doc);
    free(rk);
}

int sn_receipts_rotate(const sn_secret *secret, sn_store *s, uint32_t *id, char *err, size_t errlen)
{
    uint8_t seed[SN_RECEIPT_SEED_LEN], sk[SN_RECEIPT_SK_LEN];
    sn_receipt_key k;
    memset(&k, 0, sizeof(k));
    int rc = sn_store_begin(s, err, errlen);
    if (rc != SN_OK)
        return rc;
    rc = sn_store_next_receipt_key_id(s, &k.id, err, errlen);
    if (rc == SN_OK) {
        randombytes_buf(seed, sizeof(seed));
        crypto_sign_seed_keypair(k.public_key, sk, seed);
        k.created_at = sn_wall_sec();
        rc = sn_seal(secret, SN_SEAL_CONTEXT_RECEIPT, k.id, seed, sizeof(seed), k.sealed,
                     sizeof(k.sealed));
        if (rc != SN_OK)
            sn_fail(err, errlen, rc, "sealing the receipt key failed");
    }
    if (rc == SN_OK)
        rc = sn_store_add_receipt_key(s, &k, err, errlen);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    *id = k.id;
    return sn_store_end(s, rc, 0, err, errlen);
}

/* What a listing of the keys gathers. */
typedef struct {
    sn_strbuf doc;
    sn_receipt_key current; /* id 0: none */
    uint32_t n, max;
} key_list;

static int list_key(void *ctx, const sn_receipt_key *k)
{
    key_list *l = ctx;
    char pk[SN_RECEIPT_PK_TEXT_MAX], created[SN_TIME_TEXT_MAX], retired[SN_TIME_TEXT_MAX];
    sn_receipt_pk_text(k->public_key, pk);
    sn_utc_format(k->created_at, created);
    sn_strbuf_printf(&l->doc, "%s{\"key_id\":%u,\"public_key\":\"%s\",\"created\":\"%s\",",
                     l->n > 0 ? "," : "", k->id, pk, created);
    if (k->retired_at != 0) {
        sn_utc_format(k->retired_at, retired);
        sn_strbuf_printf(&l->doc, "\"retired\":\"%s\"}", retired);
    } else {
        sn_strbuf_printf(&l->doc, "\"retired\":null}");
        l->current = *k;
    }
    l->n++;
    l->max = k->id > l->max ? k->id : l->max;
    return 0;
}

static int list_keys(sn_store *s, key_list *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof(*l));
    sn_strbuf_printf(&l->doc, "{\"keys\":[");
    int rc = sn_store_list_receipt_keys(s, list_key, l, err, errlen);
    sn_strbuf_printf(&l->doc, "]}");
    if (rc == SN_OK && l->doc.failed)
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory listing the receipt keys");
    if (rc != SN_OK)
        free(l->doc.s);
    return rc;
}

int sn_receipts_list(sn_store *s, sn_strbuf *b, char *err, size_t errlen)
{
    key_list l;
    int rc = list_keys(s, &l, err, errlen);
    if (rc == SN_OK)
        *b = l.doc;
    return rc;
}

/* The current key's secret key from its sealed seed. */
static int open_key(const sn_secret *secret, const sn_receipt_key *k, uint8_t *sk, char *err,
                    size_t errlen)
{
    char seed[SN_RECEIPT_SEED_LEN + 1];
    uint8_t pk[SN_RECEIPT_PK_LEN];
    size_t len = 0;
    if (sn_unseal(secret, SN_SEAL_CONTEXT_RECEIPT, k->id, k->sealed, seed, sizeof(seed), &len) !=
            SN_OK ||
        len != SN_RECEIPT_SEED_LEN)
        return sn_fail(err, errlen, SN_EINVAL,
                       "receipt key %u does not open with this deployment secret", k->id);
    crypto_sign_seed_keypair(pk, sk, (const uint8_t *)seed);
    sodium_memzero(seed, sizeof(seed));
    if (memcmp(pk, k->public_key, sizeof(pk)) != 0)
        return sn_fail(err, errlen, SN_EINVAL,
                       "receipt key %u: its secret does not match its public key", k->id);
    return SN_OK;
}

/* Put a listing into rk (taking its document). */
static int take(sn_receipt_keys *rk, const sn_secret *secret, key_list *l, char *err, size_t errlen)
{
    uint8_t sk[SN_RECEIPT_SK_LEN];
    int rc = open_key(secret, &l->current, sk, err, errlen);
    if (rc != SN_OK) {
        free(l->doc.s);
        return rc;
    }
    pthread_rwlock_wrlock(&rk->lock);
    char *old = rk->doc;
    rk->doc = l->doc.s;
    rk->doc_len = l->doc.len;
    rk->current = l->current.id;
    memcpy(rk->sk, sk, sizeof(sk));
    rk->seen_keys = l->n;
    rk->seen_max = l->max;
    pthread_rwlock_unlock(&rk->lock);
    sodium_memzero(sk, sizeof(sk));
    free(old);
    return SN_OK;
}

/* A new current key, and the listing again (l->doc is replaced). */
static int make_key(const sn_secret *secret, sn_store *s, key_list *l, char *err, size_t errlen)
{
    uint32_t id;
    free(l->doc.s);
    int rc = sn_receipts_rotate(secret, s, &id, err, errlen);
    if (rc != SN_OK)
        return rc;
    sn_log(SN_LOG_INFO, "made receipt key %u", id);
    return list_keys(s, l, err, errlen);
}

int sn_receipts_load(sn_receipt_keys *rk, const sn_secret *secret, sn_store *s, int create,
                     char *err, size_t errlen)
{
    key_list l;
    uint8_t sk[SN_RECEIPT_SK_LEN];
    int rc = list_keys(s, &l, err, errlen);
    if (rc == SN_OK && l.current.id == 0 && create)
        rc = make_key(secret, s, &l, err, errlen);
    else if (rc == SN_OK && create && open_key(secret, &l.current, sk, err, errlen) != SN_OK) {
        sn_log(SN_LOG_WARN, "warning: %s: it is retired and a new key signs receipts", err);
        rc = make_key(secret, s, &l, err, errlen);
    }
    sodium_memzero(sk, sizeof(sk));
    if (rc != SN_OK)
        return rc;
    if (l.current.id == 0) {
        free(l.doc.s);
        return sn_fail(err, errlen, SN_ENOTFOUND, "the store has no current receipt key");
    }
    return take(rk, secret, &l, err, errlen);
}

void sn_receipts_reload(sn_receipt_keys *rk, const sn_secret *secret, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    key_list l;
    int rc = list_keys(s, &l, err, sizeof(err));
    if (rc == SN_OK && l.n == rk->seen_keys && l.max == rk->seen_max &&
        l.current.id == rk->current) {
        free(l.doc.s); /* unchanged (only this thread writes them) */
        rk->stale = 0;
        return;
    }
    if (rc == SN_OK && l.current.id == 0) {
        free(l.doc.s);
        rc = sn_fail(err, sizeof(err), SN_ENOTFOUND, "the store has no current receipt key");
    }
    if (rc == SN_OK)
        rc = take(rk, secret, &l, err, sizeof(err));
    if (rc == SN_OK)
        sn_log(SN_LOG_INFO, "receipts are signed with key %u", rk->current);
    else if (!rk->stale)
        sn_log(SN_LOG_WARN, "reloading the receipt keys: %s (the keys held are kept)", err);
    rk->stale = rc != SN_OK;
}

int sn_receipts_sign(sn_receipt_keys *rk, sn_receipt *r, char *out, size_t cap, size_t *len)
{
    int rc = SN_EUNAVAILABLE;
    pthread_rwlock_rdlock(&rk->lock);
    if (rk->current != 0) {
        r->key_id = rk->current;
        rc = sn_receipt_sign(r, rk->sk, out, cap, len);
    }
    pthread_rwlock_unlock(&rk->lock);
    return rc;
}

char *sn_receipts_document(sn_receipt_keys *rk, void *(*alloc)(void *ctx, size_t size), void *ctx,
                           size_t *len)
{
    char *out = NULL;
    pthread_rwlock_rdlock(&rk->lock);
    if (rk->doc != NULL && (out = alloc(ctx, rk->doc_len)) != NULL) {
        memcpy(out, rk->doc, rk->doc_len);
        *len = rk->doc_len;
    }
    pthread_rwlock_unlock(&rk->lock);
    return out;
}

void sn_receipts_committed(sn_receipt_keys *rk)
{
    if (rk != NULL)
        __atomic_add_fetch(&rk->committed, 1, __ATOMIC_RELAXED);
}

uint64_t sn_receipts_position(const sn_service *svc)
{
    if (svc->follower != NULL)
        return sn_follower_position(svc->follower);
    return svc->receipts != NULL ? __atomic_load_n(&svc->receipts->committed, __ATOMIC_RELAXED) : 0;
}

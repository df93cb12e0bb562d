/*
 * apikey.c - API keys and the keyring (see apikey.h).
 * The keyring is a sorted array of live keys searched by hash; there are few
 * keys, and a request costs one binary search under a shared lock and, for a
 * key this thread did not see last, one BLAKE2b. Thread-safe.
 */
#include "auth/apikey.h"

#include "core/errors.h"
#include "util/grow.h"
#include "store/keys.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {NULL, "app", "carrier", "admin"};

const char *sn_role_name(int role)
{
    return role >= SN_ROLE_APP && role <= SN_ROLE_ADMIN ? role_names[role] : NULL;
}

sn_role sn_role_parse(const char *s)
{
    for (int r = SN_ROLE_APP; r <= SN_ROLE_ADMIN; r++)
        if (strcmp(s, role_names[r]) == 0)
            return (sn_role)r;
    return SN_ROLE_NONE;
}

int sn_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SN_KEY_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

void sn_apikey_hash(const char *text, size_t len, uint8_t hash[SN_KEY_HASH_LEN])
{
    crypto_generichash(hash, SN_KEY_HASH_LEN, (const uint8_t *)text, len, NULL, 0);
}

void sn_apikey_generate(char *text, uint8_t hash[SN_KEY_HASH_LEN])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof(raw));
    memcpy(text, "sn_", 3);
    sodium_bin2hex(text + 3, 65, raw, sizeof(raw));
    sn_apikey_hash(text, SN_KEY_TEXT_LEN, hash);
    sodium_memzero(raw, sizeof(raw));
}

struct sn_keyring {
    pthread_rwlock_t lock;
    sn_api_key *keys; /* live keys sorted by hash */
    size_t n, cap;
};

static int hash_cmp(const void *a, const void *b)
{
    return memcmp(((const sn_api_key *)a)->hash, ((const sn_api_key *)b)->hash, SN_KEY_HASH_LEN);
}

sn_keyring *sn_keyring_new(void)
{
    if (sodium_init() < 0)
        return NULL;
    sn_keyring *kr = calloc(1, sizeof(*kr));
    if (kr != NULL)
        pthread_rwlock_init(&kr->lock, NULL);
    return kr;
}

void sn_keyring_free(sn_keyring *kr)
{
    if (kr == NULL)
        return;
    pthread_rwlock_destroy(&kr->lock);
    free(kr->keys);
    free(kr);
}

typedef struct {
    sn_api_key *keys;
    size_t n, cap;
} key_list;

static int collect(void *ctx, const sn_api_key *k)
{
    key_list *l = ctx;
    if (k->revoked)
        return 0;
    sn_api_key *keys = sn_grow(l->keys, &l->cap, l->n, sizeof(*keys), 16);
    if (keys == NULL)
        return SN_ENOMEM;
    l->keys = keys;
    l->keys[l->n++] = *k;
    return 0;
}

int sn_keyring_load(sn_keyring *kr, sn_store *s, char *err, size_t errlen)
{
    key_list l = {NULL, 0, 0};
    int rc = sn_store_list_keys(s, collect, &l, err, errlen);
    if (rc != SN_OK) {
        free(l.keys);
        return rc == SN_ENOMEM ? sn_fail(err, errlen, rc, "out of memory") : rc;
    }
    if (l.n > 1)
        qsort(l.keys, l.n, sizeof(*l.keys), hash_cmp);
    pthread_rwlock_wrlock(&kr->lock);
    sn_api_key *old = kr->keys;
    kr->keys = l.keys;
    kr->n = l.n;
    kr->cap = l.cap;
    pthread_rwlock_unlock(&kr->lock);
    free(old);
    return SN_OK;
}

void sn_keyring_put(sn_keyring *kr, const sn_api_key *k)
{
    pthread_rwlock_wrlock(&kr->lock);
    sn_api_key *hit = kr->n ? bsearch(k, kr->keys, kr->n, sizeof(*k), hash_cmp) : NULL;
    if (hit == NULL) { /* look by id too: a revocation carries no hash */
        for (size_t i = 0; i < kr->n; i++)
            if (kr->keys[i].id == k->id)
                hit = &kr->keys[i];
    }
    if (hit != NULL && k->revoked) {
        size_t i = (size_t)(hit - kr->keys);
        memmove(hit, hit + 1, (kr->n - i - 1) * sizeof(*hit));
        kr->n--;
    } else if (hit == NULL && !k->revoked) {
        sn_api_key *keys = sn_grow(kr->keys, &kr->cap, kr->n, sizeof(*keys), 16);
        if (keys == NULL) {
            pthread_rwlock_unlock(&kr->lock);
            return; /* the next reload adds it */
        }
        kr->keys = keys;
        kr->keys[kr->n++] = *k;
        qsort(kr->keys, kr->n, sizeof(*kr->keys), hash_cmp);
    }
    pthread_rwlock_unlock(&kr->lock);
}

/* The last key text this thread hashed, and its hash. A client sends the
 * same key on every request of its connection, and the router looks a key
 * up twice a request (from the head, then for the call): a repeat skips the
 * BLAKE2b. The texts are compared in constant time, so a request learns
 * nothing of what another client sent before it; only well-formed key
 * texts are kept. The keyring itself is searched every time, so a revoked
 * key is refused at once. */
static _Thread_local struct {
    int set;
    char text[SN_KEY_TEXT_LEN];
    uint8_t hash[SN_KEY_HASH_LEN];
} last;

static void hash_presented(const char *text, size_t len, uint8_t hash[SN_KEY_HASH_LEN])
{
    if (len != SN_KEY_TEXT_LEN) {
        sn_apikey_hash(text, len, hash);
        return;
    }
    /* OpenSSL's constant-time compare: libsodium's goes a byte at a time */
    if (last.set && CRYPTO_memcmp(last.text, text, len) == 0) {
        memcpy(hash, last.hash, SN_KEY_HASH_LEN);
        return;
    }
    sn_apikey_hash(text, len, hash);
    memcpy(last.text, text, len);
    memcpy(last.hash, hash, SN_KEY_HASH_LEN);
    last.set = 1;
}

int sn_keyring_find(sn_keyring *kr, const char *text, size_t len, sn_api_key *out)
{
    sn_api_key probe;
    hash_presented(text, len, probe.hash);
    pthread_rwlock_rdlock(&kr->lock);
    const sn_api_key *hit =
        kr->n ? bsearch(&probe, kr->keys, kr->n, sizeof(probe), hash_cmp) : NULL;
    if (hit != NULL)
        *out = *hit;
    pthread_rwlock_unlock(&kr->lock);
    return hit != NULL;
}

int sn_keyring_find_app(sn_keyring *kr, const char *app, sn_api_key *out)
{
    const sn_api_key *best = NULL;
    pthread_rwlock_rdlock(&kr->lock);
    for (size_t i = 0; i < kr->n; i++)
        if (kr->keys[i].role == SN_ROLE_APP && strcmp(kr->keys[i].name, app) == 0 &&
            (best == NULL || kr->keys[i].id < best->id))
            best = &kr->keys[i];
    if (best != NULL)
        *out = *best;
    pthread_rwlock_unlock(&kr->lock);
    return best != NULL;
}

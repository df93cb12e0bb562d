/*
 * numindex.c - sharded open-addressing maps for the serving index (see
 * numindex.h).
 *
 * Each map is SHARDS independent tables of (key, value) u64 pairs with
 * linear probing; key 0 marks an empty slot (no number or digest prefix is
 * 0: E.164 numbers are positive, and a 0 digest prefix is stored as 1). A
 * table doubles when three quarters full, under its shard's write lock, so
 * readers of other shards never wait. The digest maps may hold equal keys
 * for different numbers (an 8-byte prefix collision); lookups walk every
 * matching slot and confirm by hashing the candidate.
 */
#include "index/numindex.h"

#include "core/errors.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SHARD_BITS 6
#define SHARDS (1u << SHARD_BITS)
#define INITIAL_SLOTS 1024
#define DAY_BITS 20
#define DAY_MASK ((1u << DAY_BITS) - 1)

typedef struct {
    uint64_t key, val;
} slot;

typedef struct {
    pthread_rwlock_t lock;
    slot *slots;
    size_t mask; /* slots - 1 */
    size_t count;
} shard;

typedef struct {
    shard shards[SHARDS];
} map;

struct sn_numindex {
    map states; /* number -> packed state */
    map sha256; /* digest prefix -> number */
    map md5;
    /* For sn_numindex_put: the methods fetched once (OpenSSL 3 looks an
     * algorithm up on every init otherwise) and one context, under its lock. */
    EVP_MD *md5_method;
    EVP_MD *sha256_method;
    EVP_MD_CTX *digest_ctx;
    pthread_mutex_t digest_lock;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int map_init(map *m)
{
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &m->shards[i];
        if ((s->slots = calloc(INITIAL_SLOTS, sizeof(slot))) == NULL)
            return SN_ENOMEM;
        s->mask = INITIAL_SLOTS - 1;
        pthread_rwlock_init(&s->lock, NULL);
    }
    return SN_OK;
}

static void map_free(map *m)
{
    for (unsigned i = 0; i < SHARDS; i++) {
        if (m->shards[i].slots != NULL)
            pthread_rwlock_destroy(&m->shards[i].lock);
        free(m->shards[i].slots);
    }
}

static shard *shard_of(map *m, uint64_t h)
{
    return &m->shards[h >> (64 - SHARD_BITS)];
}

static int grow(shard *s)
{
    size_t n = (s->mask + 1) * 2;
    slot *slots = calloc(n, sizeof(slot));
    if (slots == NULL)
        return SN_ENOMEM;
    for (size_t i = 0; i <= s->mask; i++) {
        if (s->slots[i].key == 0)
            continue;
        size_t j = mix(s->slots[i].key) & (n - 1);
        while (slots[j].key != 0)
            j = (j + 1) & (n - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->mask = n - 1;
    return SN_OK;
}

/* Insert (key, val). With replace, an existing key gets the new value;
 * without, an identical pair is kept once and equal keys may repeat. */
static int map_put(map *m, uint64_t key, uint64_t val, int replace)
{
    uint64_t h = mix(key);
    shard *s = shard_of(m, h);
    int rc = SN_OK;
    pthread_rwlock_wrlock(&s->lock);
    if ((s->count + 1) * 4 > (s->mask + 1) * 3 && (rc = grow(s)) != SN_OK)
        goto out;
    size_t i = h & s->mask;
    for (; s->slots[i].key != 0; i = (i + 1) & s->mask) {
        if (s->slots[i].key == key && (replace || s->slots[i].val == val)) {
            s->slots[i].val = val;
            goto out;
        }
    }
    s->slots[i] = (slot){key, val};
    s->count++;
out:
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

/* Find key; with confirm, the first value that confirm accepts. */
static int map_get(map *m, uint64_t key, uint64_t *val, int (*confirm)(uint64_t, const void *),
                   const void *arg)
{
    uint64_t h = mix(key);
    shard *s = shard_of(m, h);
    int found = 0;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = h & s->mask; s->slots[i].key != 0; i = (i + 1) & s->mask) {
        if (s->slots[i].key == key && (confirm == NULL || confirm(s->slots[i].val, arg))) {
            *val = s->slots[i].val;
            found = 1;
            break;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return found;
}

static size_t map_count(map *m)
{
    size_t n = 0;
    for (unsigned i = 0; i < SHARDS; i++) {
        pthread_rwlock_rdlock(&m->shards[i].lock);
        n += m->shards[i].count;
        pthread_rwlock_unlock(&m->shards[i].lock);
    }
    return n;
}

sn_day sn_numindex_min_day(void)
{
    return sn_day_from_civil(1900, 1, 1);
}

/* Day d as 1..2^20-1, 0 for none; -1 when out of range. */
static int64_t encode_day(sn_day d)
{
    if (d == SN_DAY_NONE)
        return 0;
    int64_t e = (int64_t)d - sn_numindex_min_day() + 1;
    return e >= 1 && e <= DAY_MASK ? e : -1;
}

static sn_day decode_day(uint64_t e)
{
    return e == 0 ? SN_DAY_NONE : (sn_day)((int64_t)e - 1 + sn_numindex_min_day());
}

static int pack(const sn_number_state *st, uint64_t *out)
{
    int64_t a = encode_day(st->first_day), b = encode_day(st->last_activation_day),
            c = encode_day(st->last_cancel_day);
    if (a < 0 || b < 0 || c < 0)
        return SN_ELIMIT;
    *out = (uint64_t)st->status | (uint64_t)(st->first_is_activation != 0) << 3 |
           (uint64_t)a << 4 | (uint64_t)b << (4 + DAY_BITS) | (uint64_t)c << (4 + 2 * DAY_BITS);
    return SN_OK;
}

static void unpack(sn_number n, uint64_t v, sn_number_state *st)
{
    sn_state_init(st, n);
    st->status = (uint8_t)(v & 7);
    st->first_is_activation = (uint8_t)((v >> 3) & 1);
    st->first_day = decode_day((v >> 4) & DAY_MASK);
    st->last_activation_day = decode_day((v >> (4 + DAY_BITS)) & DAY_MASK);
    st->last_cancel_day = decode_day((v >> (4 + 2 * DAY_BITS)) & DAY_MASK);
}

/* "+<digits>" without printf: this runs for every number at startup. */
static size_t e164_text(sn_number n, char *buf)
{
    char digits[20];
    size_t len = 0;
    do {
        digits[len++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    buf[0] = '+';
    for (size_t i = 0; i < len; i++)
        buf[1 + i] = digits[len - 1 - i];
    buf[len + 1] = '\0';
    return len + 1;
}

/* The digest of n's E.164 text with an EVP method (OpenSSL's SHA-256 uses the
 * CPU's SHA instructions; libsodium's is portable C). */
static void digest_with(EVP_MD_CTX *ctx, const EVP_MD *method, sn_number n, uint8_t *digest)
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = e164_text(n, text);
    unsigned int out = 0;
    EVP_DigestInit_ex(ctx, method, NULL);
    EVP_DigestUpdate(ctx, text, len);
    EVP_DigestFinal_ex(ctx, digest, &out);
}

void sn_number_sha256(sn_number n, uint8_t digest[32])
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = e164_text(n, text);
    crypto_hash_sha256(digest, (const uint8_t *)text, len);
}

void sn_number_md5(sn_number n, uint8_t digest[16])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        memset(digest, 0, 16);
        return;
    }
    digest_with(ctx, EVP_md5(), n, digest);
    EVP_MD_CTX_free(ctx);
}

static uint64_t prefix_key(const uint8_t *digest)
{
    uint64_t k;
    memcpy(&k, digest, sizeof(k));
    return k == 0 ? 1 : k;
}

static int confirm_sha256(uint64_t number, const void *digest)
{
    uint8_t d[32];
    sn_number_sha256(number, d);
    return memcmp(d, digest, 32) == 0;
}

static int confirm_md5(uint64_t number, const void *digest)
{
    uint8_t d[16];
    sn_number_md5(number, d);
    return memcmp(d, digest, 16) == 0;
}

sn_numindex *sn_numindex_new(void)
{
    sn_numindex *ix = calloc(1, sizeof(*ix));
    if (ix == NULL || sodium_init() < 0)
        goto fail;
    if (map_init(&ix->states) != SN_OK || map_init(&ix->sha256) != SN_OK ||
        map_init(&ix->md5) != SN_OK)
        goto fail;
    pthread_mutex_init(&ix->digest_lock, NULL);
    ix->md5_method = EVP_MD_fetch(NULL, "MD5", NULL);
    ix->sha256_method = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (ix->md5_method == NULL || ix->sha256_method == NULL ||
        (ix->digest_ctx = EVP_MD_CTX_new()) == NULL)
        goto fail;
    return ix;
fail:
    sn_numindex_free(ix);
    return NULL;
}

void sn_numindex_free(sn_numindex *ix)
{
    if (ix == NULL)
        return;
    map_free(&ix->states);
    map_free(&ix->sha256);
    map_free(&ix->md5);
    if (ix->md5_method != NULL) { /* set only after the mutex was initialised */
        EVP_MD_CTX_free(ix->digest_ctx);
        EVP_MD_free(ix->md5_method);
        EVP_MD_free(ix->sha256_method);
        pthread_mutex_destroy(&ix->digest_lock);
    }
    free(ix);
}

/* ---- bulk loading -------------------------------------------------------- */

/* Size every shard of m for `count[shard]` keys at most 3/4 full. */
static int presize(map *m, const size_t *count)
{
    for (unsigned i = 0; i < SHARDS; i++) {
        size_t want = INITIAL_SLOTS;
        while (want * 3 < (count[i] + 1) * 4)
            want *= 2;
        if (want <= m->shards[i].mask + 1)
            continue;
        slot *slots = calloc(want, sizeof(slot));
        if (slots == NULL)
            return SN_ENOMEM;
        free(m->shards[i].slots);
        m->shards[i].slots = slots;
        m->shards[i].mask = want - 1;
    }
    return SN_OK;
}

/* Insert into a presized, unshared map (no locks, no growth); replace as
 * in map_put. */
static void put_unshared(map *m, uint64_t key, uint64_t val, int replace)
{
    uint64_t h = mix(key);
    shard *s = shard_of(m, h);
    size_t i = h & s->mask;
    while (s->slots[i].key != 0) {
        if (s->slots[i].key == key && (replace || s->slots[i].val == val)) {
            s->slots[i].val = val;
            return;
        }
        i = (i + 1) & s->mask;
    }
    s->slots[i] = (slot){key, val};
    s->count++;
}

static void count_shards(const uint64_t *keys, size_t n, size_t *count)
{
    memset(count, 0, SHARDS * sizeof(*count));
    for (size_t i = 0; i < n; i++)
        count[mix(keys[i]) >> (64 - SHARD_BITS)]++;
}

typedef struct {
    sn_numindex *ix;
    const sn_number_state *states;
    size_t n;
    int rc;
} digest_job;

/* Build both digest maps (second thread of sn_numindex_load). */
static void *load_digests(void *arg)
{
    digest_job *j = arg;
    uint64_t *sha_keys = malloc(j->n * sizeof(*sha_keys)), *md5_keys = malloc(j->n * sizeof(*md5_keys));
    size_t count[SHARDS];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    j->rc = SN_ENOMEM;
    if (sha_keys == NULL || md5_keys == NULL || ctx == NULL)
        goto out;
    for (size_t i = 0; i < j->n; i++) {
        uint8_t sha[32], md5[16];
        digest_with(ctx, j->ix->sha256_method, j->states[i].number, sha);
        digest_with(ctx, j->ix->md5_method, j->states[i].number, md5);
        sha_keys[i] = prefix_key(sha);
        md5_keys[i] = prefix_key(md5);
    }
    count_shards(sha_keys, j->n, count);
    if (presize(&j->ix->sha256, count) != SN_OK)
        goto out;
    count_shards(md5_keys, j->n, count);
    if (presize(&j->ix->md5, count) != SN_OK)
        goto out;
    for (size_t i = 0; i < j->n; i++) {
        put_unshared(&j->ix->sha256, sha_keys[i], j->states[i].number, 0);
        put_unshared(&j->ix->md5, md5_keys[i], j->states[i].number, 0);
    }
    j->rc = SN_OK;
out:
    EVP_MD_CTX_free(ctx);
    free(sha_keys);
    free(md5_keys);
    return NULL;
}

int sn_numindex_load(sn_numindex *ix, const sn_number_state *states, size_t n)
{
    digest_job job = {ix, states, n, SN_OK};
    size_t count[SHARDS] = {0};
    pthread_t digests;
    uint64_t packed;
    int rc, threaded;

    threaded = pthread_create(&digests, NULL, load_digests, &job) == 0;
    if (!threaded)
        load_digests(&job);
    for (size_t i = 0; i < n; i++)
        count[mix(states[i].number) >> (64 - SHARD_BITS)]++;
    rc = presize(&ix->states, count);
    for (size_t i = 0; rc == SN_OK && i < n; i++) {
        if ((rc = pack(&states[i], &packed)) == SN_OK)
            put_unshared(&ix->states, states[i].number, packed, 1);
    }
    if (threaded)
        pthread_join(digests, NULL);
    return rc != SN_OK ? rc : job.rc;
}

int sn_numindex_put(sn_numindex *ix, const sn_number_state *st)
{
    uint64_t packed, old;
    uint8_t sha[32], md5[16];
    int rc;
    if ((rc = pack(st, &packed)) != SN_OK)
        return rc;
    int known = map_get(&ix->states, st->number, &old, NULL, NULL);
    if (!known) { /* digests never change: add them once, before the state is visible */
        pthread_mutex_lock(&ix->digest_lock);
        digest_with(ix->digest_ctx, ix->sha256_method, st->number, sha);
        digest_with(ix->digest_ctx, ix->md5_method, st->number, md5);
        pthread_mutex_unlock(&ix->digest_lock);
        if ((rc = map_put(&ix->sha256, prefix_key(sha), st->number, 0)) != SN_OK ||
            (rc = map_put(&ix->md5, prefix_key(md5), st->number, 0)) != SN_OK)
            return rc;
    }
    return map_put(&ix->states, st->number, packed, 1);
}

int sn_numindex_get(sn_numindex *ix, sn_number n, sn_number_state *out)
{
    uint64_t v;
    if (!map_get(&ix->states, n, &v, NULL, NULL)) {
        sn_state_init(out, n);
        return 0;
    }
    unpack(n, v, out);
    return 1;
}

int sn_numindex_find_sha256(sn_numindex *ix, const uint8_t digest[32], sn_number *out)
{
    uint64_t v;
    if (!map_get(&ix->sha256, prefix_key(digest), &v, confirm_sha256, digest))
        return 0;
    *out = v;
    return 1;
}

int sn_numindex_find_md5(sn_numindex *ix, const uint8_t digest[16], sn_number *out)
{
    uint64_t v;
    if (!map_get(&ix->md5, prefix_key(digest), &v, confirm_md5, digest))
        return 0;
    *out = v;
    return 1;
}

size_t sn_numindex_count(sn_numindex *ix)
{
    return map_count(&ix->states);
}

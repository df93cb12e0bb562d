/*
 * numindex.c - the serving index (see numindex.h): the states in the
 * compact blocks of blocks.c, as 64-bit packed values (status, first is an
 * activation, three 20-bit days from 1900-01-01); the digest maps in
 * sharded open-addressing maps.
 *
 * Each map is SHARDS independent tables of (key, value) u64 pairs with
 * linear probing; key 0 marks an empty slot (no number or digest prefix is
 * 0: E.164 numbers are positive, and a 0 digest prefix is stored as 1). A
 * key's hash picks its shard by its top SHARD_BITS and its home slot by the
 * bits below them. The hash is sn_mix64(key), except in the SHA-256 map, whose
 * keys (the digest's first 8 bytes, big-endian) are uniform already and are
 * their own hash: there the home slots follow the digest's order, so the
 * entries of one digest prefix sit in one run of slots (the range check:
 * sn_numindex_range_sha256 reads that run, not the map). A
 * table doubles when three quarters full, under its shard's write lock, so
 * readers of other shards never wait. The digest maps may hold equal keys
 * for different numbers (an 8-byte prefix collision); lookups walk every
 * matching slot and confirm by hashing the candidate. Updates go in
 * batches, a shard at a time with the slots fetched ahead (see "updates in
 * batches"): an update's cost is its cache misses.
 */
#include "index/numindex.h"

#include "core/errors.h"
#include "util/mix.h"
#include "index/blocks.h"
#include "util/thread.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
    size_t mask;   /* slots - 1 */
    unsigned bits; /* log2(slots) */
    size_t count;
    slot *spare;     /* NULL, or a zeroed table of 2 * (mask + 1) slots */
    int spare_asked; /* queued for the helper, or being made by it */
} shard;

/* Growing ahead: a helper thread makes a shard's next table (the costly
 * part of a doubling, the kernel zeroing new memory: bench/index.c, 1M new
 * numbers into 12M take 4x the time they take into 13M) once the shard is past
 * ASK_SPARE full, outside any shard lock, so that the doubling itself is
 * only the rehash. Started on the first request; a shard whose spare is not
 * ready in time grows as before. */
#define ASK_SPARE_NUM 11 /* 11/16 full: ahead of the 3/4 doubling mark */
#define ASK_SPARE_DEN 16

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    shard *asked[3 * SHARDS]; /* each shard is queued at most once */
    size_t nasked;
    int started, stopping;
    pthread_t tid;
} helper;

typedef struct {
    shard shards[SHARDS];
    helper *helper;
    int ordered; /* keys are their own hash (the SHA-256 map) */
} map;

/* One context per algorithm, each set up once: starting a context again
 * with its own algorithm reuses its state, while switching algorithms frees
 * and allocates it. */
typedef struct {
    EVP_MD_CTX *sha256, *md5, *sm3;
} digester;

struct sn_numindex {
    sn_blocks *states; /* number -> packed state, compact (blocks.h) */
    map sha256;        /* digest prefix -> number */
    map md5;
    map sm3;
    /* For sn_numindex_put: the methods fetched once (OpenSSL 3 looks an
     * algorithm up on every init otherwise) and a digester, under its lock. */
    EVP_MD *md5_method;
    EVP_MD *sha256_method;
    EVP_MD *sm3_method;
    digester digests;
    pthread_mutex_t digest_lock;
    helper helper;  /* makes the four maps' spares */
    int no_digests; /* the digest maps are left out: they stay empty */
};

/* Slot tables of 2 MiB or more are aligned to and backed by huge pages where
 * the kernel allows it (transparent huge pages in "madvise" mode, Debian's
 * default): a lookup into a table of hundreds of MiB otherwise misses the
 * TLB too, and on a virtual machine each such miss walks two page tables. */
#define HUGE_PAGE (2u << 20)

static slot *slots_new(size_t n)
{
    size_t bytes = n * sizeof(slot);
    void *p = NULL;
    if (bytes < HUGE_PAGE)
        return calloc(n, sizeof(slot));
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
        return NULL;
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: small pages still work */
    memset(p, 0, bytes);
    return p;
}

/* The hash of key in m: itself in an ordered map. */
static uint64_t hash_of(int ordered, uint64_t key)
{
    return ordered ? key : sn_mix64(key);
}

/* The home slot of hash h in s: the bits below the shard's. */
static size_t home(const shard *s, uint64_t h)
{
    return (size_t)((h << SHARD_BITS) >> (64 - s->bits));
}

static unsigned log2_of(size_t n)
{
    unsigned b = 0;
    while (((size_t)1 << b) < n)
        b++;
    return b;
}

static int map_init(map *m, int ordered)
{
    m->ordered = ordered;
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &m->shards[i];
        if ((s->slots = slots_new(INITIAL_SLOTS)) == NULL)
            return SN_ENOMEM;
        s->mask = INITIAL_SLOTS - 1;
        s->bits = log2_of(INITIAL_SLOTS);
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
        free(m->shards[i].spare);
    }
}

static shard *shard_of(map *m, uint64_t h)
{
    return &m->shards[h >> (64 - SHARD_BITS)];
}

static int grow(shard *s, int ordered)
{
    size_t n = (s->mask + 1) * 2;
    slot *slots = s->spare != NULL ? s->spare : slots_new(n);
    s->spare = NULL;
    if (slots == NULL)
        return SN_ENOMEM;
    shard bigger = {.bits = s->bits + 1};
    for (size_t i = 0; i <= s->mask; i++) {
        if (s->slots[i].key == 0)
            continue;
        size_t j = home(&bigger, hash_of(ordered, s->slots[i].key));
        while (slots[j].key != 0)
            j = (j + 1) & (n - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->mask = n - 1;
    s->bits++;
    return SN_OK;
}

/* Insert (key, val) with hash h into s, which has room (the caller holds
 * its write lock, or owns the map). With replace, an existing key gets the
 * new value; without, an identical pair is kept once and equal keys may
 * repeat. */
static void insert(shard *s, uint64_t h, uint64_t key, uint64_t val, int replace)
{
    size_t i = home(s, h);
    for (; s->slots[i].key != 0; i = (i + 1) & s->mask) {
        if (s->slots[i].key == key && (replace || s->slots[i].val == val)) {
            s->slots[i].val = val;
            return;
        }
    }
    s->slots[i] = (slot){key, val};
    s->count++;
}

/* Make room in s for `more` keys at most 3/4 full. */
static int reserve(shard *s, size_t more, int ordered)
{
    int rc = SN_OK;
    while (rc == SN_OK && (s->count + more) * 4 > (s->mask + 1) * 3)
        rc = grow(s, ordered);
    return rc;
}

/* ---- growing ahead (the helper thread) ---------------------------------- */

/* Make the spare of s: size read under its lock, memory zeroed outside it. */
static void make_spare(shard *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = (s->mask + 1) * 2;
    pthread_rwlock_unlock(&s->lock);
    slot *spare = slots_new(n);
    pthread_rwlock_wrlock(&s->lock);
    if (s->spare == NULL && (s->mask + 1) * 2 == n) { /* else the shard grew meanwhile */
        s->spare = spare;
        spare = NULL;
    }
    s->spare_asked = 0;
    pthread_rwlock_unlock(&s->lock);
    free(spare);
}

static void *helper_main(void *arg)
{
    helper *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        if (h->nasked == 0) {
            pthread_cond_wait(&h->wake, &h->lock);
            continue;
        }
        shard *s = h->asked[--h->nasked];
        pthread_mutex_unlock(&h->lock);
        make_spare(s);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* With s write-locked: past the mark and no spare yet, queue s for one. */
static void ask_spare(helper *h, shard *s)
{
    if (h == NULL || s->spare != NULL || s->spare_asked ||
        s->count * ASK_SPARE_DEN < (s->mask + 1) * ASK_SPARE_NUM)
        return;
    pthread_mutex_lock(&h->lock);
    if (!h->started && !h->stopping)
        h->started = sn_thread_start(&h->tid, helper_main, h) == 0;
    if (h->started && h->nasked < sizeof(h->asked) / sizeof(h->asked[0])) {
        s->spare_asked = 1;
        h->asked[h->nasked++] = s;
        pthread_cond_signal(&h->wake);
    }
    pthread_mutex_unlock(&h->lock);
}

static void helper_stop(helper *h)
{
    if (h->started)
        sn_thread_stop(&h->lock, &h->wake, &h->stopping, h->tid);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
}

/* Find key; with confirm, the first value that confirm accepts. */
static int map_get(map *m, uint64_t key, uint64_t *val, int (*confirm)(uint64_t, const void *),
                   const void *arg)
{
    uint64_t h = hash_of(m->ordered, key);
    shard *s = shard_of(m, h);
    int found = 0;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = home(s, h); s->slots[i].key != 0; i = (i + 1) & s->mask) {
        if (s->slots[i].key == key && (confirm == NULL || confirm(s->slots[i].val, arg))) {
            *val = s->slots[i].val;
            found = 1;
            break;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return found;
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
    *out = (uint64_t)st->status | (uint64_t)(st->first_is_activation != 0) << 3 | (uint64_t)a << 4 |
           (uint64_t)b << (4 + DAY_BITS) | (uint64_t)c << (4 + 2 * DAY_BITS);
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

static uint64_t prefix_key(const uint8_t *digest)
{
    uint64_t k;
    memcpy(&k, digest, sizeof(k));
    return k == 0 ? 1 : k;
}

/* The SHA-256 map's key: the first 8 bytes read big-endian, so that the
 * key's order (and its home slot's) is the digest's. */
static uint64_t ordered_key(const uint8_t *digest)
{
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | digest[i];
    return k == 0 ? 1 : k;
}

/* Index digests go through OpenSSL (its SHA-256 uses the CPU's SHA
 * instructions; libsodium's is portable C). */
static void digester_close(digester *d)
{
    EVP_MD_CTX_free(d->sha256);
    EVP_MD_CTX_free(d->md5);
    EVP_MD_CTX_free(d->sm3);
    d->sha256 = d->md5 = d->sm3 = NULL;
}

static int digester_open(digester *d, const sn_numindex *ix)
{
    d->sha256 = EVP_MD_CTX_new();
    d->md5 = EVP_MD_CTX_new();
    d->sm3 = EVP_MD_CTX_new();
    if (d->sha256 != NULL && d->md5 != NULL && d->sm3 != NULL &&
        EVP_DigestInit_ex2(d->sha256, ix->sha256_method, NULL) == 1 &&
        EVP_DigestInit_ex2(d->md5, ix->md5_method, NULL) == 1 &&
        EVP_DigestInit_ex2(d->sm3, ix->sm3_method, NULL) == 1)
        return SN_OK;
    digester_close(d);
    return SN_ENOMEM;
}

static uint64_t digest_prefix(EVP_MD_CTX *ctx, const char *text, size_t len,
                              uint64_t (*key)(const uint8_t *))
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int out = 0;
    EVP_DigestInit_ex2(ctx, NULL, NULL); /* the context's own algorithm again */
    EVP_DigestUpdate(ctx, text, len);
    EVP_DigestFinal_ex(ctx, digest, &out);
    return key(digest);
}

/* The digest-map keys of one number: SHA-256, MD5, SM3. */
typedef struct {
    uint64_t sha, md5, sm3;
} digest_key3;

static void digest_keys(digester *d, sn_number n, digest_key3 *k)
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = e164_text(n, text);
    k->sha = digest_prefix(d->sha256, text, len, ordered_key);
    k->md5 = digest_prefix(d->md5, text, len, prefix_key);
    k->sm3 = digest_prefix(d->sm3, text, len, prefix_key);
}

void sn_number_sha256(sn_number n, uint8_t digest[32])
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = e164_text(n, text);
    crypto_hash_sha256(digest, (const uint8_t *)text, len);
}

void sn_number_md5(sn_number n, uint8_t digest[16])
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = e164_text(n, text);
    if (EVP_Digest(text, len, digest, NULL, EVP_md5(), NULL) != 1)
        memset(digest, 0, 16);
}

void sn_number_sm3(sn_number n, uint8_t digest[32])
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = e164_text(n, text);
    if (EVP_Digest(text, len, digest, NULL, EVP_sm3(), NULL) != 1)
        memset(digest, 0, 32);
}

static int confirm_sm3(uint64_t number, const void *digest)
{
    uint8_t d[32];
    sn_number_sm3(number, d);
    return memcmp(d, digest, 32) == 0;
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
    if ((ix->states = sn_blocks_new()) == NULL || map_init(&ix->sha256, 1) != SN_OK ||
        map_init(&ix->md5, 0) != SN_OK || map_init(&ix->sm3, 0) != SN_OK)
        goto fail;
    pthread_mutex_init(&ix->digest_lock, NULL);
    pthread_mutex_init(&ix->helper.lock, NULL);
    pthread_cond_init(&ix->helper.wake, NULL);
    ix->sha256.helper = ix->md5.helper = ix->sm3.helper = &ix->helper;
    ix->md5_method = EVP_MD_fetch(NULL, "MD5", NULL);
    ix->sha256_method = EVP_MD_fetch(NULL, "SHA256", NULL);
    ix->sm3_method = EVP_MD_fetch(NULL, "SM3", NULL);
    if (ix->md5_method == NULL || ix->sha256_method == NULL || ix->sm3_method == NULL ||
        digester_open(&ix->digests, ix) != SN_OK)
        goto fail;
    return ix;
fail:
    sn_numindex_free(ix);
    return NULL;
}

void sn_numindex_without_digests(sn_numindex *ix)
{
    map *digest_maps[3] = {&ix->sha256, &ix->md5, &ix->sm3};
    for (int d = 0; d < 3; d++) {
        map_free(digest_maps[d]);
        memset(digest_maps[d]->shards, 0, sizeof(digest_maps[d]->shards));
    }
    ix->no_digests = 1;
}

int sn_numindex_has_digests(const sn_numindex *ix)
{
    return !ix->no_digests;
}

void sn_numindex_free(sn_numindex *ix)
{
    if (ix == NULL)
        return;
    if (ix->sha256.helper != NULL)
        helper_stop(&ix->helper); /* before the shards it may be filling go */
    sn_blocks_free(ix->states);
    map_free(&ix->sha256);
    map_free(&ix->md5);
    map_free(&ix->sm3);
    if (ix->md5_method != NULL) { /* set only after the mutex was initialised */
        digester_close(&ix->digests);
        EVP_MD_free(ix->md5_method);
        EVP_MD_free(ix->sha256_method);
        EVP_MD_free(ix->sm3_method); /* NULL-safe */
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
        slot *slots = slots_new(want);
        if (slots == NULL)
            return SN_ENOMEM;
        free(m->shards[i].slots);
        m->shards[i].slots = slots;
        m->shards[i].mask = want - 1;
        m->shards[i].bits = log2_of(want);
    }
    return SN_OK;
}

/* Insert into a presized, unshared map (no locks, no growth). */
static void put_unshared(map *m, uint64_t key, uint64_t val, int replace)
{
    uint64_t h = hash_of(m->ordered, key);
    insert(shard_of(m, h), h, key, val, replace);
}

static void count_shards(const map *m, const uint64_t *keys, size_t n, size_t *count)
{
    memset(count, 0, SHARDS * sizeof(*count));
    for (size_t i = 0; i < n; i++)
        count[hash_of(m->ordered, keys[i]) >> (64 - SHARD_BITS)]++;
}

typedef struct {
    sn_numindex *ix;
    const uint64_t *numbers;
    size_t n;
    int rc;
} digest_job;

/* Build the digest maps (second thread of sn_numindex_load). */
static void *load_digests(void *arg)
{
    digest_job *j = arg;
    map *maps[3] = {&j->ix->sha256, &j->ix->md5, &j->ix->sm3};
    uint64_t *keys = malloc(3 * j->n * sizeof(*keys) + 1); /* sha, md5, sm3: n each */
    size_t count[SHARDS];
    digester d = {NULL, NULL, NULL};
    j->rc = SN_ENOMEM;
    if (keys == NULL || digester_open(&d, j->ix) != SN_OK)
        goto out;
    for (size_t i = 0; i < j->n; i++) {
        digest_key3 k;
        digest_keys(&d, j->numbers[i], &k);
        keys[i] = k.sha, keys[j->n + i] = k.md5, keys[2 * j->n + i] = k.sm3;
    }
    for (int m = 0; m < 3; m++) {
        count_shards(maps[m], keys + m * j->n, j->n, count);
        if (presize(maps[m], count) != SN_OK)
            goto out;
        for (size_t i = 0; i < j->n; i++)
            put_unshared(maps[m], keys[m * j->n + i], j->numbers[i], 0);
    }
    j->rc = SN_OK;
out:
    digester_close(&d);
    free(keys);
    return NULL;
}

int sn_numindex_load_add(sn_numindex *ix, const sn_number_state *st)
{
    uint64_t packed;
    int rc = pack(st, &packed);
    return rc != SN_OK ? rc : sn_blocks_load_add(ix->states, st->number, packed);
}

typedef struct {
    uint64_t *v;
    size_t n;
} number_list;

static int list_number(void *ctx, uint64_t n)
{
    number_list *l = ctx;
    l->v[l->n++] = n;
    return 0;
}

int sn_numindex_load_end(sn_numindex *ix)
{
    int rc = sn_blocks_load_end(ix->states);
    if (rc != SN_OK || ix->no_digests)
        return rc;
    /* the digest maps from the numbers now in the blocks */
    number_list l = {malloc(sn_blocks_count(ix->states) * sizeof(uint64_t) + 1), 0};
    if (l.v == NULL)
        return SN_ENOMEM;
    sn_blocks_each(ix->states, list_number, &l);
    digest_job job = {ix, l.v, l.n, SN_OK};
    load_digests(&job);
    free(l.v);
    return job.rc;
}

sn_blocks *sn_numindex_states(sn_numindex *ix)
{
    return ix->states;
}

int sn_numindex_adopt_states(sn_numindex *ix, sn_blocks *b)
{
    sn_blocks_free(ix->states);
    ix->states = b;
    int rc = sn_numindex_load_end(ix); /* sorted and trimmed already: counts and digests */
    if (rc != SN_OK) {
        sn_blocks_free(ix->states);
        ix->states = sn_blocks_new(); /* NULL only when out of memory, as failed anyway */
    }
    return rc;
}

int sn_numindex_load(sn_numindex *ix, const sn_number_state *states, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = sn_numindex_load_add(ix, &states[i]);
        if (rc != SN_OK)
            return rc;
    }
    return sn_numindex_load_end(ix);
}

/* ---- updates in batches ---------------------------------------------------
 *
 * An update touches up to three random slots per number in tables of
 * hundreds of MiB, so its cost is cache misses. A batch is put shard by
 * shard (one lock per shard, not per key) and prefetches the slot a few keys
 * ahead, so the misses overlap instead of following one another. */

#define PREFETCH_AHEAD 8

/* A batch's keys grouped by shard, in batch order within a shard (so a
 * later state of the same number still wins): the keys of shard s are
 * order[first[s] .. first[s + 1]). */
typedef struct {
    uint64_t *hash;
    uint32_t *order;
    size_t first[SHARDS + 1];
} plan;

static void plan_keys(plan *p, int ordered, const uint64_t *keys, size_t n)
{
    size_t next[SHARDS];
    memset(p->first, 0, sizeof(p->first));
    for (size_t i = 0; i < n; i++) {
        p->hash[i] = hash_of(ordered, keys[i]);
        p->first[(p->hash[i] >> (64 - SHARD_BITS)) + 1]++;
    }
    for (unsigned s = 0; s < SHARDS; s++)
        p->first[s + 1] += p->first[s];
    memcpy(next, p->first, sizeof(next));
    for (size_t i = 0; i < n; i++)
        p->order[next[p->hash[i] >> (64 - SHARD_BITS)]++] = (uint32_t)i;
}

static void prefetch_slot(const shard *s, const plan *p, size_t k, size_t end)
{
    if (k < end)
        __builtin_prefetch(&s->slots[home(s, p->hash[p->order[k]])]);
}

/* On entering a shard (its lock held): the slots of its first keys. */
static void prefetch_first(const shard *s, const plan *p, size_t k, size_t end)
{
    for (size_t ahead = 0; ahead < PREFETCH_AHEAD; ahead++)
        prefetch_slot(s, p, k + ahead, end);
}

/* Insert (keys[i], vals[i]) for every i < n, as insert() does. */
static int map_put_many(map *m, plan *p, const uint64_t *keys, const uint64_t *vals, size_t n,
                        int replace)
{
    plan_keys(p, m->ordered, keys, n);
    for (unsigned si = 0; si < SHARDS; si++) {
        shard *s = &m->shards[si];
        size_t end = p->first[si + 1];
        int rc;
        if (p->first[si] == end)
            continue;
        pthread_rwlock_wrlock(&s->lock);
        if ((rc = reserve(s, end - p->first[si], m->ordered)) != SN_OK) {
            pthread_rwlock_unlock(&s->lock);
            return rc;
        }
        prefetch_first(s, p, p->first[si], end);
        for (size_t k = p->first[si]; k < end; k++) {
            uint32_t i = p->order[k];
            prefetch_slot(s, p, k + PREFETCH_AHEAD, end);
            insert(s, p->hash[i], keys[i], vals[i], replace);
        }
        ask_spare(m->helper, s);
        pthread_rwlock_unlock(&s->lock);
    }
    return SN_OK;
}

/* The digest prefixes of the numbers not in the index yet (known[i] clear),
 * as (sha256, md5, sm3 prefix, number) at the front of keys[0..2] and
 * owners. Returns how many. */
static size_t digest_new(sn_numindex *ix, const uint64_t *numbers, const uint8_t *known, size_t n,
                         uint64_t *keys[3], uint64_t *owners)
{
    size_t u = 0;
    if (ix->no_digests)
        return 0;
    pthread_mutex_lock(&ix->digest_lock);
    for (size_t i = 0; i < n; i++) {
        digest_key3 k;
        if (known[i])
            continue;
        digest_keys(&ix->digests, numbers[i], &k);
        keys[0][u] = k.sha, keys[1][u] = k.md5, keys[2][u] = k.sm3;
        owners[u++] = numbers[i];
    }
    pthread_mutex_unlock(&ix->digest_lock);
    return u;
}

int sn_numindex_put_many(sn_numindex *ix, const sn_number_state *states, size_t n)
{
    /* one block: numbers, packed, hash, sha, md5, sm3, owners (u64); order (u32); known (u8) */
    uint64_t *numbers = malloc(n * (7 * sizeof(uint64_t) + sizeof(uint32_t) + 1) + 1);
    if (numbers == NULL)
        return SN_ENOMEM;
    uint64_t *packed = numbers + n, *keys[3] = {numbers + 3 * n, numbers + 4 * n, numbers + 5 * n},
             *owners = numbers + 6 * n;
    map *digest_maps[3] = {&ix->sha256, &ix->md5, &ix->sm3};
    plan p = {.hash = numbers + 2 * n, .order = (uint32_t *)(numbers + 7 * n)};
    uint8_t *known = (uint8_t *)(p.order + n);
    size_t m = 0, u;
    int rc = SN_OK, failed = SN_OK;

    for (size_t i = 0; i < n; i++) { /* a state whose days do not fit is left out */
        if (pack(&states[i], &packed[m]) != SN_OK) {
            failed = SN_ELIMIT;
            continue;
        }
        numbers[m++] = states[i].number;
    }
    for (size_t i = 0; i < m; i++) {
        uint64_t was;
        known[i] = (uint8_t)sn_blocks_get(ix->states, numbers[i], &was);
    }
    /* digests never change: add a new number's once, before its state is visible */
    u = digest_new(ix, numbers, known, m, keys, owners);
    for (int d = 0; d < 3 && rc == SN_OK; d++)
        rc = map_put_many(digest_maps[d], &p, keys[d], owners, u, 0);
    if (rc == SN_OK)
        rc = sn_blocks_put_many(ix->states, numbers, packed, m);
    free(numbers);
    return rc != SN_OK ? rc : failed;
}

/* One key, as map_put_many does for many (no plan, no allocation: the
 * follower puts other nodes' changes one at a time). */
static int map_put(map *m, uint64_t key, uint64_t val, int replace)
{
    uint64_t h = hash_of(m->ordered, key);
    shard *s = shard_of(m, h);
    pthread_rwlock_wrlock(&s->lock);
    int rc = reserve(s, 1, m->ordered);
    if (rc == SN_OK) {
        insert(s, h, key, val, replace);
        ask_spare(m->helper, s);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int sn_numindex_put(sn_numindex *ix, const sn_number_state *st)
{
    uint64_t packed, old, sha, md5, sm3, owner, *keys[3] = {&sha, &md5, &sm3};
    int rc;
    if ((rc = pack(st, &packed)) != SN_OK)
        return rc;
    uint8_t known = (uint8_t)sn_blocks_get(ix->states, st->number, &old);
    if (digest_new(ix, &st->number, &known, 1, keys, &owner) == 1 && /* new number */
        ((rc = map_put(&ix->sha256, sha, owner, 0)) != SN_OK ||
         (rc = map_put(&ix->md5, md5, owner, 0)) != SN_OK ||
         (rc = map_put(&ix->sm3, sm3, owner, 0)) != SN_OK))
        return rc;
    return sn_blocks_put_many(ix->states, &st->number, &packed, 1);
}

int sn_numindex_get(sn_numindex *ix, sn_number n, sn_number_state *out)
{
    uint64_t v;
    if (!sn_blocks_get(ix->states, n, &v)) {
        sn_state_init(out, n);
        return 0;
    }
    unpack(n, v, out);
    return 1;
}

int sn_numindex_find_sha256(sn_numindex *ix, const uint8_t digest[32], sn_number *out)
{
    uint64_t v;
    if (ix->no_digests || !map_get(&ix->sha256, ordered_key(digest), &v, confirm_sha256, digest))
        return 0;
    *out = v;
    return 1;
}

int sn_numindex_find_md5(sn_numindex *ix, const uint8_t digest[16], sn_number *out)
{
    uint64_t v;
    if (ix->no_digests || !map_get(&ix->md5, prefix_key(digest), &v, confirm_md5, digest))
        return 0;
    *out = v;
    return 1;
}

int sn_numindex_find_sm3(sn_numindex *ix, const uint8_t digest[32], sn_number *out)
{
    uint64_t v;
    if (ix->no_digests || !map_get(&ix->sm3, prefix_key(digest), &v, confirm_sm3, digest))
        return 0;
    *out = v;
    return 1;
}

/* The numbers of shard s whose ordered key has these top `SN_RANGE_PREFIX_BITS`
 * bits, into out[0..max); returns how many there are, up to max + 1. Every
 * key with the prefix has its home in [a, b], and sits at or after its home
 * with no empty slot between (linear probing), so the run from a to the
 * first empty slot after b holds them all. */
static size_t range_scan(const shard *s, uint64_t prefix, sn_number *out, size_t max)
{
    unsigned shift = 64 - SN_RANGE_PREFIX_BITS;
    uint64_t lo = prefix << shift, hi = lo | ((UINT64_C(1) << shift) - 1);
    size_t a = home(s, lo), span = home(s, hi) - a, found = 0;
    for (size_t j = 0; j <= s->mask && found <= max; j++) {
        const slot *e = &s->slots[(a + j) & s->mask];
        if (e->key == 0) {
            if (j >= span)
                break;
            continue;
        }
        if (e->key >> shift == prefix) {
            if (found < max)
                out[found] = e->val;
            found++;
        }
    }
    return found;
}

int sn_numindex_range_sha256(sn_numindex *ix, uint32_t prefix, sn_number *out, size_t max,
                             size_t *n)
{
    uint64_t p = prefix & ((UINT32_C(1) << SN_RANGE_PREFIX_BITS) - 1);
    *n = 0;
    if (ix->no_digests)
        return SN_OK;
    shard *s = shard_of(&ix->sha256, p << (64 - SN_RANGE_PREFIX_BITS));
    pthread_rwlock_rdlock(&s->lock);
    *n = range_scan(s, p, out, max);
    pthread_rwlock_unlock(&s->lock);
    if (*n > max) {
        *n = max;
        return SN_ELIMIT;
    }
    return SN_OK;
}

size_t sn_numindex_count(sn_numindex *ix)
{
    return sn_blocks_count(ix->states);
}

static size_t map_bytes(map *m)
{
    size_t n = 0;
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &m->shards[i];
        pthread_rwlock_rdlock(&s->lock);
        n += (s->mask + 1) * sizeof(slot) +
             (s->spare != NULL ? 2 * (s->mask + 1) * sizeof(slot) : 0);
        pthread_rwlock_unlock(&s->lock);
    }
    return n;
}

size_t sn_numindex_bytes(sn_numindex *ix)
{
    size_t n = sizeof(*ix) + sn_blocks_bytes(ix->states);
    if (!ix->no_digests)
        n += map_bytes(&ix->sha256) + map_bytes(&ix->md5) + map_bytes(&ix->sm3);
    return n;
}

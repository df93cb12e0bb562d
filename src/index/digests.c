/*
 * digests.c - the compact hashed lookups of the serving index (see
 * digests.h).
 *
 * A generation is what one build made: the sorted block ids and, per digest
 * kind, a table. Invariants of a table:
 *   - first[b] .. first[b + 1] are the entries whose digest key (the
 *     digest's first 8 bytes, big-endian) has top k bits b;
 *   - an entry is `bits` bits (pos_bits + fp_bits, packed one after the
 *     other with no padding, little-endian): the position in its low
 *     pos_bits (ordinal of the block id * SN_BLOCK_NUMBERS + the offset),
 *     then the fp_bits of the key below its top k;
 *   - k + fp_bits >= SN_RANGE_BITS, so a 20-bit prefix is decided by the
 *     stored bits alone;
 *   - k is buckets_for(count), and fp_bits is fp_needed(k) plus 0 to
 *     SPARE_FP_BITS: a build keeps the spare bits, and a merge past a
 *     doubling of the buckets takes each bucket's next bit from the
 *     fingerprint (k + fp_bits unchanged) instead of hashing every number.
 * A generation never changes once built; it is replaced whole. The side
 * maps (sidemap.c) are sharded by the key's top SHARD_BITS; a key's home slot in its
 * shard follows the key's order (keys are uniform digest bits), so the
 * keys of one prefix sit in one run of slots. Each number is held at most
 * once per kind across the generation, the frozen side map and the live
 * one: adds are serialised by update_lock and skip a number already held.
 * Readers take one shard's read lock and read the generation pointer under
 * it; the merge thread swaps the pointer with every shard write-locked, so
 * once it has released them no reader holds the old generation.
 */
#include "index/digests.h"
#include "index/digests_gen.h"

#include "core/errors.h"
#include "index/blocks.h"
#include "util/thread.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SN_RANGE_BITS SN_DIGEST_RANGE_BITS
#define MIN_FP_BITS 8     /* fingerprint bits an entry keeps (more when k is small) */
#define SPARE_FP_BITS 1   /* more a build keeps: bucket doublings a merge makes unhashed */
#define BUCKET_NUMBERS 32 /* entries a bucket holds on average, at most */
#define SHARD_BITS SN_DIGEST_SHARD_BITS /* side-map shards: 64 */
#define SHARDS (1u << SHARD_BITS)
#define HUGE_PAGE (2u << 20) /* tables this big go on huge pages where allowed */
#define TEXT_MAX 24          /* "+" and up to 20 digits, with room */

typedef sn_dtable table;
typedef sn_dgen generation;
typedef sn_dslot slot;
typedef sn_dside side;

typedef struct {
    pthread_rwlock_t lock;
    side live[SN_DIGEST_KINDS];
    side frozen[SN_DIGEST_KINDS]; /* while a merge runs */
} shard;

struct sn_digests {
    shard shards[SHARDS];
    generation *gen;             /* NULL: no table yet */
    pthread_mutex_t update_lock; /* adds, freezing; then lock below */
    EVP_MD *methods[SN_DIGEST_KINDS];
    EVP_MD_CTX *ctx[SN_DIGEST_KINDS]; /* for adds, under update_lock */
    size_t live_count;                /* numbers in the live side maps */
    size_t side_min;
    size_t gen_count; /* d->gen's numbers, under lock (for the merge mark) */
    /* the merge thread */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    int asked, running, started, stopping;
    unsigned long merges, rehashed; /* merges done; of them, with every number hashed */
    pthread_t tid;
};

/* ---- digests of a number ------------------------------------------------- */

/* "+<digits>" without printf: this runs for every number at a build. */
static size_t e164_text(uint64_t n, char *buf)
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

void sn_number_sha256(uint64_t n, uint8_t digest[32])
{
    char text[TEXT_MAX];
    size_t len = e164_text(n, text);
    crypto_hash_sha256(digest, (const uint8_t *)text, len);
}

void sn_number_md5(uint64_t n, uint8_t digest[16])
{
    char text[TEXT_MAX];
    size_t len = e164_text(n, text);
    if (EVP_Digest(text, len, digest, NULL, EVP_md5(), NULL) != 1)
        memset(digest, 0, 16);
}

void sn_number_sm3(uint64_t n, uint8_t digest[32])
{
    char text[TEXT_MAX];
    size_t len = e164_text(n, text);
    if (EVP_Digest(text, len, digest, NULL, EVP_sm3(), NULL) != 1)
        memset(digest, 0, 32);
}

static const size_t digest_len[SN_DIGEST_KINDS] = {32, 16, 32};

/* Whether number n's digest of this kind is `digest` (a lookup's proof). */
static int digest_confirm(int kind, uint64_t n, const uint8_t *digest)
{
    uint8_t d[32];
    if (kind == SN_DIGEST_SHA256)
        sn_number_sha256(n, d);
    else if (kind == SN_DIGEST_MD5)
        sn_number_md5(n, d);
    else
        sn_number_sm3(n, d);
    return memcmp(d, digest, digest_len[kind]) == 0;
}

/* The first 8 bytes, big-endian: the key's order is the digest's. */
static uint64_t key_of(const uint8_t *digest)
{
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | digest[i];
    return k;
}

static const char *const method_name[SN_DIGEST_KINDS] = {"SHA256", "MD5", "SM3"};

/* One context a kind, set up once: OpenSSL's SHA-256 uses the CPU's SHA
 * instructions, and reusing a context skips its algorithm lookup. */
static int contexts_open(EVP_MD *const *methods, EVP_MD_CTX **ctx)
{
    int ok = 1;
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        ctx[k] = EVP_MD_CTX_new();
        ok = ok && ctx[k] != NULL && EVP_DigestInit_ex2(ctx[k], methods[k], NULL) == 1;
    }
    return ok ? SN_OK : SN_ENOMEM;
}

static void contexts_close(EVP_MD_CTX **ctx)
{
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        EVP_MD_CTX_free(ctx[k]);
        ctx[k] = NULL;
    }
}

static uint64_t number_key(EVP_MD_CTX *ctx, uint64_t n)
{
    char text[TEXT_MAX];
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int out = 0;
    size_t len = e164_text(n, text);
    EVP_DigestInit_ex2(ctx, NULL, NULL); /* the context's own algorithm again */
    EVP_DigestUpdate(ctx, text, len);
    EVP_DigestFinal_ex(ctx, digest, &out);
    return key_of(digest);
}

/* ---- tables ------------------------------------------------------------- */

void *sn_dgen_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes < HUGE_PAGE)
        return malloc(bytes);
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
        return NULL;
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: small pages still work */
    return p;
}

/* Entry i set to v (< 2^bits), the bits around it kept. */
static void ent_set(table *t, size_t i, uint64_t v)
{
    size_t bit = i * t->bits;
    uint8_t *p = t->ents + bit / 8;
    uint64_t mask = ((UINT64_C(1) << t->bits) - 1) << (bit % 8), w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&w, p, sizeof(w)); /* the 8 bytes from p (slack after the last entry) */
    w = (w & ~mask) | (v << (bit % 8));
    memcpy(p, &w, sizeof(w));
#else
    for (unsigned b = 8; b-- > 0;)
        w = w << 8 | p[b];
    w = (w & ~mask) | (v << (bit % 8));
    for (unsigned b = 0; b < 8; b++, w >>= 8)
        p[b] = (uint8_t)w;
#endif
}

/* t->ents for t->count entries: its last byte and the slack zeroed (the
 * entries' writes keep the bits they do not own). */
static uint8_t *ents_alloc(table *t)
{
    size_t bytes = sn_dgen_ents_bytes(t);
    t->ents = sn_dgen_alloc(bytes + 8);
    if (t->ents != NULL)
        memset(t->ents + bytes - (bytes > 0), 0, 8 + (bytes > 0));
    return t->ents;
}

static uint64_t pos_mask(const generation *g)
{
    return (UINT64_C(1) << g->pos_bits) - 1;
}

static uint64_t number_at(const generation *g, uint64_t pos)
{
    return g->ids[pos / SN_BLOCK_NUMBERS] * SN_BLOCK_NUMBERS + pos % SN_BLOCK_NUMBERS;
}

static uint64_t fp_of(const table *t, uint64_t key)
{
    return (key << t->k) >> (64 - t->fp_bits);
}

void sn_mapping_release(sn_mapping m)
{
    if (m.base != NULL)
        munmap(m.base, m.len);
}

void sn_dgen_free(generation *g)
{
    if (g == NULL)
        return;
    if (g->map.base != NULL) {
        sn_mapping_release(g->map); /* ids and tables lie in it */
        free(g);
        return;
    }
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        free(g->t[k].ents);
        free(g->t[k].first);
    }
    free(g->ids);
    free(g);
}

static size_t generation_bytes(const generation *g)
{
    size_t n = sizeof(*g) + g->nids * sizeof(uint64_t);
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        if (g->t[k].first != NULL)
            n += sn_dgen_ents_bytes(&g->t[k]) + (((size_t)1 << g->t[k].k) + 1) * sizeof(uint32_t);
    return n;
}

/* The number in g's table of this kind whose digest is `digest`. */
static int generation_find(const generation *g, int kind, uint64_t key, const uint8_t *digest,
                           uint64_t *out)
{
    const table *t = &g->t[kind];
    if (t->count == 0)
        return 0;
    uint64_t b = key >> (64 - t->k), fp = fp_of(t, key), mask = pos_mask(g);
    for (size_t i = t->first[b]; i < t->first[b + 1]; i++) {
        uint64_t v = sn_dgen_ent(t, i);
        if (v >> g->pos_bits == fp && digest_confirm(kind, number_at(g, v & mask), digest)) {
            *out = number_at(g, v & mask);
            return 1;
        }
    }
    return 0;
}

/* Whether number n (whose key is `key`) is in g's table of this kind: not
 * when its block is not in g (the block list is small and cached, the
 * bucket is a cache miss). */
static int generation_has(const generation *g, int kind, uint64_t key, uint64_t n)
{
    const table *t = &g->t[kind];
    size_t at = sn_dgen_id_search(g->ids, g->nids, n / SN_BLOCK_NUMBERS);
    if (t->count == 0 || at == g->nids || g->ids[at] != n / SN_BLOCK_NUMBERS)
        return 0;
    uint64_t b = key >> (64 - t->k), fp = fp_of(t, key), mask = pos_mask(g);
    for (size_t i = t->first[b]; i < t->first[b + 1]; i++) {
        uint64_t v = sn_dgen_ent(t, i);
        if (v >> g->pos_bits == fp && number_at(g, v & mask) == n)
            return 1;
    }
    return 0;
}

/* The numbers of g whose SHA-256 key has top SN_RANGE_BITS bits `prefix`,
 * into out[found..max); returns found + how many (counting past max). */
static size_t generation_range(const generation *g, uint64_t prefix, uint64_t *out, size_t max,
                               size_t found)
{
    const table *t = &g->t[SN_DIGEST_SHA256];
    if (t->count == 0)
        return found;
    unsigned known = t->k + t->fp_bits; /* >= SN_RANGE_BITS */
    uint64_t lo = prefix << (64 - SN_RANGE_BITS),
             hi = lo | ((UINT64_C(1) << (64 - SN_RANGE_BITS)) - 1);
    for (uint64_t b = lo >> (64 - t->k); b <= hi >> (64 - t->k); b++) {
        for (size_t i = t->first[b]; i < t->first[b + 1]; i++) {
            uint64_t v = sn_dgen_ent(t, i), top = b << t->fp_bits | v >> g->pos_bits;
            if (top >> (known - SN_RANGE_BITS) != prefix)
                continue;
            if (found < max)
                out[found] = number_at(g, v & pos_mask(g));
            found++;
        }
    }
    return found;
}

/* ---- building a generation ------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* g->ids: the sorted distinct block ids of numbers[0..n) and of base[0..nbase)
 * (sorted: the ids of the generation a merge starts from). Only the ids
 * base lacks are sorted, then merged in; with steps not NULL, *steps gets
 * for each of them (ascending) how many of base's come before it, and
 * *nsteps their count (the caller frees *steps). */
static int collect_ids(generation *g, const uint64_t *numbers, size_t n, const uint64_t *base,
                       size_t nbase, size_t **steps, size_t *nsteps)
{
    uint64_t *fresh = malloc((n + 1) * sizeof(*fresh)), last = UINT64_MAX, *ids = NULL;
    size_t m = 0, u = 0, *at = NULL;
    if (fresh == NULL)
        return SN_ENOMEM;
    for (size_t i = 0; i < n; i++) { /* a block's numbers usually come together */
        uint64_t id = numbers[i] / SN_BLOCK_NUMBERS;
        if (id == last)
            continue;
        last = id;
        size_t k = sn_dgen_id_search(base, nbase, id);
        if (k == nbase || base[k] != id)
            fresh[m++] = id;
    }
    qsort(fresh, m, sizeof(*fresh), cmp_u64);
    for (size_t i = 0; i < m; i++)
        if (u == 0 || fresh[i] != fresh[u - 1])
            fresh[u++] = fresh[i];
    m = u;
    ids = malloc((nbase + m + 1) * sizeof(*ids));
    if (steps != NULL)
        at = malloc((m + 1) * sizeof(*at));
    if (ids == NULL || (steps != NULL && at == NULL)) {
        free(fresh);
        free(ids);
        free(at);
        return SN_ENOMEM;
    }
    size_t b = 0, f = 0;
    for (u = 0; b < nbase || f < m; u++) {
        if (f < m && (b == nbase || fresh[f] < base[b])) {
            if (at != NULL)
                at[f] = b;
            ids[u] = fresh[f++];
        } else {
            ids[u] = base[b++];
        }
    }
    free(fresh);
    g->ids = ids;
    g->nids = u;
    if (steps != NULL) {
        *steps = at;
        *nsteps = m;
    }
    return SN_OK;
}

static unsigned bits_for(uint64_t v) /* bits to write 0..v */
{
    unsigned b = 1;
    while (b < 64 && (v >> b) != 0)
        b++;
    return b;
}

/* Bucket bits for n numbers: a bucket holds BUCKET_NUMBERS at most on average. */
static unsigned buckets_for(size_t n)
{
    unsigned k = 1;
    while (k < 32 && ((uint64_t)BUCKET_NUMBERS << k) < n)
        k++;
    return k;
}

/* Fingerprint bits a table of 2^k buckets needs: MIN_FP_BITS, more where
 * the buckets are too few for the range check's 20 bits. */
static unsigned fp_needed(unsigned k)
{
    return k + MIN_FP_BITS < SN_RANGE_BITS ? SN_RANGE_BITS - k : MIN_FP_BITS;
}

/* Every table of g shaped for n numbers over g->nids blocks: 2^k buckets,
 * fp fingerprint bits, entries of the position's bits and those. */
static void shape_set(generation *g, size_t n, unsigned k, unsigned fp)
{
    g->pos_bits = bits_for(g->nids > 0 ? g->nids * (uint64_t)SN_BLOCK_NUMBERS - 1 : 0);
    for (int i = 0; i < SN_DIGEST_KINDS; i++)
        g->t[i] = (table){.k = k, .fp_bits = fp, .bits = g->pos_bits + fp, .count = n};
    g->count = n;
}

/* The shape of a build: buckets_for(n), fp_needed(k) + SPARE_FP_BITS. An
 * entry stays within 56 bits (sn_dgen_ent reads 8 bytes from its first):
 * at SN_DIGEST_MAX_NUMBERS a position needs at most 46 bits and the
 * fingerprint is MIN_FP_BITS + SPARE_FP_BITS; a fingerprint of more comes
 * with fewer than 2^20 numbers, whose positions need at most 34. */
void sn_dgen_shape(generation *g, size_t n)
{
    unsigned k = buckets_for(n);
    shape_set(g, n, k, fp_needed(k) + SPARE_FP_BITS);
}

int sn_dgen_shape_check(generation *g, size_t n, unsigned pos_bits, unsigned k, unsigned fp,
                        unsigned bits)
{
    unsigned need = fp_needed(buckets_for(n));
    if (k != buckets_for(n) || fp < need || fp > need + SPARE_FP_BITS)
        return SN_EINVAL;
    shape_set(g, n, k, fp);
    return g->pos_bits == pos_bits && g->t[0].bits == bits ? SN_OK : SN_EINVAL;
}

/* Fill table t from keys[i] (the key of the number at position pos[i]). */
static int fill_table(const generation *g, table *t, const uint64_t *keys, const uint64_t *pos)
{
    size_t nb = (size_t)1 << t->k;
    t->first = sn_dgen_alloc((nb + 1) * sizeof(*t->first));
    if (t->first == NULL || ents_alloc(t) == NULL)
        return SN_ENOMEM;
    memset(t->first, 0, (nb + 1) * sizeof(*t->first));
    for (size_t i = 0; i < t->count; i++) /* first[b + 1]: bucket b's entries */
        t->first[(keys[i] >> (64 - t->k)) + 1]++;
    for (size_t b = 0; b < nb; b++) /* first[b]: where bucket b starts */
        t->first[b + 1] += t->first[b];
    for (size_t i = 0; i < t->count; i++) /* first[b] as bucket b's cursor: then its end */
        ent_set(t, t->first[keys[i] >> (64 - t->k)]++, fp_of(t, keys[i]) << g->pos_bits | pos[i]);
    memmove(t->first + 1, t->first, nb * sizeof(*t->first)); /* bucket b ends where b + 1 starts */
    t->first[0] = 0;
    return SN_OK;
}

/* Positions of numbers[0..n) in g (its ids are in). */
static void positions(const generation *g, const uint64_t *numbers, size_t n, uint64_t *pos)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = numbers[i] / SN_BLOCK_NUMBERS;
        if (at >= g->nids || g->ids[at] != id)
            at = sn_dgen_id_search(g->ids, g->nids, id);
        pos[i] = at * SN_BLOCK_NUMBERS + numbers[i] % SN_BLOCK_NUMBERS;
    }
}

/* One kind's table of a generation being built: its keys hashed with its
 * own context, then placed. */
typedef struct {
    const generation *g;
    table *t;
    EVP_MD *method;
    const uint64_t *numbers, *pos;
    int rc;
} kind_job;

static void *kind_main(void *arg)
{
    kind_job *j = arg;
    uint64_t *keys = malloc((j->t->count + 1) * sizeof(*keys));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    j->rc = SN_ENOMEM;
    if (keys != NULL && ctx != NULL && EVP_DigestInit_ex2(ctx, j->method, NULL) == 1) {
        for (size_t i = 0; i < j->t->count; i++)
            keys[i] = number_key(ctx, j->numbers[i]);
        j->rc = fill_table(j->g, j->t, keys, j->pos);
    }
    EVP_MD_CTX_free(ctx);
    free(keys);
    return NULL;
}

/* The three tables of g, on a thread each with parallel (a start, which
 * waits for them: the hashing is the cost), else one after the other (a
 * merge, beside the serving threads). */
static int build_kinds(generation *g, EVP_MD *const *methods, const uint64_t *numbers,
                       const uint64_t *pos, int parallel)
{
    kind_job jobs[SN_DIGEST_KINDS];
    pthread_t tid[SN_DIGEST_KINDS];
    int started[SN_DIGEST_KINDS] = {0}, rc = SN_OK;
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        jobs[k] = (kind_job){g, &g->t[k], methods[k], numbers, pos, SN_OK};
        started[k] = parallel && k > 0 && sn_thread_start(&tid[k], kind_main, &jobs[k]) == 0;
    }
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        if (started[k])
            pthread_join(tid[k], NULL);
        else
            kind_main(&jobs[k]);
        if (jobs[k].rc != SN_OK)
            rc = jobs[k].rc;
    }
    return rc;
}

/* A generation for the distinct numbers[0..n) (base: the one they mostly
 * come from, or NULL; its block ids are taken over, sorted already). */
static int generation_build(EVP_MD *const *methods, const uint64_t *numbers, size_t n,
                            const generation *base, int parallel, generation **out)
{
    generation *g = calloc(1, sizeof(*g));
    uint64_t *pos = malloc((n + 1) * sizeof(*pos));
    int rc = SN_ENOMEM;
    if (g == NULL || pos == NULL ||
        collect_ids(g, numbers, n, base != NULL ? base->ids : NULL, base != NULL ? base->nids : 0,
                    NULL, NULL) != SN_OK)
        goto out;
    sn_dgen_shape(g, n);
    positions(g, numbers, n, pos);
    if (n > 0 && (rc = build_kinds(g, methods, numbers, pos, parallel)) != SN_OK)
        goto out;
    g->refs = 1;
    *out = g;
    g = NULL;
    rc = SN_OK;
out:
    free(pos);
    sn_dgen_free(g);
    return rc;
}

/* ---- side maps (sidemap.c) --------------------------------------------------- */

static shard *shard_of(sn_digests *d, uint64_t key)
{
    return &d->shards[key >> (64 - SHARD_BITS)];
}

/* ---- the merge thread ----------------------------------------------------- */

/* Move every live side map to frozen (none frozen yet), with no add under
 * way: an add's three kinds then land on the same side of the freeze. */
static void freeze(sn_digests *d)
{
    pthread_mutex_lock(&d->update_lock);
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &d->shards[i];
        pthread_rwlock_wrlock(&s->lock);
        for (int k = 0; k < SN_DIGEST_KINDS; k++) {
            s->frozen[k] = s->live[k];
            s->live[k] = (side){NULL, 0, 0, 0};
        }
        pthread_rwlock_unlock(&s->lock);
    }
    d->live_count = 0;
    pthread_mutex_unlock(&d->update_lock);
}

/* The numbers of the current generation and of the frozen maps (the merge
 * thread's own: nothing else changes either while it runs). */
static int merge_numbers(sn_digests *d, uint64_t **out, size_t *n)
{
    const generation *g = d->gen;
    size_t total = g != NULL ? g->count : 0;
    for (unsigned i = 0; i < SHARDS; i++)
        total += d->shards[i].frozen[SN_DIGEST_SHA256].count;
    uint64_t *v = malloc((total + 1) * sizeof(*v));
    if (v == NULL)
        return SN_ENOMEM;
    *n = 0;
    if (g != NULL) { /* in table order; their block ids are g's */
        const table *t = &g->t[SN_DIGEST_SHA256];
        for (size_t i = 0; i < t->count; i++)
            v[(*n)++] = number_at(g, sn_dgen_ent(t, i) & pos_mask(g));
    }
    for (unsigned i = 0; i < SHARDS; i++)
        sn_side_numbers(&d->shards[i].frozen[SN_DIGEST_SHA256], v, n);
    *out = v;
    return SN_OK;
}

/* Put generation g in, the frozen maps out, with every shard write-locked. */
static void swap_in(sn_digests *d, generation *g)
{
    for (unsigned i = 0; i < SHARDS; i++)
        pthread_rwlock_wrlock(&d->shards[i].lock);
    generation *old = d->gen;
    d->gen = g;
    for (unsigned i = 0; i < SHARDS; i++)
        for (int k = 0; k < SN_DIGEST_KINDS; k++)
            sn_side_free(&d->shards[i].frozen[k]);
    for (unsigned i = SHARDS; i-- > 0;)
        pthread_rwlock_unlock(&d->shards[i].lock);
    sn_digests_let_go(d, old);
}

/* g2's shape for n numbers grown from old's without hashing: the buckets
 * of n, each shift = k - old's k more bucket bits taken from the top of
 * old's fingerprints, which keep the rest; the position bits of g2's
 * blocks. 1 when the fingerprints would fall below what k needs (then
 * every number is hashed again, into a build's shape). */
static int extend_shape(const generation *old, generation *g2, size_t n)
{
    unsigned k = buckets_for(n), k0 = old->t[0].k, fp0 = old->t[0].fp_bits;
    if (k < k0 || k - k0 >= fp0 || fp0 - (k - k0) < fp_needed(k))
        return 1;
    shape_set(g2, n, k, fp0 - (k - k0));
    return 0;
}

/* Count the frozen keys of this kind per bucket b of t2 into count[b]. */
static size_t count_frozen(sn_digests *d, int kind, const table *t2, uint32_t *count)
{
    size_t added = 0;
    for (unsigned i = 0; i < SHARDS; i++) {
        const side *s = &d->shards[i].frozen[kind];
        for (size_t j = 0; s->slots != NULL && j <= s->mask; j++)
            if (s->slots[j].key != 0)
                count[s->slots[j].key >> (64 - t2->k)]++, added++;
    }
    return added;
}

/* Count old's entries of table t per bucket of t2 into count[] (t2 has
 * t->k + shift bucket bits: an entry's next ones are its fingerprint's top). */
static void count_old(const generation *old, const table *t, const table *t2, uint32_t *count)
{
    unsigned shift = t2->k - t->k;
    size_t nb = (size_t)1 << t->k;
    for (size_t b = 0; b < nb; b++) {
        if (shift == 0) {
            count[b] += t->first[b + 1] - t->first[b];
            continue;
        }
        for (uint32_t i = t->first[b]; i < t->first[b + 1]; i++)
            count[b << shift | sn_dgen_ent(t, i) >> (old->pos_bits + t2->fp_bits)]++;
    }
}

/* Where an old block ordinal goes in the next generation: past the new
 * blocks before it. With few new blocks, a search of their places (steps,
 * ascending: for each new block, how many old ones come before it), which
 * stays in cache; with many, a table of every old ordinal's new one. */
#define REMAP_STEPS_MAX 4096 /* new blocks searched; more: the table */
typedef struct {
    const size_t *steps, *table; /* table NULL: steps[0..nsteps) */
    size_t nsteps;
} remap;

static uint64_t remapped(const remap *r, uint64_t ordinal)
{
    if (r->table != NULL)
        return r->table[ordinal];
    /* how many steps (r->nsteps > 0) are at or before ordinal, counted as
     * sn_dgen_id_search counts: no branch on the comparison, the ordinals
     * come in no order */
    const size_t *b = r->steps;
    size_t len = r->nsteps;
    while (len > 1) {
        size_t half = len / 2;
        b += (size_t)(b[half - 1] <= ordinal) * half;
        len -= half;
    }
    return ordinal + (size_t)(b - r->steps) + (*b <= ordinal);
}

/* Old's entries of table t placed in t2 at the cursors first[b2] (each
 * moved past): the bucket and fingerprint split as t2's shape says, the
 * positions' block ordinals through r, repacked to g2's position bits. */
static void copy_old(const generation *old, const table *t, const generation *g2, table *t2,
                     const remap *r)
{
    unsigned shift = t2->k - t->k;
    uint64_t fp_mask = (UINT64_C(1) << t2->fp_bits) - 1;
    size_t nb = (size_t)1 << t->k;
    for (size_t b = 0; b < nb; b++) {
        for (uint32_t i = t->first[b]; i < t->first[b + 1]; i++) { /* packed: one at a time */
            uint64_t v = sn_dgen_ent(t, i), p = v & pos_mask(old), fp = v >> old->pos_bits;
            if (r->nsteps > 0)
                p = remapped(r, p / SN_BLOCK_NUMBERS) * SN_BLOCK_NUMBERS + p % SN_BLOCK_NUMBERS;
            ent_set(t2, t2->first[b << shift | fp >> t2->fp_bits]++,
                    (fp & fp_mask) << g2->pos_bits | p);
        }
    }
}

/* Table `kind` of g2 (extend_shape's): old's entries and the frozen keys
 * of that kind, with no hashing (a frozen slot holds its key). */
static int extend_table(sn_digests *d, const generation *old, generation *g2, int kind,
                        const remap *r)
{
    const table *t = &old->t[kind];
    table *t2 = &g2->t[kind];
    size_t nb = (size_t)1 << t2->k;
    t2->first = sn_dgen_alloc((nb + 1) * sizeof(*t2->first));
    if (t2->first == NULL)
        return SN_ENOMEM;
    memset(t2->first, 0, (nb + 1) * sizeof(*t2->first));
    /* first[b + 1]: bucket b's count; then first[b]: where b starts */
    t2->count = t->count + count_frozen(d, kind, t2, t2->first + 1);
    count_old(old, t, t2, t2->first + 1);
    if (ents_alloc(t2) == NULL)
        return SN_ENOMEM;
    for (size_t b = 0; b < nb; b++)
        t2->first[b + 1] += t2->first[b];
    copy_old(old, t, g2, t2, r); /* first[b] as bucket b's cursor: then its end */
    for (unsigned i = 0; i < SHARDS; i++) {
        const side *s = &d->shards[i].frozen[kind];
        for (size_t j = 0; s->slots != NULL && j <= s->mask; j++) {
            uint64_t key = s->slots[j].key, n = s->slots[j].number, pos;
            if (key == 0)
                continue;
            positions(g2, &n, 1, &pos);
            ent_set(t2, t2->first[key >> (64 - t2->k)]++, fp_of(t2, key) << g2->pos_bits | pos);
        }
    }
    memmove(t2->first + 1, t2->first, nb * sizeof(*t2->first)); /* b ends where b + 1 starts */
    t2->first[0] = 0;
    return SN_OK;
}

/* The next generation from old and the frozen maps without hashing, when
 * old's fingerprints have the bits for its buckets (extend_shape): SN_OK,
 * SN_ENOMEM, or 1 when they do not (then every number is hashed again). */
static int generation_extend(sn_digests *d, const generation *old, generation **out)
{
    generation *g2 = calloc(1, sizeof(*g2));
    uint64_t *fz = NULL;
    size_t nfz = 0, *steps = NULL, *moves = NULL;
    remap r = {NULL, NULL, 0};
    int rc = SN_ENOMEM;
    for (unsigned i = 0; i < SHARDS; i++)
        nfz += d->shards[i].frozen[SN_DIGEST_SHA256].count;
    if (g2 == NULL || (fz = malloc((nfz + 1) * sizeof(*fz))) == NULL)
        goto out;
    nfz = 0;
    for (unsigned i = 0; i < SHARDS; i++)
        sn_side_numbers(&d->shards[i].frozen[SN_DIGEST_SHA256], fz, &nfz);
    if (collect_ids(g2, fz, nfz, old->ids, old->nids, &steps, &r.nsteps) != SN_OK)
        goto out;
    r.steps = steps;
    rc = 1;
    if (extend_shape(old, g2, old->count + nfz) != 0)
        goto out;
    rc = SN_ENOMEM;
    if (r.nsteps > REMAP_STEPS_MAX) { /* new blocks everywhere: a table, one walk */
        if ((moves = malloc(old->nids * sizeof(*moves))) == NULL)
            goto out;
        for (size_t o = 0, s = 0; o < old->nids; o++) {
            while (s < r.nsteps && steps[s] <= o)
                s++;
            moves[o] = o + s;
        }
        r.table = moves;
    }
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        if ((rc = extend_table(d, old, g2, k, &r)) != SN_OK)
            goto out;
    g2->count = old->count + nfz;
    g2->refs = 1;
    *out = g2;
    g2 = NULL;
out:
    free(moves);
    free(steps);
    free(fz);
    sn_dgen_free(g2);
    return rc;
}

/* One merge. A failed build keeps the frozen maps: the next merge retries
 * them before freezing more. */
static void merge(sn_digests *d, int *frozen_pending)
{
    uint64_t *numbers = NULL;
    size_t n = 0;
    generation *g = NULL;
    int rc = 1, rehashed = 0;
    if (!*frozen_pending)
        freeze(d);
    *frozen_pending = 1;
    if (d->gen != NULL && d->gen->count > 0)
        rc = generation_extend(d, d->gen, &g);
    if (rc == 1) { /* a new shape: every number hashed again */
        rehashed = 1;
        rc = merge_numbers(d, &numbers, &n);
        if (rc == SN_OK)
            rc = generation_build(d->methods, numbers, n, d->gen, 0, &g);
        free(numbers);
    }
    if (rc != SN_OK)
        return;
    n = g->count;
    swap_in(d, g);
    *frozen_pending = 0;
    pthread_mutex_lock(&d->lock);
    d->merges++;
    d->rehashed += (unsigned long)rehashed;
    d->gen_count = n;
    pthread_mutex_unlock(&d->lock);
}

static void *merge_main(void *arg)
{
    sn_digests *d = arg;
    int frozen_pending = 0;
    sn_thread_name("sn-digests"); /* else the publisher's name, which started it */
    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        if (!d->asked) {
            pthread_cond_wait(&d->wake, &d->lock);
            continue;
        }
        d->asked = 0;
        d->running = 1;
        pthread_mutex_unlock(&d->lock);
        merge(d, &frozen_pending);
        pthread_mutex_lock(&d->lock);
        d->running = 0;
        pthread_cond_broadcast(&d->done);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* With update_lock held: past the mark, ask the merge thread for a merge
 * (started on the first). */
static void maybe_merge(sn_digests *d)
{
    pthread_mutex_lock(&d->lock);
    size_t mark = d->gen_count / SN_DIGEST_SIDE_SHARE;
    if (mark < d->side_min)
        mark = d->side_min;
    /* a table holds at most SN_DIGEST_MAX_NUMBERS: past that the side map keeps them */
    if (d->live_count > mark && !d->asked && !d->stopping &&
        d->gen_count + d->live_count <= SN_DIGEST_MAX_NUMBERS) {
        if (!d->started)
            d->started = sn_thread_start(&d->tid, merge_main, d) == 0;
        d->asked = d->started;
        pthread_cond_signal(&d->wake);
    }
    pthread_mutex_unlock(&d->lock);
}

/* ---- holding a generation (digests_gen.h) ---------------------------------- */

sn_dgen *sn_digests_hold(sn_digests *d)
{
    shard *s = &d->shards[0]; /* any shard's read lock keeps a swap out */
    pthread_rwlock_rdlock(&s->lock);
    generation *g = d->gen;
    if (g != NULL) {
        pthread_mutex_lock(&d->lock);
        g->refs++;
        pthread_mutex_unlock(&d->lock);
    }
    pthread_rwlock_unlock(&s->lock);
    return g;
}

int sn_digests_hold_all(sn_digests *d, sn_dgen **g, sn_dside_copy out[SN_DIGEST_KINDS])
{
    int rc = SN_OK;
    pthread_mutex_lock(&d->update_lock);
    pthread_rwlock_rdlock(&d->shards[0].lock);
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        size_t total = 0;
        for (unsigned i = 0; i < SHARDS; i++)
            total += d->shards[i].live[k].count + d->shards[i].frozen[k].count;
        out[k] = (sn_dside_copy){malloc((total + 1) * sizeof(slot)), 0};
        if (out[k].slots == NULL)
            rc = SN_ENOMEM;
    }
    for (unsigned i = 0; i < SHARDS && rc == SN_OK; i++) {
        shard *s = &d->shards[i];
        if (i > 0)
            pthread_rwlock_rdlock(&s->lock);
        for (int k = 0; k < SN_DIGEST_KINDS; k++) {
            sn_side_slots(&s->frozen[k], out[k].slots, &out[k].n);
            sn_side_slots(&s->live[k], out[k].slots, &out[k].n);
        }
        if (i > 0)
            pthread_rwlock_unlock(&s->lock);
    }
    *g = rc == SN_OK ? d->gen : NULL;
    if (*g != NULL) {
        pthread_mutex_lock(&d->lock);
        (*g)->refs++;
        pthread_mutex_unlock(&d->lock);
    }
    pthread_rwlock_unlock(&d->shards[0].lock);
    pthread_mutex_unlock(&d->update_lock);
    for (int k = 0; k < SN_DIGEST_KINDS && rc != SN_OK; k++) {
        free(out[k].slots);
        out[k] = (sn_dside_copy){NULL, 0};
    }
    return rc;
}

int sn_digests_put_side(sn_digests *d, int kind, const sn_dslot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        side *s = &shard_of(d, slots[i].key)->live[kind];
        if (sn_side_reserve(s) != SN_OK)
            return SN_ENOMEM;
        sn_side_insert(s, slots[i].key, slots[i].number);
    }
    if (kind == SN_DIGEST_SHA256)
        d->live_count += n;
    return SN_OK;
}

void sn_digests_let_go(sn_digests *d, sn_dgen *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    int last = --g->refs == 0;
    pthread_mutex_unlock(&d->lock);
    if (last)
        sn_dgen_free(g);
}

void sn_digests_install(sn_digests *d, sn_dgen *g)
{
    sn_digests_let_go(d, d->gen);
    d->gen = g;
    d->gen_count = g->count;
}

/* ---- the interface --------------------------------------------------------- */

sn_digests *sn_digests_new(void)
{
    sn_digests *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    for (unsigned i = 0; i < SHARDS; i++)
        pthread_rwlock_init(&d->shards[i].lock, NULL);
    pthread_mutex_init(&d->update_lock, NULL);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    pthread_cond_init(&d->done, NULL);
    d->side_min = SN_DIGEST_SIDE_MIN;
    int ok = sodium_init() >= 0;
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        ok = ok && (d->methods[k] = EVP_MD_fetch(NULL, method_name[k], NULL)) != NULL;
    if (!ok || contexts_open(d->methods, d->ctx) != SN_OK) {
        sn_digests_free(d);
        return NULL;
    }
    return d;
}

void sn_digests_free(sn_digests *d)
{
    if (d == NULL)
        return;
    if (d->started) /* before the maps it may be merging go */
        sn_thread_stop(&d->lock, &d->wake, &d->stopping, d->tid);
    for (unsigned i = 0; i < SHARDS; i++) {
        for (int k = 0; k < SN_DIGEST_KINDS; k++) {
            sn_side_free(&d->shards[i].live[k]);
            sn_side_free(&d->shards[i].frozen[k]);
        }
        pthread_rwlock_destroy(&d->shards[i].lock);
    }
    sn_digests_let_go(d, d->gen);
    contexts_close(d->ctx);
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        EVP_MD_free(d->methods[k]); /* NULL-safe */
    pthread_cond_destroy(&d->done);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->update_lock);
    free(d);
}

int sn_digests_build(sn_digests *d, const uint64_t *numbers, size_t n)
{
    generation *g = NULL;
    if (n > SN_DIGEST_MAX_NUMBERS)
        return SN_ELIMIT;
    int rc = generation_build(d->methods, numbers, n, NULL, 1, &g);
    if (rc != SN_OK)
        return rc;
    sn_digests_let_go(d, d->gen);
    d->gen = g;
    d->gen_count = n;
    for (unsigned i = 0; i < SHARDS; i++)
        for (int k = 0; k < SN_DIGEST_KINDS; k++)
            sn_side_free(&d->shards[i].live[k]);
    d->live_count = 0;
    return SN_OK;
}

/* Whether number n (whose SHA-256 key is `key`) is held: in the table,
 * the frozen side map or the live one. A number's three kinds go in
 * together (adds under update_lock, held by the caller) and move together
 * (a merge freezes and swaps every kind at once; a snapshot saves them at
 * one instant), so its SHA-256 entry stands for all three. */
static int held(sn_digests *d, uint64_t key, uint64_t n)
{
    shard *s = shard_of(d, key);
    pthread_rwlock_rdlock(&s->lock);
    int h = (d->gen != NULL && generation_has(d->gen, SN_DIGEST_SHA256, key, n)) ||
            sn_side_has(&s->frozen[SN_DIGEST_SHA256], key, n) ||
            sn_side_has(&s->live[SN_DIGEST_SHA256], key, n);
    pthread_rwlock_unlock(&s->lock);
    return h;
}

/* Room for one more in the live side map of this kind where key goes. */
static int reserve_one(sn_digests *d, int kind, uint64_t key)
{
    shard *s = shard_of(d, key);
    pthread_rwlock_wrlock(&s->lock);
    int rc = sn_side_reserve(&s->live[kind]);
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

/* Number n under key into the live side map of this kind, reserved for it. */
static void insert_one(sn_digests *d, int kind, uint64_t key, uint64_t n)
{
    shard *s = shard_of(d, key);
    pthread_rwlock_wrlock(&s->lock);
    sn_side_insert(&s->live[kind], sn_side_stored_key(key), n);
    d->live_count += kind == SN_DIGEST_SHA256;
    pthread_rwlock_unlock(&s->lock);
}

/* The three kinds of a number go in all or none: room is made for each
 * first (update_lock, held, keeps a freeze from emptying the live maps in
 * between). */
int sn_digests_add(sn_digests *d, const uint64_t *numbers, size_t n)
{
    int rc = SN_OK;
    pthread_mutex_lock(&d->update_lock);
    for (size_t i = 0; i < n && rc == SN_OK; i++) {
        uint64_t keys[SN_DIGEST_KINDS];
        for (int k = 0; k < SN_DIGEST_KINDS; k++)
            keys[k] = number_key(d->ctx[k], numbers[i]);
        if (held(d, keys[SN_DIGEST_SHA256], numbers[i]))
            continue; /* each number once a kind */
        for (int k = 0; k < SN_DIGEST_KINDS && rc == SN_OK; k++)
            rc = reserve_one(d, k, keys[k]);
        for (int k = 0; k < SN_DIGEST_KINDS && rc == SN_OK; k++)
            insert_one(d, k, keys[k], numbers[i]);
    }
    maybe_merge(d);
    pthread_mutex_unlock(&d->update_lock);
    return rc;
}

int sn_digests_find(sn_digests *d, int kind, const uint8_t *digest, uint64_t *out)
{
    if (kind < 0 || kind >= SN_DIGEST_KINDS)
        return 0;
    uint64_t key = key_of(digest);
    shard *s = shard_of(d, key);
    pthread_rwlock_rdlock(&s->lock);
    int found = (d->gen != NULL && generation_find(d->gen, kind, key, digest, out)) ||
                sn_side_find(&s->frozen[kind], kind, key, digest, digest_confirm, out) ||
                sn_side_find(&s->live[kind], kind, key, digest, digest_confirm, out);
    pthread_rwlock_unlock(&s->lock);
    return found;
}

int sn_digests_range(sn_digests *d, uint32_t prefix, uint64_t *out, size_t max, size_t *n)
{
    uint64_t p = prefix & ((UINT32_C(1) << SN_RANGE_BITS) - 1);
    shard *s = shard_of(d, p << (64 - SN_RANGE_BITS));
    size_t found = 0;
    pthread_rwlock_rdlock(&s->lock);
    if (d->gen != NULL)
        found = generation_range(d->gen, p, out, max, found);
    found = sn_side_range(&s->frozen[SN_DIGEST_SHA256], p, out, max, found);
    found = sn_side_range(&s->live[SN_DIGEST_SHA256], p, out, max, found);
    pthread_rwlock_unlock(&s->lock);
    *n = found > max ? max : found;
    return found > max ? SN_ELIMIT : SN_OK;
}

size_t sn_digests_count(sn_digests *d)
{
    size_t n = 0;
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &d->shards[i];
        pthread_rwlock_rdlock(&s->lock);
        if (i == 0 && d->gen != NULL)
            n += d->gen->count;
        n += s->live[SN_DIGEST_SHA256].count + s->frozen[SN_DIGEST_SHA256].count;
        pthread_rwlock_unlock(&s->lock);
    }
    return n;
}

size_t sn_digests_bytes(sn_digests *d)
{
    size_t n = sizeof(*d);
    for (unsigned i = 0; i < SHARDS; i++) {
        shard *s = &d->shards[i];
        pthread_rwlock_rdlock(&s->lock);
        if (i == 0 && d->gen != NULL)
            n += generation_bytes(d->gen);
        for (int k = 0; k < SN_DIGEST_KINDS; k++) {
            if (s->live[k].slots != NULL)
                n += (s->live[k].mask + 1) * sizeof(slot);
            if (s->frozen[k].slots != NULL)
                n += (s->frozen[k].mask + 1) * sizeof(slot);
        }
        pthread_rwlock_unlock(&s->lock);
    }
    return n;
}

void sn_digests_set_side_min(sn_digests *d, size_t min)
{
    pthread_mutex_lock(&d->lock);
    d->side_min = min > 0 ? min : 1;
    pthread_mutex_unlock(&d->lock);
}

void sn_digests_settle(sn_digests *d)
{
    pthread_mutex_lock(&d->lock);
    while (d->asked || d->running)
        pthread_cond_wait(&d->done, &d->lock);
    pthread_mutex_unlock(&d->lock);
}

unsigned long sn_digests_merges(sn_digests *d, unsigned long *rehashed)
{
    pthread_mutex_lock(&d->lock);
    unsigned long n = d->merges;
    if (rehashed != NULL)
        *rehashed = d->rehashed;
    pthread_mutex_unlock(&d->lock);
    return n;
}

/*
 * digests_gen.c - a generation of the digest tables (digests_gen.h): its
 * layout, a build from numbers (hashing each), and the next one grown
 * from it and the frozen side maps without hashing (a merge).
 *
 * Invariants of a table:
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
 * A generation's block ids are sorted and distinct, and every position of
 * its tables names one of them. Nothing here locks: a generation being
 * built or grown is its builder's alone, and one built never changes.
 */
#include "index/digests_gen.h"

#include "core/errors.h"
#include "core/number.h"
#include "index/blocks.h"
#include "util/thread.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SN_RANGE_BITS SN_DIGEST_RANGE_BITS
#define MIN_FP_BITS 8        /* fingerprint bits an entry keeps (more when k is small) */
#define SPARE_FP_BITS 1      /* more a build keeps: bucket doublings a merge makes unhashed */
#define BUCKET_NUMBERS 32    /* entries a bucket holds on average, at most */
#define HUGE_PAGE (2u << 20) /* tables this big go on huge pages where allowed */

typedef sn_dtable table;
typedef sn_dgen generation;
typedef sn_dside side;

/* ---- keys ---------------------------------------------------------------- */

uint64_t sn_digest_key(EVP_MD_CTX *ctx, uint64_t n)
{
    char text[SN_NUMBER_TEXT_MAX];
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int out = 0;
    size_t len = sn_number_format(n, text);
    EVP_DigestInit_ex2(ctx, NULL, NULL); /* the context's own algorithm again */
    EVP_DigestUpdate(ctx, text, len);
    EVP_DigestFinal_ex(ctx, digest, &out);
    return sn_digest_key_of(digest);
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

size_t sn_dgen_bytes(const generation *g)
{
    size_t n = sizeof(*g) + g->nids * sizeof(uint64_t);
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        if (g->t[k].first != NULL)
            n += sn_dgen_ents_bytes(&g->t[k]) + (((size_t)1 << g->t[k].k) + 1) * sizeof(uint32_t);
    return n;
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
        ent_set(t, t->first[keys[i] >> (64 - t->k)]++,
                sn_dgen_fp(t, keys[i]) << g->pos_bits | pos[i]);
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
            keys[i] = sn_digest_key(ctx, j->numbers[i]);
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
int sn_dgen_build(EVP_MD *const *methods, const uint64_t *numbers, size_t n, const generation *base,
                  int parallel, generation **out)
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
static size_t count_frozen(sn_dfrozen frozen, int kind, const table *t2, uint32_t *count)
{
    size_t added = 0;
    for (unsigned i = 0; i < SN_DIGEST_SHARDS; i++) {
        const side *s = &frozen[i][kind];
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
    /* before the first new block or past the last: the usual case, as new
     * blocks come in runs (a carrier's new range), so the test is well
     * predicted even though the ordinals come in no order */
    size_t below = ordinal < r->steps[0], above = ordinal >= r->steps[r->nsteps - 1];
    if (below | above)
        return ordinal + above * r->nsteps;
    /* how many steps (r->nsteps > 0) are at or before ordinal, counted as
     * sn_dgen_id_search counts: no branch on the comparison */
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
            uint64_t v = sn_dgen_ent(t, i), p = v & sn_dgen_pos_mask(old), fp = v >> old->pos_bits;
            if (r->nsteps > 0)
                p = remapped(r, p / SN_BLOCK_NUMBERS) * SN_BLOCK_NUMBERS + p % SN_BLOCK_NUMBERS;
            ent_set(t2, t2->first[b << shift | fp >> t2->fp_bits]++,
                    (fp & fp_mask) << g2->pos_bits | p);
        }
    }
}

/* Table `kind` of g2 (extend_shape's): old's entries and the frozen keys
 * of that kind, with no hashing (a frozen slot holds its key). */
static int extend_table(sn_dfrozen frozen, const generation *old, generation *g2, int kind,
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
    t2->count = t->count + count_frozen(frozen, kind, t2, t2->first + 1);
    count_old(old, t, t2, t2->first + 1);
    if (ents_alloc(t2) == NULL)
        return SN_ENOMEM;
    for (size_t b = 0; b < nb; b++)
        t2->first[b + 1] += t2->first[b];
    copy_old(old, t, g2, t2, r); /* first[b] as bucket b's cursor: then its end */
    for (unsigned i = 0; i < SN_DIGEST_SHARDS; i++) {
        const side *s = &frozen[i][kind];
        for (size_t j = 0; s->slots != NULL && j <= s->mask; j++) {
            uint64_t key = s->slots[j].key, n = s->slots[j].number, pos;
            if (key == 0)
                continue;
            positions(g2, &n, 1, &pos);
            ent_set(t2, t2->first[key >> (64 - t2->k)]++,
                    sn_dgen_fp(t2, key) << g2->pos_bits | pos);
        }
    }
    memmove(t2->first + 1, t2->first, nb * sizeof(*t2->first)); /* b ends where b + 1 starts */
    t2->first[0] = 0;
    return SN_OK;
}

/* The next generation from old and the frozen maps without hashing, when
 * old's fingerprints have the bits for its buckets (extend_shape): SN_OK,
 * SN_ENOMEM, or 1 when they do not (then every number is hashed again). */
int sn_dgen_extend(const generation *old, sn_dfrozen frozen, generation **out)
{
    generation *g2 = calloc(1, sizeof(*g2));
    uint64_t *fz = NULL;
    size_t nfz = 0, *steps = NULL, *moves = NULL;
    remap r = {NULL, NULL, 0};
    int rc = SN_ENOMEM;
    for (unsigned i = 0; i < SN_DIGEST_SHARDS; i++)
        nfz += frozen[i][SN_DIGEST_SHA256].count;
    if (g2 == NULL || (fz = malloc((nfz + 1) * sizeof(*fz))) == NULL)
        goto out;
    nfz = 0;
    for (unsigned i = 0; i < SN_DIGEST_SHARDS; i++)
        sn_side_numbers(&frozen[i][SN_DIGEST_SHA256], fz, &nfz);
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
        if ((rc = extend_table(frozen, old, g2, k, &r)) != SN_OK)
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

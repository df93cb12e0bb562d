/*
 * digests.c - the compact hashed lookups of the serving index (see
 * digests.h): a number's digests, the lookups in the generation served
 * (digests_gen.c builds and grows it) and in the side maps of numbers
 * added since (sidemap.c), and the merge thread that folds those into the
 * next generation.
 *
 * The side maps are sharded by the key's top SHARD_BITS; a key's home slot
 * in its shard follows the key's order (keys are uniform digest bits), so
 * the keys of one prefix sit in one run of slots. Each number is held at
 * most once per kind across the generation, the frozen side map and the
 * live one: adds are serialised by update_lock and skip a number already
 * held. Readers take one shard's read lock and read the generation
 * pointer under it; the merge thread swaps the pointer with every shard
 * write-locked, so once it has released them no reader holds the old
 * generation.
 */
#include "index/digests.h"
#include "index/digests_gen.h"

#include "core/errors.h"
#include "core/number.h"
#include "index/blocks.h"
#include "util/thread.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SN_RANGE_BITS SN_DIGEST_RANGE_BITS
#define SHARD_BITS SN_DIGEST_SHARD_BITS /* side-map shards: 64 */
#define SHARDS SN_DIGEST_SHARDS

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

void sn_number_sha256(uint64_t n, uint8_t digest[32])
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = sn_number_format(n, text);
    crypto_hash_sha256(digest, (const uint8_t *)text, len);
}

void sn_number_md5(uint64_t n, uint8_t digest[16])
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = sn_number_format(n, text);
    if (EVP_Digest(text, len, digest, NULL, EVP_md5(), NULL) != 1)
        memset(digest, 0, 16);
}

void sn_number_sm3(uint64_t n, uint8_t digest[32])
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = sn_number_format(n, text);
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

/* ---- lookups in a generation ---------------------------------------------- */

/* The number in g's table of this kind whose digest is `digest`. */
static int generation_find(const generation *g, int kind, uint64_t key, const uint8_t *digest,
                           uint64_t *out)
{
    const table *t = &g->t[kind];
    if (t->count == 0)
        return 0;
    uint64_t b = key >> (64 - t->k), fp = sn_dgen_fp(t, key), mask = sn_dgen_pos_mask(g);
    for (size_t i = t->first[b]; i < t->first[b + 1]; i++) {
        uint64_t v = sn_dgen_ent(t, i);
        if (v >> g->pos_bits == fp &&
            digest_confirm(kind, sn_dgen_number_at(g, v & mask), digest)) {
            *out = sn_dgen_number_at(g, v & mask);
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
    uint64_t b = key >> (64 - t->k), fp = sn_dgen_fp(t, key), mask = sn_dgen_pos_mask(g);
    for (size_t i = t->first[b]; i < t->first[b + 1]; i++) {
        uint64_t v = sn_dgen_ent(t, i);
        if (v >> g->pos_bits == fp && sn_dgen_number_at(g, v & mask) == n)
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
                out[found] = sn_dgen_number_at(g, v & sn_dgen_pos_mask(g));
            found++;
        }
    }
    return found;
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
            v[(*n)++] = sn_dgen_number_at(g, sn_dgen_ent(t, i) & sn_dgen_pos_mask(g));
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
    if (d->gen != NULL && d->gen->count > 0) {
        const sn_dside *frozen[SHARDS];
        for (unsigned i = 0; i < SHARDS; i++)
            frozen[i] = d->shards[i].frozen;
        rc = sn_dgen_extend(d->gen, frozen, &g);
    }
    if (rc == 1) { /* a new shape: every number hashed again */
        rehashed = 1;
        rc = merge_numbers(d, &numbers, &n);
        if (rc == SN_OK)
            rc = sn_dgen_build(d->methods, numbers, n, d->gen, 0, &g);
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
        if (sn_side_reserve(s, 1) != SN_OK)
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
    int rc = sn_dgen_build(d->methods, numbers, n, NULL, 1, &g);
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

/* An add's numbers are taken ADD_CHUNK at a time: hashed, then
 * each kind's keys grouped by shard, so that every step takes a shard's
 * lock once for its share of the chunk, not once a number. */
#define ADD_CHUNK 1024

/* The entries of one chunk of one kind, grouped by shard: order[from[s] ..
 * from[s + 1]) are the chunk's places whose key is in shard s. */
typedef struct {
    uint16_t order[ADD_CHUNK];
    uint16_t from[SHARDS + 1];
} by_shard;

static void group(const uint64_t *keys, const uint8_t *skip, size_t n, by_shard *g)
{
    uint16_t at[SHARDS] = {0};
    for (size_t i = 0; i < n; i++)
        at[keys[i] >> (64 - SHARD_BITS)] += !skip[i];
    g->from[0] = 0;
    for (unsigned s = 0; s < SHARDS; s++) {
        g->from[s + 1] = (uint16_t)(g->from[s] + at[s]);
        at[s] = g->from[s];
    }
    for (size_t i = 0; i < n; i++)
        if (!skip[i])
            g->order[at[keys[i] >> (64 - SHARD_BITS)]++] = (uint16_t)i;
}

/* skip[i] set for each number of the chunk already held (in the table,
 * the frozen side map or the live one) or met earlier in the chunk. A
 * number's three kinds go in together (adds under update_lock, held by
 * the caller) and move together (a merge freezes and swaps every kind at
 * once; a snapshot saves them at one instant), so its SHA-256 entry stands
 * for all three; a number met twice has the same key, so the same shard. */
static void mark_held(sn_digests *d, const uint64_t *numbers, const uint64_t *keys, size_t n,
                      uint8_t *skip, by_shard *g)
{
    memset(skip, 0, n);
    group(keys, skip, n, g);
    for (unsigned i = 0; i < SHARDS; i++) {
        if (g->from[i] == g->from[i + 1])
            continue;
        shard *s = &d->shards[i];
        pthread_rwlock_rdlock(&s->lock);
        for (unsigned j = g->from[i]; j < g->from[i + 1]; j++) {
            size_t at = g->order[j];
            uint64_t key = keys[at], num = numbers[at];
            skip[at] = (d->gen != NULL && generation_has(d->gen, SN_DIGEST_SHA256, key, num)) ||
                       sn_side_has(&s->frozen[SN_DIGEST_SHA256], key, num) ||
                       sn_side_has(&s->live[SN_DIGEST_SHA256], key, num);
            for (unsigned e = g->from[i]; !skip[at] && e < j; e++)
                skip[at] = numbers[g->order[e]] == num;
        }
        pthread_rwlock_unlock(&s->lock);
    }
}

/* One chunk: every kind's room made first, then every entry put, so a
 * number's three kinds go in all or none (update_lock, held, keeps a
 * freeze from emptying the live maps in between). */
static int add_chunk(sn_digests *d, const uint64_t *numbers, size_t n)
{
    uint64_t keys[SN_DIGEST_KINDS][ADD_CHUNK];
    uint8_t skip[ADD_CHUNK];
    by_shard g[SN_DIGEST_KINDS];
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < SN_DIGEST_KINDS; k++)
            keys[k][i] = sn_digest_key(d->ctx[k], numbers[i]);
    mark_held(d, numbers, keys[SN_DIGEST_SHA256], n, skip, &g[0]);
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        group(keys[k], skip, n, &g[k]);
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        for (unsigned i = 0; i < SHARDS; i++) {
            size_t more = (size_t)(g[k].from[i + 1] - g[k].from[i]);
            if (more == 0)
                continue;
            shard *s = &d->shards[i];
            pthread_rwlock_wrlock(&s->lock);
            int rc = sn_side_reserve(&s->live[k], more);
            pthread_rwlock_unlock(&s->lock);
            if (rc != SN_OK)
                return rc;
        }
    for (int k = 0; k < SN_DIGEST_KINDS; k++)
        for (unsigned i = 0; i < SHARDS; i++) {
            if (g[k].from[i] == g[k].from[i + 1])
                continue;
            shard *s = &d->shards[i];
            pthread_rwlock_wrlock(&s->lock);
            for (unsigned j = g[k].from[i]; j < g[k].from[i + 1]; j++) {
                size_t at = g[k].order[j];
                sn_side_insert(&s->live[k], sn_side_stored_key(keys[k][at]), numbers[at]);
            }
            pthread_rwlock_unlock(&s->lock);
        }
    for (size_t i = 0; i < n; i++)
        d->live_count += !skip[i];
    return SN_OK;
}

int sn_digests_add(sn_digests *d, const uint64_t *numbers, size_t n)
{
    int rc = SN_OK;
    pthread_mutex_lock(&d->update_lock);
    for (size_t from = 0; from < n && rc == SN_OK; from += ADD_CHUNK)
        rc = add_chunk(d, numbers + from, n - from < ADD_CHUNK ? n - from : ADD_CHUNK);
    maybe_merge(d);
    pthread_mutex_unlock(&d->update_lock);
    return rc;
}

int sn_digests_find(sn_digests *d, int kind, const uint8_t *digest, uint64_t *out)
{
    if (kind < 0 || kind >= SN_DIGEST_KINDS)
        return 0;
    uint64_t key = sn_digest_key_of(digest);
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
            n += sn_dgen_bytes(d->gen);
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

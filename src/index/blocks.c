/*
 * blocks.c - the compact state store of the serving index (see blocks.h).
 *
 * Invariants, for every block, under its shard's lock:
 *   - offs[0..n) is strictly increasing; ents[i] is the state of the number
 *     id * SN_BLOCK_NUMBERS + offs[i];
 *   - an entry whose flags have FLAG_ESCAPED has its packed state in esc[],
 *     and esc[] holds exactly the offsets of such entries;
 *   - a shard's numbers and bytes are the sums over its blocks.
 * The directory of a shard is an open-addressing table of block pointers
 * (linear probing, at most 3/4 full); blocks are never removed.
 */
#include "index/blocks.h"

#include "core/errors.h"
#include "util/mix.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DIR_SHARD_BITS 6
#define DIR_SHARDS (1u << DIR_SHARD_BITS)
#define DIR_INITIAL 64 /* directory slots a shard starts with */
#define GROW_MIN 16    /* entries a block grows by at least, once it has that many */

/* The packed state (numindex.c): status in bits 0-2, first-is-activation
 * in bit 3, then three 20-bit days (0: none; 1: 1900-01-01). */
#define PACK_DAY_BITS 20
#define PACK_DAY_MASK ((UINT64_C(1) << PACK_DAY_BITS) - 1)
#define DAY_BASE 25567 /* a packed day minus this is the 16-bit day: 1 is 1970-01-01 */
#define FLAG_ESCAPED 0x10

typedef struct {
    uint16_t off;
    uint64_t packed;
} escape;

/* One allocation a block: the header, then cap offsets, then cap entries
 * (a pointer to a block changes when it grows: the directory's slot is
 * updated). */
typedef struct {
    uint64_t id; /* number / SN_BLOCK_NUMBERS */
    uint16_t n, cap;
    uint16_t nesc, escap;
    escape *esc;
    uint16_t unsorted; /* only while loading; 16 bits keep data 2-aligned */
    uint8_t data[];    /* uint16_t offs[cap], then uint8_t ents[cap][SN_BLOCK_ENTRY_BYTES] */
} block;

static uint16_t *offs_of(block *bk)
{
    return (uint16_t *)(void *)bk->data;
}

static uint8_t *ent_of(block *bk, uint32_t i)
{
    return bk->data + (size_t)bk->cap * sizeof(uint16_t) + (size_t)i * SN_BLOCK_ENTRY_BYTES;
}

static size_t alloc_size(uint32_t cap)
{
    return offsetof(block, data) + (size_t)cap * (sizeof(uint16_t) + SN_BLOCK_ENTRY_BYTES);
}

typedef struct {
    pthread_rwlock_t lock;
    block **slots; /* NULL: empty */
    size_t mask;   /* slots - 1 */
    size_t nblocks, numbers, bytes;
} dir_shard;

struct sn_blocks {
    dir_shard shards[DIR_SHARDS];
};

static size_t block_bytes(const block *bk)
{
    return alloc_size(bk->cap) + (size_t)bk->escap * sizeof(escape);
}

static void block_free(block *bk)
{
    if (bk == NULL)
        return;
    free(bk->esc);
    free(bk);
}

/* bk with room for cap entries (cap >= n): the entries move up or down to
 * their new place. NULL when out of memory (bk is then unchanged). */
static block *block_resize(block *bk, uint32_t cap)
{
    uint32_t old = bk->cap;
    if (cap > old) {
        block *grown = realloc(bk, alloc_size(cap));
        if (grown == NULL)
            return NULL;
        grown->cap = (uint16_t)cap;
        memmove(ent_of(grown, 0), grown->data + (size_t)old * sizeof(uint16_t),
                (size_t)grown->n * SN_BLOCK_ENTRY_BYTES);
        return grown;
    }
    bk->cap = (uint16_t)cap;
    memmove(ent_of(bk, 0), bk->data + (size_t)old * sizeof(uint16_t),
            (size_t)bk->n * SN_BLOCK_ENTRY_BYTES);
    block *shrunk = realloc(bk, alloc_size(cap));
    return shrunk != NULL ? shrunk : bk; /* a smaller block that stays put is still right */
}

sn_blocks *sn_blocks_new(void)
{
    sn_blocks *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    for (unsigned i = 0; i < DIR_SHARDS; i++) {
        dir_shard *s = &b->shards[i];
        if ((s->slots = calloc(DIR_INITIAL, sizeof(*s->slots))) == NULL) {
            sn_blocks_free(b);
            return NULL;
        }
        s->mask = DIR_INITIAL - 1;
        s->bytes = DIR_INITIAL * sizeof(*s->slots);
        pthread_rwlock_init(&s->lock, NULL);
    }
    return b;
}

void sn_blocks_free(sn_blocks *b)
{
    if (b == NULL)
        return;
    for (unsigned i = 0; i < DIR_SHARDS; i++) {
        dir_shard *s = &b->shards[i];
        if (s->slots == NULL)
            continue;
        for (size_t j = 0; j <= s->mask; j++)
            block_free(s->slots[j]);
        free(s->slots);
        pthread_rwlock_destroy(&s->lock);
    }
    free(b);
}

/* ---- the directory -------------------------------------------------------- */

static dir_shard *shard_of(sn_blocks *b, uint64_t id, uint64_t *h)
{
    *h = sn_mix64(id);
    return &b->shards[*h >> (64 - DIR_SHARD_BITS)];
}

/* The directory slot of block id: the block's, or the empty one it would
 * take. */
static block **dir_slot(const dir_shard *s, uint64_t id, uint64_t h)
{
    size_t i = h & s->mask;
    while (s->slots[i] != NULL && s->slots[i]->id != id)
        i = (i + 1) & s->mask;
    return &s->slots[i];
}

static int dir_grow(dir_shard *s)
{
    size_t n = (s->mask + 1) * 2;
    block **slots = calloc(n, sizeof(*slots));
    if (slots == NULL)
        return SN_ENOMEM;
    for (size_t i = 0; i <= s->mask; i++) {
        if (s->slots[i] == NULL)
            continue;
        size_t j = sn_mix64(s->slots[i]->id) & (n - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (n - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->bytes += (n - (s->mask + 1)) * sizeof(*slots);
    s->slots = slots;
    s->mask = n - 1;
    return SN_OK;
}

/* The slot of block id in s, the block made (empty, room for cap) when
 * missing; NULL when out of memory. */
static block **dir_get(dir_shard *s, uint64_t id, uint64_t h, uint32_t cap)
{
    block **slot = dir_slot(s, id, h);
    if (*slot != NULL)
        return slot;
    if ((s->nblocks + 1) * 4 > (s->mask + 1) * 3) {
        if (dir_grow(s) != SN_OK)
            return NULL;
        slot = dir_slot(s, id, h);
    }
    block *bk = calloc(1, alloc_size(cap));
    if (bk == NULL)
        return NULL;
    bk->id = id;
    bk->cap = (uint16_t)cap;
    *slot = bk;
    s->nblocks++;
    s->bytes += block_bytes(bk);
    return slot;
}

/* ---- entries -------------------------------------------------------------- */

/* Day e of a packed state as 16 bits: 0 for none, -1 when it does not fit. */
static int32_t day16(uint64_t e)
{
    if (e == 0)
        return 0;
    return e > DAY_BASE && e - DAY_BASE <= UINT16_MAX ? (int32_t)(e - DAY_BASE) : -1;
}

/* ent from packed: 1, or 0 when a day does not fit (ent is then escaped). */
static int compact(uint64_t packed, uint8_t ent[SN_BLOCK_ENTRY_BYTES])
{
    memset(ent, 0, SN_BLOCK_ENTRY_BYTES);
    ent[0] = (uint8_t)(packed & 0xf);
    for (int d = 0; d < 3; d++) {
        int32_t v = day16((packed >> (4 + d * PACK_DAY_BITS)) & PACK_DAY_MASK);
        if (v < 0) {
            memset(ent + 1, 0, SN_BLOCK_ENTRY_BYTES - 1);
            ent[0] |= FLAG_ESCAPED;
            return 0;
        }
        ent[1 + 2 * d] = (uint8_t)(v & 0xff);
        ent[2 + 2 * d] = (uint8_t)(v >> 8);
    }
    return 1;
}

static uint64_t expand(const uint8_t ent[SN_BLOCK_ENTRY_BYTES])
{
    uint64_t packed = ent[0] & 0xf;
    for (int d = 0; d < 3; d++) {
        uint64_t v = (uint64_t)ent[1 + 2 * d] | (uint64_t)ent[2 + 2 * d] << 8;
        packed |= (v == 0 ? 0 : v + DAY_BASE) << (4 + d * PACK_DAY_BITS);
    }
    return packed;
}

/* First i with offs[i] >= off (n when none). Without a branch on the
 * comparisons (a conditional move halves the range): a lookup's offsets are
 * in no order the branch predictor could learn, and its misses were a
 * third of an in-cache lookup. */
static uint32_t lower_bound(const uint16_t *offs, uint32_t n, uint16_t off)
{
    if (n == 0)
        return 0;
    const uint16_t *base = offs;
    while (n > 1) {
        uint32_t half = n / 2;
        base = base[half] < off ? base + half : base;
        n -= half;
    }
    return (uint32_t)(base - offs) + (*base < off);
}

static escape *esc_find(const block *bk, uint16_t off)
{
    for (uint32_t i = 0; i < bk->nesc; i++)
        if (bk->esc[i].off == off)
            return &bk->esc[i];
    return NULL;
}

/* Keep packed whole for off. SN_OK or SN_ENOMEM (nothing changed). */
static int esc_set(dir_shard *s, block *bk, uint16_t off, uint64_t packed)
{
    escape *e = esc_find(bk, off);
    if (e != NULL) {
        e->packed = packed;
        return SN_OK;
    }
    if (bk->nesc == bk->escap) {
        uint32_t cap = bk->escap * 2u + 2u;
        cap = cap > SN_BLOCK_NUMBERS ? SN_BLOCK_NUMBERS : cap;
        escape *grown = realloc(bk->esc, cap * sizeof(*grown));
        if (grown == NULL)
            return SN_ENOMEM;
        s->bytes += (cap - bk->escap) * sizeof(*grown);
        bk->esc = grown;
        bk->escap = (uint16_t)cap;
    }
    bk->esc[bk->nesc++] = (escape){off, packed};
    return SN_OK;
}

static void esc_drop(block *bk, uint16_t off)
{
    escape *e = esc_find(bk, off);
    if (e != NULL)
        *e = bk->esc[--bk->nesc];
}

/* Room for one more entry in *slot's block. */
static int block_reserve(dir_shard *s, block **slot)
{
    block *bk = *slot;
    if (bk->n < bk->cap)
        return SN_OK;
    /* a small block doubles (1, 2, 4, ...): most blocks of a thin spread
     * hold a number or two, and a load trims a block to its count, which
     * left a hole of up to GROW_MIN entries beside each in the heap */
    uint32_t cap =
        bk->cap < GROW_MIN ? (bk->cap == 0 ? 1u : bk->cap * 2u) : bk->cap + bk->cap / 8u + GROW_MIN;
    if (cap > SN_BLOCK_NUMBERS)
        cap = SN_BLOCK_NUMBERS;
    size_t before = block_bytes(bk);
    if ((bk = block_resize(bk, cap)) == NULL)
        return SN_ENOMEM;
    s->bytes += block_bytes(bk) - before;
    *slot = bk;
    return SN_OK;
}

/* Insert or replace off -> packed in *slot's block (its shard
 * write-locked). */
static int block_put(dir_shard *s, block **slot, uint16_t off, uint64_t packed)
{
    uint8_t ent[SN_BLOCK_ENTRY_BYTES];
    int fits = compact(packed, ent), rc;
    uint32_t i = lower_bound(offs_of(*slot), (*slot)->n, off);
    int present = i < (*slot)->n && offs_of(*slot)[i] == off;
    if (!present && (rc = block_reserve(s, slot)) != SN_OK)
        return rc;
    block *bk = *slot;
    if (!fits && (rc = esc_set(s, bk, off, packed)) != SN_OK)
        return rc;
    if (fits && present && (ent_of(bk, i)[0] & FLAG_ESCAPED))
        esc_drop(bk, off);
    if (!present) {
        memmove(offs_of(bk) + i + 1, offs_of(bk) + i, (bk->n - i) * sizeof(uint16_t));
        memmove(ent_of(bk, i + 1), ent_of(bk, i), (size_t)(bk->n - i) * SN_BLOCK_ENTRY_BYTES);
        offs_of(bk)[i] = off;
        bk->n++;
        s->numbers++;
    }
    memcpy(ent_of(bk, i), ent, SN_BLOCK_ENTRY_BYTES);
    return SN_OK;
}

/* ---- reads and writes ----------------------------------------------------- */

/* A number's packed state from entry i of bk, the one of offset off. */
static uint64_t entry_packed(block *bk, uint32_t i, uint16_t off)
{
    const uint8_t *ent = ent_of(bk, i);
    const escape *e = (ent[0] & FLAG_ESCAPED) ? esc_find(bk, off) : NULL;
    return e != NULL ? e->packed : expand(ent);
}

int sn_blocks_get(sn_blocks *b, uint64_t n, uint64_t *packed)
{
    uint64_t h, id = n / SN_BLOCK_NUMBERS;
    uint16_t off = (uint16_t)(n % SN_BLOCK_NUMBERS);
    dir_shard *s = shard_of(b, id, &h);
    int found = 0;
    pthread_rwlock_rdlock(&s->lock);
    block *bk = *dir_slot(s, id, h);
    if (bk != NULL) {
        uint32_t i = lower_bound(offs_of(bk), bk->n, off);
        if (i < bk->n && offs_of(bk)[i] == off) {
            *packed = entry_packed(bk, i, off);
            found = 1;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return found;
}

#define LINE 64 /* bytes a prefetch brings */

/* The numbers of one shard's share of a chunk (at[0..k) index numbers), its
 * read lock held. Each stage asks for the next cache line of every number
 * before the next stage reads any (the directory slot, then the block's head
 * and offsets, then the entry), so a batch's misses overlap instead of
 * following one another. */
static void get_group(dir_shard *s, const uint64_t *numbers, const uint16_t *at, size_t k,
                      const uint64_t *hs, uint64_t *packed, uint8_t *found)
{
    block *bks[SN_BLOCKS_GET_CHUNK];
    uint32_t pos[SN_BLOCKS_GET_CHUNK];
    for (size_t j = 0; j < k; j++)
        __builtin_prefetch(&s->slots[hs[j] & s->mask]);
    for (size_t j = 0; j < k; j++) {
        block *bk = s->slots[hs[j] & s->mask];
        bks[j] = bk;
        if (bk != NULL) {
            __builtin_prefetch(bk);
            __builtin_prefetch((const char *)bk + LINE);
        }
    }
    for (size_t j = 0; j < k; j++) {
        uint64_t n = numbers[at[j]], id = n / SN_BLOCK_NUMBERS;
        uint16_t off = (uint16_t)(n % SN_BLOCK_NUMBERS);
        block *bk = bks[j];
        if (bk != NULL && bk->id != id)
            bk = bks[j] = *dir_slot(s, id, hs[j]); /* a collision: probe on */
        pos[j] = UINT32_MAX;
        if (bk == NULL)
            continue;
        uint32_t i = lower_bound(offs_of(bk), bk->n, off);
        if (i < bk->n && offs_of(bk)[i] == off) {
            pos[j] = i;
            __builtin_prefetch(ent_of(bk, i));
        }
    }
    for (size_t j = 0; j < k; j++) {
        uint64_t n = numbers[at[j]];
        found[at[j]] = pos[j] != UINT32_MAX;
        if (pos[j] != UINT32_MAX)
            packed[at[j]] = entry_packed(bks[j], pos[j], (uint16_t)(n % SN_BLOCK_NUMBERS));
    }
}

/* One chunk: its numbers counted by shard, then each shard's under one read
 * lock (a lock a number was a cache line the loop threads passed back and
 * forth). */
static void get_chunk(sn_blocks *b, const uint64_t *numbers, size_t count, uint64_t *packed,
                      uint8_t *found)
{
    uint16_t start[DIR_SHARDS + 1] = {0}, at[SN_BLOCKS_GET_CHUNK];
    uint64_t h[SN_BLOCKS_GET_CHUNK], hs[SN_BLOCKS_GET_CHUNK];
    for (size_t i = 0; i < count; i++) {
        h[i] = sn_mix64(numbers[i] / SN_BLOCK_NUMBERS);
        start[(h[i] >> (64 - DIR_SHARD_BITS)) + 1]++;
    }
    for (unsigned k = 0; k < DIR_SHARDS; k++)
        start[k + 1] = (uint16_t)(start[k + 1] + start[k]);
    uint16_t fill[DIR_SHARDS];
    memcpy(fill, start, sizeof(fill));
    for (size_t i = 0; i < count; i++) {
        uint16_t j = fill[h[i] >> (64 - DIR_SHARD_BITS)]++;
        at[j] = (uint16_t)i;
        hs[j] = h[i];
    }
    for (unsigned k = 0; k < DIR_SHARDS; k++) {
        if (start[k] == start[k + 1])
            continue;
        dir_shard *s = &b->shards[k];
        pthread_rwlock_rdlock(&s->lock);
        get_group(s, numbers, at + start[k], (size_t)(start[k + 1] - start[k]), hs + start[k],
                  packed, found);
        pthread_rwlock_unlock(&s->lock);
    }
}

void sn_blocks_get_many(sn_blocks *b, const uint64_t *numbers, size_t count, uint64_t *packed,
                        uint8_t *found)
{
    for (size_t i = 0; i < count; i += SN_BLOCKS_GET_CHUNK)
        get_chunk(b, numbers + i, count - i < SN_BLOCKS_GET_CHUNK ? count - i : SN_BLOCKS_GET_CHUNK,
                  packed + i, found + i);
}

int sn_blocks_put_many(sn_blocks *b, const uint64_t *numbers, const uint64_t *packed, size_t count)
{
    dir_shard *locked = NULL;
    int rc = SN_OK;
    for (size_t i = 0; i < count && rc == SN_OK; i++) {
        uint64_t h, id = numbers[i] / SN_BLOCK_NUMBERS;
        dir_shard *s = shard_of(b, id, &h);
        if (s != locked) { /* numbers of one block come together: one lock for them */
            if (locked != NULL)
                pthread_rwlock_unlock(&locked->lock);
            pthread_rwlock_wrlock(&s->lock);
            locked = s;
        }
        block **slot = dir_get(s, id, h, 1);
        rc = slot == NULL
                 ? SN_ENOMEM
                 : block_put(s, slot, (uint16_t)(numbers[i] % SN_BLOCK_NUMBERS), packed[i]);
    }
    if (locked != NULL)
        pthread_rwlock_unlock(&locked->lock);
    return rc;
}

/* ---- loading -------------------------------------------------------------- */

typedef struct {
    uint16_t off;
    uint32_t seq; /* input order: the later of two equal offsets wins */
    uint8_t ent[SN_BLOCK_ENTRY_BYTES];
} load_entry;

static int by_off_then_seq(const void *a, const void *b)
{
    const load_entry *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort an unsorted block's entries by offset, the last of equal ones kept. */
static int block_sort(block *bk)
{
    load_entry *t = malloc((size_t)bk->n * sizeof(*t) + 1);
    uint32_t m = 0;
    if (t == NULL)
        return SN_ENOMEM;
    for (uint32_t i = 0; i < bk->n; i++) {
        t[i].off = offs_of(bk)[i];
        t[i].seq = i;
        memcpy(t[i].ent, ent_of(bk, i), SN_BLOCK_ENTRY_BYTES);
    }
    qsort(t, bk->n, sizeof(*t), by_off_then_seq);
    for (uint32_t i = 0; i < bk->n; i++) {
        if (i + 1 < bk->n && t[i + 1].off == t[i].off)
            continue; /* a later state of the same number follows */
        offs_of(bk)[m] = t[i].off;
        memcpy(ent_of(bk, m++), t[i].ent, SN_BLOCK_ENTRY_BYTES);
    }
    free(t);
    bk->n = (uint16_t)m;
    bk->unsorted = 0;
    return SN_OK;
}

/* After loading: drop escapes whose number's final entry is not escaped,
 * and give back the room of those replaced. */
static void block_clean_escapes(block *bk)
{
    for (uint32_t k = 0; k < bk->nesc;) {
        uint32_t i = lower_bound(offs_of(bk), bk->n, bk->esc[k].off);
        if (i < bk->n && (ent_of(bk, i)[0] & FLAG_ESCAPED))
            k++;
        else
            bk->esc[k] = bk->esc[--bk->nesc];
    }
    if (bk->escap == bk->nesc)
        return;
    if (bk->nesc == 0) {
        free(bk->esc);
        bk->esc = NULL;
        bk->escap = 0;
        return;
    }
    escape *esc = realloc(bk->esc, bk->nesc * sizeof(*esc));
    if (esc != NULL) {
        bk->esc = esc;
        bk->escap = bk->nesc;
    }
}

/* Append off -> packed to a loading block (room checked by the caller). */
static int load_append(dir_shard *s, block *bk, uint16_t off, uint64_t packed)
{
    uint8_t ent[SN_BLOCK_ENTRY_BYTES];
    if (!compact(packed, ent) && esc_set(s, bk, off, packed) != SN_OK)
        return SN_ENOMEM;
    uint32_t i = bk->n;
    if (i > 0 && !bk->unsorted && offs_of(bk)[i - 1] >= off) {
        if (offs_of(bk)[i - 1] == off)
            i--; /* the same number again, in order: replace */
        else
            bk->unsorted = 1;
    }
    offs_of(bk)[i] = off;
    memcpy(ent_of(bk, i), ent, SN_BLOCK_ENTRY_BYTES);
    if (i == bk->n)
        bk->n++;
    return SN_OK;
}

/* Each block of s: sorted, escapes cleaned, trimmed to its entries; the
 * shard's totals counted again. */
static int load_finish(dir_shard *s)
{
    s->numbers = 0;
    s->bytes = (s->mask + 1) * sizeof(*s->slots);
    for (size_t j = 0; j <= s->mask; j++) {
        block *bk = s->slots[j];
        if (bk == NULL)
            continue;
        if (bk->unsorted && block_sort(bk) != SN_OK)
            return SN_ENOMEM;
        if (bk->nesc > 0 || bk->escap > 0)
            block_clean_escapes(bk);
        if (bk->n < bk->cap) /* repeated numbers: give the rest back */
            s->slots[j] = bk = block_resize(bk, bk->n);
        s->numbers += bk->n;
        s->bytes += block_bytes(bk);
    }
    return SN_OK;
}

int sn_blocks_load_add(sn_blocks *b, uint64_t n, uint64_t packed)
{
    uint64_t h, id = n / SN_BLOCK_NUMBERS;
    uint16_t off = (uint16_t)(n % SN_BLOCK_NUMBERS);
    dir_shard *s = shard_of(b, id, &h);
    block **slot = dir_get(s, id, h, 0);
    if (slot == NULL)
        return SN_ENOMEM;
    if ((*slot)->n == (*slot)->cap) {
        if ((*slot)->cap < SN_BLOCK_NUMBERS)
            return block_reserve(s, slot) != SN_OK ? SN_ENOMEM : load_append(s, *slot, off, packed);
        if (block_sort(*slot) != SN_OK) /* full of repeats: fold them */
            return SN_ENOMEM;
        if ((*slot)->n == SN_BLOCK_NUMBERS) /* every offset is in: off is, sorted */
            return block_put(s, slot, off, packed);
    }
    return load_append(s, *slot, off, packed);
}

int sn_blocks_load_end(sn_blocks *b)
{
    for (unsigned i = 0; i < DIR_SHARDS; i++)
        if (load_finish(&b->shards[i]) != SN_OK)
            return SN_ENOMEM;
    return SN_OK;
}

int sn_blocks_load(sn_blocks *b, const uint64_t *numbers, const uint64_t *packed, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (sn_blocks_load_add(b, numbers[i], packed[i]) != SN_OK)
            return SN_ENOMEM;
    return sn_blocks_load_end(b);
}

int sn_blocks_each(sn_blocks *b, int (*fn)(void *ctx, uint64_t n), void *ctx)
{
    for (unsigned i = 0; i < DIR_SHARDS; i++) {
        const dir_shard *s = &b->shards[i];
        for (size_t j = 0; j <= s->mask; j++) {
            block *bk = s->slots[j];
            for (uint32_t k = 0; bk != NULL && k < bk->n; k++) {
                int rc = fn(ctx, bk->id * SN_BLOCK_NUMBERS + offs_of(bk)[k]);
                if (rc != 0)
                    return rc;
            }
        }
    }
    return 0;
}

/* ---- snapshots ------------------------------------------------------------ */

#define RECORD_HEAD 12 /* id u64, n u16, nesc u16 */
#define RECORD_ESCAPE 10

static size_t record_of(const block *bk, uint8_t *buf)
{
    size_t o = RECORD_HEAD;
    memcpy(buf, &bk->id, 8);
    memcpy(buf + 8, &bk->n, 2);
    memcpy(buf + 10, &bk->nesc, 2);
    memcpy(buf + o, bk->data, (size_t)bk->n * sizeof(uint16_t));
    o += (size_t)bk->n * sizeof(uint16_t);
    memcpy(buf + o, ent_of((block *)bk, 0), (size_t)bk->n * SN_BLOCK_ENTRY_BYTES);
    o += (size_t)bk->n * SN_BLOCK_ENTRY_BYTES;
    for (uint32_t k = 0; k < bk->nesc; k++, o += RECORD_ESCAPE) {
        memcpy(buf + o, &bk->esc[k].off, 2);
        memcpy(buf + o + 2, &bk->esc[k].packed, 8);
    }
    return o;
}

/* The ids of s's blocks now, into a new array (*n of them); NULL when out
 * of memory. A block made later holds only states put later. */
static uint64_t *shard_ids(dir_shard *s, size_t *n)
{
    pthread_rwlock_rdlock(&s->lock);
    uint64_t *ids = malloc(s->nblocks * sizeof(*ids) + 1);
    *n = 0;
    for (size_t j = 0; ids != NULL && j <= s->mask; j++)
        if (s->slots[j] != NULL)
            ids[(*n)++] = s->slots[j]->id;
    pthread_rwlock_unlock(&s->lock);
    return ids;
}

/* Blocks are looked up by id for each copy: a directory that grew
 * meanwhile has moved them to other slots. */
int sn_blocks_save(sn_blocks *b, uint8_t *buf, int (*fn)(void *ctx, const uint8_t *rec, size_t len),
                   void *ctx)
{
    for (unsigned i = 0; i < DIR_SHARDS; i++) {
        dir_shard *s = &b->shards[i];
        size_t n;
        uint64_t *ids = shard_ids(s, &n), h;
        if (ids == NULL)
            return -1;
        for (size_t k = 0; k < n; k++) {
            size_t len = 0;
            shard_of(b, ids[k], &h);
            pthread_rwlock_rdlock(&s->lock);
            const block *bk = *dir_slot(s, ids[k], h);
            if (bk != NULL && bk->n > 0)
                len = record_of(bk, buf);
            pthread_rwlock_unlock(&s->lock);
            int rc = len > 0 ? fn(ctx, buf, len) : 0;
            if (rc != 0) {
                free(ids);
                return rc;
            }
        }
        free(ids);
    }
    return 0;
}

/* Offsets strictly increasing and in range; every escape's offset present
 * with an escaped entry, once. */
static int record_valid(const block *bk)
{
    const uint16_t *offs = (const uint16_t *)(const void *)bk->data;
    for (uint32_t i = 0; i < bk->n; i++)
        if (offs[i] >= SN_BLOCK_NUMBERS || (i > 0 && offs[i] <= offs[i - 1]))
            return 0;
    uint32_t escaped = 0;
    for (uint32_t i = 0; i < bk->n; i++)
        escaped += (ent_of((block *)bk, i)[0] & FLAG_ESCAPED) != 0;
    if (escaped != bk->nesc)
        return 0;
    for (uint32_t k = 0; k < bk->nesc; k++) {
        uint32_t i = lower_bound(offs, bk->n, bk->esc[k].off);
        if (i == bk->n || offs[i] != bk->esc[k].off || !(ent_of((block *)bk, i)[0] & FLAG_ESCAPED))
            return 0;
    }
    return 1;
}

/* The block of a record whose head says n entries and nesc escapes. */
static block *record_block(const uint8_t *rec, uint16_t n, uint16_t nesc)
{
    block *bk = calloc(1, alloc_size(n));
    if (bk == NULL)
        return NULL;
    memcpy(&bk->id, rec, 8);
    bk->n = bk->cap = n;
    memcpy(bk->data, rec + RECORD_HEAD, (size_t)n * (sizeof(uint16_t) + SN_BLOCK_ENTRY_BYTES));
    if (nesc > 0 && (bk->esc = malloc(nesc * sizeof(escape))) == NULL) {
        free(bk);
        return NULL;
    }
    const uint8_t *e = rec + RECORD_HEAD + (size_t)n * (sizeof(uint16_t) + SN_BLOCK_ENTRY_BYTES);
    for (uint32_t k = 0; k < nesc; k++, e += RECORD_ESCAPE) {
        memcpy(&bk->esc[k].off, e, 2);
        memcpy(&bk->esc[k].packed, e + 2, 8);
    }
    bk->nesc = bk->escap = nesc;
    return bk;
}

int sn_blocks_restore(sn_blocks *b, const uint8_t *rec, size_t avail, size_t *used)
{
    uint16_t n, nesc;
    uint64_t h, id;
    if (avail < RECORD_HEAD)
        return SN_EINVAL;
    memcpy(&id, rec, 8);
    memcpy(&n, rec + 8, 2);
    memcpy(&nesc, rec + 10, 2);
    size_t len = RECORD_HEAD + (size_t)n * (sizeof(uint16_t) + SN_BLOCK_ENTRY_BYTES) +
                 (size_t)nesc * RECORD_ESCAPE;
    if (n == 0 || n > SN_BLOCK_NUMBERS || nesc > n || len > avail ||
        id > UINT64_MAX / SN_BLOCK_NUMBERS)
        return SN_EINVAL;
    dir_shard *s = shard_of(b, id, &h);
    if (*dir_slot(s, id, h) != NULL)
        return SN_EINVAL; /* the same block twice */
    block *bk = record_block(rec, n, nesc);
    if (bk == NULL)
        return SN_ENOMEM;
    if (!record_valid(bk)) {
        block_free(bk);
        return SN_EINVAL;
    }
    block **slot = dir_get(s, id, h, 0);
    if (slot == NULL) {
        block_free(bk);
        return SN_ENOMEM;
    }
    free(*slot);
    *slot = bk; /* load_finish counts the shard's numbers and bytes again */
    *used = len;
    return SN_OK;
}

/* ---- totals --------------------------------------------------------------- */

size_t sn_blocks_count(sn_blocks *b)
{
    size_t n = 0;
    for (unsigned i = 0; i < DIR_SHARDS; i++) {
        pthread_rwlock_rdlock(&b->shards[i].lock);
        n += b->shards[i].numbers;
        pthread_rwlock_unlock(&b->shards[i].lock);
    }
    return n;
}

size_t sn_blocks_bytes(sn_blocks *b)
{
    size_t n = sizeof(*b);
    for (unsigned i = 0; i < DIR_SHARDS; i++) {
        pthread_rwlock_rdlock(&b->shards[i].lock);
        n += b->shards[i].bytes;
        pthread_rwlock_unlock(&b->shards[i].lock);
    }
    return n;
}

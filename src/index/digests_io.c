/*
 * digests_io.c - the digest tables in the index snapshot (see digests.h):
 * one generation (digests_gen.h) written as it is in memory, and served
 * from the snapshot's mapping where it lies: no hashing, so a restart with
 * hashed checks does not compute three digests a number again, and no
 * copy (a copy was most of the tables' share of a load: fresh memory the
 * kernel zeroes, then filled). The generation owns that mapping: it is
 * unmapped when a merge replaces the generation (the snapshot file may
 * have been replaced by then: the mapping keeps its old inode until
 * then).
 *
 * Layout, in the host's byte order (the snapshot checks it), starting 8-
 * aligned in the file (the snapshot pads before it), so each field is
 * aligned where it lies:
 *   header  count (u64), nids (u64), pos_bits, k, fp_bits, bits (u32
 *           each; bits: of an entry): HEADER_BYTES
 *   ids     nids block ids (u64), sorted, distinct
 *   tables  per kind (SHA-256, MD5, SM3), when count > 0: first[(1 << k)
 *           + 1] (u32), then the count entries of `bits` bits packed
 *           (sn_dgen_ents_bytes), zero-padded to a multiple of 8 bytes
 * Only the merged tables are written, not the side maps: the side map of
 * numbers added since the last merge is small (at most the larger of
 * SN_DIGEST_SIDE_MIN and 1/SN_DIGEST_SIDE_SHARE of the tables), and a
 * load finds the states' numbers that are not in the tables anyway (it
 * must, to check the tables against the states) and adds them as a run
 * time add would, hashing those only. Writing the side maps as well would
 * need them cut at the same instant as the tables (every shard locked
 * while they are copied) for a saving of a few per cent of a rebuild.
 * Invariants checked at load, so a table read back is one digests.c could
 * have built: the shape is what sn_dgen_shape gives for count and nids;
 * bucket offsets run from 0 to count without going back; every entry's
 * position is one of the ids' (ordinal < nids); SHA-256's table holds each
 * position once (a bitmap, which also tells the states' numbers the tables
 * lack), and MD5's and SM3's hold the same positions: as many (the shape),
 * and the sums of the mixed positions and of their squares equal to
 * SHA-256's (a table that differs passes only by a coincidence of about
 * 1 in 2^64; bitmaps for them were a third of a 100M load, and a wrong
 * table cannot make a wrong answer: every candidate is confirmed by
 * hashing its number). A number of the tables with no state in the
 * snapshot is allowed (its digests went in before its state, digests.h;
 * the changes after the snapshot's position put the state), a state with
 * no entry is added.
 */
#include "core/errors.h"
#include "index/blocks.h"
#include "index/digests.h"
#include "util/grow.h"
#include "index/digests_gen.h"

#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 32
#define WORD_BITS 64
#define PREFETCH_AHEAD 16 /* entries: mark_positions asks for a word this far on */

typedef struct {
    uint64_t count, nids;
    uint32_t pos_bits, k, fp_bits, bits;
} saved_header;

static size_t padded(size_t bytes)
{
    return (bytes + 7) / 8 * 8;
}

/* Bytes of one kind's first[] and of its entries, padded. */
static size_t first_bytes(const sn_dtable *t)
{
    return (((size_t)1 << t->k) + 1) * sizeof(uint32_t);
}

static int put_table(const sn_dtable *t, int (*put)(void *, const void *, size_t), void *ctx)
{
    static const uint8_t zeros[8];
    size_t ents = sn_dgen_ents_bytes(t);
    int rc = put(ctx, t->first, first_bytes(t));
    if (rc == 0)
        rc = put(ctx, t->ents, ents);
    if (rc == 0 && padded(ents) > ents)
        rc = put(ctx, zeros, padded(ents) - ents);
    return rc;
}

int sn_digests_save(sn_digests *d, int (*put)(void *ctx, const void *p, size_t len), void *ctx)
{
    sn_dgen *g = sn_digests_hold(d);
    saved_header h = {0};
    if (g != NULL && g->count > 0)
        h = (saved_header){g->count,  g->nids,         g->pos_bits,
                           g->t[0].k, g->t[0].fp_bits, g->t[0].bits};
    int rc = put(ctx, &h, sizeof(h));
    if (rc == 0 && h.count > 0)
        rc = put(ctx, g->ids, g->nids * sizeof(uint64_t));
    for (int k = 0; k < SN_DIGEST_KINDS && rc == 0 && h.count > 0; k++)
        rc = put_table(&g->t[k], put, ctx);
    sn_digests_let_go(d, g);
    return rc;
}

/* ---- loading ---------------------------------------------------------------- */

/* g's ids and shape from the header and ids at p[0..len) (p 8-aligned):
 * whether they are ones digests.c makes; *at past them. */
static int read_shape(sn_dgen *g, uint8_t *p, size_t len, size_t *at)
{
    saved_header h;
    if (len < HEADER_BYTES)
        return SN_EINVAL;
    memcpy(&h, p, sizeof(h));
    if (h.count == 0) { /* no tables: all of the header 0 */
        *at = HEADER_BYTES;
        return h.nids == 0 && h.pos_bits == 0 && h.k == 0 && h.fp_bits == 0 && h.bits == 0
                   ? SN_OK
                   : SN_EINVAL;
    }
    if (h.count > SN_DIGEST_MAX_NUMBERS || h.nids > h.count || h.nids == 0 ||
        h.nids > (len - HEADER_BYTES) / sizeof(uint64_t))
        return SN_EINVAL;
    g->nids = (size_t)h.nids;
    g->ids = (uint64_t *)(void *)(p + HEADER_BYTES); /* 8-aligned: p and HEADER_BYTES are */
    for (size_t i = 0; i < g->nids; i++)
        if ((i > 0 && g->ids[i] <= g->ids[i - 1]) || g->ids[i] > UINT64_MAX / SN_BLOCK_NUMBERS)
            return SN_EINVAL;
    sn_dgen_shape(g, (size_t)h.count);
    const sn_dtable *t = &g->t[0];
    if (g->pos_bits != h.pos_bits || t->k != h.k || t->fp_bits != h.fp_bits || t->bits != h.bits)
        return SN_EINVAL;
    *at = HEADER_BYTES + g->nids * sizeof(uint64_t);
    return SN_OK;
}

/* Table t from p[*at..len), where it lies (*at is 4-aligned: the ids are
 * 8 bytes each, first[] 4, the entries padded to 8): its offsets checked.
 * The entries' 8 bytes of slack are what follows them (the caller made
 * sure 8 bytes follow the part). */
static int read_table(sn_dtable *t, uint8_t *p, size_t len, size_t *at)
{
    size_t nb = (size_t)1 << t->k, ents = sn_dgen_ents_bytes(t);
    if (len - *at < first_bytes(t) || len - *at - first_bytes(t) < padded(ents))
        return SN_EINVAL;
    t->first = (uint32_t *)(void *)(p + *at);
    t->ents = p + *at + first_bytes(t);
    *at += first_bytes(t) + padded(ents);
    if (t->first[0] != 0 || t->first[nb] != t->count)
        return SN_EINVAL;
    for (size_t b = 0; b < nb; b++)
        if (t->first[b + 1] < t->first[b])
            return SN_EINVAL;
    return SN_OK;
}

/* The sums (wrapping) of a table's mixed positions and of their squares:
 * equal for the same positions in any order, for different ones only by
 * coincidence. */
typedef struct {
    uint64_t a, b;
} position_sums;

static inline uint64_t mix(uint64_t x) /* splitmix64's finalizer */
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static inline void add_position(position_sums *s, uint64_t pos)
{
    uint64_t m = mix(pos);
    s->a += m;
    s->b += m * m; /* a second sum, of squares: one more multiply, not a second mix */
}

/* Sum table t's positions into *s and, when seen is not NULL, mark them
 * in seen (nids * SN_BLOCK_NUMBERS bits, clear): SN_EINVAL for a position
 * past the ids or (marking) held twice. The table is in
 * digest order, so its positions land anywhere in seen (16 MB at 100M
 * numbers): the word of the entry PREFETCH_AHEAD on is asked for early,
 * and the misses overlap instead of following one another (a third of a
 * 100M load went here without it). */
static int mark_positions(const sn_dgen *g, const sn_dtable *t, uint64_t *seen, position_sums *s)
{
    uint64_t mask = (UINT64_C(1) << g->pos_bits) - 1, end = g->nids * (uint64_t)SN_BLOCK_NUMBERS;
    for (size_t i = 0; i < t->count; i++) {
        if (seen != NULL && i + PREFETCH_AHEAD < t->count) {
            uint64_t ahead = sn_dgen_ent(t, i + PREFETCH_AHEAD) & mask;
            if (ahead < end)
                __builtin_prefetch(&seen[ahead / WORD_BITS], 1);
        }
        uint64_t pos = sn_dgen_ent(t, i) & mask, bit = UINT64_C(1) << (pos % WORD_BITS);
        if (pos >= end || (seen != NULL && (seen[pos / WORD_BITS] & bit) != 0))
            return SN_EINVAL;
        if (seen != NULL)
            seen[pos / WORD_BITS] |= bit;
        add_position(s, pos);
    }
    return SN_OK;
}

/* Every kind holds the same positions, each once; *out: SHA-256's. */
static int check_positions(const sn_dgen *g, uint64_t **out)
{
    size_t words = (g->nids * (size_t)SN_BLOCK_NUMBERS + WORD_BITS - 1) / WORD_BITS + 1;
    uint64_t *first = calloc(words, sizeof(uint64_t));
    position_sums sha = {0, 0};
    int rc = first == NULL ? SN_ENOMEM : SN_OK;
    if (rc == SN_OK)
        rc = mark_positions(g, &g->t[SN_DIGEST_SHA256], first, &sha);
    for (int k = 1; k < SN_DIGEST_KINDS && rc == SN_OK && g->count > 0; k++) {
        position_sums other = {0, 0};
        if ((rc = mark_positions(g, &g->t[k], NULL, &other)) == SN_OK &&
            (other.a != sha.a || other.b != sha.b))
            rc = SN_EINVAL;
    }
    if (rc != SN_OK) {
        free(first);
        return rc;
    }
    *out = first;
    return SN_OK;
}

/* The generation saved at map.base[off .. off + len), checked, in place
 * (it owns map, which goes with it); *seen its positions. */
static int read_generation(sn_mapping map, size_t off, size_t len, sn_dgen **out, uint64_t **seen)
{
    sn_dgen *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        sn_mapping_release(map);
        return SN_ENOMEM;
    }
    g->map = map;
    if (off % 8 != 0 || off > map.len || map.len - off < len || map.len - off - len < 8) {
        sn_dgen_free(g);
        return SN_EINVAL;
    }
    uint8_t *p = map.base + off;
    size_t at = 0;
    int rc = read_shape(g, p, len, &at);
    for (int k = 0; k < SN_DIGEST_KINDS && rc == SN_OK && g->count > 0; k++)
        rc = read_table(&g->t[k], p, len, &at);
    if (rc == SN_OK && at != len)
        rc = SN_EINVAL;
    if (rc == SN_OK)
        rc = check_positions(g, seen);
    if (rc != SN_OK) {
        sn_dgen_free(g); /* and its mapping */
        return rc;
    }
    g->refs = 1;
    *out = g;
    return SN_OK;
}

/* The states' numbers that g lacks (its position not in seen); a
 * block's numbers come together, so a block's id is looked up once. */
typedef struct {
    const sn_dgen *g;
    const uint64_t *seen;
    size_t at;      /* g's index of the last block looked up */
    uint64_t *miss; /* the numbers g lacks */
    size_t n, cap;
} lacking;

static int note_lacking(void *ctx, uint64_t number)
{
    lacking *l = ctx;
    const sn_dgen *g = l->g;
    uint64_t id = number / SN_BLOCK_NUMBERS;
    if (l->at >= g->nids || g->ids[l->at] != id)
        l->at = sn_dgen_id_search(g->ids, g->nids, id);
    uint64_t pos = l->at * (uint64_t)SN_BLOCK_NUMBERS + number % SN_BLOCK_NUMBERS;
    if (l->at < g->nids && g->ids[l->at] == id &&
        (l->seen[pos / WORD_BITS] & (UINT64_C(1) << (pos % WORD_BITS))) != 0)
        return 0;
    uint64_t *miss = sn_grow(l->miss, &l->cap, l->n, sizeof(*miss), 1024);
    if (miss == NULL)
        return SN_ENOMEM;
    l->miss = miss;
    l->miss[l->n++] = number;
    return 0;
}

int sn_digests_restore(sn_digests *d, sn_mapping map, size_t off, size_t len, sn_blocks *states)
{
    sn_dgen *g = NULL;
    uint64_t *seen = NULL;
    int rc = read_generation(map, off, len, &g, &seen);
    if (rc != SN_OK)
        return rc;
    lacking l = {g, seen, 0, NULL, 0, 0};
    rc = sn_blocks_each(states, note_lacking, &l);
    free(seen);
    if (rc != SN_OK) {
        sn_dgen_free(g);
        free(l.miss);
        return rc;
    }
    sn_digests_install(d, g);
    rc = l.n > 0 ? sn_digests_add(d, l.miss, l.n) : SN_OK;
    free(l.miss);
    return rc;
}

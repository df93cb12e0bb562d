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
 *   side    per kind: how many (u64), then the entries of its side maps,
 *           frozen and live (the numbers added since the last merge), as
 *           a side map holds them: stored key and number (u64 each)
 * The tables and the side maps are taken at one instant
 * (sn_digests_hold_all), after the snapshot has copied every block of the
 * states: a state was put after its number's digests (digests.h), so every
 * number of the saved states is in the tables or the side maps, and a load
 * puts the side maps' entries back as they were, with no hashing and
 * without looking at the states at all. (Before format 5 the side maps
 * were not saved and a load found the states' numbers the tables lacked
 * by marking every SHA-256 position in a bitmap, 1.4 s of a 3.3 s load at
 * 100M numbers, then hashed those: up to 1/16 of the tables.)
 * Checked at load, what a lookup relies on: the shape is one digests.c
 * makes for count and nids (sn_dgen_shape_check); bucket offsets run from 0 to
 * count without going back; every entry's position is one of the ids'
 * (ordinal < nids: a lookup reads ids[] at it); the three kinds hold the
 * same positions (the sums of the mixed positions and of their squares
 * equal: a table that differs passes only by a coincidence of about 1 in
 * 2^64), in one pass front to back over each table. What the snapshot's
 * checksum already rules out for a file its writer wrote is not looked for
 * again: a position held twice by all three kinds would only be an entry
 * that never answers, and a wrong table cannot make a wrong answer either,
 * every candidate being confirmed by hashing its number. A number of the
 * tables with no state in the snapshot is allowed (its digests went in
 * before its state; the changes after the snapshot's position put it).
 */
#include "core/errors.h"
#include "index/blocks.h"
#include "index/digests.h"
#include "index/digests_gen.h"

#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 32

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
    sn_dgen *g;
    sn_dside_copy side[SN_DIGEST_KINDS];
    if (sn_digests_hold_all(d, &g, side) != SN_OK)
        return SN_ENOMEM;
    saved_header h = {0};
    if (g != NULL && g->count > 0)
        h = (saved_header){g->count,  g->nids,         g->pos_bits,
                           g->t[0].k, g->t[0].fp_bits, g->t[0].bits};
    int rc = put(ctx, &h, sizeof(h));
    if (rc == 0 && h.count > 0)
        rc = put(ctx, g->ids, g->nids * sizeof(uint64_t));
    for (int k = 0; k < SN_DIGEST_KINDS && rc == 0 && h.count > 0; k++)
        rc = put_table(&g->t[k], put, ctx);
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        uint64_t count = side[k].n;
        if (rc == 0)
            rc = put(ctx, &count, sizeof(count));
        if (rc == 0 && count > 0) /* sn_dslot: key, number (u64 each), no padding */
            rc = put(ctx, side[k].slots, side[k].n * sizeof(sn_dslot));
        free(side[k].slots);
    }
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
    if (sn_dgen_shape_check(g, (size_t)h.count, h.pos_bits, h.k, h.fp_bits, h.bits) != SN_OK)
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

/* Sum table t's positions into *s, front to back: SN_EINVAL for a
 * position past the ids (a lookup would read past them). */
static int sum_positions(const sn_dgen *g, const sn_dtable *t, position_sums *s)
{
    uint64_t mask = (UINT64_C(1) << g->pos_bits) - 1, end = g->nids * (uint64_t)SN_BLOCK_NUMBERS;
    for (size_t i = 0; i < t->count; i++) {
        uint64_t pos = sn_dgen_ent(t, i) & mask, m = mix(pos);
        if (pos >= end)
            return SN_EINVAL;
        s->a += m;
        s->b += m * m; /* a second sum, of squares: one more multiply, not a second mix */
    }
    return SN_OK;
}

/* Every kind holds the same positions, each within the ids. */
static int check_positions(const sn_dgen *g)
{
    position_sums sha = {0, 0};
    int rc = sum_positions(g, &g->t[SN_DIGEST_SHA256], &sha);
    for (int k = 1; k < SN_DIGEST_KINDS && rc == SN_OK && g->count > 0; k++) {
        position_sums other = {0, 0};
        if ((rc = sum_positions(g, &g->t[k], &other)) == SN_OK &&
            (other.a != sha.a || other.b != sha.b))
            rc = SN_EINVAL;
    }
    return rc;
}

/* The side maps saved after the tables, from p[*at..len): per kind a
 * count, then that many entries (stored key, never 0, and number, u64
 * each); side[kind] a copy (they may be 4-aligned only). */
static int read_side(const uint8_t *p, size_t len, size_t *at, sn_dside_copy side[SN_DIGEST_KINDS])
{
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        uint64_t count;
        if (len - *at < sizeof(count))
            return SN_EINVAL;
        memcpy(&count, p + *at, sizeof(count));
        *at += sizeof(count);
        if (count > (len - *at) / sizeof(sn_dslot))
            return SN_EINVAL;
        if ((side[k].slots = malloc((size_t)count * sizeof(sn_dslot) + 1)) == NULL)
            return SN_ENOMEM;
        side[k].n = (size_t)count;
        memcpy(side[k].slots, p + *at, side[k].n * sizeof(sn_dslot));
        *at += side[k].n * sizeof(sn_dslot);
        for (size_t i = 0; i < side[k].n; i++)
            if (side[k].slots[i].key == 0)
                return SN_EINVAL;
    }
    return *at == len ? SN_OK : SN_EINVAL;
}

/* The generation saved at map.base[off .. off + len), checked, in place
 * (it owns map, which goes with it), and the side maps saved after it. */
static int read_generation(sn_mapping map, size_t off, size_t len, sn_dgen **out,
                           sn_dside_copy side[SN_DIGEST_KINDS])
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
    if (rc == SN_OK)
        rc = check_positions(g);
    if (rc == SN_OK)
        rc = read_side(p, len, &at, side);
    if (rc != SN_OK) {
        sn_dgen_free(g); /* and its mapping */
        return rc;
    }
    g->refs = 1;
    *out = g;
    return SN_OK;
}

int sn_digests_restore(sn_digests *d, sn_mapping map, size_t off, size_t len)
{
    sn_dgen *g = NULL;
    sn_dside_copy side[SN_DIGEST_KINDS] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    int rc = read_generation(map, off, len, &g, side);
    if (rc == SN_OK)
        sn_digests_install(d, g);
    for (int k = 0; k < SN_DIGEST_KINDS; k++) {
        if (rc == SN_OK)
            rc = sn_digests_put_side(d, k, side[k].slots, side[k].n);
        free(side[k].slots);
    }
    return rc;
}

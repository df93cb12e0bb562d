/*
 * numindex.c - the serving index (see numindex.h): the states in the
 * compact blocks of blocks.c, as 64-bit packed values (status, first is an
 * activation, three 20-bit days from 1900-01-01); the hashed lookups in
 * the compact digest tables of digests.c, or none (without_digests).
 *
 * A new number's digests go in before its state (digests never change, so
 * a known number's are never touched again): a hashed lookup may find a
 * number whose state is not in yet, never the other way round.
 */
#include "index/numindex.h"

#include "core/errors.h"
#include "index/blocks.h"
#include "index/digests.h"
#include "index/digests_gen.h"

#include <stdlib.h>
#include <string.h>

#define DAY_BITS 20
#define DAY_MASK ((1u << DAY_BITS) - 1)

struct sn_numindex {
    sn_blocks *states;   /* number -> packed state, compact (blocks.h) */
    sn_digests *digests; /* digest -> number; NULL when left out */
};

/* 1900-01-01 as an sn_day (days from 1970-01-01): a constant, not
 * sn_day_from_civil's arithmetic three times a lookup (test_numindex holds
 * them equal). */
#define MIN_DAY (-25567)

sn_day sn_numindex_min_day(void)
{
    return MIN_DAY;
}

/* Day d as 1..2^20-1, 0 for none; -1 when out of range. */
static int64_t encode_day(sn_day d)
{
    if (d == SN_DAY_NONE)
        return 0;
    int64_t e = (int64_t)d - MIN_DAY + 1;
    return e >= 1 && e <= DAY_MASK ? e : -1;
}

static sn_day decode_day(uint64_t e)
{
    return e == 0 ? SN_DAY_NONE : (sn_day)((int64_t)e - 1 + MIN_DAY);
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

sn_numindex *sn_numindex_new(void)
{
    sn_numindex *ix = calloc(1, sizeof(*ix));
    if (ix == NULL || (ix->states = sn_blocks_new()) == NULL ||
        (ix->digests = sn_digests_new()) == NULL) {
        sn_numindex_free(ix);
        return NULL;
    }
    return ix;
}

void sn_numindex_without_digests(sn_numindex *ix)
{
    sn_digests_free(ix->digests);
    ix->digests = NULL;
}

int sn_numindex_has_digests(const sn_numindex *ix)
{
    return ix->digests != NULL;
}

sn_digests *sn_numindex_digests(sn_numindex *ix)
{
    return ix->digests;
}

void sn_numindex_free(sn_numindex *ix)
{
    if (ix == NULL)
        return;
    sn_digests_free(ix->digests);
    sn_blocks_free(ix->states);
    free(ix);
}

/* ---- loading -------------------------------------------------------------- */

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

/* Every number of the states, a block's together. */
static int state_numbers(sn_numindex *ix, number_list *l)
{
    l->v = sn_dgen_alloc(sn_blocks_count(ix->states) * sizeof(uint64_t) + 1); /* huge pages */
    l->n = 0;
    if (l->v == NULL)
        return SN_ENOMEM;
    sn_blocks_each(ix->states, list_number, l);
    return SN_OK;
}

int sn_numindex_build_digests(sn_numindex *ix)
{
    number_list l;
    if (ix->digests == NULL)
        return SN_OK;
    if (state_numbers(ix, &l) != SN_OK)
        return SN_ENOMEM;
    int rc = sn_digests_build(ix->digests, l.v, l.n);
    free(l.v);
    return rc;
}

int sn_numindex_load_end(sn_numindex *ix)
{
    int rc = sn_blocks_load_end(ix->states);
    return rc != SN_OK ? rc : sn_numindex_build_digests(ix);
}

sn_blocks *sn_numindex_states(sn_numindex *ix)
{
    return ix->states;
}

void sn_numindex_forget(sn_numindex *ix)
{
    sn_blocks_free(ix->states);
    ix->states = sn_blocks_new(); /* NULL only when out of memory: a load failed anyway */
    sn_digests *fresh = ix->digests != NULL ? sn_digests_new() : NULL;
    if (fresh != NULL) { /* as new: a restore may have put tables in */
        sn_digests_free(ix->digests);
        ix->digests = fresh;
    }
}

int sn_numindex_adopt_states(sn_numindex *ix, sn_blocks *b, sn_mapping map, size_t off, size_t len)
{
    sn_blocks_free(ix->states);
    ix->states = b;
    int rc = sn_blocks_load_end(ix->states);            /* sorted and trimmed already: counts */
    if (rc != SN_OK || ix->digests == NULL || len == 0) /* else sn_digests_restore owns it */
        sn_mapping_release(map);
    if (rc == SN_OK && ix->digests != NULL) /* the saved tables, or built from the states */
        rc = len > 0 ? sn_digests_restore(ix->digests, map, off, len)
                     : sn_numindex_build_digests(ix);
    if (rc != SN_OK)
        sn_numindex_forget(ix);
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

/* ---- updates -------------------------------------------------------------- */

int sn_numindex_put_many(sn_numindex *ix, const sn_number_state *states, size_t n)
{
    /* one block: numbers, packed, fresh (the numbers not in the index yet) */
    uint64_t *numbers = malloc(3 * n * sizeof(uint64_t) + 1);
    if (numbers == NULL)
        return SN_ENOMEM;
    uint64_t *packed = numbers + n, *fresh = numbers + 2 * n;
    size_t m = 0, u = 0;
    int rc = SN_OK, failed = SN_OK;

    for (size_t i = 0; i < n; i++) { /* a state whose days do not fit is left out */
        if (pack(&states[i], &packed[m]) != SN_OK) {
            failed = SN_ELIMIT;
            continue;
        }
        numbers[m++] = states[i].number;
    }
    for (size_t i = 0; i < m && ix->digests != NULL; i++) {
        uint64_t was;
        if (!sn_blocks_get(ix->states, numbers[i], &was))
            fresh[u++] = numbers[i];
    }
    /* digests never change: add a new number's once, before its state is visible */
    if (u > 0)
        rc = sn_digests_add(ix->digests, fresh, u);
    if (rc == SN_OK)
        rc = sn_blocks_put_many(ix->states, numbers, packed, m);
    free(numbers);
    return rc != SN_OK ? rc : failed;
}

int sn_numindex_put(sn_numindex *ix, const sn_number_state *st)
{
    uint64_t packed, old;
    int rc;
    if ((rc = pack(st, &packed)) != SN_OK)
        return rc;
    if (ix->digests != NULL && !sn_blocks_get(ix->states, st->number, &old) &&
        (rc = sn_digests_add(ix->digests, &st->number, 1)) != SN_OK)
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

_Static_assert(SN_NUMINDEX_GET_CHUNK == SN_BLOCKS_GET_CHUNK, "one chunk, one directory pass");

void sn_numindex_get_many(sn_numindex *ix, const sn_number *numbers, size_t n, sn_number_state *out,
                          uint8_t *found)
{
    uint64_t packed[SN_BLOCKS_GET_CHUNK];
    for (size_t from = 0; from < n; from += SN_BLOCKS_GET_CHUNK) {
        size_t k = n - from < SN_BLOCKS_GET_CHUNK ? n - from : SN_BLOCKS_GET_CHUNK;
        sn_blocks_get_many(ix->states, numbers + from, k, packed, found + from);
        for (size_t i = 0; i < k; i++) {
            if (found[from + i])
                unpack(numbers[from + i], packed[i], &out[from + i]);
            else
                sn_state_init(&out[from + i], numbers[from + i]);
        }
    }
}

int sn_numindex_find_sha256(sn_numindex *ix, const uint8_t digest[32], sn_number *out)
{
    return ix->digests != NULL && sn_digests_find(ix->digests, SN_DIGEST_SHA256, digest, out);
}

int sn_numindex_find_md5(sn_numindex *ix, const uint8_t digest[16], sn_number *out)
{
    return ix->digests != NULL && sn_digests_find(ix->digests, SN_DIGEST_MD5, digest, out);
}

int sn_numindex_find_sm3(sn_numindex *ix, const uint8_t digest[32], sn_number *out)
{
    return ix->digests != NULL && sn_digests_find(ix->digests, SN_DIGEST_SM3, digest, out);
}

int sn_numindex_range_sha256(sn_numindex *ix, uint32_t prefix, sn_number *out, size_t max,
                             size_t *n)
{
    *n = 0;
    return ix->digests == NULL ? SN_OK : sn_digests_range(ix->digests, prefix, out, max, n);
}

size_t sn_numindex_count(sn_numindex *ix)
{
    return sn_blocks_count(ix->states);
}

size_t sn_numindex_bytes(sn_numindex *ix)
{
    size_t n = sizeof(*ix) + sn_blocks_bytes(ix->states);
    return ix->digests != NULL ? n + sn_digests_bytes(ix->digests) : n;
}

/*
 * sidemap.c - the digest tables' side maps (digests.h): numbers added at
 * run time, by digest key, until a merge puts them in the tables. Open
 * addressing with linear probing, at most 3/4 full; a key's home sn_dslot
 * follows the key's order below the shard bits (keys are uniform digest
 * bits), so the keys of one range prefix sit in one run of slots. A key 0
 * is stored as 1 (0 marks an empty sn_dslot). The caller (digests.c) holds
 * the map's shard lock: read for finds and ranges, write for the rest.
 */
#include "core/errors.h"
#include "index/digests_gen.h"

#include <stdlib.h>

#define SIDE_INITIAL 64 /* slots of a side map when first used */

static unsigned bits_for(uint64_t v) /* bits to write 0..v */
{
    unsigned b = 1;
    while (b < 64 && (v >> b) != 0)
        b++;
    return b;
}

static size_t side_home(const sn_dside *s, uint64_t key)
{
    return (size_t)((key << SN_DIGEST_SHARD_BITS) >> (64 - s->bits));
}

uint64_t sn_side_stored_key(uint64_t key)
{
    return key == 0 ? 1 : key;
}

int sn_side_find(const sn_dside *s, int kind, uint64_t key, const uint8_t *digest,
                 sn_digest_confirm_fn confirm, uint64_t *out)
{
    if (s->slots == NULL)
        return 0;
    key = sn_side_stored_key(key);
    for (size_t i = side_home(s, key); s->slots[i].key != 0; i = (i + 1) & s->mask) {
        if (s->slots[i].key == key && confirm(kind, s->slots[i].number, digest)) {
            *out = s->slots[i].number;
            return 1;
        }
    }
    return 0;
}

int sn_side_has(const sn_dside *s, uint64_t key, uint64_t n)
{
    if (s->slots == NULL)
        return 0;
    key = sn_side_stored_key(key);
    for (size_t i = side_home(s, key); s->slots[i].key != 0; i = (i + 1) & s->mask)
        if (s->slots[i].key == key && s->slots[i].number == n)
            return 1;
    return 0;
}

void sn_side_insert(sn_dside *s, uint64_t key, uint64_t n)
{
    size_t i = side_home(s, key);
    while (s->slots[i].key != 0)
        i = (i + 1) & s->mask;
    s->slots[i] = (sn_dslot){key, n};
    s->count++;
}

/* Room in s for `more` more at most 3/4 full (its shard write-locked). */
int sn_side_reserve(sn_dside *s, size_t more)
{
    if (s->slots != NULL && (s->count + more) * 4 <= (s->mask + 1) * 3)
        return SN_OK;
    size_t n = s->slots == NULL ? SIDE_INITIAL : (s->mask + 1) * 2;
    while ((s->count + more) * 4 > n * 3)
        n *= 2;
    sn_dside bigger = {calloc(n, sizeof(sn_dslot)), n - 1, bits_for(n - 1), 0};
    if (bigger.slots == NULL)
        return SN_ENOMEM;
    for (size_t i = 0; s->slots != NULL && i <= s->mask; i++)
        if (s->slots[i].key != 0)
            sn_side_insert(&bigger, s->slots[i].key, s->slots[i].number);
    free(s->slots);
    *s = bigger;
    return SN_OK;
}

void sn_side_free(sn_dside *s)
{
    free(s->slots);
    *s = (sn_dside){NULL, 0, 0, 0};
}

/* Like generation_range, over side map s of the prefix's shard. Every key
 * of the prefix has its home in [home(lo), home(hi)] and sits at or after
 * it with no empty slot between, so the run from there to the first empty
 * slot past home(hi) holds them all. */
size_t sn_side_range(const sn_dside *s, uint64_t prefix, uint64_t *out, size_t max, size_t found)
{
    if (s->slots == NULL)
        return found;
    unsigned shift = 64 - SN_DIGEST_RANGE_BITS;
    uint64_t lo = prefix << shift, hi = lo | ((UINT64_C(1) << shift) - 1);
    size_t a = side_home(s, sn_side_stored_key(lo)), span = side_home(s, hi) - a;
    for (size_t j = 0; j <= s->mask; j++) {
        const sn_dslot *e = &s->slots[(a + j) & s->mask];
        if (e->key == 0) {
            if (j >= span)
                break;
            continue;
        }
        if (e->key >> shift == prefix) {
            if (found < max)
                out[found] = e->number;
            found++;
        }
    }
    return found;
}

void sn_side_numbers(const sn_dside *s, uint64_t *out, size_t *n)
{
    for (size_t i = 0; s->slots != NULL && i <= s->mask; i++)
        if (s->slots[i].key != 0)
            out[(*n)++] = s->slots[i].number;
}

void sn_side_slots(const sn_dside *s, sn_dslot *out, size_t *n)
{
    for (size_t i = 0; s->slots != NULL && i <= s->mask; i++)
        if (s->slots[i].key != 0)
            out[(*n)++] = s->slots[i];
}

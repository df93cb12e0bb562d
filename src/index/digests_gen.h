/*
 * digests_gen.h - private to src/index: a generation of the digest tables
 * (digests_gen.c builds and grows it, digests.c serves it, digests_io.c
 * writes and reads it for the index snapshot), and the side maps of
 * numbers added since the last merge (sidemap.c). The invariants of a
 * table and a generation are in digests_gen.c's top comment. A
 * generation never changes once built; it is
 * freed when the last of its holders (the digests it serves, a snapshot
 * being written) lets it go.
 */
#ifndef SN_DIGESTS_GEN_H
#define SN_DIGESTS_GEN_H

#include "index/blocks.h"
#include "index/digests.h"

#include <openssl/evp.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t *ents;   /* count entries of `bits` bits, packed: sn_dgen_ents_bytes, then 8 of slack */
    uint32_t *first; /* (1 << k) + 1 offsets */
    unsigned k, fp_bits, bits;
    size_t count;
} sn_dtable;

typedef struct {
    uint64_t *ids; /* sorted block ids (number / SN_BLOCK_NUMBERS) */
    size_t nids;
    unsigned pos_bits;
    sn_dtable t[SN_DIGEST_KINDS];
    size_t count;
    unsigned refs;  /* holders, under the digests' lock once shared */
    sn_mapping map; /* base not NULL: ids and tables lie in it (a snapshot's, read-only) */
} sn_dgen;

/* Bits of a digest key naming the side-map shard (64 shards), and of the
 * range check's prefix (numindex.h's SN_RANGE_PREFIX_BITS). */
#define SN_DIGEST_SHARD_BITS 6
#define SN_DIGEST_SHARDS (1u << SN_DIGEST_SHARD_BITS)
#define SN_DIGEST_RANGE_BITS 20

/* A side map (sidemap.c): numbers added since the last merge, by key. */
typedef struct {
    uint64_t key, number; /* key 0: empty (a 0 key is stored as 1) */
} sn_dslot;

typedef struct {
    sn_dslot *slots; /* NULL until first used */
    size_t mask;     /* slots - 1 */
    unsigned bits;
    size_t count;
} sn_dside;

/* The key as a slot holds it (0 is stored as 1). */
uint64_t sn_side_stored_key(uint64_t key);
/* The number of this kind whose digest is `digest` (key its first 8
 * bytes, big-endian): 1 and *out, or 0. */
/* Whether number n's digest of this kind is `digest` (digests.c gives it:
 * the side maps hold keys, not digests). */
typedef int (*sn_digest_confirm_fn)(int kind, uint64_t n, const uint8_t *digest);
int sn_side_find(const sn_dside *s, int kind, uint64_t key, const uint8_t *digest,
                 sn_digest_confirm_fn confirm, uint64_t *out);
/* Whether number n (whose key is key) is in s. */
int sn_side_has(const sn_dside *s, uint64_t key, uint64_t n);
/* Put n under key (stored form), after sn_side_reserve. */
void sn_side_insert(sn_dside *s, uint64_t key, uint64_t n);
/* Room for `more` more: SN_OK or SN_ENOMEM. */
int sn_side_reserve(sn_dside *s, size_t more);
void sn_side_free(sn_dside *s);
/* The numbers of s whose key has top SN_DIGEST_RANGE_BITS bits `prefix`,
 * into out[found..max); returns found + how many (counting past max). */
size_t sn_side_range(const sn_dside *s, uint64_t prefix, uint64_t *out, size_t max, size_t found);
/* Every number of s appended to out at *n. */
void sn_side_numbers(const sn_dside *s, uint64_t *out, size_t *n);
/* Every entry of s (its stored key and number) appended to out at *n. */
void sn_side_slots(const sn_dside *s, sn_dslot *out, size_t *n);

/* The shape of each table of a build for n numbers over g->nids blocks. */
void sn_dgen_shape(sn_dgen *g, size_t n);

/* Shape g's tables as a saved generation of n numbers says (position,
 * fingerprint and entry bits, k): SN_OK when it is a shape digests.c makes
 * for n numbers over g->nids blocks (a build's, or one a merge grew from a
 * build's without hashing), else SN_EINVAL. */
int sn_dgen_shape_check(sn_dgen *g, size_t n, unsigned pos_bits, unsigned k, unsigned fp_bits,
                        unsigned bits);

/* Memory for a table (huge pages when big), freed with free(). */
void *sn_dgen_alloc(size_t bytes);

/* Bytes of t's packed entries (the 8 spare bytes after them not counted). */
static inline size_t sn_dgen_ents_bytes(const sn_dtable *t)
{
    return (t->count * t->bits + 7) / 8;
}

/* Entry i of table t: bits i * t->bits .. of the entries, little-endian
 * (inline: the lookups and the load's checks read entries in tight loops).
 * An entry is at most 56 bits (sn_dgen_shape), so the 8 bytes from its
 * first byte hold it whole; the table ends with 8 spare bytes. */
static inline uint64_t sn_dgen_ent(const sn_dtable *t, size_t i)
{
    size_t bit = i * t->bits;
    const uint8_t *p = t->ents + bit / 8;
    uint64_t v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, sizeof(v));
#else
    v = 0;
    for (unsigned b = 8; b-- > 0;)
        v = v << 8 | p[b];
#endif
    return (v >> (bit % 8)) & ((UINT64_C(1) << t->bits) - 1);
}

/* Lower bound of id in ids[0..n): a block id's ordinal when it is there.
 * Without a branch on the comparison (its 0 or 1 times the step): the ids a
 * merge or a lookup asks for come in no order, so a branch would be
 * mispredicted half the time. Invariant: the ids left of b are < id, those
 * right of b + len are >= id. */
static inline size_t sn_dgen_id_search(const uint64_t *ids, size_t n, uint64_t id)
{
    const uint64_t *b = ids;
    size_t len = n;
    if (len == 0)
        return 0;
    while (len > 1) {
        size_t half = len / 2;
        b += (size_t)(b[half - 1] < id) * half;
        len -= half;
    }
    return (size_t)(b - ids) + (*b < id);
}

/* The position bits of an entry of g. */
static inline uint64_t sn_dgen_pos_mask(const sn_dgen *g)
{
    return (UINT64_C(1) << g->pos_bits) - 1;
}

/* The number at position pos of g (an entry's low pos_bits). */
static inline uint64_t sn_dgen_number_at(const sn_dgen *g, uint64_t pos)
{
    return g->ids[pos / SN_BLOCK_NUMBERS] * SN_BLOCK_NUMBERS + pos % SN_BLOCK_NUMBERS;
}

/* The fingerprint t keeps of a key: its fp_bits below the top k. */
static inline uint64_t sn_dgen_fp(const sn_dtable *t, uint64_t key)
{
    return (key << t->k) >> (64 - t->fp_bits);
}

/* Bytes g holds (its own, or its share of a mapping). */
size_t sn_dgen_bytes(const sn_dgen *g);

/* A digest's key: its first 8 bytes, big-endian (the key's order is the
 * digest's). */
static inline uint64_t sn_digest_key_of(const uint8_t *digest)
{
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | digest[i];
    return k;
}

/* The key of number n's digest with ctx's algorithm (of its E.164 text,
 * sn_number_format's). */
uint64_t sn_digest_key(EVP_MD_CTX *ctx, uint64_t n);

/* A generation (refs 1) for the distinct numbers[0..n), each hashed with
 * methods[kind]: with parallel, a thread a kind (a start waits for it),
 * else one after the other (a merge, beside the serving threads). base:
 * the generation they mostly come from, whose sorted block ids are taken
 * over, or NULL. SN_OK or SN_ENOMEM. */
int sn_dgen_build(EVP_MD *const *methods, const uint64_t *numbers, size_t n, const sn_dgen *base,
                  int parallel, sn_dgen **out);

/* Each shard's frozen side maps, one a kind: frozen[shard][kind]. */
typedef const sn_dside *const sn_dfrozen[SN_DIGEST_SHARDS];

/* The generation after old (refs 1): old's entries and the frozen maps'
 * (their slots hold the keys), with no hashing. SN_OK, SN_ENOMEM, or 1
 * when old's fingerprints lack the bits the new bucket count takes from
 * them (then the caller builds it, hashing every number). */
int sn_dgen_extend(const sn_dgen *old, sn_dfrozen frozen, sn_dgen **out);

/* Free g's memory (whatever holds it): its mapping, or its own tables. */
void sn_dgen_free(sn_dgen *g);

/* The generation d serves now, held until sn_digests_let_go (NULL: none). */
sn_dgen *sn_digests_hold(sn_digests *d);
void sn_digests_let_go(sn_digests *d, sn_dgen *g);

/* A copy of one kind's side-map entries, frozen and live. */
typedef struct {
    sn_dslot *slots; /* malloc'd */
    size_t n;
} sn_dside_copy;

/* The generation d serves (*g, held as sn_digests_hold does; NULL: none)
 * and every kind's side-map entries (side[kind], keys and numbers), taken
 * at one instant: under the update lock (no add or freeze under way) and
 * shard 0's read lock (no swap), each shard's own read lock taken in turn
 * while it is copied. Every number whose add returned before the call is
 * then in exactly one of the two, in all three kinds. Adds wait for the
 * copy, lookups do not. SN_OK or SN_ENOMEM (nothing held or copied). */
int sn_digests_hold_all(sn_digests *d, sn_dgen **g, sn_dside_copy side[SN_DIGEST_KINDS]);

/* Put slots[0..n) (stored keys and numbers, as sn_digests_hold_all copied
 * them) in d's live side map of this kind, with no hashing: only while d
 * is unshared (sn_digests_restore). SN_OK or SN_ENOMEM. */
int sn_digests_put_side(sn_digests *d, int kind, const sn_dslot *slots, size_t n);

/* Make g (refs 1) the generation of d, which must be new and unshared. */
void sn_digests_install(sn_digests *d, sn_dgen *g);

#endif

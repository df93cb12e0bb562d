/*
 * digests.h - the serving index's hashed lookups, compact: the SHA-256,
 * MD5 and SM3 of a number's E.164 text -> the number, in about 4 bytes a
 * number and digest kind (4.4 at 100M dense numbers, 5 at 1.8 billion).
 *
 * Each kind is a table sorted by digest: entries grouped in buckets by the
 * digest's top k bits (k about log2(numbers / 32), a 32-bit offset a
 * bucket), each entry holding the next few digest bits (its fingerprint)
 * and the number's position (the ordinal of its block of SN_BLOCK_NUMBERS
 * in a sorted table of block ids, times SN_BLOCK_NUMBERS, plus its offset
 * in the block), packed in bits, entry after entry. A lookup reads one
 * bucket and confirms each entry whose fingerprint matches by hashing its
 * number, so a fingerprint collision costs a hash, never a wrong answer.
 * The range check (every number whose SHA-256 starts with 20 given bits)
 * reads the buckets of the prefix; k + the fingerprint's bits are kept at
 * 20 or more, so the stored bits alone decide it.
 *
 * A sorted table takes no insert, so numbers added at run time go into a
 * small side map (sharded open addressing, 16 bytes a number and kind);
 * past SN_DIGEST_SIDE_MIN numbers or 1/SN_DIGEST_SIDE_SHARE of the table,
 * a merge thread freezes the side map, builds the next tables from the
 * current ones and the frozen map outside any lock readers take, and swaps
 * them in under every shard's write lock: a reader always sees a number in
 * the tables, the frozen map or the live one, and waits at most for the
 * swap. Numbers never leave (the index removes none).
 * Thread-safe after sn_digests_build (or with no build at all).
 */
#ifndef SN_DIGESTS_H
#define SN_DIGESTS_H

#include <stddef.h>
#include <stdint.h>

#include "index/blocks.h"

enum { SN_DIGEST_SHA256, SN_DIGEST_MD5, SN_DIGEST_SM3, SN_DIGEST_KINDS };

/* A merge is started once the side map holds more than the larger of these:
 * SN_DIGEST_SIDE_MIN numbers, or the tables' numbers / SN_DIGEST_SIDE_SHARE.
 * While a merge runs, the side map keeps taking numbers past the mark. */
#define SN_DIGEST_SIDE_MIN 65536
#define SN_DIGEST_SIDE_SHARE 16

/* Numbers a table can hold (its bucket offsets are 32-bit): a build of
 * more is refused, and no merge is started past it (the side map keeps
 * the numbers). */
#define SN_DIGEST_MAX_NUMBERS 4000000000u

typedef struct sn_digests sn_digests;

sn_digests *sn_digests_new(void);
void sn_digests_free(sn_digests *d);

/* Replace the tables with ones for numbers[0..n) (distinct, in any order;
 * fastest with a block's numbers together). Only before the tables are
 * shared between threads. SN_OK, SN_ENOMEM, or SN_ELIMIT past
 * SN_DIGEST_MAX_NUMBERS. */
int sn_digests_build(sn_digests *d, const uint64_t *numbers, size_t n);

/* Add numbers[0..n) at run time (any thread); one already in is skipped.
 * Their lookups answer once this returns. SN_OK or SN_ENOMEM. */
int sn_digests_add(sn_digests *d, const uint64_t *numbers, size_t n);

/* The number whose E.164 text has this digest (32 bytes for SHA-256 and
 * SM3, 16 for MD5): 1 and *out, or 0. */
int sn_digests_find(sn_digests *d, int kind, const uint8_t *digest, uint64_t *out);

/* The numbers whose SHA-256 starts with the 20 bits of prefix, into
 * out[0..max), *n of them: SN_OK, or SN_ELIMIT when there are more. */
int sn_digests_range(sn_digests *d, uint32_t prefix, uint64_t *out, size_t max, size_t *n);

/* Numbers held, and the bytes of the tables and side maps. */
size_t sn_digests_count(sn_digests *d);
size_t sn_digests_bytes(sn_digests *d);

/* For tests and benchmarks: the side map's merge mark (at least 1) in
 * place of SN_DIGEST_SIDE_MIN; wait for any merge asked for or under way
 * to finish; how many merges have finished, and (rehashed, may be NULL)
 * how many of them hashed every number again (a new table shape) rather
 * than copying the table and adding the side map's entries. */
void sn_digests_set_side_min(sn_digests *d, size_t min);
void sn_digests_settle(sn_digests *d);
unsigned long sn_digests_merges(sn_digests *d, unsigned long *rehashed);

/* ---- the index snapshot (digests_io.c) ------------------------------------
 * The tables d serves when called and the numbers of its side maps (taken
 * at one instant, sn_digests_hold_all), written through put(ctx, bytes,
 * len): a non-zero return from put stops and is returned, SN_ENOMEM when
 * the side maps' numbers cannot be copied. d may be in use: the tables
 * are held, not copied, and a merge meanwhile goes on. Called after the
 * states were saved, every saved state's number is in what it writes. */
int sn_digests_save(sn_digests *d, int (*put)(void *ctx, const void *p, size_t len), void *ctx);

/* A read-only mapping (mmap) of part of a snapshot file; base NULL: none. */
typedef struct {
    uint8_t *base; /* page-aligned */
    size_t len;
} sn_mapping;

/* Unmap m (nothing when its base is NULL). */
void sn_mapping_release(sn_mapping m);

/* Give d (new, unshared, no tables yet) the tables saved at
 * map.base[off .. off + len), served where they lie (not copied: d owns
 * map from the call on, unmapped when a merge replaces the tables or d is
 * freed, or at once when refused), then add the side maps' numbers saved
 * after them, hashing those only. The map must hold 8 bytes past the part
 * (the entries' slack: the snapshot's length and checksum follow it) and
 * off be a multiple of 8. Refused (SN_EINVAL, d unchanged) unless the part
 * is whole tables of this build's shape whose kinds hold the same
 * positions, each within the block ids, then the numbers to its end.
 * SN_OK, SN_EINVAL, SN_ENOMEM. */
int sn_digests_restore(sn_digests *d, sn_mapping map, size_t off, size_t len);

/* SHA-256, MD5 and SM3 of a number's E.164 text ("+8613812345678"). */
void sn_number_sha256(uint64_t n, uint8_t digest[32]);
void sn_number_md5(uint64_t n, uint8_t digest[16]);
void sn_number_sm3(uint64_t n, uint8_t digest[32]);

#endif

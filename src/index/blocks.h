/*
 * blocks.h - the serving index's states, compact: number -> the 64-bit
 * packed state numindex.c makes, in about 9 bytes a number.
 *
 * Numbers are grouped in blocks of SN_BLOCK_NUMBERS consecutive numbers (a
 * Chinese block of 10,000 shares its first seven digits, and carriers hand
 * numbers out a block at a time). A block keeps its numbers' offsets in the
 * block as a sorted array of 16-bit values and, in the same order, each
 * number's state in SN_BLOCK_ENTRY_BYTES bytes: the status and whether the
 * first record was an activation in one byte, then the three days as 16-bit
 * day numbers from 1970 (0 for none). A state with a day those 16 bits do
 * not hold (before 1970 or after 2149) is kept whole in the block's short
 * escape list instead. Blocks are found through a directory split in
 * shards, each under its own readers-writer lock: a reader waits only for a
 * writer of its shard, and a writer holds a shard for one block's update.
 */
#ifndef SN_BLOCKS_H
#define SN_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#define SN_BLOCK_NUMBERS 10000 /* consecutive numbers in a block */
#define SN_BLOCK_ENTRY_BYTES 7 /* a state in a block: flags + three 16-bit days */

typedef struct sn_blocks sn_blocks;

sn_blocks *sn_blocks_new(void);
void sn_blocks_free(sn_blocks *b);

/* The packed state of number n: 1 when present, else 0. */
int sn_blocks_get(sn_blocks *b, uint64_t n, uint64_t *packed);

/* The packed states of numbers[0..count) into packed[i], found[i] 1 when
 * numbers[i] is present (packed[i] then set), else 0: the answers of
 * count sn_blocks_get, a batch's lookups in a fraction of their time (one
 * read lock a shard for many numbers, their cache misses overlapped). A
 * reader still waits only for a writer of one shard at a time. */
void sn_blocks_get_many(sn_blocks *b, const uint64_t *numbers, size_t count, uint64_t *packed,
                        uint8_t *found);
#define SN_BLOCKS_GET_CHUNK 512 /* numbers get_many sorts by shard at once: callers pass as many   \
                                 */

/* Insert or replace numbers[i] -> packed[i] for i < count, in that order
 * (a later state of a number replaces an earlier one). SN_OK or SN_ENOMEM
 * (the puts before the failing one are in). */
int sn_blocks_put_many(sn_blocks *b, const uint64_t *numbers, const uint64_t *packed, size_t count);

/* Fill an empty, unshared directory at once: sn_blocks_load_add for each
 * pair, then sn_blocks_load_end (the same result as sn_blocks_put_many,
 * much faster for many numbers in any order). SN_OK or SN_ENOMEM. */
int sn_blocks_load(sn_blocks *b, const uint64_t *numbers, const uint64_t *packed, size_t count);

/* Fill an empty, unshared directory a number at a time, in any order (a
 * scan of the store, without an array of every state first): blocks grow
 * as numbers come and are trimmed by sn_blocks_load_end, which must follow
 * the last sn_blocks_load_add before the directory is shared. SN_OK or
 * SN_ENOMEM. */
int sn_blocks_load_add(sn_blocks *b, uint64_t n, uint64_t packed);
int sn_blocks_load_end(sn_blocks *b);

/* fn(ctx, number) for every number, in no particular order, until fn
 * returns non-zero (returned). Only while the directory is not shared. */
int sn_blocks_each(sn_blocks *b, int (*fn)(void *ctx, uint64_t n), void *ctx);

/* ---- snapshots (snapshot.c) ------------------------------------------------
 * A block as a record: its id (u64), n and nesc (u16 each), offs[n] (u16),
 * ents[n][SN_BLOCK_ENTRY_BYTES], then nesc escapes as (off u16, packed
 * u64), in the host's byte order, packed without padding. */
#define SN_BLOCK_RECORD_MAX                                                                        \
    (12 + SN_BLOCK_NUMBERS * (2 + SN_BLOCK_ENTRY_BYTES) + SN_BLOCK_NUMBERS * 10)

/* fn(ctx, record, bytes) for every block there was when called (those
 * made since may be left out), each copied under its shard's read lock into
 * buf (SN_BLOCK_RECORD_MAX bytes), so a writer of the index waits one
 * block's copy at most; the directory may be shared. A non-zero return
 * from fn stops and is returned (-1: out of memory). */
int sn_blocks_save(sn_blocks *b, uint8_t *buf, int (*fn)(void *ctx, const uint8_t *rec, size_t len),
                   void *ctx);

/* Add the block of the record at rec (at most avail bytes; *used set to its
 * length) to an unshared directory: SN_OK, SN_EINVAL for a record that is
 * not one (short, offsets out of order, a block already there, escapes
 * that do not match), SN_ENOMEM. sn_blocks_load_end after the last. */
int sn_blocks_restore(sn_blocks *b, const uint8_t *rec, size_t avail, size_t *used);

/* Numbers present, and the bytes the blocks and the directory take. */
size_t sn_blocks_count(sn_blocks *b);
size_t sn_blocks_bytes(sn_blocks *b);

#endif

/*
 * numindex.h - the serving index: every number's check state in memory.
 *
 * A check must not touch the store (one SQLite lookup costs more than the
 * whole HTTP budget), so the server answers from this index: number ->
 * the verdict fields of its state (status, whether the first record was an
 * activation, and the first, latest-activation and latest-cancellation
 * days), kept in blocks of 10,000 consecutive numbers at about 9 bytes a
 * number (blocks.h). Three more
 * tables answer hashed questions: SHA-256, MD5 and SM3 of the E.164 text
 * -> number, in sorted digest tables of about 4 bytes a number each (a few
 * digest bits and the number's position), confirmed by hashing the number
 * again (digests.h). The SHA-256 table also answers the range check (every
 * number whose SHA-256 starts with 20 given bits) from one or a few of its
 * buckets, with no memory of its own. Numbers added at run time go into a
 * small side map, merged into new tables in the background.
 * A node that needs no hashed questions leaves the digest tables out.
 *
 * The index follows the store: it is built from the store at start and
 * updated with the states a batch changed, after that batch committed
 * (ledger.h's observer), so it never runs ahead of the log.
 * Thread-safe: sharded, each shard under its own readers-writer lock.
 */
#ifndef SN_NUMINDEX_H
#define SN_NUMINDEX_H

#include "core/lifecycle.h"
#include "index/digests.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sn_numindex sn_numindex;

/* First and last day the index can represent (1900-01-01 .. 4770-ish). */
sn_day sn_numindex_min_day(void);

sn_numindex *sn_numindex_new(void);
void sn_numindex_free(sn_numindex *ix);

/* Leave the digest tables out (serve --hashed-checks off): the index then
 * holds states only, the finds below say 0 and a range lists nothing.
 * Only on a new index, before its first load or put. */
void sn_numindex_without_digests(sn_numindex *ix);

/* Whether the index answers hashed questions (1 unless left out). */
int sn_numindex_has_digests(const sn_numindex *ix);

/* Insert or replace the state of st->number. SN_OK, SN_ENOMEM, or SN_ELIMIT
 * for a day outside the representable range. */
int sn_numindex_put(sn_numindex *ix, const sn_number_state *st);

/* The same for states[0..n), in that order (a later state of a number
 * replaces an earlier one), at a fraction of the cost per state of n single
 * puts. A state whose days do not fit is left out and the others are put:
 * SN_ELIMIT then. SN_ENOMEM may leave the batch partly put. */
int sn_numindex_put_many(sn_numindex *ix, const sn_number_state *states, size_t n);

/* Fill an empty index with states[0..n) at once, as the pair below does a
 * state at a time (serve's way). Only before the index is shared between
 * threads. SN_OK, SN_ENOMEM or SN_ELIMIT (a day out of range). */
int sn_numindex_load(sn_numindex *ix, const sn_number_state *states, size_t n);

/* The same a state at a time (a scan of the store, without an array of
 * every state first): sn_numindex_load_add for each state, in any order,
 * then sn_numindex_load_end once, which builds the digest tables; both only
 * before the index is shared. SN_OK, SN_ENOMEM or SN_ELIMIT (a day out of
 * range: nothing of that state is put). */
int sn_numindex_load_add(sn_numindex *ix, const sn_number_state *st);
int sn_numindex_load_end(sn_numindex *ix);

/* ---- snapshots (snapshot.h) ---------------------------------------------- */
struct sn_blocks;

/* The index's states (blocks.h), for a snapshot to copy. */
struct sn_blocks *sn_numindex_states(sn_numindex *ix);

/* Fill an empty, unshared index with the states of b (loaded with
 * sn_blocks_restore and sn_blocks_load_end), which it then owns, and its
 * digest tables with those saved at map.base[off .. off + len)
 * (sn_digests_save), served where they lie (sn_digests_restore: the
 * tables own map), adding the side maps' numbers saved with them; with
 * len 0 (none saved), built from the states. An index that leaves digests out ignores
 * them (and unmaps map). SN_OK, SN_EINVAL (the saved tables are not ones
 * digests.c makes) or SN_ENOMEM: b and map are then freed and the index
 * stays empty. */
int sn_numindex_adopt_states(sn_numindex *ix, struct sn_blocks *b, sn_mapping map, size_t off,
                             size_t len);

/* Empty an index that nothing shares yet again (what a load put in: the
 * states and the digest tables), as sn_numindex_new left it. */
void sn_numindex_forget(sn_numindex *ix);
/* Build the digest tables from the states in the index (sn_numindex_load_end
 * does; an index whose states were loaded another way, such as from a
 * snapshot of its blocks, calls it once after). Only before the index is
 * shared. Costs three digests a number (about 1 s a million numbers on one
 * core). SN_OK (also without digests), SN_ENOMEM or SN_ELIMIT. */
int sn_numindex_build_digests(sn_numindex *ix);

/* The digest tables (NULL when left out), for tests and benchmarks. */
sn_digests *sn_numindex_digests(sn_numindex *ix);

/* The state of n with the verdict fields filled (others zero): 1 when known,
 * 0 when never reported (out is then an UNSEEN state). */
int sn_numindex_get(sn_numindex *ix, sn_number n, sn_number_state *out);

/* The states of numbers[0..n) into out[i], found[i] what sn_numindex_get
 * would return for numbers[i]: a batch's lookups, at a fraction of the
 * cost of n single ones (sn_blocks_get_many). */
void sn_numindex_get_many(sn_numindex *ix, const sn_number *numbers, size_t n, sn_number_state *out,
                          uint8_t *found);
#define SN_NUMINDEX_GET_CHUNK 512 /* numbers get_many looks up together (callers pass as many) */

/* The number whose E.164 text has this SHA-256 (32 bytes) / MD5 (16 bytes). */
int sn_numindex_find_sha256(sn_numindex *ix, const uint8_t digest[32], sn_number *out);
int sn_numindex_find_md5(sn_numindex *ix, const uint8_t digest[16], sn_number *out);
int sn_numindex_find_sm3(sn_numindex *ix, const uint8_t digest[32], sn_number *out);

/* The range check's prefix: the first 20 bits (5 hex digits) of SHA-256. */
#define SN_RANGE_PREFIX_BITS 20

/* The numbers whose SHA-256 starts with the SN_RANGE_PREFIX_BITS bits of
 * prefix, into out[0..max) in no particular order, *n of them: SN_OK, or
 * SN_ELIMIT when there are more than max (out then holds max of them). A
 * number is listed once its digests are in, which may be just before its
 * state is (sn_numindex_get says 0 for it until then). */
int sn_numindex_range_sha256(sn_numindex *ix, uint32_t prefix, sn_number *out, size_t max,
                             size_t *n);

/* Numbers in the index. */
size_t sn_numindex_count(sn_numindex *ix);

/* The bytes of the index: its blocks of states and its digest tables
 * (side maps included). */
size_t sn_numindex_bytes(sn_numindex *ix);

/* sn_number_sha256, sn_number_md5, sn_number_sm3: see digests.h. */

#endif

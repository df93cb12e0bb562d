/*
 * follower.h - keeping a serve node's index current with what other nodes
 * (and imports) commit to the same server store.
 *
 * A node's writer puts its own commits into the index itself (a check right
 * after a POST /v1/events answer sees its events). Everything else reaches
 * the index through the follower: a thread on its own store handle that
 * reads the states written after its cursor (sn_store_changes_after), in
 * change order, when the store says a commit wrote some and at least once
 * a second, and after a lost connection, from the same cursor; or, given a
 * server of its own to read (serve --follow: a hot standby), by polling
 * it. The stores
 * that keep no change numbers (SQLite, one node) get no follower.
 *
 * Both write into one index, so the writer tells the follower about its
 * commits (sn_follower_mark before, sn_follower_index_own after): neither
 * may put an older state of a number over a newer one. follower.c explains
 * how.
 */
#ifndef SN_FOLLOWER_H
#define SN_FOLLOWER_H

#include "index/numindex.h"
#include "store/log.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sn_follower sn_follower;

/* Where the follower stood when a writer's transaction began. */
typedef struct {
    uint64_t sections; /* the follower's read-and-apply sections begun so far */
    uint64_t cursor;   /* every change up to here was in the index */
} sn_follow_mark;

/* How often a follower reading from --follow's server (a hot standby,
 * where LISTEN is refused) asks it for new changes: one probe of the index
 * on numbers.seq each time, so a change reaches the index within about
 * this much after the standby replayed it. */
#define SN_FOLLOW_POLL_MS 100

/* Open the follower's own handle on db, ask the store to wake it on each
 * commit that writes states, and read the current change number. Call it
 * before the index is loaded: a change committed during the load is then
 * read again after it (putting a state twice is harmless), never missed.
 * With follow (a libpq connection string, --follow; NULL: none) the
 * changes are read from that server instead, every SN_FOLLOW_POLL_MS, and
 * db gets a second handle of its own (follower.c, invariant 4).
 * *out is NULL (and SN_OK) when the store cannot be followed (and follow
 * is NULL; with follow it is an error). */
int sn_follower_open(const char *db, const char *follow, sn_numindex *ix, sn_follower **out,
                     char *err, size_t errlen);

/* Start the thread, once the index is loaded (and shared). */
int sn_follower_start(sn_follower *f, char *err, size_t errlen);

/* Stop the thread (within a moment: it is woken), close the handle, free.
 * Accepts NULL and a follower never started. Call it once nothing calls
 * the functions below any more. */
void sn_follower_stop(sn_follower *f);

/* The writer thread, before it begins a transaction that may write states
 * (f may be NULL: no follower, nothing to do). */
void sn_follower_mark(sn_follower *f, sn_follow_mark *m);

/* The writer thread, after that transaction committed: put the states it
 * wrote into ix (also when f is NULL), and when the follower may have put
 * newer ones meanwhile, have it read them again. c: the transaction's
 * change numbers (sn_store_last_commit_changes), NULL when unknown (then
 * any section since the mark may have put newer states); last: these are
 * the transaction's last states (a transaction several callers share
 * passes each part with c, the last one with last set). With the last
 * states the follower does not read those changes back (follower.c,
 * invariant 5). */
void sn_follower_index_own(sn_follower *f, sn_numindex *ix, const sn_follow_mark *m,
                           const sn_number_state *states, size_t n,
                           const sn_store_commit_changes *c, int last);

/* The follower's cursor: every change up to it is in the index. */
uint64_t sn_follower_position(const sn_follower *f);

#endif

/*
 * snapshots.h - serve's index snapshots (index/snapshot.h): loaded at
 * start instead of a scan of every state, written by a thread of their own
 * every interval and once more at a clean stop.
 *
 * A snapshot's position must be a change number every change up to which
 * the index holds (or a later state of the number). Where it comes from:
 *   - PostgreSQL: the follower's cursor (follower.h, invariant 1);
 *   - SQLite: the changes this process committed and put into the index
 *     one after the other since the index was loaded (sn_snapshots_indexed,
 *     from the events' publisher, in commit order). A commit whose
 *     transaction did not start where the previous one ended (another
 *     process wrote the store meanwhile) stops the position there: its
 *     later snapshots keep that position, and the next start replays from
 *     it, so what the other process wrote is read then.
 */
#ifndef SN_SERVICE_SNAPSHOTS_H
#define SN_SERVICE_SNAPSHOTS_H

#include "service/service.h"
#include "store/store.h"

#define SN_SNAPSHOT_INTERVAL_DEFAULT_S 900 /* serve --index-snapshot-interval */
#define SN_SNAPSHOT_INTERVAL_MAX_S 604800  /* a week; 0: only at a clean stop */
#define SN_SNAPSHOT_REPLAY_PAGE 4096       /* changes read and put at a time at start */

typedef struct sn_snapshots sn_snapshots;

/* The snapshots at path, every interval_s seconds (0: only at stop). */
int sn_snapshots_new(const char *path, long interval_s, sn_snapshots **out, char *err,
                     size_t errlen);
void sn_snapshots_free(sn_snapshots *sp);

/* Fill the empty, unshared svc->index from the snapshot and the changes
 * the store has after its position, or, when there is no usable snapshot
 * (a log line says why), from a scan of every state as before. sp may be
 * NULL (no snapshots: the scan). Also for a store without change numbers. */
int sn_snapshots_load(sn_snapshots *sp, sn_service *svc, sn_store *s, char *err, size_t errlen);

/* SQLite: the publisher put the states of a commit into the index; its
 * transaction took the change numbers after `before` up to `last`
 * (sn_store_last_commit_changes). NULL-safe. */
void sn_snapshots_indexed(sn_snapshots *sp, uint64_t before, uint64_t last);

/* Start the writing thread (once the index is loaded and shared). */
int sn_snapshots_start(sn_snapshots *sp, sn_service *svc, char *err, size_t errlen);

/* Stop the thread; with final, write one more snapshot (a clean stop: the
 * writer and its publisher have stopped). NULL-safe. */
void sn_snapshots_stop(sn_snapshots *sp, int final);

#endif

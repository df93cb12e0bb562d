/*
 * snapshot.h - the serving index on disk, so a restart is back in seconds:
 * the states of every number (the blocks of blocks.h, as they are in
 * memory), the store they came from and the change number (log position)
 * they cover; and the digest tables (digests.h) when the index has them,
 * loaded back with no hashing (else built again from the states).
 *
 * A snapshot is written to PATH.tmp, fsynced, renamed over PATH and its
 * folder fsynced: PATH is always a whole snapshot, the old one or the new
 * one. It ends with a SHA-256 checksum of everything before, so a
 * torn, truncated or altered file is refused, as is one of another store
 * (its identity, store.h), of another format version, or of a position
 * the store has not reached (a store restored from an older backup).
 * docs/internals/serving.md ("The index snapshot") has the layout.
 */
#ifndef SN_SNAPSHOT_H
#define SN_SNAPSHOT_H

#include "index/numindex.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define SN_SNAPSHOT_FORMAT 5        /* the layout's version; another is refused */
#define SN_SNAPSHOT_PATH_MAX 4096   /* bytes of a snapshot's path */
#define SN_SNAPSHOT_SUFFIX ".index" /* the default path: the SQLite file's, plus this */

/* What a snapshot says of itself. */
typedef struct {
    char store_id[SN_STORE_ID_LEN + 1];
    uint64_t position; /* every change up to here is in it (or a later state) */
    uint64_t numbers, blocks;
    uint64_t bytes;        /* the file's size */
    uint64_t digest_bytes; /* of it, the digest tables' (0: none saved) */
} sn_snapshot_info;

/* Write ix's states as the snapshot at path: the index may be in use (each
 * block is copied under its shard's lock). position must be a change
 * number every change up to which ix already holds (or a later state of
 * the number): read it before calling. info (may be NULL) gets what was
 * written. SN_OK, SN_EIO (path is then unchanged), SN_ENOMEM. */
int sn_snapshot_write(const char *path, sn_numindex *ix, const char *store_id, uint64_t position,
                      sn_snapshot_info *info, char *err, size_t errlen);

/* Load the snapshot at path into ix, which must be new, empty and
 * unshared, with its digest tables (those saved, else built from the
 * states; none for an index without digests): only when the file is whole (its
 * checksum), of this format, of the store store_id, and at a position no
 * later than cursor (the store's change number now). SN_OK with info
 * filled; SN_ENOTFOUND (no file) or SN_EINVAL (refused, err says why: a
 * line for the log) with ix empty as it was; SN_EIO, SN_ENOMEM. The caller then
 * applies the changes after info->position. */
int sn_snapshot_load(const char *path, sn_numindex *ix, const char *store_id, uint64_t cursor,
                     sn_snapshot_info *info, char *err, size_t errlen);

#endif

/*
 * spool.h - sorting a feed larger than memory: sorted runs of events written
 * to one temporary file, read back merged in the order of application
 * (number, time, line; sn_ledger_event_cmp).
 *
 * The file is created in a directory (TMPDIR) and unlinked at once, so it
 * disappears with the process however that ends. Memory while merging:
 * SN_SPOOL_RUN_BUFFER bytes per run; at most SN_SPOOL_RUNS_MAX runs.
 * On disk: about 64 bytes per event plus its event id.
 * Thread-safety: one spool per thread.
 */
#ifndef SN_FEED_SPOOL_H
#define SN_FEED_SPOOL_H

#include "feed/feed_csv.h"
#include "store/log.h"

/* Read-back buffer of one run while merging (bytes). */
#define SN_SPOOL_RUN_BUFFER 65536
/* Most runs in one spool: bounds the merge's memory to 4096 x 64 KiB =
 * 256 MiB and its open cursors; a feed needing more runs is refused. */
#define SN_SPOOL_RUNS_MAX 4096

typedef struct sn_spool sn_spool;

/* A new, empty spool in dir. SN_OK, SN_EIO (with the reason). */
int sn_spool_create(const char *dir, sn_spool **sp, char *err, size_t errlen);

/* Append one run: items[0..n) already sorted by sn_ledger_event_cmp.
 * SN_OK, SN_EIO (disk full...), SN_ELIMIT (more than SN_SPOOL_RUNS_MAX runs). */
int sn_spool_add_run(sn_spool *sp, const sn_log_event *items, size_t n, char *err, size_t errlen);

/* Runs written so far. */
size_t sn_spool_runs(const sn_spool *sp);

/* Start reading the merged events (after the last run). SN_OK, SN_EIO, SN_ENOMEM. */
int sn_spool_merge(sn_spool *sp, char *err, size_t errlen);

/* Clear out and fill it with the next up to max events in merged order (out
 * owns copies of their strings); out->n == 0 at the end. SN_OK, SN_EIO,
 * SN_ENOMEM. */
int sn_spool_read(sn_spool *sp, sn_feed_batch *out, size_t max, char *err, size_t errlen);

/* Close and free; accepts NULL. */
void sn_spool_free(sn_spool *sp);

#endif

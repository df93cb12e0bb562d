/*
 * feed_csv.h - reading a whole carrier feed file (CSV) into a batch of events.
 *
 * Format: a header line naming the columns, in any order: number, event, at
 * (required) and event_id, id6 (optional); then one event per line. Line
 * numbers count from 1 (the header). A row that does not parse is rejected
 * with its line number and reason and never stops the file; a bad header
 * rejects the whole file, since no row could be read right.
 */
#ifndef SN_FEED_CSV_H
#define SN_FEED_CSV_H

#include "feed/feed.h"
#include "ledger/ledger.h"
#include "store/log.h"

#include <stdio.h>

typedef struct sn_arena_block sn_arena_block;

/* The events of a feed, in file order, with the memory their event ids live in. */
typedef struct {
    sn_log_event *items;
    size_t n;
    size_t cap;
    uint64_t lines;          /* data lines read (header excluded) */
    sn_arena_block *arena;   /* event id storage; pointers into it stay valid */
} sn_feed_batch;

/* Progress: bytes consumed so far and data lines read. */
typedef void (*sn_feed_progress)(void *ctx, uint64_t bytes, uint64_t lines);

/* Read all of in. Parsed events are appended to batch; rejected rows go to
 * rep with their line number as index (and the raw line, for --rejects, via
 * on_reject when not NULL). Returns SN_OK, SN_EINVAL for a bad header, SN_EIO
 * or SN_ENOMEM. */
int sn_feed_csv_read(FILE *in, const sn_feed_context *c, sn_feed_batch *batch,
                     sn_ledger_report *rep,
                     void (*on_reject)(void *ctx, uint32_t line, const char *raw, size_t len),
                     sn_feed_progress progress, void *ctx, char *err, size_t errlen);

/* Free the batch's memory; accepts a zeroed batch. */
void sn_feed_batch_free(sn_feed_batch *batch);

#endif

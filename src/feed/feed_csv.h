/*
 * feed_csv.h - reading a carrier feed file (CSV) into batches of events,
 * whole or a bounded number of lines at a time (sn_feed_reader).
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
    uint64_t lines;        /* data lines read (header excluded) */
    sn_arena_block *arena; /* event id storage; pointers into it stay valid */
} sn_feed_batch;

/* Progress: bytes consumed so far and data lines read. */
typedef void (*sn_feed_progress)(void *ctx, uint64_t bytes, uint64_t lines);

/* Where rejected rows and progress go while reading. rep NULL: rejected
 * rows are skipped silently (a second pass over a file already reported). */
typedef struct {
    sn_ledger_report *rep;
    void (*on_reject)(void *ctx, uint32_t line, const char *raw, size_t len);
    sn_feed_progress progress;
    void *ctx;
} sn_feed_sink;

/* A feed being read: its header is parsed, its lines come in chunks. */
typedef struct sn_feed_reader sn_feed_reader;

/* Read the header line of in. SN_OK with *r set, SN_EINVAL for a missing or
 * bad header (the message names line 1), SN_ENOMEM. */
int sn_feed_csv_open(FILE *in, const sn_feed_context *c, sn_feed_reader **r, char *err,
                     size_t errlen);

/* Read up to max more lines: parsed events are appended to b (index = line
 * number), rejected rows go to k. Returns SN_OK (see sn_feed_csv_eof), SN_EIO
 * or SN_ENOMEM. */
int sn_feed_csv_next(sn_feed_reader *r, sn_feed_batch *b, size_t max, const sn_feed_sink *k,
                     char *err, size_t errlen);

/* 1 once the end of the input was reached. */
int sn_feed_csv_eof(const sn_feed_reader *r);

/* Free r (not its FILE); accepts NULL. */
void sn_feed_csv_close(sn_feed_reader *r);

/* Read all of in. Parsed events are appended to batch; rejected rows go to
 * rep with their line number as index (and the raw line, for --rejects, via
 * on_reject when not NULL). Returns SN_OK, SN_EINVAL for a bad header, SN_EIO
 * or SN_ENOMEM. */
int sn_feed_csv_read(FILE *in, const sn_feed_context *c, sn_feed_batch *batch,
                     sn_ledger_report *rep,
                     void (*on_reject)(void *ctx, uint32_t line, const char *raw, size_t len),
                     sn_feed_progress progress, void *ctx, char *err, size_t errlen);

/* Append a copy of e, its event id and recipient copied into b's arena.
 * SN_OK or SN_ENOMEM. */
int sn_feed_batch_push(sn_feed_batch *b, const sn_log_event *e);

/* Empty the batch and free its strings, keeping the items array for reuse. */
void sn_feed_batch_clear(sn_feed_batch *b);

/* Free the batch's memory; accepts a zeroed batch. */
void sn_feed_batch_free(sn_feed_batch *batch);

#endif

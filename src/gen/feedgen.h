/*
 * feedgen.h - a deterministic synthetic carrier feed (demo data, benchmarks, tests).
 *
 * sn_gen_write simulates the lifecycle of `numbers` distinct Chinese mobile
 * numbers between the start of day `start` and the start of day `end` (both
 * jurisdiction days) and writes it as one carrier feed file, globally sorted by
 * event time like a real daily feed:
 *
 *     number,event,at,event_id,id6
 *     +8613812345678,activate,2019-03-04T10:15:07+08:00,g1-1,04217X
 *
 * The numbers are spread thinly over all mobile prefixes, or allocated in
 * dense blocks (fill_pct below). Every number's history obeys the timeline
 * rules of lifecycle.h under min_aging_days and tz_minutes (about 2% of numbers start mid-history, with a
 * suspend, cancel or port_in). id6 (the new subscriber's last six ID digits)
 * is present only on activate rows. event_id is "g<seed>-<row>".
 *
 * The output is a pure function of the options: same options, same bytes (no
 * clock, no global random state). Memory: about 16 bytes per row plus 4 per
 * number (3M numbers, ~11M rows: ~190 MB).
 */
#ifndef SN_FEEDGEN_H
#define SN_FEEDGEN_H

#include "core/date.h"

#include <stdint.h>
#include <stdio.h>

/* Dense allocation (fill_pct > 0): numbers come in blocks of
 * SN_GEN_BLOCK_SIZE sharing their first seven national digits (prefix and
 * four more), as carriers allocate them; each block holds fill_pct percent
 * of its numbers (the last one block may hold fewer), the blocks picked by a
 * keyed permutation of all SN_GEN_BLOCKS blocks of the mobile prefixes and
 * the numbers of a block by another. fill_pct 0: numbers are spread thinly
 * over all prefixes (10M numbers: about 25 per block). */
#define SN_GEN_BLOCK_SIZE 10000
#define SN_GEN_DENSE_FILL_PCT 80 /* `gen --dense` */

/* Limits of the options (sn_gen_check enforces them). */
#define SN_GEN_MAX_NUMBERS 100000000UL /* number index and memory bound */
#define SN_GEN_MAX_SPAN_DAYS 49000     /* event offsets are kept in 32-bit seconds */

typedef struct {
    unsigned long numbers;   /* distinct numbers to simulate, 1..SN_GEN_MAX_NUMBERS */
    uint64_t seed;           /* any value; picks the numbers and their stories */
    sn_day start;            /* first day events may fall on */
    sn_day end;              /* events fall strictly before the start of this day */
    unsigned min_aging_days; /* freeze before release or reissue, 0..SN_MAX_AGING_DAYS */
    int tz_minutes;          /* jurisdiction offset east of UTC, -1439..1439 */
    unsigned fill_pct;       /* 0: thin spread; 1..100: dense blocks filled to this share */
} sn_gen_options;

/* Defaults: 1 number, seed 1, 2015-01-01 to 2026-01-01, 90 days, +08:00,
 * thin spread. */
void sn_gen_defaults(sn_gen_options *o);

/* SN_OK when the options are usable, else SN_EINVAL or SN_ELIMIT with a message. */
int sn_gen_check(const sn_gen_options *o, char *err, size_t errlen);

/* Write the feed (header and rows) to out. SN_OK; SN_EINVAL/SN_ELIMIT for bad
 * options (nothing written); SN_ENOMEM; SN_EIO when writing fails (out may then
 * hold a partial feed). Does not close out; flushes it. */
int sn_gen_write(const sn_gen_options *o, FILE *out, char *err, size_t errlen);

#endif

/*
 * cmd_gen.c - `secondnum gen`: write a synthetic carrier feed (demo data, benchmarks).
 *
 * Only flags and files live here; the simulation and the CSV are in
 * src/gen/feedgen.c. A feed written to --out is removed again if writing it
 * fails, so a half-written file is never mistaken for a complete one.
 * Thread-safety: uses getopt_long's globals; call from the main thread only.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "core/lifecycle.h"
#include "gen/feedgen.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define CMD "gen"

static const char usage_text[] =
    "usage: secondnum gen --numbers N [options]\n"
    "\n"
    "Write a synthetic carrier feed (CSV: number,event,at,event_id,id6) with the\n"
    "lifecycle of N distinct Chinese mobile numbers, sorted by event time. Every\n"
    "history obeys the timeline rules; the same options give the same bytes.\n"
    "\n"
    "options:\n"
    "  --numbers N            distinct numbers to simulate (1 to 100000000; required)\n"
    "  --seed S               random seed (default 1)\n"
    "  --start YYYY-MM-DD     first day of the history (default 2015-01-01)\n"
    "  --end YYYY-MM-DD       events fall before this day (default 2026-01-01)\n"
    "  --min-aging-days D     freeze before release or reissue (default 90)\n"
    "  --tz +HH:MM            jurisdiction UTC offset (default +08:00)\n"
    "  --dense                allocate numbers as carriers do: in blocks of 10,000\n"
    "                         sharing their first seven national digits, each 80%\n"
    "                         full (without it: spread thinly over all prefixes)\n"
    "  --fill PERCENT         dense blocks filled to PERCENT (1 to 100; implies\n"
    "                         --dense)\n"
    "  --out FILE             write to FILE instead of standard output\n"
    "  --help                 show this help\n";

typedef struct {
    sn_gen_options gen;
    const char *out_path; /* NULL: standard output */
    long numbers, seed, aging, fill;
    int dense;
} gen_args;

static int parse_args(int argc, char **argv, gen_args *a)
{
    const sn_cli_opt opts[] = {
        SN_CLI_OPT("numbers", SN_OPT_LONG, 1, &a->numbers, 1, (long)SN_GEN_MAX_NUMBERS,
                   "--numbers must be an integer from %ld to %ld", NULL),
        SN_CLI_LONG("seed", &a->seed, 0, LONG_MAX, "--seed must be a non-negative integer"),
        SN_CLI_DAY("start", &a->gen.start),
        SN_CLI_DAY("end", &a->gen.end),
        SN_CLI_LONG("min-aging-days", &a->aging, 0, SN_MAX_AGING_DAYS,
                    "--min-aging-days must be an integer from %ld to %ld"),
        SN_CLI_TZ("tz", &a->gen.tz_minutes),
        SN_CLI_TEXT("out", &a->out_path),
        SN_CLI_FLAG("dense", &a->dense),
        SN_CLI_LONG("fill", &a->fill, 1, 100, "--fill must be a percentage from 1 to 100"),
    };
    char err[SN_ERRMSG_MAX];
    sn_gen_defaults(&a->gen);
    a->seed = (long)a->gen.seed;
    a->aging = (long)a->gen.min_aging_days;
    int rc = sn_cli_parse(CMD, argc, argv, 1, opts, SN_CLI_N(opts), usage_text);
    if (rc != SN_EXIT_OK)
        return rc;
    if (optind < argc)
        return sn_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    a->gen.numbers = (unsigned long)a->numbers;
    a->gen.seed = (uint64_t)a->seed;
    a->gen.min_aging_days = (unsigned)a->aging;
    if (a->fill > 0)
        a->gen.fill_pct = (unsigned)a->fill;
    else if (a->dense)
        a->gen.fill_pct = SN_GEN_DENSE_FILL_PCT;
    if (sn_gen_check(&a->gen, err, sizeof(err)) != SN_OK)
        return sn_cli_usage_error(CMD, "%s", err);
    return SN_EXIT_OK;
}

/* Write the feed to a_path or stdout; SN_EXIT_OK or SN_EXIT_REJECTED (message printed). */
static int write_feed(const gen_args *a)
{
    FILE *f = stdout;
    char err[SN_ERRMSG_MAX] = "";
    int rc = SN_EXIT_REJECTED;

    if (a->out_path != NULL && (f = fopen(a->out_path, "w")) == NULL) {
        fprintf(stderr, "secondnum %s: cannot open %s: %s\n", CMD, a->out_path, strerror(errno));
        return SN_EXIT_REJECTED;
    }
    if (sn_gen_write(&a->gen, f, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "secondnum %s: %s\n", CMD, err);
        goto out;
    }
    rc = SN_EXIT_OK;
out:
    if (f != stdout && fclose(f) != 0 && rc == SN_EXIT_OK) {
        fprintf(stderr, "secondnum %s: writing %s failed: %s\n", CMD, a->out_path, strerror(errno));
        rc = SN_EXIT_REJECTED;
    }
    if (f != stdout && rc != SN_EXIT_OK)
        unlink(a->out_path);
    return rc;
}

int sn_cmd_gen(int argc, char **argv)
{
    gen_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse_args(argc, argv, &a);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    return write_feed(&a);
}

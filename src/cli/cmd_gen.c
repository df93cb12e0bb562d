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
#include <getopt.h>
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
    "  --out FILE             write to FILE instead of standard output\n"
    "  --help                 show this help\n";

enum {
    OPT_HELP = 'h',
    OPT_NUMBERS = 256,
    OPT_SEED,
    OPT_START,
    OPT_END,
    OPT_AGING,
    OPT_TZ,
    OPT_OUT
};

static const struct option long_options[] = {
    {"numbers", required_argument, NULL, OPT_NUMBERS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"start", required_argument, NULL, OPT_START},
    {"end", required_argument, NULL, OPT_END},
    {"min-aging-days", required_argument, NULL, OPT_AGING},
    {"tz", required_argument, NULL, OPT_TZ},
    {"out", required_argument, NULL, OPT_OUT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct {
    sn_gen_options gen;
    const char *out_path; /* NULL: standard output */
    int have_numbers;
    int help;
} gen_args;

static int parse_day_flag(const char *flag, const char *value, sn_day *out)
{
    char err[SN_ERRMSG_MAX];
    if (sn_day_parse(value, strlen(value), out, err, sizeof(err)) != SN_OK)
        return sn_cli_usage_error(CMD, "--%s: %s", flag, err);
    return SN_EXIT_OK;
}

/* Apply one parsed option; SN_EXIT_OK or SN_EXIT_USAGE (message printed). */
static int apply_option(gen_args *a, int opt, const char *value)
{
    long v;
    char err[SN_ERRMSG_MAX];

    switch (opt) {
    case OPT_NUMBERS:
        if (sn_cli_parse_long(value, 1, (long)SN_GEN_MAX_NUMBERS, &v) != 0)
            return sn_cli_usage_error(CMD, "--numbers must be an integer from 1 to %lu",
                                      SN_GEN_MAX_NUMBERS);
        a->gen.numbers = (unsigned long)v;
        a->have_numbers = 1;
        return SN_EXIT_OK;
    case OPT_SEED:
        if (sn_cli_parse_long(value, 0, LONG_MAX, &v) != 0)
            return sn_cli_usage_error(CMD, "--seed must be a non-negative integer");
        a->gen.seed = (uint64_t)v;
        return SN_EXIT_OK;
    case OPT_START:
        return parse_day_flag("start", value, &a->gen.start);
    case OPT_END:
        return parse_day_flag("end", value, &a->gen.end);
    case OPT_AGING:
        if (sn_cli_parse_long(value, 0, SN_MAX_AGING_DAYS, &v) != 0)
            return sn_cli_usage_error(CMD, "--min-aging-days must be an integer from 0 to %d",
                                      SN_MAX_AGING_DAYS);
        a->gen.min_aging_days = (unsigned)v;
        return SN_EXIT_OK;
    case OPT_TZ:
        if (sn_tz_parse(value, &a->gen.tz_minutes, err, sizeof(err)) != SN_OK)
            return sn_cli_usage_error(CMD, "--tz: %s", err);
        return SN_EXIT_OK;
    case OPT_OUT:
        a->out_path = value;
        return SN_EXIT_OK;
    case OPT_HELP:
        a->help = 1;
        return SN_EXIT_OK;
    default:
        return SN_EXIT_USAGE;
    }
}

/* The option getopt_long refused (opt is '?' for unknown, ':' for a missing value). */
static int refused_option(int opt, char **argv)
{
    const char *what = opt == ':' ? "needs a value" : "is unknown";
    if (optopt > 0 && optopt < 128 && optopt != '?')
        return sn_cli_usage_error(CMD, "option -%c %s", optopt, what);
    return sn_cli_usage_error(CMD, "option %s %s", argv[optind - 1], what);
}

static int parse_args(int argc, char **argv, gen_args *a)
{
    int opt, rc;
    char err[SN_ERRMSG_MAX];

    sn_gen_defaults(&a->gen);
    opterr = 0;
    optind = 0; /* glibc: restart scanning from argv[1], whatever ran before */
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (opt == '?' || opt == ':')
            return refused_option(opt, argv);
        if ((rc = apply_option(a, opt, optarg)) != SN_EXIT_OK)
            return rc;
    }
    if (a->help)
        return SN_EXIT_OK;
    if (optind < argc)
        return sn_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!a->have_numbers)
        return sn_cli_usage_error(CMD, "--numbers is required");
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
    gen_args a = {0};
    int rc = parse_args(argc, argv, &a);

    if (rc != SN_EXIT_OK)
        return rc;
    if (a.help) {
        fputs(usage_text, stdout);
        return SN_EXIT_OK;
    }
    return write_feed(&a);
}

/*
 * cmd_init.c - `secondnum init`: create a store with its jurisdiction rules
 * and its secret file.
 */
#include "cli/cli.h"

#include "core/errors.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: secondnum init --db FILE [--country CC] [--min-aging-days DAYS] [--tz OFFSET]\n"
    "\n"
    "Create a secondnum store and its secret file (FILE.key, or $SECONDNUM_KEY,\n"
    "mode 0600).\n"
    "\n"
    "  --db FILE             the SQLite store to create, or a postgres:// URL of an\n"
    "                        existing database (the secret then needs SECONDNUM_KEY)\n"
    "  --country CC          country code for national-format numbers (default 86;\n"
    "                        0 accepts E.164 only)\n"
    "  --min-aging-days N    minimum freeze before a cancelled number is released or\n"
    "                        reissued (default 90, China; 45 in the US)\n"
    "  --tz OFFSET           the jurisdiction's UTC offset, for calendar days\n"
    "                        (default +08:00)\n"
    "\n"
    "Other commands create the store with the defaults when it is absent.\n"
    "Exit status: 0 created, 1 failed (for example: exists with other rules), 2 usage.\n";

/* The first rule of the store (have) that differs from the one asked
 * (want), said as "made with --RULE X, not Y" into out; 0 when all match. */
static int rule_differs(const sn_rules *have, const sn_rules *want, char *out, size_t len)
{
    char a[8], b[8];
    if (have->default_cc != want->default_cc)
        return snprintf(out, len, "--country %u, not %u", have->default_cc, want->default_cc), 1;
    if (have->min_aging_days != want->min_aging_days)
        return snprintf(out, len, "--min-aging-days %u, not %u", have->min_aging_days,
                        want->min_aging_days),
               1;
    if (have->tz_minutes != want->tz_minutes) {
        sn_tz_format(have->tz_minutes, a);
        sn_tz_format(want->tz_minutes, b);
        return snprintf(out, len, "--tz %s, not %s", a, b), 1;
    }
    return 0;
}

int sn_cmd_init(int argc, char **argv)
{
    sn_rules rules = {SN_DEFAULT_CC, SN_DEFAULT_MIN_AGING_DAYS, SN_DEFAULT_TZ_MINUTES};
    const char *db = NULL;
    long cc = SN_DEFAULT_CC, aging = SN_DEFAULT_MIN_AGING_DAYS;
    const sn_cli_opt opts[] = {
        SN_CLI_DB(&db),
        SN_CLI_LONG("country", &cc, 0, 999, "--country must be a country code 0-999"),
        SN_CLI_LONG("min-aging-days", &aging, 0, SN_MAX_AGING_DAYS,
                    "--min-aging-days must be %ld-%ld"),
        SN_CLI_TZ("tz", &rules.tz_minutes),
    };
    sn_store *store = NULL;
    int rc = sn_cli_parse("init", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    rules.default_cc = (unsigned)cc;
    rules.min_aging_days = (unsigned)aging;
    if (optind < argc)
        return sn_cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (sn_cli_open_store("init", db, &rules, 1, &store) != SN_OK)
        return SN_EXIT_REJECTED;
    char differs[96];
    int created = sn_store_created(store);
    int other = rule_differs(sn_store_rules(store), &rules, differs, sizeof(differs));
    sn_store_close(store);
    if (!created && other) {
        fprintf(stderr, /* a URL is not said: it may carry a password */
                "secondnum init: the store at %s was made with %s (its rules cannot change; "
                "init another store for other rules)\n",
                sn_store_is_url(db) ? "the --db URL" : db, differs);
        return SN_EXIT_REJECTED;
    }
    char tz[8];
    sn_tz_format(rules.tz_minutes, tz);
    printf("%s %s: country %u, minimum aging %u days, time zone %s\n",
           created ? "created" : "already initialised", db, rules.default_cc, rules.min_aging_days,
           tz);
    return SN_EXIT_OK;
}

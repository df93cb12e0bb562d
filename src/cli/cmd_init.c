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

static int same_rules(const sn_rules *a, const sn_rules *b)
{
    return a->default_cc == b->default_cc && a->min_aging_days == b->min_aging_days &&
           a->tz_minutes == b->tz_minutes;
}

int sn_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},       {"country", required_argument, NULL, 'c'},
        {"min-aging-days", required_argument, NULL, 'a'}, {"tz", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    sn_rules rules = {SN_DEFAULT_CC, SN_DEFAULT_MIN_AGING_DAYS, SN_DEFAULT_TZ_MINUTES};
    const char *db = NULL;
    char err[SN_ERRMSG_MAX];
    sn_store *store = NULL;
    long v;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            if (sn_cli_parse_long(optarg, 0, 999, &v) != 0)
                return sn_cli_usage_error("init", "--country must be a country code 0-999");
            rules.default_cc = (unsigned)v;
            break;
        case 'a':
            if (sn_cli_parse_long(optarg, 0, SN_MAX_AGING_DAYS, &v) != 0)
                return sn_cli_usage_error("init", "--min-aging-days must be 0-%d",
                                          SN_MAX_AGING_DAYS);
            rules.min_aging_days = (unsigned)v;
            break;
        case 't':
            if (sn_tz_parse(optarg, &rules.tz_minutes, err, sizeof(err)) != SN_OK)
                return sn_cli_usage_error("init", "--tz: %s", err);
            break;
        case 'h':
            fputs(usage, stdout);
            return SN_EXIT_OK;
        default:
            return sn_cli_usage_error("init", "unknown option");
        }
    }
    if (db == NULL)
        return sn_cli_usage_error("init", "--db FILE is required");
    if (optind < argc)
        return sn_cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (sn_cli_open_store("init", db, &rules, &store) != SN_OK)
        return SN_EXIT_REJECTED;
    int created = sn_store_created(store);
    int same = same_rules(sn_store_rules(store), &rules);
    sn_store_close(store);
    if (!created && !same) {
        fprintf(stderr, "secondnum init: %s already exists with other rules\n", db);
        return SN_EXIT_REJECTED;
    }
    char tz[8];
    sn_tz_format(rules.tz_minutes, tz);
    printf("%s %s: country %u, minimum aging %u days, time zone %s\n",
           created ? "created" : "already initialised", db, rules.default_cc,
           rules.min_aging_days, tz);
    return SN_EXIT_OK;
}

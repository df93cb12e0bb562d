/*
 * cmd_audit.c - `secondnum audit`: export the audit trail for the
 * regulator (CSV or JSON lines, every record of the days asked, a batch
 * check's items one record each), or count its rows. Reads the store
 * only; the rows are those serve's audit thread committed.
 */
#include "cli/cli.h"

#include "audit/audit.h"
#include "audit/export.h"
#include "core/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_EXPORT_PAGE 1000 /* rows read from the store at a time */

static const char usage[] =
    "usage: secondnum audit export --db FILE --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "                              [--app NAME] [--number NUMBER] [--format csv|json]\n"
    "                              [--key FILE]\n"
    "       secondnum audit count --db FILE --from YYYY-MM-DD --to YYYY-MM-DD\n"
    "\n"
    "The audit trail serve records (docs/operations.md, \"Audit trail\"): every\n"
    "answered request of a route, who asked, what, when and the answer; a number\n"
    "only as a keyed hash. export writes the records of the days from..to\n"
    "(inclusive, in the store's time zone) to standard output, a batch check's\n"
    "items one record each: CSV with a header line (default), or one JSON\n"
    "object a line. count prints the rows and the batch items of those days.\n"
    "\n"
    "  --db FILE          the store (a file, or a postgresql:// URL)\n"
    "  --from YYYY-MM-DD  the first day\n"
    "  --to YYYY-MM-DD    the last day\n"
    "  --app NAME         only the requests of this app\n"
    "  --number NUMBER    only the records of this number (hashed with the\n"
    "                     deployment secret, as serve records it)\n"
    "  --format csv|json  default csv\n"
    "  --key FILE         the store's secret file, for --number (default\n"
    "                     $SECONDNUM_KEY, else FILE.key)\n"
    "\n"
    "Exit status: 0 done, 1 failed (the store, the secret), 2 usage.\n";

typedef struct {
    const char *db, *app, *number, *format, *key_path;
    sn_day from, to;
    sn_store *store;
    int csv, first;
    uint8_t hash[SN_AUDIT_HASH_LEN];
    const uint8_t *only;
    sn_strbuf out;
    uint32_t rows;
    int64_t last;
} audit_args;

static int parse(int argc, char **argv, audit_args *a)
{
    const sn_cli_opt opts[] = {
        SN_CLI_DB(&a->db),
        SN_CLI_DAY("from", &a->from),
        SN_CLI_DAY("to", &a->to),
        SN_CLI_TEXT("app", &a->app),
        SN_CLI_TEXT("number", &a->number),
        SN_CLI_TEXT("format", &a->format),
        SN_CLI_TEXT("key", &a->key_path),
    };
    int rc = sn_cli_parse("audit", argc, argv, 2, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc;
    if (optind != argc)
        return sn_cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
    if (a->from == SN_DAY_NONE || a->to == SN_DAY_NONE)
        return sn_cli_usage_error("audit", "--from and --to are required");
    if (a->from > a->to)
        return sn_cli_usage_error("audit", "--from is after --to");
    if (a->format != NULL && strcmp(a->format, "csv") != 0 && strcmp(a->format, "json") != 0)
        return sn_cli_usage_error("audit", "--format must be csv or json");
    a->csv = a->format == NULL || strcmp(a->format, "csv") == 0;
    return SN_EXIT_OK;
}

static int row(void *ctx, const sn_audit_row *r)
{
    audit_args *a = ctx;
    sn_audit_export_row(&a->out, r, a->csv, "\n", a->only, &a->first);
    if (!a->csv && !a->first) {
        sn_strbuf_printf(&a->out, "\n");
        a->first = 1;
    }
    a->rows++;
    a->last = r->id;
    return 0;
}

/* The number filter's hash (needs the secret): SN_OK, or an exit code. */
static int number_filter(audit_args *a)
{
    char why[SN_ERRMSG_MAX];
    sn_secret secret;
    sn_number n;
    if (a->number == NULL)
        return SN_EXIT_OK;
    if (sn_number_parse(a->number, strlen(a->number), sn_store_rules(a->store)->default_cc, &n, why,
                        sizeof(why)) != SN_OK)
        return sn_cli_usage_error("audit", "--number: %s", why);
    if (sn_cli_load_secret("audit", a->db, a->key_path, 0, &secret) != 1) {
        fprintf(stderr, "secondnum audit: --number needs the store's secret file (--key)\n");
        return SN_EXIT_REJECTED;
    }
    sn_audit_number_hash(&secret, n, a->hash);
    a->only = a->hash;
    return SN_EXIT_OK;
}

static int export_all(audit_args *a, int64_t lo, int64_t hi, char *err, size_t errlen)
{
    int rc = SN_OK;
    a->first = 1;
    if (a->csv)
        fputs(SN_AUDIT_CSV_HEADER, stdout);
    do {
        a->rows = 0;
        a->out.len = 0;
        rc = sn_store_audit_list(a->store, lo, hi, a->app, a->last, AUDIT_EXPORT_PAGE, row, a, err,
                                 errlen);
        if (rc == SN_OK && a->out.failed)
            rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        if (rc == SN_OK && a->out.len > 0)
            fwrite(a->out.s, 1, a->out.len, stdout);
    } while (rc == SN_OK && a->rows == AUDIT_EXPORT_PAGE);
    if (rc == SN_OK && fflush(stdout) != 0)
        rc = sn_fail(err, errlen, SN_EIO, "cannot write the export");
    return rc;
}

int sn_cmd_audit(int argc, char **argv)
{
    audit_args a;
    char err[SN_ERRMSG_MAX] = "";
    const char *action = argc > 1 ? argv[1] : "";
    memset(&a, 0, sizeof(a));
    a.from = a.to = SN_DAY_NONE;
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return fputs(usage, stdout), SN_EXIT_OK;
    if (strcmp(action, "export") != 0 && strcmp(action, "count") != 0)
        return sn_cli_usage_error("audit", "expected export or count");
    int rc = parse(argc, argv, &a);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (sn_cli_open_store("audit", a.db, NULL, 0, &a.store) != SN_OK)
        return SN_EXIT_REJECTED;
    if ((rc = number_filter(&a)) != SN_EXIT_OK) {
        sn_store_close(a.store);
        return rc;
    }
    int64_t lo, hi;
    uint64_t records = 0, items = 0;
    sn_audit_day_bounds(a.from, a.to, sn_store_rules(a.store)->tz_minutes, &lo, &hi);
    if (strcmp(action, "count") == 0) {
        rc = sn_store_audit_count(a.store, lo, hi, &records, &items, err, sizeof(err));
        if (rc == SN_OK)
            printf("records %llu items %llu\n", (unsigned long long)records,
                   (unsigned long long)items);
    } else {
        rc = export_all(&a, lo, hi, err, sizeof(err));
    }
    if (rc != SN_OK)
        fprintf(stderr, "secondnum audit: %s\n", err);
    free(a.out.s);
    sn_store_close(a.store);
    return rc == SN_OK ? SN_EXIT_OK : SN_EXIT_REJECTED;
}

/*
 * cmd_check.c - `secondnum check`: the verdict for one number and date, or
 * for every row of a CSV file. A thin layer over the store and verdict.h.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "core/verdict.h"
#include "feed/csv.h"
#include "service/checks.h"
#include "util/clock.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: secondnum check --db FILE [--json] NUMBER DATE\n"
    "       secondnum check --db FILE --file IN.csv [--date DATE]\n"
    "\n"
    "Has NUMBER changed hands since DATE (YYYY-MM-DD, a calendar day in the\n"
    "store's time zone)? Prints one of:\n"
    "  reassigned    activated for a new subscriber after DATE\n"
    "  disconnected  cancelled on or after DATE and not reissued\n"
    "  unchanged     the same subscriber has held it since DATE\n"
    "  unknown       no data covers DATE for this number\n"
    "on the first line, then the reason. NUMBER is E.164 or national.\n"
    "\n"
    "  --db FILE       the store (`secondnum init` makes one)\n"
    "  --json          print {\"number\",\"date\",\"result\",\"reason\"} instead\n"
    "  --file IN.csv   check every row of IN.csv ('-' for standard input): rows\n"
    "                  'number[,date]', an optional header 'number,date'; writes\n"
    "                  'number,date,result,reason' for every row, in order; a bad\n"
    "                  row gets result 'invalid' and the reason\n"
    "  --date DATE     the date for rows that have none\n"
    "\n"
    "Exit status: 0 answered, 1 input rejected (bad number, bad or future date;\n"
    "with --file: any invalid row), 2 usage.\n";

typedef struct {
    const char *db, *file, *date;
    int json;
} check_args;

typedef struct {
    sn_verdict verdict;
    char number[SN_NUMBER_TEXT_MAX];
    char day[SN_DAY_TEXT_MAX];
    char reason[SN_ERRMSG_MAX];
} check_answer;

/* Answer one question; SN_OK or an input error with the reason in a->reason. */
static int answer(sn_store *store, sn_day today, const char *num, size_t numlen, const char *date,
                  size_t datelen, check_answer *a)
{
    const sn_rules *rules = sn_store_rules(store);
    sn_number n;
    sn_day d;
    int rc;

    if ((rc = sn_number_parse(num, numlen, rules->default_cc, &n, a->reason, sizeof(a->reason))) !=
            SN_OK ||
        (rc = sn_day_parse(date, datelen, &d, a->reason, sizeof(a->reason))) != SN_OK ||
        (rc = sn_check_stored(store, n, d, today, &a->verdict, a->reason, sizeof(a->reason))) !=
            SN_OK)
        return rc;
    sn_number_format(n, a->number);
    sn_day_format(d, a->day);
    return SN_OK;
}

static sn_day today_of(sn_store *store)
{
    return sn_day_of(sn_wall_sec(), sn_store_rules(store)->tz_minutes);
}

static int check_one(sn_store *store, const check_args *args, const char *num, const char *date)
{
    check_answer a;
    int rc = answer(store, today_of(store), num, strlen(num), date, strlen(date), &a);
    if (rc != SN_OK) {
        fprintf(stderr, "secondnum check: %s\n", a.reason);
        return SN_EXIT_REJECTED;
    }
    if (args->json)
        printf("{\"number\":\"%s\",\"date\":\"%s\",\"result\":\"%s\",\"reason\":\"%s\"}\n",
               a.number, a.day, sn_verdict_name(a.verdict), a.reason);
    else
        printf("%s\n%s\n", sn_verdict_name(a.verdict), a.reason);
    return SN_EXIT_OK;
}

static void print_field(const char *s, size_t len, int comma)
{
    char buf[2 * SN_CSV_LINE_MAX + 3];
    sn_csv_quote(s, len, buf, sizeof(buf));
    fputs(buf, stdout);
    if (comma)
        putchar(',');
}

static int is_header(const sn_csv_field *f, size_t n)
{
    return f[0].len == 6 && memcmp(f[0].s, "number", 6) == 0 &&
           (n == 1 || (f[1].len == 4 && memcmp(f[1].s, "date", 4) == 0));
}

/* One input row to one output row. Returns 1 when the row was invalid. */
static int check_row(sn_store *store, sn_day today, const char *default_date, char *line,
                     size_t len, int first)
{
    sn_csv_field f[SN_CSV_FIELDS_MAX];
    check_answer a;
    size_t n = 0;
    const char *date = default_date;
    size_t datelen = default_date ? strlen(default_date) : 0;
    int rc = sn_csv_split(line, len, f, SN_CSV_FIELDS_MAX, &n, a.reason, sizeof(a.reason));

    if (rc == SN_OK && first && is_header(f, n))
        return -1;
    if (rc == SN_OK && n > 2)
        rc = sn_fail(a.reason, sizeof(a.reason), SN_EINVAL,
                     "expected number[,date], got %zu columns", n);
    if (rc == SN_OK && n == 2 && f[1].len > 0) {
        date = f[1].s;
        datelen = f[1].len;
    }
    if (rc == SN_OK && date == NULL)
        rc = sn_fail(a.reason, sizeof(a.reason), SN_EDATE, "no date in the row and no --date");
    if (rc == SN_OK)
        rc = answer(store, today, f[0].s, f[0].len, date, datelen, &a);
    if (rc == SN_OK) {
        printf("%s,%s,%s,", a.number, a.day, sn_verdict_name(a.verdict));
        print_field(a.reason, strlen(a.reason), 0);
        putchar('\n');
        return 0;
    }
    if (n == 0) { /* the line did not split: echo it whole */
        print_field(line, len, 1);
        print_field("", 0, 1);
    } else {
        print_field(f[0].s, f[0].len, 1);
        print_field(date != NULL ? date : "", date != NULL ? datelen : 0, 1);
    }
    fputs("invalid,", stdout);
    print_field(a.reason, strlen(a.reason), 0);
    putchar('\n');
    return 1;
}

static int check_file(sn_store *store, const check_args *args)
{
    FILE *in = strcmp(args->file, "-") == 0 ? stdin : fopen(args->file, "r");
    char *line = NULL;
    size_t cap = 0, invalid = 0, lineno = 0;
    sn_day today = today_of(store);
    ssize_t got;

    if (in == NULL) {
        fprintf(stderr, "secondnum check: cannot open %s\n", args->file);
        return SN_EXIT_REJECTED;
    }
    if (args->date != NULL) {
        char err[SN_ERRMSG_MAX];
        sn_day d;
        if (sn_day_parse(args->date, strlen(args->date), &d, err, sizeof(err)) != SN_OK) {
            if (in != stdin)
                fclose(in);
            return sn_cli_usage_error("check", "--date: %s", err);
        }
    }
    puts("number,date,result,reason");
    while ((got = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        int r = check_row(store, today, args->date, line, len, lineno++ == 0);
        if (r > 0)
            invalid++;
    }
    free(line);
    if (in != stdin)
        fclose(in);
    if (invalid > 0)
        fprintf(stderr, "secondnum check: %zu invalid rows\n", invalid);
    return invalid > 0 ? SN_EXIT_REJECTED : SN_EXIT_OK;
}

int sn_cmd_check(int argc, char **argv)
{
    check_args args = {0};
    const sn_cli_opt opts[] = {SN_CLI_DB(&args.db), SN_CLI_TEXT("file", &args.file),
                               SN_CLI_TEXT("date", &args.date), SN_CLI_FLAG("json", &args.json)};
    sn_store *store = NULL;
    int rc = sn_cli_parse("check", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    if (args.file == NULL && (argc - optind != 2 || args.date != NULL))
        return sn_cli_usage_error("check", "expected NUMBER DATE (or --file IN.csv)");
    if (args.file != NULL && optind != argc)
        return sn_cli_usage_error("check", "--file takes no NUMBER DATE arguments");
    if (sn_cli_open_store("check", args.db, NULL, 0, &store) != SN_OK)
        return SN_EXIT_REJECTED;
    rc = args.file != NULL ? check_file(store, &args)
                           : check_one(store, &args, argv[optind], argv[optind + 1]);
    sn_store_close(store);
    return rc;
}

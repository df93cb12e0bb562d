/*
 * cmd_import.c - `secondnum import`: apply a carrier feed file to the store.
 *
 * The whole file is read and validated first, then sorted by (number, time,
 * line) and applied in batches of --batch-size events, each one transaction.
 * Because every batch is committed in number order, an import killed at any
 * point leaves whole batches behind, and running the same import again
 * counts those events as duplicates and applies the rest.
 * --batch-size 0 applies the whole file in one transaction. Each batch goes
 * through the events service (service/events.h), as the live feed does:
 * the same guard, the same notices.
 */
#include "cli/cli.h"

#include "core/errors.h"
#include "feed/csv.h"
#include "feed/feed_csv.h"
#include "service/events.h"
#include "service/keys.h"
#include "util/grow.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REJECTS_FILE_MODE 0600 /* rejected lines are the carrier's, ID digits and all */

#define DEFAULT_BATCH 100000
#define DEFAULT_CARRIER "default"

static const char usage[] =
    "usage: secondnum import --db FILE [--create] [--carrier NAME] [--rejects OUT.csv]\n"
    "                        [--batch-size N] [--key FILE] [--notice-deadline DAYS] FEED.csv\n"
    "\n"
    "Apply a carrier feed to the store. FEED.csv is a CSV file ('-' for standard\n"
    "input) with a header naming the columns number,event,at and optionally\n"
    "event_id,id6,to (to: a port_out's recipient carrier). Events are applied per\n"
    "number in time order; an event already recorded counts as a duplicate, so an\n"
    "interrupted import can simply be run again.\n"
    "\n"
    "  --db FILE           the store (`secondnum init` makes one)\n"
    "  --create            create the store with the defaults when FILE is absent\n"
    "  --carrier NAME      a carrier's own feed: NAME must exist (`carriers add`) and\n"
    "                      the rules of POST /v1/events apply (its ranges, ports\n"
    "                      authorised by port_out, id6 changes). Without it the file\n"
    "                      is a history load under the carrier 'default', without\n"
    "                      those rules\n"
    "  --rejects OUT.csv   also write rejected lines there as line,reason,input\n"
    "  --batch-size N      events per transaction (default 100000; 0 = whole file)\n"
    "  --key FILE          the store's secret file for id6 hashing (default\n"
    "                      $SECONDNUM_KEY, else FILE.key; required for postgres://)\n"
    "  --notice-deadline DAYS  deadline of the notices the feed issues to bound apps\n"
    "                      (default 5; see docs/http-api.md, reissue guard)\n"
    "\n"
    "Prints 'applied N, duplicate N, rejected N'. Rejected lines go to standard\n"
    "error as 'line N: reason'.\n"
    "Exit status: 0 every line applied or duplicate, 1 some lines rejected or the\n"
    "import failed, 2 usage.\n";

typedef struct {
    const char *db, *carrier, *rejects_path, *key_path, *feed;
    int create, own_feed; /* --create; --carrier given */
    long batch;
    int64_t notice_deadline_s;
} import_args;

/* The raw text of lines rejected while parsing, in line order. */
typedef struct {
    uint32_t line;
    char *text;
} raw_line;

typedef struct {
    raw_line *v;
    size_t n, cap;
    int failed;
} raw_lines;

typedef struct {
    raw_lines raws;
    sn_progress progress;
} import_state;

static void keep_raw_line(void *ctx, uint32_t line, const char *raw, size_t len)
{
    raw_lines *r = &((import_state *)ctx)->raws;
    if (r->failed)
        return;
    raw_line *v = sn_grow(r->v, &r->cap, r->n, sizeof(*v), 64);
    if (v == NULL) {
        r->failed = 1;
        return;
    }
    r->v = v;
    char *text = strndup(raw, len);
    if (text == NULL) {
        r->failed = 1;
        return;
    }
    r->v[r->n++] = (raw_line){line, text};
}

static void free_raw_lines(raw_lines *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].text);
    free(r->v);
}

static const char *find_raw(const raw_lines *r, uint32_t line)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->v[mid].line < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->v[lo].line == line ? r->v[lo].text : "";
}

static void on_read_progress(void *ctx, uint64_t bytes, uint64_t lines)
{
    sn_progress_update(&((import_state *)ctx)->progress, bytes, lines);
}

static int parse_args(int argc, char **argv, import_args *a)
{
    const sn_cli_opt opts[] = {
        SN_CLI_DB(&a->db),
        SN_CLI_CREATE(&a->create),
        SN_CLI_TEXT("carrier", &a->carrier),
        SN_CLI_TEXT("rejects", &a->rejects_path),
        SN_CLI_LONG("batch-size", &a->batch, 0, 100000000, "--batch-size must be 0-100000000"),
        SN_CLI_TEXT("key", &a->key_path),
        SN_CLI_DAYS("notice-deadline", &a->notice_deadline_s,
                    "--notice-deadline must be 0-3650 days"),
    };
    memset(a, 0, sizeof(*a));
    a->batch = DEFAULT_BATCH;
    a->notice_deadline_s = SN_DEFAULT_NOTICE_DEADLINE_S;
    int rc = sn_cli_parse("import", argc, argv, 1, opts, SN_CLI_N(opts), usage);
    if (rc != SN_EXIT_OK)
        return rc;
    if (optind != argc - 1)
        return sn_cli_usage_error("import", "expected exactly one FEED.csv (or -)");
    a->own_feed = a->carrier != NULL;
    if (!a->own_feed)
        a->carrier = DEFAULT_CARRIER;
    if (a->carrier[0] == '\0' || strlen(a->carrier) > SN_CARRIER_NAME_MAX)
        return sn_cli_usage_error("import", "--carrier must be 1-%d characters",
                                  SN_CARRIER_NAME_MAX);
    a->feed = argv[optind];
    return SN_EXIT_OK;
}

static void write_reject(FILE *out, const sn_reject *r, const raw_lines *raws, int tz)
{
    char input[SN_CSV_LINE_MAX + 1], quoted[2 * SN_CSV_LINE_MAX + 3], reason[2 * SN_ERRMSG_MAX + 3];
    if (r->ev.kind != SN_EV_NONE) {
        char num[SN_NUMBER_TEXT_MAX], at[SN_TIME_TEXT_MAX];
        sn_number_format(r->ev.number, num);
        sn_time_format(r->ev.at, tz, at);
        snprintf(input, sizeof(input), "%s,%s,%s", num, sn_event_name(r->ev.kind), at);
    } else {
        snprintf(input, sizeof(input), "%s", find_raw(raws, r->index));
    }
    sn_csv_quote(r->reason, strlen(r->reason), reason, sizeof(reason));
    sn_csv_quote(input, strlen(input), quoted, sizeof(quoted));
    fprintf(out, "%u,%s,%s\n", r->index, reason, quoted);
}

/* The rejects file, readable by its owner only (a regular file that
 * exists is tightened; a pipe or device is written as it is). */
static FILE *open_rejects(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, REJECTS_FILE_MODE);
    struct stat st;
    FILE *f = NULL;
    if (fd < 0 || fstat(fd, &st) != 0 ||
        (S_ISREG(st.st_mode) && fchmod(fd, REJECTS_FILE_MODE) != 0) ||
        (f = fdopen(fd, "w")) == NULL) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    return f;
}

static int report_rejects(const import_args *a, sn_ledger_report *rep, const raw_lines *raws,
                          int tz)
{
    FILE *out = NULL;
    int rc = SN_OK;
    sn_ledger_sort_rejects(rep);
    for (size_t i = 0; i < rep->nrejects; i++)
        fprintf(stderr, "line %u: %s\n", rep->rejects[i].index, rep->rejects[i].reason);
    if (a->rejects_path == NULL)
        return SN_OK;
    if ((out = open_rejects(a->rejects_path)) == NULL) {
        fprintf(stderr, "secondnum import: cannot write %s\n", a->rejects_path);
        return SN_EIO;
    }
    fputs("line,reason,input\n", out);
    for (size_t i = 0; i < rep->nrejects; i++)
        write_reject(out, &rep->rejects[i], raws, tz);
    if (fclose(out) != 0) {
        fprintf(stderr, "secondnum import: cannot write %s\n", a->rejects_path);
        rc = SN_EIO;
    }
    return rc;
}

/* Apply the file's events, sorted, in transactions of a->batch events;
 * ev->rep accumulates. */
static int apply_all(sn_store *store, const import_args *a, sn_feed_batch *b, sn_events_batch *ev,
                     import_state *st)
{
    char err[SN_ERRMSG_MAX];
    size_t step = a->batch > 0 ? (size_t)a->batch : b->n;
    sn_service svc;
    sn_log_event *sorted;
    memset(&svc, 0, sizeof(svc));
    svc.rules = *sn_store_rules(store);
    svc.notice_deadline_s = a->notice_deadline_s;
    if (sn_ledger_sort(b->items, b->n, &sorted) != SN_OK) {
        fprintf(stderr, "secondnum import: out of memory sorting %zu events\n", b->n);
        return SN_ENOMEM;
    }
    if (sorted != NULL) {
        free(b->items);
        b->items = sorted;
        b->cap = b->n;
    }
    sn_progress_start(&st->progress, "applying", b->n);
    for (size_t i = 0; i < b->n; i += step) {
        size_t n = b->n - i < step ? b->n - i : step;
        ev->items = b->items + i;
        ev->n = n;
        int rc = sn_events_apply(&svc, store, ev, err, sizeof(err));
        if (rc != SN_OK) {
            sn_progress_finish(&st->progress);
            fprintf(stderr, "secondnum import: %s (events up to this batch were committed)\n", err);
            return rc;
        }
        sn_progress_update(&st->progress, i + n, i + n);
    }
    sn_progress_finish(&st->progress);
    return SN_OK;
}

/* --carrier NAME must name a carrier; the history load's 'default' is made
 * when absent. */
static int reporting_carrier(sn_store *store, const import_args *a, uint32_t *carrier)
{
    char err[SN_ERRMSG_MAX];
    int rc = a->own_feed ? sn_store_carrier_id(store, a->carrier, 0, carrier, err, sizeof(err))
                         : sn_carriers_add(store, a->carrier, NULL, 0, carrier, err, sizeof(err));
    if (rc == SN_ENOTFOUND)
        fprintf(stderr,
                "secondnum import: unknown carrier '%s' (add it with `secondnum carriers add`)\n",
                a->carrier);
    else if (rc != SN_OK)
        fprintf(stderr, "secondnum import: %s\n", err);
    return rc;
}

int sn_cmd_import(int argc, char **argv)
{
    import_args a;
    import_state st;
    sn_store *store = NULL;
    sn_feed_batch batch;
    sn_events_batch ev;
    sn_secret secret;
    FILE *in = NULL;
    char err[SN_ERRMSG_MAX];
    uint32_t carrier;
    int exit_code = SN_EXIT_REJECTED, rc;

    if ((rc = parse_args(argc, argv, &a)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    memset(&st, 0, sizeof(st));
    memset(&batch, 0, sizeof(batch));
    memset(&ev, 0, sizeof(ev));
    in = strcmp(a.feed, "-") == 0 ? stdin : fopen(a.feed, "r");
    if (in == NULL) {
        fprintf(stderr, "secondnum import: cannot open %s\n", a.feed);
        goto out;
    }
    if (sn_cli_open_store("import", a.db, NULL, a.create, &store) != SN_OK)
        goto out;
    int have_secret = sn_cli_load_secret("import", a.db, a.key_path, 0, &secret);
    if (have_secret < 0)
        goto out;
    if (reporting_carrier(store, &a, &carrier) != SN_OK)
        goto out;
    sn_feed_context ctx = {sn_store_rules(store), (int64_t)time(NULL), have_secret ? &secret : NULL,
                           carrier};
    struct stat sb;
    uint64_t total = fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
    sn_progress_start(&st.progress, "reading", total);
    ev.carrier = carrier;
    ev.ranges = a.own_feed;
    rc = sn_feed_csv_read(in, &ctx, &batch, &ev.rep, a.rejects_path ? keep_raw_line : NULL,
                          on_read_progress, &st, err, sizeof(err));
    sn_progress_finish(&st.progress);
    if (rc != SN_OK) {
        fprintf(stderr, "secondnum import: %s\n", err);
        goto out;
    }
    rc = apply_all(store, &a, &batch, &ev, &st);
    if (report_rejects(&a, &ev.rep, &st.raws, ctx.rules->tz_minutes) != SN_OK || st.raws.failed)
        rc = SN_EIO;
    printf("applied %zu, duplicate %zu, rejected %zu\n", ev.rep.applied, ev.rep.duplicates,
           ev.rep.nrejects);
    if (rc == SN_OK && ev.rep.nrejects == 0)
        exit_code = SN_EXIT_OK;
out:
    if (in != NULL && in != stdin)
        fclose(in);
    sn_store_close(store);
    sn_feed_batch_free(&batch);
    sn_events_free(&ev);
    free_raw_lines(&st.raws);
    return exit_code;
}

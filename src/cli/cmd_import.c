/*
 * cmd_import.c - `secondnum import`: apply a carrier feed file to the store.
 *
 * The file is read and validated --chunk-lines lines at a time, each chunk
 * sorted by (number, time, line). A feed of one chunk is applied from
 * memory; a longer one is written as sorted runs to a temporary file
 * (feed/spool.h) and merged, so memory is bounded by the chunk whatever the
 * file's size. Every line is validated (and rejects reported) before
 * anything is applied. The sorted events are applied in batches of
 * --batch-size events, each one transaction.
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
#include "feed/spool.h"
#include "service/events.h"
#include "service/keys.h"
#include "util/clock.h"
#include "util/grow.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REJECTS_FILE_MODE 0600 /* rejected lines are the carrier's, ID digits and all */

#define DEFAULT_BATCH 100000
/* Lines read, validated and sorted in memory at a time (about 200 bytes
 * each): the bound on the import's memory whatever the file's size. */
#define DEFAULT_CHUNK_LINES 1000000
#define SN_IMPORT_CHUNK_LINES_MAX 100000000
#define DEFAULT_CARRIER "default"

static const char usage[] =
    "usage: secondnum import --db FILE [--create] [--carrier NAME] [--rejects OUT.csv]\n"
    "                        [--batch-size N] [--chunk-lines N] [--key FILE]\n"
    "                        [--notice-deadline DAYS] FEED.csv\n"
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
    "  --chunk-lines N     lines read and sorted in memory at a time (default\n"
    "                      1000000, about 200 bytes each). A longer feed is sorted\n"
    "                      through runs in a temporary file in $TMPDIR (else /tmp;\n"
    "                      about 75 bytes per event, removed on exit), at most 4096\n"
    "                      runs, so memory stays bounded whatever the feed's size\n"
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
    long batch, chunk_lines;
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
        SN_CLI_LONG("chunk-lines", &a->chunk_lines, 1, SN_IMPORT_CHUNK_LINES_MAX,
                    "--chunk-lines must be 1-100000000"),
        SN_CLI_TEXT("key", &a->key_path),
        SN_CLI_DAYS("notice-deadline", &a->notice_deadline_s,
                    "--notice-deadline must be 0-3650 days"),
    };
    memset(a, 0, sizeof(*a));
    a->batch = DEFAULT_BATCH;
    a->chunk_lines = DEFAULT_CHUNK_LINES;
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

/* Applying the sorted events: transactions of a->batch events (0: one for
 * the whole feed), each fed to the ledger in the pieces the events come in. */
typedef struct {
    sn_store *store;
    const import_args *a;
    sn_service svc;
    sn_events_batch *ev;
    import_state *st;
    int open;                /* a transaction is open */
    size_t in_tx;            /* events applied in it */
    sn_ledger_report before; /* the report when it began */
    uint64_t done;           /* events through the ledger */
} applier;

static int tx_fail(applier *p, int rc, const char *err)
{
    sn_store_rollback(p->store);
    sn_ledger_restore(&p->ev->rep, &p->before);
    p->open = 0;
    fprintf(stderr, "secondnum import: %s (batches before this one were committed)\n", err);
    return rc;
}

static int tx_commit(applier *p)
{
    char err[SN_ERRMSG_MAX];
    int rc = sn_store_commit(p->store, err, sizeof(err));
    if (rc != SN_OK)
        return tx_fail(p, rc, err);
    p->open = 0;
    p->in_tx = 0;
    return SN_OK;
}

static int tx_apply(applier *p, sn_log_event *items, size_t n)
{
    char err[SN_ERRMSG_MAX];
    size_t batch = (size_t)p->a->batch;
    int rc;
    while (n > 0) {
        size_t k = batch > 0 && batch - p->in_tx < n ? batch - p->in_tx : n;
        if (!p->open) {
            if ((rc = sn_store_begin(p->store, err, sizeof(err))) != SN_OK) {
                fprintf(stderr, "secondnum import: %s\n", err);
                return rc;
            }
            p->open = 1;
            p->before = p->ev->rep;
        }
        p->ev->items = items;
        p->ev->n = k;
        if ((rc = sn_events_apply_part(&p->svc, p->store, p->ev, err, sizeof(err))) != SN_OK)
            return tx_fail(p, rc, err);
        p->in_tx += k;
        p->done += k;
        items += k;
        n -= k;
        if (batch > 0 && p->in_tx == batch && (rc = tx_commit(p)) != SN_OK)
            return rc;
        sn_progress_update(&p->st->progress, p->done, p->done);
    }
    return SN_OK;
}

/* Sort the chunk in place (its items array is replaced). */
static int sort_chunk(sn_feed_batch *chunk)
{
    sn_log_event *sorted;
    if (sn_ledger_sort(chunk->items, chunk->n, &sorted) != SN_OK) {
        fprintf(stderr, "secondnum import: out of memory sorting %zu events\n", chunk->n);
        return SN_ENOMEM;
    }
    if (sorted != NULL) {
        free(chunk->items);
        chunk->items = sorted;
        chunk->cap = chunk->n;
    }
    return SN_OK;
}

static const char *temp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d != NULL && d[0] != '\0' ? d : "/tmp";
}

/* Read the feed a chunk at a time, each chunk sorted. A feed of one chunk
 * stays in *chunk; a longer one goes to *spool as sorted runs. *events
 * counts the valid events. */
static int read_feed(sn_feed_reader *r, const import_args *a, import_state *st, sn_events_batch *ev,
                     sn_feed_batch *chunk, sn_spool **spool, uint64_t *events)
{
    sn_feed_sink sink = {&ev->rep, a->rejects_path ? keep_raw_line : NULL, on_read_progress, st};
    char err[SN_ERRMSG_MAX];
    int rc;
    for (;;) {
        sn_feed_batch_clear(chunk);
        if ((rc = sn_feed_csv_next(r, chunk, (size_t)a->chunk_lines, &sink, err, sizeof(err))) !=
            SN_OK)
            break;
        *events += chunk->n;
        if ((rc = sort_chunk(chunk)) != SN_OK)
            return rc;
        if (sn_feed_csv_eof(r) && *spool == NULL)
            return SN_OK; /* the whole feed is in memory */
        if ((*spool == NULL &&
             (rc = sn_spool_create(temp_dir(), spool, err, sizeof(err))) != SN_OK) ||
            (rc = sn_spool_add_run(*spool, chunk->items, chunk->n, err, sizeof(err))) != SN_OK)
            break;
        if (sn_feed_csv_eof(r))
            return SN_OK;
    }
    fprintf(stderr, "secondnum import: %s\n", err);
    return rc;
}

/* Apply what read_feed left: the chunk, or the spool's runs merged. */
static int apply_all(applier *p, sn_feed_batch *chunk, sn_spool *spool, uint64_t events)
{
    char err[SN_ERRMSG_MAX];
    int rc = SN_OK;
    sn_progress_start(&p->st->progress, "applying", events);
    if (spool == NULL) {
        rc = tx_apply(p, chunk->items, chunk->n);
    } else {
        sn_feed_batch_free(chunk); /* the merge reads into it afresh */
        if ((rc = sn_spool_merge(spool, err, sizeof(err))) != SN_OK)
            fprintf(stderr, "secondnum import: %s\n", err);
        while (rc == SN_OK) {
            if ((rc = sn_spool_read(spool, chunk, (size_t)p->a->chunk_lines, err, sizeof(err))) !=
                SN_OK) {
                if (p->open)
                    tx_fail(p, rc, err);
                else
                    fprintf(stderr, "secondnum import: %s\n", err);
                break;
            }
            if (chunk->n == 0)
                break;
            rc = tx_apply(p, chunk->items, chunk->n);
        }
    }
    if (rc == SN_OK && p->open)
        rc = tx_commit(p);
    sn_progress_finish(&p->st->progress);
    return rc;
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

/* Read, sort and apply the feed in; SN_OK or a failure already reported
 * (*read_ok 0: the file could not be read, nothing was applied). */
static int import_feed(FILE *in, sn_store *store, const sn_feed_context *ctx, const import_args *a,
                       import_state *st, sn_events_batch *ev, int *read_ok)
{
    sn_feed_reader *r = NULL;
    sn_feed_batch chunk;
    sn_spool *spool = NULL;
    char err[SN_ERRMSG_MAX];
    uint64_t events = 0;
    struct stat sb;
    uint64_t total = fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
    applier p = {.store = store, .a = a, .ev = ev, .st = st};
    int rc;

    memset(&chunk, 0, sizeof(chunk));
    p.svc.rules = *sn_store_rules(store);
    p.svc.notice_deadline_s = a->notice_deadline_s;
    sn_progress_start(&st->progress, "reading", total);
    if ((rc = sn_feed_csv_open(in, ctx, &r, err, sizeof(err))) != SN_OK)
        fprintf(stderr, "secondnum import: %s\n", err);
    else
        rc = read_feed(r, a, st, ev, &chunk, &spool, &events);
    sn_progress_finish(&st->progress);
    *read_ok = rc == SN_OK;
    if (rc == SN_OK)
        rc = apply_all(&p, &chunk, spool, events);
    sn_feed_csv_close(r);
    sn_spool_free(spool);
    sn_feed_batch_free(&chunk);
    return rc;
}

int sn_cmd_import(int argc, char **argv)
{
    import_args a;
    import_state st;
    sn_store *store = NULL;
    sn_events_batch ev;
    sn_secret secret;
    FILE *in = NULL;
    uint32_t carrier;
    int exit_code = SN_EXIT_REJECTED, rc;

    if ((rc = parse_args(argc, argv, &a)) != SN_EXIT_OK)
        return rc < 0 ? SN_EXIT_OK : rc;
    memset(&st, 0, sizeof(st));
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
    sn_feed_context ctx = {sn_store_rules(store), sn_wall_sec(), have_secret ? &secret : NULL,
                           carrier};
    ev.carrier = carrier;
    ev.ranges = a.own_feed;
    int read_ok;
    rc = import_feed(in, store, &ctx, &a, &st, &ev, &read_ok);
    if (!read_ok)
        goto out;
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
    sn_events_free(&ev);
    free_raw_lines(&st.raws);
    return exit_code;
}

/*
 * feed_csv.c - carrier feed files (see feed_csv.h).
 *
 * Lines are read with getline and split in place; event ids are copied into
 * an arena of fixed blocks so the pointers the events hold never move while
 * the items array grows. Thread-safety: one batch per thread.
 */
#include "feed/feed_csv.h"

#include "core/errors.h"
#include "feed/csv.h"
#include "util/grow.h"
#include "store/log.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (1u << 20)
#define PROGRESS_EVERY 65536

enum { COL_NUMBER, COL_EVENT, COL_AT, COL_EVENT_ID, COL_ID6, COL_TO, COL_COUNT };
static const char *const column_names[COL_COUNT] = {"number",   "event", "at",
                                                    "event_id", "id6",   "to"};

struct sn_arena_block {
    sn_arena_block *next;
    size_t used;
    char data[ARENA_BLOCK];
};

typedef struct {
    int where[COL_COUNT]; /* column index of each known name, -1 when absent */
    size_t ncols;
    const char *names[SN_CSV_FIELDS_MAX];
} header_map;

static char *arena_copy(sn_feed_batch *b, const char *s, size_t len)
{
    if (b->arena == NULL || b->arena->used + len > ARENA_BLOCK) {
        sn_arena_block *blk = malloc(sizeof(*blk));
        if (blk == NULL)
            return NULL;
        blk->next = b->arena;
        blk->used = 0;
        b->arena = blk;
    }
    char *p = b->arena->data + b->arena->used;
    memcpy(p, s, len);
    b->arena->used += len;
    return p;
}

void sn_feed_batch_free(sn_feed_batch *b)
{
    while (b->arena != NULL) {
        sn_arena_block *next = b->arena->next;
        free(b->arena);
        b->arena = next;
    }
    free(b->items);
    memset(b, 0, sizeof(*b));
}

static int read_header(char *line, size_t len, header_map *h, char *err, size_t errlen)
{
    sn_csv_field f[SN_CSV_FIELDS_MAX];
    int rc;

    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 BOM from spreadsheets */
        line += 3;
        len -= 3;
    }
    if ((rc = sn_csv_split(line, len, f, SN_CSV_FIELDS_MAX, &h->ncols, err, errlen)) != SN_OK)
        return rc;
    for (int k = 0; k < COL_COUNT; k++)
        h->where[k] = -1;
    for (size_t i = 0; i < h->ncols; i++) {
        int k = 0;
        while (k < COL_COUNT && !(strlen(column_names[k]) == f[i].len &&
                                  memcmp(column_names[k], f[i].s, f[i].len) == 0))
            k++;
        if (k == COL_COUNT)
            return sn_fail(err, errlen, SN_EINVAL,
                           "header: unknown column '%.*s' (expected number,event,at and "
                           "optionally event_id,id6,to)",
                           (int)(f[i].len > 32 ? 32 : f[i].len), f[i].s);
        if (h->where[k] >= 0)
            return sn_fail(err, errlen, SN_EINVAL, "header: column '%s' appears twice",
                           column_names[k]);
        h->where[k] = (int)i;
        h->names[i] = column_names[k];
    }
    for (int k = 0; k <= COL_AT; k++)
        if (h->where[k] < 0)
            return sn_fail(err, errlen, SN_EINVAL, "header: missing column '%s'", column_names[k]);
    return SN_OK;
}

static void field_of(const header_map *h, const sn_csv_field *f, int k, const char **s, size_t *len)
{
    *s = h->where[k] >= 0 ? f[h->where[k]].s : NULL;
    *len = h->where[k] >= 0 ? f[h->where[k]].len : 0;
}

/* Parse one data line into *out; a message in err on rejection. */
static int parse_row(char *line, size_t len, const header_map *h, const sn_feed_context *c,
                     sn_log_event *out, char *err, size_t errlen)
{
    sn_csv_field f[SN_CSV_FIELDS_MAX];
    sn_event_fields ef;
    size_t n;
    int rc;

    if (len == 0 || (len == 1 && line[0] == '\r'))
        return sn_fail(err, errlen, SN_EINVAL, "empty line");
    if ((rc = sn_csv_split(line, len, f, SN_CSV_FIELDS_MAX, &n, err, errlen)) != SN_OK)
        return rc;
    if (n < h->ncols)
        return sn_fail(err, errlen, SN_EINVAL, "missing column '%s' (%zu of %zu columns)",
                       h->names[n], n, h->ncols);
    if (n > h->ncols)
        return sn_fail(err, errlen, SN_EINVAL, "wrong column count: %zu columns, header has %zu", n,
                       h->ncols);
    field_of(h, f, COL_NUMBER, &ef.number, &ef.number_len);
    field_of(h, f, COL_EVENT, &ef.event, &ef.event_len);
    field_of(h, f, COL_AT, &ef.at, &ef.at_len);
    field_of(h, f, COL_EVENT_ID, &ef.event_id, &ef.event_id_len);
    field_of(h, f, COL_ID6, &ef.id6, &ef.id6_len);
    field_of(h, f, COL_TO, &ef.to, &ef.to_len);
    return sn_feed_event_parse(c, &ef, out, err, errlen);
}

static int push_item(sn_feed_batch *b, const sn_log_event *e)
{
    sn_log_event *items = sn_grow(b->items, &b->cap, b->n, sizeof(*items), 4096);
    if (items == NULL)
        return SN_ENOMEM;
    b->items = items;
    b->items[b->n++] = *e;
    return SN_OK;
}

/* Keep a row: copy its event id (and a port_out's recipient) into the
 * arena and append it. */
static int keep_row(sn_feed_batch *b, sn_log_event *e)
{
    if (e->event_id != NULL && (e->event_id = arena_copy(b, e->event_id, e->event_id_len)) == NULL)
        return SN_ENOMEM;
    if (e->ev.kind == SN_EV_PORT_OUT && (e->to = arena_copy(b, e->to, e->to_len)) == NULL)
        return SN_ENOMEM;
    return push_item(b, e);
}

int sn_feed_csv_read(FILE *in, const sn_feed_context *c, sn_feed_batch *b, sn_ledger_report *rep,
                     void (*on_reject)(void *ctx, uint32_t line, const char *raw, size_t len),
                     sn_feed_progress progress, void *ctx, char *err, size_t errlen)
{
    char *line = NULL, *raw = NULL, why[SN_ERRMSG_MAX];
    size_t cap = 0;
    uint64_t bytes = 0;
    uint32_t lineno = 0;
    header_map h;
    ssize_t got;
    int rc = SN_OK;

    if ((got = getline(&line, &cap, in)) < 0) {
        rc = sn_fail(err, errlen, SN_EINVAL, "empty feed: no header line");
        goto out;
    }
    lineno = 1;
    bytes += (uint64_t)got;
    if (got > 0 && line[got - 1] == '\n')
        got--;
    if ((rc = read_header(line, (size_t)got, &h, why, sizeof(why))) != SN_OK) {
        rc = sn_fail(err, errlen, rc, "line 1: %s", why);
        goto out;
    }
    if ((raw = malloc(SN_CSV_LINE_MAX + 2)) == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        goto out;
    }
    while ((got = getline(&line, &cap, in)) >= 0) {
        sn_log_event e;
        size_t len = (size_t)got;
        bytes += (uint64_t)got;
        lineno++;
        b->lines++;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        size_t rawlen = len > SN_CSV_LINE_MAX ? SN_CSV_LINE_MAX : len;
        if (on_reject != NULL)
            memcpy(raw, line, rawlen); /* splitting rewrites the line in place */
        int prc = parse_row(line, len, &h, c, &e, why, sizeof(why));
        if (prc == SN_OK) {
            e.index = lineno;
            prc = keep_row(b, &e);
            if (prc != SN_OK) {
                rc = sn_fail(err, errlen, prc, "out of memory at line %u", lineno);
                goto out;
            }
        } else {
            if (sn_ledger_reject(rep, lineno, prc, why, NULL) != SN_OK) {
                rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
                goto out;
            }
            if (on_reject != NULL)
                on_reject(ctx, lineno, raw, rawlen);
        }
        if (progress != NULL && b->lines % PROGRESS_EVERY == 0)
            progress(ctx, bytes, b->lines);
    }
    if (ferror(in))
        rc = sn_fail(err, errlen, SN_EIO, "read error after line %u", lineno);
    else if (progress != NULL)
        progress(ctx, bytes, b->lines);
out:
    free(line);
    free(raw);
    return rc;
}

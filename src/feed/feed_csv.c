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

#include <stdint.h>
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

void sn_feed_batch_clear(sn_feed_batch *b)
{
    while (b->arena != NULL) {
        sn_arena_block *next = b->arena->next;
        free(b->arena);
        b->arena = next;
    }
    b->n = 0;
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

int sn_feed_batch_push(sn_feed_batch *b, const sn_log_event *src)
{
    sn_log_event copy = *src, *e = &copy;
    if (e->event_id != NULL && (e->event_id = arena_copy(b, e->event_id, e->event_id_len)) == NULL)
        return SN_ENOMEM;
    if (e->ev.kind == SN_EV_PORT_OUT && (e->to = arena_copy(b, e->to, e->to_len)) == NULL)
        return SN_ENOMEM;
    return push_item(b, e);
}

struct sn_feed_reader {
    FILE *in;
    const sn_feed_context *c;
    header_map h;
    char *line, *raw; /* getline's buffer; a copy of the line for on_reject */
    size_t cap;
    uint64_t bytes;
    uint32_t lineno;
    int eof;
};

int sn_feed_csv_open(FILE *in, const sn_feed_context *c, sn_feed_reader **out, char *err,
                     size_t errlen)
{
    char why[SN_ERRMSG_MAX];
    sn_feed_reader *r = calloc(1, sizeof(*r));
    ssize_t got;
    int rc;

    *out = NULL;
    if (r == NULL || (r->raw = malloc(SN_CSV_LINE_MAX + 2)) == NULL) {
        free(r);
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    }
    r->in = in;
    r->c = c;
    if ((got = getline(&r->line, &r->cap, in)) < 0) {
        rc = sn_fail(err, errlen, SN_EINVAL, "empty feed: no header line");
        goto fail;
    }
    r->lineno = 1;
    r->bytes = (uint64_t)got;
    if (got > 0 && r->line[got - 1] == '\n')
        got--;
    if ((rc = read_header(r->line, (size_t)got, &r->h, why, sizeof(why))) != SN_OK) {
        rc = sn_fail(err, errlen, rc, "line 1: %s", why);
        goto fail;
    }
    *out = r;
    return SN_OK;
fail:
    sn_feed_csv_close(r);
    return rc;
}

void sn_feed_csv_close(sn_feed_reader *r)
{
    if (r == NULL)
        return;
    free(r->line);
    free(r->raw);
    free(r);
}

int sn_feed_csv_eof(const sn_feed_reader *r)
{
    return r->eof;
}

/* One data line: kept in b, or rejected into rep (when rep is not NULL). */
static int take_line(sn_feed_reader *r, size_t len, sn_feed_batch *b, const sn_feed_sink *k,
                     char *err, size_t errlen)
{
    char why[SN_ERRMSG_MAX];
    sn_log_event e;
    size_t rawlen = len > SN_CSV_LINE_MAX ? SN_CSV_LINE_MAX : len;
    if (k->on_reject != NULL)
        memcpy(r->raw, r->line, rawlen); /* splitting rewrites the line in place */
    int prc = parse_row(r->line, len, &r->h, r->c, &e, why, sizeof(why));
    if (prc == SN_OK) {
        e.index = r->lineno;
        if (sn_feed_batch_push(b, &e) != SN_OK)
            return sn_fail(err, errlen, SN_ENOMEM, "out of memory at line %u", r->lineno);
        return SN_OK;
    }
    if (k->rep == NULL)
        return SN_OK;
    if (sn_ledger_reject(k->rep, r->lineno, prc, why, NULL) != SN_OK)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (k->on_reject != NULL)
        k->on_reject(k->ctx, r->lineno, r->raw, rawlen);
    return SN_OK;
}

int sn_feed_csv_next(sn_feed_reader *r, sn_feed_batch *b, size_t max, const sn_feed_sink *k,
                     char *err, size_t errlen)
{
    ssize_t got;
    size_t lines = 0;
    int rc;

    while (lines < max && (got = getline(&r->line, &r->cap, r->in)) >= 0) {
        size_t len = (size_t)got;
        r->bytes += (uint64_t)got;
        r->lineno++;
        b->lines++;
        lines++;
        if (len > 0 && r->line[len - 1] == '\n')
            len--;
        if ((rc = take_line(r, len, b, k, err, errlen)) != SN_OK)
            return rc;
        if (k->progress != NULL && b->lines % PROGRESS_EVERY == 0)
            k->progress(k->ctx, r->bytes, b->lines);
    }
    if (lines == max)
        return SN_OK;
    r->eof = 1;
    if (ferror(r->in))
        return sn_fail(err, errlen, SN_EIO, "read error after line %u", r->lineno);
    if (k->progress != NULL)
        k->progress(k->ctx, r->bytes, b->lines);
    return SN_OK;
}

int sn_feed_csv_read(FILE *in, const sn_feed_context *c, sn_feed_batch *b, sn_ledger_report *rep,
                     void (*on_reject)(void *ctx, uint32_t line, const char *raw, size_t len),
                     sn_feed_progress progress, void *ctx, char *err, size_t errlen)
{
    sn_feed_sink k = {rep, on_reject, progress, ctx};
    sn_feed_reader *r;
    int rc = sn_feed_csv_open(in, c, &r, err, errlen);
    if (rc != SN_OK)
        return rc;
    while (rc == SN_OK && !r->eof)
        rc = sn_feed_csv_next(r, b, SIZE_MAX, &k, err, errlen);
    sn_feed_csv_close(r);
    return rc;
}

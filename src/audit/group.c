/*
 * group.c - group rows of single check records (see group.h). A few open
 * groups, each a row being filled: its key fields, its items packed and
 * its records' meta appended as they come.
 */
#include "audit/group.h"

#include "core/errors.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

#define META_MAX (SN_AUDIT_META_FIXED + SN_AUDIT_REQUEST_MAX) /* bytes of one record's meta */

typedef struct {
    sn_audit_row row; /* the key; at: the second's first millisecond */
    uint64_t opened;  /* order of opening: the oldest goes for a new key */
    uint8_t items[SN_AUDIT_GROUP_ITEMS * SN_AUDIT_ITEM_BYTES];
    uint8_t meta[SN_AUDIT_GROUP_ITEMS * META_MAX];
} group;

struct sn_audit_groups {
    group *live[SN_AUDIT_GROUP_OPEN]; /* live[0..open) gather; the rest are free */
    size_t open;
    uint64_t opened;
    group g[SN_AUDIT_GROUP_OPEN];
};

void sn_audit_item_put(uint8_t out[SN_AUDIT_ITEM_BYTES], const uint8_t *hash, sn_day day,
                       uint8_t verdict)
{
    if (hash != NULL)
        memcpy(out, hash, SN_AUDIT_HASH_LEN);
    else
        memset(out, 0, SN_AUDIT_HASH_LEN);
    uint32_t d = (uint32_t)day;
    for (int b = 0; b < 4; b++)
        out[SN_AUDIT_HASH_LEN + b] = (uint8_t)(d >> (8 * b));
    out[SN_AUDIT_HASH_LEN + 4] = verdict;
}

int sn_audit_groupable(const sn_audit_record *r, int hashing)
{
    return hashing && r->app[0] != '\0' && r->nitems == 0 && r->done == NULL && r->has_number &&
           r->verdict >= 0 && r->verdict < SN_AUDIT_VERDICTS && r->answer == NULL;
}

int sn_audit_groups_new(sn_audit_groups **out)
{
    if ((*out = calloc(1, sizeof(**out))) == NULL)
        return SN_ENOMEM;
    for (size_t i = 0; i < SN_AUDIT_GROUP_OPEN; i++)
        (*out)->live[i] = &(*out)->g[i];
    return SN_OK;
}

void sn_audit_groups_free(sn_audit_groups *g)
{
    free(g);
}

void sn_audit_groups_clear(sn_audit_groups *g)
{
    g->open = 0;
}

static const char *text(const char *s)
{
    return s != NULL ? s : "";
}

/* Whether r belongs in group x (its second included). */
static int same_key(const group *x, const sn_audit_record *r, int64_t second_ms)
{
    return x->row.at == second_ms && x->row.status == r->status &&
           strcmp(x->row.route, text(r->route)) == 0 && strcmp(x->row.app, r->app) == 0 &&
           strcmp(x->row.who, r->who) == 0 && strcmp(x->row.method, text(r->method)) == 0 &&
           strcmp(x->row.who_kind, text(r->who_kind)) == 0;
}

static void open_group(sn_audit_groups *gs, group *x, const sn_audit_record *r, int64_t second_ms)
{
    sn_audit_row *row = &x->row;
    memset(row, 0, sizeof(*row));
    row->at = second_ms;
    row->status = r->status;
    row->day = SN_DAY_NONE;
    sn_text_copy(row->route, sizeof(row->route), r->route);
    sn_text_copy(row->method, sizeof(row->method), r->method);
    sn_text_copy(row->who_kind, sizeof(row->who_kind), r->who_kind);
    sn_text_copy(row->who, sizeof(row->who), r->who);
    sn_text_copy(row->app, sizeof(row->app), r->app);
    row->item_data = x->items;
    row->item_meta = x->meta;
    x->opened = gs->opened++;
}

/* Write open group i and free it (the last open one takes its place). */
static int write_group(sn_audit_groups *gs, size_t i, sn_audit_row_write_fn write, void *ctx,
                       char *err, size_t errlen)
{
    group *x = gs->live[i];
    int rc = write(ctx, &x->row, err, errlen);
    if (rc != SN_OK)
        return rc;
    gs->live[i] = gs->live[--gs->open];
    gs->live[gs->open] = x;
    return SN_OK;
}

static size_t oldest(const sn_audit_groups *gs)
{
    size_t o = 0;
    for (size_t i = 1; i < gs->open; i++)
        if (gs->live[i]->opened < gs->live[o]->opened)
            o = i;
    return o;
}

int sn_audit_groups_add(sn_audit_groups *gs, const sn_audit_record *r,
                        const uint8_t hash[SN_AUDIT_HASH_LEN], sn_audit_row_write_fn write,
                        void *ctx, char *err, size_t errlen)
{
    int64_t second_ms = r->at_ms - r->at_ms % 1000;
    size_t i = 0;
    int rc;
    while (i < gs->open && !same_key(gs->live[i], r, second_ms))
        i++;
    if (i == gs->open) {
        if (gs->open == SN_AUDIT_GROUP_OPEN &&
            (rc = write_group(gs, oldest(gs), write, ctx, err, errlen)) != SN_OK)
            return rc;
        i = gs->open++;
        open_group(gs, gs->live[i], r, second_ms);
    }
    group *x = gs->live[i];
    sn_audit_row *row = &x->row;
    sn_audit_item_put(x->items + (size_t)row->items * SN_AUDIT_ITEM_BYTES, hash, r->day,
                      (uint8_t)r->verdict);
    uint8_t *m = x->meta + row->item_meta_len;
    uint32_t off = (uint32_t)(r->at_ms - second_ms);
    size_t n = strnlen(r->request, SN_AUDIT_REQUEST_MAX);
    m[0] = (uint8_t)off;
    m[1] = (uint8_t)(off >> 8);
    m[2] = (uint8_t)n;
    memcpy(m + SN_AUDIT_META_FIXED, r->request, n);
    row->item_meta_len += SN_AUDIT_META_FIXED + n;
    row->items++;
    if (row->items == SN_AUDIT_GROUP_ITEMS)
        return write_group(gs, i, write, ctx, err, errlen);
    return SN_OK;
}

int sn_audit_groups_flush(sn_audit_groups *gs, sn_audit_row_write_fn write, void *ctx, char *err,
                          size_t errlen)
{
    int rc = SN_OK;
    while (gs->open > 0 && rc == SN_OK)
        rc = write_group(gs, oldest(gs), write, ctx, err, errlen);
    return rc;
}

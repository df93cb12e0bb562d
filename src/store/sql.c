/*
 * sql.c - reading rows and running statements through the backend's SQL
 * driver (sql.h). Thread-safety: as the handle.
 */
#include "store/backend.h"

#include "core/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int64_t sn_sql_int(const sn_sql_row *r, int col)
{
    return r->driver->col_int(r, col);
}

const char *sn_sql_str(const sn_sql_row *r, int col, size_t *len)
{
    size_t n = 0;
    const char *p = r->driver->col_bytes(r, col, &n);
    if (len != NULL)
        *len = n;
    return p;
}

void sn_sql_text(const sn_sql_row *r, int col, char *dst, size_t cap)
{
    size_t n = 0;
    const char *p = r->driver->col_bytes(r, col, &n);
    snprintf(dst, cap, "%.*s", p != NULL ? (int)n : 0, p != NULL ? p : "");
}

int sn_sql_blob(const sn_sql_row *r, int col, void *dst, size_t len)
{
    size_t n = 0;
    const void *p = r->driver->col_bytes(r, col, &n);
    if (p == NULL || n != len)
        return 0;
    memcpy(dst, p, len);
    return 1;
}

int sn_sql_is_null(const sn_sql_row *r, int col)
{
    size_t n;
    return r->driver->col_bytes(r, col, &n) == NULL;
}

/* Store v at the width of the field (two's complement keeps the bits). */
static void store_int(uint8_t *field, size_t size, int64_t v)
{
    uint8_t u8 = (uint8_t)v;
    uint16_t u16 = (uint16_t)v;
    uint32_t u32 = (uint32_t)v;
    switch (size) {
    case 1:
        memcpy(field, &u8, 1);
        break;
    case 2:
        memcpy(field, &u16, 2);
        break;
    case 4:
        memcpy(field, &u32, 4);
        break;
    default:
        memcpy(field, &v, sizeof(v));
    }
}

void sn_sql_read_map(const sn_sql_row *row, int c, const sn_sql_map *map, void *record)
{
    uint8_t *base = record;
    memset(record, 0, map->size);
    for (int i = 0; i < map->ncols; i++) {
        const sn_sql_col *col = &map->cols[i];
        uint8_t *field = base + col->offset;
        if (col->type == 'i')
            store_int(field, col->size, sn_sql_int(row, c + i));
        else if (col->type == 't')
            sn_sql_text(row, c + i, (char *)field, col->size);
        else if (sn_sql_blob(row, c + i, field, col->size) && col->has >= 0)
            base[col->has] = 1;
    }
}

int sn_sql_read(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                sn_sql_row_fn fn, void *ctx, const char *what, char *err, size_t errlen)
{
    return s->be->sql->run(s, sql, 0, args, nargs, fn, ctx, NULL, what, err, errlen);
}

int sn_sql_read_once(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                     sn_sql_row_fn fn, void *ctx, const char *what, char *err, size_t errlen)
{
    return s->be->sql->run(s, sql, 1, args, nargs, fn, ctx, NULL, what, err, errlen);
}

typedef struct {
    sn_sql_row_fn fn;
    void *ctx;
    int found;
} first_row;

static int take_first(void *ctx, const sn_sql_row *row)
{
    first_row *f = ctx;
    f->found = 1;
    f->fn(f->ctx, row);
    return 1;
}

int sn_sql_one(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs, sn_sql_row_fn fn,
               void *ctx, const char *what, char *err, size_t errlen)
{
    first_row f = {fn, ctx, 0};
    int rc = sn_sql_read(s, sql, args, nargs, take_first, &f, what, err, errlen);
    if (rc < 0)
        return rc;
    return f.found ? SN_OK : SN_ENOTFOUND;
}

typedef struct {
    const sn_sql_map *map;
    void *record;
} map_read;

static int read_by_map(void *ctx, const sn_sql_row *row)
{
    map_read *m = ctx;
    sn_sql_read_map(row, 0, m->map, m->record);
    return 0;
}

int sn_sql_get(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
               const sn_sql_map *map, void *record, const char *what, char *err, size_t errlen,
               const char *missing, ...)
{
    map_read m = {map, record};
    int rc = sn_sql_one(s, sql, args, nargs, read_by_map, &m, what, err, errlen);
    if (rc == SN_ENOTFOUND && missing != NULL && err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, missing);
        vsnprintf(err, errlen, missing, ap);
        va_end(ap);
    }
    return rc;
}

int sn_sql_begin(sn_store *s, int *own, char *err, size_t errlen)
{
    *own = !s->in_tx;
    return *own ? s->be->begin(s, err, errlen) : SN_OK;
}

int sn_sql_end(sn_store *s, int own, int rc, char *err, size_t errlen)
{
    if (!own)
        return rc;
    if (rc == SN_OK)
        rc = s->be->commit(s, err, errlen);
    if (rc != SN_OK)
        s->be->rollback(s);
    return rc;
}

/* One statement in the open transaction or one of its own. */
static int write(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                 sn_sql_row_fn fn, void *ctx, uint64_t *changed, const char *what, char *err,
                 size_t errlen)
{
    int own, rc = sn_sql_begin(s, &own, err, errlen);
    if (rc == SN_OK)
        rc = s->be->sql->run(s, sql, 0, args, nargs, fn, ctx, changed, what, err, errlen);
    return sn_sql_end(s, own, rc, err, errlen);
}

int sn_sql_write(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                 uint64_t *changed, const char *what, char *err, size_t errlen)
{
    return write(s, sql, args, nargs, NULL, NULL, changed, what, err, errlen);
}

static int read_u64(void *ctx, const sn_sql_row *row)
{
    *(uint64_t *)ctx = (uint64_t)sn_sql_int(row, 0);
    return 0;
}

int sn_sql_insert_id(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                     uint64_t *id, const char *what, char *err, size_t errlen)
{
    return write(s, sql, args, nargs, read_u64, id, NULL, what, err, errlen);
}

/* The add statement inserts only when the name is still absent under the
 * writer's lock (returning no row otherwise); when another writer got there
 * first, the name is read again. */
int sn_sql_named_id(sn_store *s, const char *get_sql, const char *add_sql, const char *kind,
                    const char *name, int create, uint32_t *id, char *err, size_t errlen)
{
    char what[32];
    uint64_t v = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        snprintf(what, sizeof(what), "read %s", kind);
        int rc = sn_sql_one(s, get_sql, SQL_ARGS(SQL_TEXT(name)), read_u64, &v, what, err, errlen);
        if (rc == SN_OK)
            *id = (uint32_t)v;
        if (rc != SN_ENOTFOUND)
            return rc;
        if (!create)
            return sn_fail(err, errlen, SN_ENOTFOUND, "no %s named '%s'", kind, name);
        snprintf(what, sizeof(what), "add %s", kind);
        v = 0;
        if ((rc = sn_sql_insert_id(s, add_sql, SQL_ARGS(SQL_TEXT(name)), &v, what, err, errlen)) !=
            SN_OK)
            return rc;
        if (v != 0) {
            *id = (uint32_t)v;
            return SN_OK;
        }
    }
    return sn_fail(err, errlen, SN_ESTORE, "add %s '%s': created and gone again", kind, name);
}

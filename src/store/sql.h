/*
 * sql.h - the SQL the store's domains run on either backend (private to
 * src/store/).
 *
 * Both backends are SQL databases with the same schema, so the domains
 * other than the log (keys.c, apps.c, bindings.c, notices.c, deliveries.c,
 * subscribers.c, complaints.c) are written once, over this interface, in
 * SQL both accept: $1, $2 ... placeholders (the SQLite backend reads them
 * as ?1, ?2 ...), ON CONFLICT upserts, RETURNING, FILTER, window
 * functions, and ids taken as max(id) + 1 inside the writer's transaction.
 * Each backend drives it (sqlite/db.c, pg/db.c): statements are prepared
 * once per handle and cached by the address of their SQL, so SQL given to
 * sn_sql_read and its kin must be a static string; SQL written per call
 * goes through sn_sql_read_once.
 *
 * Arguments are typed values listed at the call and bound by position:
 *
 *     rc = sn_sql_write(s, ack_sql, SQL_ARGS(SQL_INT(id), SQL_TEXT(note)), NULL, ...);
 *
 * each converted to its column type where it is written (SQL_INT takes any
 * integer), so a call cannot pass an argument of the wrong width.
 */
#ifndef SN_STORE_SQL_H
#define SN_STORE_SQL_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char type; /* 'i' integer, 't' text, 'b' bytes */
    int64_t i;
    const void *p; /* text or bytes; NULL binds SQL NULL */
    size_t len;    /* bytes; for text, SQL_NUL_TERMINATED or the length */
} sn_sql_arg;

#define SQL_NUL_TERMINATED SIZE_MAX

#define SQL_INT(v) ((sn_sql_arg){'i', (int64_t)(v), NULL, 0})
#define SQL_TEXT(s) ((sn_sql_arg){'t', 0, (s), SQL_NUL_TERMINATED})
#define SQL_TEXTN(s, n) ((sn_sql_arg){'t', 0, (s), (n)})
#define SQL_BYTES(p, n) ((sn_sql_arg){'b', 0, (p), (n)})

/* The two arguments (array, count) a helper takes for the values listed. */
#define SQL_ARGS(...)                                                                              \
    (const sn_sql_arg[]){__VA_ARGS__},                                                             \
        sizeof((const sn_sql_arg[]){__VA_ARGS__}) / sizeof(sn_sql_arg)
#define SQL_NO_ARGS NULL, 0

/* One row of a result, valid during the call that hands it out. */
typedef struct sn_sql_row sn_sql_row;
struct sn_sql_row {
    const struct sn_sql_driver *driver;
    void *result; /* the backend's statement or result */
    int index;    /* the row's number in result, where the backend counts */
};

/* A row; a non-zero return stops the statement and is returned. */
typedef int (*sn_sql_row_fn)(void *ctx, const sn_sql_row *row);

/* ---- rows into records -----------------------------------------------------
 * A map lists, in column order, the record fields a row fills:
 *
 *     static const sn_sql_map key_map = SN_SQL_MAP(
 *         sn_api_key, SQL_COL_INT(sn_api_key, id), SQL_COL_TEXT(sn_api_key, name), ...);
 *
 * Integers are stored at the field's width, text is truncated to the
 * field (NUL-terminated, "" for NULL), bytes are copied when the column
 * holds exactly the field's size (and then `has` is set to 1). */
typedef struct {
    char type; /* 'i' integer, 't' text, 'b' bytes */
    uint16_t offset, size;
    int16_t has; /* bytes: offset of a uint8_t flag, -1 for none */
} sn_sql_col;

typedef struct {
    const sn_sql_col *cols;
    int ncols;
    size_t size; /* the record's */
} sn_sql_map;

#define SQL_FIELD(T, f) (uint16_t) offsetof(T, f), (uint16_t)sizeof(((T *)0)->f)
#define SQL_COL_INT(T, f)                                                                          \
    {                                                                                              \
        'i', SQL_FIELD(T, f), -1                                                                   \
    }
#define SQL_COL_TEXT(T, f)                                                                         \
    {                                                                                              \
        't', SQL_FIELD(T, f), -1                                                                   \
    }
#define SQL_COL_BYTES(T, f, has)                                                                   \
    {                                                                                              \
        'b', SQL_FIELD(T, f), (int16_t)offsetof(T, has)                                            \
    }
#define SQL_COL_BLOB(T, f)                                                                         \
    {                                                                                              \
        'b', SQL_FIELD(T, f), -1                                                                   \
    }
#define SN_SQL_MAP(T, ...)                                                                         \
    {                                                                                              \
        (const sn_sql_col[]){__VA_ARGS__},                                                         \
            (int)(sizeof((const sn_sql_col[]){__VA_ARGS__}) / sizeof(sn_sql_col)), sizeof(T)       \
    }

/* Zero record, then fill it from the row's columns c, c + 1, ... */
void sn_sql_read_map(const sn_sql_row *row, int c, const sn_sql_map *map, void *record);

/* Define `name`, a row callback for a list: it reads each row into a
 * `type` by map and hands it to the list's typed callback; its ctx points
 * at a name##_list {fn, ctx}. */
#define SN_SQL_LIST(name, type, fn_type, map)                                                      \
    typedef struct {                                                                               \
        fn_type fn;                                                                                \
        void *ctx;                                                                                 \
    } name##_list;                                                                                 \
    static int name(void *ctx, const sn_sql_row *row)                                              \
    {                                                                                              \
        name##_list *list = ctx;                                                                   \
        type record;                                                                               \
        sn_sql_read_map(row, 0, &(map), &record);                                                  \
        return list->fn(list->ctx, &record);                                                       \
    }

/* What a backend provides (backend.h points its handle at one). */
typedef struct sn_sql_driver {
    /* Run one statement: rows to fn (NULL: not read) until it returns
     * non-zero, which is returned; *changed (may be NULL) gets the rows a
     * write changed. once: the SQL is written per call (not cached). */
    int (*run)(sn_store *s, const char *sql, int once, const sn_sql_arg *args, size_t nargs,
               sn_sql_row_fn fn, void *ctx, uint64_t *changed, const char *what, char *err,
               size_t errlen);
    int64_t (*col_int)(const sn_sql_row *r, int col);                    /* NULL reads 0 */
    const void *(*col_bytes)(const sn_sql_row *r, int col, size_t *len); /* NULL for NULL */
} sn_sql_driver;

/* ---- reading rows -------------------------------------------------------- */

int64_t sn_sql_int(const sn_sql_row *r, int col);
/* A text column into dst ("" for NULL), truncated to cap. */
void sn_sql_text(const sn_sql_row *r, int col, char *dst, size_t cap);
/* A text column as is (NUL-terminated), NULL for SQL NULL; *len may be NULL. */
const char *sn_sql_str(const sn_sql_row *r, int col, size_t *len);
/* A bytes column of exactly len bytes into dst: 1, or 0 (nothing copied). */
int sn_sql_blob(const sn_sql_row *r, int col, void *dst, size_t len);
int sn_sql_is_null(const sn_sql_row *r, int col);

/* ---- running statements --------------------------------------------------- */

/* A read: each row to fn until it returns non-zero (returned); SN_OK after
 * the last, SN_ESTORE on a failure. */
int sn_sql_read(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                sn_sql_row_fn fn, void *ctx, const char *what, char *err, size_t errlen);
/* As sn_sql_read for SQL written per call. */
int sn_sql_read_once(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                     sn_sql_row_fn fn, void *ctx, const char *what, char *err, size_t errlen);
/* The first row into fn; SN_ENOTFOUND (err untouched) when there is none. */
int sn_sql_one(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs, sn_sql_row_fn fn,
               void *ctx, const char *what, char *err, size_t errlen);
/* The first row read into record by map; SN_ENOTFOUND when there is none,
 * with the message `missing` formats (when not NULL). */
int sn_sql_get(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
               const sn_sql_map *map, void *record, const char *what, char *err, size_t errlen,
               const char *missing, ...) __attribute__((format(printf, 10, 11)));
/* A write in the open transaction, or in one of its own; *changed (may be
 * NULL) gets the rows it changed. */
int sn_sql_write(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                 uint64_t *changed, const char *what, char *err, size_t errlen);
/* A write returning one integer (INSERT ... RETURNING id), likewise. */
int sn_sql_insert_id(sn_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                     uint64_t *id, const char *what, char *err, size_t errlen);
/* Several statements as one transaction: begin one of its own unless one is
 * open, then end it with rc (commit when SN_OK, else roll back). */
int sn_sql_begin(sn_store *s, int *own, char *err, size_t errlen);
int sn_sql_end(sn_store *s, int own, int rc, char *err, size_t errlen);
/* The id of `name` (a carrier's, an app's) read by get_sql, created when
 * absent and create is set by add_sql (an INSERT ... WHERE NOT EXISTS ...
 * RETURNING id); SN_ENOTFOUND otherwise. */
int sn_sql_named_id(sn_store *s, const char *get_sql, const char *add_sql, const char *kind,
                    const char *name, int create, uint32_t *id, char *err, size_t errlen);

/* Rows several domains read: the columns and their maps. */
#define SN_SQL_APP_COLUMNS                                                                         \
    "a.id, a.name, a.webhook_url, a.webhook_secret, a.sub_cancel, a.sub_reissue"
#define SN_SQL_APP_NCOLUMNS 6
extern const sn_sql_map sn_sql_app_map; /* sn_app */
#define SN_SQL_NOTICE_COLUMNS                                                                      \
    "n.id, n.app, n.number, n.kind, n.source, n.event, n.outcome, n.account, n.tenure, "           \
    "n.event_at, n.created, n.deadline, n.acked_at, n.note, a.name"
#define SN_SQL_NOTICE_NCOLUMNS 15
extern const sn_sql_map sn_sql_notice_map; /* sn_notice */
#define SN_SQL_DELIVERY_COLUMNS                                                                    \
    "d.notice, d.app, d.number, d.state, d.attempts, d.first_at, d.next_at, d.last_error"
#define SN_SQL_DELIVERY_NCOLUMNS 8
extern const sn_sql_map sn_sql_delivery_map; /* sn_delivery */
/* A due delivery: its row, its notice's and its app's (the backends'
 * due_deliveries), read into the three (d->app_name set). */
#define SN_SQL_DUE_COLUMNS                                                                         \
    SN_SQL_DELIVERY_COLUMNS ", " SN_SQL_NOTICE_COLUMNS ", " SN_SQL_APP_COLUMNS
#define SN_SQL_DUE_NCOLUMNS                                                                        \
    (SN_SQL_DELIVERY_NCOLUMNS + SN_SQL_NOTICE_NCOLUMNS + SN_SQL_APP_NCOLUMNS)
struct sn_delivery;
struct sn_notice;
struct sn_app;
void sn_sql_read_due(const sn_sql_row *row, struct sn_delivery *d, struct sn_notice *n,
                     struct sn_app *a);

#endif

/*
 * conn.c - the PostgreSQL backend's connection: errors, statements and
 * their arguments, binary results, reconnecting, and the sets of delivery
 * claims a connection holds (pg.h).
 *
 * A round trip costs more than SQLite's function call, so every statement
 * is prepared once per connection, on first use, and runs with binary
 * parameters and results. The statement is known by the address of its
 * SQL (static strings), its parameter types by the first call's arguments.
 */
#include "store/pg/pg.h"

#include "core/errors.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_line_len(const char *s)
{
    size_t n = strcspn(s, "\n");
    return n > 400 ? 400 : (int)n;
}

int pg_fail(pg_store *s, const PGresult *r, const char *what, char *err, size_t errlen)
{
    const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(s->conn);
    if (msg == NULL || msg[0] == '\0')
        msg = r != NULL ? PQresStatus(PQresultStatus(r)) : "no result";
    return sn_fail(err, errlen, SN_ESTORE, "%s: %.*s", what, pg_line_len(msg), msg);
}

void pg_put_be(unsigned char *dst, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        dst[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be(const unsigned char *src, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | src[i];
    return v;
}

void pg_params_of(const sn_sql_arg *args, size_t nargs, pg_params *p)
{
    for (size_t i = 0; i < nargs; i++) {
        const sn_sql_arg *a = &args[i];
        p->formats[i] = 1;
        if (a->type == 'i') {
            pg_put_be((unsigned char *)p->ints[i], (uint64_t)a->i, 8);
            p->values[i] = p->ints[i];
            p->lengths[i] = 8;
        } else {
            p->values[i] = a->p;
            p->lengths[i] = a->p == NULL                                     ? 0
                            : a->type == 'b' || a->len != SQL_NUL_TERMINATED ? (int)a->len
                                                                             : (int)strlen(a->p);
        }
    }
}

static void types_of(const sn_sql_arg *args, size_t nargs, Oid *types)
{
    enum { INT8 = 20, TEXT = 25, BYTEA = 17 };
    for (size_t i = 0; i < nargs; i++)
        types[i] = args[i].type == 'i' ? INT8 : args[i].type == 't' ? TEXT : BYTEA;
}

static size_t slot_of(const char *sql)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 56) & (PG_STMT_SLOTS - 1);
}

int pg_prepared_name(pg_store *s, const char *sql, const sn_sql_arg *args, size_t nargs, char *name,
                     char *err, size_t errlen)
{
    Oid types[16];
    size_t i = slot_of(sql);
    if (nargs > 16)
        return sn_fail(err, errlen, SN_ESTORE, "prepare: more than 16 parameters");
    while (s->prepared[i].sql != NULL && s->prepared[i].sql != sql)
        i = (i + 1) & (PG_STMT_SLOTS - 1);
    if (s->prepared[i].sql == sql) {
        snprintf(name, PG_NAME_MAX, "sn%d", s->prepared[i].id);
        return SN_OK;
    }
    if (s->nprepared >= PG_STMT_SLOTS - 1)
        return sn_fail(err, errlen, SN_ESTORE, "prepare: more than %d statements", PG_STMT_SLOTS);
    types_of(args, nargs, types);
    snprintf(name, PG_NAME_MAX, "sn%d", s->nprepared);
    PGresult *r = PQprepare(s->conn, name, sql, (int)nargs, types);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SN_OK : pg_fail(s, r, "prepare", err, errlen);
    PQclear(r);
    if (rc == SN_OK) {
        s->prepared[i].sql = sql;
        s->prepared[i].id = s->nprepared++;
    }
    return rc;
}

static PGresult *checked(pg_store *s, PGresult *r, ExecStatusType want, const char *what, char *err,
                         size_t errlen)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == want || (want == PG_RESULT && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)))
        return r;
    pg_fail(s, r, what, err, errlen);
    PQclear(r);
    return NULL;
}

PGresult *pg_exec(pg_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                  ExecStatusType want, const char *what, char *err, size_t errlen)
{
    char name[PG_NAME_MAX];
    pg_params p;
    if (pg_prepared_name(s, sql, args, nargs, name, err, errlen) != SN_OK)
        return NULL;
    pg_params_of(args, nargs, &p);
    PGresult *r = PQexecPrepared(s->conn, name, (int)nargs, p.values, p.lengths, p.formats, 1);
    return checked(s, r, want, what, err, errlen);
}

PGresult *pg_exec_once(pg_store *s, const char *sql, const sn_sql_arg *args, size_t nargs,
                       ExecStatusType want, const char *what, char *err, size_t errlen)
{
    Oid types[16];
    pg_params p;
    if (nargs > 16) {
        sn_fail(err, errlen, SN_ESTORE, "%s: more than 16 parameters", what);
        return NULL;
    }
    types_of(args, nargs, types);
    pg_params_of(args, nargs, &p);
    PGresult *r = PQexecParams(s->conn, sql, (int)nargs, types, p.values, p.lengths, p.formats, 1);
    return checked(s, r, want, what, err, errlen);
}

int pg_exec_sql(pg_store *s, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc =
        st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? SN_OK : pg_fail(s, r, what, err, errlen);
    PQclear(r);
    return rc;
}

/* ---- results --------------------------------------------------------------- */

int64_t pg_int(const PGresult *r, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    switch (PQgetisnull(r, row, col) ? 0 : PQgetlength(r, row, col)) {
    case 1:
        return v[0];
    case 2:
        return (int16_t)get_be(v, 2);
    case 4:
        return (int32_t)get_be(v, 4);
    case 8:
        return (int64_t)get_be(v, 8);
    default:
        return 0;
    }
}

void pg_text(char *dst, size_t cap, const PGresult *r, int row, int col)
{
    snprintf(dst, cap, "%.*s", PQgetlength(r, row, col), PQgetvalue(r, row, col));
}

int pg_blob(void *dst, size_t len, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col) || (size_t)PQgetlength(r, row, col) != len)
        return 0;
    memcpy(dst, PQgetvalue(r, row, col), len);
    return 1;
}

uint64_t pg_changed(const PGresult *r)
{
    return strtoull(PQcmdTuples((PGresult *)r), NULL, 10);
}

/* ---- the connection ------------------------------------------------------- */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int pg_configure(pg_store *s, char *err, size_t errlen)
{
    PGresult *r;
    int rc;
    PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
    memset(s->prepared, 0, sizeof(s->prepared));
    s->nprepared = 0;
    r = PQexec(s->conn, "SELECT current_setting('synchronous_commit')");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pg_fail(s, r, "configure", err, errlen);
        PQclear(r);
        return rc;
    }
    int sync_off = strcmp(PQgetvalue(r, 0, 0), "off") == 0;
    PQclear(r);
    if (s->relaxed)
        return pg_exec_sql(s, "SET synchronous_commit = off", "configure", err, errlen);
    if (sync_off)
        return pg_exec_sql(s, "SET synchronous_commit = on", "configure", err, errlen);
    return SN_OK;
}

int pg_reconnect_if_lost(pg_store *s, char *err, size_t errlen)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return SN_OK;
    PQreset(s->conn);
    s->claimed.n = 0; /* the claims ended with the old session */
    s->written.n = 0;
    if (PQstatus(s->conn) != CONNECTION_OK)
        return pg_fail(s, NULL, "connection to the database lost", err, errlen);
    return pg_configure(s, err, errlen);
}

/* ---- delivery claims ------------------------------------------------------ */

int pg_id_add(pg_id_set *set, uint64_t id)
{
    uint64_t *v = sn_grow(set->v, &set->cap, set->n, sizeof(*v), 256);
    if (v == NULL)
        return SN_ENOMEM;
    set->v = v;
    set->v[set->n++] = id;
    return SN_OK;
}

int pg_id_has(const pg_id_set *set, uint64_t id)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i] == id)
            return 1;
    return 0;
}

static int id_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

char *pg_id_array(const pg_id_set *set)
{
    char *text = malloc(3 + set->n * 21), *p = text;
    if (text == NULL)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < set->n; i++)
        p += sprintf(p, "%s%llu", i ? "," : "", (unsigned long long)set->v[i]);
    *p++ = '}';
    *p = '\0';
    return text;
}

void pg_id_remove_all(pg_id_set *set, pg_id_set *gone)
{
    size_t keep = 0;
    qsort(gone->v, gone->n, sizeof(uint64_t), id_cmp);
    for (size_t i = 0; i < set->n; i++)
        if (bsearch(&set->v[i], gone->v, gone->n, sizeof(uint64_t), id_cmp) == NULL)
            set->v[keep++] = set->v[i];
    set->n = keep;
}

/* deliveries.c takes the claims. A failure to release one only delays the
 * release: the claims end with the connection at the latest. */
static const char unclaim_sql[] =
    "SELECT count(pg_advisory_unlock(" PG_STR(PG_CLAIM_LOCKS) " + x)) FROM unnest($1::bigint[]) x";

void pg_release_claims(pg_store *s)
{
    char err[SN_ERRMSG_MAX], *ids;
    if (s->written.n == 0 || (ids = pg_id_array(&s->written)) == NULL)
        return;
    PGresult *r = pg_exec(s, unclaim_sql, SQL_ARGS(SQL_TEXT(ids)), PGRES_TUPLES_OK,
                          "release delivery claims", err, sizeof(err));
    free(ids);
    if (r == NULL)
        return;
    PQclear(r);
    pg_id_remove_all(&s->claimed, &s->written);
}

int pg_unclaim(pg_store *s, const pg_id_set *ids_set, char *err, size_t errlen)
{
    char *ids = pg_id_array(ids_set);
    if (ids == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    PGresult *r = pg_exec(s, unclaim_sql, SQL_ARGS(SQL_TEXT(ids)), PGRES_TUPLES_OK,
                          "release claims", err, errlen);
    free(ids);
    if (r == NULL)
        return SN_ESTORE;
    PQclear(r);
    return SN_OK;
}

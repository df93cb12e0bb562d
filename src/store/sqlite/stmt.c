/*
 * stmt.c - the SQLite handle's statements (sqlite.h): preparing one with
 * its $N placeholders read as ?N, the cache of the static ones by address,
 * and the error text of a failed call. Invariant: a cached statement lives
 * as long as its handle (db.c finalizes the cache at close).
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"

#include <stdlib.h>
#include <string.h>

int sq_fail(sqlite_store *s, const char *what, char *err, size_t errlen)
{
    return sn_fail(err, errlen, SN_ESTORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

/* Prepare sql with its $N placeholders read as ?N (SQLite's numbered form;
 * a $ names a parameter by its text, and numbers them in order of
 * appearance). */
int sq_prepare(sqlite_store *s, const char *sql, unsigned flags, sqlite3_stmt **q)
{
    size_t len = strlen(sql);
    char *text = malloc(len + 1);
    if (text == NULL)
        return SQLITE_NOMEM;
    for (size_t i = 0; i <= len; i++)
        text[i] = sql[i] == '$' && sql[i + 1] >= '0' && sql[i + 1] <= '9' ? '?' : sql[i];
    int rc = sqlite3_prepare_v3(s->db, text, (int)len, flags, q, NULL);
    free(text);
    return rc;
}

static size_t slot_of(const char *sql)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 56) & (SQ_CACHE_SLOTS - 1);
}

sqlite3_stmt *sq_cached(sqlite_store *s, const char *sql, char *err, size_t errlen)
{
    size_t i = slot_of(sql);
    for (size_t probes = 0; probes < SQ_CACHE_SLOTS; probes++, i = (i + 1) & (SQ_CACHE_SLOTS - 1)) {
        if (s->cache[i].sql == sql)
            return s->cache[i].q;
        if (s->cache[i].sql != NULL)
            continue;
        if (sq_prepare(s, sql, SQLITE_PREPARE_PERSISTENT, &s->cache[i].q) != SQLITE_OK) {
            sq_fail(s, "prepare", err, errlen);
            sqlite3_finalize(s->cache[i].q);
            s->cache[i].q = NULL;
            return NULL;
        }
        s->cache[i].sql = sql;
        return s->cache[i].q;
    }
    sn_fail(err, errlen, SN_ESTORE, "prepare: more than %d statements", SQ_CACHE_SLOTS);
    return NULL;
}

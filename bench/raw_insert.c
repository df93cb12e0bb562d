/*
 * raw_insert.c - the baseline for bench/ingest.sh: insert the rows of a feed
 * CSV into a plain SQLite table as fast as SQLite allows, with no validation,
 * no lifecycle, no deduplication: one prepared INSERT per row, one
 * transaction, the same pragmas the store uses (WAL, synchronous=FULL).
 * Columns are stored as the number (an integer, '+' dropped) and the other
 * fields as text, the least work that keeps every value of the row.
 *
 * usage: raw_insert DB FEED.csv
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 5

static int split(char *line, size_t len, char **f, size_t *flen)
{
    int n = 0;
    char *start = line;
    for (size_t i = 0; i <= len && n < MAX_FIELDS; i++) {
        if (i == len || line[i] == ',') {
            f[n] = start;
            flen[n] = (size_t)(line + i - start);
            n++;
            start = line + i + 1;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    FILE *in = NULL;
    char *line = NULL, *f[MAX_FIELDS];
    size_t cap = 0, flen[MAX_FIELDS];
    ssize_t got;
    long rows = 0;
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: raw_insert DB FEED.csv\n");
        return 2;
    }
    if ((in = fopen(argv[2], "r")) == NULL || sqlite3_open(argv[1], &db) != SQLITE_OK)
        goto out;
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-131072;"
                     "CREATE TABLE raw(number INTEGER, event TEXT, at TEXT, event_id TEXT, id6 TEXT);"
                     "BEGIN",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO raw VALUES (?1, ?2, ?3, ?4, ?5)", -1, &q, NULL) !=
            SQLITE_OK)
        goto out;
    if (getline(&line, &cap, in) < 0) /* header */
        goto out;
    while ((got = getline(&line, &cap, in)) > 0) {
        int n = split(line, (size_t)got - (line[got - 1] == '\n'), f, flen);
        sqlite3_bind_int64(q, 1, strtoll(f[0] + (f[0][0] == '+'), NULL, 10));
        for (int i = 1; i < MAX_FIELDS; i++)
            if (i < n && flen[i] > 0)
                sqlite3_bind_text(q, i + 1, f[i], (int)flen[i], SQLITE_STATIC);
            else
                sqlite3_bind_null(q, i + 1);
        if (sqlite3_step(q) != SQLITE_DONE)
            goto out;
        sqlite3_reset(q);
        rows++;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    printf("inserted %ld rows\n", rows);
    rc = 0;
out:
    if (rc != 0 && db != NULL)
        fprintf(stderr, "raw_insert: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (in != NULL)
        fclose(in);
    free(line);
    return rc;
}

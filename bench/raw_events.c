/*
 * raw_events.c - the SQLite baseline for the events run of bench/http.sh:
 * the rows one new activation adds to the store (a log row in `events`, a
 * state row in `numbers` with its change number and that number's index
 * entry, the store's own table shapes, keys, indexes and insert
 * statements), inserted as fast as SQLite allows, PER_TX events per
 * transaction, with the store's pragmas (WAL, synchronous=FULL, the same
 * page cache). No HTTP, no JSON, no rules, no index, no notices: the least
 * work a store of this design does for the events the HTTP run posts, on one
 * thread, as the store's writer is one thread.
 *
 * usage: raw_events DB EVENTS PER_TX [ROWS]
 * ROWS: rows each INSERT writes (default 1; the store's writer writes 64,
 * SQ_ROWS_CHUNK, and the rest of a transaction one by one, as here).
 * prints one line: events/s. DB must not exist.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_KIB 131072 /* as src/store/store_sqlite.c */
#define FIRST_NUMBER 8617000000000LL
#define ORDINAL_BITS 13 /* event key = number << 13 | ordinal, as the store */

static const char schema[] =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -131072;"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " carrier INTEGER NOT NULL, event_id TEXT, id6_hash BLOB, flags INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE numbers(number INTEGER PRIMARY KEY, status INTEGER NOT NULL,"
    " first_is_activation INTEGER NOT NULL, tenure INTEGER NOT NULL, carrier INTEGER NOT NULL,"
    " events INTEGER NOT NULL, first_day INTEGER NOT NULL, last_activation_day INTEGER NOT NULL,"
    " last_cancel_day INTEGER NOT NULL, last_at INTEGER NOT NULL, seq INTEGER NOT NULL);"
    "CREATE INDEX numbers_seq ON numbers(seq);";

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int step(sqlite3 *db, sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "raw_events: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    return 0;
}

/* "HEAD" then rows copies of ROW, comma-separated, into a new string. */
static char *insert_sql(const char *head, const char *row, long long rows)
{
    size_t hl = strlen(head), rl = strlen(row);
    char *sql = malloc(hl + (size_t)rows * (rl + 1) + 1), *p = sql;
    if (sql == NULL)
        return NULL;
    memcpy(p, head, hl);
    p += hl;
    for (long long r = 0; r < rows; r++) {
        if (r > 0)
            *p++ = ',';
        memcpy(p, row, rl);
        p += rl;
    }
    *p = '\0';
    return sql;
}

/* One statement of each table for rows events from number first on. */
static int insert(sqlite3 *db, sqlite3_stmt *log, sqlite3_stmt *state, long long first,
                  long long rows, int64_t at)
{
    for (long long r = 0; r < rows; r++) {
        long long i = first + r;
        sqlite3_int64 number = FIRST_NUMBER + i;
        sqlite3_bind_int64(log, (int)(2 * r + 1), number << ORDINAL_BITS | 1);
        sqlite3_bind_int64(log, (int)(2 * r + 2), at);
        sqlite3_bind_int64(state, (int)(5 * r + 1), number);
        sqlite3_bind_int64(state, (int)(5 * r + 2), at / 86400); /* first day */
        sqlite3_bind_int64(state, (int)(5 * r + 3), at / 86400); /* last activation */
        sqlite3_bind_int64(state, (int)(5 * r + 4), at);
        sqlite3_bind_int64(state, (int)(5 * r + 5), i + 1); /* the change number */
    }
    return step(db, log) || step(db, state);
}

static int prepare(sqlite3 *db, long long rows, sqlite3_stmt **log, sqlite3_stmt **state)
{
    char *l = insert_sql("INSERT INTO events(id, at, kind, carrier, event_id, id6_hash, flags) "
                         "VALUES ",
                         "(?, ?, 1, 1, NULL, NULL, 0)", rows);
    char *s = insert_sql("INSERT INTO numbers(number, status, first_is_activation, "
                         "tenure, carrier, events, first_day, last_activation_day, "
                         "last_cancel_day, last_at, seq) VALUES ",
                         "(?, 1, 1, 1, 1, 1, ?, ?, 0, ?, ?)", rows);
    int rc = l != NULL && s != NULL && sqlite3_prepare_v2(db, l, -1, log, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db, s, -1, state, NULL) == SQLITE_OK;
    free(l);
    free(s);
    return rc ? 0 : 1;
}

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *log = NULL, *state = NULL, *log1 = NULL, *state1 = NULL;
    int rc = 1;
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: raw_events DB EVENTS PER_TX [ROWS]\n");
        return 2;
    }
    long long events = atoll(argv[2]), per_tx = atoll(argv[3]),
              rows = argc == 5 ? atoll(argv[4]) : 1;
    if (events < 1 || per_tx < 1 || rows < 1 || rows > 1000) {
        fprintf(stderr, "raw_events: EVENTS and PER_TX must be positive, ROWS 1-1000\n");
        return 2;
    }
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        prepare(db, rows, &log, &state) || prepare(db, 1, &log1, &state1)) {
        fprintf(stderr, "raw_events: %s: %s\n", argv[1], db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    double t0 = now_s();
    int64_t at = 1735689600; /* 2025-01-01 */
    for (long long i = 0; i < events; i += per_tx) {
        long long n = events - i < per_tx ? events - i : per_tx, done = 0;
        if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            goto db_fail;
        for (; done + rows <= n; done += rows)
            if (insert(db, log, state, i + done, rows, at))
                goto out;
        for (; done < n; done++)
            if (insert(db, log1, state1, i + done, 1, at))
                goto out;
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            goto db_fail;
    }
    printf("%.0f\n", (double)events / (now_s() - t0));
    rc = 0;
    goto out;
db_fail:
    fprintf(stderr, "raw_events: %s\n", sqlite3_errmsg(db));
out:
    sqlite3_finalize(log);
    sqlite3_finalize(state);
    sqlite3_finalize(log1);
    sqlite3_finalize(state1);
    sqlite3_close(db);
    return rc;
}

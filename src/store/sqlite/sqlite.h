/*
 * sqlite.h - the SQLite backend's handle and what its files share
 * (private to src/store/sqlite/):
 *   db.c          transactions and the SQL driver every file runs its
 *                 statements on (sql.h)
 *   stmt.c        preparing statements, their cache, a failure's text
 *   rows.c        a transaction's new rows, held back and written together
 *   log.c         events and number states (log.h)
 *   deliveries.c  the due deliveries (one node: no claims)
 *   open.c        opening the file, its schema and migrations, and the
 *                 backend table that points a handle at the above
 *   backup.c      backups (SQLite's online backup API) and restores
 *   files.c       whole files: temporaries beside a target, fsync, rename
 *
 * Statements are static strings, prepared once per handle on first use and
 * cached by their address; their $N placeholders are read as ?N. A
 * statement whose text is written per call is prepared and finalized.
 * Thread-safety: a handle belongs to one thread at a time.
 */
#ifndef SN_STORE_SQLITE_H
#define SN_STORE_SQLITE_H

#include "store/backend.h"

#include <sqlite3.h>

#define SN_STORE_FILE_MODE 0600 /* a new store file, and so its -wal and -shm */
#define SQ_CACHE_SLOTS 256      /* statements cached per handle: more than the backend has */
/* How long a handle waits for another's write lock before "database is
 * locked" (open.c's busy handler). */
#define SN_SQLITE_BUSY_TIMEOUT_MS 10000

typedef struct {
    struct sn_store base;
    sqlite3 *db;
    uint64_t seq;       /* in a write transaction: the last change number taken (log.c) */
    uint64_t seq_begin; /* the highest change number when it began */
    int64_t busy_since; /* when the current wait for the write lock began (open.c) */
    /* a write transaction's new rows not yet written (rows.c): their room
     * (NULL until first used), how many of each are held, and whether
     * held rows failed to be written in this transaction */
    struct sq_rows *rows;
    size_t rows_events, rows_states;
    int rows_lost;
    struct {
        const char *sql;
        sqlite3_stmt *q;
    } cache[SQ_CACHE_SLOTS];
} sqlite_store;

static inline sqlite_store *sq_of(sn_store *s)
{
    return (sqlite_store *)s;
}

/* SN_ESTORE with "what: SQLite's message". */
int sq_fail(sqlite_store *s, const char *what, char *err, size_t errlen);

/* stmt.c: sql prepared with its $N placeholders read as ?N (SQLite's
 * numbered form; a $ names a parameter by its text); SQLite's result. */
int sq_prepare(sqlite_store *s, const char *sql, unsigned flags, sqlite3_stmt **q);
/* The handle's cached statement of sql (a static string), ready to bind;
 * NULL after a failure, with err filled. */
sqlite3_stmt *sq_cached(sqlite_store *s, const char *sql, char *err, size_t errlen);

/* rows.c: inside a write transaction, new event rows and the state rows of
 * numbers that had none are held back and written together, SQ_ROWS_CHUNK
 * to a statement (SQLite's CPU for the rows a third less than with one-row
 * INSERTs: bench/raw_events.c). db.c writes them before any other statement runs on
 * the handle (so every read, commit included, sees them), log.c when
 * SQ_ROWS_MAX are held; a rollback drops them. A failed write is that
 * statement's failure: the transaction is rolled back all the same. */
#define SQ_ROWS_CHUNK 64
#define SQ_ROWS_MAX 1024
/* One new state row (change number seq) or event row: held back when in a
 * transaction (*held 1), else *held 0 and the caller writes it. SN_OK, or
 * the failure to write those held when SQ_ROWS_MAX were. */
int sq_rows_hold_state(sqlite_store *s, const sn_number_state *st, uint64_t seq, int *held,
                       char *err, size_t errlen);
int sq_rows_hold_event(sqlite_store *s, const sn_log_event *e, uint32_t ordinal, int *held,
                       char *err, size_t errlen);
/* Write every held row (SN_OK when none; after a failure the commit is
 * refused, whoever ignored it), forget them (rollback), free their room
 * (close). */
int sq_rows_write(sqlite_store *s, char *err, size_t errlen);
void sq_rows_drop(sqlite_store *s);
void sq_rows_free(sqlite_store *s);
/* The one-row INSERTs of a new state and of an event. */
extern const char sq_insert_state_sql[];
extern const char sq_append_event_sql[];

/* Run SQL text (several statements allowed, no arguments, no rows). */
int sq_exec_sql(sqlite_store *s, const char *sql, char *err, size_t errlen);

/* The backend (db.c: the handle's own operations) and its SQL driver. */
extern const sn_store_backend sn_sqlite_backend;
extern const sn_sql_driver sn_sqlite_driver;

/* log.c and deliveries.c */
extern const sn_log_ops sn_sqlite_log;
extern const sn_changes_ops sn_sqlite_changes; /* cursor and after only: no listening */
int sq_due_deliveries(sn_store *base, const sn_due_query *q, sn_due_fn fn, void *ctx, char *err,
                      size_t errlen);

/* files.c: a new private (SN_STORE_FILE_MODE) file "TARGET.TAG-XXXXXX"
 * beside target, its name into path; SN_OK or SN_EIO. */
int sq_temp_beside(const char *target, const char *tag, char *path, size_t len, char *err,
                   size_t errlen);
/* fsync the file at path. */
int sq_sync_file(const char *path, char *err, size_t errlen);
/* fsync tmp, rename it to target, fsync target's folder. */
int sq_install(const char *tmp, const char *target, char *err, size_t errlen);
/* SN_OK when target may be written: absent, or present with force. */
int sq_target_free(const char *target, int force, char *err, size_t errlen);
/* Remove PATH-wal, PATH-shm and PATH-journal, those that exist. */
void sq_remove_sidecars(const char *path);
/* Copy the bytes of src over the existing file tmp, and fsync it. */
int sq_copy_into(const char *src, const char *tmp, char *err, size_t errlen);

#endif

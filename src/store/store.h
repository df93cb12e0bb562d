/*
 * store.h - a handle on the store: opening it, its rules, transactions.
 *
 * What the store keeps is split by domain, one header each, over this
 * handle: log.h (carrier events, each number's state, following the
 * changes), keys.h (API keys, carriers and their ranges), apps.h,
 * bindings.h, notices.h (notices and unbind requests), deliveries.h
 * (webhook deliveries), subscribers.h (SMS, sign-in codes, sessions, rate
 * limits) and complaints.h. Both backends are SQL databases with one
 * schema, so each domain but the log is written once (keys.c, apps.c, ...)
 * in SQL both run (sql.h). A backend, in a folder of its own, brings the
 * handle (connections, transactions, its SQL driver), the log (where they
 * differ most: SQLite writes through, PostgreSQL buffers and pipelines)
 * and the one query that claims rows: sqlite/ for a file (one process per
 * store), pg/ for a postgres:// URL (several serve nodes). backend.h is
 * what a backend fills in; adding a store operation is a statement and a
 * function in its domain's file. The store keeps records; it never
 * decides a rule: the ledger and the services (src/service/) do.
 *
 * Durability contract every backend keeps:
 *   1. commit returns SN_OK only once the transaction is durable (survives
 *      kill -9 of the process; with SQLite, WAL with synchronous=FULL also
 *      survives power loss; with PostgreSQL, synchronous_commit on);
 *   2. a transaction is all or nothing: after rollback, or a crash before
 *      commit returned, none of its writes are visible; a write outside a
 *      transaction is a transaction of its own;
 *   3. the event log is append-only: events are inserted, never updated or
 *      deleted; a number's state row always equals the result of applying
 *      its logged events in order (both are written in one transaction).
 *
 * Errors: SN_ESTORE with the backend's message for a failed statement,
 * SN_ENOTFOUND where a contract says so, SN_ENOMEM.
 * A handle is used by one thread at a time.
 */
#ifndef SN_STORE_H
#define SN_STORE_H

#include "core/lifecycle.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sn_store sn_store;

/* Open the store at path: a SQLite file, or a postgres:// or
 * postgresql:// URL. When the store is new it is initialised with *rules
 * (or the defaults when rules is NULL); an existing store keeps the rules
 * it was created with. */
int sn_store_open(const char *path, const sn_rules *rules, sn_store **out, char *err,
                  size_t errlen);

/* 1 when path names a PostgreSQL store (a URL), 0 for a SQLite file. */
int sn_store_is_url(const char *path);

/* Close; accepts NULL. An open transaction is rolled back. */
void sn_store_close(sn_store *s);

/* The jurisdiction rules recorded in the store. */
const sn_rules *sn_store_rules(const sn_store *s);

/* True when the store was created by this open. */
int sn_store_created(const sn_store *s);

/* 0 when the last operation failed because the database server could not be
 * reached (a lost connection, or no server answering); 1 otherwise, and
 * always for SQLite. Lets callers tell "retry later" (HTTP 503) from a
 * failure of the request itself. The next operation tries to reconnect. */
int sn_store_reachable(sn_store *s);

int sn_store_begin(sn_store *s, char *err, size_t errlen);
int sn_store_commit(sn_store *s, char *err, size_t errlen);
void sn_store_rollback(sn_store *s);

/* End a use case's transaction: commit when rc is SN_OK (or the answer is
 * kept although it is an error: kept = 1), else roll back. Returns rc, or
 * the commit's failure (then err says why). */
int sn_store_end(sn_store *s, int rc, int kept, char *err, size_t errlen);

/* Let commits on this handle skip the fsync (SQLite synchronous=NORMAL,
 * PostgreSQL synchronous_commit=off): for writes whose loss in a power
 * failure only repeats work, such as delivery outcomes (a lost "delivered"
 * means one more delivery, which at-least-once allows). Still atomic. */
int sn_store_relax_durability(sn_store *s, char *err, size_t errlen);

/* Mark a handle that writes only tables whose ids the database assigns
 * (the audit trail, store/audit.h): its transactions do not take the
 * writer's lock (PostgreSQL: the advisory lock the ids taken as max(id) + 1
 * need) nor read the state a log write starts from, so they never wait
 * for, or hold up, the writer's. SQLite still has one writer at a time. */
void sn_store_side_writer(sn_store *s);

/* The backend's own structural check (SQLite: PRAGMA integrity_check;
 * PostgreSQL: the schema, the log against the states, references, amcheck).
 * SN_OK, or SN_ESTORE with the first problem found. */
int sn_store_integrity(sn_store *s, char *err, size_t errlen);

/* The store's identity: SN_STORE_ID_LEN hex digits, random, made with the
 * store (SQLite schema 7, PostgreSQL schema 8), into id (NUL-terminated).
 * An index snapshot names the store it was taken from by it. */
#define SN_STORE_ID_LEN 32
int sn_store_identity(sn_store *s, char id[SN_STORE_ID_LEN + 1], char *err, size_t errlen);

/* ---- backups and restores of a SQLite store (store/sqlite/backup.c) -------
 * A PostgreSQL store is backed up with PostgreSQL's own tools (pg_dump,
 * pg_basebackup): these functions refuse a URL with an error saying so.
 * Every file they write is mode 0600, written beside its target, fsynced
 * and renamed over it (then the folder fsynced): a crash leaves the old
 * file or the new one. None of them copies the deployment secret. */
#define SN_BACKUP_STEP_PAGES 1024  /* pages copied per step of the online backup */
#define SN_BACKUP_BUSY_SLEEP_MS 10 /* the wait before a step the store refused is tried again */
/* A store locked against readers this long in a row (by a process holding
 * it exclusively; serve never does) fails the backup: the store's own busy
 * timeout. */
#define SN_BACKUP_BUSY_GIVE_UP_MS 10000

typedef struct {
    long pages; /* pages copied (the store's size in pages) */
    long steps; /* steps of SN_BACKUP_STEP_PAGES it took */
} sn_backup_info;

/* Copy the SQLite store at db to the file out, consistent while others
 * write it: out holds exactly what was committed when the backup began.
 * Refuses an existing out unless force. */
int sn_store_backup(const char *db, const char *out, int force, sn_backup_info *info, char *err,
                    size_t errlen);

/* Restore, first step: check that the file in is a SQLite database of its
 * own (not empty, no write-ahead log beside it) and that db may be written
 * (absent, or force), copy in to a staging file beside db (its path into
 * staged) and check the copy is a secondnum store. in is only read. The
 * caller then opens the staged store and verifies it, and installs it or
 * discards it. On failure nothing is left behind. */
int sn_store_restore_stage(const char *in, const char *db, int force, char *staged, size_t len,
                           char *err, size_t errlen);
/* Replace db by the staged file: refused (SN_EUNAVAILABLE) while another
 * process has db open; db's old -wal and -shm are removed first. */
int sn_store_restore_install(const char *staged, const char *db, char *err, size_t errlen);
/* Remove a staged file and its -wal and -shm. */
void sn_store_restore_discard(const char *staged);

/* Copy the file src to dst (mode 0600, atomically as above); refuses an
 * existing dst unless force. For the deployment secret. */
int sn_store_copy_file(const char *src, const char *dst, int force, char *err, size_t errlen);

#endif

/*
 * backup.c - backups and restores of a SQLite store (store.h, "Backups").
 *
 * A backup is SQLite's online backup API run on one read transaction of the
 * source, held from the first page to the last: it copies the snapshot of
 * the moment the backup began, whatever is committed meanwhile (in WAL mode
 * a reader never blocks the writer, and the backup is never restarted by
 * its writes). Pages go SN_BACKUP_STEP_PAGES at a time into a private
 * temporary file beside OUT, which is fsynced and renamed over OUT.
 *
 * A restore copies IN into a staging file beside FILE (IN is never opened
 * as a database, so never changed), proves the copy is a secondnum store
 * (the caller then opens and verifies it), and renames it over FILE once no
 * other process has FILE open. The deployment secret (FILE.key) is never
 * part of either: it is copied on its own (sn_store_copy_file).
 */
#include "store/sqlite/sqlite.h"

#include "core/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQLITE_MAGIC "SQLite format 3" /* the first 16 bytes of a database, with its NUL */
#define INSTALL_BUSY_MS 200            /* how long a restore waits for FILE's other users */

static const char pg_backup_hint[] =
    "a PostgreSQL store is backed up with pg_dump (pg_dump -Fc) or pg_basebackup, and restored "
    "with pg_restore: see docs/operations.md, \"Back up\"";

/* SN_ESTORE with "what PATH: SQLite's message" (db may be NULL: out of memory). */
static int db_fail(sqlite3 *db, const char *what, const char *path, char *err, size_t errlen)
{
    int code = db != NULL ? sqlite3_errcode(db) : SQLITE_NOMEM;
    if (code == SQLITE_NOTADB)
        return sn_fail(err, errlen, SN_EINVAL, "%s is not a SQLite database", path);
    if (code == SQLITE_CORRUPT)
        return sn_fail(err, errlen, SN_EINVAL, "%s is damaged: %s", path, sqlite3_errmsg(db));
    return sn_fail(err, errlen, SN_ESTORE, "%s %s: %s", what, path,
                   db != NULL ? sqlite3_errmsg(db) : "out of memory");
}

/* Read the store's schema version: the proof that db is a secondnum store.
 * Leaves the read transaction it ran in open when keep_reading is set. */
static int read_version(sqlite3 *db, const char *path, int keep_reading, char *err, size_t errlen)
{
    static const char sql[] = "SELECT value FROM meta WHERE key = 'schema_version'";
    sqlite3_stmt *q = NULL;
    if (keep_reading && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, "cannot read", path, err, errlen);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        int code = sqlite3_errcode(db);
        if (code == SQLITE_ERROR) /* no meta table */
            return sn_fail(err, errlen, SN_EINVAL,
                           "%s is not a secondnum store (a SQLite database without its tables)",
                           path);
        return db_fail(db, "cannot read", path, err, errlen);
    }
    int step = sqlite3_step(q);
    int rc = step == SQLITE_ROW ? SN_OK
             : step == SQLITE_DONE
                 ? sn_fail(err, errlen, SN_EINVAL,
                           "%s is not a secondnum store (no schema version)", path)
                 : db_fail(db, "cannot read", path, err, errlen);
    sqlite3_finalize(q);
    return rc;
}

/* Open the store file at path for reading, with the snapshot held. */
static int open_source(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? sn_fail(err, errlen, SN_ENOTFOUND, "no store at %s", path)
                   : sn_fail(err, errlen, SN_EIO, "cannot read %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return sn_fail(err, errlen, SN_EINVAL, "%s is not a store file", path);
    if (sqlite3_open_v2(path, out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return db_fail(*out, "cannot open", path, err, errlen);
    sqlite3_busy_timeout(*out, SN_BACKUP_BUSY_GIVE_UP_MS);
    int rc = read_version(*out, path, 1, err, errlen);
    if (rc != SN_OK && sqlite3_errcode(*out) == SQLITE_BUSY)
        return sn_fail(err, errlen, SN_EUNAVAILABLE,
                       "%s stayed locked by another process for %d ms: nothing backed up", path,
                       SN_BACKUP_BUSY_GIVE_UP_MS);
    return rc;
}

/* Copy every page of src into dst, SN_BACKUP_STEP_PAGES at a time. */
static int copy_pages(sqlite3 *src, sqlite3 *dst, const char *out, sn_backup_info *info, char *err,
                      size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL)
        return db_fail(dst, "cannot start the backup into", out, err, errlen);
    int rc, busy_ms = 0;
    do {
        rc = sqlite3_backup_step(b, SN_BACKUP_STEP_PAGES);
        if (rc == SQLITE_OK || rc == SQLITE_DONE) {
            info->steps++;
            busy_ms = 0;
        } else if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
                   busy_ms < SN_BACKUP_BUSY_GIVE_UP_MS) {
            sqlite3_sleep(SN_BACKUP_BUSY_SLEEP_MS);
            busy_ms += SN_BACKUP_BUSY_SLEEP_MS;
        } else {
            break;
        }
    } while (rc != SQLITE_DONE);
    info->pages = sqlite3_backup_pagecount(b);
    sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE)
        return SN_OK;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return sn_fail(err, errlen, SN_EUNAVAILABLE,
                       "the store stayed locked by another process for %d ms: nothing backed up",
                       SN_BACKUP_BUSY_GIVE_UP_MS);
    return sn_fail(err, errlen, SN_ESTORE, "backup into %s failed: %s", out, sqlite3_errstr(rc));
}

/* 1 when both paths name one existing file. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Back up the open source into the file tmp. */
static int backup_into(sqlite3 *src, const char *tmp, sn_backup_info *info, char *err,
                       size_t errlen)
{
    sqlite3 *dst = NULL;
    int rc;
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        rc = db_fail(dst, "cannot open", tmp, err, errlen);
    else
        rc = copy_pages(src, dst, tmp, info, err, errlen);
    if (sqlite3_close(dst) != SQLITE_OK && rc == SN_OK)
        rc = sn_fail(err, errlen, SN_ESTORE, "cannot close %s", tmp);
    return rc;
}

int sn_store_backup(const char *db, const char *out, int force, sn_backup_info *info, char *err,
                    size_t errlen)
{
    char tmp[4200];
    sqlite3 *src = NULL;
    int rc;
    memset(info, 0, sizeof(*info));
    if (sn_store_is_url(db))
        return sn_fail(err, errlen, SN_EUSAGE, "%s", pg_backup_hint);
    if (sn_store_is_url(out))
        return sn_fail(err, errlen, SN_EUSAGE, "a backup is written to a file, not to a URL");
    if ((rc = sq_target_free(out, force, err, errlen)) != SN_OK)
        return rc;
    if (same_file(db, out))
        return sn_fail(err, errlen, SN_EINVAL, "%s is the store itself", out);
    if ((rc = open_source(db, &src, err, errlen)) != SN_OK) {
        sqlite3_close(src);
        return rc;
    }
    if ((rc = sq_temp_beside(out, "tmp", tmp, sizeof(tmp), err, errlen)) == SN_OK) {
        rc = backup_into(src, tmp, info, err, errlen);
        if (rc == SN_OK)
            rc = sq_install(tmp, out, err, errlen);
        if (rc != SN_OK) {
            unlink(tmp);
            sq_remove_sidecars(tmp);
        }
    }
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(src);
    return rc;
}

/* IN must be a complete SQLite file of its own: not empty, not a live
 * store with a write-ahead log beside it, not FILE itself. */
static int check_input(const char *in, const char *db, char *err, size_t errlen)
{
    struct stat st, dst;
    char head[16], wal[4200];
    if (stat(in, &st) != 0)
        return sn_fail(err, errlen, SN_ENOTFOUND, "cannot read %s: %s", in, strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return sn_fail(err, errlen, SN_EINVAL, "%s is not a store file (%s)", in,
                       S_ISREG(st.st_mode) ? "it is empty" : "not a regular file");
    if (same_file(in, db))
        return sn_fail(err, errlen, SN_EINVAL, "%s and %s are the same file", in, db);
    snprintf(wal, sizeof(wal), "%s-wal", in);
    if (stat(wal, &dst) == 0 && dst.st_size > 0)
        return sn_fail(err, errlen, SN_EINVAL,
                       "%s has a write-ahead log beside it (%s): it is a live store, not a "
                       "backup; make one with `secondnum backup`",
                       in, wal);
    int fd = open(in, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 0)
        return sn_fail(err, errlen, SN_EIO, "cannot read %s: %s", in, strerror(errno));
    if (n != (ssize_t)sizeof(head) || memcmp(head, SQLITE_MAGIC, sizeof(head)) != 0)
        return sn_fail(err, errlen, SN_EINVAL, "%s is not a SQLite database", in);
    return SN_OK;
}

/* The staged copy must read as a secondnum store. It gets a new identity
 * (meta store_id, store.h): an index snapshot taken of the store it
 * replaces, whose log went further than the backup's, must not be taken
 * for a snapshot of this one (a store without one gets one when migrated). */
static int probe_staged(const char *staged, const char *in, char *err, size_t errlen)
{
    static const char new_id[] =
        "UPDATE meta SET value = lower(hex(randomblob(16))) WHERE key = 'store_id'";
    sqlite3 *db = NULL;
    int rc;
    if (sqlite3_open_v2(staged, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        rc = db_fail(db, "cannot open", in, err, errlen);
    else
        rc = read_version(db, in, 0, err, errlen);
    if (rc == SN_OK && sqlite3_exec(db, new_id, NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, "cannot give a new identity to", in, err, errlen);
    sqlite3_close(db);
    return rc;
}

int sn_store_restore_stage(const char *in, const char *db, int force, char *staged, size_t len,
                           char *err, size_t errlen)
{
    int rc;
    if (sn_store_is_url(db) || sn_store_is_url(in))
        return sn_fail(err, errlen, SN_EUSAGE, "%s", pg_backup_hint);
    if ((rc = check_input(in, db, err, errlen)) != SN_OK ||
        (rc = sq_target_free(db, force, err, errlen)) != SN_OK ||
        (rc = sq_temp_beside(db, "restore", staged, len, err, errlen)) != SN_OK)
        return rc;
    if ((rc = sq_copy_into(in, staged, err, errlen)) == SN_OK)
        rc = probe_staged(staged, in, err, errlen);
    if (rc != SN_OK)
        sn_store_restore_discard(staged);
    return rc;
}

/* SN_OK when no other process has the store at db open (or there is none):
 * an exclusive lock on it is granted only then (in WAL mode every open
 * connection holds a shared lock on the database file). */
static int nobody_uses(const char *db, char *err, size_t errlen)
{
    sqlite3 *h = NULL;
    if (access(db, F_OK) != 0)
        return SN_OK;
    int rc = SN_OK;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, INSTALL_BUSY_MS);
        if (sqlite3_exec(h, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT", NULL, NULL,
                         NULL) != SQLITE_OK) {
            int code = sqlite3_errcode(h);
            if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
                rc = sn_fail(err, errlen, SN_EUNAVAILABLE,
                             "%s is open in another process (a running serve?): stop it first", db);
        }
    }
    sqlite3_close(h);
    return rc;
}

int sn_store_restore_install(const char *staged, const char *db, char *err, size_t errlen)
{
    int rc = nobody_uses(db, err, errlen);
    if (rc != SN_OK)
        return rc;
    sq_remove_sidecars(db); /* an old write-ahead log must not be replayed into the new file */
    sq_remove_sidecars(staged);
    return sq_install(staged, db, err, errlen);
}

void sn_store_restore_discard(const char *staged)
{
    unlink(staged);
    sq_remove_sidecars(staged);
}

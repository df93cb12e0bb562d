/*
 * changes.c - following the PostgreSQL store's changes (log.h, several
 * nodes). numbers.seq is the change number of a row's last write (schema
 * version 4): writers take them under the writer lock, which PostgreSQL
 * releases only after the commit is visible, so they become visible in
 * increasing order (docs/internals/postgres.md, "Several nodes"). Each
 * commit that wrote states NOTIFYs the followers (buffer.c). A follower
 * on a hot standby (serve --follow) cannot LISTEN there: it polls, reading
 * with a floor (changes_floor_sql) so a lagging standby never hands it a
 * state older than one already in its index (follow/follower.c).
 */
#include "store/pg/pg.h"

#include "core/errors.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

static const char cursor_sql[] = "SELECT coalesce(max(seq), 0) FROM numbers";
static const char changes_sql[] = "SELECT seq, number, " SN_STORE_STATE_COLUMNS " FROM numbers "
                                  "WHERE seq > $1 ORDER BY seq LIMIT $2";
/* From a standby: the uncorrelated max(seq) is one probe of numbers_seq,
 * run once (an InitPlan), in the same snapshot as the rows. */
static const char changes_floor_sql[] =
    "SELECT seq, number, " SN_STORE_STATE_COLUMNS " FROM numbers "
    "WHERE seq > $1 AND (SELECT max(seq) FROM numbers) >= $3 ORDER BY seq LIMIT $2";

static int cursor(sn_store *base, uint64_t *seq, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    int rc = pg_enter_log(s, err, errlen);
    *seq = 0;
    if (rc == SN_OK)
        rc = sn_sql_one(base, cursor_sql, SQL_NO_ARGS, sn_store_read_seq, seq, "read changes", err,
                        errlen);
    return rc == SN_ENOTFOUND ? SN_OK : rc;
}

/* One statement, so one snapshot: a change is in it whole or not at all
 * (and with a floor, the floor test and the rows agree). */
static int after(sn_store *base, uint64_t since, uint64_t floor, uint32_t limit, sn_change_fn fn,
                 void *ctx, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    sn_change_rows c = {fn, ctx};
    int rc = pg_enter_log(s, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (floor == 0)
        return sn_sql_read(base, changes_sql, SQL_ARGS(SQL_INT(since), SQL_INT(limit)),
                           sn_store_change_row, &c, "read changes", err, errlen);
    return sn_sql_read(base, changes_floor_sql,
                       SQL_ARGS(SQL_INT(since), SQL_INT(limit), SQL_INT(floor)),
                       sn_store_change_row, &c, "read changes", err, errlen);
}

/* LISTEN on this handle's connection (after a reconnect if it was lost);
 * wait_changes knows the session by its server process id. */
static int listen_changes(sn_store *base, char *err, size_t errlen)
{
    pg_store *s = pg_of(base);
    int rc;
    if (s->base.in_tx || s->scans > 0)
        return sn_fail(err, errlen, SN_ESTORE, "listen: a transaction or a scan is open");
    s->listen_pid = 0;
    if ((rc = pg_enter(s, err, errlen)) != SN_OK ||
        (rc = pg_exec_sql(s, "LISTEN " PG_CHANGES_CHANNEL, "listen", err, errlen)) != SN_OK)
        return rc;
    s->listen_pid = PQbackendPID(s->conn);
    return SN_OK;
}

/* Drop the notifications libpq has read; 1 when one came from a session
 * other than ignore (0: none ignored). */
static int drain_notifies(pg_store *s, int64_t ignore)
{
    PGnotify *n;
    int any = 0;
    while ((n = PQnotifies(s->conn)) != NULL) {
        any |= ignore == 0 || (int64_t)n->be_pid != ignore;
        PQfreemem(n);
    }
    return any;
}

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Notifications arrive on the idle connection: poll its socket (and
 * wake_fd), read what came, keep waiting until one did or time is up. A
 * session other than the one that LISTENed (a reset connection) no longer
 * hears anything: that is a failure, so the caller listens again. The
 * commits of session `ignore` are read and dropped. */
static int wait_changes(sn_store *base, int timeout_ms, int wake_fd, int64_t ignore, char *err,
                        size_t errlen)
{
    pg_store *s = pg_of(base);
    int64_t until = monotonic_ms() + timeout_ms;
    for (;;) {
        if (PQstatus(s->conn) != CONNECTION_OK)
            return pg_fail(s, NULL, "wait for changes", err, errlen);
        if (s->listen_pid == 0 || PQbackendPID(s->conn) != s->listen_pid)
            return sn_fail(err, errlen, SN_ESTORE,
                           "wait for changes: not listening (the connection was reset)");
        if (drain_notifies(s, ignore))
            return 1;
        int64_t left = until - monotonic_ms();
        if (left <= 0)
            return 0;
        struct pollfd fds[2] = {{PQsocket(s->conn), POLLIN, 0}, {wake_fd, POLLIN, 0}};
        int n = poll(fds, 2, (int)left);
        if (n < 0 && errno != EINTR)
            return sn_fail(err, errlen, SN_ESTORE, "wait for changes: %s", strerror(errno));
        if (n > 0 && fds[1].revents != 0)
            return 1;
        if (n > 0 && fds[0].revents != 0 && PQconsumeInput(s->conn) != 1)
            return pg_fail(s, NULL, "wait for changes", err, errlen);
    }
}

const sn_changes_ops sn_pg_changes = {cursor, after, listen_changes, wait_changes};

/*
 * store.c - opening a store with the backend its path names, and the
 * handle's own operations (backend.h). Owns no data of its own.
 */
#include "store/backend.h"

#include "core/errors.h"

#include <stdio.h>
#include <string.h>

int sn_store_is_url(const char *path)
{
    return strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0;
}

int sn_store_open(const char *path, const sn_rules *rules, sn_store **out, char *err, size_t errlen)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return sn_fail(err, errlen, SN_EUSAGE, "no database given (--db FILE)");
    if (sn_store_is_url(path))
        return sn_store_pg_open(path, rules, out, err, errlen);
    return sn_store_sqlite_open(path, rules, out, err, errlen);
}

void sn_store_close(sn_store *s)
{
    if (s != NULL)
        s->be->close(s);
}

const sn_rules *sn_store_rules(const sn_store *s)
{
    return &s->rules;
}

int sn_store_created(const sn_store *s)
{
    return s->created;
}

int sn_store_reachable(sn_store *s)
{
    return s->be->reachable == NULL || s->be->reachable(s);
}

int sn_store_begin(sn_store *s, char *err, size_t errlen)
{
    return s->be->begin(s, err, errlen);
}

int sn_store_commit(sn_store *s, char *err, size_t errlen)
{
    return s->be->commit(s, err, errlen);
}

void sn_store_rollback(sn_store *s)
{
    s->be->rollback(s);
}

int sn_store_end(sn_store *s, int rc, int kept, char *err, size_t errlen)
{
    char why[SN_ERRMSG_MAX];
    if (rc == SN_OK || kept) {
        int c = sn_store_commit(s, why, sizeof(why));
        if (c == SN_OK)
            return rc;
        snprintf(err, errlen, "%s", why);
        rc = c;
    }
    sn_store_rollback(s);
    return rc;
}

int sn_store_relax_durability(sn_store *s, char *err, size_t errlen)
{
    return s->be->relax_durability(s, err, errlen);
}

void sn_store_side_writer(sn_store *s)
{
    s->side_writer = 1;
}

int sn_store_integrity(sn_store *s, char *err, size_t errlen)
{
    return s->be->integrity(s, err, errlen);
}

static int read_identity(void *ctx, const sn_sql_row *row)
{
    sn_sql_text(row, 0, ctx, SN_STORE_ID_LEN + 1);
    return 0;
}

int sn_store_identity(sn_store *s, char id[SN_STORE_ID_LEN + 1], char *err, size_t errlen)
{
    static const char sql[] = "SELECT value FROM meta WHERE key = 'store_id'";
    id[0] = '\0';
    int rc = sn_sql_one(s, sql, SQL_NO_ARGS, read_identity, id, "read the store id", err, errlen);
    if (rc == SN_ENOTFOUND || (rc == SN_OK && strlen(id) != SN_STORE_ID_LEN))
        return sn_fail(err, errlen, SN_ESTORE, "the store has no identity (store_id)");
    return rc;
}

/*
 * receipts.c - the receipt signing keys, in the SQL both backends run
 * (sql.h).
 */
#include "store/receipts.h"

#include "core/errors.h"
#include "store/sql.h"

static const char list_sql[] = "SELECT id, public_key, sealed_secret, created_at, retired_at "
                               "FROM receipt_keys ORDER BY id";
static const char next_sql[] = "SELECT coalesce(max(id), 0) + 1 FROM receipt_keys";
static const char retire_sql[] =
    "UPDATE receipt_keys SET retired_at = $1 WHERE retired_at = 0 AND id <> $2";
static const char add_sql[] = "INSERT INTO receipt_keys(id, public_key, sealed_secret, "
                              "created_at, retired_at) VALUES ($1, $2, $3, $4, 0)";

static const sn_sql_map key_map =
    SN_SQL_MAP(sn_receipt_key, SQL_COL_INT(sn_receipt_key, id),
               SQL_COL_BLOB(sn_receipt_key, public_key), SQL_COL_TEXT(sn_receipt_key, sealed),
               SQL_COL_INT(sn_receipt_key, created_at), SQL_COL_INT(sn_receipt_key, retired_at));
SN_SQL_LIST(key_row, sn_receipt_key, sn_receipt_key_fn, key_map)

int sn_store_list_receipt_keys(sn_store *s, sn_receipt_key_fn fn, void *ctx, char *err,
                               size_t errlen)
{
    key_row_list r = {fn, ctx};
    return sn_sql_read(s, list_sql, SQL_NO_ARGS, key_row, &r, "list receipt keys", err, errlen);
}

static int read_id(void *ctx, const sn_sql_row *row)
{
    *(uint32_t *)ctx = (uint32_t)sn_sql_int(row, 0);
    return 0;
}

int sn_store_next_receipt_key_id(sn_store *s, uint32_t *id, char *err, size_t errlen)
{
    *id = 0;
    return sn_sql_one(s, next_sql, SQL_NO_ARGS, read_id, id, "next receipt key", err, errlen);
}

int sn_store_add_receipt_key(sn_store *s, const sn_receipt_key *k, char *err, size_t errlen)
{
    int rc = sn_sql_write(s, retire_sql, SQL_ARGS(SQL_INT(k->created_at), SQL_INT(k->id)), NULL,
                          "retire receipt keys", err, errlen);
    if (rc != SN_OK)
        return rc;
    return sn_sql_write(s, add_sql,
                        SQL_ARGS(SQL_INT(k->id), SQL_BYTES(k->public_key, SN_RECEIPT_PK_LEN),
                                 SQL_TEXT(k->sealed), SQL_INT(k->created_at)),
                        NULL, "add receipt key", err, errlen);
}

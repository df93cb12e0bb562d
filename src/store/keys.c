/*
 * keys.c - API keys (only their hashes), carriers and their ranges, in the
 * SQL both backends run (sql.h).
 */
#include "store/keys.h"

#include "core/errors.h"
#include "store/sql.h"

#include <string.h>

#define NEXT_ID(table) "(SELECT coalesce(max(id), 0) + 1 FROM " table ")"

static const char carrier_get_sql[] = "SELECT id FROM carriers WHERE name = $1";
static const char carrier_add_sql[] = "INSERT INTO carriers(id, name) SELECT " NEXT_ID(
    "carriers") ", $1 WHERE NOT EXISTS (SELECT 1 FROM carriers WHERE "
                "name = $1) RETURNING id";
static const char range_add_sql[] =
    "INSERT INTO ranges(carrier, prefix) VALUES ($1, $2) ON CONFLICT DO NOTHING";
static const char ranges_sql[] =
    "SELECT c.id, c.name, coalesce(r.prefix, '') FROM carriers c LEFT JOIN ranges r ON "
    "r.carrier = c.id ORDER BY c.id, r.prefix NULLS FIRST";
static const char key_add_sql[] =
    "INSERT INTO api_keys(id, name, role, carrier, hash, rate_per_s, rate_per_day) VALUES "
    "(" NEXT_ID("api_keys") ", $1, $2, $3, $4, $5, $6) RETURNING id";
static const char keys_sql[] = "SELECT id, name, role, carrier, hash, revoked, rate_per_s, "
                               "rate_per_day FROM api_keys ORDER BY id";
static const char key_revoke_sql[] = "UPDATE api_keys SET revoked = 1 WHERE id = $1";

int sn_store_carrier_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                        size_t errlen)
{
    return sn_sql_named_id(s, carrier_get_sql, carrier_add_sql, "carrier", name, create, id, err,
                           errlen);
}

int sn_store_add_range(sn_store *s, uint32_t carrier, const char *prefix, char *err, size_t errlen)
{
    return sn_sql_write(s, range_add_sql, SQL_ARGS(SQL_INT(carrier), SQL_TEXT(prefix)), NULL,
                        "add range", err, errlen);
}

static const sn_sql_map range_map =
    SN_SQL_MAP(sn_range, SQL_COL_INT(sn_range, carrier), SQL_COL_TEXT(sn_range, name),
               SQL_COL_TEXT(sn_range, prefix));
SN_SQL_LIST(range_row, sn_range, sn_range_fn, range_map)

int sn_store_list_ranges(sn_store *s, sn_range_fn fn, void *ctx, char *err, size_t errlen)
{
    range_row_list r = {fn, ctx};
    return sn_sql_read(s, ranges_sql, SQL_NO_ARGS, range_row, &r, "list ranges", err, errlen);
}

int sn_store_add_key(sn_store *s, const sn_api_key *k, uint32_t *id, char *err, size_t errlen)
{
    uint64_t v = 0;
    int rc = sn_sql_insert_id(s, key_add_sql,
                              SQL_ARGS(SQL_TEXT(k->name), SQL_INT(k->role), SQL_INT(k->carrier),
                                       SQL_BYTES(k->hash, SN_KEY_HASH_LEN), SQL_INT(k->rate_per_s),
                                       SQL_INT(k->rate_per_day)),
                              &v, "add key", err, errlen);
    *id = (uint32_t)v;
    return rc;
}

static const sn_sql_map key_map =
    SN_SQL_MAP(sn_api_key, SQL_COL_INT(sn_api_key, id), SQL_COL_TEXT(sn_api_key, name),
               SQL_COL_INT(sn_api_key, role), SQL_COL_INT(sn_api_key, carrier),
               SQL_COL_BLOB(sn_api_key, hash), SQL_COL_INT(sn_api_key, revoked),
               SQL_COL_INT(sn_api_key, rate_per_s), SQL_COL_INT(sn_api_key, rate_per_day));
SN_SQL_LIST(key_row, sn_api_key, sn_key_fn, key_map)

int sn_store_list_keys(sn_store *s, sn_key_fn fn, void *ctx, char *err, size_t errlen)
{
    key_row_list r = {fn, ctx};
    return sn_sql_read(s, keys_sql, SQL_NO_ARGS, key_row, &r, "list keys", err, errlen);
}

int sn_store_revoke_key(sn_store *s, uint32_t id, int *found, char *err, size_t errlen)
{
    uint64_t n = 0;
    int rc = sn_sql_write(s, key_revoke_sql, SQL_ARGS(SQL_INT(id)), &n, "revoke key", err, errlen);
    *found = rc == SN_OK && n > 0;
    return rc;
}

/*
 * apps.c - apps, their webhooks, subscriptions and display names, and the
 * per-app figures of the admin view, and the OAuth 2.0 clients that act for
 * apps, in the SQL both backends run (sql.h).
 */
#include "store/apps.h"

#include "core/errors.h"
#include "store/backend.h"

#include <string.h>

static const char app_get_sql[] = "SELECT id FROM apps WHERE name = $1";
static const char app_add_sql[] = "INSERT INTO apps(id, name) SELECT (SELECT coalesce(max(id), 0) "
                                  "+ 1 FROM apps), $1 WHERE NOT EXISTS (SELECT 1 FROM apps WHERE "
                                  "name = $1) RETURNING id";
static const char app_read_sql[] = "SELECT " SN_SQL_APP_COLUMNS " FROM apps a WHERE a.id = $1";
static const char webhook_sql[] =
    "UPDATE apps SET webhook_url = $2, webhook_secret = $3 WHERE id = $1";
static const char webhooks_sql[] =
    "SELECT " SN_SQL_APP_COLUMNS " FROM apps a WHERE a.webhook_url IS NOT NULL ORDER BY a.id";
static const char replace_secret_sql[] =
    "UPDATE apps SET webhook_secret = $3 WHERE id = $1 AND webhook_secret = $2";
static const char subscribe_sql[] =
    "UPDATE apps SET sub_cancel = $2, sub_reissue = $3 WHERE id = $1";
static const char display_set_sql[] = "UPDATE apps SET display_name = nullif($2, '') WHERE id = $1";
static const char display_get_sql[] = "SELECT coalesce(display_name, '') FROM apps WHERE id = $1";
static const char stats_sql[] =
    "SELECT a.id, a.name, CASE WHEN a.webhook_url IS NULL THEN 0 ELSE 1 END,"
    " (SELECT count(*) FROM bindings b WHERE b.app = a.id),"
    " (SELECT count(DISTINCT number) FROM bindings b WHERE b.app = a.id),"
    " (SELECT count(*) FROM notices n WHERE n.app = a.id),"
    " (SELECT count(*) FROM notices n WHERE n.app = a.id AND n.outcome <> 0),"
    " (SELECT count(*) FROM notices n WHERE n.app = a.id AND n.outcome = 0 AND"
    "  n.deadline > 0 AND n.deadline < $1),"
    " (SELECT count(*) FROM deliveries d WHERE d.app = a.id AND d.state = 0),"
    " (SELECT count(*) FROM deliveries d WHERE d.app = a.id AND d.state = 2)"
    " FROM apps a ORDER BY a.name";

static const char oauth_set_sql[] = "INSERT INTO oauth_clients(client_id, app) VALUES ($1, $2)"
                                    " ON CONFLICT(client_id) DO UPDATE SET app = excluded.app";
static const char oauth_remove_sql[] = "DELETE FROM oauth_clients WHERE client_id = $1";
static const char oauth_list_sql[] = "SELECT o.client_id, a.name FROM oauth_clients o"
                                     " JOIN apps a ON a.id = o.app ORDER BY o.client_id";

const sn_sql_map sn_sql_app_map =
    SN_SQL_MAP(sn_app, SQL_COL_INT(sn_app, id), SQL_COL_TEXT(sn_app, name),
               SQL_COL_TEXT(sn_app, url), SQL_COL_TEXT(sn_app, secret),
               SQL_COL_INT(sn_app, sub_cancellations), SQL_COL_INT(sn_app, sub_reissues));
static const sn_sql_map stats_map =
    SN_SQL_MAP(sn_app_stats, SQL_COL_INT(sn_app_stats, app), SQL_COL_TEXT(sn_app_stats, name),
               SQL_COL_INT(sn_app_stats, webhook), SQL_COL_INT(sn_app_stats, bindings),
               SQL_COL_INT(sn_app_stats, numbers), SQL_COL_INT(sn_app_stats, notices),
               SQL_COL_INT(sn_app_stats, acknowledged), SQL_COL_INT(sn_app_stats, overdue),
               SQL_COL_INT(sn_app_stats, pending), SQL_COL_INT(sn_app_stats, dead));
SN_SQL_LIST(stats_row, sn_app_stats, sn_app_stats_fn, stats_map)
SN_SQL_LIST(app_row, sn_app, sn_app_fn, sn_sql_app_map)

int sn_store_app_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                    size_t errlen)
{
    return sn_sql_named_id(s, app_get_sql, app_add_sql, "app", name, create, id, err, errlen);
}

int sn_store_get_app(sn_store *s, uint32_t id, sn_app *out, char *err, size_t errlen)
{
    return sn_sql_get(s, app_read_sql, SQL_ARGS(SQL_INT(id)), &sn_sql_app_map, out, "read app", err,
                      errlen, "no app %u", id);
}

int sn_store_set_webhook(sn_store *s, uint32_t app, const char *url, const char *secret, char *err,
                         size_t errlen)
{
    return sn_sql_write(
        s, webhook_sql,
        SQL_ARGS(SQL_INT(app), SQL_TEXT(url), SQL_TEXT(url != NULL ? secret : NULL)), NULL,
        "set webhook", err, errlen);
}

int sn_store_list_webhooks(sn_store *s, sn_app_fn fn, void *ctx, char *err, size_t errlen)
{
    app_row_list r = {fn, ctx};
    return sn_sql_read(s, webhooks_sql, SQL_NO_ARGS, app_row, &r, "list webhooks", err, errlen);
}

int sn_store_replace_webhook_secret(sn_store *s, uint32_t app, const char *old, const char *secret,
                                    int *replaced, char *err, size_t errlen)
{
    uint64_t changed = 0;
    int rc =
        sn_sql_write(s, replace_secret_sql, SQL_ARGS(SQL_INT(app), SQL_TEXT(old), SQL_TEXT(secret)),
                     &changed, "replace webhook secret", err, errlen);
    *replaced = rc == SN_OK && changed > 0;
    return rc;
}

int sn_store_set_subscription(sn_store *s, uint32_t app, int cancellations, int reissues, char *err,
                              size_t errlen)
{
    if (cancellations || reissues)
        s->any_subscriptions = 1;
    return sn_sql_write(s, subscribe_sql,
                        SQL_ARGS(SQL_INT(app), SQL_INT(cancellations != 0), SQL_INT(reissues != 0)),
                        NULL, "set subscription", err, errlen);
}

int sn_store_set_app_display(sn_store *s, uint32_t app, const char *display, char *err,
                             size_t errlen)
{
    return sn_sql_write(s, display_set_sql, SQL_ARGS(SQL_INT(app), SQL_TEXT(display)), NULL,
                        "set display name", err, errlen);
}

static int display_row(void *ctx, const sn_sql_row *row)
{
    sn_sql_text(row, 0, ctx, SN_DISPLAY_NAME_MAX + 1);
    return 0;
}

int sn_store_app_display(sn_store *s, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1],
                         char *err, size_t errlen)
{
    int rc = sn_sql_one(s, display_get_sql, SQL_ARGS(SQL_INT(app)), display_row, display,
                        "read display name", err, errlen);
    return rc == SN_ENOTFOUND ? sn_fail(err, errlen, rc, "no app %u", app) : rc;
}

int sn_store_app_stats(sn_store *s, int64_t now, sn_app_stats_fn fn, void *ctx, char *err,
                       size_t errlen)
{
    stats_row_list r = {fn, ctx};
    return sn_sql_read(s, stats_sql, SQL_ARGS(SQL_INT(now)), stats_row, &r, "app stats", err,
                       errlen);
}

int sn_store_set_oauth_client(sn_store *s, const char *client, uint32_t app, char *err,
                              size_t errlen)
{
    return sn_sql_write(s, oauth_set_sql, SQL_ARGS(SQL_TEXT(client), SQL_INT(app)), NULL,
                        "map OAuth client", err, errlen);
}

int sn_store_remove_oauth_client(sn_store *s, const char *client, int *found, char *err,
                                 size_t errlen)
{
    uint64_t changed = 0;
    int rc = sn_sql_write(s, oauth_remove_sql, SQL_ARGS(SQL_TEXT(client)), &changed,
                          "remove OAuth client", err, errlen);
    *found = rc == SN_OK && changed > 0;
    return rc;
}

typedef struct {
    sn_oauth_client_fn fn;
    void *ctx;
} oauth_list;

static int oauth_row(void *ctx, const sn_sql_row *row)
{
    oauth_list *l = ctx;
    sn_oauth_client c;
    sn_sql_text(row, 0, c.client, sizeof(c.client));
    sn_sql_text(row, 1, c.app, sizeof(c.app));
    return l->fn(l->ctx, &c);
}

int sn_store_list_oauth_clients(sn_store *s, sn_oauth_client_fn fn, void *ctx, char *err,
                                size_t errlen)
{
    oauth_list l = {fn, ctx};
    return sn_sql_read(s, oauth_list_sql, SQL_NO_ARGS, oauth_row, &l, "list OAuth clients", err,
                       errlen);
}

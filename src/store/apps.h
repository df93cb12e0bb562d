/*
 * apps.h - apps, the tenants named by their app keys: their webhook,
 * their subscription to number events, the name subscribers see, and the
 * per-app figures of the admin view.
 */
#ifndef SN_STORE_APPS_H
#define SN_STORE_APPS_H

#include "core/limits.h"
#include "store/store.h"

typedef struct sn_app {
    uint32_t id;
    char name[SN_APP_NAME_MAX + 1];
    char url[SN_URL_MAX + 1]; /* "" when no webhook */
    /* the webhook's signing secret as stored: sealed under the deployment
     * secret (crypto/secret.h, SN_SEAL_CONTEXT_WEBHOOK, id = the app's), or
     * in the clear in a store written before sealing (serve seals those at
     * start: sn_webhooks_seal_stored) */
    char secret[SN_WEBHOOK_SECRET_STORED_MAX + 1];
    uint8_t sub_cancellations, sub_reissues;
} sn_app;

typedef struct {
    uint32_t app;
    char name[SN_APP_NAME_MAX + 1];
    uint64_t bindings, numbers, notices, acknowledged, overdue, pending, dead;
    uint8_t webhook;
} sn_app_stats;

typedef int (*sn_app_stats_fn)(void *ctx, const sn_app_stats *st);
typedef int (*sn_app_fn)(void *ctx, const sn_app *a);

/* The id of app `name`, created when absent and create is set
 * (SN_ENOTFOUND otherwise). */
int sn_store_app_id(sn_store *s, const char *name, int create, uint32_t *id, char *err,
                    size_t errlen);

/* SN_ENOTFOUND when there is no app id. */
int sn_store_get_app(sn_store *s, uint32_t id, sn_app *out, char *err, size_t errlen);

/* Set (url non-NULL) or remove (url NULL) an app's webhook. */
int sn_store_set_webhook(sn_store *s, uint32_t app, const char *url, const char *secret, char *err,
                         size_t errlen);

/* Every app with a webhook, by id, to fn (a non-zero return stops and is
 * returned). */
int sn_store_list_webhooks(sn_store *s, sn_app_fn fn, void *ctx, char *err, size_t errlen);

/* Replace app's webhook secret with `secret` only if it is still `old`
 * (a webhook set meanwhile wins); *replaced says whether it was. */
int sn_store_replace_webhook_secret(sn_store *s, uint32_t app, const char *old, const char *secret,
                                    int *replaced, char *err, size_t errlen);

int sn_store_set_subscription(sn_store *s, uint32_t app, int cancellations, int reissues, char *err,
                              size_t errlen);

/* An app's display name (shown to subscribers); "" clears it. */
int sn_store_set_app_display(sn_store *s, uint32_t app, const char *display, char *err,
                             size_t errlen);

/* "" when the app set none; SN_ENOTFOUND when there is no app id. */
int sn_store_app_display(sn_store *s, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1],
                         char *err, size_t errlen);

/* ---- OAuth 2.0 clients (secondnum apps oauth) -------------------------------
 * An access token's client (client_id or azp, auth/oauth.h) acts for the
 * app it is mapped to: at most one app per client, any number of clients
 * per app. */
#define SN_OAUTH_CLIENT_ID_MAX 128 /* bytes of a client id (auth/oauth.h's SN_OAUTH_CLIENT_MAX) */

typedef struct {
    char client[SN_OAUTH_CLIENT_ID_MAX + 1];
    char app[SN_APP_NAME_MAX + 1];
} sn_oauth_client;

typedef int (*sn_oauth_client_fn)(void *ctx, const sn_oauth_client *c);

/* Map client to app (replacing the app it had). */
int sn_store_set_oauth_client(sn_store *s, const char *client, uint32_t app, char *err,
                              size_t errlen);

/* Remove client's mapping; *found says whether it had one. */
int sn_store_remove_oauth_client(sn_store *s, const char *client, int *found, char *err,
                                 size_t errlen);

/* Every mapping, by client id, to fn (a non-zero return stops and is returned). */
int sn_store_list_oauth_clients(sn_store *s, sn_oauth_client_fn fn, void *ctx, char *err,
                                size_t errlen);

/* Per app, by name: coverage, notices (overdue as of now) and deliveries. */
int sn_store_app_stats(sn_store *s, int64_t now, sn_app_stats_fn fn, void *ctx, char *err,
                       size_t errlen);

#endif

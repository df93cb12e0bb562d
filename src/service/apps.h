/*
 * apps.h - an app's profile (the name subscribers see it by) and the
 * admin view of every app: coverage, notices acknowledged and overdue,
 * deliveries; and the OAuth 2.0 clients whose access tokens act for an
 * app (secondnum apps oauth).
 */
#ifndef SN_SERVICE_APPS_H
#define SN_SERVICE_APPS_H

#include "service/service.h"
#include "store/apps.h"

/* app's display name into display ("" when it set none). */
int sn_apps_profile(sn_store *s, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1], char *err,
                    size_t errlen);

/* Set app's display name: 1 to SN_DISPLAY_NAME_MAX bytes of valid UTF-8
 * without control characters (SN_EINVAL otherwise). */
int sn_apps_set_profile(sn_store *s, uint32_t app, const char *display, size_t len, char *err,
                        size_t errlen);

/* Every app's figures, by name. */
int sn_apps_stats(sn_store *s, sn_app_stats_fn fn, void *ctx, char *err, size_t errlen);

/* True when id can be an OAuth client id: 1 to SN_OAUTH_CLIENT_ID_MAX
 * printable ASCII characters, no space. */
int sn_oauth_client_id_valid(const char *id);

/* Map OAuth client `client` to app `app` (a valid name; the app is created
 * when absent), replacing the app it had, in one transaction. */
int sn_apps_map_client(sn_store *s, const char *client, const char *app, char *err, size_t errlen);

/* Remove client's mapping: SN_OK, or SN_ENOTFOUND when it had none. */
int sn_apps_unmap_client(sn_store *s, const char *client, char *err, size_t errlen);

#endif

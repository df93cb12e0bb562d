/*
 * apps.c - apps' profiles and the admin view of them (see apps.h).
 */
#include "service/apps.h"

#include "core/errors.h"
#include "util/clock.h"

#include <string.h>
#include <time.h>

int sn_apps_profile(sn_store *s, uint32_t app, char display[SN_DISPLAY_NAME_MAX + 1], char *err,
                    size_t errlen)
{
    return sn_store_app_display(s, app, display, err, errlen);
}

/* Valid UTF-8 without control characters, 1 to SN_DISPLAY_NAME_MAX bytes. */
static int display_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || len > SN_DISPLAY_NAME_MAX)
        return 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (n == 0 || i + n > len || (n == 1 && (c < 0x20 || c == 0x7f)))
            return 0;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

int sn_apps_set_profile(sn_store *s, uint32_t app, const char *display, size_t len, char *err,
                        size_t errlen)
{
    if (!display_valid(display, len))
        return sn_fail(err, errlen, SN_EINVAL, "display_name must be 1 to %d bytes of text",
                       SN_DISPLAY_NAME_MAX);
    return sn_store_set_app_display(s, app, display, err, errlen);
}

int sn_apps_stats(sn_store *s, sn_app_stats_fn fn, void *ctx, char *err, size_t errlen)
{
    return sn_store_app_stats(s, sn_wall_sec(), fn, ctx, err, errlen);
}

int sn_oauth_client_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > SN_OAUTH_CLIENT_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (id[i] < 0x21 || id[i] > 0x7e)
            return 0;
    return 1;
}

int sn_apps_map_client(sn_store *s, const char *client, const char *app, char *err, size_t errlen)
{
    uint32_t id;
    int rc = sn_store_begin(s, err, errlen);
    if (rc != SN_OK)
        return rc;
    rc = sn_store_app_id(s, app, 1, &id, err, errlen);
    if (rc == SN_OK)
        rc = sn_store_set_oauth_client(s, client, id, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

int sn_apps_unmap_client(sn_store *s, const char *client, char *err, size_t errlen)
{
    int found = 0;
    int rc = sn_store_remove_oauth_client(s, client, &found, err, errlen);
    if (rc == SN_OK && !found)
        return sn_fail(err, errlen, SN_ENOTFOUND, "client %s acts for no app", client);
    return rc;
}

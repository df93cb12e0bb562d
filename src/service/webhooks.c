/*
 * webhooks.c - an app's webhook, subscription and deliveries (see
 * webhooks.h).
 */
#include "service/webhooks.h"

#include "core/errors.h"
#include "delivery/deliverer.h"

#include <stdio.h>
#include <string.h>

static int url_valid(const char *u)
{
    size_t len = strlen(u), scheme = strncmp(u, "https://", 8) == 0  ? 8
                                     : strncmp(u, "http://", 7) == 0 ? 7
                                                                     : 0;
    return scheme > 0 && len > scheme && len <= SN_URL_MAX && strpbrk(u, " \t\r\n") == NULL;
}

int sn_webhooks_get(sn_store *s, uint32_t app, sn_webhook_status *out, char *err, size_t errlen)
{
    uint64_t counts[3];
    sn_app a;
    int rc = sn_store_get_app(s, app, &a, err, errlen);
    if (rc != SN_OK || (rc = sn_store_delivery_counts(s, app, counts, err, errlen)) != SN_OK)
        return rc;
    if (a.url[0] == '\0')
        return sn_fail(err, errlen, SN_ENOTFOUND, "no webhook is set");
    snprintf(out->url, sizeof(out->url), "%s", a.url);
    out->pending = counts[SN_DELIVERY_PENDING];
    out->delivered = counts[SN_DELIVERY_DELIVERED];
    out->dead = counts[SN_DELIVERY_DEAD];
    return SN_OK;
}

int sn_webhooks_set(const sn_service *svc, sn_store *s, uint32_t app, const char *url,
                    const char *secret, sn_webhook_status *out, char *err, size_t errlen)
{
    size_t slen = strlen(secret);
    if (!url_valid(url))
        return sn_fail(err, errlen, SN_EINVAL,
                       "url must be an http:// or https:// URL of at most %d bytes", SN_URL_MAX);
    if (slen < SN_WEBHOOK_SECRET_MIN || slen > SN_WEBHOOK_SECRET_MAX)
        return sn_fail(err, errlen, SN_EINVAL, "secret must be %d to %d bytes",
                       SN_WEBHOOK_SECRET_MIN, SN_WEBHOOK_SECRET_MAX);
    int rc = sn_store_set_webhook(s, app, url, secret, err, errlen);
    if (rc != SN_OK)
        return rc;
    sn_deliverer_wake(svc->deliverer);
    return sn_webhooks_get(s, app, out, err, errlen);
}

int sn_webhooks_clear(sn_store *s, uint32_t app, char *err, size_t errlen)
{
    return sn_store_set_webhook(s, app, NULL, NULL, err, errlen);
}

int sn_webhooks_subscribe(sn_store *s, uint32_t app, int cancellations, int reissues, sn_app *out,
                          char *err, size_t errlen)
{
    int rc = sn_store_set_subscription(s, app, cancellations, reissues, err, errlen);
    return rc != SN_OK ? rc : sn_store_get_app(s, app, out, err, errlen);
}

int sn_webhooks_app(sn_store *s, uint32_t app, sn_app *out, char *err, size_t errlen)
{
    return sn_store_get_app(s, app, out, err, errlen);
}

int sn_webhooks_deliveries(sn_store *s, uint32_t app, int state, uint64_t after, uint32_t limit,
                           sn_delivery_fn fn, void *ctx, char *err, size_t errlen)
{
    return sn_store_list_deliveries(s, app, state, after, limit, fn, ctx, err, errlen);
}

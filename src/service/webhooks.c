/*
 * webhooks.c - an app's webhook, subscription and deliveries (see
 * webhooks.h).
 */
#include "service/webhooks.h"

#include "core/errors.h"
#include "delivery/deliverer.h"
#include "delivery/webhook.h"
#include "util/grow.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char sealed[SN_WEBHOOK_SECRET_STORED_MAX + 1];
    size_t slen = strlen(secret);
    int rc = sn_webhook_url_check(url, svc->allow_private_webhooks, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (slen < SN_WEBHOOK_SECRET_MIN || slen > SN_WEBHOOK_SECRET_MAX)
        return sn_fail(err, errlen, SN_EINVAL, "secret must be %d to %d bytes",
                       SN_WEBHOOK_SECRET_MIN, SN_WEBHOOK_SECRET_MAX);
    if (svc->secret == NULL)
        return sn_fail(err, errlen, SN_ECONFIG,
                       "no deployment secret to seal the webhook secret with");
    sn_webhook_secret_seal(svc->secret, app, secret, slen, sealed);
    if ((rc = sn_store_set_webhook(s, app, url, sealed, err, errlen)) != SN_OK)
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

/* ---- sealing at start -------------------------------------------------------- */

typedef struct {
    sn_app *v;
    size_t n, cap;
} app_list;

static int collect_app(void *ctx, const sn_app *a)
{
    app_list *l = ctx;
    sn_app *v = sn_grow(l->v, &l->cap, l->n, sizeof(*v), 16);
    if (v == NULL)
        return SN_ENOMEM;
    l->v = v;
    l->v[l->n++] = *a;
    return 0;
}

static void first_name(char *dst, const char *name)
{
    if (dst[0] == '\0')
        snprintf(dst, SN_APP_NAME_MAX + 1, "%s", name);
}

/* One app's webhook: seal its secret when it is clear, judge it when not. */
static int audit_one(const sn_service *svc, sn_store *s, const sn_app *a, sn_webhook_audit *out,
                     char *err, size_t errlen)
{
    char plain[SN_WEBHOOK_SECRET_MAX + 1], sealed[SN_WEBHOOK_SECRET_STORED_MAX + 1];
    size_t len = 0;
    int rc = SN_OK, replaced = 0;
    char why[SN_ERRMSG_MAX];
    if (sn_webhook_url_check(a->url, svc->allow_private_webhooks, why, sizeof(why)) != SN_OK) {
        out->refused_urls++;
        first_name(out->refused_url_app, a->name);
    }
    if (sn_webhook_secret_open(svc->secret, a, plain, &len) != SN_OK) {
        out->unreadable++;
        first_name(out->unreadable_app, a->name);
    } else if (!sn_sealed(a->secret)) {
        sn_webhook_secret_seal(svc->secret, a->id, plain, len, sealed);
        rc = sn_store_replace_webhook_secret(s, a->id, a->secret, sealed, &replaced, err, errlen);
        out->sealed += (unsigned)replaced;
    }
    sodium_memzero(plain, sizeof(plain));
    return rc;
}

int sn_webhooks_seal_stored(const sn_service *svc, sn_store *s, sn_webhook_audit *out, char *err,
                            size_t errlen)
{
    app_list apps = {NULL, 0, 0};
    int rc;
    memset(out, 0, sizeof(*out));
    if (svc->secret == NULL)
        return sn_fail(err, errlen, SN_ECONFIG,
                       "no deployment secret to seal webhook secrets with");
    if ((rc = sn_store_begin(s, err, errlen)) != SN_OK)
        return rc;
    rc = sn_store_list_webhooks(s, collect_app, &apps, err, errlen);
    if (rc == SN_ENOMEM)
        sn_fail(err, errlen, rc, "out of memory");
    for (size_t i = 0; rc == SN_OK && i < apps.n; i++)
        rc = audit_one(svc, s, &apps.v[i], out, err, errlen);
    if (apps.v != NULL)
        sodium_memzero(apps.v, apps.cap * sizeof(*apps.v));
    free(apps.v);
    return sn_store_end(s, rc, 0, err, errlen);
}

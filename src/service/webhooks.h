/*
 * webhooks.h - how an app hears of notices: its webhook (the URL and the
 * secret deliveries are signed with), its subscription to every
 * cancellation or reissue (not only its bound numbers'), and the state of
 * its deliveries. Setting a webhook wakes the deliverer: deliveries that
 * waited for one may go.
 *
 * The URL must pass delivery/webhook.h's rules (public addresses only
 * unless svc->allow_private_webhooks). The secret is stored sealed under
 * the deployment secret, never in the clear (webhook.h); stores from
 * before sealing kept it in the clear, and `serve` seals those at start
 * (sn_webhooks_seal_stored).
 */
#ifndef SN_SERVICE_WEBHOOKS_H
#define SN_SERVICE_WEBHOOKS_H

#include "service/service.h"
#include "store/apps.h"
#include "store/deliveries.h"

#define SN_WEBHOOK_SECRET_MIN 16 /* bytes of a webhook's signing secret, at least */

typedef struct {
    char url[SN_URL_MAX + 1];
    uint64_t pending, delivered, dead;
} sn_webhook_status;

/* Set app's webhook: url an http:// or https:// URL of at most SN_URL_MAX
 * bytes, secret SN_WEBHOOK_SECRET_MIN to SN_WEBHOOK_SECRET_MAX bytes
 * (SN_EINVAL otherwise); *out as it now stands. */
int sn_webhooks_set(const sn_service *svc, sn_store *s, uint32_t app, const char *url,
                    const char *secret, sn_webhook_status *out, char *err, size_t errlen);

/* What sn_webhooks_seal_stored found among the apps' webhooks. */
typedef struct {
    unsigned sealed;       /* clear secrets sealed now */
    unsigned unreadable;   /* sealed ones that do not open under this deployment secret */
    unsigned refused_urls; /* URLs the webhook rules refuse now (set before them) */
    char unreadable_app[SN_APP_NAME_MAX + 1], refused_url_app[SN_APP_NAME_MAX + 1]; /* the first */
} sn_webhook_audit;

/* At start, in one transaction: seal every webhook secret still kept in
 * the clear (written before sealing existed), and count the secrets that
 * do not open with svc->secret and the URLs the rules now refuse, for the
 * operator (*out). A webhook set meanwhile by another node is left alone. */
int sn_webhooks_seal_stored(const sn_service *svc, sn_store *s, sn_webhook_audit *out, char *err,
                            size_t errlen);

/* app's webhook: SN_ENOTFOUND when none is set. */
int sn_webhooks_get(sn_store *s, uint32_t app, sn_webhook_status *out, char *err, size_t errlen);

/* Remove app's webhook (deliveries wait for the next one). */
int sn_webhooks_clear(sn_store *s, uint32_t app, char *err, size_t errlen);

/* Set app's subscription; *out is the app as it now stands. */
int sn_webhooks_subscribe(sn_store *s, uint32_t app, int cancellations, int reissues, sn_app *out,
                          char *err, size_t errlen);

/* app's settings (its subscription). */
int sn_webhooks_app(sn_store *s, uint32_t app, sn_app *out, char *err, size_t errlen);

/* Deliveries of app (0: every app's) in state (sn_delivery_state) after
 * notice `after`, at most limit. */
int sn_webhooks_deliveries(sn_store *s, uint32_t app, int state, uint64_t after, uint32_t limit,
                           sn_delivery_fn fn, void *ctx, char *err, size_t errlen);

#endif

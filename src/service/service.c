/*
 * service.c - what every use case shares (see service.h): the caller's
 * app, the end of a transaction, loading what a server serves from, and
 * the store's gauges for the metrics.
 */
#include "service/service.h"

#include "core/errors.h"
#include "follow/follower.h"
#include "service/keys.h"
#include "service/receipts.h"
#include "service/snapshots.h"
#include "store/deliveries.h"
#include "store/apps.h"
#include "store/log.h"
#include "store/notices.h"
#include "store/subscribers.h"
#include "util/clock.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int sn_service_app_of(sn_store *s, sn_caller *who, char *err, size_t errlen)
{
    if (who->role != SN_ROLE_APP || who->app_id != 0)
        return SN_OK;
    int rc = sn_store_app_id(s, who->app, 0, &who->app_id, err, errlen);
    if (rc != SN_ENOTFOUND)
        return rc;
    if ((rc = sn_store_begin(s, err, errlen)) == SN_OK)
        rc = sn_store_app_id(s, who->app, 1, &who->app_id, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

/* The carriers' ranges again (coverage.h); a failure keeps the loaded
 * ones and is said once. */
static void reload_coverage(sn_service *svc, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    if (svc->coverage == NULL)
        return;
    int ok = sn_coverage_load(svc->coverage, s, err, sizeof(err)) == SN_OK;
    if (!ok && !svc->coverage_stale)
        fprintf(stderr, "secondnum serve: reloading number ranges: %s (keeping the loaded ones)\n",
                err);
    svc->coverage_stale = !ok;
}

void sn_service_tick(void *ctx, sn_store *s)
{
    sn_service *svc = ctx;
    char err[SN_ERRMSG_MAX];
    sn_keys_reload(svc, s);
    reload_coverage(svc, s);
    if (svc->receipts != NULL && svc->secret != NULL)
        sn_receipts_reload(svc->receipts, svc->secret, s);
    int ok = sn_store_sms_erase_codes(s, sn_wall_sec(), NULL, err, sizeof(err)) == SN_OK;
    if (!ok && !svc->erasing_failed)
        sn_log(SN_LOG_WARN, "erasing dead sign-in codes: %s (trying again)", err);
    svc->erasing_failed = !ok;
}

/* The index from the snapshot and the changes after it, or from a scan of
 * every state (snapshots.h). */
int sn_service_load(sn_service *svc, sn_store *s, char *err, size_t errlen)
{
    int rc = sn_snapshots_load(svc->snapshots, svc, s, err, errlen);
    if (rc == SN_OK && svc->coverage != NULL)
        rc = sn_coverage_load(svc->coverage, s, err, errlen);
    if (rc == SN_OK && svc->oauth_clients != NULL)
        rc = sn_oauth_clients_load(svc->oauth_clients, s, err, errlen);
    return rc != SN_OK ? rc : sn_keyring_load(svc->keys, s, err, errlen);
}

void sn_service_read_gauges(const sn_service *svc, sn_store *s, sn_metrics_gauges *g)
{
    char err[SN_ERRMSG_MAX];
    uint64_t totals[3] = {0, 0, 0}, head;
    g->have_store = sn_store_notice_counts(s, sn_wall_sec(), &g->notices_open, &g->notices_overdue,
                                           err, sizeof(err)) == SN_OK &&
                    sn_store_delivery_totals(s, totals, err, sizeof(err)) == SN_OK;
    g->deliveries_pending = totals[0];
    g->deliveries_retrying = totals[1];
    g->deliveries_dead = totals[2];
    if (g->have_store && svc->follower != NULL &&
        sn_store_change_cursor(s, &head, err, sizeof(err)) == SN_OK) {
        uint64_t at = sn_follower_position(svc->follower);
        g->have_follower = 1;
        g->follower_lag = head > at ? head - at : 0;
    }
}

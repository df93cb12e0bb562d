/*
 * h_receipts.c - check receipts over HTTP: GET /v1/receipts/keys (the
 * public keys receipts verify against; public, no credential: a public key
 * discloses nothing), and the receipt a check's handler signs for its
 * caller (h_check.c, h_camara.c) when asked. docs/http-api.md, "Receipts".
 */
#include "http/http.h"
#include "service/receipts.h"

#include "core/errors.h"
#include "util/clock.h"

#include <stdio.h>
#include <time.h>

static void *pool_alloc(void *ctx, size_t size)
{
    return h2o_mem_alloc_pool((h2o_mem_pool_t *)ctx, size);
}

void sn_h_receipt_keys(sn_call *c)
{
    size_t len = 0;
    char *doc = NULL;
    if (c->svc->receipts == NULL) {
        sn_reply_error(c, SN_HTTP_UNAVAILABLE, "%s", SN_RECEIPTS_OFF);
        return;
    }
    doc = sn_receipts_document(c->svc->receipts, pool_alloc, &c->req->pool, &len);
    if (doc == NULL)
        sn_reply_error(c, SN_HTTP_INTERNAL, "%s", "the receipt keys are not loaded");
    else
        sn_reply_json(c, 200, doc, len);
}

int sn_call_receipt(const sn_call *c, const char *api, const char *question, const char *asked,
                    sn_day day, sn_verdict v, char *out, size_t cap, size_t *len)
{
    sn_receipt r;
    memset(&r, 0, sizeof(r));
    if (c->svc->receipts == NULL)
        return SN_EUNAVAILABLE;
    snprintf(r.api, sizeof(r.api), "%s", api);
    snprintf(r.question, sizeof(r.question), "%s", question);
    snprintf(r.asked, sizeof(r.asked), "%s", asked);
    sn_day_format(day, r.date);
    snprintf(r.result, sizeof(r.result), "%s", sn_verdict_name(v));
    sn_utc_format(sn_wall_sec(), r.answered_at);
    snprintf(r.app, sizeof(r.app), "%s", c->who.app);
    if (c->oauth)
        snprintf(r.credential, sizeof(r.credential), "oauth:%s", c->oauth_client);
    else
        snprintf(r.credential, sizeof(r.credential), "key:%u", c->who.key);
    r.as_of = sn_receipts_position(c->svc);
    return sn_receipts_sign(c->svc->receipts, &r, out, cap, len);
}

/*
 * h_webhooks.c - how an app hears of notices (webhooks.h): PUT, GET and
 * DELETE /v1/webhook, PUT and GET /v1/subscription, and the deliveries'
 * states (the app's own, or every app's for the admin).
 */
#include "http/body.h"
#include "http/job.h"
#include "service/webhooks.h"

#include "core/errors.h"

#include <stdio.h>

static void webhook_json(sn_strbuf *b, const sn_webhook_status *w)
{
    sn_strbuf_printf(b, "{\"url\":");
    sn_strbuf_string(b, w->url);
    sn_strbuf_printf(b, ",\"pending\":%llu,\"delivered\":%llu,\"dead\":%llu}",
                     (unsigned long long)w->pending, (unsigned long long)w->delivered,
                     (unsigned long long)w->dead);
}

int sn_w_webhook_get(sn_http_job *j, sn_store *s)
{
    sn_webhook_status w;
    int rc = sn_webhooks_get(s, j->call->who.app_id, &w, j->message, sizeof(j->message));
    if (rc == SN_OK)
        webhook_json(&j->out, &w);
    return rc;
}

static int put_webhook(sn_http_job *j, sn_store *s)
{
    sn_webhook_status w;
    int rc = sn_webhooks_set(
        j->call->svc, s, j->call->who.app_id, sn_call_field(j->call, "url")->value,
        sn_call_field(j->call, "secret")->value, &w, j->message, sizeof(j->message));
    if (rc == SN_OK)
        webhook_json(&j->out, &w);
    return rc;
}

void sn_h_webhook_put(sn_call *c)
{
    if (sn_call_field(c, "url")->value == NULL || sn_call_field(c, "secret")->value == NULL)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "url and secret are required");
    else
        sn_http_submit(sn_http_job_new(c, put_webhook, NULL));
}

int sn_w_webhook_delete(sn_http_job *j, sn_store *s)
{
    int rc = sn_webhooks_clear(s, j->call->who.app_id, j->message, sizeof(j->message));
    if (rc == SN_OK)
        sn_strbuf_printf(&j->out, "{\"url\":null}");
    return rc;
}

/* ---- the subscription ------------------------------------------------------ */

typedef struct {
    int cancellations, reissues;
} subscription;

int sn_w_subscription(sn_http_job *j, sn_store *s)
{
    const subscription *sub = j->data; /* NULL: only read */
    uint32_t app = j->call->who.app_id;
    sn_app a;
    int rc = sub != NULL ? sn_webhooks_subscribe(s, app, sub->cancellations, sub->reissues, &a,
                                                 j->message, sizeof(j->message))
                         : sn_webhooks_app(s, app, &a, j->message, sizeof(j->message));
    if (rc == SN_OK)
        sn_strbuf_printf(&j->out, "{\"cancellations\":%s,\"reissues\":%s}",
                         a.sub_cancellations ? "true" : "false", a.sub_reissues ? "true" : "false");
    return rc;
}

void sn_h_subscription_put(sn_call *c)
{
    const char *cancellations = sn_call_field(c, "cancellations")->value;
    const char *reissues = sn_call_field(c, "reissues")->value;
    subscription *sub = h2o_mem_alloc_pool(&c->req->pool, sizeof(*sub));
    if (cancellations == NULL || reissues == NULL) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "cancellations and reissues are required");
        return;
    }
    sub->cancellations = cancellations[0] == 't';
    sub->reissues = reissues[0] == 't';
    sn_http_submit(sn_http_job_new(c, sn_w_subscription, sub));
}

/* ---- deliveries ------------------------------------------------------------- */

typedef struct {
    int state;
    uint64_t after;
    uint32_t limit;
    sn_listing l;
} delivery_page;

static const char *const delivery_states[] = {"pending", "delivered", "dead"};

static int page_delivery(void *ctx, const sn_delivery *d)
{
    delivery_page *p = ctx;
    char next[SN_TIME_TEXT_MAX];
    sn_strbuf *b = sn_listing_row(&p->l, d->notice);
    sn_strbuf_printf(b, "{\"notice_id\":\"%llu\"", (unsigned long long)d->notice);
    if (p->l.j->call->who.app_id == 0) {
        sn_strbuf_printf(b, ",\"app\":");
        sn_strbuf_string(b, d->app_name);
    }
    sn_strbuf_printf(b,
                     ",\"state\":\"%s\",\"attempts\":%u,\"last_error\":", delivery_states[d->state],
                     d->attempts);
    sn_strbuf_string(b, d->last_error[0] != '\0' ? d->last_error : NULL);
    if (d->state == SN_DELIVERY_PENDING) {
        sn_utc_format(d->next_at_ms / 1000, next);
        sn_strbuf_printf(b, ",\"next_attempt_at\":\"%s\"}", next);
    } else {
        sn_strbuf_printf(b, ",\"next_attempt_at\":null}");
    }
    return 0;
}

static int list_deliveries(sn_http_job *j, sn_store *s)
{
    delivery_page *p = j->data;
    sn_listing_open(&p->l, j, "deliveries", p->after);
    int rc = sn_webhooks_deliveries(s, j->call->who.app_id, p->state, p->after, p->limit,
                                    page_delivery, p, j->message, sizeof(j->message));
    sn_listing_close(&p->l);
    return rc;
}

void sn_h_deliveries(sn_call *c)
{
    const char *state = sn_call_param(c, "state");
    delivery_page *p = h2o_mem_alloc_pool(&c->req->pool, sizeof(*p));
    p->state = -1;
    for (int i = 0; state != NULL && i < 3; i++)
        if (strcmp(state, delivery_states[i]) == 0)
            p->state = i;
    if (p->state < 0)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "state must be pending, delivered or dead");
    else if (sn_call_paging(c, &p->after, &p->limit, SN_PAGE_DEFAULT, SN_PAGE_MAX))
        sn_http_submit(sn_http_job_new(c, list_deliveries, p));
}

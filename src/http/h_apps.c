/*
 * h_apps.c - an app's profile (PUT and GET /v1/profile: the name
 * subscribers see it by) and the admin's view of every app (apps.h).
 */
#include "http/body.h"
#include "http/job.h"
#include "service/apps.h"

#include "core/errors.h"

#include <stdio.h>

typedef struct {
    const char *display; /* to set */
    size_t len;
} profile;

int sn_w_profile(sn_http_job *j, sn_store *s)
{
    const profile *p = j->data; /* NULL: only read */
    const sn_caller *who = &j->call->who;
    char display[SN_DISPLAY_NAME_MAX + 1];
    int rc = SN_OK;
    if (p != NULL)
        rc =
            sn_apps_set_profile(s, who->app_id, p->display, p->len, j->message, sizeof(j->message));
    if (rc == SN_OK)
        rc = sn_apps_profile(s, who->app_id, display, j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    sn_strbuf_printf(&j->out, "{\"name\":");
    sn_strbuf_string(&j->out, who->app);
    sn_strbuf_printf(&j->out, ",\"display_name\":");
    sn_strbuf_string(&j->out, display[0] != '\0' ? display : NULL);
    sn_strbuf_printf(&j->out, "}");
    return SN_OK;
}

void sn_h_profile_put(sn_call *c)
{
    const sn_flat_field *f = sn_call_field(c, "display_name");
    profile *p = h2o_mem_alloc_pool(&c->req->pool, sizeof(*p));
    p->display = f->value != NULL ? f->value : "";
    p->len = f->len;
    sn_http_submit(sn_http_job_new(c, sn_w_profile, p));
}

static int app_row(void *ctx, const sn_app_stats *st)
{
    sn_listing *l = ctx;
    sn_strbuf *b = sn_listing_row(l, st->app);
    double rate = st->notices > 0 ? (double)st->acknowledged / (double)st->notices : 0.0;
    sn_strbuf_printf(b, "{\"name\":");
    sn_strbuf_string(b, st->name);
    sn_strbuf_printf(b,
                     ",\"bindings\":%llu,\"numbers\":%llu,\"notices\":%llu,\"acknowledged\":%llu,"
                     "\"overdue\":%llu,\"ack_rate\":%.4f,\"webhook\":%s,\"pending\":%llu,"
                     "\"dead\":%llu}",
                     (unsigned long long)st->bindings, (unsigned long long)st->numbers,
                     (unsigned long long)st->notices, (unsigned long long)st->acknowledged,
                     (unsigned long long)st->overdue, rate, st->webhook ? "true" : "false",
                     (unsigned long long)st->pending, (unsigned long long)st->dead);
    return 0;
}

int sn_w_admin_apps(sn_http_job *j, sn_store *s)
{
    sn_listing l;
    sn_listing_open(&l, j, "apps", 0);
    int rc = sn_apps_stats(s, app_row, &l, j->message, sizeof(j->message));
    sn_listing_close_plain(&l);
    return rc;
}

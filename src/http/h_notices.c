/*
 * h_notices.c - the app's side of notices (notices.h): the pull feed, one
 * notice, the acknowledgement, the disconnections feed; and the admin's
 * view of every app's notices.
 */
#include "http/body.h"
#include "http/job.h"
#include "service/notices.h"

#include "core/errors.h"
#include "delivery/notice_json.h"
#include "util/clock.h"

#include <stdio.h>
#include <time.h>

typedef struct {
    sn_notice_query q;
    sn_listing l;
} notice_page;

static int page_notice(void *ctx, const sn_notice *n)
{
    notice_page *p = ctx;
    sn_notice_json(sn_listing_row(&p->l, n->id), n, p->q.app == 0, p->q.now);
    return 0;
}

static int list_notices(sn_http_job *j, sn_store *s)
{
    notice_page *p = j->data;
    p->q.app = j->call->who.app_id; /* 0 for the admin: every app's */
    p->q.now = sn_wall_sec();
    sn_listing_open(&p->l, j, "notices", p->q.after);
    int rc = sn_notices_list(s, &p->q, page_notice, p, j->message, sizeof(j->message));
    sn_listing_close(&p->l);
    return rc;
}

void sn_h_notices_list(sn_call *c)
{
    static const char *const states[] = {"", "open", "acknowledged", "overdue"};
    const char *state = sn_call_param(c, "state");
    notice_page *p = h2o_mem_alloc_pool(&c->req->pool, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->q.filter = SN_NOTICES_ALL;
    for (uint8_t i = 1; state != NULL && i < 4; i++)
        if (strcmp(state, states[i]) == 0)
            p->q.filter = i;
    if (state != NULL && p->q.filter == SN_NOTICES_ALL)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "state must be open, acknowledged or overdue");
    else if (sn_call_paging(c, &p->q.after, &p->q.limit, SN_PAGE_DEFAULT, SN_PAGE_MAX))
        sn_http_submit(sn_http_job_new(c, list_notices, p));
}

int sn_w_notice_get(sn_http_job *j, sn_store *s)
{
    sn_notice n;
    int rc =
        sn_notices_get(s, j->call->who.app_id, j->call->id, &n, j->message, sizeof(j->message));
    if (rc == SN_OK)
        sn_notice_json(&j->out, &n, 0, sn_wall_sec());
    return rc;
}

typedef struct {
    int outcome;
    const char *note;
} ack_request;

static int ack_notice(sn_http_job *j, sn_store *s)
{
    ack_request *a = j->data;
    sn_notice n;
    int rc = sn_notices_ack(s, j->call->who.app_id, j->call->id, a->outcome, a->note, &n,
                            j->message, sizeof(j->message));
    if (rc == SN_OK)
        sn_notice_json(&j->out, &n, 0, sn_wall_sec());
    return rc;
}

void sn_h_notice_ack(sn_call *c)
{
    ack_request *a = h2o_mem_alloc_pool(&c->req->pool, sizeof(*a));
    const sn_flat_field *note = sn_call_field(c, "note");
    a->outcome = sn_outcome_parse(sn_call_field(c, "outcome")->value);
    a->note = note->value;
    if (a->outcome == SN_OUTCOME_NONE)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "outcome must be unbound, reverified, not_found or refused");
    else if (a->note != NULL && note->len > SN_NOTE_MAX)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "note must be at most %d bytes, without NUL",
                       SN_NOTE_MAX);
    else
        sn_http_submit(sn_http_job_new(c, ack_notice, a));
}

/* ---- disconnections ------------------------------------------------------- */

typedef struct {
    sn_day since;
    uint64_t after;
    uint32_t limit;
    sn_listing l;
} disconnection_page;

static void put_day(sn_strbuf *b, const char *name, sn_day day)
{
    char text[SN_DAY_TEXT_MAX];
    if (day == SN_DAY_NONE) {
        sn_strbuf_printf(b, ",\"%s\":null", name);
        return;
    }
    sn_day_format(day, text);
    sn_strbuf_printf(b, ",\"%s\":\"%s\"", name, text);
}

static int page_disconnection(void *ctx, sn_number n, sn_day cancelled, sn_day reissued)
{
    disconnection_page *p = ctx;
    char number[SN_NUMBER_TEXT_MAX];
    sn_strbuf *out = sn_listing_row(&p->l, n);
    sn_number_format(n, number);
    sn_strbuf_printf(out, "{\"number\":\"%s\"", number);
    put_day(out, "cancelled_on", cancelled);
    put_day(out, "reissued_on", reissued);
    sn_strbuf_printf(out, "}");
    return 0;
}

static int list_disconnections(sn_http_job *j, sn_store *s)
{
    disconnection_page *p = j->data;
    sn_listing_open(&p->l, j, "disconnections", 0);
    int rc = sn_notices_disconnections(j->call->svc, s, p->since, (sn_number)p->after, p->limit,
                                       page_disconnection, p, j->message, sizeof(j->message));
    sn_listing_close_paged(&p->l, p->limit);
    return rc;
}

void sn_h_disconnections(sn_call *c)
{
    const char *since = sn_call_param(c, "since");
    disconnection_page *p = h2o_mem_alloc_pool(&c->req->pool, sizeof(*p));
    char why[SN_ERRMSG_MAX];
    if (since == NULL || sn_day_parse(since, strlen(since), &p->since, why, sizeof(why)) != SN_OK)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "since must be a date YYYY-MM-DD");
    else if (sn_call_paging(c, &p->after, &p->limit, SN_PAGE_DEFAULT, SN_PAGE_MAX))
        sn_http_submit(sn_http_job_new(c, list_disconnections, p));
}

/*
 * h_complaints.c - complaints (complaints.h): a subscriber files and
 * follows theirs (with a session); the desks of apps, carriers and the
 * regulator list and resolve those they hold (with a key).
 */
#include "http/body.h"
#include "http/job.h"
#include "service/complaints.h"

#include "core/errors.h"
#include "delivery/notice_json.h"
#include "util/clock.h"

#include <stdio.h>
#include <time.h>

/* One complaint as JSON; with_number for the desks' views. */
static void complaint_json(sn_strbuf *b, const sn_complaint *c, int with_number, int64_t now)
{
    int level = sn_complaint_level_at(c, now);
    int first = c->app != 0 ? SN_LEVEL_APP : SN_LEVEL_CARRIER;
    char at[SN_TIME_TEXT_MAX];
    sn_strbuf_printf(b, "{\"id\":\"%llu\"", (unsigned long long)c->id);
    if (with_number) {
        char number[SN_NUMBER_TEXT_MAX];
        sn_number_format(c->number, number);
        sn_strbuf_printf(b, ",\"number\":\"%s\"", number);
    }
    sn_strbuf_printf(b, ",\"app\":");
    sn_strbuf_string(b, c->app != 0 ? c->app_name : NULL);
    sn_strbuf_printf(b, ",\"display_name\":");
    sn_strbuf_string(b, c->app != 0 ? (c->display[0] != '\0' ? c->display : c->app_name) : NULL);
    sn_strbuf_printf(b, ",\"carrier\":");
    sn_strbuf_string(b, c->carrier_name[0] != '\0' ? c->carrier_name : NULL);
    sn_strbuf_printf(b, ",\"kind\":\"%s\",\"text\":", sn_complaint_kind_name(c->kind));
    sn_strbuf_string(b, c->text);
    sn_json_time_field(b, "created_at", c->created);
    sn_strbuf_printf(b, ",\"level\":\"%s\",\"state\":\"%s\"", sn_level_name(level),
                     c->resolved_at != 0 ? "resolved" : "open");
    sn_json_time_field(b, "deadline", c->resolved_at != 0 ? 0 : sn_complaint_level_ends(c, level));
    sn_strbuf_printf(b, ",\"escalations\":[");
    for (int k = first + 1; k <= level; k++) {
        sn_utc_format(sn_complaint_level_starts(c, k), at);
        sn_strbuf_printf(b, "%s{\"level\":\"%s\",\"at\":\"%s\"}", k > first + 1 ? "," : "",
                         sn_level_name(k), at);
    }
    sn_strbuf_printf(b, "]");
    sn_json_time_field(b, "resolved_at", c->resolved_at);
    sn_strbuf_printf(b, ",\"resolved_by\":");
    sn_strbuf_string(b, c->resolved_level > 0 ? sn_level_name(c->resolved_level - 1) : NULL);
    sn_strbuf_printf(b, ",\"resolution\":");
    sn_strbuf_string(b, c->resolved_at != 0 ? c->resolution : NULL);
    sn_strbuf_printf(b, "}");
}

typedef struct {
    sn_complaint_query q; /* the desks' */
    sn_listing l;
    int with_number;
    int64_t now;
} complaint_page;

static int page_complaint(void *ctx, const sn_complaint *c)
{
    complaint_page *p = ctx;
    complaint_json(sn_listing_row(&p->l, c->id), c, p->with_number, p->now);
    return 0;
}

/* ---- the subscriber's ------------------------------------------------------- */

typedef struct {
    const char *app, *text;
    int kind;
} complaint_form;

static int file_complaint(sn_http_job *j, sn_store *s)
{
    complaint_form *f = j->data;
    sn_complaint c;
    int rc = sn_complaints_file(j->call->svc, s, j->call->token_hash, f->app, f->kind, f->text, &c,
                                j->message, sizeof(j->message));
    if (rc != SN_OK)
        return rc;
    complaint_json(&j->out, &c, 0, sn_wall_sec());
    j->status = 201;
    return SN_OK;
}

void sn_h_complaint_file(sn_call *c)
{
    const sn_flat_field *text = sn_call_field(c, "text");
    complaint_form *form = h2o_mem_alloc_pool(&c->req->pool, sizeof(*form));
    form->app = sn_call_field(c, "app")->value;
    form->kind = sn_complaint_kind_parse(sn_call_field(c, "kind")->value);
    form->text = text->value;
    if (form->kind == 0)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "kind must be harassment, cannot_register, takeover or other");
    else if (form->text == NULL || text->len == 0 || text->len > SN_COMPLAINT_TEXT_MAX)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "text must be 1 to %d bytes",
                       SN_COMPLAINT_TEXT_MAX);
    else
        sn_http_submit(sn_http_job_new(c, file_complaint, form));
}

int sn_w_complaints_mine(sn_http_job *j, sn_store *s)
{
    complaint_page p = {{0}, {0}, 0, sn_wall_sec()};
    sn_listing_open(&p.l, j, "complaints", 0);
    int rc = sn_complaints_mine(j->call->svc, s, j->call->token_hash, page_complaint, &p,
                                j->message, sizeof(j->message));
    sn_listing_close_plain(&p.l);
    return rc;
}

/* ---- the desks -------------------------------------------------------------- */

static int desk_complaints(sn_http_job *j, sn_store *s)
{
    complaint_page *p = j->data;
    p->with_number = 1;
    p->now = sn_wall_sec();
    sn_listing_open(&p->l, j, "complaints", p->q.after);
    int rc = sn_complaints_desk(s, &j->call->who, &p->q, page_complaint, p, j->message,
                                sizeof(j->message));
    sn_listing_close(&p->l);
    return rc;
}

void sn_h_complaints_desk(sn_call *c)
{
    const char *state = sn_call_param(c, "state"), *level = sn_call_param(c, "level");
    complaint_page *p = h2o_mem_alloc_pool(&c->req->pool, sizeof(*p));
    memset(p, 0, sizeof(*p));
    if (!sn_call_paging(c, &p->q.after, &p->q.limit, SN_PAGE_DEFAULT, SN_PAGE_MAX))
        return;
    if (state != NULL && strcmp(state, "open") != 0 && strcmp(state, "all") != 0)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "state must be open or all");
    else if (level != NULL && (sn_level_parse(level) < 0 || c->who.role != SN_ROLE_ADMIN))
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "level must be app, carrier or regulator (admin only)");
    else {
        p->q.open_only = state != NULL && strcmp(state, "open") == 0;
        p->q.min_level = level != NULL ? (uint8_t)sn_level_parse(level) : 0;
        sn_http_submit(sn_http_job_new(c, desk_complaints, p));
    }
}

static int resolve(sn_http_job *j, sn_store *s)
{
    sn_complaint c;
    int rc = sn_complaints_resolve(s, &j->call->who, j->call->id,
                                   sn_call_field(j->call, "resolution")->value, &c, j->message,
                                   sizeof(j->message));
    if (rc == SN_OK)
        complaint_json(&j->out, &c, 1, sn_wall_sec());
    return rc;
}

void sn_h_complaint_resolve(sn_call *c)
{
    const sn_flat_field *f = sn_call_field(c, "resolution");
    if (f->value == NULL || f->len == 0 || f->len > SN_NOTE_MAX)
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "resolution must be 1 to %d bytes, without NUL",
                       SN_NOTE_MAX);
    else
        sn_http_submit(sn_http_job_new(c, resolve, NULL));
}

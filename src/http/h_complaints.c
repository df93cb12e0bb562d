/*
 * h_complaints.c - the desks that answer subscribers' complaints: the app
 * a complaint names, the carrier of record once it has escalated there, and
 * the regulator (admin keys) once it has escalated again (or at any time);
 * and the display name an app shows subscribers (PUT /v1/profile).
 *
 * One list and one resolve handler serve the three roles; the caller's key
 * decides what it sees: an app its own complaints at any level, a carrier
 * those of its numbers that reached it, the admin all of them. A complaint
 * another desk may not see answers 404 exactly like a missing one.
 */
#include "http/subscriber.h"

#include "core/errors.h"
#include "store/keys.h"
#include "store/apps.h"
#include "store/complaints.h"

#include <stdio.h>
#include <stdlib.h>

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

static int failed(sn_sub_job *j, const char *err)
{
    return sn_sub_store_failed(j, "complaints", err);
}

/* ---- the app's display name -------------------------------------------------- */

static int profile_answer(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX], display[SN_DISPLAY_NAME_MAX + 1];
    if (sn_store_app_display(s, j->t.app_id, display, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_strbuf_printf(&j->t.out, "{\"name\":");
    sn_strbuf_string(&j->t.out, j->t.app);
    sn_strbuf_printf(&j->t.out, ",\"display_name\":");
    sn_strbuf_string(&j->t.out, display[0] != '\0' ? display : NULL);
    sn_strbuf_printf(&j->t.out, "}");
    return SN_OK;
}

/* Valid UTF-8 without control characters, 1 to SN_DISPLAY_NAME_MAX bytes. */
static int display_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || len > SN_DISPLAY_NAME_MAX)
        return 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
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

static int put_profile(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    const char *key;
    json_t *v, *name = json_object_get(j->t.body, "display_name");
    json_object_foreach(j->t.body, key, v) {
        if (strcmp(key, "display_name") != 0)
            return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "unknown property '%.64s'",
                                  key);
    }
    if (!json_is_string(name) || !display_valid(json_string_value(name), json_string_length(name)))
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT,
                              "display_name must be 1 to %d bytes of text", SN_DISPLAY_NAME_MAX);
    if (sn_store_set_app_display(s, j->t.app_id, json_string_value(name), err, sizeof(err)) !=
        SN_OK)
        return failed(j, err);
    return profile_answer(j, s);
}

void sn_h_profile_put(sn_call *c)
{
    sn_sub_job *j = sn_sub_job_new(c, put_profile, NULL, 1, 0, 0);
    if (j != NULL)
        sn_sub_submit(c, j);
}

void sn_h_profile_get(sn_call *c)
{
    sn_sub_job *j = sn_sub_job_new(c, profile_answer, NULL, 0, 0, 0);
    if (j != NULL)
        sn_sub_submit(c, j);
}

/* ---- complaints -------------------------------------------------------------- */

typedef struct {
    sn_sub_job *j;
    size_t n;
    uint64_t last;
} complaint_page;

static int page_complaint(void *ctx, const sn_complaint *c)
{
    complaint_page *p = ctx;
    if (p->n++ > 0)
        sn_strbuf_printf(&p->j->t.out, ",");
    sn_sub_complaint_json(&p->j->t.out, c, 1, p->j->t.now);
    p->last = c->id;
    return 0;
}

static int list_complaints(sn_sub_job *j, sn_store *s)
{
    const char *state = sn_tenant_param(&j->t, "state"), *level = sn_tenant_param(&j->t, "level");
    char err[SN_ERRMSG_MAX];
    sn_complaint_query q;
    memset(&q, 0, sizeof(q));
    int rc = sn_tenant_paging(&j->t, &q.after, &q.limit, PAGE_DEFAULT, PAGE_MAX);
    if (rc != SN_OK)
        return rc;
    if (state != NULL && strcmp(state, "open") != 0 && strcmp(state, "all") != 0)
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "state must be open or all");
    q.open_only = state != NULL && strcmp(state, "open") == 0;
    q.now = j->t.now;
    if (level != NULL && (sn_level_parse(level) < 0 || j->role != SN_ROLE_ADMIN))
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT,
                              "level must be app, carrier or regulator (admin only)");
    if (level != NULL)
        q.min_level = (uint8_t)sn_level_parse(level);
    if (j->role == SN_ROLE_APP) {
        q.app = j->t.app_id;
    } else if (j->role == SN_ROLE_CARRIER) {
        if (j->carrier == 0) /* 0 would mean "every carrier" to the store */
            return sn_tenant_fail(&j->t, SN_HTTP_PERMISSION_DENIED, "the key names no carrier");
        q.carrier = j->carrier;
        q.min_level = SN_LEVEL_CARRIER;
    }
    complaint_page p = {j, 0, q.after};
    sn_strbuf_printf(&j->t.out, "{\"complaints\":[");
    if (sn_store_list_complaints(s, &q, page_complaint, &p, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_strbuf_printf(&j->t.out, "],\"next\":\"%llu\"}", (unsigned long long)p.last);
    return SN_OK;
}

/* May the caller's desk see (and so resolve) complaint c now? */
static int visible(const sn_sub_job *j, const sn_complaint *c)
{
    switch (j->role) {
    case SN_ROLE_APP: return c->app == j->t.app_id;
    case SN_ROLE_CARRIER:
        return j->carrier != 0 && c->carrier == j->carrier &&
               sn_complaint_level_at(c, j->t.now) >= SN_LEVEL_CARRIER;
    case SN_ROLE_ADMIN: return 1;
    default: return 0;
    }
}

static int resolve(sn_sub_job *j, sn_store *s)
{
    char err[SN_ERRMSG_MAX];
    const char *key;
    json_t *v, *text = json_object_get(j->t.body, "resolution");
    sn_complaint c;
    json_object_foreach(j->t.body, key, v) {
        if (strcmp(key, "resolution") != 0)
            return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT, "unknown property '%.64s'",
                                  key);
    }
    if (!json_is_string(text) || json_string_length(text) == 0 ||
        json_string_length(text) > SN_NOTE_MAX ||
        strlen(json_string_value(text)) != json_string_length(text))
        return sn_tenant_fail(&j->t, SN_HTTP_INVALID_ARGUMENT,
                              "resolution must be 1 to %d bytes, without NUL", SN_NOTE_MAX);
    int rc = sn_store_get_complaint(s, j->t.id, &c, err, sizeof(err));
    if (rc == SN_ENOTFOUND || (rc == SN_OK && !visible(j, &c)))
        return sn_tenant_fail(&j->t, SN_HTTP_NOT_FOUND, "no complaint %llu",
                              (unsigned long long)j->t.id);
    if (rc != SN_OK)
        return failed(j, err);
    if (c.resolved_at != 0)
        return sn_tenant_fail(&j->t, SN_HTTP_CONFLICT, "complaint %llu was already resolved",
                              (unsigned long long)c.id);
    int level = j->role == SN_ROLE_APP       ? SN_LEVEL_APP
                : j->role == SN_ROLE_CARRIER ? SN_LEVEL_CARRIER
                                             : SN_LEVEL_REGULATOR;
    if (sn_store_resolve_complaint(s, c.id, level, json_string_value(text), j->t.now, err,
                                   sizeof(err)) != SN_OK ||
        sn_store_get_complaint(s, c.id, &c, err, sizeof(err)) != SN_OK)
        return failed(j, err);
    sn_sub_complaint_json(&j->t.out, &c, 1, j->t.now);
    return SN_OK;
}

void sn_h_complaints_list(sn_call *c)
{
    static const char *const params[] = {"state", "level", "after", "limit", NULL};
    sn_sub_job *j = sn_sub_job_new(c, list_complaints, params, 0, 0, 0);
    if (j != NULL)
        sn_sub_submit(c, j);
}

void sn_h_complaint_resolve(sn_call *c)
{
    sn_sub_job *j = sn_sub_job_new(c, resolve, NULL, 1, 1, 0);
    if (j != NULL)
        sn_sub_submit(c, j);
}

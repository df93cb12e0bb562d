/*
 * audit_call.c - the audit record of an answered call (audit/audit.h):
 * who asked (the key's role and id, the OAuth client, the session's
 * marker), what (the route, the number and day the handler noted, or a
 * "number" of the route's form or query), when, and the answer. Loop
 * threads; called by sn_reply. A number is handed to the trail as it is
 * and hashed only on the trail's thread.
 */
#include "http/http.h"

#include "core/errors.h"
#include "http/routename.h"
#include "util/clock.h"
#include "util/strbuf.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void sn_call_audit_check(sn_call *c, int has_number, sn_number number, sn_day day, int verdict)
{
    c->audit.set = 1;
    c->audit.has_number = has_number;
    c->audit.number = number;
    c->audit.day = day;
    c->audit.has_verdict = verdict >= 0;
    c->audit.verdict = verdict;
}

/* Who asked, into r. */
static void who_of(const sn_call *c, sn_audit_record *r)
{
    r->who_kind = "none";
    if (c->session) {
        char hex[17];
        sodium_bin2hex(hex, sizeof(hex), c->token_hash, 8); /* a marker, not the token */
        r->who_kind = "session";
        snprintf(r->who, sizeof(r->who), "%s", hex);
        return;
    }
    if (c->who.role == SN_ROLE_NONE)
        return;
    if (c->oauth) {
        r->who_kind = "oauth";
        sn_text_copy(r->who, sizeof(r->who), c->oauth_client);
    } else {
        r->who_kind = sn_role_name(c->who.role);
        sn_u64_text(c->who.key, r->who); /* r->who: SN_AUDIT_WHO_MAX >= SN_U64_TEXT_MAX */
    }
    if (c->who.role == SN_ROLE_APP)
        sn_text_copy(r->app, sizeof(r->app), c->who.app);
}

/* A number the route's form or query names, parsed (invalid: none). */
static void number_asked(const sn_call *c, sn_audit_record *r)
{
    char why[SN_ERRMSG_MAX];
    const char *v = NULL;
    size_t len = 0;
    const sn_flat_field *f = sn_call_field(c, "number");
    if (f->value != NULL) {
        v = f->value;
        len = f->len;
    } else if ((v = sn_call_param(c, "number")) != NULL) {
        len = strlen(v);
    }
    if (v != NULL &&
        sn_number_parse(v, len, c->svc->rules.default_cc, &r->number, why, sizeof(why)) == SN_OK)
        r->has_number = 1;
}

void sn_audit_of_call(const sn_call *c, int status, sn_audit_record *r)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    memset(r, 0, sizeof(*r));
    r->at_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    r->route = c->route->path;
    r->method = c->route->method;
    r->status = status;
    r->day = SN_DAY_NONE;
    r->verdict = -1;
    who_of(c, r);
    if (c->audit.set) {
        r->has_number = c->audit.has_number;
        r->number = c->audit.number;
        r->day = c->audit.day;
        r->verdict = c->audit.has_verdict ? c->audit.verdict : -1;
    } else {
        number_asked(c, r);
    }
    r->items = c->audit.items;
    r->nitems = status < 300 ? c->audit.nitems : 0;
    size_t n = c->correlator.len < SN_AUDIT_REQUEST_MAX ? c->correlator.len : SN_AUDIT_REQUEST_MAX;
    if (c->correlator.base != NULL)
        memcpy(r->request, c->correlator.base, n);
    r->request[n] = '\0';
}

int sn_audit_held(const sn_call *c, int status)
{
    const char *p = c->route->path, *m = c->route->method;
    if (status >= 300 || strcmp(m, "GET") == 0)
        return 0;
    return strncmp(p, "/number-recycling/", 18) != 0 && strcmp(p, "/v1/check") != 0 &&
           strncmp(p, "/v1/check/", 10) != 0;
}

void sn_audit_refused(const sn_head *h, int status, const char *correlator)
{
    if (!sn_audit_on() || h == NULL || h->method.base == NULL)
        return;
    const char *name = sn_route_name_of_head(h);
    const sn_route *rt = NULL;
    for (size_t i = 0; i < sn_nroutes && rt == NULL; i++)
        if (strcmp(sn_routes[i].path, name) == 0 &&
            h2o_memis(h->method.base, h->method.len, sn_routes[i].method,
                      strlen(sn_routes[i].method)))
            rt = &sn_routes[i];
    if (rt == NULL) /* no route, or a method it does not take */
        return;
    sn_call c;
    memset(&c, 0, sizeof(c));
    c.route = rt;
    c.correlator = h2o_iovec_init(correlator, strlen(correlator));
    c.correlator.base = correlator[0] != '\0' ? (char *)correlator : NULL;
    sn_audit_record r;
    sn_audit_of_call(&c, status, &r);
    sn_audit_add(&r);
}

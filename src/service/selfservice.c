/*
 * selfservice.c - a subscriber's view of their number (see selfservice.h).
 * Runs on the writer thread.
 */
#include "service/selfservice.h"

#include "core/errors.h"
#include "delivery/deliverer.h"
#include "sms/messages.h"
#include "store/apps.h"
#include "store/bindings.h"
#include "util/clock.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_APPS_MAX 64

typedef struct {
    sn_app_summary *v;
    size_t n, cap;
    uint32_t tenure;
} summary;

static int summarise(void *ctx, const sn_binding *b, const char *app, const char *display)
{
    summary *sm = ctx;
    sn_app_summary *a;
    if (sm->n == 0 || sm->v[sm->n - 1].app != b->app) {
        if ((a = sn_grow(sm->v, &sm->cap, sm->n, sizeof(*a), 8)) == NULL)
            return SN_ENOMEM;
        sm->v = a;
        a = &sm->v[sm->n++];
        memset(a, 0, sizeof(*a));
        a->app = b->app;
        snprintf(a->name, sizeof(a->name), "%s", app != NULL ? app : "");
        snprintf(a->display, sizeof(a->display), "%s",
                 display != NULL && display[0] != '\0' ? display : a->name);
    }
    a = &sm->v[sm->n - 1];
    if (b->tenure == sm->tenure) {
        if (a->mine < SN_SUMMARY_DATES)
            a->dates[a->mine] = b->bound_at;
        a->mine++;
    } else if (b->tenure < sm->tenure) {
        a->previous++;
    }
    return 0;
}

/* The number's bindings summarised, apps bound only in a later tenure (it
 * cannot happen) left out. */
static int summarise_bindings(sn_store *s, const sn_session *ses, sn_app_summary **apps, size_t *n,
                              char *err, size_t errlen)
{
    summary sm = {NULL, 0, 0, ses->tenure};
    size_t kept = 0;
    int rc = sn_store_number_bindings(s, ses->number, summarise, &sm, err, errlen);
    if (rc == SN_ENOMEM)
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (rc != SN_OK) {
        free(sm.v);
        return rc;
    }
    for (size_t i = 0; i < sm.n; i++)
        if (sm.v[i].mine > 0 || sm.v[i].previous > 0)
            sm.v[kept++] = sm.v[i];
    *apps = sm.v;
    *n = kept;
    return SN_OK;
}

int sn_selfservice_bindings(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                            sn_session *ses, sn_app_summary **apps, size_t *n, char *err,
                            size_t errlen)
{
    int rc = sn_signin_session(svc, s, token_hash, ses, NULL, err, errlen);
    *apps = NULL;
    *n = 0;
    return rc != SN_OK ? rc : summarise_bindings(s, ses, apps, n, err, errlen);
}

typedef struct {
    uint32_t open_mine[REPORT_APPS_MAX]; /* apps with an open "mine" request */
    size_t nmine;
    uint32_t open;
} open_requests;

static int count_open(void *ctx, const sn_request *r)
{
    open_requests *o = ctx;
    if (r->acknowledged >= r->notices)
        return 0;
    o->open++;
    if (r->scope == SN_SCOPE_MINE && o->nmine < REPORT_APPS_MAX)
        o->open_mine[o->nmine++] = r->app;
    return 0;
}

int sn_selfservice_checklist(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                             sn_session *ses, sn_app_summary **apps, size_t *n, char *err,
                             size_t errlen)
{
    open_requests open;
    memset(&open, 0, sizeof(open));
    int rc = sn_selfservice_bindings(svc, s, token_hash, ses, apps, n, err, errlen);
    if (rc == SN_OK)
        rc = sn_store_list_requests(s, ses->number, ses->tenure, count_open, &open, err, errlen);
    for (size_t i = 0; rc == SN_OK && i < *n; i++)
        for (size_t k = 0; k < open.nmine; k++)
            (*apps)[i].requested |= open.open_mine[k] == (*apps)[i].app;
    return rc;
}

typedef struct {
    uint32_t tenure;
    int scope;
    size_t in_scope;
} scope_count;

static int count_in_scope(void *ctx, const sn_binding *b)
{
    scope_count *sc = ctx;
    if (sc->scope == SN_SCOPE_PREVIOUS ? b->tenure < sc->tenure : b->tenure == sc->tenure)
        sc->in_scope++;
    return 0;
}

/* Why a request issued nothing: asked already, or nothing in scope. */
static int nothing_issued(sn_store *s, const sn_request *r, const char *app, char *err,
                          size_t errlen)
{
    scope_count sc = {r->tenure, r->scope, 0};
    int rc = sn_store_list_bindings(s, r->app, r->number, count_in_scope, &sc, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (sc.in_scope > 0)
        return sn_fail(err, errlen, SN_ECONFLICT,
                       "already asked: the app has yet to answer the open requests");
    return sn_fail(err, errlen, SN_ENOTFOUND, "'%.64s' holds no binding %s on this number", app,
                   r->scope == SN_SCOPE_PREVIOUS ? "of a previous owner" : "of yours");
}

static int unbind(const sn_service *svc, sn_store *s, const uint8_t *token_hash, const char *app,
                  int scope, sn_request *r, char *err, size_t errlen)
{
    int64_t now = sn_wall_sec();
    sn_session ses;
    size_t issued = 0;
    int rc = sn_signin_session(svc, s, token_hash, &ses, NULL, err, errlen);
    if (rc != SN_OK)
        return rc;
    memset(r, 0, sizeof(*r));
    rc = sn_store_app_id(s, app, 0, &r->app, err, errlen);
    if (rc == SN_ENOTFOUND)
        return sn_fail(err, errlen, SN_ENOTFOUND, "no app named '%.64s'", app);
    if (rc != SN_OK)
        return rc;
    r->number = ses.number;
    r->tenure = ses.tenure;
    r->scope = (uint8_t)scope;
    r->created = now;
    r->deadline = now + svc->notice_deadline_s;
    if ((rc = sn_store_add_request(s, r, now * 1000, &issued, err, errlen)) != SN_OK)
        return rc;
    if (issued == 0)
        return nothing_issued(s, r, app, err, errlen);
    snprintf(r->app_name, sizeof(r->app_name), "%s", app);
    r->notices = (uint32_t)issued;
    return sn_store_app_display(s, r->app, r->display, err, errlen);
}

int sn_selfservice_unbind(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                          const char *app, int scope, sn_request *out, char *err, size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    if (rc == SN_OK)
        rc = unbind(svc, s, token_hash, app, scope, out, err, errlen);
    if ((rc = sn_store_end(s, rc, 0, err, errlen)) == SN_OK)
        sn_deliverer_wake(svc->deliverer); /* webhook deliveries of the new notices */
    return rc;
}

int sn_selfservice_requests(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                            sn_request_fn fn, void *ctx, char *err, size_t errlen)
{
    sn_session ses;
    int rc = sn_signin_session(svc, s, token_hash, &ses, NULL, err, errlen);
    return rc != SN_OK ? rc
                       : sn_store_list_requests(s, ses.number, ses.tenure, fn, ctx, err, errlen);
}

static int report(const sn_service *svc, sn_store *s, const uint8_t *token_hash, const char *lang,
                  char lang_out[SN_LANG_LEN + 1], char *text, size_t cap, char *err, size_t errlen)
{
    const sn_subscriber_options *opt = &svc->subscribers->opt;
    char masked[SN_NUMBER_TEXT_MAX], number[SN_NUMBER_TEXT_MAX];
    sn_report_app lines[REPORT_APPS_MAX];
    sn_app_summary *apps = NULL;
    sn_session ses;
    open_requests open;
    size_t napps = 0, n = 0;
    memset(&open, 0, sizeof(open));
    int rc = sn_signin_session(svc, s, token_hash, &ses, NULL, err, errlen);
    if (rc != SN_OK ||
        (rc = sn_signin_lang(svc, lang != NULL ? lang : ses.lang, lang_out, err, errlen)) != SN_OK)
        return rc;
    sn_number_format(ses.number, number);
    if ((rc = sn_signin_rate(svc, s, "report-n", number, opt->reports_per_number,
                             "reports by SMS for this number", err, errlen)) != SN_OK ||
        (rc = sn_store_list_requests(s, ses.number, ses.tenure, count_open, &open, err, errlen)) !=
            SN_OK ||
        (rc = summarise_bindings(s, &ses, &apps, &napps, err, errlen)) != SN_OK)
        return rc;
    for (size_t i = 0; i < napps && n < REPORT_APPS_MAX; i++)
        lines[n++] = (sn_report_app){apps[i].display, apps[i].mine, apps[i].previous};
    sn_mask_number(ses.number, masked);
    sn_sms_report_text(sn_lang_parse(lang_out), masked, lines, n, open.open, text, cap);
    free(apps);
    return sn_sms_queue(s, &svc->subscribers->sms, ses.number, SN_SMS_REPORT, lang_out, text,
                        sn_wall_sec(), err, errlen);
}

int sn_selfservice_report(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                          const char *lang, char lang_out[SN_LANG_LEN + 1], char *text, size_t cap,
                          char *err, size_t errlen)
{
    int rc = sn_store_begin(s, err, errlen);
    if (rc == SN_OK)
        rc = report(svc, s, token_hash, lang, lang_out, text, cap, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

int sn_selfservice_messages(sn_store *s, sn_number n, int state, uint64_t after, uint32_t limit,
                            sn_sms_fn fn, void *ctx, char *err, size_t errlen)
{
    return sn_store_sms_list(s, n, state, after, limit, fn, ctx, err, errlen);
}

/*
 * routes.c - every route the server has, in one table: method, path, the
 * handler (or the job's work), how the caller authenticates, what else the
 * route asks, and the query parameters it takes. docs/openapi.yaml documents exactly these
 * (tests/integration/test_openapi.sh compares them), so a route is added
 * here and there together.
 */
#include "http/http.h"
#include "util/metrics.h"

#define KEY SN_AUTH_KEY
#define SESSION SN_AUTH_SESSION
#define NONE SN_AUTH_NONE
#define APP SN_ROLE_APP
#define CARRIER SN_ROLE_CARRIER
#define ADMIN SN_ROLE_ADMIN
#define SELF SN_ROUTE_SELFSERVICE
#define REPORT SN_ROUTE_REPORT

static const char *const paging[] = {"after", "limit", NULL};
static const char *const state_paging[] = {"state", "after", "limit", NULL};
static const char *const bindings_query[] = {"number", "account", NULL};
static const char *const since_paging[] = {"since", "after", "limit", NULL};
static const char *const desk_query[] = {"state", "level", "after", "limit", NULL};
static const char *const audit_query[] = {"from",   "to",    "app",   "number",
                                          "format", "after", "limit", NULL};
static const char *const usage_query[] = {"from", "to", NULL};
static const char *const admin_usage_query[] = {"from", "to", "app", NULL};
static const char *const days_query[] = {"from", "to", NULL};
static const char *const threshold_query[] = {"threshold", NULL};
static const char *const limit_query[] = {"limit", NULL};

/* The flat bodies: properties, which are true/false, may the body be empty. */
static const sn_form ack_form = {{"outcome", "note"}, 0, 0};
static const sn_form webhook_form = {{"url", "secret"}, 0, 0};
static const sn_form subscription_form = {{"cancellations", "reissues"}, 3, 0};
static const sn_form profile_form = {{"display_name"}, 0, 0};
static const sn_form code_form = {{"number", "lang"}, 0, 0};
static const sn_form signin_form = {{"number", "code", "id6"}, 0, 0};
static const sn_form unbind_form = {{"app", "scope"}, 0, 0};
static const sn_form complaint_form = {{"app", "kind", "text"}, 0, 0};
static const sn_form report_form = {{"lang"}, 0, 1};
static const sn_form resolve_form = {{"resolution"}, 0, 0};
static const sn_form app_request_form = {{"name"}, 0, 0};

const sn_route sn_routes[] = {
    {"GET", "/healthz", sn_h_healthz, NULL, NONE, 0, 0, NULL, NULL},
    {"GET", "/openapi.yaml", sn_h_openapi, NULL, NONE, 0, 0, NULL, NULL},
    {"GET", "/v1/receipts/keys", sn_h_receipt_keys, NULL, NONE, 0, 0, NULL, NULL},
    {"GET", "/metrics", sn_h_metrics, NULL, KEY, ADMIN, 0, NULL, NULL},
    /* an app key (two-legged) or a subscriber's session (three-legged) */
    {"POST", "/number-recycling/v0.2/check", sn_h_camara, sn_w_camara_session,
     SN_AUTH_KEY_OR_SESSION, APP, 0, NULL, &sn_camara_form},
    /* v0.3.0 and its release candidate: the same handler (h_camara.c) */
    {"POST", "/number-recycling/v0.3/check", sn_h_camara_v03, sn_w_camara_v03_session,
     SN_AUTH_KEY_OR_SESSION, APP, 0, NULL, &sn_camara_form},
    {"POST", "/number-recycling/v0.3rc1/check", sn_h_camara_v03, sn_w_camara_v03_session,
     SN_AUTH_KEY_OR_SESSION, APP, 0, NULL, &sn_camara_form},
    {"POST", "/v1/check", sn_h_check, NULL, KEY, APP, 0, NULL, NULL},
    {"POST", "/v1/check/batch", sn_h_check_batch, NULL, KEY, APP, 0, NULL, NULL},
    {"POST", "/v1/check/range", sn_h_check_range, NULL, KEY, APP, 0, NULL, NULL},
    {"POST", "/v1/events", sn_h_events, NULL, KEY, CARRIER, 0, NULL, NULL},
    {"POST", "/v1/admin/carriers", sn_h_carriers_add, NULL, KEY, ADMIN, 0, NULL, NULL},
    {"GET", "/v1/admin/carriers", NULL, sn_w_carriers_list, KEY, ADMIN, 0, NULL, NULL},
    {"POST", "/v1/admin/keys", sn_h_keys_create, NULL, KEY, ADMIN, 0, NULL, NULL},
    {"GET", "/v1/admin/keys", NULL, sn_w_keys_list, KEY, ADMIN, 0, NULL, NULL},
    {"DELETE", "/v1/admin/keys/{id}", NULL, sn_w_keys_revoke, KEY, ADMIN, 0, NULL, NULL},
    {"PUT", "/v1/bindings", sn_h_bindings_put, NULL, KEY, APP, 0, NULL, NULL},
    {"DELETE", "/v1/bindings", sn_h_bindings_delete, NULL, KEY, APP, 0, NULL, NULL},
    {"GET", "/v1/bindings", sn_h_bindings_get, NULL, KEY, APP, 0, bindings_query, NULL},
    {"GET", "/v1/notices", sn_h_notices_list, NULL, KEY, APP, 0, paging, NULL},
    {"GET", "/v1/notices/{id}", NULL, sn_w_notice_get, KEY, APP, 0, NULL, NULL},
    {"POST", "/v1/notices/{id}/ack", sn_h_notice_ack, NULL, KEY, APP, 0, NULL, &ack_form},
    {"PUT", "/v1/webhook", sn_h_webhook_put, NULL, KEY, APP, 0, NULL, &webhook_form},
    {"GET", "/v1/webhook", NULL, sn_w_webhook_get, KEY, APP, 0, NULL, NULL},
    {"DELETE", "/v1/webhook", NULL, sn_w_webhook_delete, KEY, APP, 0, NULL, NULL},
    {"PUT", "/v1/subscription", sn_h_subscription_put, NULL, KEY, APP, 0, NULL, &subscription_form},
    {"GET", "/v1/subscription", NULL, sn_w_subscription, KEY, APP, 0, NULL, NULL},
    {"GET", "/v1/deliveries", sn_h_deliveries, NULL, KEY, APP, 0, state_paging, NULL},
    {"GET", "/v1/disconnections", sn_h_disconnections, NULL, KEY, APP, 0, since_paging, NULL},
    {"GET", "/v1/admin/notices", sn_h_notices_list, NULL, KEY, ADMIN, 0, state_paging, NULL},
    {"GET", "/v1/admin/apps", NULL, sn_w_admin_apps, KEY, ADMIN, 0, NULL, NULL},
    {"GET", "/v1/admin/deliveries", sn_h_deliveries, NULL, KEY, ADMIN, 0, state_paging, NULL},
    {"POST", "/v1/subscriber/otp", sn_h_signin_code, NULL, NONE, 0, SELF, NULL, &code_form},
    {"POST", "/v1/subscriber/session", sn_h_signin_start, NULL, NONE, 0, SELF, NULL, &signin_form},
    {"GET", "/v1/subscriber/session", NULL, sn_w_session_get, SESSION, 0, SELF, NULL, NULL},
    {"DELETE", "/v1/subscriber/session", NULL, sn_w_session_end, SESSION, 0, SELF, NULL, NULL},
    {"GET", "/v1/subscriber/bindings", NULL, sn_w_sub_bindings, SESSION, 0, SELF, NULL, NULL},
    {"POST", "/v1/subscriber/unbind", sn_h_sub_unbind, NULL, SESSION, 0, SELF, NULL, &unbind_form},
    {"GET", "/v1/subscriber/requests", NULL, sn_w_sub_requests, SESSION, 0, SELF, NULL, NULL},
    {"GET", "/v1/subscriber/checks", sn_h_sub_checks, NULL, SESSION, 0, SELF, paging, NULL},
    {"POST", "/v1/subscriber/complaints", sn_h_complaint_file, NULL, SESSION, 0, SELF, NULL,
     &complaint_form},
    {"GET", "/v1/subscriber/complaints", NULL, sn_w_complaints_mine, SESSION, 0, SELF, NULL, NULL},
    {"POST", "/v1/subscriber/report-by-sms", NULL, sn_w_sub_report, SESSION, 0, SELF, NULL,
     &report_form},
    {"GET", "/v1/subscriber/checklist", NULL, sn_w_sub_checklist, SESSION, 0, SELF, NULL, NULL},
    {"POST", "/v1/subscriber/app-requests", NULL, sn_w_sub_app_request, SESSION, 0, SELF, NULL,
     &app_request_form},
    {"PUT", "/v1/profile", sn_h_profile_put, NULL, KEY, APP, SELF, NULL, &profile_form},
    {"GET", "/v1/profile", NULL, sn_w_profile, KEY, APP, SELF, NULL, NULL},
    {"GET", "/v1/complaints", sn_h_complaints_desk, NULL, KEY, APP, SELF, desk_query, NULL},
    {"POST", "/v1/complaints/{id}/resolve", sn_h_complaint_resolve, NULL, KEY, APP, SELF, NULL,
     &resolve_form},
    {"GET", "/v1/carrier/complaints", sn_h_complaints_desk, NULL, KEY, CARRIER, SELF, desk_query,
     NULL},
    {"POST", "/v1/carrier/complaints/{id}/resolve", sn_h_complaint_resolve, NULL, KEY, CARRIER,
     SELF, NULL, &resolve_form},
    {"GET", "/v1/admin/complaints", sn_h_complaints_desk, NULL, KEY, ADMIN, SELF, desk_query, NULL},
    {"POST", "/v1/admin/complaints/{id}/resolve", sn_h_complaint_resolve, NULL, KEY, ADMIN, SELF,
     NULL, &resolve_form},
    /* the audit trail (h_audit.c) */
    {"GET", "/v1/admin/audit", NULL, sn_w_admin_audit, KEY, ADMIN, REPORT, audit_query, NULL},
    {"GET", "/v1/usage", NULL, sn_w_usage, KEY, APP, REPORT, usage_query, NULL},
    {"GET", "/v1/admin/usage", NULL, sn_w_usage, KEY, ADMIN, REPORT, admin_usage_query, NULL},
    /* the dashboard's figures (h_dashboard.c) */
    {"GET", "/v1/admin/stats/numbers", NULL, sn_w_stats_numbers, KEY, ADMIN, REPORT, NULL, NULL},
    {"GET", "/v1/admin/stats/events", sn_h_stats_events, NULL, KEY, ADMIN, REPORT, days_query,
     NULL},
    {"GET", "/v1/admin/stats/notices", sn_h_stats_notices, NULL, KEY, ADMIN, REPORT,
     threshold_query, NULL},
    {"GET", "/v1/admin/stats/complaints", NULL, sn_w_stats_complaints, KEY, ADMIN, REPORT, NULL,
     NULL},
    {"GET", "/v1/admin/stats/demand", sn_h_stats_demand, NULL, KEY, ADMIN, REPORT, limit_query,
     NULL},
};

const size_t sn_nroutes = sizeof(sn_routes) / sizeof(sn_routes[0]);

/* The metrics count each route apart up to this many (util/metrics.h). */
_Static_assert(sizeof(sn_routes) / sizeof(sn_routes[0]) <= SN_METRICS_ROUTES_MAX,
               "more routes than SN_METRICS_ROUTES_MAX: raise it");

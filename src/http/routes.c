/*
 * routes.c - every route the server has, in one table. docs/openapi.yaml
 * documents exactly these (tests/integration/test_openapi.sh compares them),
 * so a route is added here and there together.
 */
#include "http/http.h"
#include "store/keys.h"

const sn_route sn_routes[] = {
    {"GET", "/healthz", sn_h_healthz, SN_ROLE_NONE},
    {"GET", "/openapi.yaml", sn_h_openapi, SN_ROLE_NONE},
    /* an app key, or a subscriber's session (three-legged): sn_h_camara_entry authenticates */
    {"POST", "/number-recycling/v0.2/check", sn_h_camara_entry, SN_ROLE_NONE},
    {"POST", "/v1/check", sn_h_check, SN_ROLE_APP},
    {"POST", "/v1/check/batch", sn_h_check_batch, SN_ROLE_APP},
    {"POST", "/v1/events", sn_h_events, SN_ROLE_CARRIER},
    {"POST", "/v1/admin/carriers", sn_h_carriers_add, SN_ROLE_ADMIN},
    {"GET", "/v1/admin/carriers", sn_h_carriers_list, SN_ROLE_ADMIN},
    {"POST", "/v1/admin/keys", sn_h_keys_create, SN_ROLE_ADMIN},
    {"GET", "/v1/admin/keys", sn_h_keys_list, SN_ROLE_ADMIN},
    {"DELETE", "/v1/admin/keys/{id}", sn_h_keys_revoke, SN_ROLE_ADMIN},
    {"PUT", "/v1/bindings", sn_h_bindings_put, SN_ROLE_APP},
    {"DELETE", "/v1/bindings", sn_h_bindings_delete, SN_ROLE_APP},
    {"GET", "/v1/bindings", sn_h_bindings_get, SN_ROLE_APP},
    {"GET", "/v1/notices", sn_h_notices_list, SN_ROLE_APP},
    {"GET", "/v1/notices/{id}", sn_h_notice_get, SN_ROLE_APP},
    {"POST", "/v1/notices/{id}/ack", sn_h_notice_ack, SN_ROLE_APP},
    {"PUT", "/v1/webhook", sn_h_webhook_put, SN_ROLE_APP},
    {"GET", "/v1/webhook", sn_h_webhook_get, SN_ROLE_APP},
    {"DELETE", "/v1/webhook", sn_h_webhook_delete, SN_ROLE_APP},
    {"PUT", "/v1/subscription", sn_h_subscription_put, SN_ROLE_APP},
    {"GET", "/v1/subscription", sn_h_subscription_get, SN_ROLE_APP},
    {"GET", "/v1/deliveries", sn_h_deliveries, SN_ROLE_APP},
    {"GET", "/v1/disconnections", sn_h_disconnections, SN_ROLE_APP},
    {"GET", "/v1/admin/notices", sn_h_admin_notices, SN_ROLE_ADMIN},
    {"GET", "/v1/admin/apps", sn_h_admin_apps, SN_ROLE_ADMIN},
    {"GET", "/v1/admin/deliveries", sn_h_deliveries, SN_ROLE_ADMIN},
    /* subscribers: the session routes authenticate the session themselves */
    {"POST", "/v1/subscriber/otp", sn_h_sub_otp, SN_ROLE_NONE},
    {"POST", "/v1/subscriber/session", sn_h_sub_session_create, SN_ROLE_NONE},
    {"GET", "/v1/subscriber/session", sn_h_sub_session_get, SN_ROLE_NONE},
    {"DELETE", "/v1/subscriber/session", sn_h_sub_session_delete, SN_ROLE_NONE},
    {"GET", "/v1/subscriber/bindings", sn_h_sub_bindings, SN_ROLE_NONE},
    {"POST", "/v1/subscriber/unbind", sn_h_sub_unbind, SN_ROLE_NONE},
    {"GET", "/v1/subscriber/requests", sn_h_sub_requests, SN_ROLE_NONE},
    {"POST", "/v1/subscriber/complaints", sn_h_sub_complaint_add, SN_ROLE_NONE},
    {"GET", "/v1/subscriber/complaints", sn_h_sub_complaints, SN_ROLE_NONE},
    {"POST", "/v1/subscriber/report-by-sms", sn_h_sub_report, SN_ROLE_NONE},
    {"GET", "/v1/subscriber/checklist", sn_h_sub_checklist, SN_ROLE_NONE},
    {"PUT", "/v1/profile", sn_h_profile_put, SN_ROLE_APP},
    {"GET", "/v1/profile", sn_h_profile_get, SN_ROLE_APP},
    {"GET", "/v1/complaints", sn_h_complaints_list, SN_ROLE_APP},
    {"POST", "/v1/complaints/{id}/resolve", sn_h_complaint_resolve, SN_ROLE_APP},
    {"GET", "/v1/carrier/complaints", sn_h_complaints_list, SN_ROLE_CARRIER},
    {"POST", "/v1/carrier/complaints/{id}/resolve", sn_h_complaint_resolve, SN_ROLE_CARRIER},
    {"GET", "/v1/admin/complaints", sn_h_complaints_list, SN_ROLE_ADMIN},
    {"POST", "/v1/admin/complaints/{id}/resolve", sn_h_complaint_resolve, SN_ROLE_ADMIN},
};

const size_t sn_nroutes = sizeof(sn_routes) / sizeof(sn_routes[0]);

/*
 * notice_json.h - the one JSON form of a notice, shared by the pull feed,
 * the admin views and webhook bodies (docs/http-api.md, "A notice").
 */
#ifndef SN_NOTICE_JSON_H
#define SN_NOTICE_JSON_H

#include "util/strbuf.h"
#include "store/notices.h"

/* Append n as a JSON object; with_app adds "app" (admin views). now decides
 * open versus overdue. */
void sn_notice_json(sn_strbuf *b, const sn_notice *n, int with_app, int64_t now);

/* Append ,"name":"2026-01-02T03:04:05Z" (UTC), or ,"name":null for t = 0. */
void sn_json_time_field(sn_strbuf *b, const char *name, int64_t t);

/* "open", "acknowledged" or "overdue". */
const char *sn_notice_state(const sn_notice *n, int64_t now);

#endif

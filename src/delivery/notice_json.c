/*
 * notice_json.c - a notice as JSON (see notice_json.h).
 */
#include "delivery/notice_json.h"

#include "core/date.h"

#include <sodium.h>

const char *sn_notice_state(const sn_notice *n, int64_t now)
{
    if (n->outcome != SN_OUTCOME_NONE)
        return "acknowledged";
    return n->deadline > 0 && n->deadline < now ? "overdue" : "open";
}

void sn_json_time_field(sn_strbuf *b, const char *name, int64_t t)
{
    char text[SN_TIME_TEXT_MAX];
    if (t == 0) {
        sn_strbuf_printf(b, ",\"%s\":null", name);
        return;
    }
    sn_utc_format(t, text);
    sn_strbuf_printf(b, ",\"%s\":\"%s\"", name, text);
}

void sn_notice_json(sn_strbuf *b, const sn_notice *n, int with_app, int64_t now)
{
    char number[SN_NUMBER_TEXT_MAX], hash[2 * SN_ACCOUNT_HASH_LEN + 1];
    sn_number_format(n->number, number);
    sn_strbuf_printf(b, "{\"id\":\"%llu\"", (unsigned long long)n->id);
    if (with_app) {
        sn_strbuf_printf(b, ",\"app\":");
        sn_strbuf_string(b, n->app_name);
    }
    sn_strbuf_printf(b, ",\"kind\":\"%s\",\"critical\":%s,\"number\":\"%s\",\"event\":\"%s\"",
                     sn_notice_kind_name(n->kind),
                     n->kind == SN_NOTICE_REASSIGNED ? "true" : "false", number,
                     sn_notice_event_word(n->kind));
    sn_json_time_field(b, "event_at", n->event_at);
    sn_strbuf_printf(b, ",\"tenure\":%u,\"source\":\"%s\",\"account_hash\":", n->tenure,
                     n->source == SN_SOURCE_SUBSCRIPTION ? "subscription" : "binding");
    if (n->has_account) {
        sodium_bin2hex(hash, sizeof(hash), n->account, SN_ACCOUNT_HASH_LEN);
        sn_strbuf_printf(b, "\"%s\"", hash);
    } else {
        sn_strbuf_printf(b, "null");
    }
    sn_json_time_field(b, "created_at", n->created);
    sn_json_time_field(b, "deadline", n->deadline);
    sn_strbuf_printf(b, ",\"state\":\"%s\",\"outcome\":", sn_notice_state(n, now));
    sn_strbuf_string(b, sn_outcome_name(n->outcome));
    sn_strbuf_printf(b, ",\"note\":");
    sn_strbuf_string(b, n->note[0] != '\0' ? n->note : NULL);
    sn_strbuf_printf(b, "}");
}

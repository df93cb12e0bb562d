/*
 * export.c - audit rows into CSV lines or JSON objects (see export.h).
 */
#include "audit/export.h"

#include "core/verdict.h"

#include <sodium.h>
#include <string.h>

const char *sn_audit_verdict_name(uint8_t v)
{
    return v < SN_AUDIT_VERDICTS ? sn_verdict_name((sn_verdict)v) : "error";
}

void sn_audit_day_bounds(sn_day from, sn_day to, int tz_minutes, int64_t *lo, int64_t *hi)
{
    *lo = sn_day_start(from, tz_minutes) * 1000;
    *hi = sn_day_start(to + 1, tz_minutes) * 1000;
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(sn_strbuf *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        sn_strbuf_printf(out, "%s,", s);
        return;
    }
    sn_strbuf_printf(out, "\"");
    for (const char *p = s; *p != '\0'; p++)
        sn_strbuf_printf(out, *p == '"' ? "\"\"" : "%c", *p);
    sn_strbuf_printf(out, "\",");
}

/* One record's own fields: the row's, a batch item's or a group's record. */
typedef struct {
    uint32_t item; /* 0: the row itself */
    int64_t at;
    const char *request;
    const uint8_t *hash; /* NULL: no number */
    sn_day day;
    const char *answer;
} one;

/* One record: the row's shared fields with the record's own. */
static void record(sn_strbuf *out, const sn_audit_row *r, int csv, const one *o)
{
    char hex[2 * SN_AUDIT_HASH_LEN + 1] = "", date[SN_DAY_TEXT_MAX] = "";
    if (o->hash != NULL)
        sodium_bin2hex(hex, sizeof(hex), o->hash, SN_AUDIT_HASH_LEN);
    if (o->day != SN_DAY_NONE)
        sn_day_format(o->day, date);
    if (csv) {
        sn_strbuf_printf(out, "%lld,%u,%lld,", (long long)r->id, o->item, (long long)o->at);
        csv_field(out, r->route);
        sn_strbuf_printf(out, "%s,%d,%s,", r->method, r->status, r->who_kind);
        csv_field(out, r->who);
        csv_field(out, r->app);
        sn_strbuf_printf(out, "%s,%s,%s,", hex, date, o->answer);
        csv_field(out, o->request);
        out->len--; /* the last comma */
        sn_strbuf_printf(out, "\n");
        return;
    }
    sn_strbuf_printf(out, "{\"id\":%lld,\"item\":%u,\"at\":%lld,\"route\":", (long long)r->id,
                     o->item, (long long)o->at);
    sn_strbuf_string(out, r->route);
    sn_strbuf_printf(out,
                     ",\"method\":\"%s\",\"status\":%d,\"who_kind\":\"%s\",\"who\":", r->method,
                     r->status, r->who_kind);
    sn_strbuf_string(out, r->who);
    sn_strbuf_printf(out, ",\"app\":");
    sn_strbuf_string(out, r->app);
    sn_strbuf_printf(out, ",\"number_hash\":");
    sn_strbuf_string(out, o->hash != NULL ? hex : NULL);
    sn_strbuf_printf(out, ",\"date\":");
    sn_strbuf_string(out, o->day != SN_DAY_NONE ? date : NULL);
    sn_strbuf_printf(out, ",\"answer\":\"%s\",\"request\":", o->answer);
    sn_strbuf_string(out, o->request);
    sn_strbuf_printf(out, "}");
}

static void separate(sn_strbuf *out, int csv, const char *sep, int *first)
{
    if (!csv && !*first)
        sn_strbuf_printf(out, "%s", sep);
    *first = 0;
}

size_t sn_audit_export_row(sn_strbuf *out, const sn_audit_row *r, int csv, const char *sep,
                           const uint8_t *only, int *first)
{
    static const uint8_t zero[SN_AUDIT_HASH_LEN] = {0};
    size_t n = 0, pos = 0;
    if (r->items == 0) {
        if (only != NULL && (!r->has_number || memcmp(only, r->number_hash, SN_AUDIT_HASH_LEN)))
            return 0;
        separate(out, csv, sep, first);
        one o = {0, r->at, r->request, r->has_number ? r->number_hash : NULL, r->day, r->answer};
        record(out, r, csv, &o);
        return 1;
    }
    for (uint32_t i = 0; i < r->items; i++) {
        const uint8_t *it = r->item_data + (size_t)i * SN_AUDIT_ITEM_BYTES;
        char request[UINT8_MAX + 1]; /* a meta correlator's length is one byte */
        uint32_t d = 0, off = 0;
        const char *req = r->request;
        size_t len = 0;
        if (r->item_meta != NULL) { /* a group's record: its own time and correlator */
            sn_audit_meta_read(r->item_meta, r->item_meta_len, &pos, &off, &req, &len);
            len = len < sizeof(request) - 1 ? len : sizeof(request) - 1;
            memcpy(request, req, len);
            request[len] = '\0';
            req = request;
        }
        int has = memcmp(it, zero, SN_AUDIT_HASH_LEN) != 0;
        if (only != NULL && (!has || memcmp(only, it, SN_AUDIT_HASH_LEN) != 0))
            continue;
        for (int b = 0; b < 4; b++)
            d |= (uint32_t)it[SN_AUDIT_HASH_LEN + b] << (8 * b);
        separate(out, csv, sep, first);
        uint8_t v = it[SN_AUDIT_HASH_LEN + 4];
        one o = {i + 1,     r->at + off,
                 req,       has ? it : NULL,
                 (sn_day)d, v == SN_AUDIT_NOT_CHECK ? r->answer : sn_audit_verdict_name(v)};
        record(out, r, csv, &o);
        n++;
    }
    return n;
}

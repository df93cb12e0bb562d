/*
 * h_check.c - the check endpoints: CAMARA Number Recycling v0.2, the native
 * check, and the batch check. All answer from the serving index (never the
 * store), with fixed-shape responses written by hand.
 */
#include "http/http.h"

#include "core/errors.h"
#include "core/verdict.h"
#include "http/flatjson.h"

#include <sodium.h>
#include <stdio.h>
#include <time.h>

static sn_day today(const sn_service *svc)
{
    return sn_day_of((int64_t)time(NULL), svc->rules.tz_minutes);
}

/* ---- CAMARA ------------------------------------------------------------ */

void sn_h_camara_check(sn_call *c)
{
    sn_flat_field f[2] = {{"phoneNumber", NULL, 0, 0}, {"specifiedDate", NULL, 0, 0}};
    char scratch[1024], why[SN_ERRMSG_MAX];
    sn_number_state st;
    sn_number n;
    sn_day d;

    if (c->req->entity.len > sizeof(scratch) - 8) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the request body is too long for a check");
        return;
    }
    if (sn_flatjson_parse(c->req->entity.base, c->req->entity.len, f, 2, scratch,
                          sizeof(scratch), why, sizeof(why)) != SN_OK) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", why);
        return;
    }
    if (f[1].value == NULL) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "specifiedDate is required");
        return;
    }
    if (sn_day_parse(f[1].value, f[1].len, &d, why, sizeof(why)) != SN_OK) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "specifiedDate: %s", why);
        return;
    }
    if (f[0].value != NULL && sn_number_parse(f[0].value, f[0].len, 0, &n, why, sizeof(why)) != SN_OK) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "phoneNumber must match ^\\+[1-9][0-9]{4,14}$");
        return;
    }
    if (f[0].value == NULL) {
        sn_reply_error(c, SN_HTTP_MISSING_IDENTIFIER, "The phone number cannot be identified");
        return;
    }
    if (sn_check_day(d, today(c->svc), why, sizeof(why)) != SN_OK) {
        sn_reply_error(c, SN_HTTP_OUT_OF_RANGE, "specifiedDate: %s", why);
        return;
    }
    if (!sn_numindex_get(c->svc->index, n, &st)) {
        sn_reply_error(c, SN_HTTP_IDENTIFIER_NOT_FOUND, "Phone number not found");
        return;
    }
    sn_verdict_reason reason;
    sn_verdict v = sn_verdict_of(&st, d, &reason);
    if (v == SN_VERDICT_UNKNOWN) {
        char first[SN_DAY_TEXT_MAX];
        sn_day_format(st.first_day, first);
        sn_reply_error(c, SN_HTTP_OUT_OF_RANGE, "no data covers specifiedDate: records begin on %s",
                       first);
        return;
    }
    static const char yes[] = "{\"phoneNumberRecycled\":true}";
    static const char no[] = "{\"phoneNumberRecycled\":false}";
    if (v == SN_VERDICT_REASSIGNED)
        sn_reply_json(c, 200, yes, sizeof(yes) - 1);
    else
        sn_reply_json(c, 200, no, sizeof(no) - 1);
}

/* ---- native check -------------------------------------------------------- */

enum { F_NUMBER, F_SHA256, F_MD5, F_DATE, NFIELDS };
static const char *const field_names[NFIELDS] = {"number", "number_sha256", "number_md5", "date"};

/* One check question's outcome: an answer object or an error. */
typedef struct {
    sn_http_error error; /* valid when failed */
    int failed;
    char message[SN_ERRMSG_MAX];
    char json[256]; /* the answer object when not failed */
    size_t json_len;
} check_outcome;

/* Append n bytes of s at *len in dst (callers size dst for the worst case). */
static void put(char *dst, size_t *len, const char *s, size_t n)
{
    memcpy(dst + *len, s, n);
    *len += n;
}
#define PUT_LIT(dst, len, lit) put(dst, len, lit, sizeof(lit) - 1)

static int outcome_fail(check_outcome *o, sn_http_error e, const char *msg)
{
    o->failed = 1;
    o->error = e;
    snprintf(o->message, sizeof(o->message), "%s", msg);
    return 0;
}

/* Hex digest of exactly `bytes` bytes; lowercases into hex_out. */
static int parse_hex(const char *s, size_t len, uint8_t *out, size_t bytes, char *hex_out)
{
    size_t got = 0;
    if (len != bytes * 2 || sodium_hex2bin(out, bytes, s, len, NULL, &got, NULL) != 0 || got != bytes)
        return 0;
    sodium_bin2hex(hex_out, bytes * 2 + 1, out, bytes);
    return 1;
}

/* Answer one native question given as its fields (value NULL when absent). */
static void answer(const sn_service *svc, sn_day day_today, const sn_flat_field *f,
                   check_outcome *o)
{
    char why[SN_ERRMSG_MAX], hex[65], text[SN_NUMBER_TEXT_MAX];
    uint8_t digest[32];
    sn_number_state st;
    sn_number n = 0;
    int known = 1, given = 0;
    sn_day d;

    o->failed = 0;
    for (int i = F_NUMBER; i <= F_MD5; i++)
        given += f[i].value != NULL;
    if (given != 1) {
        outcome_fail(o, SN_HTTP_INVALID_ARGUMENT,
                     "give exactly one of number, number_sha256, number_md5");
        return;
    }
    if (f[F_DATE].value == NULL) {
        outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, "date is required");
        return;
    }
    if (sn_day_parse(f[F_DATE].value, f[F_DATE].len, &d, why, sizeof(why)) != SN_OK) {
        outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, why);
        return;
    }
    if (f[F_NUMBER].value != NULL) {
        if (sn_number_parse(f[F_NUMBER].value, f[F_NUMBER].len, svc->rules.default_cc, &n, why,
                            sizeof(why)) != SN_OK) {
            outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, why);
            return;
        }
        sn_number_format(n, text);
    } else if (f[F_SHA256].value != NULL) {
        if (!parse_hex(f[F_SHA256].value, f[F_SHA256].len, digest, 32, hex)) {
            outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, "number_sha256 must be 64 hex digits");
            return;
        }
        known = sn_numindex_find_sha256(svc->index, digest, &n);
    } else {
        if (!parse_hex(f[F_MD5].value, f[F_MD5].len, digest, 16, hex)) {
            outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, "number_md5 must be 32 hex digits");
            return;
        }
        known = sn_numindex_find_md5(svc->index, digest, &n);
    }
    if (sn_check_day(d, day_today, why, sizeof(why)) != SN_OK) {
        outcome_fail(o, SN_HTTP_OUT_OF_RANGE, why);
        return;
    }
    if (known)
        sn_numindex_get(svc->index, n, &st);
    sn_verdict v = known ? sn_verdict_of(&st, d, NULL) : SN_VERDICT_UNKNOWN;
    char day[SN_DAY_TEXT_MAX];
    const char *word = sn_verdict_name(v);
    size_t len = 0;
    sn_day_format(d, day);
    if (f[F_NUMBER].value != NULL) {
        PUT_LIT(o->json, &len, "{\"number\":\"");
        put(o->json, &len, text, strlen(text));
    } else {
        if (f[F_SHA256].value != NULL)
            PUT_LIT(o->json, &len, "{\"number_sha256\":\"");
        else
            PUT_LIT(o->json, &len, "{\"number_md5\":\"");
        put(o->json, &len, hex, strlen(hex));
    }
    PUT_LIT(o->json, &len, "\",\"date\":\"");
    put(o->json, &len, day, 10);
    PUT_LIT(o->json, &len, "\",\"result\":\"");
    put(o->json, &len, word, strlen(word));
    PUT_LIT(o->json, &len, "\"}");
    o->json_len = len;
}

void sn_h_check(sn_call *c)
{
    sn_flat_field f[NFIELDS];
    char scratch[1024], why[SN_ERRMSG_MAX];
    check_outcome o;

    for (int i = 0; i < NFIELDS; i++)
        f[i] = (sn_flat_field){field_names[i], NULL, 0, 0};
    if (c->req->entity.len > sizeof(scratch) - 8) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the request body is too long for a check");
        return;
    }
    if (sn_flatjson_parse(c->req->entity.base, c->req->entity.len, f, NFIELDS, scratch,
                          sizeof(scratch), why, sizeof(why)) != SN_OK) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", why);
        return;
    }
    answer(c->svc, today(c->svc), f, &o);
    if (o.failed)
        sn_reply_error(c, o.error, "%s", o.message);
    else
        sn_reply_json(c, 200, o.json, o.json_len);
}

/* ---- batch ----------------------------------------------------------------- */

/* Answer one item (the text between start and end) into out at *len. */
static void batch_item(const sn_service *svc, sn_day day_today, const char *start,
                       const char *end, char *out, size_t *len)
{
    sn_flat_field f[NFIELDS];
    char scratch[1024];
    check_outcome o;
    for (int i = 0; i < NFIELDS; i++)
        f[i] = (sn_flat_field){field_names[i], NULL, 0, 0};
    if (*start != '{') {
        outcome_fail(&o, SN_HTTP_INVALID_ARGUMENT, "an item must be an object");
    } else if ((size_t)(end - start) > sizeof(scratch) - 8) {
        outcome_fail(&o, SN_HTTP_INVALID_ARGUMENT, "the item is too long");
    } else if (sn_flatjson_parse(start, (size_t)(end - start), f, NFIELDS, scratch,
                                 sizeof(scratch), o.message, sizeof(o.message)) != SN_OK) {
        o.failed = 1;
        o.error = SN_HTTP_INVALID_ARGUMENT;
    } else {
        answer(svc, day_today, f, &o);
    }
    if (!o.failed) {
        put(out, len, o.json, o.json_len);
        return;
    }
    char esc[600];
    size_t e = sn_json_escape(o.message, strlen(o.message), esc, sizeof(esc));
    const char *code = sn_http_error_code(o.error);
    PUT_LIT(out, len, "{\"error\":{\"code\":\"");
    put(out, len, code, strlen(code));
    PUT_LIT(out, len, "\",\"message\":\"");
    put(out, len, esc, e < sizeof(esc) ? e : sizeof(esc));
    PUT_LIT(out, len, "\"}}");
}

/* Longest answer entry: an error with a fully escaped message. */
#define BATCH_ENTRY_MAX 700

void sn_h_check_batch(sn_call *c)
{
    const char *body = c->req->entity.base;
    sn_flat_span *items = h2o_mem_alloc_pool(&c->req->pool, SN_HTTP_MAX_ITEMS * sizeof(*items));
    size_t n = 0;
    int rc = body == NULL ? SN_EINVAL
                          : sn_flatjson_array(body, c->req->entity.len, "items", items,
                                              SN_HTTP_MAX_ITEMS, SN_HTTP_MAX_JSON_DEPTH - 2, &n);
    if (rc != SN_OK || n == 0) {
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT,
                       "the body must be {\"items\": [...]} with 1 to %d elements, nested at "
                       "most %d deep",
                       SN_HTTP_MAX_ITEMS, SN_HTTP_MAX_JSON_DEPTH);
        return;
    }
    size_t cap = n * BATCH_ENTRY_MAX + 32, len = 0;
    char *out = h2o_mem_alloc_pool(&c->req->pool, cap);
    sn_day day_today = today(c->svc);
    PUT_LIT(out, &len, "{\"results\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[len++] = ',';
        batch_item(c->svc, day_today, items[i].start, items[i].end, out, &len);
    }
    PUT_LIT(out, &len, "]}");
    sn_reply_json(c, 200, out, len);
}

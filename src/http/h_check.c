/*
 * h_check.c - the native checks: POST /v1/check (one question) and
 * /v1/check/batch (up to SN_HTTP_MAX_ITEMS, each answered on its own).
 * Answered from the serving index on the loop thread (checks.h), with
 * fixed-shape responses written by hand: this is the hot path. Each
 * question counts against the key's limits (limits.c): one for a single
 * check, the items of a batch. A question with "receipt": true gets its
 * answer's signed receipt (h_receipts.c) as the answer's "receipt"; in a
 * batch, each item that asks.
 */
#include "http/body.h"
#include "service/checks.h"
#include "crypto/receipt.h"

#include "core/errors.h"
#include "util/metrics.h"

#include <sodium.h>
#include <stdio.h>

enum { F_NUMBER, F_SHA256, F_MD5, F_SM3, F_DATE, F_RECEIPT, NFIELDS };
#define KEY_MAX 96 /* {"number_sha256":"<64 hex> with its NUL */
static const char *const field_names[NFIELDS] = {"number",     "number_sha256", "number_md5",
                                                 "number_sm3", "date",          "receipt"};

/* The digest fields: which question each asks, its bytes, its message. */
static const struct {
    int field;
    uint8_t by;
    size_t bytes;
    const char *bad;
} digests[] = {
    {F_SHA256, SN_CHECK_SHA256, 32, "number_sha256 must be 64 hex digits"},
    {F_MD5, SN_CHECK_MD5, 16, "number_md5 must be 32 hex digits"},
    {F_SM3, SN_CHECK_SM3, 32, "number_sm3 must be 64 hex digits"},
};

/* One question's outcome: an answer object or an error. */
typedef struct {
    sn_http_error error; /* valid when failed */
    int failed;
    char message[SN_ERRMSG_MAX];
    char json[256 + SN_RECEIPT_MAX]; /* the answer object when not failed */
    size_t json_len;
    int verdict;          /* sn_verdict, or SN_METRICS_VERDICT_INVALID (the metrics) */
    int hashed;           /* asked by digest */
    const char *asked_by; /* the question's name of its number (a field name) */
    char asked[65];       /* and the number as read: E.164 or lowercase hex */
    sn_audit_item audit;  /* the question for the audit trail */
} check_outcome;

/* Count a question answered (or refused) for the metrics. */
static void count_check(const sn_call *c, const check_outcome *o)
{
    sn_metrics_count_checks(c->who.app, o->hashed ? SN_METRICS_API_HASHED : SN_METRICS_API_NATIVE,
                            o->verdict, 1);
}

/* Append n bytes of s at *len in dst (callers size dst for the worst case). */
static void put(char *dst, size_t *len, const char *s, size_t n)
{
    memcpy(dst + *len, s, n);
    *len += n;
}
#define PUT_LIT(dst, len, lit) put(dst, len, lit, sizeof(lit) - 1)

/* Record an error answer; returns 0. */
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
    if (len != bytes * 2 || sodium_hex2bin(out, bytes, s, len, NULL, &got, NULL) != 0 ||
        got != bytes)
        return 0;
    sodium_bin2hex(hex_out, bytes * 2 + 1, out, bytes);
    return 1;
}

/* The last date a batch's item asked and its day: a batch's items mostly
 * ask for one date, and parsing it was 3-4% of a batch's samples. */
typedef struct {
    char text[SN_DAY_TEXT_MAX];
    size_t len; /* 0: none yet */
    sn_day day;
} day_memo;

/* The date of f into *day (through memo, when not NULL): 0 after recording
 * the error in o. */
static int day_of(const sn_flat_field *f, day_memo *memo, sn_day *day, check_outcome *o)
{
    char why[SN_ERRMSG_MAX];
    if (memo != NULL && memo->len > 0 && f[F_DATE].len == memo->len &&
        memcmp(f[F_DATE].value, memo->text, memo->len) == 0) {
        *day = memo->day;
        return 1;
    }
    if (sn_day_parse(f[F_DATE].value, f[F_DATE].len, day, why, sizeof(why)) != SN_OK)
        return outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, why);
    if (memo != NULL && f[F_DATE].len < sizeof(memo->text)) {
        memcpy(memo->text, f[F_DATE].value, f[F_DATE].len);
        memo->len = f[F_DATE].len;
        memo->day = *day;
    }
    return 1;
}

/* The question of f (values NULL when absent) into q, and the text that
 * names its number in the answer (*klen bytes of key; written by hand, as
 * the whole answer is: snprintf per item was a tenth of a batch's time);
 * 0 after recording the error in o. */
static int question_of(const sn_service *svc, const sn_flat_field *f, day_memo *memo,
                       sn_check_question *q, char key[KEY_MAX], size_t *klen, check_outcome *o)
{
    char why[SN_ERRMSG_MAX], hex[65], text[SN_NUMBER_TEXT_MAX];
    int given = (f[F_NUMBER].value != NULL) + (f[F_SHA256].value != NULL) +
                (f[F_MD5].value != NULL) + (f[F_SM3].value != NULL);
    memset(q, 0, sizeof(*q));
    if (given != 1)
        return outcome_fail(o, SN_HTTP_INVALID_ARGUMENT,
                            "give exactly one of number, number_sha256, number_md5, number_sm3");
    if (f[F_DATE].value == NULL)
        return outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, "date is required");
    if (!day_of(f, memo, &q->day, o))
        return 0;
    if (f[F_NUMBER].value != NULL) {
        if (sn_number_parse(f[F_NUMBER].value, f[F_NUMBER].len, svc->rules.default_cc, &q->number,
                            why, sizeof(why)) != SN_OK)
            return outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, why);
        size_t n = sn_number_format(q->number, text);
        o->asked_by = field_names[F_NUMBER];
        memcpy(o->asked, text, n + 1);
        *klen = 0;
        PUT_LIT(key, klen, "{\"number\":\"");
        put(key, klen, text, n);
        return 1;
    }
    size_t k = 0;
    while (f[digests[k].field].value == NULL)
        k++; /* one of them is given */
    const sn_flat_field *d = &f[digests[k].field];
    q->by = digests[k].by;
    if (!parse_hex(d->value, d->len, q->digest, digests[k].bytes, hex))
        return outcome_fail(o, SN_HTTP_INVALID_ARGUMENT, digests[k].bad);
    o->asked_by = d->name;
    memcpy(o->asked, hex, 2 * digests[k].bytes + 1);
    *klen = 0;
    PUT_LIT(key, klen, "{\"");
    put(key, klen, d->name, strlen(d->name));
    PUT_LIT(key, klen, "\":\"");
    put(key, klen, hex, 2 * digests[k].bytes);
    return 1;
}

/* Append ,"receipt":{...} for the answer of q to o's answer (before its
 * closing brace): 1, or 0 after recording the error in o. */
static int add_receipt(const sn_call *c, const sn_check_question *q, check_outcome *o, size_t *len)
{
    size_t n = 0;
    PUT_LIT(o->json, len, "\",\"receipt\":");
    int rc = sn_call_receipt(c, "check", o->asked_by, o->asked, q->day, (sn_verdict)o->verdict,
                             o->json + *len, sizeof(o->json) - *len - 2, &n);
    if (rc == SN_EUNAVAILABLE)
        return outcome_fail(o, SN_HTTP_UNAVAILABLE, SN_RECEIPTS_OFF);
    if (rc != SN_OK)
        return outcome_fail(o, SN_HTTP_INTERNAL, "the receipt could not be signed");
    *len += n;
    return 1;
}

/* Answer one question given as its fields. */
static void answer(const sn_call *c, sn_day today, const sn_flat_field *f, day_memo *memo,
                   check_outcome *o)
{
    const sn_service *svc = c->svc;
    sn_check_question q;
    sn_check_answer a;
    char key[KEY_MAX], why[SN_ERRMSG_MAX];
    size_t klen;
    o->failed = 0;
    o->hashed = f[F_SHA256].value != NULL || f[F_MD5].value != NULL || f[F_SM3].value != NULL;
    if (!question_of(svc, f, memo, &q, key, &klen, o))
        return;
    o->audit.has_number = q.by == SN_CHECK_NUMBER;
    o->audit.number = q.number;
    o->audit.day = q.day;
    if (c->svc->receipts == NULL && f[F_RECEIPT].value != NULL && f[F_RECEIPT].value[0] == 't') {
        outcome_fail(o, SN_HTTP_UNAVAILABLE, SN_RECEIPTS_OFF);
        return;
    }
    int rc = sn_check(svc, today, &q, &a, why, sizeof(why));
    if (rc != SN_OK) {
        outcome_fail(o, rc == SN_ECONFIG ? SN_HTTP_SERVICE_NOT_APPLICABLE : SN_HTTP_OUT_OF_RANGE,
                     why);
        return;
    }
    o->verdict = (int)a.verdict;
    o->audit.verdict = (int8_t)a.verdict;
    const char *word = sn_verdict_name(a.verdict);
    size_t len = 0;
    put(o->json, &len, key, klen);
    PUT_LIT(o->json, &len, "\",\"date\":\"");
    /* the date as asked: sn_day_parse took exactly YYYY-MM-DD, which is
     * what formatting q.day would write again */
    put(o->json, &len, f[F_DATE].value, SN_DAY_TEXT_MAX - 1);
    PUT_LIT(o->json, &len, "\",\"result\":\"");
    put(o->json, &len, word, strlen(word));
    if (f[F_RECEIPT].value != NULL && f[F_RECEIPT].value[0] == 't') {
        if (!add_receipt(c, &q, o, &len))
            return;
        PUT_LIT(o->json, &len, "}");
    } else {
        PUT_LIT(o->json, &len, "\"}");
    }
    o->json_len = len;
}

static void init_fields(sn_flat_field *f)
{
    for (int i = 0; i < NFIELDS; i++)
        f[i] = (sn_flat_field){field_names[i], NULL, 0, i == F_RECEIPT};
}

void sn_h_check(sn_call *c)
{
    sn_flat_field f[NFIELDS];
    char scratch[1024], why[SN_ERRMSG_MAX];
    check_outcome o;
    o.verdict = SN_METRICS_VERDICT_INVALID;
    o.hashed = 0;
    o.audit = (sn_audit_item){0, SN_DAY_NONE, -1, 0};
    init_fields(f);
    if (!sn_call_count_checks(c, 1))
        return;
    if (c->req->entity.len > sizeof(scratch) - 8) {
        count_check(c, &o);
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "the request body is too long for a check");
        return;
    }
    if (sn_flatjson_parse(c->req->entity.base, c->req->entity.len, f, NFIELDS, scratch,
                          sizeof(scratch), why, sizeof(why)) != SN_OK) {
        count_check(c, &o);
        sn_reply_error(c, SN_HTTP_INVALID_ARGUMENT, "%s", why);
        return;
    }
    answer(c, sn_check_today(c->svc), f, NULL, &o);
    count_check(c, &o);
    sn_call_audit_check(c, o.audit.has_number, o.audit.number, o.audit.day,
                        o.failed ? -1 : o.audit.verdict);
    if (o.failed)
        sn_reply_error(c, o.error, "%s", o.message);
    else
        sn_reply_json(c, 200, o.json, o.json_len);
}

/* Answer one item (the text between start and end) into out at *len. */
/* A batch's checks for the metrics, counted once per kind at its end (one
 * look-up of the app, not one per item): [hashed][verdict]. */
typedef uint64_t batch_counts[2][SN_METRICS_VERDICTS];

static void batch_item(const sn_call *c, sn_day today, day_memo *memo, const char *start,
                       const char *end, char *out, size_t *len, batch_counts counts,
                       sn_audit_item *item)
{
    sn_flat_field f[NFIELDS];
    char scratch[1024];
    check_outcome o;
    o.verdict = SN_METRICS_VERDICT_INVALID;
    o.hashed = 0;
    o.audit = (sn_audit_item){0, SN_DAY_NONE, -1, 0};
    init_fields(f);
    if (*start != '{')
        outcome_fail(&o, SN_HTTP_INVALID_ARGUMENT, "an item must be an object");
    else if ((size_t)(end - start) > sizeof(scratch) - 8)
        outcome_fail(&o, SN_HTTP_INVALID_ARGUMENT, "the item is too long");
    else if (sn_flatjson_parse(start, (size_t)(end - start), f, NFIELDS, scratch, sizeof(scratch),
                               o.message, sizeof(o.message)) != SN_OK)
        o.failed = 1, o.error = SN_HTTP_INVALID_ARGUMENT;
    else
        answer(c, today, f, memo, &o);
    counts[o.hashed][o.verdict]++;
    *item = o.audit;
    if (o.failed)
        item->verdict = -1;
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

/* Items that may ask for a receipt: at most the times "receipt" is in the
 * body (the answers' room; a body that never names it costs one scan). */
static size_t receipts_asked(const char *body, size_t len)
{
    static const char name[] = "\"receipt\"";
    size_t k = 0;
    const char *p = body, *end = body + len, *hit;
    while ((hit = memmem(p, (size_t)(end - p), name, sizeof(name) - 1)) != NULL) {
        k++;
        p = hit + sizeof(name) - 1;
    }
    return k;
}

void sn_h_check_batch(sn_call *c)
{
    sn_flat_span *items;
    size_t n;
    if (!sn_body_items(c, "items", SN_HTTP_MAX_ITEMS, &items, &n) || !sn_call_count_checks(c, n))
        return; /* a batch counts its items, valid or not */
    size_t asked = receipts_asked(c->req->entity.base, c->req->entity.len);
    size_t cap = n * BATCH_ENTRY_MAX + (asked < n ? asked : n) * SN_RECEIPT_MAX + 32, len = 0;
    char *out = h2o_mem_alloc_pool(&c->req->pool, cap);
    sn_day today = sn_check_today(c->svc);
    batch_counts counts = {{0}};
    day_memo memo = {.len = 0};
    c->audit.items = h2o_mem_alloc_pool(&c->req->pool, n * sizeof(sn_audit_item) + 1);
    c->audit.nitems = (uint32_t)n;
    PUT_LIT(out, &len, "{\"results\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[len++] = ',';
        batch_item(c, today, &memo, items[i].start, items[i].end, out, &len, counts,
                   &c->audit.items[i]);
    }
    for (int h = 0; h < 2; h++)
        for (int v = 0; v < SN_METRICS_VERDICTS; v++)
            if (counts[h][v] > 0)
                sn_metrics_count_checks(
                    c->who.app, h ? SN_METRICS_API_HASHED : SN_METRICS_API_BATCH, v, counts[h][v]);
    PUT_LIT(out, &len, "]}");
    sn_reply_json(c, 200, out, len);
}

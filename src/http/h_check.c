/*
 * h_check.c - the native checks: POST /v1/check (one question) and
 * /v1/check/batch (up to SN_HTTP_MAX_ITEMS, each answered on its own).
 * Answered from the serving index on the loop thread (checks.h), with
 * fixed-shape responses written by hand: this is the hot path. A request
 * goes in three passes: every item read into a question (or refused), the
 * questions answered together (sn_check_many: a batch's index lookups
 * overlap), then the answers written in the items' order. Each question
 * counts against the key's limits (limits.c): one for a single check, the
 * items of a batch. A question with "receipt": true gets its answer's
 * signed receipt (h_receipts.c) as the answer's "receipt"; in a batch,
 * each item that asks.
 */
#include "http/body.h"
#include "service/checks.h"
#include "crypto/receipt.h"

#include "core/errors.h"
#include "util/metrics.h"

#include <sodium.h>
#include <stdio.h>

enum { F_NUMBER, F_SHA256, F_MD5, F_SM3, F_DATE, F_RECEIPT, NFIELDS };
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

/* An item besides its question: how it asked, or why it was refused
 * before it was a question (its check item's rc is then SN_EINVAL). */
typedef struct {
    uint8_t hashed;      /* asked by digest */
    uint8_t receipt;     /* "receipt": true */
    uint8_t asked;       /* its question was read (it->q whole) */
    uint8_t refused;     /* error and message say why */
    sn_http_error error; /* when refused */
    const char *message; /* when refused: in the request's pool */
} item_how;

/* Append n bytes of s at *len in dst (callers size dst for the worst case). */
static void put(char *dst, size_t *len, const char *s, size_t n)
{
    memcpy(dst + *len, s, n);
    *len += n;
}
#define PUT_LIT(dst, len, lit) put(dst, len, lit, sizeof(lit) - 1)

/* Refuse an item: returns 0. */
static int refuse(sn_call *c, item_how *how, sn_http_error e, const char *msg)
{
    how->refused = 1;
    how->error = e;
    how->message = h2o_strdup(&c->req->pool, msg, SIZE_MAX).base;
    return 0;
}

/* Hex digest of exactly `bytes` bytes into out. */
static int parse_hex(const char *s, size_t len, uint8_t *out, size_t bytes)
{
    size_t got = 0;
    return len == bytes * 2 && sodium_hex2bin(out, bytes, s, len, NULL, &got, NULL) == 0 &&
           got == bytes;
}

/* The last date an item asked and its day: a batch's items mostly ask for
 * one date, and parsing it was 3-4% of a batch's samples. */
typedef struct {
    char text[SN_DAY_TEXT_MAX];
    size_t len; /* 0: none yet */
    sn_day day;
} day_memo;

/* The question of f (values NULL when absent) into q: 1, or 0 after
 * refusing the item. */
static int question_of(sn_call *c, const sn_flat_field *f, day_memo *memo, sn_check_question *q,
                       item_how *how)
{
    char why[SN_ERRMSG_MAX];
    int given = (f[F_NUMBER].value != NULL) + (f[F_SHA256].value != NULL) +
                (f[F_MD5].value != NULL) + (f[F_SM3].value != NULL);
    memset(q, 0, sizeof(*q));
    how->hashed = given > (f[F_NUMBER].value != NULL); /* a digest field is there */
    if (given != 1)
        return refuse(c, how, SN_HTTP_INVALID_ARGUMENT,
                      "give exactly one of number, number_sha256, number_md5, number_sm3");
    if (f[F_DATE].value == NULL)
        return refuse(c, how, SN_HTTP_INVALID_ARGUMENT, "date is required");
    const sn_flat_field *d = &f[F_DATE];
    if (memo->len > 0 && d->len == memo->len && memcmp(d->value, memo->text, memo->len) == 0) {
        q->day = memo->day;
    } else if (sn_day_parse(d->value, d->len, &q->day, why, sizeof(why)) != SN_OK) {
        return refuse(c, how, SN_HTTP_INVALID_ARGUMENT, why);
    } else if (d->len < sizeof(memo->text)) {
        memcpy(memo->text, d->value, d->len);
        memo->len = d->len;
        memo->day = q->day;
    }
    if (f[F_NUMBER].value != NULL) {
        if (sn_number_parse(f[F_NUMBER].value, f[F_NUMBER].len, c->svc->rules.default_cc,
                            &q->number, why, sizeof(why)) != SN_OK)
            return refuse(c, how, SN_HTTP_INVALID_ARGUMENT, why);
        return 1;
    }
    size_t k = 0;
    while (f[digests[k].field].value == NULL)
        k++; /* one of them is given */
    q->by = digests[k].by;
    if (!parse_hex(f[digests[k].field].value, f[digests[k].field].len, q->digest, digests[k].bytes))
        return refuse(c, how, SN_HTTP_INVALID_ARGUMENT, digests[k].bad);
    return 1;
}

static void init_fields(sn_flat_field *f)
{
    for (int i = 0; i < NFIELDS; i++)
        f[i] = (sn_flat_field){field_names[i], NULL, 0, i == F_RECEIPT};
}

/* An item's question from its fields into it and how (the first pass). */
static void read_fields(sn_call *c, const sn_flat_field *f, day_memo *memo, sn_check_item *it,
                        item_how *how)
{
    if (!question_of(c, f, memo, &it->q, how))
        return;
    how->asked = 1;
    how->receipt = f[F_RECEIPT].value != NULL && f[F_RECEIPT].value[0] == 't';
    if (how->receipt && c->svc->receipts == NULL)
        refuse(c, how, SN_HTTP_UNAVAILABLE, SN_RECEIPTS_OFF);
    else
        it->rc = SN_OK;
}

/* Read a body (a single check's: whole, else a batch item's) of len bytes
 * at text into it and how. */
static void read_item(sn_call *c, const char *text, size_t len, int whole, day_memo *memo,
                      sn_check_item *it, item_how *how)
{
    sn_flat_field f[NFIELDS];
    char scratch[1024], why[SN_ERRMSG_MAX];
    memset(how, 0, sizeof(*how));
    memset(&it->q, 0, sizeof(it->q));
    it->rc = SN_EINVAL;
    init_fields(f);
    if (!whole && *text != '{')
        refuse(c, how, SN_HTTP_INVALID_ARGUMENT, "an item must be an object");
    else if (len > sizeof(scratch) - 8)
        refuse(c, how, SN_HTTP_INVALID_ARGUMENT,
               whole ? "the request body is too long for a check" : "the item is too long");
    else if (sn_flatjson_parse(text, len, f, NFIELDS, scratch, sizeof(scratch), why, sizeof(why)) !=
             SN_OK)
        refuse(c, how, SN_HTTP_INVALID_ARGUMENT, why);
    else
        read_fields(c, f, memo, it, how);
}

/* The field that named q's number, and the number as the answer repeats
 * it into asked (E.164, or the digest in lowercase hex), *n bytes. */
static const char *asked_of(const sn_check_question *q, char asked[65], size_t *n)
{
    if (q->by == SN_CHECK_NUMBER) {
        *n = sn_number_format(q->number, asked);
        return field_names[F_NUMBER];
    }
    size_t k = 0;
    while (digests[k].by != q->by)
        k++;
    sodium_bin2hex(asked, 65, q->digest, digests[k].bytes);
    *n = 2 * digests[k].bytes;
    return field_names[digests[k].field];
}

/* The text of the last day an answer wrote: formatted once a batch. */
typedef struct {
    sn_day day;
    char text[SN_DAY_TEXT_MAX];
    size_t len;
} day_text;

/* The answer object of an answered item into out at *len (room: an entry
 * and, when it asks, a receipt; cap the most *len may reach): 1, or 0
 * with the error that replaces it (*len unchanged). */
static int write_answer(const sn_call *c, const sn_check_item *it, const item_how *how,
                        day_text *dt, char *out, size_t *len, size_t cap, sn_http_error *error,
                        const char **message)
{
    char asked[65];
    size_t n, at = *len;
    const char *by = asked_of(&it->q, asked, &n);
    const char *word = sn_verdict_name(it->a.verdict);
    if (dt->day != it->q.day) {
        dt->len = sn_day_format(it->q.day, dt->text);
        dt->day = it->q.day;
    }
    PUT_LIT(out, &at, "{\"");
    put(out, &at, by, strlen(by));
    PUT_LIT(out, &at, "\":\"");
    put(out, &at, asked, n);
    PUT_LIT(out, &at, "\",\"date\":\"");
    put(out, &at, dt->text, dt->len);
    PUT_LIT(out, &at, "\",\"result\":\"");
    put(out, &at, word, strlen(word));
    if (!how->receipt) {
        PUT_LIT(out, &at, "\"}");
        *len = at;
        return 1;
    }
    PUT_LIT(out, &at, "\",\"receipt\":");
    size_t r = 0;
    int rc = sn_call_receipt(c, "check", by, asked, it->q.day, it->a.verdict, out + at,
                             cap - at - 1, &r);
    if (rc != SN_OK) {
        *error = rc == SN_EUNAVAILABLE ? SN_HTTP_UNAVAILABLE : SN_HTTP_INTERNAL;
        *message = rc == SN_EUNAVAILABLE ? SN_RECEIPTS_OFF : "the receipt could not be signed";
        return 0;
    }
    at += r;
    PUT_LIT(out, &at, "}");
    *len = at;
    return 1;
}

/* Why an item has no answer: its refusal, or what sn_check says of it. */
static void why_not(const sn_call *c, sn_day today, const sn_check_item *it, const item_how *how,
                    sn_http_error *error, const char **message, char *buf, size_t buflen)
{
    sn_check_answer a;
    if (how->refused) {
        *error = how->error;
        *message = how->message;
        return;
    }
    int rc = sn_check(c->svc, today, &it->q, &a, buf, buflen);
    *error = rc == SN_ECONFIG ? SN_HTTP_SERVICE_NOT_APPLICABLE : SN_HTTP_OUT_OF_RANGE;
    *message = rc == SN_OK ? "the question could not be answered; ask again" : buf;
}

/* The audit trail's item for an item, answered (1) or with an error. */
static sn_audit_item audit_of(const sn_check_item *it, const item_how *how, int answered)
{
    if (!how->asked)
        return (sn_audit_item){0, SN_DAY_NONE, -1, 0};
    return (sn_audit_item){it->q.number, it->q.day, answered ? (int8_t)it->a.verdict : -1,
                           it->q.by == SN_CHECK_NUMBER};
}

/* The metrics' verdict of an item: SN_METRICS_VERDICT_INVALID when it has
 * no answer. */
static int counted_verdict(const sn_check_item *it)
{
    return it->rc == SN_OK ? (int)it->a.verdict : SN_METRICS_VERDICT_INVALID;
}

void sn_h_check(sn_call *c)
{
    sn_check_item it;
    item_how how;
    day_memo memo = {.len = 0};
    day_text dt = {.day = SN_DAY_NONE};
    char out[256 + SN_RECEIPT_MAX], why[SN_ERRMSG_MAX];
    const char *message;
    sn_http_error error;
    size_t len = 0;
    if (!sn_call_count_checks(c, 1))
        return;
    sn_day today = sn_check_today(c->svc);
    read_item(c, c->req->entity.base, c->req->entity.len, 1, &memo, &it, &how);
    sn_check_many(c->svc, today, &it, 1);
    sn_metrics_count_checks(c->who.app, how.hashed ? SN_METRICS_API_HASHED : SN_METRICS_API_NATIVE,
                            counted_verdict(&it), 1);
    int answered =
        it.rc == SN_OK && write_answer(c, &it, &how, &dt, out, &len, sizeof(out), &error, &message);
    sn_audit_item a = audit_of(&it, &how, answered);
    sn_call_audit_check(c, a.has_number, a.number, a.day, a.verdict);
    if (answered) {
        sn_reply_json(c, 200, out, len);
        return;
    }
    if (it.rc != SN_OK)
        why_not(c, today, &it, &how, &error, &message, why, sizeof(why));
    sn_reply_error(c, error, "%s", message);
}

/* A batch's checks for the metrics, counted once per kind at its end (one
 * look-up of the app, not one per item): [hashed][verdict]. */
typedef uint64_t batch_counts[2][SN_METRICS_VERDICTS];

/* Longest answer entry: an error with a fully escaped message. */
#define BATCH_ENTRY_MAX 700

/* An error entry of a batch's answer into out at *len. */
static void write_error(char *out, size_t *len, sn_http_error error, const char *message)
{
    char esc[600];
    size_t e = sn_json_escape(message, strlen(message), esc, sizeof(esc));
    const char *code = sn_http_error_code(error);
    PUT_LIT(out, len, "{\"error\":{\"code\":\"");
    put(out, len, code, strlen(code));
    PUT_LIT(out, len, "\",\"message\":\"");
    put(out, len, esc, e < sizeof(esc) ? e : sizeof(esc));
    PUT_LIT(out, len, "\"}}");
}

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
    sn_flat_span *spans;
    size_t n;
    if (!sn_body_items(c, "items", SN_HTTP_MAX_ITEMS, &spans, &n) || !sn_call_count_checks(c, n))
        return; /* a batch counts its items, valid or not */
    size_t asked = receipts_asked(c->req->entity.base, c->req->entity.len);
    size_t cap = n * BATCH_ENTRY_MAX + (asked < n ? asked : n) * SN_RECEIPT_MAX + 32, len = 0;
    char *out = h2o_mem_alloc_pool(&c->req->pool, cap);
    sn_check_item *items = h2o_mem_alloc_pool(&c->req->pool, (n + 1) * sizeof(*items));
    item_how *hows = h2o_mem_alloc_pool(&c->req->pool, (n + 1) * sizeof(*hows));
    sn_day today = sn_check_today(c->svc);
    batch_counts counts = {{0}};
    day_memo memo = {.len = 0};
    day_text dt = {.day = SN_DAY_NONE};
    char why[SN_ERRMSG_MAX];
    for (size_t i = 0; i < n; i++)
        read_item(c, spans[i].start, (size_t)(spans[i].end - spans[i].start), 0, &memo, &items[i],
                  &hows[i]);
    sn_check_many(c->svc, today, items, n);
    c->audit.items = h2o_mem_alloc_pool(&c->req->pool, n * sizeof(sn_audit_item) + 1);
    c->audit.nitems = (uint32_t)n;
    PUT_LIT(out, &len, "{\"results\":[");
    for (size_t i = 0; i < n; i++) {
        const char *message;
        sn_http_error error;
        if (i > 0)
            out[len++] = ',';
        counts[hows[i].hashed][counted_verdict(&items[i])]++;
        int answered = items[i].rc == SN_OK &&
                       write_answer(c, &items[i], &hows[i], &dt, out, &len, cap, &error, &message);
        c->audit.items[i] = audit_of(&items[i], &hows[i], answered);
        if (answered)
            continue;
        if (items[i].rc != SN_OK)
            why_not(c, today, &items[i], &hows[i], &error, &message, why, sizeof(why));
        write_error(out, &len, error, message);
    }
    for (int h = 0; h < 2; h++)
        for (int v = 0; v < SN_METRICS_VERDICTS; v++)
            if (counts[h][v] > 0)
                sn_metrics_count_checks(
                    c->who.app, h ? SN_METRICS_API_HASHED : SN_METRICS_API_BATCH, v, counts[h][v]);
    PUT_LIT(out, &len, "]}");
    sn_reply_json(c, 200, out, len);
}

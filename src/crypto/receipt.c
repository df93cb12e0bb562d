/*
 * receipt.c - the canonical encoding of a check's receipt, its Ed25519
 * signature, and its verification against a keys document (receipt.h).
 * Verification reads the receipt's members by name and encodes them again
 * with the one encoder, so the bytes checked are exactly the bytes signed.
 */
#include "crypto/receipt.h"

#include "core/errors.h"
#include "util/strbuf.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* A bounded writer: overflow is remembered, not written. */
typedef struct {
    char *out;
    size_t cap, len;
    int over;
} enc;

static void put(enc *e, const char *s, size_t n)
{
    if (e->over || e->len + n >= e->cap) {
        e->over = 1;
        return;
    }
    memcpy(e->out + e->len, s, n);
    e->len += n;
}

static void put_lit(enc *e, const char *s)
{
    put(e, s, strlen(s));
}

/* ,"name":"value" (the comma left out for the first member). */
static void put_str(enc *e, const char *name, const char *value)
{
    char esc[6 * SN_RECEIPT_CREDENTIAL_MAX];
    size_t n = sn_json_escape(value, strlen(value), esc, sizeof(esc));
    put_lit(e, e->len > 1 ? ",\"" : "\"");
    put_lit(e, name);
    put_lit(e, "\":\"");
    put(e, esc, n < sizeof(esc) ? n : sizeof(esc));
    put_lit(e, "\"");
}

static void put_int(enc *e, const char *name, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    put_lit(e, ",\"");
    put_lit(e, name);
    put_lit(e, "\":");
    put(e, num, (size_t)n);
}

/* The members before the closing brace. */
static void encode_members(enc *e, const sn_receipt *r)
{
    put_lit(e, "{");
    put_str(e, "format", SN_RECEIPT_FORMAT);
    put_str(e, "api", r->api);
    put_str(e, r->question, r->asked);
    put_str(e, "date", r->date);
    put_str(e, "result", r->result);
    put_str(e, "answered_at", r->answered_at);
    put_str(e, "app", r->app);
    put_str(e, "credential", r->credential);
    put_int(e, "as_of", r->as_of);
    put_int(e, "key_id", r->key_id);
}

int sn_receipt_encode(const sn_receipt *r, char *out, size_t cap, size_t *len)
{
    enc e = {out, cap, 0, 0};
    encode_members(&e, r);
    put_lit(&e, "}");
    if (e.over)
        return SN_ELIMIT;
    out[e.len] = '\0';
    *len = e.len;
    return SN_OK;
}

int sn_receipt_sign(const sn_receipt *r, const uint8_t *sk, char *out, size_t cap, size_t *len)
{
    uint8_t sig[SN_RECEIPT_SIG_LEN];
    char text[SN_RECEIPT_SIG_TEXT_MAX];
    size_t n;
    if (sn_receipt_encode(r, out, cap, &n) != SN_OK)
        return SN_ELIMIT;
    crypto_sign_detached(sig, NULL, (const unsigned char *)out, n, sk);
    sodium_bin2base64(text, sizeof(text), sig, sizeof(sig),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    enc e = {out, cap, n - 1, 0}; /* over the closing brace */
    put_lit(&e, ",\"signature\":\"");
    put_lit(&e, text);
    put_lit(&e, "\"}");
    if (e.over)
        return SN_ELIMIT;
    out[e.len] = '\0';
    *len = e.len;
    return SN_OK;
}

void sn_receipt_pk_text(const uint8_t pk[SN_RECEIPT_PK_LEN], char out[SN_RECEIPT_PK_TEXT_MAX])
{
    sodium_bin2base64(out, SN_RECEIPT_PK_TEXT_MAX, pk, SN_RECEIPT_PK_LEN,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* ---- reading ---------------------------------------------------------------- */

#define NMEMBERS 11 /* the canonical ten and the signature */

static int invalid(char *why, size_t whylen, const char *fmt, const char *arg)
{
    snprintf(why, whylen, fmt, arg);
    return SN_EINVAL;
}

/* A string member into dst (cap bytes with its NUL). */
static int take_str(json_t *o, const char *name, char *dst, size_t cap, char *why, size_t whylen)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL)
        return invalid(why, whylen, "the receipt has no \"%s\"", name);
    if (!json_is_string(v))
        return invalid(why, whylen, "the receipt's \"%s\" is not a string", name);
    if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
        return invalid(why, whylen, "the receipt's \"%s\" is too long", name);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return SN_OK;
}

static int take_int(json_t *o, const char *name, uint64_t max, uint64_t *dst, char *why,
                    size_t whylen)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL)
        return invalid(why, whylen, "the receipt has no \"%s\"", name);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return invalid(why, whylen, "the receipt's \"%s\" is not a key id or position", name);
    *dst = (uint64_t)json_integer_value(v);
    return SN_OK;
}

/* Which question the receipt answers: exactly one of the four names. */
static int take_question(json_t *o, sn_receipt *r, char *why, size_t whylen)
{
    static const char *const names[] = {"number", "number_sha256", "number_md5", "number_sm3"};
    int found = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (json_object_get(o, names[i]) != NULL) {
            found++;
            snprintf(r->question, sizeof(r->question), "%s", names[i]);
        }
    if (found != 1)
        return invalid(why, whylen, "%s",
                       "the receipt must name its number by exactly one of number, "
                       "number_sha256, number_md5, number_sm3");
    return take_str(o, r->question, r->asked, sizeof(r->asked), why, whylen);
}

static int take_signature(json_t *o, uint8_t sig[SN_RECEIPT_SIG_LEN], char *why, size_t whylen)
{
    char text[SN_RECEIPT_SIG_TEXT_MAX];
    size_t got = 0;
    int rc = take_str(o, "signature", text, sizeof(text), why, whylen);
    if (rc != SN_OK)
        return rc;
    if (sodium_base642bin(sig, SN_RECEIPT_SIG_LEN, text, strlen(text), NULL, &got, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        got != SN_RECEIPT_SIG_LEN)
        return invalid(why, whylen, "%s",
                       "the receipt's signature is not 64 bytes of base64url (no padding)");
    return SN_OK;
}

static int take_members(json_t *o, sn_receipt *r, uint8_t *sig, char *why, size_t whylen)
{
    char format[32];
    uint64_t key = 0;
    int rc;
    if ((rc = take_str(o, "format", format, sizeof(format), why, whylen)) != SN_OK)
        return rc;
    if (strcmp(format, SN_RECEIPT_FORMAT) != 0)
        return invalid(why, whylen, "the receipt's format is not %s", SN_RECEIPT_FORMAT);
    if ((rc = take_str(o, "api", r->api, sizeof(r->api), why, whylen)) != SN_OK ||
        (rc = take_question(o, r, why, whylen)) != SN_OK ||
        (rc = take_str(o, "date", r->date, sizeof(r->date), why, whylen)) != SN_OK ||
        (rc = take_str(o, "result", r->result, sizeof(r->result), why, whylen)) != SN_OK ||
        (rc = take_str(o, "answered_at", r->answered_at, sizeof(r->answered_at), why, whylen)) !=
            SN_OK ||
        (rc = take_str(o, "app", r->app, sizeof(r->app), why, whylen)) != SN_OK ||
        (rc = take_str(o, "credential", r->credential, sizeof(r->credential), why, whylen)) !=
            SN_OK ||
        (rc = take_int(o, "as_of", UINT64_MAX >> 1, &r->as_of, why, whylen)) != SN_OK ||
        (rc = take_int(o, "key_id", UINT32_MAX, &key, why, whylen)) != SN_OK ||
        (rc = take_signature(o, sig, why, whylen)) != SN_OK)
        return rc;
    r->key_id = (uint32_t)key;
    if (json_object_size(o) != NMEMBERS)
        return invalid(why, whylen, "%s", "the receipt has members a receipt does not have");
    return SN_OK;
}

int sn_receipt_parse(const char *json, size_t len, sn_receipt *r, uint8_t sig[SN_RECEIPT_SIG_LEN],
                     char *why, size_t whylen)
{
    json_error_t jerr;
    memset(r, 0, sizeof(*r));
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return invalid(why, whylen, "the receipt is not JSON: %s", jerr.text);
    int rc = json_is_object(o) ? take_members(o, r, sig, why, whylen)
                               : invalid(why, whylen, "%s", "the receipt is not a JSON object");
    json_decref(o);
    return rc;
}

/* ---- verifying -------------------------------------------------------------- */

/* The key of id in a keys document: its public key and retired time. */
static int find_key(json_t *doc, uint32_t id, uint8_t pk[SN_RECEIPT_PK_LEN], char *retired,
                    size_t rcap, char *why, size_t whylen)
{
    json_t *keys = json_is_object(doc) ? json_object_get(doc, "keys") : NULL, *k;
    size_t i, got = 0;
    if (!json_is_array(keys))
        return invalid(why, whylen, "%s", "the keys document has no \"keys\" array");
    json_array_foreach(keys, i, k)
    {
        json_t *kid = json_object_get(k, "key_id"), *pkt = json_object_get(k, "public_key");
        json_t *ret = json_object_get(k, "retired");
        if (!json_is_integer(kid) || json_integer_value(kid) != (json_int_t)id)
            continue;
        if (!json_is_string(pkt) ||
            sodium_base642bin(pk, SN_RECEIPT_PK_LEN, json_string_value(pkt),
                              json_string_length(pkt), NULL, &got, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            got != SN_RECEIPT_PK_LEN)
            return invalid(why, whylen, "%s", "the receipt's key has no valid public_key");
        snprintf(retired, rcap, "%s", json_is_string(ret) ? json_string_value(ret) : "");
        return SN_OK;
    }
    return invalid(why, whylen, "%s", "the receipt's key_id is not in the keys document");
}

static int check_signature(const sn_receipt *r, const uint8_t *sig, const uint8_t *pk, char *why,
                           size_t whylen)
{
    char canon[SN_RECEIPT_MAX];
    size_t n;
    if (sn_receipt_encode(r, canon, sizeof(canon), &n) != SN_OK)
        return invalid(why, whylen, "%s", "the receipt is too long");
    if (crypto_sign_verify_detached(sig, (const unsigned char *)canon, n, pk) != 0)
        return invalid(why, whylen, "%s",
                       "the signature does not match the receipt (altered, or signed by "
                       "another key)");
    return SN_OK;
}

int sn_receipt_verify(const char *json, size_t len, const char *keys, size_t keys_len, char *why,
                      size_t whylen)
{
    sn_receipt r;
    uint8_t sig[SN_RECEIPT_SIG_LEN], pk[SN_RECEIPT_PK_LEN];
    char retired[64];
    json_error_t jerr;
    int rc = sn_receipt_parse(json, len, &r, sig, why, whylen);
    if (rc != SN_OK)
        return rc;
    json_t *doc = json_loadb(keys, keys_len, 0, &jerr);
    if (doc == NULL)
        return invalid(why, whylen, "the keys document is not JSON: %s", jerr.text);
    rc = find_key(doc, r.key_id, pk, retired, sizeof(retired), why, whylen);
    json_decref(doc);
    if (rc != SN_OK)
        return rc;
    if (retired[0] != '\0' && strcmp(r.answered_at, retired) > 0)
        return invalid(why, whylen, "the receipt was signed after its key was retired (%s)",
                       retired);
    return check_signature(&r, sig, pk, why, whylen);
}

/* test_receipt.c - check receipts (crypto/receipt.c): the canonical
 * encoding byte for byte, escaping, the signature over exactly those
 * bytes, verification against a keys document (a field changed, a
 * signature byte flipped, another key, a retired key, a member added or
 * missing), and the encoder's bound (SN_RECEIPT_MAX). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "crypto/receipt.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char canonical[] =
    "{\"format\":\"secondnum-receipt-1\",\"api\":\"check\",\"number\":\"+8613800000001\","
    "\"date\":\"2024-05-01\",\"result\":\"reassigned\",\"answered_at\":\"2026-12-06T08:00:00Z\","
    "\"app\":\"bank\",\"credential\":\"key:7\",\"as_of\":42,\"key_id\":3}";

static sn_receipt sample(void)
{
    sn_receipt r;
    memset(&r, 0, sizeof(r));
    strcpy(r.api, "check");
    strcpy(r.question, "number");
    strcpy(r.asked, "+8613800000001");
    strcpy(r.date, "2024-05-01");
    strcpy(r.result, "reassigned");
    strcpy(r.answered_at, "2026-12-06T08:00:00Z");
    strcpy(r.app, "bank");
    strcpy(r.credential, "key:7");
    r.as_of = 42;
    r.key_id = 3;
    return r;
}

/* A key pair from a fixed seed, and its keys document (retired: NULL). */
typedef struct {
    uint8_t pk[SN_RECEIPT_PK_LEN], sk[SN_RECEIPT_SK_LEN];
    char doc[512];
} keypair;

static void make_key(keypair *k, uint8_t seed_byte, uint32_t id, const char *retired)
{
    uint8_t seed[SN_RECEIPT_SEED_LEN];
    char pk[SN_RECEIPT_PK_TEXT_MAX], ret[64];
    memset(seed, seed_byte, sizeof(seed));
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    sn_receipt_pk_text(k->pk, pk);
    if (retired != NULL)
        snprintf(ret, sizeof(ret), "\"%s\"", retired);
    else
        strcpy(ret, "null");
    snprintf(k->doc, sizeof(k->doc),
             "{\"keys\":[{\"key_id\":%u,\"public_key\":\"%s\",\"created\":\"2026-01-01T00:00:00Z\","
             "\"retired\":%s}]}",
             id, pk, ret);
}

static void test_encoding_is_fixed_order_without_spaces(void **state)
{
    (void)state;
    sn_receipt r = sample();
    char out[SN_RECEIPT_MAX];
    size_t len = 0;
    assert_int_equal(sn_receipt_encode(&r, out, sizeof(out), &len), SN_OK);
    assert_string_equal(out, canonical);
    assert_int_equal(len, strlen(canonical));
}

static void test_encoding_escapes_only_what_json_must(void **state)
{
    (void)state;
    sn_receipt r = sample();
    char out[SN_RECEIPT_MAX];
    size_t len = 0;
    strcpy(r.credential, "oauth:a\"b\\c\x01/\xc3\xa9");
    assert_int_equal(sn_receipt_encode(&r, out, sizeof(out), &len), SN_OK);
    assert_non_null(strstr(out, "\"credential\":\"oauth:a\\\"b\\\\c\\u0001/\xc3\xa9\","));
}

static void test_signature_is_over_the_canonical_bytes(void **state)
{
    (void)state;
    keypair k;
    sn_receipt r = sample();
    char out[SN_RECEIPT_MAX], b64[SN_RECEIPT_SIG_TEXT_MAX];
    uint8_t sig[SN_RECEIPT_SIG_LEN];
    size_t len = 0;
    make_key(&k, 7, 3, NULL);
    assert_int_equal(sn_receipt_sign(&r, k.sk, out, sizeof(out), &len), SN_OK);
    assert_int_equal(len, strlen(out));
    /* the served receipt is the canonical text with the signature last */
    assert_memory_equal(out, canonical, sizeof(canonical) - 2);
    assert_memory_equal(out + sizeof(canonical) - 2, ",\"signature\":\"", 14);
    memcpy(b64, out + sizeof(canonical) - 2 + 14, 86);
    b64[86] = '\0';
    assert_int_equal(sodium_base642bin(sig, sizeof(sig), b64, 86, NULL, NULL, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)canonical,
                                                 sizeof(canonical) - 1, k.pk),
                     0);
    assert_string_equal(out + len - 2, "\"}");
}

static int verify(const char *receipt, const char *doc, char *why)
{
    return sn_receipt_verify(receipt, strlen(receipt), doc, strlen(doc), why, SN_ERRMSG_MAX);
}

static void test_verify_accepts_and_refuses(void **state)
{
    (void)state;
    keypair k, other;
    sn_receipt r = sample();
    char out[SN_RECEIPT_MAX], bad[SN_RECEIPT_MAX], why[SN_ERRMSG_MAX];
    size_t len = 0;
    make_key(&k, 7, 3, NULL);
    make_key(&other, 8, 3, NULL);
    assert_int_equal(sn_receipt_sign(&r, k.sk, out, sizeof(out), &len), SN_OK);
    assert_int_equal(verify(out, k.doc, why), SN_OK);
    /* a field changed */
    strcpy(bad, out);
    memcpy(strstr(bad, "reassigned"), "unchanged\"", 10);
    memmove(strstr(bad, "unchanged\"") + 10, strstr(bad, "unchanged\"") + 11,
            strlen(strstr(bad, "unchanged\"") + 11) + 1);
    assert_int_equal(verify(bad, k.doc, why), SN_EINVAL);
    assert_non_null(strstr(why, "signature does not match"));
    /* one signature character changed (so its bytes differ) */
    strcpy(bad, out);
    char *c = bad + len - 10;
    *c = *c == 'A' ? 'B' : 'A';
    assert_int_equal(verify(bad, k.doc, why), SN_EINVAL);
    /* another key with the same id */
    assert_int_equal(verify(out, other.doc, why), SN_EINVAL);
    /* a key id the document does not list */
    make_key(&other, 7, 4, NULL);
    assert_int_equal(verify(out, other.doc, why), SN_EINVAL);
    assert_non_null(strstr(why, "not in the keys document"));
}

static void test_verify_refuses_after_retirement(void **state)
{
    (void)state;
    keypair k;
    sn_receipt r = sample();
    char out[SN_RECEIPT_MAX], why[SN_ERRMSG_MAX];
    size_t len = 0;
    make_key(&k, 7, 3, "2026-12-06T08:00:00Z"); /* retired the second it answered */
    assert_int_equal(sn_receipt_sign(&r, k.sk, out, sizeof(out), &len), SN_OK);
    assert_int_equal(verify(out, k.doc, why), SN_OK);
    make_key(&k, 7, 3, "2026-12-06T07:59:59Z"); /* retired before */
    assert_int_equal(verify(out, k.doc, why), SN_EINVAL);
    assert_non_null(strstr(why, "after its key was retired"));
}

static void test_parse_refuses_other_shapes(void **state)
{
    (void)state;
    keypair k;
    sn_receipt r = sample(), back;
    char out[SN_RECEIPT_MAX], bad[2 * SN_RECEIPT_MAX], why[SN_ERRMSG_MAX];
    uint8_t sig[SN_RECEIPT_SIG_LEN];
    size_t len = 0;
    make_key(&k, 7, 3, NULL);
    assert_int_equal(sn_receipt_sign(&r, k.sk, out, sizeof(out), &len), SN_OK);
    assert_int_equal(sn_receipt_parse(out, len, &back, sig, why, sizeof(why)), SN_OK);
    assert_string_equal(back.asked, "+8613800000001");
    assert_int_equal(back.key_id, 3);
    assert_int_equal(back.as_of, 42);
    /* a member added */
    snprintf(bad, sizeof(bad), "{\"extra\":1,%s", out + 1);
    assert_int_equal(sn_receipt_parse(bad, strlen(bad), &back, sig, why, sizeof(why)), SN_EINVAL);
    /* two ways of naming the number */
    snprintf(bad, sizeof(bad), "{\"number_md5\":\"00\",%s", out + 1);
    assert_int_equal(sn_receipt_parse(bad, strlen(bad), &back, sig, why, sizeof(why)), SN_EINVAL);
    /* not JSON, not an object, key_id not an integer */
    assert_int_equal(sn_receipt_parse("{", 1, &back, sig, why, sizeof(why)), SN_EINVAL);
    assert_int_equal(sn_receipt_parse("[]", 2, &back, sig, why, sizeof(why)), SN_EINVAL);
    strcpy(bad, out);
    memcpy(strstr(bad, "\"key_id\":3"), "\"key_id\":\"", 10);
    assert_int_equal(sn_receipt_parse(bad, strlen(bad), &back, sig, why, sizeof(why)), SN_EINVAL);
}

static void test_encoding_bound(void **state)
{
    (void)state;
    sn_receipt r = sample();
    char out[SN_RECEIPT_MAX];
    size_t len = 0;
    keypair k;
    make_key(&k, 7, 3, NULL);
    /* the longest members, every byte escaped six-fold, still fit */
    memset(r.app, 0x01, sizeof(r.app) - 1);
    memset(r.credential, 0x01, sizeof(r.credential) - 1);
    assert_int_equal(sn_receipt_sign(&r, k.sk, out, sizeof(out), &len), SN_OK);
    assert_true(len < SN_RECEIPT_MAX);
    /* one byte short of the canonical text is refused, not truncated */
    r = sample();
    assert_int_equal(sn_receipt_encode(&r, out, sizeof(canonical) - 1, &len), SN_ELIMIT);
    assert_int_equal(sn_receipt_encode(&r, out, sizeof(canonical), &len), SN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoding_is_fixed_order_without_spaces),
        cmocka_unit_test(test_encoding_escapes_only_what_json_must),
        cmocka_unit_test(test_signature_is_over_the_canonical_bytes),
        cmocka_unit_test(test_verify_accepts_and_refuses),
        cmocka_unit_test(test_verify_refuses_after_retirement),
        cmocka_unit_test(test_parse_refuses_other_shapes),
        cmocka_unit_test(test_encoding_bound),
    };
    if (sodium_init() < 0)
        return 1;
    return sn_run_tests(tests);
}

/* test_oauth.c - auth/oauth.c and auth/jwks.c without a server: the claim
 * checks (exp required, nbf, iat, the clock skew at its edges, iss exact,
 * aud as a string or an array, client_id or azp, the scopes as whole
 * words, a tel: subject), the JWT shape, and which keys a JWK Set keeps
 * (RSA and EC P-256 signing keys; no kid: the only key). Signatures are
 * tested against tokens from an independent library in oauth_suite.py. */
#include "unit.h"

#include "auth/jwks.h"
#include "auth/oauth.h"
#include "core/errors.h"

#include <string.h>

#define NOW 1800000000LL
#define ISS "https://issuer.example"
#define AUD "secondnum"

static int check(const char *json, sn_oauth_token *t)
{
    char err[SN_ERRMSG_MAX];
    return sn_oauth_check_claims(json, strlen(json), ISS, AUD, NOW, t, err, sizeof(err));
}

/* Claims with the times given (text, so they can be absent or wrong). */
static int check_times(const char *times)
{
    char json[512];
    sn_oauth_token t;
    snprintf(json, sizeof(json), "{\"iss\":\"%s\",\"aud\":\"%s\"%s}", ISS, AUD, times);
    return check(json, &t);
}

static void test_exp_is_required_with_skew(void **state)
{
    (void)state;
    char t[128];
    assert_int_equal(check_times(""), SN_EAUTH);
    assert_int_equal(check_times(",\"exp\":\"soon\""), SN_EAUTH);
    snprintf(t, sizeof(t), ",\"exp\":%lld", NOW + 10);
    assert_int_equal(check_times(t), SN_OK);
    snprintf(t, sizeof(t), ",\"exp\":%lld", NOW - SN_OAUTH_CLOCK_SKEW_S);
    assert_int_equal(check_times(t), SN_OK); /* at the edge of the skew */
    snprintf(t, sizeof(t), ",\"exp\":%lld", NOW - SN_OAUTH_CLOCK_SKEW_S - 1);
    assert_int_equal(check_times(t), SN_EAUTH);
}

static void test_nbf_and_iat(void **state)
{
    (void)state;
    char t[128];
    snprintf(t, sizeof(t), ",\"exp\":%lld,\"nbf\":%lld", NOW + 600, NOW + SN_OAUTH_CLOCK_SKEW_S);
    assert_int_equal(check_times(t), SN_OK);
    snprintf(t, sizeof(t), ",\"exp\":%lld,\"nbf\":%lld", NOW + 600,
             NOW + SN_OAUTH_CLOCK_SKEW_S + 1);
    assert_int_equal(check_times(t), SN_EAUTH);
    snprintf(t, sizeof(t), ",\"exp\":%lld,\"iat\":%lld", NOW + 600, NOW + SN_OAUTH_CLOCK_SKEW_S);
    assert_int_equal(check_times(t), SN_OK);
    snprintf(t, sizeof(t), ",\"exp\":%lld,\"iat\":%lld", NOW + 600,
             NOW + SN_OAUTH_CLOCK_SKEW_S + 1);
    assert_int_equal(check_times(t), SN_EAUTH);
    snprintf(t, sizeof(t), ",\"exp\":%lld,\"nbf\":null", NOW + 600);
    assert_int_equal(check_times(t), SN_EAUTH);
}

static void test_issuer_and_audience(void **state)
{
    (void)state;
    sn_oauth_token t;
    assert_int_equal(check("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1900000000}", &t),
                     SN_OK);
    assert_int_equal(check("{\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\",\"exp\":1900000000}", &t),
                     SN_EAUTH);
    assert_int_equal(check("{\"aud\":\"" AUD "\",\"exp\":1900000000}", &t), SN_EAUTH);
    assert_int_equal(
        check("{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],\"exp\":1900000000}", &t), SN_OK);
    assert_int_equal(check("{\"iss\":\"" ISS "\",\"aud\":[\"x\",1],\"exp\":1900000000}", &t),
                     SN_EAUTH);
    assert_int_equal(check("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "x\",\"exp\":1900000000}", &t),
                     SN_EAUTH);
    assert_int_equal(check("[1,2]", &t), SN_EAUTH);
    assert_int_equal(check("{\"iss\":1,\"iss\":2}", &t), SN_EAUTH);
}

#define BASE "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1900000000"

static void test_client_scopes_and_subject(void **state)
{
    (void)state;
    sn_oauth_token t;
    assert_int_equal(check("{" BASE ",\"client_id\":\"a\",\"azp\":\"b\"}", &t), SN_OK);
    assert_string_equal(t.client, "a");
    assert_int_equal(check("{" BASE ",\"azp\":\"b\"}", &t), SN_OK);
    assert_string_equal(t.client, "b");
    assert_int_equal(check("{" BASE ",\"scope\":\"openid  number-recycling:check\"}", &t), SN_OK);
    assert_int_equal(t.scopes, SN_OAUTH_SCOPE_CAMARA);
    assert_int_equal(check("{" BASE ",\"scope\":\"number-recycling:checks secondnum\"}", &t),
                     SN_OK);
    assert_int_equal(t.scopes, 0);
    assert_int_equal(check("{" BASE ",\"scope\":\"secondnum:check number-recycling:check\"}", &t),
                     SN_OK);
    assert_int_equal(t.scopes, SN_OAUTH_SCOPE_CAMARA | SN_OAUTH_SCOPE_NATIVE);
    assert_int_equal(check("{" BASE ",\"sub\":\"tel:+8613800000001\"}", &t), SN_OK);
    assert_int_equal(t.three_legged, 1);
    assert_int_equal(t.number, 8613800000001ULL);
    assert_int_equal(check("{" BASE ",\"sub\":\"user-1\"}", &t), SN_OK);
    assert_int_equal(t.three_legged, 0);
    assert_int_equal(check("{" BASE ",\"sub\":\"tel:8613800000001\"}", &t), SN_EAUTH);
    assert_int_equal(check("{" BASE ",\"sub\":\"tel:+86 138\"}", &t), SN_EAUTH);
}

static void test_token_shape(void **state)
{
    (void)state;
    assert_true(sn_oauth_token_shaped("a.b.c", 5));
    assert_true(sn_oauth_token_shaped("a-_.b.c9", 8));
    assert_false(sn_oauth_token_shaped("a.b", 3));
    assert_false(sn_oauth_token_shaped("a.b.", 4));
    assert_false(sn_oauth_token_shaped(".b.c", 4));
    assert_false(sn_oauth_token_shaped("a..c", 4));
    assert_false(sn_oauth_token_shaped("a.b.c.d", 7));
    assert_false(sn_oauth_token_shaped("a.b=.c", 6));
    assert_false(sn_oauth_token_shaped("sn_0123", 7));
}

/* An RSA public key (2048 bits) and an EC P-256 one, as JWKs (made for
 * this test with python3-cryptography). */
#define RSA_N                                                                                      \
    "\"n\":\"vDMxnkjxVAxcA_2C9kKjhZrq6ng5_xCZ7yAWuLyyUy0nxAPFszdk_TCMb_cLMnIWuP356yHDbc3DzX_8e-"   \
    "lqQmD7"                                                                                       \
    "Y2_yC9v6q8kopLZF4DIbsrHTmwD1Qz5X8-hp_08f_w74aBOHzct4FtxPL4-muYonwDH-LX9ZfJrblsUxi57d0Sg5"     \
    "MsfM3ks53Q7eLwK8KNm30zKGF5dnJm7fdaxH_4QsqLsOCOVmTYBCqZMAwP5mdAjWqhnKGsbq5qJRhhd5ucHz91dX"     \
    "PLO3XHTxrY-SDwpBhWd89TcMoyLkZC5B11KBQtiRK_iKD3CXha_gWud1T_21_Fx5DtOU0zSQz5oWvQ\",\"e\":"      \
    "\"AQAB\""
#define EC_XY                                                                                      \
    "\"x\":\"Se40AV0dfVz8WELmp3QFanIltRnfIelUgqHLign_SpA\",\"y\":\""                               \
    "bnaXwej5cMwnYfgHSHDmIZJtP877GNFs5JAacxF34fM\""

static void test_jwks_keeps_signing_keys(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX];
    sn_jwks *set = NULL;
    static const char doc[] =
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\"," RSA_N "},"
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\",\"use\":\"sig\"," EC_XY "},"
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"enc\",\"use\":\"enc\"," EC_XY "},"
        "{\"kty\":\"RSA\",\"kid\":\"hs\",\"alg\":\"HS256\"," RSA_N "},"
        "{\"kty\":\"oct\",\"kid\":\"o\",\"k\":\"c2VjcmV0\"}]}";
    assert_int_equal(sn_jwks_parse(doc, strlen(doc), &set, err, sizeof(err)), SN_OK);
    assert_non_null(sn_jwks_find(set, "r"));
    assert_int_equal(sn_jwks_find(set, "r")->alg, SN_JWK_RS256);
    assert_int_equal(sn_jwks_find(set, "e")->alg, SN_JWK_ES256);
    assert_null(sn_jwks_find(set, "enc"));
    assert_null(sn_jwks_find(set, "hs"));
    assert_null(sn_jwks_find(set, "o"));
    assert_null(sn_jwks_find(set, NULL)); /* two keys: a token must name one */
    sn_jwks_release(set);
    static const char one[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"," EC_XY "}]}";
    assert_int_equal(sn_jwks_parse(one, strlen(one), &set, err, sizeof(err)), SN_OK);
    assert_non_null(sn_jwks_find(set, NULL));
    sn_jwks_release(set);
    static const char none[] = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}";
    assert_int_equal(sn_jwks_parse(none, strlen(none), &set, err, sizeof(err)), SN_EINVAL);
    assert_int_equal(sn_jwks_parse("{}", 2, &set, err, sizeof(err)), SN_EINVAL);
    assert_null(set);
}

/* A P-256 public key whose x coordinate begins with a zero byte, written
 * as some issuers do (python3-jwt 2.6's to_jwk): the zero dropped, 31 bytes,
 * which RFC 7518 6.2.1.2 forbids. */
#define EC_SHORT_X                                                                                 \
    "\"x\":\"-lxIL6wT_v7v7jUGVF-11k0_plt32a4h3AbChlFm8g\",\"y\":\""                                \
    "364dBQX3bUTHKZDSfIIZgEbgezzEyAkLQnvrW_fctoI\""

static void test_jwks_counts_unusable_keys(void **state)
{
    (void)state;
    char err[SN_ERRMSG_MAX];
    const char *why = NULL;
    sn_jwks *set = NULL;
    static const char doc[] = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\"," RSA_N "},"
                              "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e31\"," EC_SHORT_X "},"
                              "{\"kty\":\"oct\",\"kid\":\"o\",\"k\":\"c2VjcmV0\"}]}";
    assert_int_equal(sn_jwks_parse(doc, strlen(doc), &set, err, sizeof(err)), SN_OK);
    assert_non_null(sn_jwks_find(set, "r"));
    assert_null(sn_jwks_find(set, "e31"));
    /* the short key is counted, the oct key (not a kind kept) is not */
    assert_int_equal(sn_jwks_unusable(set, &why), 1);
    assert_non_null(strstr(why, "\"e31\""));
    assert_non_null(strstr(why, "32 bytes"));
    sn_jwks_release(set);
    /* a set whose every key of a kept kind is unusable says why */
    static const char only[] =
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e31\"," EC_SHORT_X "}]}";
    assert_int_equal(sn_jwks_parse(only, strlen(only), &set, err, sizeof(err)), SN_EINVAL);
    assert_null(set);
    assert_non_null(strstr(err, "\"e31\""));
    /* a good set has none */
    static const char good[] =
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"e\"," EC_XY "}]}";
    assert_int_equal(sn_jwks_parse(good, strlen(good), &set, err, sizeof(err)), SN_OK);
    assert_int_equal(sn_jwks_unusable(set, &why), 0);
    assert_string_equal(why, "");
    sn_jwks_release(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_is_required_with_skew),
        cmocka_unit_test(test_nbf_and_iat),
        cmocka_unit_test(test_issuer_and_audience),
        cmocka_unit_test(test_client_scopes_and_subject),
        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_jwks_keeps_signing_keys),
        cmocka_unit_test(test_jwks_counts_unusable_keys),
    };
    return sn_run_tests(tests);
}

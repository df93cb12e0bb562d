/* test_webhook.c - where a webhook may point and how its secret is kept:
 * util/netaddr.c (which addresses are public, in every literal form the
 * resolver reads), delivery/webhook.c (the URL rules at registration, the
 * address test at delivery, sealing the signing secret) and the sealed
 * values of crypto/secret.c (round trip, bound to the key and the record,
 * damage refused, the text length the store's column is sized by). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "crypto/secret.h"
#include "delivery/webhook.h"
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int v4_public(const char *text)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, text, &a), 1);
    return sn_ipv4_public((const uint8_t *)&a);
}

static int v6_public(const char *text)
{
    struct in6_addr a;
    assert_int_equal(inet_pton(AF_INET6, text, &a), 1);
    return sn_ipv6_public(a.s6_addr);
}

static void test_ipv4_ranges(void **state)
{
    (void)state;
    static const char *const private[] = {
        "0.0.0.0",         "0.255.255.255",  "10.0.0.1",       "10.255.255.255",  "100.64.0.1",
        "100.127.255.1",   "127.0.0.1",      "127.255.0.9",    "169.254.169.254", "172.16.0.1",
        "172.31.255.255",  "192.0.0.8",      "192.0.2.1",      "192.88.99.1",     "192.168.1.1",
        "198.18.0.1",      "198.19.255.255", "198.51.100.7",   "203.0.113.9",     "224.0.0.1",
        "239.255.255.250", "240.0.0.1",      "255.255.255.255"};
    static const char *const public[] = {
        "1.1.1.1",     "8.8.8.8",         "9.255.255.255", "11.0.0.1",    "100.63.255.255",
        "100.128.0.1", "126.255.255.255", "128.0.0.1",     "169.253.0.1", "172.15.255.255",
        "172.32.0.1",  "192.0.1.1",       "192.167.0.1",   "192.169.0.1", "198.17.0.1",
        "198.20.0.1",  "223.255.255.255", "93.184.216.34"};
    for (size_t i = 0; i < sizeof(private) / sizeof(private[0]); i++)
        if (v4_public(private[i]))
            fail_msg("%s judged public", private[i]);
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
        if (!v4_public(public[i]))
            fail_msg("%s judged not public", public[i]);
}

static void test_ipv6_ranges(void **state)
{
    (void)state;
    static const char *const private[] = {"::",
                                          "::1",
                                          "fc00::1",
                                          "fdff:ffff::1",
                                          "fe80::1",
                                          "febf::1",
                                          "fec0::1",
                                          "ff02::1",
                                          "100::1",
                                          "2001:db8::1",
                                          "2001:2::1",
                                          "2001:10::1",
                                          "2001:20::1",
                                          "3fff::1",
                                          "64:ff9b:1::1",
                                          "::ffff:127.0.0.1",
                                          "::ffff:10.0.0.1",
                                          "::ffff:169.254.169.254",
                                          "::127.0.0.1",
                                          "64:ff9b::10.0.0.1",
                                          "64:ff9b::7f00:1",
                                          "2002:7f00:1::1",
                                          "2002:a00:1::1"};
    static const char *const public[] = {
        "2606:4700::1111",  "2001:4860:4860::8888", "2a00:1450::1", "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8", "2002:808:808::1",      "2001::1",      "fbff::1"};
    for (size_t i = 0; i < sizeof(private) / sizeof(private[0]); i++)
        if (v6_public(private[i]))
            fail_msg("%s judged public", private[i]);
    for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
        if (!v6_public(public[i]))
            fail_msg("%s judged not public", public[i]);
}

static void test_literals_in_every_form(void **state)
{
    (void)state;
    /* the forms inet_aton (and so the resolver) reads as 127.0.0.1 */
    static const char *const loopback[] = {
        "127.0.0.1",  "127.1", "127.0.1", "2130706433",      "0x7f000001",       "0x7f.0.0.1",
        "0177.0.0.1", "[::1]", "::1",     "[::ffff:7f00:1]", "[fe80::1%25eth0]", "fe80::1%eth0"};
    for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
        if (sn_ip_literal_public(loopback[i]) != 0)
            fail_msg("%s not judged a non-public literal", loopback[i]);
    assert_int_equal(sn_ip_literal_public("8.8.8.8"), 1);
    assert_int_equal(sn_ip_literal_public("[2606:4700::1111]"), 1);
    assert_int_equal(sn_ip_literal_public("example.com"), -1);
    assert_int_equal(sn_ip_literal_public("1.2.3.4.example.com"), -1);
    assert_int_equal(sn_ip_literal_public("localhost"), -1);
    assert_int_equal(sn_ip_literal_public("[not:an:address]"), -1);
}

static void test_sockaddr(void **state)
{
    (void)state;
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    struct sockaddr other = {.sa_family = AF_UNIX};
    inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr);
    assert_int_equal(sn_sockaddr_public((struct sockaddr *)&v4, sizeof(v4)), 0);
    assert_int_equal(sn_webhook_address_allowed((struct sockaddr *)&v4, sizeof(v4), 0), 0);
    assert_int_equal(sn_webhook_address_allowed((struct sockaddr *)&v4, sizeof(v4), 1), 1);
    inet_pton(AF_INET, "8.8.4.4", &v4.sin_addr);
    assert_int_equal(sn_webhook_address_allowed((struct sockaddr *)&v4, sizeof(v4), 0), 1);
    assert_int_equal(sn_sockaddr_public((struct sockaddr *)&v4, sizeof(v4) - 1), 0);
    inet_pton(AF_INET6, "::ffff:192.168.0.1", &v6.sin6_addr);
    assert_int_equal(sn_webhook_address_allowed((struct sockaddr *)&v6, sizeof(v6), 0), 0);
    inet_pton(AF_INET6, "2001:4860:4860::8844", &v6.sin6_addr);
    assert_int_equal(sn_webhook_address_allowed((struct sockaddr *)&v6, sizeof(v6), 0), 1);
    assert_int_equal(sn_webhook_address_allowed(&other, sizeof(other), 0), 0);
    assert_int_equal(sn_webhook_address_allowed(&other, sizeof(other), 1), 0);
}

/* The rule a URL breaks: "" when it passes. */
static const char *url_rule(const char *url, int allow_private)
{
    static char err[SN_ERRMSG_MAX];
    err[0] = '\0';
    int rc = sn_webhook_url_check(url, allow_private, err, sizeof(err));
    assert_true(rc == SN_OK || rc == SN_EINVAL);
    assert_true((rc == SN_OK) == (err[0] == '\0'));
    return err;
}

static void test_url_rules(void **state)
{
    (void)state;
    static const struct {
        const char *url, *says; /* says: a word of the refusal, "" for none */
        int with_flag;          /* still refused with --allow-private-webhooks */
    } cases[] = {
        {"https://hooks.example.com/secondnum?x=1", "", 0},
        {"http://93.184.216.34:8443/hook", "", 0},
        {"https://[2606:4700::1111]/hook", "", 0},
        {"http://127.0.0.1:6379/", "not a public address", 0},
        {"http://127.1/", "not a public address", 0},
        {"http://2130706433/", "not a public address", 0},
        {"http://0x7f000001/", "not a public address", 0},
        {"http://0/", "not a public address", 0},
        {"http://0.0.0.0:22/", "not a public address", 0},
        {"http://10.1.2.3/", "not a public address", 0},
        {"http://172.20.0.1/", "not a public address", 0},
        {"http://192.168.0.10/", "not a public address", 0},
        {"http://100.64.1.1/", "not a public address", 0},
        {"http://169.254.169.254/latest/meta-data/", "not a public address", 0},
        {"http://[::1]:8080/", "not a public address", 0},
        {"http://[::ffff:127.0.0.1]/", "not a public address", 0},
        {"http://[fd00::1]/", "not a public address", 0},
        {"http://[fe80::1%25eth0]/", "not a public address", 0},
        {"http://localhost/", "localhost", 0},
        {"http://LocalHost.:8080/", "localhost", 0},
        {"http://api.localhost/", "localhost", 0},
        {"http://user:pass@example.com/", "user name or password", 1},
        {"http://user@example.com/", "user name or password", 1},
        {"https://:secret@example.com/", "user name or password", 1},
        {"http://127.0.0.1:80@example.com/", "user name or password", 1},
        {"ftp://example.com/", "http:// or https://", 1},
        {"http://", "http:// or https://", 1},
        {"http://exa mple.com/", "http:// or https://", 1},
        {"http://[::1/", "not a valid", 1},
        {"http://example.com:99999/", "not a valid", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = url_rule(cases[i].url, 0);
        if (cases[i].says[0] == '\0' ? got[0] != '\0' : strstr(got, cases[i].says) == NULL)
            fail_msg("%s: expected \"%s\", got \"%s\"", cases[i].url, cases[i].says, got);
        got = url_rule(cases[i].url, 1);
        if (cases[i].with_flag ? strstr(got, cases[i].says) == NULL : got[0] != '\0')
            fail_msg("%s with the flag: got \"%s\"", cases[i].url, got);
    }
    char long_url[SN_URL_MAX + 2];
    memset(long_url, 'a', sizeof(long_url) - 1);
    memcpy(long_url, "http://x.example/", 17);
    long_url[sizeof(long_url) - 1] = '\0';
    assert_non_null(strstr(url_rule(long_url, 1), "at most"));
    long_url[SN_URL_MAX] = '\0';
    assert_string_equal(url_rule(long_url, 0), "");
}

static void test_seal_round_trip(void **state)
{
    (void)state;
    sn_secret k, other;
    char text[SN_SEALED_TEXT_LEN(SN_WEBHOOK_SECRET_MAX) + 1], again[sizeof(text)];
    char out[SN_WEBHOOK_SECRET_MAX + 1];
    char plain[SN_WEBHOOK_SECRET_MAX + 1];
    size_t len = 0;
    assert_true(sodium_init() >= 0);
    randombytes_buf(k.key, sizeof(k.key));
    randombytes_buf(other.key, sizeof(other.key));
    for (size_t n = 0; n <= SN_WEBHOOK_SECRET_MAX; n += n < 20 ? 1 : 37) {
        memset(plain, 'a' + (int)(n % 26), n);
        plain[n] = '\0';
        assert_int_equal(
            sn_seal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, plain, n, text, SN_SEALED_TEXT_LEN(n) + 1),
            SN_OK);
        assert_int_equal(strlen(text), SN_SEALED_TEXT_LEN(n));
        assert_true(sn_sealed(text));
        if (n >= 4)
            assert_null(strstr(text, plain));
        assert_int_equal(sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, text, out, sizeof(out), &len),
                         SN_OK);
        assert_int_equal(len, n);
        assert_string_equal(out, plain);
    }
    /* a random nonce: the same secret seals differently each time */
    sn_seal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, "same-secret-0123", 16, text, sizeof(text));
    sn_seal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, "same-secret-0123", 16, again, sizeof(again));
    assert_string_not_equal(text, again);
    /* bound to the key, the context and the record */
    assert_int_equal(sn_unseal(&other, SN_SEAL_CONTEXT_WEBHOOK, 7, text, out, sizeof(out), &len),
                     SN_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 8, text, out, sizeof(out), &len),
                     SN_EINVAL);
    assert_int_equal(sn_unseal(&k, "another1", 7, text, out, sizeof(out), &len), SN_EINVAL);
    /* damage: a changed character, cut short, not base64, not sealed, no room */
    again[0] = '\0';
    strcpy(again, text);
    again[strlen(again) - 3] = again[strlen(again) - 3] == 'A' ? 'B' : 'A';
    assert_int_equal(sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, again, out, sizeof(out), &len),
                     SN_EINVAL);
    strcpy(again, text);
    again[sizeof(SN_SEALED_PREFIX) + 10] = '\0';
    assert_int_equal(sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, again, out, sizeof(out), &len),
                     SN_EINVAL);
    assert_int_equal(
        sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, SN_SEALED_PREFIX "!!!", out, sizeof(out), &len),
        SN_EINVAL);
    assert_int_equal(
        sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, SN_SEALED_PREFIX, out, sizeof(out), &len),
        SN_EINVAL);
    assert_int_equal(
        sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, "same-secret-0123", out, sizeof(out), &len),
        SN_EINVAL);
    assert_int_equal(sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, text, out, 16, &len), SN_EINVAL);
    assert_int_equal(sn_unseal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, text, out, 17, &len), SN_OK);
    /* too little room to seal */
    assert_int_equal(sn_seal(&k, SN_SEAL_CONTEXT_WEBHOOK, 7, "x", 1, text, SN_SEALED_TEXT_LEN(1)),
                     SN_ELIMIT);
}

static void test_webhook_secret(void **state)
{
    (void)state;
    sn_secret k;
    sn_app a;
    char out[SN_WEBHOOK_SECRET_MAX + 1];
    size_t len = 0;
    assert_true(sodium_init() >= 0);
    randombytes_buf(k.key, sizeof(k.key));
    memset(&a, 0, sizeof(a));
    a.id = 3;
    assert_true(SN_SEALED_TEXT_LEN(SN_WEBHOOK_SECRET_MAX) <= SN_WEBHOOK_SECRET_STORED_MAX);
    sn_webhook_secret_seal(&k, a.id, "whsec-0123456789abcdef", 22, a.secret);
    assert_null(strstr(a.secret, "whsec"));
    assert_int_equal(sn_webhook_secret_open(&k, &a, out, &len), SN_OK);
    assert_string_equal(out, "whsec-0123456789abcdef");
    assert_int_equal(len, 22);
    assert_int_equal(sn_webhook_secret_open(NULL, &a, out, &len), SN_EINVAL);
    a.id = 4; /* another app's row */
    assert_int_equal(sn_webhook_secret_open(&k, &a, out, &len), SN_EINVAL);
    /* a store from before sealing: the clear secret still signs */
    strcpy(a.secret, "an-old-clear-secret");
    assert_int_equal(sn_webhook_secret_open(NULL, &a, out, &len), SN_OK);
    assert_string_equal(out, "an-old-clear-secret");
    assert_int_equal(len, 19);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_ranges),
        cmocka_unit_test(test_ipv6_ranges),
        cmocka_unit_test(test_literals_in_every_form),
        cmocka_unit_test(test_sockaddr),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_seal_round_trip),
        cmocka_unit_test(test_webhook_secret),
    };
    return sn_run_tests(tests);
}

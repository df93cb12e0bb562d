/* test_notice.c - core/notice.c and crypto/signature.c: which applied
 * events concern bound apps (cancel of a known tenure; a reissue from frozen
 * or pool; never a first record, suspend, resume, reclaim, release or
 * port_in), what the reissue guard holds, outcome names and which outcomes
 * unbind, the retry delay (doubling, capped, jittered into [d/2, d]), and the
 * webhook signature against an HMAC-SHA256 computed independently with
 * libsodium's one-shot API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "core/notice.h"
#include "crypto/signature.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const sn_rules china = {86, 90, 480};
#define DAY 86400

static sn_number_state state_after(const int *kinds, const int64_t *days, size_t n)
{
    sn_number_state st;
    sn_state_init(&st, 8613812345678ull);
    for (size_t i = 0; i < n; i++) {
        char err[SN_ERRMSG_MAX] = "";
        sn_event e = {st.number, 1700000000 + days[i] * DAY, 1, (uint8_t)kinds[i]};
        if (sn_lifecycle_apply(&china, &st, &e, err, sizeof(err)) != SN_OK)
            fail_msg("setup event %zu: %s", i, err);
    }
    return st;
}

/* Apply one more event and ask which notice it calls for. */
static sn_notice_kind notice_of(sn_number_state before, int kind, int64_t day, uint32_t *tenure)
{
    sn_number_state after = before;
    char err[SN_ERRMSG_MAX] = "";
    sn_event e = {before.number, 1700000000 + day * DAY, 1, (uint8_t)kind};
    if (sn_lifecycle_apply(&china, &after, &e, err, sizeof(err)) != SN_OK)
        fail_msg("event: %s", err);
    return sn_notice_for(&before, &after, kind, tenure);
}

static void test_cancel_notifies_its_tenure(void **state)
{
    (void)state;
    int k[] = {SN_EV_ACTIVATE};
    int64_t d[] = {0};
    uint32_t tenure = 99;
    sn_number_state st = state_after(k, d, 1);
    assert_int_equal(notice_of(st, SN_EV_CANCEL, 10, &tenure), SN_NOTICE_CANCELLED);
    assert_int_equal(tenure, st.tenure);
}

static void test_reissue_notifies_earlier_tenures(void **state)
{
    (void)state;
    int k[] = {SN_EV_ACTIVATE, SN_EV_CANCEL};
    int64_t d[] = {0, 10};
    uint32_t tenure = 0;
    sn_number_state frozen = state_after(k, d, 2);
    assert_true(sn_notice_is_reissue(&frozen, SN_EV_ACTIVATE));
    assert_int_equal(notice_of(frozen, SN_EV_ACTIVATE, 200, &tenure), SN_NOTICE_REASSIGNED);
    assert_int_equal(tenure, frozen.tenure + 1);
    int k2[] = {SN_EV_ACTIVATE, SN_EV_CANCEL, SN_EV_RELEASE};
    int64_t d2[] = {0, 10, 150};
    sn_number_state pool = state_after(k2, d2, 3);
    assert_true(sn_notice_is_reissue(&pool, SN_EV_ACTIVATE));
    assert_int_equal(notice_of(pool, SN_EV_ACTIVATE, 200, &tenure), SN_NOTICE_REASSIGNED);
}

static void test_other_events_notify_nobody(void **state)
{
    (void)state;
    uint32_t tenure = 0;
    sn_number_state unseen;
    sn_state_init(&unseen, 8613812345678ull);
    /* a first record, whatever it is, ends or starts nothing known */
    assert_int_equal(notice_of(unseen, SN_EV_ACTIVATE, 0, &tenure), SN_NOTICE_NONE);
    assert_int_equal(notice_of(unseen, SN_EV_CANCEL, 0, &tenure), SN_NOTICE_NONE);
    int k[] = {SN_EV_ACTIVATE};
    int64_t d[] = {0};
    sn_number_state active = state_after(k, d, 1);
    assert_int_equal(notice_of(active, SN_EV_SUSPEND, 5, &tenure), SN_NOTICE_NONE);
    assert_int_equal(notice_of(active, SN_EV_PORT_IN, 5, &tenure), SN_NOTICE_NONE);
    assert_false(sn_notice_is_reissue(&active, SN_EV_ACTIVATE));
    int k2[] = {SN_EV_ACTIVATE, SN_EV_SUSPEND};
    int64_t d2[] = {0, 5};
    assert_int_equal(notice_of(state_after(k2, d2, 2), SN_EV_RESUME, 6, &tenure), SN_NOTICE_NONE);
    int k3[] = {SN_EV_ACTIVATE, SN_EV_CANCEL};
    int64_t d3[] = {0, 10};
    sn_number_state frozen = state_after(k3, d3, 2);
    assert_int_equal(notice_of(frozen, SN_EV_RECLAIM, 20, &tenure), SN_NOTICE_NONE);
    assert_int_equal(notice_of(frozen, SN_EV_RELEASE, 150, &tenure), SN_NOTICE_NONE);
    assert_false(sn_notice_is_reissue(&frozen, SN_EV_RECLAIM));
}

static void test_outcomes(void **state)
{
    (void)state;
    const char *names[] = {"unbound", "reverified", "not_found", "refused"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sn_outcome_parse(names[i]), i + 1);
        assert_string_equal(sn_outcome_name(i + 1), names[i]);
    }
    assert_int_equal(sn_outcome_parse("Unbound"), SN_OUTCOME_NONE);
    assert_int_equal(sn_outcome_parse(""), SN_OUTCOME_NONE);
    assert_null(sn_outcome_name(SN_OUTCOME_NONE));
    assert_null(sn_outcome_name(5));
    assert_true(sn_outcome_unbinds(SN_OUTCOME_UNBOUND));
    assert_true(sn_outcome_unbinds(SN_OUTCOME_NOT_FOUND));
    assert_false(sn_outcome_unbinds(SN_OUTCOME_REVERIFIED));
    assert_false(sn_outcome_unbinds(SN_OUTCOME_REFUSED));
    assert_string_equal(sn_notice_kind_name(SN_NOTICE_CANCELLED), "number_cancelled");
    assert_string_equal(sn_notice_kind_name(SN_NOTICE_REASSIGNED), "number_reassigned");
    assert_null(sn_notice_kind_name(SN_NOTICE_NONE));
}

static void test_retry_delay(void **state)
{
    (void)state;
    /* without jitter (random 0) the delay doubles from the base up to the cap */
    assert_int_equal(sn_retry_delay_ms(1, 1000, 3600000, 0), 1000);
    assert_int_equal(sn_retry_delay_ms(2, 1000, 3600000, 0), 2000);
    assert_int_equal(sn_retry_delay_ms(5, 1000, 3600000, 0), 16000);
    assert_int_equal(sn_retry_delay_ms(40, 1000, 3600000, 0), 3600000);
    assert_int_equal(sn_retry_delay_ms(4000000000u, 1000, 3600000, 0), 3600000);
    for (uint32_t r = 0; r < 100000; r += 7) {
        int64_t d = sn_retry_delay_ms(3, 1000, 3600000, r * 2654435761u);
        assert_in_range(d, 2000, 4000);
    }
}

static void test_signature(void **state)
{
    (void)state;
    const char *secret = "0123456789abcdef-secret", *body = "{\"id\":\"1\"}";
    char header[SN_SIGNATURE_HEADER_MAX], expected[SN_SIGNATURE_HEADER_MAX], hex[65];
    unsigned char mac[crypto_auth_hmacsha256_BYTES], key[64] = {0};
    char message[64];
    assert_int_equal(sodium_init() >= 0, 1);
    sn_webhook_signature(secret, strlen(secret), 1795000000, body, strlen(body), header);
    /* independently: HMAC-SHA256 over "t.body" with the one-shot API; the
     * key is padded to the block size (HMAC's own rule for short keys) */
    memcpy(key, secret, strlen(secret));
    int n = snprintf(message, sizeof(message), "1795000000.%s", body);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)message, (size_t)n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    snprintf(expected, sizeof(expected), "t=1795000000,v1=%s", hex);
    assert_string_equal(header, expected);
    /* a different body or time gives a different signature */
    sn_webhook_signature(secret, strlen(secret), 1795000001, body, strlen(body), expected);
    assert_string_not_equal(header, expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_notifies_its_tenure),
        cmocka_unit_test(test_reissue_notifies_earlier_tenures),
        cmocka_unit_test(test_other_events_notify_nobody),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_signature),
    };
    return sn_run_tests(tests);
}

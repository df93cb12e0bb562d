/* test_subscriber.c - subscriber/policy.c and subscriber/tokens.c: code
 * attempts (wrong answers count down per client address and per code; an
 * address's last one locks that address out of the number, which checks
 * nothing from it, while other addresses go on; the code's last one kills
 * it; a right answer uses the code up; expiry), session judgement (expiry, cancellation, reissue,
 * cancel and reclaim, suspension keeps it), complaint levels and deadlines with and without an app,
 * names both ways, tokens and code hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "core/complaint.h"
#include "core/subscriber.h"
#include "crypto/tokens.h"

#include <sodium.h>
#include <string.h>

static sn_otp fresh_code(int64_t now, const sn_subscriber_options *o)
{
    sn_otp c;
    memset(&c, 0, sizeof(c));
    c.number = 8613812345678ull;
    c.created = now;
    c.expires = now + o->otp_ttl_s;
    return c;
}

static void test_wrong_answers_then_lockout(void **state)
{
    (void)state;
    sn_subscriber_options o;
    sn_subscriber_defaults(&o);
    sn_otp c = fresh_code(1000, &o);
    sn_otp_pair a = {0, 0};
    for (uint32_t i = 1; i < o.otp_max_attempts; i++) {
        assert_int_equal(sn_otp_judge(&c, &a, 0, 1000 + i, &o), SN_OTP_WRONG);
        assert_int_equal(c.attempts, i);
        assert_int_equal(a.wrong, i);
        assert_int_equal(sn_otp_left(&c, &a, &o), o.otp_max_attempts - i);
    }
    assert_int_equal(sn_otp_judge(&c, &a, 0, 1010, &o), SN_OTP_LOCKOUT);
    assert_int_equal(a.until, 1010 + o.lockout_s);
    assert_true(sn_otp_pair_locked(&a, 1011, &o));
    /* locked: even the right answer is not checked, and nothing is counted */
    assert_int_equal(sn_otp_judge(&c, &a, 1, 1011, &o), SN_OTP_LOCKED);
    assert_int_equal(c.attempts, o.otp_max_attempts);
    assert_int_equal(a.wrong, o.otp_max_attempts);
    /* the code itself lives on: that address locked only itself out */
    assert_int_equal(c.locked_until, 0);
    sn_otp_pair b = {0, 0};
    assert_false(sn_otp_pair_locked(&b, 1011, &o));
    assert_int_equal(sn_otp_judge(&c, &b, 1, 1011, &o), SN_OTP_OK);
    /* after the lockout the address counts from nothing again */
    c = fresh_code(1010 + o.lockout_s, &o);
    assert_false(sn_otp_pair_locked(&a, 1010 + o.lockout_s, &o));
    assert_int_equal(sn_otp_judge(&c, &a, 0, 1010 + o.lockout_s, &o), SN_OTP_WRONG);
    assert_int_equal(a.wrong, 1);
}

static void test_one_address_cannot_lock_out_another(void **state)
{
    (void)state;
    sn_subscriber_options o;
    sn_subscriber_defaults(&o);
    sn_otp c = fresh_code(1000, &o);
    sn_otp_pair attacker = {0, 0}, subscriber = {0, 0};
    for (uint32_t i = 0; i < o.otp_max_attempts; i++)
        sn_otp_judge(&c, &attacker, 0, 1001, &o);
    assert_true(sn_otp_pair_locked(&attacker, 1002, &o));
    /* the subscriber's own slips still leave it attempts of its own */
    assert_int_equal(sn_otp_judge(&c, &subscriber, 0, 1002, &o), SN_OTP_WRONG);
    assert_int_equal(sn_otp_left(&c, &subscriber, &o), o.otp_max_attempts - 1);
    assert_int_equal(sn_otp_judge(&c, &subscriber, 1, 1003, &o), SN_OTP_OK);
    assert_int_equal(subscriber.wrong, 0); /* a right answer clears the address's count */
}

static void test_a_code_takes_a_bounded_number_of_wrong_answers(void **state)
{
    (void)state;
    sn_subscriber_options o;
    sn_subscriber_defaults(&o);
    assert_true(o.otp_code_max_wrong > o.otp_max_attempts); /* one address never kills it */
    sn_otp c = fresh_code(1000, &o);
    sn_otp_pair pairs[8];
    uint32_t counted = 0, killed_at = 0;
    memset(pairs, 0, sizeof(pairs));
    /* many addresses, each up to its lockout: the code dies after code_max_wrong */
    for (int a = 0; a < 8; a++) {
        for (uint32_t i = 0; i < o.otp_max_attempts; i++) {
            sn_otp_verdict v = sn_otp_judge(&c, &pairs[a], 0, 1001, &o);
            if (v == SN_OTP_WRONG || v == SN_OTP_LOCKOUT || v == SN_OTP_KILLED)
                counted++;
            if (v == SN_OTP_KILLED || (v == SN_OTP_LOCKOUT && c.expires == c.created))
                killed_at = killed_at ? killed_at : counted;
        }
    }
    assert_int_equal(counted, o.otp_code_max_wrong);
    assert_int_equal(killed_at, o.otp_code_max_wrong);
    assert_int_equal(c.attempts, o.otp_code_max_wrong);
    /* dead: not even the right answer from a fresh address */
    sn_otp_pair fresh = {0, 0};
    assert_int_equal(sn_otp_judge(&c, &fresh, 1, 1002, &o), SN_OTP_NONE);
    /* an address that kills the code before its own lockout hears so */
    sn_otp d = fresh_code(1000, &o);
    sn_otp_pair p = {0, 0};
    d.attempts = o.otp_code_max_wrong - 1;
    assert_int_equal(sn_otp_left(&d, &p, &o), 1);
    assert_int_equal(sn_otp_judge(&d, &p, 0, 1001, &o), SN_OTP_KILLED);
    assert_false(sn_otp_pair_locked(&p, 1001, &o));
}

static void test_an_addresss_wrong_answers_are_forgotten(void **state)
{
    (void)state;
    sn_subscriber_options o;
    sn_subscriber_defaults(&o);
    sn_otp c = fresh_code(1000, &o);
    sn_otp_pair a = {0, 0};
    for (uint32_t i = 1; i < o.otp_max_attempts; i++)
        assert_int_equal(sn_otp_judge(&c, &a, 0, 1000, &o), SN_OTP_WRONG);
    assert_int_equal(a.until, 1000 + SN_OTP_FORGET_S);
    c = fresh_code(1000 + SN_OTP_FORGET_S, &o);
    assert_int_equal(sn_otp_judge(&c, &a, 0, 1000 + SN_OTP_FORGET_S, &o), SN_OTP_WRONG);
    assert_int_equal(a.wrong, 1);
}

static void test_right_answer_uses_the_code(void **state)
{
    (void)state;
    sn_subscriber_options o;
    sn_subscriber_defaults(&o);
    sn_otp c = fresh_code(1000, &o);
    sn_otp_pair a = {0, 0};
    assert_int_equal(sn_otp_judge(&c, &a, 0, 1001, &o), SN_OTP_WRONG);
    assert_int_equal(sn_otp_judge(&c, &a, 1, 1002, &o), SN_OTP_OK);
    assert_int_equal(sn_otp_judge(&c, &a, 1, 1003, &o), SN_OTP_NONE);
    assert_int_equal(sn_otp_judge(NULL, &a, 1, 1003, &o), SN_OTP_NONE);
}

static void test_expiry(void **state)
{
    (void)state;
    sn_subscriber_options o;
    sn_subscriber_defaults(&o);
    sn_otp c = fresh_code(1000, &o);
    sn_otp_pair a = {0, 0};
    assert_int_equal(sn_otp_judge(&c, &a, 1, 1000 + o.otp_ttl_s, &o), SN_OTP_EXPIRED);
    assert_int_equal(c.attempts, 0); /* an expired code counts nothing */
    assert_int_equal(a.wrong, 0);
    c = fresh_code(1000, &o);
    assert_int_equal(sn_otp_judge(&c, &a, 1, 1000 + o.otp_ttl_s - 1, &o), SN_OTP_OK);
}

static void test_sessions(void **state)
{
    (void)state;
    sn_session s;
    sn_number_state st;
    memset(&s, 0, sizeof(s));
    sn_state_init(&st, 8613812345678ull);
    st.status = SN_ST_ACTIVE;
    st.tenure = 2;
    st.last_cancel_day = 19000;
    s.tenure = 2;
    s.cancel_day = 19000;
    s.expires = 2000;
    assert_int_equal(sn_session_judge(&s, &st, 1999), SN_SESSION_OK);
    assert_int_equal(sn_session_judge(&s, &st, 2000), SN_SESSION_EXPIRED);
    st.status = SN_ST_SUSPENDED; /* unpaid, still the subscriber's */
    assert_int_equal(sn_session_judge(&s, &st, 1000), SN_SESSION_OK);
    st.status = SN_ST_FROZEN; /* cancelled */
    assert_int_equal(sn_session_judge(&s, &st, 1000), SN_SESSION_ENDED);
    st.status = SN_ST_ACTIVE;
    st.tenure = 3; /* reissued */
    assert_int_equal(sn_session_judge(&s, &st, 1000), SN_SESSION_ENDED);
    st.tenure = 2;
    st.last_cancel_day = 19100; /* cancelled and reclaimed */
    assert_int_equal(sn_session_judge(&s, &st, 1000), SN_SESSION_ENDED);
    assert_true(sn_has_subscriber(&(sn_number_state){.status = SN_ST_ACTIVE}));
    assert_false(sn_has_subscriber(&(sn_number_state){.status = SN_ST_POOL}));
    assert_false(sn_has_subscriber(&(sn_number_state){.status = SN_ST_UNSEEN}));
}

static void test_complaint_levels(void **state)
{
    (void)state;
    sn_complaint c;
    memset(&c, 0, sizeof(c));
    c.app = 7;
    c.created = 1000;
    c.period = 100;
    assert_int_equal(sn_complaint_level_at(&c, 1000), SN_LEVEL_APP);
    assert_int_equal(sn_complaint_level_at(&c, 1099), SN_LEVEL_APP);
    assert_int_equal(sn_complaint_level_at(&c, 1100), SN_LEVEL_CARRIER);
    assert_int_equal(sn_complaint_level_at(&c, 1200), SN_LEVEL_REGULATOR);
    assert_int_equal(sn_complaint_level_at(&c, 99999), SN_LEVEL_REGULATOR);
    assert_int_equal(sn_complaint_level_ends(&c, SN_LEVEL_APP), 1100);
    assert_int_equal(sn_complaint_level_ends(&c, SN_LEVEL_CARRIER), 1200);
    assert_int_equal(sn_complaint_level_ends(&c, SN_LEVEL_REGULATOR), 0);
    assert_int_equal(sn_complaint_level_starts(&c, SN_LEVEL_REGULATOR), 1200);
    c.resolved_at = 1150; /* resolved by the carrier: the level stops there */
    assert_int_equal(sn_complaint_level_at(&c, 5000), SN_LEVEL_CARRIER);
    c.resolved_at = 0;
    c.app = 0; /* no app: the carrier first */
    assert_int_equal(sn_complaint_level_at(&c, 1000), SN_LEVEL_CARRIER);
    assert_int_equal(sn_complaint_level_at(&c, 1100), SN_LEVEL_REGULATOR);
    assert_int_equal(sn_complaint_level_starts(&c, SN_LEVEL_CARRIER), 1000);
    assert_int_equal(sn_complaint_level_ends(&c, SN_LEVEL_CARRIER), 1100);
    assert_int_equal(sn_complaint_level_at(&c, 900), SN_LEVEL_CARRIER); /* clock behind */
}

static void test_names(void **state)
{
    (void)state;
    static const char *const kinds[] = {"harassment", "cannot_register", "takeover", "other"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(sn_complaint_kind_name(i + 1), kinds[i]);
        assert_int_equal(sn_complaint_kind_parse(kinds[i]), i + 1);
    }
    assert_null(sn_complaint_kind_name(0));
    assert_int_equal(sn_complaint_kind_parse("spam"), 0);
    assert_string_equal(sn_level_name(SN_LEVEL_REGULATOR), "regulator");
    assert_int_equal(sn_level_parse("carrier"), SN_LEVEL_CARRIER);
    assert_int_equal(sn_level_parse("police"), -1);
    assert_null(sn_level_name(3));
    assert_int_equal(sn_scope_parse("previous"), SN_SCOPE_PREVIOUS);
    assert_int_equal(sn_scope_parse("mine"), SN_SCOPE_MINE);
    assert_int_equal(sn_scope_parse("all"), 0);
    assert_string_equal(sn_scope_name(SN_SCOPE_MINE), "mine");
    assert_int_equal(sn_rate_window(7199), 3600);
    assert_int_equal(sn_rate_window(7200), 7200);
}

static void test_tokens(void **state)
{
    (void)state;
    char text[SN_SESSION_TOKEN_LEN + 1], other[SN_SESSION_TOKEN_LEN + 1], code[SN_OTP_DIGITS + 1];
    uint8_t h1[SN_SECRET_HASH_LEN], h2[SN_SECRET_HASH_LEN];
    sn_secret secret, secret2;
    assert_true(sodium_init() >= 0);
    sn_session_token_new(text, h1);
    assert_int_equal(strlen(text), SN_SESSION_TOKEN_LEN);
    assert_true(sn_session_token_shaped(text, strlen(text)));
    sn_session_token_hash(text, strlen(text), h2);
    assert_memory_equal(h1, h2, sizeof(h1));
    sn_session_token_new(other, h2);
    assert_string_not_equal(text, other);
    assert_false(sn_session_token_shaped("sn_0123", 7));
    text[10] = 'G';
    assert_false(sn_session_token_shaped(text, strlen(text)));
    for (int i = 0; i < 100; i++) {
        sn_otp_new_code(code);
        assert_true(sn_otp_code_valid(code, strlen(code)));
    }
    assert_false(sn_otp_code_valid("12345", 5));
    assert_false(sn_otp_code_valid("12345a", 6));
    /* the code hash is keyed by the secret and the number */
    memset(secret.key, 1, sizeof(secret.key));
    memset(secret2.key, 2, sizeof(secret2.key));
    sn_otp_hash(&secret, 8613812345678ull, "123456", 6, h1);
    sn_otp_hash(&secret, 8613812345678ull, "123456", 6, h2);
    assert_memory_equal(h1, h2, sizeof(h1));
    sn_otp_hash(&secret2, 8613812345678ull, "123456", 6, h2);
    assert_memory_not_equal(h1, h2, sizeof(h1));
    sn_otp_hash(&secret, 8613812345679ull, "123456", 6, h2);
    assert_memory_not_equal(h1, h2, sizeof(h1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_answers_then_lockout),
        cmocka_unit_test(test_one_address_cannot_lock_out_another),
        cmocka_unit_test(test_a_code_takes_a_bounded_number_of_wrong_answers),
        cmocka_unit_test(test_an_addresss_wrong_answers_are_forgotten),
        cmocka_unit_test(test_right_answer_uses_the_code),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_complaint_levels),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_tokens),
    };
    return sn_run_tests(tests);
}

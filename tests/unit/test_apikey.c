/* test_apikey.c - auth/apikey.c: the keyring finds a live key by its text,
 * again and again (the repeat skips the hash) and alternating between keys;
 * a text one character off, shorter or longer is not found; a revoked key is
 * refused on the very next lookup, also right after a found one; keys on
 * other threads are found too. */
#include "unit.h"

#include "auth/apikey.h"

#include <pthread.h>
#include <string.h>

typedef struct {
    char text[SN_KEY_TEXT_LEN + 1];
    sn_api_key k;
} made_key;

static void make(sn_keyring *kr, made_key *m, uint32_t id, const char *name)
{
    memset(&m->k, 0, sizeof(m->k));
    m->k.id = id;
    m->k.role = SN_ROLE_APP;
    snprintf(m->k.name, sizeof(m->k.name), "%s", name);
    sn_apikey_generate(m->text, m->k.hash);
    sn_keyring_put(kr, &m->k);
}

static int find_id(sn_keyring *kr, const char *text, size_t len)
{
    sn_api_key out;
    return sn_keyring_find(kr, text, len, &out) ? (int)out.id : 0;
}

static void test_found_again_and_alternating(void **state)
{
    (void)state;
    sn_keyring *kr = sn_keyring_new();
    made_key a, b;
    make(kr, &a, 1, "a");
    make(kr, &b, 2, "b");
    for (int i = 0; i < 3; i++)
        assert_int_equal(find_id(kr, a.text, SN_KEY_TEXT_LEN), 1);
    for (int i = 0; i < 6; i++)
        assert_int_equal(find_id(kr, i % 2 ? b.text : a.text, SN_KEY_TEXT_LEN), i % 2 ? 2 : 1);
    sn_keyring_free(kr);
}

static void test_a_text_off_by_anything_is_not_found(void **state)
{
    (void)state;
    sn_keyring *kr = sn_keyring_new();
    made_key a;
    make(kr, &a, 1, "a");
    assert_int_equal(find_id(kr, a.text, SN_KEY_TEXT_LEN), 1); /* now the last one seen */
    char off[SN_KEY_TEXT_LEN + 2];
    for (size_t i = 0; i < SN_KEY_TEXT_LEN; i++) {
        memcpy(off, a.text, SN_KEY_TEXT_LEN + 1);
        off[i] = off[i] == '0' ? '1' : '0';
        assert_int_equal(find_id(kr, off, SN_KEY_TEXT_LEN), 0);
        assert_int_equal(find_id(kr, a.text, SN_KEY_TEXT_LEN), 1);
    }
    assert_int_equal(find_id(kr, a.text, SN_KEY_TEXT_LEN - 1), 0);
    memcpy(off, a.text, SN_KEY_TEXT_LEN);
    off[SN_KEY_TEXT_LEN] = '0';
    assert_int_equal(find_id(kr, off, SN_KEY_TEXT_LEN + 1), 0);
    assert_int_equal(find_id(kr, "", 0), 0);
    sn_keyring_free(kr);
}

static void test_revoked_is_refused_at_once(void **state)
{
    (void)state;
    sn_keyring *kr = sn_keyring_new();
    made_key a;
    make(kr, &a, 7, "a");
    assert_int_equal(find_id(kr, a.text, SN_KEY_TEXT_LEN), 7);
    sn_api_key revoke = {.id = 7, .revoked = 1};
    sn_keyring_put(kr, &revoke);
    assert_int_equal(find_id(kr, a.text, SN_KEY_TEXT_LEN), 0);
    sn_keyring_put(kr, &a.k); /* live again (as a reload would find it) */
    assert_int_equal(find_id(kr, a.text, SN_KEY_TEXT_LEN), 7);
    sn_keyring_free(kr);
}

typedef struct {
    sn_keyring *kr;
    const made_key *keys;
    int found;
} finder;

static void *find_all(void *arg)
{
    finder *f = arg;
    for (int i = 0; i < 1000; i++)
        f->found += find_id(f->kr, f->keys[i % 3].text, SN_KEY_TEXT_LEN) == (int)(i % 3) + 1;
    return NULL;
}

static void test_threads_each_find_every_key(void **state)
{
    (void)state;
    sn_keyring *kr = sn_keyring_new();
    made_key keys[3];
    make(kr, &keys[0], 1, "a");
    make(kr, &keys[1], 2, "b");
    make(kr, &keys[2], 3, "c");
    finder f[2] = {{kr, keys, 0}, {kr, keys, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, find_all, &f[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(f[0].found, 1000);
    assert_int_equal(f[1].found, 1000);
    sn_keyring_free(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found_again_and_alternating),
        cmocka_unit_test(test_a_text_off_by_anything_is_not_found),
        cmocka_unit_test(test_revoked_is_refused_at_once),
        cmocka_unit_test(test_threads_each_find_every_key),
    };
    return sn_run_tests(tests);
}

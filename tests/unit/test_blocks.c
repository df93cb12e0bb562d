/* test_blocks.c - the compact state store against a plain array: random
 * puts, single and batched gets, loads in any order with repeats, escaped days, its size, readers
 * during writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "index/blocks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BASE 8613800000000ull
#define UNIVERSE 50000 /* five blocks */

typedef struct {
    uint64_t packed[UNIVERSE];
    uint8_t present[UNIVERSE];
} reference;

static uint64_t rng_state = 88172645463325252ull;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A packed day: none, one the 16 bits hold, or (rarely) one they do not. */
static uint64_t random_day(void)
{
    uint64_t r = next_random() % 100;
    if (r < 10)
        return 0;
    if (r < 13)
        return 1 + next_random() % 25567; /* before 1970: escaped */
    if (r < 15)
        return 91103 + next_random() % 1000; /* after 2149: escaped */
    return 25568 + next_random() % 65535;
}

static uint64_t random_packed(void)
{
    return (next_random() & 0xf) | random_day() << 4 | random_day() << 24 | random_day() << 44;
}

static void same_as(sn_blocks *b, const reference *ref)
{
    size_t present = 0;
    for (size_t i = 0; i < UNIVERSE; i++) {
        uint64_t v = 0xdead;
        int got = sn_blocks_get(b, BASE + i, &v);
        assert_int_equal(got, ref->present[i]);
        if (got)
            assert_int_equal(v, ref->packed[i]);
        present += ref->present[i];
    }
    assert_int_equal(sn_blocks_count(b), present);
    /* the same answers from get_many: every number in order (chunks of
     * one block), then a random pick with repeats and numbers of no block */
    static uint64_t numbers[UNIVERSE + 1000], packed[UNIVERSE + 1000];
    static uint8_t found[UNIVERSE + 1000];
    size_t n = 0;
    for (size_t i = 0; i < UNIVERSE; i++)
        numbers[n++] = BASE + i;
    for (size_t i = 0; i < 1000; i++)
        numbers[n++] =
            BASE - 5 * SN_BLOCK_NUMBERS + next_random() % (UNIVERSE + 10 * SN_BLOCK_NUMBERS);
    for (size_t from = 0; from < n;) {
        size_t count = 1 + next_random() % 2000;
        count = count > n - from ? n - from : count;
        memset(found + from, 2, count);
        sn_blocks_get_many(b, numbers + from, count, packed + from, found + from);
        from += count;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = numbers[i] - BASE;
        int in = numbers[i] >= BASE && k < UNIVERSE && ref->present[k];
        assert_int_equal(found[i], in);
        if (in)
            assert_int_equal(packed[i], ref->packed[k]);
    }
}

static void random_puts_match_a_plain_array(void **state)
{
    (void)state;
    reference *ref = calloc(1, sizeof(*ref));
    sn_blocks *b = sn_blocks_new();
    uint64_t numbers[64], packed[64];
    for (int round = 0; round < 4000; round++) {
        size_t n = 1 + next_random() % 64;
        for (size_t i = 0; i < n; i++) {
            size_t k = next_random() % UNIVERSE;
            numbers[i] = BASE + k;
            packed[i] = random_packed();
            ref->packed[k] = packed[i];
            ref->present[k] = 1;
        }
        assert_int_equal(sn_blocks_put_many(b, numbers, packed, n), SN_OK);
        if (round % 500 == 499)
            same_as(b, ref);
    }
    same_as(b, ref);
    assert_int_equal(sn_blocks_get(b, BASE + UNIVERSE, &numbers[0]), 0);
    assert_int_equal(sn_blocks_get(b, BASE - 1, &numbers[0]), 0);
    sn_blocks_free(b);
    free(ref);
}

/* A load of numbers in random order, some several times, equals the same
 * puts one by one, and is no bigger. */
static void load_in_any_order_equals_puts(void **state)
{
    (void)state;
    enum { N = 120000 };
    reference *ref = calloc(1, sizeof(*ref));
    uint64_t *numbers = malloc(N * sizeof(*numbers)), *packed = malloc(N * sizeof(*packed));
    sn_blocks *loaded = sn_blocks_new(), *put = sn_blocks_new();
    for (size_t i = 0; i < N; i++) {
        size_t k = next_random() % UNIVERSE;
        numbers[i] = BASE + k;
        packed[i] = random_packed();
        ref->packed[k] = packed[i];
        ref->present[k] = 1;
    }
    assert_int_equal(sn_blocks_load(loaded, numbers, packed, N), SN_OK);
    assert_int_equal(sn_blocks_put_many(put, numbers, packed, N), SN_OK);
    same_as(loaded, ref);
    same_as(put, ref);
    assert_true(sn_blocks_bytes(loaded) <= sn_blocks_bytes(put));
    /* and it goes on taking updates */
    for (size_t i = 0; i < 1000; i++) {
        size_t k = next_random() % UNIVERSE;
        uint64_t n = BASE + k, v = random_packed();
        ref->packed[k] = v;
        ref->present[k] = 1;
        assert_int_equal(sn_blocks_put_many(loaded, &n, &v, 1), SN_OK);
    }
    same_as(loaded, ref);
    sn_blocks_free(loaded);
    sn_blocks_free(put);
    free(numbers);
    free(packed);
    free(ref);
}

static int count_one(void *ctx, uint64_t n)
{
    assert_true(n >= BASE && n < BASE + UNIVERSE);
    (*(size_t *)ctx)++;
    return 0;
}

/* The same a number at a time (sn_blocks_load_add, as the store's scan
 * feeds it): random order, repeats, and one block given its 10,000
 * numbers more than twice over, so that it folds its repeats while full. */
static void load_a_number_at_a_time_equals_puts(void **state)
{
    (void)state;
    enum { N = 120000, FULL = 25000 };
    reference *ref = calloc(1, sizeof(*ref));
    sn_blocks *added = sn_blocks_new(), *put = sn_blocks_new();
    for (size_t i = 0; i < N + FULL; i++) {
        size_t k = i < FULL ? 20000 + next_random() % 10000 : next_random() % UNIVERSE;
        uint64_t n = BASE + k, v = random_packed();
        ref->packed[k] = v;
        ref->present[k] = 1;
        assert_int_equal(sn_blocks_load_add(added, n, v), SN_OK);
        assert_int_equal(sn_blocks_put_many(put, &n, &v, 1), SN_OK);
    }
    assert_int_equal(sn_blocks_load_end(added), SN_OK);
    same_as(added, ref);
    assert_true(sn_blocks_bytes(added) <= sn_blocks_bytes(put));
    size_t listed = 0;
    assert_int_equal(sn_blocks_each(added, count_one, &listed), 0);
    assert_int_equal(listed, sn_blocks_count(added));
    sn_blocks_free(added);
    sn_blocks_free(put);
    free(ref);
}

/* One number's state goes from escaped to not and back. */
static void escaped_days_come_and_go(void **state)
{
    (void)state;
    sn_blocks *b = sn_blocks_new();
    uint64_t n = BASE + 4321, other = BASE + 4322, v, got;
    uint64_t early = 5 | (uint64_t)100 << 4,
             late = 3 | (uint64_t)26000 << 24 | (uint64_t)95000 << 44,
             plain = 1 | (uint64_t)40000 << 4 | (uint64_t)40001 << 24;
    uint64_t seq[] = {early, plain, late, late, plain, early, early};
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        v = seq[i];
        assert_int_equal(sn_blocks_put_many(b, &n, &v, 1), SN_OK);
        v = seq[(i + 1) % 7];
        assert_int_equal(sn_blocks_put_many(b, &other, &v, 1), SN_OK);
        assert_int_equal(sn_blocks_get(b, n, &got), 1);
        assert_int_equal(got, seq[i]);
        assert_int_equal(sn_blocks_get(b, other, &got), 1);
        assert_int_equal(got, seq[(i + 1) % 7]);
    }
    assert_int_equal(sn_blocks_count(b), 2);
    sn_blocks_free(b);
}

/* Dense blocks, as carriers allocate them: under 10 bytes a number. */
static void dense_blocks_cost_under_ten_bytes_a_number(void **state)
{
    (void)state;
    enum { BLOCKS = 40 };
    uint64_t *numbers = malloc(BLOCKS * 10000 * sizeof(*numbers));
    uint64_t *packed = malloc(BLOCKS * 10000 * sizeof(*packed));
    size_t n = 0;
    for (size_t blk = 0; blk < BLOCKS; blk++) /* blocks apart, each 80% used */
        for (size_t i = 0; i < 10000; i++)
            if (next_random() % 10 < 8) {
                numbers[n] = BASE + blk * 10000 * 7 + i;
                packed[n++] = 1 | (uint64_t)40000 << 4 | (uint64_t)40000 << 24;
            }
    sn_blocks *loaded = sn_blocks_new(), *put = sn_blocks_new();
    assert_int_equal(sn_blocks_load(loaded, numbers, packed, n), SN_OK);
    assert_int_equal(sn_blocks_put_many(put, numbers, packed, n), SN_OK);
    double per_loaded = (double)sn_blocks_bytes(loaded) / (double)n;
    double per_put = (double)sn_blocks_bytes(put) / (double)n;
    print_message("%zu numbers: %.2f bytes a number loaded, %.2f put one by one\n", n, per_loaded,
                  per_put);
    assert_true(per_loaded < 10.0);
    assert_true(per_put < 11.0);
    sn_blocks_free(loaded);
    sn_blocks_free(put);
    free(numbers);
    free(packed);
}

/* ---- readers during writes --------------------------------------------- */

/* The state written for number k at version v: its status bits say k % 8,
 * so a reader can tell a torn or misplaced entry. */
static uint64_t versioned(size_t k, uint64_t v)
{
    return (k % 8) | (uint64_t)(25568 + v % 60000) << 4 | (uint64_t)(25568 + k % 60000) << 24;
}

typedef struct {
    sn_blocks *b;
    atomic_int stop;
    atomic_size_t checked;
} reader_args;

static void *reader(void *arg)
{
    reader_args *a = arg;
    uint64_t r = 12345;
    while (!atomic_load(&a->stop)) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        size_t k = (size_t)(r >> 33) % UNIVERSE;
        uint64_t v;
        if (sn_blocks_get(a->b, BASE + k, &v)) {
            assert_int_equal(v & 7, k % 8);
            assert_int_equal((v >> 24) & 0xfffff, 25568 + k % 60000);
            atomic_fetch_add(&a->checked, 1);
        }
        /* and a batch's way: a run of numbers from k on */
        uint64_t numbers[40], packed[40];
        uint8_t found[40];
        for (size_t i = 0; i < 40; i++)
            numbers[i] = BASE + (k + i * 997) % UNIVERSE;
        sn_blocks_get_many(a->b, numbers, 40, packed, found);
        for (size_t i = 0; i < 40; i++) {
            if (!found[i])
                continue;
            size_t ki = (size_t)(numbers[i] - BASE);
            assert_int_equal(packed[i] & 7, ki % 8);
            assert_int_equal((packed[i] >> 24) & 0xfffff, 25568 + ki % 60000);
            atomic_fetch_add(&a->checked, 1);
        }
    }
    return NULL;
}

static void readers_during_writes(void **state)
{
    (void)state;
    reader_args a = {.b = sn_blocks_new()};
    atomic_init(&a.stop, 0);
    atomic_init(&a.checked, 0);
    pthread_t t[2];
    uint64_t numbers[32], packed[32];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &a), 0);
    for (uint64_t round = 0; round < 6000; round++) {
        for (size_t i = 0; i < 32; i++) {
            size_t k = next_random() % UNIVERSE;
            numbers[i] = BASE + k;
            packed[i] = versioned(k, round);
        }
        assert_int_equal(sn_blocks_put_many(a.b, numbers, packed, 32), SN_OK);
    }
    atomic_store(&a.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_true(sn_blocks_count(a.b) > UNIVERSE / 2);
    assert_true(atomic_load(&a.checked) > 0);
    sn_blocks_free(a.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_puts_match_a_plain_array),
        cmocka_unit_test(load_in_any_order_equals_puts),
        cmocka_unit_test(load_a_number_at_a_time_equals_puts),
        cmocka_unit_test(escaped_days_come_and_go),
        cmocka_unit_test(dense_blocks_cost_under_ten_bytes_a_number),
        cmocka_unit_test(readers_during_writes),
    };
    return sn_run_tests(tests);
}

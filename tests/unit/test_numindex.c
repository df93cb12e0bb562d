/* test_numindex.c - the serving index: packing, growth, hashed lookups, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/date.h"
#include "core/errors.h"
#include "core/verdict.h"
#include "index/numindex.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static sn_number_state state_of(sn_number n, int status, sn_day first, sn_day act, sn_day cancel)
{
    sn_number_state st;
    sn_state_init(&st, n);
    st.status = (uint8_t)status;
    st.first_is_activation = act == first;
    st.first_day = first;
    st.last_activation_day = act;
    st.last_cancel_day = cancel;
    return st;
}

static void round_trips_verdict_fields(void **state)
{
    (void)state;
    sn_numindex *ix = sn_numindex_new();
    sn_number_state in = state_of(8613800000001ull, SN_ST_FROZEN, sn_day_from_civil(2020, 1, 1),
                                  sn_day_from_civil(2020, 1, 1), sn_day_from_civil(2024, 6, 1));
    sn_number_state out;
    assert_int_equal(sn_numindex_put(ix, &in), SN_OK);
    assert_int_equal(sn_numindex_get(ix, in.number, &out), 1);
    assert_int_equal(out.status, SN_ST_FROZEN);
    assert_int_equal(out.first_is_activation, 1);
    assert_int_equal(out.first_day, in.first_day);
    assert_int_equal(out.last_activation_day, in.last_activation_day);
    assert_int_equal(out.last_cancel_day, in.last_cancel_day);
    assert_int_equal(sn_verdict_of(&out, sn_day_from_civil(2024, 6, 1), NULL),
                     SN_VERDICT_DISCONNECTED);
    assert_int_equal(sn_numindex_get(ix, 8613800000002ull, &out), 0);
    assert_int_equal(out.status, SN_ST_UNSEEN);
    sn_numindex_free(ix);
}

static void none_days_and_range_limits(void **state)
{
    (void)state;
    assert_int_equal(sn_numindex_min_day(), sn_day_from_civil(1900, 1, 1));
    sn_numindex *ix = sn_numindex_new();
    sn_number_state st = state_of(12025550123ull, SN_ST_SUSPENDED, sn_numindex_min_day(),
                                  SN_DAY_NONE, SN_DAY_NONE),
                    out;
    st.first_is_activation = 0;
    assert_int_equal(sn_numindex_put(ix, &st), SN_OK);
    assert_int_equal(sn_numindex_get(ix, st.number, &out), 1);
    assert_int_equal(out.last_activation_day, SN_DAY_NONE);
    assert_int_equal(out.last_cancel_day, SN_DAY_NONE);
    assert_int_equal(out.first_day, sn_numindex_min_day());
    st.first_day = sn_numindex_min_day() - 1;
    assert_int_equal(sn_numindex_put(ix, &st), SN_ELIMIT);
    sn_numindex_free(ix);
}

static void grows_and_replaces(void **state)
{
    (void)state;
    sn_numindex *ix = sn_numindex_new();
    sn_day d = sn_day_from_civil(2021, 3, 4);
    for (sn_number n = 1; n <= 200000; n++) {
        sn_number_state st = state_of(8613000000000ull + n * 7, SN_ST_ACTIVE, d, d, SN_DAY_NONE);
        assert_int_equal(sn_numindex_put(ix, &st), SN_OK);
    }
    assert_int_equal(sn_numindex_count(ix), 200000);
    sn_number_state st = state_of(8613000000000ull + 7, SN_ST_POOL, d, d, d + 1), out;
    assert_int_equal(sn_numindex_put(ix, &st), SN_OK);
    assert_int_equal(sn_numindex_count(ix), 200000);
    assert_int_equal(sn_numindex_get(ix, st.number, &out), 1);
    assert_int_equal(out.status, SN_ST_POOL);
    assert_int_equal(sn_numindex_get(ix, 8613000000000ull + 200000 * 7, &out), 1);
    assert_int_equal(sn_numindex_get(ix, 8613000000000ull + 3, &out), 0);
    sn_numindex_free(ix);
}

static void finds_numbers_by_digest(void **state)
{
    (void)state;
    sn_numindex *ix = sn_numindex_new();
    sn_day d = sn_day_from_civil(2021, 3, 4);
    sn_number_state st = state_of(8613800000001ull, SN_ST_ACTIVE, d, d, SN_DAY_NONE);
    uint8_t sha[32], md5[16], sm3[32];
    sn_number n = 0;
    assert_int_equal(sn_numindex_put(ix, &st), SN_OK);
    sn_number_sha256(st.number, sha);
    sn_number_md5(st.number, md5);
    sn_number_sm3(st.number, sm3);
    /* sha256("+8613800000001") starts 75b0b350; md5 starts 759b40c0;
     * sm3 (openssl dgst -sm3) starts d8688690 and ends daf70242 */
    assert_int_equal(sha[0], 0x75);
    assert_int_equal(sha[1], 0xb0);
    assert_int_equal(md5[0], 0x75);
    assert_int_equal(md5[1], 0x9b);
    assert_int_equal(sm3[0], 0xd8);
    assert_int_equal(sm3[1], 0x68);
    assert_int_equal(sm3[31], 0x42);
    assert_int_equal(sn_numindex_find_sm3(ix, sm3, &n), 1);
    assert_int_equal(n, st.number);
    sm3[31] ^= 1;
    assert_int_equal(sn_numindex_find_sm3(ix, sm3, &n), 0);
    n = 0;
    assert_int_equal(sn_numindex_find_sha256(ix, sha, &n), 1);
    assert_int_equal(n, st.number);
    n = 0;
    assert_int_equal(sn_numindex_find_md5(ix, md5, &n), 1);
    assert_int_equal(n, st.number);
    sha[31] ^= 1; /* same prefix, other digest: confirmed away */
    assert_int_equal(sn_numindex_find_sha256(ix, sha, &n), 0);
    sn_numindex_free(ix);
}

/* Puts 8615000000000 + [0, 60000): one at a time (batch 1, sn_numindex_put)
 * or `batch` at a time. */
typedef struct {
    sn_numindex *ix;
    size_t batch;
} writer_args;

static void *writer(void *arg)
{
    writer_args *w = arg;
    sn_day d = sn_day_from_civil(2022, 1, 1);
    sn_number_state batch[500];
    for (sn_number n = 0; n < 60000; n += w->batch) {
        for (size_t i = 0; i < w->batch; i++)
            batch[i] = state_of(8615000000000ull + n + i, SN_ST_ACTIVE, d, d, SN_DAY_NONE);
        int rc = w->batch == 1 ? sn_numindex_put(w->ix, batch)
                               : sn_numindex_put_many(w->ix, batch, w->batch);
        if (rc != SN_OK)
            return (void *)1;
    }
    return NULL;
}

/* Readers while the writer puts: a number is seen with its state and its
 * digest findable, or not at all. */
static void readers_with_a_writer(size_t batch)
{
    writer_args w = {sn_numindex_new(), batch};
    pthread_t t;
    sn_number_state out;
    uint8_t sha[32];
    sn_number found;
    void *rc;
    assert_int_equal(pthread_create(&t, NULL, writer, &w), 0);
    for (int round = 0; round < 20; round++)
        for (sn_number n = 0; n < 60000; n += 89)
            if (sn_numindex_get(w.ix, 8615000000000ull + n, &out)) {
                assert_int_equal(out.status, SN_ST_ACTIVE);
                sn_number_sha256(8615000000000ull + n, sha);
                assert_int_equal(sn_numindex_find_sha256(w.ix, sha, &found), 1);
            }
    pthread_join(t, &rc);
    assert_null(rc);
    assert_int_equal(sn_numindex_count(w.ix), 60000);
    sn_numindex_free(w.ix);
}

static void readers_and_a_writer_together(void **state)
{
    (void)state;
    readers_with_a_writer(1);
}

static void readers_while_batches_go_in(void **state)
{
    (void)state;
    readers_with_a_writer(500);
}

/* number is found by its SHA-256, its MD5 and its SM3. */
static void found_by_digests(sn_numindex *ix, sn_number number)
{
    uint8_t sha[32], md5[16], sm3[32];
    sn_number n = 0;
    sn_number_sha256(number, sha);
    sn_number_md5(number, md5);
    sn_number_sm3(number, sm3);
    assert_int_equal(sn_numindex_find_sm3(ix, sm3, &n), 1);
    assert_int_equal(n, number);
    n = 0;
    assert_int_equal(sn_numindex_find_sha256(ix, sha, &n), 1);
    assert_int_equal(n, number);
    n = 0;
    assert_int_equal(sn_numindex_find_md5(ix, md5, &n), 1);
    assert_int_equal(n, number);
}

static void bulk_load_then_updates(void **state)
{
    (void)state;
    enum { N = 100000 };
    sn_numindex *ix = sn_numindex_new();
    sn_number_state *states = calloc(N, sizeof(*states)), out;
    sn_day d = sn_day_from_civil(2019, 7, 1);
    for (size_t i = 0; i < N; i++)
        states[i] = state_of(8618600000000ull + i * 13, SN_ST_ACTIVE, d, d, SN_DAY_NONE);
    assert_int_equal(sn_numindex_load(ix, states, N), SN_OK);
    assert_int_equal(sn_numindex_count(ix), N);
    for (size_t i = 0; i < N; i += 997) {
        assert_int_equal(sn_numindex_get(ix, states[i].number, &out), 1);
        assert_int_equal(out.first_day, d);
        found_by_digests(ix, states[i].number);
    }
    sn_number_state later = state_of(states[5].number, SN_ST_FROZEN, d, d, d + 30);
    assert_int_equal(sn_numindex_put(ix, &later), SN_OK);
    assert_int_equal(sn_numindex_get(ix, later.number, &out), 1);
    assert_int_equal(out.status, SN_ST_FROZEN);
    assert_int_equal(sn_numindex_count(ix), N);
    free(states);
    sn_numindex_free(ix);
}

/* A batch: new and known numbers, growth inside the batch, a number twice
 * (the later state wins), a state that does not fit (left out, SN_ELIMIT),
 * digests of the new numbers found. */
static void puts_a_batch_in_order(void **state)
{
    (void)state;
    enum { N = 100000 };
    sn_numindex *ix = sn_numindex_new();
    sn_number_state *batch = calloc(N + 2, sizeof(*batch)), out;
    sn_day d = sn_day_from_civil(2023, 5, 6);
    sn_number_state known = state_of(8615500000000ull, SN_ST_ACTIVE, d, d, SN_DAY_NONE);
    assert_int_equal(sn_numindex_put(ix, &known), SN_OK);
    for (size_t i = 0; i < N; i++) /* i = 0 is the known number */
        batch[i] = state_of(8615500000000ull + i * 11, SN_ST_ACTIVE, d, d, SN_DAY_NONE);
    batch[N] = state_of(batch[7].number, SN_ST_FROZEN, d, d, d + 3); /* later, same number */
    batch[N + 1] = state_of(8615400000000ull, SN_ST_ACTIVE, sn_numindex_min_day() - 1, d,
                            SN_DAY_NONE); /* does not fit */
    batch[0].status = SN_ST_POOL;
    assert_int_equal(sn_numindex_put_many(ix, batch, N + 2), SN_ELIMIT);
    assert_int_equal(sn_numindex_count(ix), N);
    assert_int_equal(sn_numindex_get(ix, batch[N + 1].number, &out), 0);
    assert_int_equal(sn_numindex_get(ix, batch[0].number, &out), 1);
    assert_int_equal(out.status, SN_ST_POOL);
    assert_int_equal(sn_numindex_get(ix, batch[7].number, &out), 1);
    assert_int_equal(out.status, SN_ST_FROZEN);
    assert_int_equal(out.last_cancel_day, d + 3);
    for (size_t i = 0; i < N; i += 331) {
        assert_int_equal(sn_numindex_get(ix, batch[i].number, &out), 1);
        found_by_digests(ix, batch[i].number);
    }
    assert_int_equal(sn_numindex_put_many(ix, batch, 0), SN_OK);
    free(batch);
    sn_numindex_free(ix);
}

/* ---- the range check ---------------------------------------------------- */

static uint32_t prefix_of(sn_number n)
{
    uint8_t sha[32];
    sn_number_sha256(n, sha);
    return (uint32_t)sha[0] << 12 | (uint32_t)sha[1] << 4 | sha[2] >> 4;
}

static int by_number(const void *a, const void *b)
{
    sn_number x = *(const sn_number *)a, y = *(const sn_number *)b;
    return x < y ? -1 : x > y;
}

/* The range of `prefix` holds exactly the numbers[0..n) with that prefix
 * (prefixes[i] is numbers[i]'s). */
static void range_is_exact(sn_numindex *ix, const sn_number *numbers, const uint32_t *prefixes,
                           size_t n, uint32_t prefix)
{
    sn_number want[64], got[64];
    size_t w = 0, g = 0;
    for (size_t i = 0; i < n; i++)
        if (prefixes[i] == prefix && w < 64)
            want[w++] = numbers[i];
    assert_int_equal(sn_numindex_range_sha256(ix, prefix, got, 64, &g), SN_OK);
    assert_int_equal(g, w);
    qsort(want, w, sizeof(*want), by_number);
    qsort(got, g, sizeof(*got), by_number);
    assert_memory_equal(want, got, w * sizeof(*want));
}

/* Loaded, then grown by batches and single puts: every sampled number's
 * prefix lists exactly the numbers with it, the first and last prefixes
 * (the ends of a shard's table) too; past max, SN_ELIMIT. Loaded, a shard
 * has 2^14 slots (a home slot per prefix); grown, 2^15 (two per prefix). */
static void range_lists_a_prefix(void **state)
{
    (void)state;
    enum { LOADED = 600000, N = 1000000 };
    sn_numindex *ix = sn_numindex_new();
    sn_number *numbers = calloc(N, sizeof(*numbers)), got[4];
    uint32_t *prefixes = calloc(N, sizeof(*prefixes));
    sn_number_state *states = calloc(N, sizeof(*states));
    sn_day d = sn_day_from_civil(2020, 2, 2);
    size_t g;
    for (size_t i = 0; i < N; i++) {
        numbers[i] = 8613900000000ull + i * 7;
        prefixes[i] = prefix_of(numbers[i]);
        states[i] = state_of(numbers[i], SN_ST_ACTIVE, d, d, SN_DAY_NONE);
    }
    assert_int_equal(sn_numindex_load(ix, states, LOADED), SN_OK);
    assert_int_equal(sn_numindex_put_many(ix, states + LOADED, N - LOADED - 10), SN_OK);
    for (size_t i = N - 10; i < N; i++)
        assert_int_equal(sn_numindex_put(ix, &states[i]), SN_OK);
    for (size_t i = 0; i < N; i += 9973)
        range_is_exact(ix, numbers, prefixes, N, prefixes[i]);
    range_is_exact(ix, numbers, prefixes, N, 0);
    range_is_exact(ix, numbers, prefixes, N, 0xfffff);
    range_is_exact(ix, numbers, prefixes, N, 0x3fff); /* the last of the first shard */
    range_is_exact(ix, numbers, prefixes, N, 0x4000);
    uint32_t p = prefix_of(numbers[0]);
    assert_int_equal(sn_numindex_range_sha256(ix, p, got, 0, &g), SN_ELIMIT);
    assert_int_equal(g, 0);
    free(numbers);
    free(prefixes);
    free(states);
    sn_numindex_free(ix);
}

/* --hashed-checks off: states only; the digest finds and the range say
 * nothing, before and after a load and puts, and the tables are smaller. */
static void without_digests_keeps_states_only(void **state)
{
    (void)state;
    enum { N = 5000 };
    sn_number_state *states = calloc(N, sizeof(*states)), out;
    sn_numindex *with = sn_numindex_new(), *ix = sn_numindex_new();
    uint8_t sha[32], md5[16], sm3[32];
    sn_number found = 0, listed[8];
    size_t n = 99;
    assert_non_null(states);
    sn_numindex_without_digests(ix);
    assert_int_equal(sn_numindex_has_digests(ix), 0);
    assert_int_equal(sn_numindex_has_digests(with), 1);
    for (size_t i = 0; i < N; i++)
        states[i] = state_of(8613800000000ull + i * 7, SN_ST_ACTIVE, sn_day_from_civil(2020, 1, 1),
                             sn_day_from_civil(2020, 1, 1), SN_DAY_NONE);
    assert_int_equal(sn_numindex_load(ix, states, N - 1), SN_OK);
    assert_int_equal(sn_numindex_load(with, states, N - 1), SN_OK);
    assert_int_equal(sn_numindex_put(ix, &states[N - 1]), SN_OK);
    assert_int_equal(sn_numindex_put_many(ix, states, 10), SN_OK);
    assert_int_equal(sn_numindex_count(ix), N);
    for (size_t i = 0; i < N; i += 499) {
        assert_int_equal(sn_numindex_get(ix, states[i].number, &out), 1);
        sn_number_sha256(states[i].number, sha);
        sn_number_md5(states[i].number, md5);
        sn_number_sm3(states[i].number, sm3);
        assert_int_equal(sn_numindex_find_sha256(with, sha, &found), 1);
        assert_int_equal(sn_numindex_find_sha256(ix, sha, &found), 0);
        assert_int_equal(sn_numindex_find_md5(ix, md5, &found), 0);
        assert_int_equal(sn_numindex_find_sm3(ix, sm3, &found), 0);
        uint32_t prefix = (uint32_t)sha[0] << 12 | (uint32_t)sha[1] << 4 | sha[2] >> 4;
        assert_int_equal(sn_numindex_range_sha256(ix, prefix, listed, 8, &n), SN_OK);
        assert_int_equal(n, 0);
    }
    assert_true(sn_numindex_bytes(ix) < sn_numindex_bytes(with));
    sn_numindex_free(ix);
    sn_numindex_free(with);
    free(states);
}

/* Loading a state at a time, as serve does from its store's scan: the
 * states and the digests are all there after sn_numindex_load_end. */
static void loads_a_state_at_a_time(void **state)
{
    (void)state;
    sn_numindex *ix = sn_numindex_new();
    sn_day d = sn_day_from_civil(2021, 3, 4);
    uint8_t sha[32];
    sn_number found = 0;
    sn_number_state out;
    for (sn_number n = 0; n < 30000; n++) {
        sn_number_state st = state_of(8613900000000ull + (n * 7919) % 30011, SN_ST_ACTIVE, d, d,
                                      n % 3 ? SN_DAY_NONE : d + 5);
        assert_int_equal(sn_numindex_load_add(ix, &st), SN_OK);
    }
    sn_number_state old = state_of(8613900099999ull, SN_ST_ACTIVE, sn_numindex_min_day(),
                                   sn_numindex_min_day(), SN_DAY_NONE);
    assert_int_equal(sn_numindex_load_add(ix, &old), SN_OK);
    old.first_day = sn_numindex_min_day() - 1;
    assert_int_equal(sn_numindex_load_add(ix, &old), SN_ELIMIT);
    assert_int_equal(sn_numindex_load_end(ix), SN_OK);
    assert_int_equal(sn_numindex_count(ix), 30001);
    assert_int_equal(sn_numindex_get(ix, 8613900099999ull, &out), 1);
    assert_int_equal(out.first_day, sn_numindex_min_day());
    for (sn_number n = 0; n < 30000; n += 997) {
        sn_number num = 8613900000000ull + (n * 7919) % 30011;
        assert_int_equal(sn_numindex_get(ix, num, &out), 1);
        assert_int_equal(out.last_cancel_day, n % 3 ? SN_DAY_NONE : d + 5);
        sn_number_sha256(num, sha);
        assert_int_equal(sn_numindex_find_sha256(ix, sha, &found), 1);
        assert_int_equal(found, num);
    }
    sn_numindex_free(ix);
}

/* The digests after a load, after puts (the side map) and after the merges
 * those puts start: every number found by each, the range exact. */
static void finds_after_puts_and_merges(void **state)
{
    (void)state;
    enum { N = 30000, MORE = 12000 };
    sn_day d = sn_day_from_civil(2021, 5, 6);
    sn_number_state *st = calloc(N + MORE, sizeof(*st));
    sn_numindex *ix = sn_numindex_new();
    sn_number listed[16];
    uint32_t want[3] = {0};
    assert_non_null(st);
    for (size_t i = 0; i < N + MORE; i++)
        st[i] = state_of(8613900000000ull + i / 9000 * 10000 + i % 9000, SN_ST_ACTIVE, d, d,
                         SN_DAY_NONE);
    sn_digests_set_side_min(sn_numindex_digests(ix), 1000);
    assert_int_equal(sn_numindex_load(ix, st, N), SN_OK);
    for (size_t i = N; i < N + MORE; i += 400)
        assert_int_equal(sn_numindex_put_many(ix, st + i, 400), SN_OK);
    assert_int_equal(sn_numindex_put(ix, &st[5]), SN_OK); /* known: no new digest */
    sn_digests_settle(sn_numindex_digests(ix));
    assert_true(sn_digests_merges(sn_numindex_digests(ix), NULL) >= 1);
    for (size_t i = 0; i < N + MORE; i += 3)
        found_by_digests(ix, st[i].number);
    for (int k = 0; k < 3; k++) {
        uint8_t sha[32];
        size_t n = 0, brute = 0;
        sn_number_sha256(st[N + MORE - 1 - (size_t)k * 977].number, sha);
        want[k] = (uint32_t)sha[0] << 12 | (uint32_t)sha[1] << 4 | sha[2] >> 4;
        assert_int_equal(sn_numindex_range_sha256(ix, want[k], listed, 16, &n), SN_OK);
        for (size_t i = 0; i < N + MORE; i++) {
            sn_number_sha256(st[i].number, sha);
            brute += ((uint32_t)sha[0] << 12 | (uint32_t)sha[1] << 4 | sha[2] >> 4) == want[k];
        }
        assert_int_equal(n, brute);
    }
    assert_int_equal(sn_digests_count(sn_numindex_digests(ix)), N + MORE);
    sn_numindex_free(ix);
    free(st);
}

/* get_many answers as get does for each number: known and unknown ones,
 * repeats, an escaped day, more numbers than one chunk, none at all. */
static void get_many_answers_as_get(void **state)
{
    (void)state;
    enum { PUT = 3000, ASK = 2 * SN_NUMINDEX_GET_CHUNK + 77 };
    sn_numindex *ix = sn_numindex_new();
    sn_day d = sn_day_from_civil(2021, 3, 4);
    for (size_t i = 0; i < PUT; i++) {
        sn_number n = 8613800000000ull + i * 3331; /* several a block, many blocks */
        sn_number_state st = state_of(n, (int)(1 + i % 4), d - (sn_day)(i % 500), d,
                                      i % 3 ? SN_DAY_NONE : d + (sn_day)i);
        if (i == 7)
            st.first_day = sn_numindex_min_day(); /* a day kept whole */
        assert_int_equal(sn_numindex_put(ix, &st), SN_OK);
    }
    static sn_number asked[ASK];
    static sn_number_state got[ASK];
    static uint8_t found[ASK];
    for (size_t i = 0; i < ASK; i++)
        asked[i] = 8613800000000ull + (i * 7919 % (PUT + 200)) * 3331 + (i % 5 == 0);
    asked[ASK - 1] = asked[0];
    sn_numindex_get_many(ix, asked, ASK, got, found);
    size_t known = 0;
    for (size_t i = 0; i < ASK; i++) {
        sn_number_state one;
        int f = sn_numindex_get(ix, asked[i], &one);
        assert_int_equal(found[i], f);
        assert_memory_equal(&got[i], &one, sizeof(one));
        known += (size_t)f;
    }
    assert_true(known > ASK / 2 && known < ASK);
    sn_numindex_get_many(ix, asked, 0, got, found);
    sn_numindex_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_verdict_fields),
        cmocka_unit_test(none_days_and_range_limits),
        cmocka_unit_test(grows_and_replaces),
        cmocka_unit_test(finds_numbers_by_digest),
        cmocka_unit_test(readers_and_a_writer_together),
        cmocka_unit_test(bulk_load_then_updates),
        cmocka_unit_test(puts_a_batch_in_order),
        cmocka_unit_test(readers_while_batches_go_in),
        cmocka_unit_test(range_lists_a_prefix),
        cmocka_unit_test(without_digests_keeps_states_only),
        cmocka_unit_test(loads_a_state_at_a_time),
        cmocka_unit_test(finds_after_puts_and_merges),
        cmocka_unit_test(get_many_answers_as_get),
    };
    return sn_run_tests(tests);
}

/* test_digests.c - the compact digest tables: finds after a build, after
 * adds (side map) and after merges; fingerprint collisions confirmed away;
 * the range check against a brute-force filter; readers during merges. */
#include "unit.h"

#include "core/errors.h"
#include "index/digests.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#define BASE 8613800000000ull

/* n dense numbers from first: 80% of each block of 10,000, as carriers fill them. */
static uint64_t *dense(uint64_t first, size_t n)
{
    uint64_t *v = malloc(n * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = first + (i / 8000) * 10000 + i % 8000;
    return v;
}

static uint32_t prefix_of(uint64_t number)
{
    uint8_t sha[32];
    sn_number_sha256(number, sha);
    return (uint32_t)sha[0] << 12 | (uint32_t)sha[1] << 4 | sha[2] >> 4;
}

/* Every number is found by its three digests, as itself. */
static void all_found(sn_digests *d, const uint64_t *numbers, size_t n, size_t step)
{
    uint8_t sha[32], md5[16], sm3[32];
    uint64_t found;
    for (size_t i = 0; i < n; i += step) {
        sn_number_sha256(numbers[i], sha);
        sn_number_md5(numbers[i], md5);
        sn_number_sm3(numbers[i], sm3);
        found = 0;
        assert_int_equal(sn_digests_find(d, SN_DIGEST_SHA256, sha, &found), 1);
        assert_int_equal(found, numbers[i]);
        found = 0;
        assert_int_equal(sn_digests_find(d, SN_DIGEST_MD5, md5, &found), 1);
        assert_int_equal(found, numbers[i]);
        found = 0;
        assert_int_equal(sn_digests_find(d, SN_DIGEST_SM3, sm3, &found), 1);
        assert_int_equal(found, numbers[i]);
    }
}

/* The range of a prefix equals the brute-force filter over numbers[0..n). */
static void range_matches(sn_digests *d, const uint64_t *numbers, size_t n, uint32_t prefix)
{
    uint64_t listed[64];
    size_t got = 99, want = 0;
    assert_int_equal(sn_digests_range(d, prefix, listed, 64, &got), SN_OK);
    for (size_t i = 0; i < n; i++) {
        if (prefix_of(numbers[i]) != prefix)
            continue;
        want++;
        size_t j = 0;
        while (j < got && listed[j] != numbers[i])
            j++;
        assert_true(j < got); /* listed */
    }
    assert_int_equal(got, want); /* and nothing else, once each */
}

/* Several prefixes: ones that hold numbers (the first and the last added
 * among them), and pseudo-random ones. */
static void ranges_match(sn_digests *d, const uint64_t *numbers, size_t n)
{
    uint32_t x = 12345;
    for (int i = 0; i < 6; i++) {
        range_matches(d, numbers, n, prefix_of(numbers[(size_t)i * 7919 % n]));
        range_matches(d, numbers, n, prefix_of(numbers[n - 1 - (size_t)i * 31 % n]));
        x = x * 1103515245u + 12345u;
        range_matches(d, numbers, n, x >> 12);
    }
}

static void finds_every_number_after_a_build(void **state)
{
    (void)state;
    enum { N = 100000 };
    uint64_t *v = dense(BASE, N);
    sn_digests *d = sn_digests_new();
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    assert_int_equal(sn_digests_count(d), N);
    all_found(d, v, N, 1);
    /* about 4 bytes a number and kind, buckets included */
    assert_true(sn_digests_bytes(d) < (size_t)N * 3 * 5);
    ranges_match(d, v, N);
    sn_digests_free(d);
    free(v);
}

/* A digest that shares its first 8 bytes (and so its bucket and
 * fingerprint) with a number's but differs further on is not found: the
 * candidate is hashed and rejected. So is a number never added. */
static void collisions_are_confirmed_away(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint64_t *v = dense(BASE, N), found = 0;
    uint8_t sha[32], md5[16], sm3[32];
    sn_digests *d = sn_digests_new();
    assert_int_equal(sn_digests_build(d, v, N - 100), SN_OK);
    assert_int_equal(sn_digests_add(d, v + N - 100, 100), SN_OK); /* side map too */
    for (size_t i = 0; i < N; i += 97) {
        sn_number_sha256(v[i], sha);
        sn_number_md5(v[i], md5);
        sn_number_sm3(v[i], sm3);
        sha[31] ^= 1, md5[15] ^= 1, sm3[20] ^= 0x80;
        assert_int_equal(sn_digests_find(d, SN_DIGEST_SHA256, sha, &found), 0);
        assert_int_equal(sn_digests_find(d, SN_DIGEST_MD5, md5, &found), 0);
        assert_int_equal(sn_digests_find(d, SN_DIGEST_SM3, sm3, &found), 0);
    }
    sn_number_sha256(BASE + 9999, sha); /* in no block's 80% */
    assert_int_equal(sn_digests_find(d, SN_DIGEST_SHA256, sha, &found), 0);
    assert_int_equal(sn_digests_find(d, SN_DIGEST_KINDS, sha, &found), 0);
    sn_digests_free(d);
    free(v);
}

/* Adds land in the side map, found at once; past the merge mark they are
 * merged into new tables; re-adding a number keeps it once, and so does an
 * add that holds a number twice (in one chunk of 1,024 and in two). */
static void finds_after_adds_and_merges(void **state)
{
    (void)state;
    enum { N = 60000, MORE = 30000, TWICE = 1000 };
    uint64_t *v = dense(BASE, N + MORE + TWICE);
    sn_digests *d = sn_digests_new();
    sn_digests_set_side_min(d, 5000);
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    assert_int_equal(sn_digests_add(d, v + N, 3000), SN_OK); /* under the mark */
    assert_int_equal(sn_digests_add(d, v + N, 3000), SN_OK); /* held in the live map */
    assert_int_equal(sn_digests_count(d), N + 3000);
    sn_digests_settle(d);
    assert_int_equal(sn_digests_merges(d, NULL), 0);
    all_found(d, v, N + 3000, 7);
    ranges_match(d, v, N + 3000);
    for (size_t i = 3000; i < MORE; i += 1000)
        assert_int_equal(sn_digests_add(d, v + N + i, 1000), SN_OK);
    sn_digests_settle(d);
    assert_true(sn_digests_merges(d, NULL) >= 1);
    assert_int_equal(sn_digests_add(d, v, 5000), SN_OK); /* all there already */
    assert_int_equal(sn_digests_count(d), N + MORE);
    all_found(d, v, N + MORE, 1);
    ranges_match(d, v, N + MORE);
    uint64_t twice[2 * TWICE + 2];
    for (size_t i = 0; i < 2 * TWICE + 2; i++)
        twice[i] = v[N + MORE + (i < 2 * TWICE ? i % TWICE : i % 3)];
    twice[7] = twice[3]; /* and one twice in a row's reach */
    assert_int_equal(sn_digests_add(d, twice, 2 * TWICE + 2), SN_OK);
    assert_int_equal(sn_digests_count(d), N + MORE + TWICE);
    sn_digests_settle(d);
    all_found(d, v, N + MORE + TWICE, 1);
    ranges_match(d, v, N + MORE + TWICE);
    sn_digests_free(d);
    free(v);
}

/* Merges that keep the table's shape copy it and add the side map's keys
 * without hashing: numbers into the gaps of known blocks (positions as they
 * were), then into a new block before every other (every position moves),
 * after, and two new blocks around old ones (those between move by one);
 * each merge checked, none hashing every number again. */
static void merges_extend_the_table_in_place(void **state)
{
    (void)state;
    enum { N = 72000, ADD = 6000 }; /* ADD past N / SN_DIGEST_SIDE_SHARE: each round merges */
    uint64_t *v = malloc((N + 4 * ADD) * sizeof(*v));
    unsigned long rehashed = 99;
    assert_non_null(v);
    for (size_t i = 0; i < N; i++) /* blocks 5..13, 8,000 numbers each */
        v[i] = BASE + 50000 + (i / 8000) * 10000 + i % 8000;
    for (size_t i = 0; i < ADD; i++) {
        v[N + i] = BASE + 50000 + (i % 9) * 10000 + 8000 + i / 9;     /* gaps of blocks 5..13 */
        v[N + ADD + i] = BASE + i;                                    /* block 0: before all */
        v[N + 2 * ADD + i] = BASE + 200000 + i;                       /* block 20: after all */
        v[N + 3 * ADD + i] = BASE + (i % 2 ? 170000 : 30000) + i / 2; /* blocks 3 and 17 */
    }
    sn_digests *d = sn_digests_new();
    sn_digests_set_side_min(d, 1000);
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    for (unsigned long round = 1; round <= 4; round++) {
        size_t upto = N + round * ADD;
        assert_int_equal(sn_digests_add(d, v + upto - ADD, ADD), SN_OK);
        sn_digests_settle(d);
        assert_int_equal(sn_digests_merges(d, &rehashed), round);
        assert_int_equal(rehashed, 0);
        assert_int_equal(sn_digests_count(d), upto);
        all_found(d, v, upto, 1);
        ranges_match(d, v, upto);
    }
    sn_digests_free(d);
    free(v);
}

/* A merge that brings more new blocks than REMAP_STEPS_MAX (4,096), each
 * between two old ones, moves the old positions through a table of every
 * old block's new ordinal (fewer are searched): one number in each even
 * block, then 6,000 in odd ones between them; every number found after. */
static void many_new_blocks_between_old_ones(void **state)
{
    (void)state;
    enum { N = 72000, ADD = 6000 }; /* ADD past N / SN_DIGEST_SIDE_SHARE */
    uint64_t *v = malloc((N + ADD) * sizeof(*v));
    unsigned long rehashed = 99;
    assert_non_null(v);
    for (size_t i = 0; i < N; i++)
        v[i] = BASE + 2 * i * 10000 + i % 10000;
    for (size_t i = 0; i < ADD; i++)
        v[N + i] = BASE + (2 * i * 12 + 1) * 10000 + 7;
    sn_digests *d = sn_digests_new();
    sn_digests_set_side_min(d, 1000);
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    assert_int_equal(sn_digests_add(d, v + N, ADD), SN_OK);
    sn_digests_settle(d);
    assert_int_equal(sn_digests_merges(d, &rehashed), 1);
    assert_int_equal(rehashed, 0);
    all_found(d, v, N + ADD, 1);
    ranges_match(d, v, N + ADD);
    sn_digests_free(d);
    free(v);
}

/* A build keeps one fingerprint bit more than its buckets need, so the
 * first merge past a doubling of the buckets splits each bucket by that bit
 * and hashes nothing; the next doubling hashes every number again (and
 * keeps a spare bit anew); merges within one bucket count copy; position
 * bits that grow repack the entries without hashing. 131,072
 * numbers are 2^12 buckets of 32: one more doubles them. Lookups and
 * ranges are checked after every merge. */
static void a_doubling_of_the_buckets_is_split_not_rehashed(void **state)
{
    (void)state;
    enum { N = 32 << 12, R1 = 9000, R2 = 130000, R3 = 18000, ALL = N + R1 + R2 + R3 };
    static const size_t adds[] = {R1, R2, R3};         /* each past the mark of 1/16 */
    static const unsigned long rehashes[] = {0, 1, 1}; /* after each merge */
    uint64_t *v = malloc(ALL * sizeof(*v));
    unsigned long rehashed = 99;
    size_t upto = N;
    assert_non_null(v);
    /* 2,530 numbers a block: the build's 52 blocks are 520,000 positions
     * (19 bits), the first merge's 56 pass 2^19: entries repacked too */
    for (size_t i = 0; i < ALL; i++)
        v[i] = BASE + (i / 2530) * 10000 + i % 2530;
    sn_digests *d = sn_digests_new();
    sn_digests_set_side_min(d, 1000);
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    for (unsigned long round = 1; round <= 3; round++) {
        assert_int_equal(sn_digests_add(d, v + upto, adds[round - 1]), SN_OK);
        upto += adds[round - 1];
        sn_digests_settle(d);
        assert_int_equal(sn_digests_merges(d, &rehashed), round);
        assert_int_equal(rehashed, rehashes[round - 1]);
        assert_int_equal(sn_digests_count(d), upto);
        all_found(d, v, upto, 7);
        ranges_match(d, v, upto);
    }
    sn_digests_free(d);
    free(v);
}

/* The merge mark is the larger of the side minimum and the table's
 * numbers / SN_DIGEST_SIDE_SHARE: 80,000 numbers and a minimum of 1,000
 * merge past 5,000 added, not at 5,000. A build past SN_DIGEST_MAX_NUMBERS
 * is refused before it reads a number. */
static void merge_mark_and_table_limit(void **state)
{
    (void)state;
    enum { N = 80000, MARK = N / SN_DIGEST_SIDE_SHARE };
    uint64_t *v = dense(BASE, N + MARK + 1);
    sn_digests *d = sn_digests_new();
    sn_digests_set_side_min(d, 1000);
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    assert_int_equal(sn_digests_add(d, v + N, MARK), SN_OK);
    sn_digests_settle(d);
    assert_int_equal(sn_digests_merges(d, NULL), 0);
    assert_int_equal(sn_digests_add(d, v + N + MARK, 1), SN_OK);
    sn_digests_settle(d);
    assert_int_equal(sn_digests_merges(d, NULL), 1);
    all_found(d, v, N + MARK + 1, 11);
    assert_int_equal(sn_digests_build(d, v, (size_t)SN_DIGEST_MAX_NUMBERS + 1), SN_ELIMIT);
    assert_int_equal(sn_digests_count(d), N + MARK + 1); /* nothing changed */
    sn_digests_free(d);
    free(v);
}

/* Is a thread of this process named `name` (its comm under /proc/self/task)? */
static int thread_named(const char *name)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *e;
    int found = 0;
    assert_non_null(dir);
    while (!found && (e = readdir(dir)) != NULL) {
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(comm, sizeof(comm), f) != NULL)
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        found = strcmp(comm, name) == 0;
    }
    closedir(dir);
    return found;
}

/* With no build, adds alone cross SN_DIGEST_SIDE_MIN and are merged (on
 * the merge thread, named for top -H). */
static void side_min_is_crossed(void **state)
{
    (void)state;
    uint64_t *v = dense(BASE, SN_DIGEST_SIDE_MIN + 1);
    sn_digests *d = sn_digests_new();
    assert_int_equal(sn_digests_add(d, v, SN_DIGEST_SIDE_MIN), SN_OK);
    sn_digests_settle(d);
    assert_int_equal(sn_digests_merges(d, NULL), 0);
    assert_int_equal(sn_digests_add(d, v + SN_DIGEST_SIDE_MIN, 1), SN_OK);
    sn_digests_settle(d);
    unsigned long rehashed = 0;
    assert_int_equal(sn_digests_merges(d, &rehashed), 1);
    assert_int_equal(rehashed, 1); /* from no table: every number hashed */
    assert_true(thread_named("sn-digests"));
    assert_int_equal(sn_digests_count(d), SN_DIGEST_SIDE_MIN + 1);
    all_found(d, v, SN_DIGEST_SIDE_MIN + 1, 13);
    sn_digests_free(d);
    free(v);
}

/* A range with more numbers than max says SN_ELIMIT and fills max. */
static void range_past_max_is_a_limit(void **state)
{
    (void)state;
    enum { N = 50000 };
    uint64_t *v = dense(BASE, N), listed[2];
    uint32_t p = prefix_of(v[0]);
    size_t k = 0, n = 0;
    for (size_t i = 0; i < N; i++)
        if (prefix_of(v[i]) == p)
            k++;
    sn_digests *d = sn_digests_new();
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    assert_int_equal(sn_digests_range(d, p, listed, 2, &n), k > 2 ? SN_ELIMIT : SN_OK);
    assert_int_equal(sn_digests_range(d, p, listed, 0, &n), SN_ELIMIT);
    assert_int_equal(n, 0);
    sn_digests_free(d);
    free(v);
}

/* Sparse numbers, each its own block, past 2^32 / 10,000 blocks: positions
 * need 33 bits and entries 6 bytes; finds and ranges still exact. */
static void wide_positions_when_blocks_are_many(void **state)
{
    (void)state;
    enum { N = 440000 };
    uint64_t *v = malloc(N * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < N; i++)
        v[i] = BASE + i * 10000 * 7 + i % 10000;
    sn_digests *d = sn_digests_new();
    assert_int_equal(sn_digests_build(d, v, N), SN_OK);
    all_found(d, v, N, 101);
    range_matches(d, v, N, prefix_of(v[12345]));
    range_matches(d, v, N, prefix_of(v[N - 1]));
    sn_digests_free(d);
    free(v);
}

typedef struct {
    sn_digests *d;
    const uint64_t *v;
    size_t first, total;
    atomic_size_t published; /* v[0..published) were added */
    atomic_int failed;
} race;

static void *adder(void *arg)
{
    race *r = arg;
    for (size_t i = r->first; i < r->total; i += 250) {
        if (sn_digests_add(r->d, r->v + i, 250) != SN_OK)
            atomic_store(&r->failed, 1);
        atomic_store(&r->published, i + 250);
    }
    return NULL;
}

static void *reader(void *arg)
{
    race *r = arg;
    uint8_t sha[32];
    uint64_t found;
    for (size_t round = 0; atomic_load(&r->published) < r->total; round++) {
        size_t upto = atomic_load(&r->published);
        for (size_t i = round % 53; i < upto; i += 53) {
            sn_number_sha256(r->v[i], sha);
            if (!sn_digests_find(r->d, SN_DIGEST_SHA256, sha, &found) || found != r->v[i])
                atomic_store(&r->failed, 2);
        }
    }
    return NULL;
}

/* Readers never miss a number added before they look, while adds go in
 * and merges swap tables under them (run under ASan and TSan). */
static void readers_during_adds_and_merges(void **state)
{
    (void)state;
    enum { N = 20000, MORE = 40000 };
    race r = {sn_digests_new(), dense(BASE, N + MORE), N, N + MORE, N, 0};
    pthread_t add, read[2];
    sn_digests_set_side_min(r.d, 2000);
    assert_int_equal(sn_digests_build(r.d, r.v, N), SN_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&read[i], NULL, reader, &r), 0);
    assert_int_equal(pthread_create(&add, NULL, adder, &r), 0);
    pthread_join(add, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(read[i], NULL);
    sn_digests_settle(r.d);
    assert_int_equal(atomic_load(&r.failed), 0);
    printf("merges during the race: %lu\n", sn_digests_merges(r.d, NULL));
    assert_true(sn_digests_merges(r.d, NULL) >= 1);
    assert_int_equal(sn_digests_count(r.d), N + MORE);
    all_found(r.d, r.v, N + MORE, 3);
    sn_digests_free(r.d);
    free((void *)r.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_every_number_after_a_build),
        cmocka_unit_test(collisions_are_confirmed_away),
        cmocka_unit_test(finds_after_adds_and_merges),
        cmocka_unit_test(merges_extend_the_table_in_place),
        cmocka_unit_test(a_doubling_of_the_buckets_is_split_not_rehashed),
        cmocka_unit_test(many_new_blocks_between_old_ones),
        cmocka_unit_test(merge_mark_and_table_limit),
        cmocka_unit_test(side_min_is_crossed),
        cmocka_unit_test(range_past_max_is_a_limit),
        cmocka_unit_test(wide_positions_when_blocks_are_many),
        cmocka_unit_test(readers_during_adds_and_merges),
    };
    return sn_run_tests(tests);
}

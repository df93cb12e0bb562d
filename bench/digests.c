/*
 * digests.c - what the compact digest tables (src/index/digests.c) cost,
 * without the store or HTTP: an index of N numbers, dense (FILL percent of
 * each block of 10,000, as carriers fill them), loaded as serve loads it;
 * then the tables built again from the states (sn_numindex_build_digests,
 * the restart path after a snapshot of the states), lookups by each digest
 * of numbers present and absent, range checks, and ADDED new numbers put
 * 500 at a time (side map and background merges).
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/digests.c build/libsecondnum.a -lsodium -lcrypto -lpthread -lm \
 *          -o /tmp/digests_bench
 * usage: digests_bench N [FILL [ADDED]]   (FILL default 80, ADDED default N / 10)
 * prints one figure a line.
 */
#include "core/errors.h"
#include "index/numindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FIRST 8613800000000ull  /* the loaded numbers' first block */
#define ADDED 8619000000000ull  /* the added numbers' first block */
#define ABSENT 8618000000000ull /* never put: the absent lookups */
#define LOOKUPS 200000
#define BATCH 500

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU seconds of the process (all threads): the machine is shared, so the
 * wall-clock figures vary with its load and these less. */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static sn_number nth(sn_number first, size_t i, size_t fill)
{
    size_t per = fill * 100; /* numbers a block */
    return first + (i / per) * 10000 + i % per;
}

static sn_number_state active(sn_number n)
{
    sn_number_state st;
    sn_state_init(&st, n);
    st.status = SN_ST_ACTIVE;
    st.first_is_activation = 1;
    st.first_day = st.last_activation_day = sn_day_from_civil(2024, 1, 1);
    return st;
}

/* ns per lookup of LOOKUPS numbers (present: among the loaded; else not). */
static double lookups(sn_numindex *ix, size_t n, size_t fill, int kind, int present)
{
    uint8_t d[32];
    sn_number out;
    size_t hits = 0;
    double t0 = seconds();
    for (size_t i = 0; i < LOOKUPS; i++) {
        size_t at = (i * 2654435761u) % n;
        sn_number num = nth(present ? FIRST : ABSENT, at, fill);
        if (kind == 0) {
            sn_number_sha256(num, d);
            hits += (size_t)sn_numindex_find_sha256(ix, d, &out);
        } else if (kind == 1) {
            sn_number_md5(num, d);
            hits += (size_t)sn_numindex_find_md5(ix, d, &out);
        } else {
            sn_number_sm3(num, d);
            hits += (size_t)sn_numindex_find_sm3(ix, d, &out);
        }
    }
    double ns = (seconds() - t0) / LOOKUPS * 1e9;
    if (hits != (present ? LOOKUPS : 0))
        fprintf(stderr, "digests_bench: %zu hits, expected %d\n", hits, present ? LOOKUPS : 0);
    return ns;
}

static int put_added(sn_numindex *ix, size_t added, size_t fill)
{
    sn_number_state batch[BATCH];
    for (size_t done = 0; done < added; done += BATCH) {
        size_t k = added - done < BATCH ? added - done : BATCH;
        for (size_t i = 0; i < k; i++)
            batch[i] = active(nth(ADDED, done + i, fill));
        if (sn_numindex_put_many(ix, batch, k) != SN_OK)
            return 0;
    }
    return 1;
}

static void report(sn_numindex *ix, size_t n, size_t fill, size_t added)
{
    static const char *const names[3] = {"SHA-256", "MD5", "SM3"};
    sn_number listed[256];
    size_t got = 0, total = 0;
    for (int k = 0; k < 3; k++)
        printf("%s lookup, present / absent: %.0f / %.0f ns (includes hashing the query)\n",
               names[k], lookups(ix, n, fill, k, 1), lookups(ix, n, fill, k, 0));
    double t0 = seconds();
    for (uint32_t p = 0; p < LOOKUPS; p++) {
        sn_numindex_range_sha256(ix, (p * 2654435761u) >> 12, listed, 256, &got);
        total += got;
    }
    printf("range check: %.0f ns, %.2f numbers listed\n", (seconds() - t0) / LOOKUPS * 1e9,
           (double)total / LOOKUPS);
    t0 = seconds();
    if (!put_added(ix, added, fill)) {
        fprintf(stderr, "digests_bench: put failed\n");
        return;
    }
    double put_s = seconds() - t0;
    sn_digests_settle(sn_numindex_digests(ix));
    unsigned long rehashed = 0, merges = sn_digests_merges(sn_numindex_digests(ix), &rehashed);
    printf("%zu new numbers put: %.0f ns each; merges done %lu (%lu hashing every number), "
           "%.1f s until settled\n",
           added, put_s / (double)(added ? added : 1) * 1e9, merges, rehashed, seconds() - t0);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 0;
    size_t fill = argc > 2 ? strtoull(argv[2], NULL, 10) : 80;
    size_t added = argc > 3 ? strtoull(argv[3], NULL, 10) : n / 10;
    if (argc < 2 || argc > 4 || n == 0 || fill == 0 || fill > 100) {
        fprintf(stderr, "usage: digests_bench N [FILL [ADDED]]\n");
        return 2;
    }
    sn_numindex *ix = sn_numindex_new();
    if (ix == NULL)
        return 1;
    double t0 = seconds();
    for (size_t i = 0; i < n; i++) {
        sn_number_state st = active(nth(FIRST, i, fill));
        if (sn_numindex_load_add(ix, &st) != SN_OK)
            return 1;
    }
    double t1 = seconds();
    if (sn_numindex_load_end(ix) != SN_OK)
        return 1;
    double t2 = seconds(), c2 = cpu_seconds();
    size_t states_only = sn_numindex_bytes(ix) - sn_digests_bytes(sn_numindex_digests(ix));
    if (sn_numindex_build_digests(ix) != SN_OK)
        return 1;
    double t3 = seconds(), c3 = cpu_seconds();
    printf("%zu numbers, %zu%% of each block: load_add %.2f s, load_end %.2f s\n", n, fill, t1 - t0,
           t2 - t1);
    printf("digest tables built again from the states: %.2f s (%.0f ns a number), %.2f s of CPU\n",
           t3 - t2, (t3 - t2) / (double)n * 1e9, c3 - c2);
    printf("bytes a number: %.2f in all, %.2f the states, %.2f the digest tables\n",
           (double)sn_numindex_bytes(ix) / (double)n, (double)states_only / (double)n,
           (double)sn_digests_bytes(sn_numindex_digests(ix)) / (double)n);
    report(ix, n, fill, added);
    sn_numindex_free(ix);
    return 0;
}

/*
 * lookups.c - what a batch's lookups in the index's states cost
 * (src/index/blocks.c), without HTTP: a directory of N numbers spread as
 * `secondnum gen` spreads them (uniformly over +8613 to +8619, about 14 a
 * block of 10,000 at 1M), then THREADS threads each asking 3,000 rounds
 * of 1,000 random present numbers, first one by one (sn_blocks_get), then
 * the same rounds together (sn_blocks_get_many), in the same run.
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/lookups.c build/libsecondnum.a -lsodium -lcrypto -lpthread -lm \
 *          -o /tmp/lookups_bench
 * usage: lookups_bench N [THREADS]   (THREADS default 2, at most 8)
 * prints ns a lookup for each way and their ratio (together / one by one).
 */
#include "index/blocks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 3000
#define BATCH 1000
#define MAX_THREADS 8

static sn_blocks *dir;
static uint64_t *asked[MAX_THREADS]; /* each thread's ROUNDS * BATCH numbers */
static int together;

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void *run(void *arg)
{
    const uint64_t *q = arg;
    uint64_t packed[BATCH];
    uint8_t found[BATCH];
    size_t hits = 0;
    for (size_t r = 0; r < ROUNDS; r++, q += BATCH) {
        if (together) {
            sn_blocks_get_many(dir, q, BATCH, packed, found);
            for (size_t i = 0; i < BATCH; i++)
                hits += found[i];
        } else {
            for (size_t i = 0; i < BATCH; i++)
                hits += (size_t)sn_blocks_get(dir, q[i], &packed[i]);
        }
    }
    return (void *)hits;
}

/* ns a lookup per thread, all threads at once. */
static double timed(int threads)
{
    pthread_t t[MAX_THREADS];
    size_t hits = 0;
    double t0 = seconds();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run, asked[i]);
    for (int i = 0; i < threads; i++) {
        void *h;
        pthread_join(t[i], &h);
        hits += (size_t)h;
    }
    double ns = (seconds() - t0) * 1e9 / ((double)ROUNDS * BATCH);
    if (hits != (size_t)threads * ROUNDS * BATCH) {
        fprintf(stderr, "lookups_bench: %zu of %zu numbers found\n", hits,
                (size_t)threads * ROUNDS * BATCH);
        exit(1);
    }
    return ns;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (n == 0 || threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "usage: lookups_bench N [THREADS (1-%d)]\n", MAX_THREADS);
        return 2;
    }
    uint64_t *numbers = malloc(n * sizeof(*numbers)), *packed = malloc(n * sizeof(*packed));
    dir = sn_blocks_new();
    if (numbers == NULL || packed == NULL || dir == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        numbers[i] = 8613000000000ull + next_random() % 700000000ull;
        packed[i] = 1 | (uint64_t)(25568 + 100) << 4; /* active since a day of 1970 */
    }
    if (sn_blocks_load(dir, numbers, packed, n) != 0)
        return 1;
    for (int k = 0; k < threads; k++) {
        if ((asked[k] = malloc((size_t)ROUNDS * BATCH * sizeof(uint64_t))) == NULL)
            return 1;
        for (size_t i = 0; i < (size_t)ROUNDS * BATCH; i++)
            asked[k][i] = numbers[next_random() % n];
    }
    together = 0;
    double one = timed(threads);
    together = 1;
    double many = timed(threads);
    printf("%zu numbers, %d threads: one by one %.1f ns a lookup, together %.1f ns (%.2fx)\n", n,
           threads, one, many, many / one);
    return 0;
}

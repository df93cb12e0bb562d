/*
 * keylimits.c - what the per-key check limits (src/auth/keylimits.c) cost a
 * check, without HTTP around them: THREADS threads each take one number
 * CALLS times, all for one key (the worst case: one cache line for every
 * loop) or each for its own key, with the clock read per call as the check
 * routes do (src/http/limits.c: the monotonic clock, the wall clock and its
 * calendar day). The limits are the most a key may have, so every take
 * passes, as on a benchmark's or a big customer's key.
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/keylimits.c build/libsecondnum.a -lsodium -lcrypto -lpthread -lm \
 *          -o /tmp/keylimits_bench
 * usage: keylimits_bench THREADS CALLS same|own
 * prints one line: nanoseconds per take (wall time / calls per thread).
 */
#include "auth/keylimits.h"
#include "core/date.h"
#include "util/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    sn_key_meters *m;
    uint32_t key;
    long calls;
    long refused;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    const sn_check_limits lim = {SN_CHECK_RATE_MAX, (uint64_t)SN_CHECK_DAILY_MAX};
    int64_t retry;
    for (long i = 0; i < w->calls; i++) {
        int64_t now = (int64_t)time(NULL);
        if (sn_key_meter_take(w->m, w->key, &lim, 1, sn_monotonic_ns(), sn_day_of(now, 480),
                              86400 - (now + 28800) % 86400, &retry) != SN_LIMIT_OK)
            w->refused++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "same") != 0 && strcmp(argv[3], "own") != 0)) {
        fprintf(stderr, "usage: keylimits_bench THREADS CALLS same|own\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    long calls = atol(argv[2]), refused = 0;
    if (threads < 1 || threads > 64 || calls < 1) {
        fprintf(stderr, "THREADS 1-64, CALLS >= 1\n");
        return 2;
    }
    sn_key_meters *m = sn_key_meters_new();
    pthread_t t[64];
    worker w[64];
    int64_t t0 = sn_monotonic_ns();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){m, strcmp(argv[3], "same") == 0 ? 1u : (uint32_t)i + 1, calls, 0};
        pthread_create(&t[i], NULL, run, &w[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        refused += w[i].refused;
    }
    double ns = (double)(sn_monotonic_ns() - t0) / (double)calls;
    printf("%d thread(s), %s key: %.1f ns per take (%ld refused)\n", threads, argv[3], ns, refused);
    sn_key_meters_free(m);
    return refused != 0;
}

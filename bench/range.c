/*
 * range.c - what the range check (POST /v1/check/range) and the SM3 map
 * cost in the serving index (src/index/numindex.c), without HTTP around it:
 * an index of N numbers filled with sn_numindex_load, as serve does at
 * start, then Q range checks of random 5-hex-digit prefixes through
 * sn_check_range (the scan of the prefix's run of the SHA-256 map, the
 * SHA-256 and state of every number listed, the sort), and as many single
 * SHA-256 lookups for comparison.
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/range.c build/libsecondnum.a -lh2o-evloop $(pkg-config --libs \
 *          sqlite3 libsodium jansson libcrypto libcurl libpq inih libsystemd) \
 *          -lm -lpthread -o /tmp/range_bench
 *        (the checks module links the store in: the libraries of the binary)
 * usage: range_bench N Q
 * prints the index's bytes per number (all four maps, and one map: what the
 * SM3 map adds), the numbers listed per range check, and the time of each.
 * Measured (2 shared cores, 2026-12): 1M numbers: 134.2 bytes per number
 * (33.6 a map), a range check 1.9 us listing 0.95 numbers, a single SHA-256
 * lookup 1.4 us; 4M: 6.1 us listing 3.8 (about 1.3 us per number listed).
 */
#include "core/errors.h"
#include "index/numindex.h"
#include "service/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BASE 8613800000000ull /* numbers: every third from here */

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count_arg(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > 2000000000ull)
        return 0;
    *out = (size_t)v;
    return 1;
}

/* Load n numbers; NULL when out of memory or the load failed. */
static sn_numindex *loaded(size_t n)
{
    sn_numindex *ix = sn_numindex_new();
    sn_number_state *states = malloc(n * sizeof(*states));
    int rc = ix != NULL && states != NULL ? SN_OK : SN_ENOMEM;
    for (size_t i = 0; rc == SN_OK && i < n; i++) {
        sn_state_init(&states[i], BASE + 3 * i);
        states[i].status = SN_ST_ACTIVE;
        states[i].first_is_activation = 1;
        states[i].first_day = states[i].last_activation_day = sn_day_from_civil(2024, 1, 1);
    }
    if (rc == SN_OK)
        rc = sn_numindex_load(ix, states, n);
    free(states);
    if (rc != SN_OK) {
        sn_numindex_free(ix);
        return NULL;
    }
    return ix;
}

int main(int argc, char **argv)
{
    size_t n, q, listed = 0, found = 0, got;
    char msg[256];
    if (argc != 3 || !count_arg(argv[1], &n) || !count_arg(argv[2], &q)) {
        fprintf(stderr, "usage: range_bench N Q (positive counts)\n");
        return 2;
    }
    sn_numindex *ix = loaded(n);
    sn_range_entry *out = malloc(SN_RANGE_RESULTS_MAX_DEFAULT * sizeof(*out));
    if (ix == NULL || out == NULL) {
        fprintf(stderr, "range_bench: out of memory\n");
        return 1;
    }
    sn_service svc;
    memset(&svc, 0, sizeof(svc));
    svc.index = ix;
    sn_day today = sn_day_from_civil(2026, 1, 1), d = sn_day_from_civil(2025, 1, 1);
    srand(1);
    double start = seconds();
    for (size_t i = 0; i < q; i++) {
        uint32_t prefix = (uint32_t)rand() & ((1u << SN_RANGE_PREFIX_BITS) - 1);
        if (sn_check_range(&svc, today, prefix, d, out, SN_RANGE_RESULTS_MAX_DEFAULT, &got, msg,
                           sizeof(msg)) != SN_OK) {
            fprintf(stderr, "range_bench: %s\n", msg);
            return 1;
        }
        listed += got;
    }
    double range_s = seconds() - start;
    start = seconds();
    for (size_t i = 0; i < q; i++) {
        uint8_t digest[32];
        sn_number number;
        sn_number_sha256(BASE + 3 * ((size_t)rand() % n), digest);
        found += (size_t)sn_numindex_find_sha256(ix, digest, &number);
    }
    double single_s = seconds() - start;
    size_t bytes = sn_numindex_bytes(ix);
    printf("%zu numbers: %.1f bytes per number (four maps; one map %.1f)\n", n,
           (double)bytes / (double)n, (double)bytes / 4 / (double)n);
    printf("range check: %.2f us each, %.2f numbers listed on average (%zu queries)\n",
           range_s / (double)q * 1e6, (double)listed / (double)q, q);
    printf("single SHA-256 lookup: %.2f us each (%zu of %zu found)\n", single_s / (double)q * 1e6,
           found, q);
    free(out);
    sn_numindex_free(ix);
    return 0;
}

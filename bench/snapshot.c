/*
 * snapshot.c - what the index snapshot (src/index/snapshot.c) costs at a
 * national size, without the store or HTTP around it: an index of N
 * numbers in dense blocks (8,000 of each 10,000, as gen --fill 80) is
 * written as a snapshot to PATH, then loaded into a new index; with
 * DIGESTS 1 both have the digest tables (serve --hashed-checks on): they
 * are written in the snapshot and loaded from it (a snapshot without them
 * builds them from the states at load); with 0 neither has them
 * (--hashed-checks off).
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/snapshot.c build/libsecondnum.a -lsodium -lcrypto -lpthread -lm \
 *          -o /tmp/snapshot_bench
 * usage: snapshot_bench N DIGESTS PATH [keep|load]
 *   keep: PATH is left in place (it is removed otherwise);
 *   load: only load PATH (written earlier with keep, the same N and
 *         DIGESTS), to time or profile the load alone, run after run.
 * prints one line: seconds to fill, to write, to load; the file's size;
 * with load and DIGESTS 1, two more: nanoseconds a SHA-256 lookup of a
 * random present number right after the load (the digest computed before
 * the clock starts; the lookup hashes its candidate to confirm it), and of
 * an absent one (the table's reads alone), which tell what serving the
 * tables from the file's mapping costs a lookup.
 */
#include "core/date.h"
#include "core/errors.h"
#include "index/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE 8613800000000ull
#define LOOKUPS 1000000
#define STORE_ID "00112233445566778899aabbccddeeff"

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static sn_numindex *index_of(int digests)
{
    sn_numindex *ix = sn_numindex_new();
    if (ix != NULL && !digests)
        sn_numindex_without_digests(ix);
    return ix;
}

/* The i-th number of the filled index. */
static sn_number number_of(unsigned long long i)
{
    return BASE + (i / 8000) * 10000 + i % 8000;
}

/* LOOKUPS SHA-256 lookups of random numbers of ix (n of them; present 0:
 * numbers of blocks ix does not have, which read the table and, but for a
 * fingerprint's coincidence, hash nothing): ns each. */
static int time_lookups(sn_numindex *ix, unsigned long long n, int present)
{
    uint8_t(*digests)[32] = malloc(LOOKUPS * sizeof(*digests));
    sn_number *want = malloc(LOOKUPS * sizeof(*want));
    uint64_t x = 88172645463325252ull; /* xorshift64 */
    if (digests == NULL || want == NULL)
        return 1;
    for (size_t i = 0; i < LOOKUPS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t r = x % n; /* the first 8,000 of each 10,000 are in, the rest not */
        want[i] = present ? number_of(r) : BASE + (r / 8000) * 10000 + 8000 + r % 2000;
        sn_number_sha256(want[i], digests[i]);
    }
    size_t wrong = 0;
    double t0 = seconds();
    for (size_t i = 0; i < LOOKUPS; i++) {
        sn_number got = 0;
        int found = sn_numindex_find_sha256(ix, digests[i], &got);
        wrong += present ? found != 1 || got != want[i] : found != 0;
    }
    double t = seconds() - t0;
    printf("%d SHA-256 lookups of %s numbers: %.0f ns each, %zu wrong\n", LOOKUPS,
           present ? "present" : "absent", t * 1e9 / LOOKUPS, wrong);
    free(digests);
    free(want);
    return wrong != 0;
}

/* The load alone, of a snapshot written earlier (mode keep). */
static int load_only(const char *path, sn_numindex *back, unsigned long long n, int digests)
{
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info info;
    double t0 = seconds();
    if (sn_snapshot_load(path, back, STORE_ID, n, &info, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%llu numbers, digests %s: load %.2f s, %.1f MB\n", n,
           !digests                ? "off"
           : info.digest_bytes > 0 ? "loaded from the snapshot"
                                   : "built at load",
           seconds() - t0, (double)info.bytes / 1e6);
    int rc = digests ? time_lookups(back, n, 1) || time_lookups(back, n, 0) : 0;
    sn_numindex_free(back);
    return rc;
}

int main(int argc, char **argv)
{
    char err[SN_ERRMSG_MAX];
    sn_snapshot_info info;
    const char *mode = argc == 5 ? argv[4] : "";
    if ((argc != 4 && argc != 5) ||
        (argc == 5 && strcmp(mode, "keep") != 0 && strcmp(mode, "load") != 0)) {
        fprintf(stderr, "usage: snapshot_bench N DIGESTS PATH [keep|load]\n");
        return 2;
    }
    unsigned long long n = strtoull(argv[1], NULL, 10);
    int digests = atoi(argv[2]);
    sn_numindex *ix = index_of(digests), *back = index_of(digests);
    if (ix == NULL || back == NULL)
        return 1;
    if (strcmp(mode, "load") == 0)
        return load_only(argv[3], back, n, digests);
    double t0 = seconds();
    for (unsigned long long i = 0; i < n; i++) {
        sn_number_state st;
        sn_state_init(&st, number_of(i));
        st.status = (uint8_t)(1 + i % 4);
        st.first_is_activation = 1;
        st.first_day = sn_day_from_civil(2015, 1, 1) + (sn_day)(i % 4000);
        st.last_activation_day = st.first_day;
        if (sn_numindex_load_add(ix, &st) != SN_OK)
            return 1;
    }
    if (sn_numindex_load_end(ix) != SN_OK)
        return 1;
    double t1 = seconds();
    if (sn_snapshot_write(argv[3], ix, STORE_ID, n, &info, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t2 = seconds();
    sn_numindex_free(ix);
    double t3 = seconds();
    if (sn_snapshot_load(argv[3], back, STORE_ID, n, &info, err, sizeof(err)) != SN_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t4 = seconds();
    printf("%llu numbers, digests %s: fill %.2f s, write %.2f s, load %.2f s, %.1f MB "
           "(%.2f bytes a number)\n",
           n,
           !digests                ? "off"
           : info.digest_bytes > 0 ? "loaded from the snapshot"
                                   : "built at load",
           t1 - t0, t2 - t1, t4 - t3, (double)info.bytes / 1e6, (double)info.bytes / (double)n);
    sn_numindex_free(back);
    if (strcmp(mode, "keep") != 0)
        unlink(argv[3]);
    return 0;
}

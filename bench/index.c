/*
 * index.c - what it costs to put new numbers into the serving index
 * (src/index/numindex.c), without the store or HTTP around it: an index of
 * LOADED numbers filled with sn_numindex_load, as serve does at start, then
 * ADDED new numbers put BATCH at a time (sn_numindex_put_many; BATCH 1 uses
 * sn_numindex_put, one call per number, the way every update went before
 * batches). Each number is new, so each put adds both digests too.
 * Choosing LOADED just under a doubling mark (12,000,000: the tables are
 * sized at load for at most 12.58M) shows what a doubling costs.
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/index.c build/libsecondnum.a -lsodium -lcrypto -lpthread -lm \
 *          -o /tmp/index_bench
 * usage: index_bench LOADED ADDED BATCH
 * prints one line: nanoseconds per new number, and the index's count.
 */
#include "core/errors.h"
#include "index/numindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LOADED_BASE 8613800000000ull /* loaded: every third number from here */
#define ADDED_BASE 8617000000000ull  /* added: consecutive, none loaded */

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
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

static int count_arg(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > 2000000000ull)
        return 0;
    *out = (size_t)v;
    return 1;
}

int main(int argc, char **argv)
{
    size_t loaded, added, batch;
    if (argc != 4 || !count_arg(argv[1], &loaded) || !count_arg(argv[2], &added) ||
        !count_arg(argv[3], &batch) || batch > added) {
        fprintf(stderr, "usage: index_bench LOADED ADDED BATCH (positive counts, BATCH <= ADDED)\n");
        return 2;
    }
    sn_numindex *ix = sn_numindex_new();
    sn_number_state *states = malloc((loaded > batch ? loaded : batch) * sizeof(*states));
    if (ix == NULL || states == NULL) {
        fprintf(stderr, "index_bench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < loaded; i++)
        states[i] = active(LOADED_BASE + 3 * i);
    if (sn_numindex_load(ix, states, loaded) != SN_OK) {
        fprintf(stderr, "index_bench: loading failed\n");
        return 1;
    }
    double start = seconds();
    for (size_t done = 0; done < added; done += batch) {
        size_t n = added - done < batch ? added - done : batch;
        int rc = SN_OK;
        for (size_t i = 0; i < n; i++)
            states[i] = active(ADDED_BASE + done + i);
        if (batch == 1)
            rc = sn_numindex_put(ix, &states[0]);
        else
            rc = sn_numindex_put_many(ix, states, n);
        if (rc != SN_OK) {
            fprintf(stderr, "index_bench: put failed (%d)\n", rc);
            return 1;
        }
    }
    double elapsed = seconds() - start;
    printf("%.0f ns per new number (batch %zu; %zu loaded, %zu in the index)\n",
           elapsed / (double)added * 1e9, batch, loaded, sn_numindex_count(ix));
    free(states);
    sn_numindex_free(ix);
    return 0;
}

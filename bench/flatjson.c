/*
 * flatjson.c - what reading a batch check's body costs, without HTTP: the
 * body bench/http.sh sends (1,000 items of {"number":"+86...","date":
 * "2020-01-01"}) split into its items (sn_flatjson_array) and each item
 * read into its fields (sn_flatjson_parse), as src/http/h_check.c does.
 * Prints the nanoseconds an item, the best of ROUNDS rounds.
 *
 * build: make build/libsecondnum.a && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *          bench/flatjson.c build/libsecondnum.a -o /tmp/flatjson_bench
 * usage: flatjson_bench [ROUNDS]   (default 20; each parses the body 2,000 times)
 * A before/after pair: build it twice, the second time with the old
 * src/http/flatjson.c compiled in its place (cc ... bench/flatjson.c
 * OLD_flatjson.c build/libsecondnum.a: the first definition wins), and run
 * them alternately.
 */
#include "core/errors.h"
#include "http/flatjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ITEMS 1000
#define REPEAT 2000

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    static char body[ITEMS * 64 + 32];
    static sn_flat_span items[ITEMS];
    size_t len = (size_t)snprintf(body, sizeof(body), "{\"items\":[");
    for (int i = 0; i < ITEMS; i++)
        len += (size_t)snprintf(body + len, sizeof(body) - len,
                                "%s{\"number\":\"+86139%08d\",\"date\":\"2020-01-01\"}",
                                i ? "," : "", i * 7919);
    len += (size_t)snprintf(body + len, sizeof(body) - len, "]}");
    double best = 1e30;
    size_t sum = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = seconds();
        for (int k = 0; k < REPEAT; k++) {
            size_t n = 0;
            if (sn_flatjson_array(body, len, "items", items, ITEMS, 4, &n) != SN_OK || n != ITEMS) {
                fprintf(stderr, "flatjson_bench: the body did not parse\n");
                return 1;
            }
            for (size_t i = 0; i < n; i++) {
                sn_flat_field f[2] = {{"number", NULL, 0, 0}, {"date", NULL, 0, 0}};
                char scratch[256], err[128];
                if (sn_flatjson_parse(items[i].start, (size_t)(items[i].end - items[i].start), f, 2,
                                      scratch, sizeof(scratch), err, sizeof(err)) != SN_OK) {
                    fprintf(stderr, "flatjson_bench: item %zu: %s\n", i, err);
                    return 1;
                }
                sum += f[0].len + f[1].len;
            }
        }
        double t = (seconds() - t0) / ((double)REPEAT * ITEMS) * 1e9;
        best = t < best ? t : best;
    }
    printf("%.1f ns an item (best of %d rounds; %zu bytes read)\n", best, rounds, sum);
    return 0;
}

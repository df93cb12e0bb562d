/*
 * coverage.c - the carriers' number ranges in memory (see coverage.h).
 * The table is the ranges' prefixes, sorted; a number is covered when one
 * of its own prefixes (at most SN_NUMBER_TEXT_MAX - 1 of them) is there.
 */
#include "service/coverage.h"

#include "core/errors.h"
#include "store/keys.h"
#include "util/grow.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char prefix[SN_PREFIX_MAX + 1];
} prefix_entry;

struct sn_coverage {
    pthread_rwlock_t lock;
    prefix_entry *v; /* sorted by strcmp */
    size_t n;
};

typedef struct {
    prefix_entry *v;
    size_t n, cap;
} prefix_list;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const prefix_entry *)a)->prefix, ((const prefix_entry *)b)->prefix);
}

sn_coverage *sn_coverage_new(void)
{
    sn_coverage *cv = calloc(1, sizeof(*cv));
    if (cv != NULL)
        pthread_rwlock_init(&cv->lock, NULL);
    return cv;
}

void sn_coverage_free(sn_coverage *cv)
{
    if (cv == NULL)
        return;
    pthread_rwlock_destroy(&cv->lock);
    free(cv->v);
    free(cv);
}

static int collect(void *ctx, const sn_range *r)
{
    prefix_list *l = ctx;
    if (r->prefix[0] == '\0')
        return 0; /* a carrier without a range */
    prefix_entry *v = sn_grow(l->v, &l->cap, l->n, sizeof(*v), 64);
    if (v == NULL)
        return SN_ENOMEM;
    l->v = v;
    memcpy(l->v[l->n].prefix, r->prefix, sizeof(r->prefix));
    l->n++;
    return 0;
}

int sn_coverage_load(sn_coverage *cv, sn_store *s, char *err, size_t errlen)
{
    prefix_list l = {NULL, 0, 0};
    int rc = sn_store_list_ranges(s, collect, &l, err, errlen);
    if (rc != SN_OK) {
        free(l.v);
        return rc == SN_ENOMEM ? sn_fail(err, errlen, rc, "out of memory") : rc;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), entry_cmp);
    pthread_rwlock_wrlock(&cv->lock);
    prefix_entry *old = cv->v;
    cv->v = l.v;
    cv->n = l.n;
    pthread_rwlock_unlock(&cv->lock);
    free(old);
    return SN_OK;
}

size_t sn_coverage_count(sn_coverage *cv)
{
    pthread_rwlock_rdlock(&cv->lock);
    size_t n = cv->n;
    pthread_rwlock_unlock(&cv->lock);
    return n;
}

int sn_coverage_covers(sn_coverage *cv, sn_number n)
{
    char text[SN_NUMBER_TEXT_MAX];
    size_t len = sn_number_format(n, text);
    prefix_entry probe;
    int covered = 0;
    if (cv == NULL)
        return 1;
    pthread_rwlock_rdlock(&cv->lock);
    covered = cv->n == 0;
    for (size_t k = 2; !covered && k <= len; k++) { /* "+8", "+86", ... the whole number */
        memcpy(probe.prefix, text, k);
        probe.prefix[k] = '\0';
        covered = bsearch(&probe, cv->v, cv->n, sizeof(probe), entry_cmp) != NULL;
    }
    pthread_rwlock_unlock(&cv->lock);
    return covered;
}

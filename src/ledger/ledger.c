/*
 * ledger.c - batch application of carrier events (see ledger.h).
 *
 * Per batch: sort by (number, at, index); read every number's state at
 * once (sn_store_get_states); then for each number run each of its events
 * through the duplicate check and sn_lifecycle_apply, append the accepted
 * ones to the log, and write the state back once. Sorting by number keeps
 * the store's B-tree writes in key order, which is what makes large imports
 * fast.
 * Thread-safety: as the store handle passed in.
 */
#include "ledger/ledger.h"

#include "core/errors.h"
#include "util/grow.h"
#include "store/log.h"

#include <stdlib.h>
#include <string.h>

int sn_ledger_event_cmp(const void *a, const void *b)
{
    const sn_log_event *x = a, *y = b;
    if (x->ev.number != y->ev.number)
        return x->ev.number < y->ev.number ? -1 : 1;
    if (x->ev.at != y->ev.at)
        return x->ev.at < y->ev.at ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

int sn_ledger_reject(sn_ledger_report *rep, uint32_t index, int code, const char *reason,
                     const sn_event *ev)
{
    sn_reject *rejects = sn_grow(rep->rejects, &rep->cap, rep->nrejects, sizeof(*rejects), 64);
    if (rejects == NULL)
        return SN_ENOMEM;
    rep->rejects = rejects;
    char *copy = strdup(reason);
    if (copy == NULL)
        return SN_ENOMEM;
    sn_reject *r = &rep->rejects[rep->nrejects++];
    *r = (sn_reject){.index = index, .code = code, .reason = copy};
    if (ev != NULL)
        r->ev = *ev;
    return SN_OK;
}

static int reject_cmp(const void *a, const void *b)
{
    const sn_reject *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

void sn_ledger_sort_rejects(sn_ledger_report *rep)
{
    if (rep->nrejects > 1)
        qsort(rep->rejects, rep->nrejects, sizeof(*rep->rejects), reject_cmp);
}

static void truncate_rejects(sn_ledger_report *rep, size_t keep)
{
    while (rep->nrejects > keep)
        free(rep->rejects[--rep->nrejects].reason);
}

void sn_ledger_report_free(sn_ledger_report *rep)
{
    truncate_rejects(rep, 0);
    free(rep->rejects);
    memset(rep, 0, sizeof(*rep));
}

/* Sort key: the event's number and time (made unsigned, order-preserving)
 * and its position in the unsorted array, which is also its input order. */
typedef struct {
    uint64_t number;
    uint64_t at;
    uint32_t pos;
} sort_key;

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)

/* One stable counting-sort pass of src into dst on the digit at `shift` of
 * the field chosen by `use_at`. Returns 0 when every key has the same digit
 * (the pass would change nothing and was skipped). */
static int radix_pass(const sort_key *src, sort_key *dst, size_t n, int use_at, unsigned shift,
                      size_t *count)
{
    memset(count, 0, RADIX_SIZE * sizeof(*count));
    for (size_t i = 0; i < n; i++)
        count[((use_at ? src[i].at : src[i].number) >> shift) & (RADIX_SIZE - 1)]++;
    size_t sum = 0;
    for (size_t d = 0; d < RADIX_SIZE; d++) {
        size_t c = count[d];
        if (c == n)
            return 0;
        count[d] = sum;
        sum += c;
    }
    for (size_t i = 0; i < n; i++)
        dst[count[((use_at ? src[i].at : src[i].number) >> shift) & (RADIX_SIZE - 1)]++] = src[i];
    return 1;
}

/* LSD radix sort by (number, at), stable, so equal keys keep input order.
 * When the input is already in time order (a daily feed usually is), the
 * time passes are skipped. Returns the buffer holding the result. */
static sort_key *radix_sort(sort_key *keys, sort_key *tmp, size_t n, int time_ordered,
                            size_t *count)
{
    for (int use_at = !time_ordered; use_at >= 0; use_at--)
        for (unsigned shift = 0; shift < 64; shift += RADIX_BITS)
            if (radix_pass(keys, tmp, n, use_at, shift, count)) {
                sort_key *t = keys;
                keys = tmp;
                tmp = t;
            }
    return keys;
}

static int is_sorted(const sn_log_event *items, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (sn_ledger_event_cmp(&items[i - 1], &items[i]) > 0)
            return 0;
    return 1;
}

int sn_ledger_sort(const sn_log_event *items, size_t n, sn_log_event **sorted)
{
    sort_key *keys = NULL, *tmp = NULL;
    size_t *count = NULL;
    int rc = SN_ENOMEM, time_ordered = 1;

    *sorted = NULL;
    if (is_sorted(items, n))
        return SN_OK;
    if (n > UINT32_MAX)
        return SN_ELIMIT;
    keys = malloc(n * sizeof(*keys));
    tmp = malloc(n * sizeof(*tmp));
    count = malloc(RADIX_SIZE * sizeof(*count));
    *sorted = malloc(n * sizeof(**sorted));
    if (keys == NULL || tmp == NULL || count == NULL || *sorted == NULL) {
        free(*sorted);
        *sorted = NULL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) { /* items are in input order: pos breaks ties */
        keys[i] =
            (sort_key){items[i].ev.number, (uint64_t)items[i].ev.at ^ (1ull << 63), (uint32_t)i};
        if (i > 0 && items[i].ev.at < items[i - 1].ev.at)
            time_ordered = 0;
    }
    const sort_key *order = radix_sort(keys, tmp, n, time_ordered, count);
    for (size_t i = 0; i < n; i++)
        (*sorted)[i] = items[order[i].pos];
    rc = SN_OK;
out:
    free(keys);
    free(tmp);
    free(count);
    return rc;
}

/* Apply one event to st; a duplicate or a rule violation is not an error of
 * the batch. Returns SN_OK, or a store/memory failure. */
static int apply_one(sn_store *s, const sn_rules *rules, const sn_ledger_guard *guard,
                     sn_number_state *st, const sn_log_event *e, sn_ledger_report *rep,
                     int *changed, char *err, size_t errlen)
{
    char why[SN_ERRMSG_MAX];
    int rc, found = 0;

    if (st->status != SN_ST_UNSEEN && e->ev.at <= st->last_at) {
        if ((rc = sn_store_find_event(s, e, &found, err, errlen)) != SN_OK)
            return rc;
        if (found) {
            rep->duplicates++;
            return SN_OK;
        }
    }
    sn_number_state before = *st;
    rc = guard != NULL && guard->allow != NULL ? guard->allow(guard->ctx, st, e, why, sizeof(why))
                                               : SN_OK;
    if (rc == SN_OK)
        rc = sn_lifecycle_apply(rules, st, &e->ev, why, sizeof(why));
    if (rc != SN_OK)
        return sn_ledger_reject(rep, e->index, rc, why, &e->ev) == SN_OK
                   ? SN_OK
                   : sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    sn_log_event logged = *e;
    if (before.status != SN_ST_UNSEEN && st->tenure != before.tenure)
        logged.flags |= SN_LOG_NEW_TENURE;
    if ((rc = sn_store_append_event(s, &logged, st->events, err, errlen)) != SN_OK)
        return rc;
    if (guard != NULL && guard->applied != NULL &&
        (rc = guard->applied(guard->ctx, s, &before, st, &logged, err, errlen)) != SN_OK)
        return rc;
    rep->applied++;
    *changed = 1;
    return SN_OK;
}

int sn_ledger_apply_in_tx(sn_store *s, const sn_log_event *items, size_t n, sn_ledger_report *rep,
                          const sn_ledger_guard *guard, sn_number_state *changed, size_t *nchanged,
                          char *err, size_t errlen)
{
    const sn_rules *rules = sn_store_rules(s);
    sn_number *numbers = NULL;
    sn_number_state *states = NULL;
    size_t count = 0;
    int rc = SN_OK;

    if (n == 0)
        return SN_OK;
    numbers = malloc(n * sizeof(*numbers));
    states = malloc(n * sizeof(*states));
    if (numbers == NULL || states == NULL) {
        rc = sn_fail(err, errlen, SN_ENOMEM, "out of memory");
        goto out;
    }
    /* every number's state at once: the store reads close numbers together */
    for (size_t i = 0; i < n; i++)
        if (i == 0 || items[i].ev.number != items[i - 1].ev.number)
            numbers[count++] = items[i].ev.number;
    if ((rc = sn_store_get_states(s, numbers, count, states, err, errlen)) != SN_OK)
        goto out;
    for (size_t i = 0, k = 0; i < n; k++) {
        sn_number_state *st = &states[k];
        int dirty = 0, fresh = st->events == 0; /* no row for it yet */
        size_t j = i;
        for (; j < n && items[j].ev.number == items[i].ev.number; j++)
            if ((rc = apply_one(s, rules, guard, st, &items[j], rep, &dirty, err, errlen)) != SN_OK)
                goto out;
        if (dirty) {
            if ((rc = sn_store_put_state(s, st, fresh, err, errlen)) != SN_OK)
                goto out;
            if (changed != NULL)
                changed[(*nchanged)++] = *st;
        }
        i = j;
    }
out:
    free(numbers);
    free(states);
    return rc;
}

int sn_ledger_apply(sn_store *s, sn_log_event *items, size_t n, sn_ledger_report *rep,
                    const sn_ledger_guard *guard, sn_ledger_observer observe, void *ctx, char *err,
                    size_t errlen)
{
    sn_ledger_report before = *rep;
    sn_number_state *changed = NULL;
    size_t nchanged = 0;
    int rc;

    if (n == 0)
        return SN_OK;
    sn_log_event *sorted;
    if ((rc = sn_ledger_sort(items, n, &sorted)) != SN_OK)
        return sn_fail(err, errlen, rc, "cannot sort %zu events", n);
    if (sorted != NULL) {
        memcpy(items, sorted, n * sizeof(*items));
        free(sorted);
    }
    if (observe != NULL && (changed = malloc(n * sizeof(*changed))) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if ((rc = sn_store_begin(s, err, errlen)) != SN_OK)
        goto out;
    if ((rc = sn_ledger_apply_in_tx(s, items, n, rep, guard, changed, &nchanged, err, errlen)) !=
            SN_OK ||
        (rc = sn_store_commit(s, err, errlen)) != SN_OK)
        goto fail;
    if (observe != NULL && nchanged > 0)
        observe(ctx, changed, nchanged);
    goto out;
fail:
    sn_store_rollback(s);
    sn_ledger_restore(rep, &before);
out:
    free(changed);
    return rc;
}

void sn_ledger_restore(sn_ledger_report *rep, const sn_ledger_report *before)
{
    truncate_rejects(rep, before->nrejects);
    rep->applied = before->applied;
    rep->duplicates = before->duplicates;
}

typedef struct {
    int *has;
    uint8_t *hash;
} id6_scan;

static int id6_event(void *ctx, const sn_log_event *e, uint32_t ordinal)
{
    id6_scan *sc = ctx;
    (void)ordinal;
    if (e->ev.kind == SN_EV_ACTIVATE)
        *sc->has = 0;
    if (e->has_id6) {
        *sc->has = 1;
        memcpy(sc->hash, e->id6_hash, SN_ID6_HASH_LEN);
    }
    return 0;
}

int sn_ledger_tenure_id6(sn_store *s, sn_number n, int *has, uint8_t hash[SN_ID6_HASH_LEN],
                         char *err, size_t errlen)
{
    id6_scan scan = {has, hash};
    *has = 0;
    return sn_store_scan_events(s, n, id6_event, &scan, err, errlen);
}

/*
 * checks.c - the verdict of a check, from the serving index (see
 * checks.h). Thread-safe: the index locks its shards.
 */
#include "service/checks.h"

#include "core/errors.h"
#include "store/log.h"
#include "util/clock.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int sn_check_stored(sn_store *s, sn_number n, sn_day d, sn_day today, sn_verdict *v, char *why,
                    size_t whylen)
{
    sn_number_state st;
    sn_verdict_reason reason;
    int rc = sn_check_day(d, today, why, whylen);
    if (rc != SN_OK || (rc = sn_store_get_state(s, n, &st, why, whylen)) != SN_OK)
        return rc;
    *v = sn_verdict_of(&st, d, &reason);
    sn_verdict_explain(&st, reason, why, whylen);
    return SN_OK;
}

sn_day sn_check_today(const sn_service *svc)
{
    return sn_day_of(sn_wall_sec(), svc->rules.tz_minutes);
}

/* The answer to a hashed question on a node without the digest maps. */
static int hashed_off(char *msg, size_t msglen)
{
    return sn_fail(msg, msglen, SN_ECONFIG,
                   "this server does not answer hashed checks (serve --hashed-checks off); "
                   "ask with the number");
}

/* Everything of q but its state: the day against today, a digest to its
 * number (*n; a->known 0 when the index has no such digest, else 1 until
 * the state is looked up). */
static int ask(const sn_service *svc, sn_day today, const sn_check_question *q, sn_check_answer *a,
               sn_number *n, char *msg, size_t msglen)
{
    int rc = sn_check_day(q->day, today, msg, msglen);
    memset(a, 0, sizeof(*a));
    *n = q->number;
    if (rc != SN_OK)
        return rc;
    if (q->by != SN_CHECK_NUMBER && !sn_numindex_has_digests(svc->index))
        return hashed_off(msg, msglen);
    if (q->by == SN_CHECK_SHA256)
        a->known = sn_numindex_find_sha256(svc->index, q->digest, n);
    else if (q->by == SN_CHECK_MD5)
        a->known = sn_numindex_find_md5(svc->index, q->digest, n);
    else if (q->by == SN_CHECK_SM3)
        a->known = sn_numindex_find_sm3(svc->index, q->digest, n);
    else
        a->known = 1;
    return SN_OK;
}

/* The answer of an asked question from its number's state. */
static void answer(sn_check_answer *a, sn_day day, int known, const sn_number_state *st)
{
    a->known = known;
    a->verdict = known ? sn_verdict_of(st, day, NULL) : SN_VERDICT_UNKNOWN;
    a->first_day = known ? st->first_day : SN_DAY_NONE;
}

int sn_check(const sn_service *svc, sn_day today, const sn_check_question *q, sn_check_answer *a,
             char *msg, size_t msglen)
{
    sn_number_state st;
    sn_number n;
    int rc = ask(svc, today, q, a, &n, msg, msglen);
    if (rc == SN_OK)
        answer(a, q->day, a->known && sn_numindex_get(svc->index, n, &st), &st);
    return rc;
}

#define MANY_CHUNK SN_NUMINDEX_GET_CHUNK /* questions looked up together */

void sn_check_many(const sn_service *svc, sn_day today, sn_check_item *items, size_t n)
{
    sn_number numbers[MANY_CHUNK];
    sn_number_state states[MANY_CHUNK];
    uint8_t found[MANY_CHUNK];
    uint16_t at[MANY_CHUNK];
    char why[SN_ERRMSG_MAX];
    for (size_t from = 0; from < n; from += MANY_CHUNK) {
        size_t end = n - from < MANY_CHUNK ? n : from + MANY_CHUNK, k = 0;
        for (size_t i = from; i < end; i++) {
            sn_check_item *it = &items[i];
            if (it->rc != SN_OK)
                continue;
            it->rc = ask(svc, today, &it->q, &it->a, &numbers[k], why, sizeof(why));
            if (it->rc == SN_OK && it->a.known)
                at[k++] = (uint16_t)(i - from);
            else if (it->rc == SN_OK)
                answer(&it->a, it->q.day, 0, NULL);
        }
        sn_numindex_get_many(svc->index, numbers, k, states, found);
        for (size_t j = 0; j < k; j++) {
            sn_check_item *it = &items[from + at[j]];
            answer(&it->a, it->q.day, found[j], &states[j]);
        }
    }
}

static int by_digest(const void *a, const void *b)
{
    return memcmp(((const sn_range_entry *)a)->sha256, ((const sn_range_entry *)b)->sha256, 32);
}

int sn_check_range(const sn_service *svc, sn_day today, uint32_t prefix, sn_day d,
                   sn_range_entry *out, size_t max, size_t *n, char *msg, size_t msglen)
{
    sn_number_state st;
    size_t found = 0;
    int rc = sn_check_day(d, today, msg, msglen);
    *n = 0;
    if (rc != SN_OK)
        return rc;
    if (!sn_numindex_has_digests(svc->index))
        return hashed_off(msg, msglen);
    sn_number *numbers = malloc((max + 1) * sizeof(*numbers));
    if (numbers == NULL)
        return sn_fail(msg, msglen, SN_ENOMEM, "out of memory");
    if (sn_numindex_range_sha256(svc->index, prefix, numbers, max, &found) != SN_OK) {
        free(numbers);
        return sn_fail(msg, msglen, SN_ELIMIT,
                       "more than %zu numbers have this prefix (the server's limit on a range "
                       "answer); it cannot be checked by range",
                       max);
    }
    for (size_t i = 0; i < found; i++) {
        if (!sn_numindex_get(svc->index, numbers[i], &st))
            continue; /* being added: unknown, as the single check says */
        sn_number_sha256(numbers[i], out[*n].sha256);
        out[*n].verdict = sn_verdict_of(&st, d, NULL);
        (*n)++;
    }
    free(numbers);
    qsort(out, *n, sizeof(*out), by_digest);
    return SN_OK;
}

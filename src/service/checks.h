/*
 * checks.h - "has this number changed hands since this day?", answered
 * from the serving index (numindex.h), never the store: a check costs
 * microseconds and runs on the loop thread that received it. The CAMARA
 * check and the native single and batch checks all come here.
 */
#ifndef SN_CHECKS_H
#define SN_CHECKS_H

#include "core/verdict.h"
#include "service/service.h"

/* How the question names the number. */
typedef enum {
    SN_CHECK_NUMBER = 0,
    SN_CHECK_SHA256 = 1,
    SN_CHECK_MD5 = 2,
    SN_CHECK_SM3 = 3,
} sn_check_by;

typedef struct {
    uint8_t by;         /* sn_check_by */
    sn_number number;   /* SN_CHECK_NUMBER */
    uint8_t digest[32]; /* SHA-256 or SM3 (32 bytes), MD5 (16) of the E.164 text */
    sn_day day;
} sn_check_question;

typedef struct {
    sn_verdict verdict;
    int known;        /* the index has the number */
    sn_day first_day; /* of a known number: its first record */
} sn_check_answer;

/* The calendar day of now in the deployment's zone: what a check's day is
 * held against. */
sn_day sn_check_today(const sn_service *svc);

/* The verdict for q, today being `today` (the caller takes it once for a
 * batch). SN_OK, SN_EFUTURE when q->day is after today, or SN_ECONFIG for
 * a hashed question when the index has no digest maps (msg says which). */
int sn_check(const sn_service *svc, sn_day today, const sn_check_question *q, sn_check_answer *a,
             char *msg, size_t msglen);

/* One question of a batch and its answer (sn_check_many). */
typedef struct {
    sn_check_question q;
    int rc;            /* SN_OK, or why it has no answer */
    sn_check_answer a; /* when rc is SN_OK */
} sn_check_item;

/* The answers to items[0..n) at once, each item's rc and answer what
 * sn_check would give for its question (its message too: ask sn_check
 * again for a failed item's). Items with rc other than SN_OK on entry (a
 * batch's items refused before they were questions) are left as they are.
 * The index lookups go together (sn_numindex_get_many): for a 1,000-number
 * batch that is most of the index's cost. */
void sn_check_many(const sn_service *svc, sn_day today, sn_check_item *items, size_t n);

/* The range check (k-anonymity): every number whose SHA-256 starts with
 * the SN_RANGE_PREFIX_BITS bits of `prefix`, with its verdict on day d.
 * The caller never names its number, only the prefix, and picks its own
 * entry by the digest. */
#define SN_RANGE_RESULTS_MAX_DEFAULT 4096 /* numbers one answer may list (serve --range-max) */
#define SN_RANGE_RESULTS_MAX_LIMIT 65536  /* the most --range-max may be */

typedef struct {
    uint8_t sha256[32];
    sn_verdict verdict;
} sn_range_entry;

/* The numbers of prefix with their verdicts on day d into out[0..max),
 * sorted by digest, *n of them. SN_OK; SN_EFUTURE when d is after today;
 * SN_ELIMIT when more than max numbers have the prefix (nothing listed);
 * SN_ECONFIG when the index has no digest maps; SN_ENOMEM. msg says why.
 * A number whose digests are in the index but not yet its state (it is
 * being added) is left out: the single check would call it unknown too. */
int sn_check_range(const sn_service *svc, sn_day today, uint32_t prefix, sn_day d,
                   sn_range_entry *out, size_t max, size_t *n, char *msg, size_t msglen);

/* The verdict for number n on day d (not after today) from the store
 * itself, not the index (`secondnum check`), with the sentence that
 * explains it in why: SN_OK, SN_EFUTURE, or the store's failure. */
int sn_check_stored(sn_store *s, sn_number n, sn_day d, sn_day today, sn_verdict *v, char *why,
                    size_t whylen);

#endif

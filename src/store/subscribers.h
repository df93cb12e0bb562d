/*
 * subscribers.h - what subscriber self-service keeps: text messages (the
 * outbox, or the queue for a gateway), each number's sign-in code,
 * sessions, and rate-limit counters. Codes and session tokens are kept only
 * as keyed hashes (crypto/tokens.h).
 */
#ifndef SN_STORE_SUBSCRIBERS_H
#define SN_STORE_SUBSCRIBERS_H

#include "core/limits.h"
#include "core/subscriber.h"
#include "store/store.h"

typedef enum {
    SN_SMS_PENDING = 0, /* queued for a gateway */
    SN_SMS_SENT = 1,    /* the gateway accepted it (its text is then erased) */
    SN_SMS_FAILED = 2,  /* the gateway refused it to the last retry, or its code died first */
    SN_SMS_OUTBOX = 3,  /* kept in the store for development (the outbox driver) */
} sn_sms_state;

/* The error of a code's message dropped before it was sent: the code was
 * used, replaced or expired first. */
#define SN_SMS_CODE_DEAD "the code was no longer valid"

typedef enum { SN_SMS_OTP = 1, SN_SMS_REPORT = 2 } sn_sms_purpose;

typedef struct {
    uint64_t id;
    sn_number number;
    uint8_t purpose; /* sn_sms_purpose */
    uint8_t state;   /* sn_sms_state */
    char lang[SN_LANG_LEN + 1];
    char text[SN_SMS_TEXT_MAX + 1];
    int64_t created; /* seconds */
    uint32_t attempts;
    int64_t next_at_ms; /* pending: when to try (again) */
    int64_t sent_at;    /* seconds; 0 before */
    char error[SN_DELIVERY_ERROR_MAX + 1];
} sn_sms_msg;

typedef int (*sn_sms_fn)(void *ctx, const sn_sms_msg *m);

/* Queue or keep a message (m->id ignored); sets *id. */
int sn_store_sms_add(sn_store *s, const sn_sms_msg *m, uint64_t *id, char *err, size_t errlen);

/* Messages in id order after `after`: of number n (0: all), in state
 * `state` (-1: any), at most limit. */
int sn_store_sms_list(sn_store *s, sn_number n, int state, uint64_t after, uint32_t limit,
                      sn_sms_fn fn, void *ctx, char *err, size_t errlen);

/* Pending messages due at now_ms, oldest first, at most limit. */
int sn_store_sms_due(sn_store *s, int64_t now_ms, uint32_t limit, sn_sms_fn fn, void *ctx,
                     char *err, size_t errlen);

/* Write a message's state, attempts, times and error; erase its text when
 * it left for the gateway (state SENT or FAILED). A message whose text was
 * erased meanwhile (sn_store_sms_erase_codes) is not pending again: it
 * stays FAILED. */
int sn_store_sms_update(sn_store *s, const sn_sms_msg *m, char *err, size_t errlen);

/* Erase the text of every sign-in code message whose code is dead at now
 * (used, killed, replaced by a newer code, expired): outbox messages keep
 * their row with an empty text, pending ones become FAILED with
 * SN_SMS_CODE_DEAD. *erased (may be NULL) gets how many. Other messages
 * (reports) are untouched. */
int sn_store_sms_erase_codes(sn_store *s, int64_t now, uint64_t *erased, char *err, size_t errlen);

/* SN_ENOTFOUND when the number has no code row. */
int sn_store_otp_get(sn_store *s, sn_number n, sn_otp *out, char *err, size_t errlen);

/* Insert or replace the number's row. */
int sn_store_otp_put(sn_store *s, const sn_otp *o, char *err, size_t errlen);

/* The wrong answers client address addr gave for number n (a zero pair
 * when none are counted), kept as a row of rate_limits: bucket
 * "otp-f:<number>:<addr>", win_start the pair's `until`, hits its count
 * (a row is purged two hours after its `until`). */
int sn_store_otp_pair_get(sn_store *s, sn_number n, const char *addr, sn_otp_pair *out, char *err,
                          size_t errlen);
int sn_store_otp_pair_put(sn_store *s, sn_number n, const char *addr, const sn_otp_pair *p,
                          char *err, size_t errlen);

/* Count one hit on a rate-limit bucket in the fixed window starting at
 * `window` (seconds); *count is the hits in that window, this one included.
 * Rows of earlier windows are replaced. */
int sn_store_rate_hit(sn_store *s, const char *bucket, int64_t window, uint32_t *count, char *err,
                      size_t errlen);

int sn_store_session_put(sn_store *s, const sn_session *ses, char *err, size_t errlen);

/* SN_ENOTFOUND when there is no such token. */
int sn_store_session_get(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], sn_session *out,
                         char *err, size_t errlen);

int sn_store_session_delete(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], char *err,
                            size_t errlen);

/* Delete sessions that expired before now, OTP rows dead and unlocked
 * before now, and rate-limit windows two hours old. */
int sn_store_subscriber_purge(sn_store *s, int64_t now, char *err, size_t errlen);

#endif

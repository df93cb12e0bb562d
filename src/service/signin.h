/*
 * signin.h - a subscriber signing in and the session that follows:
 * a code by SMS, then the code with the last six ID characters, checked
 * against the keyed hash the carrier reported for the current tenure
 * (core/subscriber.h has the rules). Answers never tell whether a number
 * is known: a number without a subscriber gets a code row like any other
 * (its code is sent nowhere), so rate limits, wrong answers and lockouts
 * behave the same; only a right code, which takes the phone, leads further.
 *
 * Each call is one transaction (a session's reads, none); an answer that
 * must be kept although it is an error (a wrong answer counts an attempt;
 * every attempt counts against the address's limit) commits and returns
 * its code: SN_EAUTH, SN_EPERM, SN_ERATE. Every session a use case takes
 * is judged first (sn_signin_session): SN_EAUTH when it expired or ended.
 */
#ifndef SN_SIGNIN_H
#define SN_SIGNIN_H

#include "service/checks.h"
#include "store/subscribers.h"

/* The language of a subscriber's messages: text ("zh" or "en"; NULL: the
 * deployment's, zh for +86) into lang; SN_EINVAL otherwise. */
int sn_signin_lang(const sn_service *svc, const char *text, char lang[SN_LANG_LEN + 1], char *err,
                   size_t errlen);

/* Send a sign-in code to number n (in lang, "zh" or "en"), for a client
 * at addr (for the per-address limit). */
int sn_signin_request_code(const sn_service *svc, sn_store *s, const char *addr, sn_number n,
                           const char *lang, char *err, size_t errlen);

/* Sign in with code and id6 (normalised, SN_ID6_LEN characters): a new
 * session in *ses and its token (SN_SESSION_TOKEN_LEN + 1 bytes, shown
 * once). */
int sn_signin_start(const sn_service *svc, sn_store *s, const char *addr, sn_number n,
                    const char *code, const char *id6, sn_session *ses, char *token, char *err,
                    size_t errlen);

/* The session whose token hashes to token_hash, judged against its
 * number's state now (*st, may be NULL). */
int sn_signin_session(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                      sn_session *ses, sn_number_state *st, char *err, size_t errlen);

/* Sign out. */
int sn_signin_end(const sn_service *svc, sn_store *s, const uint8_t *token_hash, char *err,
                  size_t errlen);

/* The CAMARA check of a three-legged caller: the session's number for day
 * q->day, q then naming the session's number. q NULL: only judge the
 * session (the question was invalid; the caller answers why once the
 * session holds). */
int sn_signin_check(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                    sn_check_question *q, sn_day today, sn_check_answer *a, char *err,
                    size_t errlen);

/* A number's hourly counter: one hit on "<kind>:<key>"; SN_ERATE (with the
 * sentence naming what) when over limit. In the caller's transaction. */
int sn_signin_rate(const sn_service *svc, sn_store *s, const char *kind, const char *key,
                   uint32_t limit, const char *what, char *err, size_t errlen);

/* Drop dead codes, sessions and rate windows, at most once a minute. */
int sn_signin_purge(const sn_service *svc, sn_store *s, int64_t now, char *err, size_t errlen);

#endif

/*
 * subscriber.h - the rules of subscriber self-service, without I/O or
 * clock: sign-in codes and their attempts, whether a session still speaks
 * for the number's subscriber, rate-limit windows, and the records the
 * store keeps of them.
 *
 * Sign-in (docs/internals/subscribers.md):
 *   - a number has at most one live code; a new one replaces it;
 *   - each wrong answer (a wrong code, or wrong ID digits with the right
 *     code) counts; the max_attempts-th kills the code and locks the number
 *     for lockout_s: no answer is checked and no code is sent meanwhile;
 *   - a right answer uses the code up.
 * A session speaks for the subscriber of one tenure: it ends when it
 * expires, when the number no longer has a subscriber (cancelled), when a
 * new tenure starts (reissue), or when the number was cancelled and
 * reclaimed since sign-in (its latest cancellation day moved).
 */
#ifndef SN_CORE_SUBSCRIBER_H
#define SN_CORE_SUBSCRIBER_H

#include "core/lifecycle.h"
#include "core/limits.h"

#include <stdint.h>

#define SN_SECRET_HASH_LEN 32 /* sign-in codes and session tokens are kept as these */

/* Settings of subscriber self-service (serve flags). */
typedef struct {
    int64_t otp_ttl_s;              /* a code lives this long (300) */
    uint32_t otp_max_attempts;      /* wrong answers per code (5) */
    int64_t lockout_s;              /* after the last wrong answer (900) */
    uint32_t otp_per_number;        /* codes per number per hour (5) */
    uint32_t otp_per_address;       /* code requests per client address per hour (20) */
    uint32_t signin_per_address;    /* sign-in attempts per client address per hour (30) */
    uint32_t reports_per_number;    /* report-by-sms per number per hour (3) */
    uint32_t complaints_per_number; /* complaints per number per hour (10) */
    int64_t session_ttl_s;          /* 900 */
    int64_t complaint_period_s;     /* each level's time to answer (5 days) */
    char client_ip_header[64];      /* trusted proxy header naming the client, or "" */
    uint32_t client_ip_hops;        /* its entry this far from the right (http/client_ip.h) */
} sn_subscriber_options;

#define SN_CLIENT_IP_HOPS_DEFAULT 1 /* one trusted proxy in front of serve */
#define SN_CLIENT_IP_HOPS_MAX 16

void sn_subscriber_defaults(sn_subscriber_options *o);

/* The one live sign-in code of a number, as a keyed hash. */
typedef struct {
    sn_number number;
    uint8_t code_hash[SN_SECRET_HASH_LEN];
    int64_t created, expires; /* seconds */
    uint32_t attempts;        /* wrong answers so far */
    int64_t locked_until;     /* seconds; 0 when not locked */
    char lang[SN_LANG_LEN + 1];
} sn_otp;

/* A subscriber's session: the token is kept as a hash; it is bound to the
 * number's tenure and its latest cancellation at sign-in. */
typedef struct {
    uint8_t token_hash[SN_SECRET_HASH_LEN];
    sn_number number;
    uint32_t tenure;
    sn_day cancel_day; /* the number's last_cancel_day at sign-in */
    int64_t created, expires;
    char lang[SN_LANG_LEN + 1];
} sn_session;

/* The fixed rate-limit window (one hour) holding time t. */
int64_t sn_rate_window(int64_t t);

/* Does the number have a subscriber who can sign in (active or suspended)? */
int sn_has_subscriber(const sn_number_state *st);

typedef enum {
    SN_OTP_OK = 0,      /* right answer: the code is used up */
    SN_OTP_NONE = 1,    /* no code (never requested, used, or killed) */
    SN_OTP_EXPIRED = 2, /* past its lifetime */
    SN_OTP_LOCKED = 3,  /* the number is locked out: nothing was checked */
    SN_OTP_WRONG = 4,   /* counted; attempts left */
    SN_OTP_LOCKOUT = 5, /* counted, and that was the last attempt: now locked */
} sn_otp_verdict;

/* Judge an answer to code o (NULL: the number has no code row) at now;
 * `right` says whether the whole answer was right. Updates *o (attempts,
 * lockout, and an expiry of now for a code killed or used). */
sn_otp_verdict sn_otp_judge(sn_otp *o, int right, int64_t now, const sn_subscriber_options *opt);

/* May a new code be sent for a number whose code row is o (NULL: none)? */
int sn_otp_locked(const sn_otp *o, int64_t now);

typedef enum {
    SN_SESSION_OK = 0,
    SN_SESSION_EXPIRED = 1,
    SN_SESSION_ENDED = 2, /* cancelled or reissued since sign-in */
} sn_session_verdict;

sn_session_verdict sn_session_judge(const sn_session *ses, const sn_number_state *st, int64_t now);

/* Which bindings an unbind request is about: a previous owner's, or the
 * requester's own. */
typedef enum { SN_SCOPE_PREVIOUS = 1, SN_SCOPE_MINE = 2 } sn_request_scope;

/* "previous", "mine"; NULL otherwise. */
const char *sn_scope_name(int scope);
int sn_scope_parse(const char *s); /* 0 when unknown */

#endif

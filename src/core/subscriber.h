/*
 * subscriber.h - the rules of subscriber self-service, without I/O or
 * clock: sign-in codes and their attempts, whether a session still speaks
 * for the number's subscriber, rate-limit windows, and the records the
 * store keeps of them.
 *
 * Sign-in (docs/internals/subscribers.md):
 *   - a number has at most one live code; a new one replaces it;
 *   - each wrong answer (a wrong code, or wrong ID digits with the right
 *     code) counts twice: for the client address that gave it, on this
 *     number (a pair), and for the code, from every address;
 *   - a pair's max_attempts-th wrong answer locks that pair for lockout_s:
 *     no answer from that address for that number is checked and no code
 *     is sent to it meanwhile; other addresses are not affected, so one
 *     client cannot lock the subscriber out;
 *   - the code's code_max_wrong-th wrong answer kills the code (a new one
 *     may be requested, within the hourly limits): every code takes at most
 *     that many wrong answers whatever the number of addresses, which
 *     bounds guessing (SN_OTP_CODE_MAX_WRONG);
 *   - a right answer uses the code up and clears the pair's count.
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

/* The defaults of the settings below (serve flags where one is named). */
#define SN_OTP_TTL_S 300             /* a code's lifetime (--otp-ttl) */
#define SN_OTP_MAX_ATTEMPTS 5        /* wrong answers from one address for one number */
#define SN_OTP_CODE_MAX_WRONG 10     /* wrong answers to one code, from every address */
#define SN_OTP_LOCKOUT_S 900         /* an address locked out of a number (--lockout) */
#define SN_OTP_FORGET_S 3600         /* a pair's wrong answers, after the last of them */
#define SN_OTP_PER_NUMBER 5          /* codes per number per hour (--otp-per-number) */
#define SN_OTP_PER_ADDRESS 20        /* code requests per address per hour (--otp-per-address) */
#define SN_SIGNIN_PER_ADDRESS 30     /* sign-in attempts per address per hour */
#define SN_REPORTS_PER_NUMBER 3      /* report-by-sms per number per hour */
#define SN_COMPLAINTS_PER_NUMBER 10  /* complaints per number per hour */
#define SN_SESSION_TTL_S 900         /* --session-ttl */
#define SN_COMPLAINT_PERIOD_S 432000 /* each level's time to answer: 5 days */
#define SN_CLIENT_IP_HOPS_DEFAULT 1  /* one trusted proxy in front of serve */
#define SN_CLIENT_IP_HOPS_MAX 16

/* Settings of subscriber self-service (serve flags). */
typedef struct {
    int64_t otp_ttl_s;              /* a code lives this long */
    uint32_t otp_max_attempts;      /* wrong answers per (number, client address) */
    uint32_t otp_code_max_wrong;    /* wrong answers per code, from every address */
    int64_t lockout_s;              /* a pair, after its last wrong answer */
    uint32_t otp_per_number;        /* codes per number per hour */
    uint32_t otp_per_address;       /* code requests per client address per hour */
    uint32_t signin_per_address;    /* sign-in attempts per client address per hour */
    uint32_t reports_per_number;    /* report-by-sms per number per hour */
    uint32_t complaints_per_number; /* complaints per number per hour */
    int64_t session_ttl_s;
    int64_t complaint_period_s; /* each level's time to answer */
    char client_ip_header[64];  /* trusted proxy header naming the client, or "" */
    uint32_t client_ip_hops;    /* its entry this far from the right (http/client_ip.h) */
} sn_subscriber_options;

void sn_subscriber_defaults(sn_subscriber_options *o);

/* The one live sign-in code of a number, as a keyed hash. */
typedef struct {
    sn_number number;
    uint8_t code_hash[SN_SECRET_HASH_LEN];
    int64_t created, expires; /* seconds */
    uint32_t attempts;        /* wrong answers so far, from every address */
    int64_t locked_until;     /* unused since lockouts are per address: 0 */
    char lang[SN_LANG_LEN + 1];
} sn_otp;

/* The wrong answers one client address gave for one number (a pair). */
typedef struct {
    uint32_t wrong; /* since the pair's last lockout, right answer or forgetting */
    int64_t until;  /* wrong < max_attempts: forgotten at; else locked until */
} sn_otp_pair;

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
    SN_OTP_LOCKED = 3,  /* the address is locked out of the number: nothing was checked */
    SN_OTP_WRONG = 4,   /* counted; attempts left */
    SN_OTP_LOCKOUT = 5, /* counted, and that was the pair's last attempt: now locked */
    SN_OTP_KILLED = 6,  /* counted, and that was the code's last wrong answer: it is dead */
} sn_otp_verdict;

/* Judge an answer to code o (NULL: the number has no code row) from the
 * address whose pair is p, at now; `right` says whether the whole answer
 * was right. Updates *o (attempts, and an expiry of now for a code killed
 * or used) and *p (its count and time). */
sn_otp_verdict sn_otp_judge(sn_otp *o, sn_otp_pair *p, int right, int64_t now,
                            const sn_subscriber_options *opt);

/* Is the address of pair p locked out of its number at now? (No answer
 * is checked and no code sent for it.) */
int sn_otp_pair_locked(const sn_otp_pair *p, int64_t now, const sn_subscriber_options *opt);

/* Attempts left to an address with pair p on code o (after a wrong answer). */
uint32_t sn_otp_left(const sn_otp *o, const sn_otp_pair *p, const sn_subscriber_options *opt);

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

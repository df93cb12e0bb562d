/*
 * errors.h - the one error model of secondnum.
 *
 * Every function that can fail returns 0 (SN_OK) or a negative SN_E* code and,
 * when the caller passes a buffer, writes a human sentence into it. The code
 * says what kind of failure it is (and so which HTTP status and CAMARA code it
 * maps to); the sentence says exactly what was wrong with this input.
 *
 * Codes are appended, never renumbered: they appear in logs and in tests.
 */
#ifndef SN_ERRORS_H
#define SN_ERRORS_H

#include <stddef.h>

enum {
    SN_OK = 0,
    SN_EINVAL = -1,        /* malformed input (syntax) */
    SN_ENUMBER = -2,       /* not a phone number we accept */
    SN_EDATE = -3,         /* not a valid RFC 3339 date or date-time */
    SN_EFUTURE = -4,       /* a date or time after now */
    SN_ETRANSITION = -5,   /* lifecycle transition not allowed from the current state */
    SN_EAGING = -6,        /* reissue or release before the minimum aging */
    SN_EORDER = -7,        /* event older than the number's latest event */
    SN_ENOTFOUND = -8,     /* no such record */
    SN_ESTORE = -9,        /* the storage backend failed */
    SN_ENOMEM = -10,       /* out of memory */
    SN_EIO = -11,          /* reading or writing a file failed */
    SN_ELIMIT = -12,       /* a size or count limit was exceeded */
    SN_EUSAGE = -13,       /* bad command-line usage */
    SN_ECONFIG = -14,      /* bad or inconsistent configuration */
    SN_EDUPLICATE = -15,   /* identical to an event already recorded (not a failure for feeds) */
    SN_EPERM = -16,        /* the caller may not do this (a carrier reporting another's number) */
    SN_EHELD = -17,        /* a reissue held while apps still have open cancellation notices */
    SN_ECONFLICT = -18,    /* conflicts with what was recorded (a second, different ack) */
    SN_EAUTH = -19,        /* the caller is not who they must be (a wrong code, a dead session) */
    SN_ERATE = -20,        /* over a rate limit, or locked out for a while */
    SN_EUNAVAILABLE = -21, /* cannot be done now (the database is away, the queue is full) */
    SN_EEVENT = -22,       /* not an event kind secondnum knows */
    SN_EPORT = -23,        /* a port (or an id6 change) the carrier of record did not authorise */
};

/* Size of the message buffers callers pass around. Messages longer than this
 * are truncated, never overflowed. */
#define SN_ERRMSG_MAX 256

/* Stable lowercase name of a code ("invalid", "number", ...); "unknown" for an
 * unlisted code. Never NULL. */
const char *sn_error_name(int code);

/* Fill buf (size len, may be NULL or 0) with a printf-style message and return
 * code, so failures read `return sn_fail(err, errlen, SN_EINVAL, "...", ...)`. */
int sn_fail(char *buf, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

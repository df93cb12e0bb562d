/*
 * signin.c - subscribers signing in, and their sessions (see signin.h).
 * Runs on the writer thread.
 */
#include "service/signin.h"

#include "core/errors.h"
#include "crypto/tokens.h"
#include "ledger/ledger.h"
#include "sms/messages.h"
#include "store/log.h"
#include "util/clock.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PURGE_EVERY_S 60

int sn_signin_lang(const sn_service *svc, const char *text, char lang[SN_LANG_LEN + 1], char *err,
                   size_t errlen)
{
    int l = text != NULL ? sn_lang_parse(text)
                         : (svc->rules.default_cc == 86 ? SN_LANG_ZH : SN_LANG_EN);
    if (l < 0)
        return sn_fail(err, errlen, SN_EINVAL, "lang must be zh or en");
    snprintf(lang, SN_LANG_LEN + 1, "%s", sn_lang_code(l));
    return SN_OK;
}

int sn_signin_rate(const sn_service *svc, sn_store *s, const char *kind, const char *key,
                   uint32_t limit, const char *what, char *err, size_t errlen)
{
    char bucket[SN_ERRMSG_MAX], until[SN_TIME_TEXT_MAX];
    int64_t window = sn_rate_window(sn_wall_sec());
    uint32_t count = 0;
    (void)svc;
    snprintf(bucket, sizeof(bucket), "%s:%s", kind, key);
    int rc = sn_store_rate_hit(s, bucket, window, &count, err, errlen);
    if (rc != SN_OK || count <= limit)
        return rc;
    sn_utc_format(window + 3600, until);
    return sn_fail(err, errlen, SN_ERATE, "too many %s: at most %u an hour; try again after %s",
                   what, limit, until);
}

int sn_signin_purge(const sn_service *svc, sn_store *s, int64_t now, char *err, size_t errlen)
{
    sn_subscribers *sub = svc->subscribers;
    if (now - sub->purged_at < PURGE_EVERY_S)
        return SN_OK;
    int rc = sn_store_subscriber_purge(s, now, err, errlen);
    if (rc == SN_OK)
        sub->purged_at = now;
    return rc;
}

/* ---- a code ------------------------------------------------------------------ */

static int send_code(const sn_service *svc, sn_store *s, const char *addr, sn_number n,
                     const char *lang, int64_t now, int *kept, char *err, size_t errlen)
{
    const sn_subscriber_options *opt = &svc->subscribers->opt;
    char text[SN_NUMBER_TEXT_MAX], code[SN_OTP_DIGITS + 1], until[SN_TIME_TEXT_MAX];
    char sms[SN_SMS_TEXT_MAX + 1];
    sn_number_state st;
    sn_otp_pair pair;
    sn_otp o;
    int rc;
    sn_number_format(n, text);
    if ((rc = sn_signin_rate(svc, s, "otp-a", addr, opt->otp_per_address,
                             "code requests from your address", err, errlen)) != SN_OK ||
        (rc = sn_signin_rate(svc, s, "otp-n", text, opt->otp_per_number, "codes for this number",
                             err, errlen)) != SN_OK ||
        (rc = sn_signin_purge(svc, s, now, err, errlen)) != SN_OK)
        return rc;
    if ((rc = sn_store_otp_pair_get(s, n, addr, &pair, err, errlen)) != SN_OK)
        return rc;
    if (sn_otp_pair_locked(&pair, now, opt)) {
        sn_utc_format(pair.until, until);
        *kept = 1; /* the request counts against the limits */
        return sn_fail(err, errlen, SN_ERATE,
                       "too many wrong answers from your address for this number: locked until "
                       "%s",
                       until);
    }
    memset(&o, 0, sizeof(o));
    o.number = n;
    sn_otp_new_code(code);
    sn_otp_hash(svc->secret, n, code, SN_OTP_DIGITS, o.code_hash);
    o.created = now;
    o.expires = now + opt->otp_ttl_s;
    snprintf(o.lang, sizeof(o.lang), "%s", lang);
    if ((rc = sn_store_otp_put(s, &o, err, errlen)) == SN_OK &&
        (rc = sn_store_get_state(s, n, &st, err, errlen)) == SN_OK && sn_has_subscriber(&st)) {
        unsigned minutes = (unsigned)((opt->otp_ttl_s + 59) / 60);
        sn_sms_otp_text(sn_lang_parse(lang), code, minutes, sms, sizeof(sms));
        rc = sn_sms_queue(s, &svc->subscribers->sms, n, SN_SMS_OTP, lang, sms, now, err, errlen);
    }
    sodium_memzero(code, sizeof(code));
    return rc;
}

int sn_signin_request_code(const sn_service *svc, sn_store *s, const char *addr, sn_number n,
                           const char *lang, char *err, size_t errlen)
{
    int kept = 0, rc = sn_store_begin(s, err, errlen);
    if (rc != SN_OK)
        return rc;
    rc = send_code(svc, s, addr, n, lang, sn_wall_sec(), &kept, err, errlen);
    return sn_store_end(s, rc, kept, err, errlen);
}

/* ---- signing in ----------------------------------------------------------------- */

/* Is id6 the one the carrier reported for n's current tenure? SN_OK and
 * *right; SN_EPERM when the carrier reported none. */
static int id6_matches(const sn_service *svc, sn_store *s, sn_number n, const char *id6, int *right,
                       char *err, size_t errlen)
{
    uint8_t hash[SN_ID6_HASH_LEN], on_record[SN_ID6_HASH_LEN];
    int has = 0;
    int rc = sn_ledger_tenure_id6(s, n, &has, on_record, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (!has)
        return sn_fail(err, errlen, SN_EPERM,
                       "the carrier has no ID on record for this number: ask the carrier to add "
                       "it");
    sn_id6_hash(svc->secret, n, id6, hash);
    *right = sodium_memcmp(hash, on_record, SN_ID6_HASH_LEN) == 0;
    return SN_OK;
}

/* The answer to a failed attempt (the code row o and the address's pair
 * were judged and are kept). */
static int wrong_answer(const sn_service *svc, sn_store *s, const char *addr, sn_otp *o,
                        const sn_otp_pair *pair, sn_otp_verdict v, int code_right, char *err,
                        size_t errlen)
{
    unsigned left = sn_otp_left(o, pair, &svc->subscribers->opt);
    char until[SN_TIME_TEXT_MAX];
    int rc = sn_store_otp_put(s, o, err, errlen);
    if (rc == SN_OK)
        rc = sn_store_otp_pair_put(s, o->number, addr, pair, err, errlen);
    if (rc != SN_OK)
        return rc;
    if (v == SN_OTP_LOCKOUT) {
        sn_utc_format(pair->until, until);
        return sn_fail(err, errlen, SN_ERATE,
                       "too many wrong answers from your address for this number: locked until "
                       "%s; request a new code then",
                       until);
    }
    if (v == SN_OTP_KILLED)
        return sn_fail(err, errlen, SN_EAUTH,
                       "too many wrong answers to this code: it no longer works; request a new "
                       "one");
    if (code_right)
        return sn_fail(err, errlen, SN_EPERM,
                       "the ID digits do not match the carrier's record: %u attempt%s left", left,
                       left == 1 ? "" : "s");
    return sn_fail(err, errlen, SN_EAUTH, "wrong code: %u attempt%s left", left,
                   left == 1 ? "" : "s");
}

static int new_session(const sn_service *svc, sn_store *s, const sn_otp *o,
                       const sn_number_state *st, int64_t now, sn_session *ses, char *token,
                       char *err, size_t errlen)
{
    int rc;
    memset(ses, 0, sizeof(*ses));
    sn_session_token_new(token, ses->token_hash);
    ses->number = o->number;
    ses->tenure = st->tenure;
    ses->cancel_day = st->last_cancel_day;
    ses->created = now;
    ses->expires = now + svc->subscribers->opt.session_ttl_s;
    snprintf(ses->lang, sizeof(ses->lang), "%s", o->lang);
    if ((rc = sn_store_otp_put(s, o, err, errlen)) == SN_OK)
        rc = sn_store_session_put(s, ses, err, errlen);
    return rc;
}

/* Every answer from the judgement on commits: the attempt counts against
 * the address's limit whatever it says. *kept tells the caller. */
static int sign_in(const sn_service *svc, sn_store *s, const char *addr, sn_number n,
                   const char *code, const char *id6, int64_t now, sn_session *ses, char *token,
                   int *kept, char *err, size_t errlen)
{
    const sn_subscriber_options *opt = &svc->subscribers->opt;
    uint8_t hash[SN_SECRET_HASH_LEN];
    char until[SN_TIME_TEXT_MAX];
    sn_number_state st;
    sn_otp_pair pair;
    sn_otp row, *o = &row;
    int rc, code_right = 0, right = 0, counted = 0;
    if ((rc = sn_signin_rate(svc, s, "signin-a", addr, opt->signin_per_address,
                             "sign-in attempts from your address", err, errlen)) != SN_OK ||
        (rc = sn_signin_purge(svc, s, now, err, errlen)) != SN_OK)
        return rc;
    rc = sn_store_otp_get(s, n, &row, err, errlen);
    if (rc == SN_ENOTFOUND)
        o = NULL;
    else if (rc != SN_OK)
        return rc;
    if ((rc = sn_store_otp_pair_get(s, n, addr, &pair, err, errlen)) != SN_OK ||
        (rc = sn_store_get_state(s, n, &st, err, errlen)) != SN_OK)
        return rc;
    counted = pair.wrong > 0;
    if (o != NULL && !sn_otp_pair_locked(&pair, now, opt)) {
        sn_otp_hash(svc->secret, n, code, SN_OTP_DIGITS, hash);
        code_right =
            sodium_memcmp(hash, o->code_hash, SN_SECRET_HASH_LEN) == 0 && sn_has_subscriber(&st);
    }
    *kept = 1;
    if (code_right && o->expires > now &&
        (rc = id6_matches(svc, s, n, id6, &right, err, errlen)) != SN_OK)
        return rc;
    sn_otp_verdict v = sn_otp_judge(o, &pair, right, now, opt);
    switch (v) {
    case SN_OTP_OK:
        if (counted && (rc = sn_store_otp_pair_put(s, n, addr, &pair, err, errlen)) != SN_OK)
            return rc; /* the subscriber's own slips are forgotten */
        return new_session(svc, s, o, &st, now, ses, token, err, errlen);
    case SN_OTP_NONE:
        return sn_fail(err, errlen, SN_EAUTH, "no code is waiting for this number: request one");
    case SN_OTP_EXPIRED:
        return sn_fail(err, errlen, SN_EAUTH, "the code has expired: request a new one");
    case SN_OTP_LOCKED:
        sn_utc_format(pair.until, until);
        return sn_fail(err, errlen, SN_ERATE,
                       "too many wrong answers from your address for this number: locked until "
                       "%s",
                       until);
    default:
        return wrong_answer(svc, s, addr, o, &pair, v, code_right, err, errlen);
    }
}

int sn_signin_start(const sn_service *svc, sn_store *s, const char *addr, sn_number n,
                    const char *code, const char *id6, sn_session *ses, char *token, char *err,
                    size_t errlen)
{
    int kept = 0, rc = sn_store_begin(s, err, errlen);
    if (rc != SN_OK)
        return rc;
    rc = sign_in(svc, s, addr, n, code, id6, sn_wall_sec(), ses, token, &kept, err, errlen);
    return sn_store_end(s, rc, kept && rc != SN_ESTORE && rc != SN_ENOMEM, err, errlen);
}

/* ---- sessions ------------------------------------------------------------------- */

int sn_signin_session(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                      sn_session *ses, sn_number_state *st, char *err, size_t errlen)
{
    sn_number_state own;
    (void)svc;
    if (st == NULL)
        st = &own;
    int rc = sn_store_session_get(s, token_hash, ses, err, errlen);
    if (rc == SN_ENOTFOUND)
        return sn_fail(err, errlen, SN_EAUTH,
                       "no such session (it ended or never was): sign in again");
    if (rc != SN_OK || (rc = sn_store_get_state(s, ses->number, st, err, errlen)) != SN_OK)
        return rc;
    switch (sn_session_judge(ses, st, sn_wall_sec())) {
    case SN_SESSION_EXPIRED:
        return sn_fail(err, errlen, SN_EAUTH, "the session has expired: sign in again");
    case SN_SESSION_ENDED:
        return sn_fail(err, errlen, SN_EAUTH,
                       "the session has ended: the number was cancelled or changed hands since "
                       "you signed in");
    default:
        return SN_OK;
    }
}

int sn_signin_end(const sn_service *svc, sn_store *s, const uint8_t *token_hash, char *err,
                  size_t errlen)
{
    sn_session ses;
    int rc = sn_store_begin(s, err, errlen);
    if (rc != SN_OK)
        return rc;
    if ((rc = sn_signin_session(svc, s, token_hash, &ses, NULL, err, errlen)) == SN_OK)
        rc = sn_store_session_delete(s, token_hash, err, errlen);
    return sn_store_end(s, rc, 0, err, errlen);
}

int sn_signin_check(const sn_service *svc, sn_store *s, const uint8_t *token_hash,
                    sn_check_question *q, sn_day today, sn_check_answer *a, char *err,
                    size_t errlen)
{
    sn_session ses;
    sn_number_state st;
    int rc = sn_signin_session(svc, s, token_hash, &ses, &st, err, errlen);
    memset(a, 0, sizeof(*a));
    if (rc != SN_OK || q == NULL)
        return rc;
    q->by = SN_CHECK_NUMBER; /* the session's number is the one asked about */
    q->number = ses.number;
    if ((rc = sn_check_day(q->day, today, err, errlen)) != SN_OK)
        return rc;
    a->known = 1;
    a->verdict = sn_verdict_of(&st, q->day, NULL);
    a->first_day = st.first_day;
    return SN_OK;
}

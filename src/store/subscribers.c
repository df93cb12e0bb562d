/*
 * subscribers.c - text messages, sign-in codes, sessions and rate limits,
 * in the SQL both backends run (sql.h).
 */
#include "store/subscribers.h"

#include "core/errors.h"
#include "store/sql.h"

#include <stdio.h>
#include <string.h>

#define SN_PAIR_BUCKET_MAX 128 /* "otp-f:" + a number + ":" + a client address */

_Static_assert(SN_SMS_OTP == 1, "the code texts are purpose 1 in the SQL and the index");

#define SMS_COLUMNS                                                                                \
    "id, number, purpose, state, lang, body, created, attempts, next_at, sent_at, error"

static const char sms_add_sql[] =
    "INSERT INTO sms(id, number, purpose, state, lang, body, created, next_at) VALUES ((SELECT "
    "coalesce(max(id), 0) + 1 FROM sms), $1, $2, $3, $4, $5, $6, $7) RETURNING id";
static const char sms_list_sql[] = "SELECT " SMS_COLUMNS " FROM sms WHERE ($1 = 0 OR number = $1) "
                                   "AND ($2 < 0 OR state = $2) AND id > $3 ORDER BY id LIMIT $4";
static const char sms_due_sql[] = "SELECT " SMS_COLUMNS " FROM sms WHERE state = 0 AND "
                                  "next_at <= $1 ORDER BY next_at, id LIMIT $2";
/* A text erased meanwhile (its code died) is not queued again: failed. */
static const char sms_update_sql[] =
    "UPDATE sms SET state = CASE WHEN $2 = 0 AND body IS NULL THEN 2 ELSE $2 END, attempts = $3, "
    "next_at = $4, sent_at = $5, error = $6, "
    "body = CASE WHEN $2 IN (1, 2) THEN NULL ELSE body END WHERE id = $1";
/* A code's text is dead once its number has no live code made at or before
 * it (the code was used, killed by wrong answers, replaced or expired); a
 * pending one is not sent either. Walks the index of kept code texts
 * (sms_codes: purpose 1 with a body), a handful at any time. */
static const char sms_erase_codes_sql[] =
    "UPDATE sms SET body = NULL, state = CASE WHEN state = 0 THEN 2 ELSE state END, "
    "error = CASE WHEN state = 0 THEN '" SN_SMS_CODE_DEAD "' ELSE error END "
    "WHERE purpose = 1 AND body IS NOT NULL AND NOT EXISTS (SELECT 1 FROM otp o WHERE "
    "o.number = sms.number AND o.expires > $1 AND o.created <= sms.created)";
static const char otp_get_sql[] = "SELECT number, code_hash, created, expires, attempts, "
                                  "locked_until, lang FROM otp WHERE number = $1";
static const char otp_put_sql[] =
    "INSERT INTO otp(number, code_hash, created, expires, attempts, locked_until, lang) VALUES "
    "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (number) DO UPDATE SET code_hash = "
    "excluded.code_hash, created = excluded.created, expires = excluded.expires, attempts = "
    "excluded.attempts, locked_until = excluded.locked_until, lang = excluded.lang";
static const char rate_hit_sql[] =
    "INSERT INTO rate_limits AS r(bucket, win_start, hits) VALUES ($1, $2, 1) ON CONFLICT "
    "(bucket) DO UPDATE SET hits = CASE WHEN r.win_start = $2 THEN r.hits + 1 ELSE 1 END, "
    "win_start = $2 RETURNING hits";
static const char rate_get_sql[] = "SELECT hits, win_start FROM rate_limits WHERE bucket = $1";
static const char rate_put_sql[] =
    "INSERT INTO rate_limits(bucket, win_start, hits) VALUES ($1, $2, $3) ON CONFLICT (bucket) "
    "DO UPDATE SET win_start = excluded.win_start, hits = excluded.hits";
static const char session_put_sql[] = "INSERT INTO sessions(token_hash, number, tenure, "
                                      "cancel_day, created, expires, lang) VALUES ($1, $2, $3, "
                                      "$4, $5, $6, $7)";
static const char session_get_sql[] = "SELECT token_hash, number, tenure, cancel_day, created, "
                                      "expires, lang FROM sessions WHERE token_hash = $1";
static const char session_delete_sql[] = "DELETE FROM sessions WHERE token_hash = $1";
/* Rate-limit windows are at most an hour long: rows two hours old are dead. */
static const char *const purge_sql[] = {
    "DELETE FROM sessions WHERE expires < $1",
    "DELETE FROM otp WHERE expires < $1 AND locked_until < $1",
    "DELETE FROM rate_limits WHERE win_start < $1 - 7200",
};

static const sn_sql_map sms_map =
    SN_SQL_MAP(sn_sms_msg, SQL_COL_INT(sn_sms_msg, id), SQL_COL_INT(sn_sms_msg, number),
               SQL_COL_INT(sn_sms_msg, purpose), SQL_COL_INT(sn_sms_msg, state),
               SQL_COL_TEXT(sn_sms_msg, lang), SQL_COL_TEXT(sn_sms_msg, text),
               SQL_COL_INT(sn_sms_msg, created), SQL_COL_INT(sn_sms_msg, attempts),
               SQL_COL_INT(sn_sms_msg, next_at_ms), SQL_COL_INT(sn_sms_msg, sent_at),
               SQL_COL_TEXT(sn_sms_msg, error));
SN_SQL_LIST(sms_row, sn_sms_msg, sn_sms_fn, sms_map)
static const sn_sql_map otp_map = SN_SQL_MAP(
    sn_otp, SQL_COL_INT(sn_otp, number), SQL_COL_BLOB(sn_otp, code_hash),
    SQL_COL_INT(sn_otp, created), SQL_COL_INT(sn_otp, expires), SQL_COL_INT(sn_otp, attempts),
    SQL_COL_INT(sn_otp, locked_until), SQL_COL_TEXT(sn_otp, lang));
static const sn_sql_map session_map =
    SN_SQL_MAP(sn_session, SQL_COL_BLOB(sn_session, token_hash), SQL_COL_INT(sn_session, number),
               SQL_COL_INT(sn_session, tenure), SQL_COL_INT(sn_session, cancel_day),
               SQL_COL_INT(sn_session, created), SQL_COL_INT(sn_session, expires),
               SQL_COL_TEXT(sn_session, lang));

int sn_store_sms_add(sn_store *s, const sn_sms_msg *m, uint64_t *id, char *err, size_t errlen)
{
    return sn_sql_insert_id(s, sms_add_sql,
                            SQL_ARGS(SQL_INT(m->number), SQL_INT(m->purpose), SQL_INT(m->state),
                                     SQL_TEXT(m->lang), SQL_TEXT(m->text), SQL_INT(m->created),
                                     SQL_INT(m->next_at_ms)),
                            id, "queue sms", err, errlen);
}

int sn_store_sms_list(sn_store *s, sn_number n, int state, uint64_t after, uint32_t limit,
                      sn_sms_fn fn, void *ctx, char *err, size_t errlen)
{
    sms_row_list r = {fn, ctx};
    return sn_sql_read(s, sms_list_sql,
                       SQL_ARGS(SQL_INT(n), SQL_INT(state), SQL_INT(after), SQL_INT(limit)),
                       sms_row, &r, "list sms", err, errlen);
}

int sn_store_sms_due(sn_store *s, int64_t now_ms, uint32_t limit, sn_sms_fn fn, void *ctx,
                     char *err, size_t errlen)
{
    sms_row_list r = {fn, ctx};
    return sn_sql_read(s, sms_due_sql, SQL_ARGS(SQL_INT(now_ms), SQL_INT(limit)), sms_row, &r,
                       "due sms", err, errlen);
}

int sn_store_sms_update(sn_store *s, const sn_sms_msg *m, char *err, size_t errlen)
{
    return sn_sql_write(s, sms_update_sql,
                        SQL_ARGS(SQL_INT(m->id), SQL_INT(m->state), SQL_INT(m->attempts),
                                 SQL_INT(m->next_at_ms), SQL_INT(m->sent_at),
                                 SQL_TEXT(m->error[0] != '\0' ? m->error : NULL)),
                        NULL, "update sms", err, errlen);
}

int sn_store_sms_erase_codes(sn_store *s, int64_t now, uint64_t *erased, char *err, size_t errlen)
{
    return sn_sql_write(s, sms_erase_codes_sql, SQL_ARGS(SQL_INT(now)), erased, "erase codes", err,
                        errlen);
}

int sn_store_otp_get(sn_store *s, sn_number n, sn_otp *out, char *err, size_t errlen)
{
    return sn_sql_get(s, otp_get_sql, SQL_ARGS(SQL_INT(n)), &otp_map, out, "read code", err, errlen,
                      "no code");
}

int sn_store_otp_put(sn_store *s, const sn_otp *o, char *err, size_t errlen)
{
    return sn_sql_write(s, otp_put_sql,
                        SQL_ARGS(SQL_INT(o->number), SQL_BYTES(o->code_hash, SN_SECRET_HASH_LEN),
                                 SQL_INT(o->created), SQL_INT(o->expires), SQL_INT(o->attempts),
                                 SQL_INT(o->locked_until), SQL_TEXT(o->lang)),
                        NULL, "write code", err, errlen);
}

static const sn_sql_map pair_map =
    SN_SQL_MAP(sn_otp_pair, SQL_COL_INT(sn_otp_pair, wrong), SQL_COL_INT(sn_otp_pair, until));

/* The rate_limits bucket of a (number, address) pair. */
static void pair_bucket(sn_number n, const char *addr, char *bucket, size_t cap)
{
    char text[SN_NUMBER_TEXT_MAX];
    sn_number_format(n, text);
    snprintf(bucket, cap, "otp-f:%s:%s", text, addr);
}

int sn_store_otp_pair_get(sn_store *s, sn_number n, const char *addr, sn_otp_pair *out, char *err,
                          size_t errlen)
{
    char bucket[SN_PAIR_BUCKET_MAX];
    pair_bucket(n, addr, bucket, sizeof(bucket));
    int rc = sn_sql_get(s, rate_get_sql, SQL_ARGS(SQL_TEXT(bucket)), &pair_map, out,
                        "read wrong answers", err, errlen, NULL);
    if (rc == SN_ENOTFOUND) {
        memset(out, 0, sizeof(*out));
        rc = SN_OK;
    }
    return rc;
}

int sn_store_otp_pair_put(sn_store *s, sn_number n, const char *addr, const sn_otp_pair *p,
                          char *err, size_t errlen)
{
    char bucket[SN_PAIR_BUCKET_MAX];
    pair_bucket(n, addr, bucket, sizeof(bucket));
    return sn_sql_write(s, rate_put_sql,
                        SQL_ARGS(SQL_TEXT(bucket), SQL_INT(p->until), SQL_INT(p->wrong)), NULL,
                        "write wrong answers", err, errlen);
}

int sn_store_rate_hit(sn_store *s, const char *bucket, int64_t window, uint32_t *count, char *err,
                      size_t errlen)
{
    uint64_t hits = 0;
    int rc = sn_sql_insert_id(s, rate_hit_sql, SQL_ARGS(SQL_TEXT(bucket), SQL_INT(window)), &hits,
                              "rate limit", err, errlen);
    if (rc == SN_OK)
        *count = (uint32_t)hits;
    return rc;
}

int sn_store_session_put(sn_store *s, const sn_session *ses, char *err, size_t errlen)
{
    return sn_sql_write(s, session_put_sql,
                        SQL_ARGS(SQL_BYTES(ses->token_hash, SN_SECRET_HASH_LEN),
                                 SQL_INT(ses->number), SQL_INT(ses->tenure),
                                 SQL_INT(ses->cancel_day), SQL_INT(ses->created),
                                 SQL_INT(ses->expires), SQL_TEXT(ses->lang)),
                        NULL, "write session", err, errlen);
}

int sn_store_session_get(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], sn_session *out,
                         char *err, size_t errlen)
{
    return sn_sql_get(s, session_get_sql, SQL_ARGS(SQL_BYTES(hash, SN_SECRET_HASH_LEN)),
                      &session_map, out, "read session", err, errlen, "no session");
}

int sn_store_session_delete(sn_store *s, const uint8_t hash[SN_SECRET_HASH_LEN], char *err,
                            size_t errlen)
{
    return sn_sql_write(s, session_delete_sql, SQL_ARGS(SQL_BYTES(hash, SN_SECRET_HASH_LEN)), NULL,
                        "delete session", err, errlen);
}

/* One transaction for the three. */
int sn_store_subscriber_purge(sn_store *s, int64_t now, char *err, size_t errlen)
{
    int own, rc = sn_sql_begin(s, &own, err, errlen);
    for (size_t i = 0; rc == SN_OK && i < sizeof(purge_sql) / sizeof(purge_sql[0]); i++)
        rc = sn_sql_write(s, purge_sql[i], SQL_ARGS(SQL_INT(now)), NULL, "purge", err, errlen);
    return sn_sql_end(s, own, rc, err, errlen);
}

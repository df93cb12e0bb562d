/*
 * gateway.h - sending text messages to subscribers, through one of two
 * drivers:
 *
 *   outbox  (default, for development and tests) the message is kept in
 *           the store with state SN_SMS_OUTBOX and never leaves the machine;
 *           `secondnum sms outbox --db FILE` prints it.
 *   kannel  the message is queued in the store (SN_SMS_PENDING) and a
 *           sender thread hands it to a Kannel smsbox with an HTTP GET of
 *           its sendsms URL (username, password, to, text, charset=UTF-8,
 *           coding=2 so Chinese passes as UCS-2, optional from). Any 2xx
 *           answer is a send; anything else is retried with doubling
 *           delays, at most max_attempts times, then the message FAILED.
 *           Once it has left (sent or failed) its text is erased from the
 *           store: sign-in codes do not linger.
 *
 * Whatever the driver, a sign-in code's text is also erased once the code
 * is dead (used, replaced, killed or expired), by the writer's tick
 * (sn_store_sms_erase_codes); a pending one is then dropped, not sent.
 *
 * Queueing happens inside the caller's transaction (sn_sms_queue), so a
 * request that rolls back sends nothing, and the answer to the request
 * never waits for the gateway (its timing reveals nothing either).
 */
#ifndef SN_SMS_GATEWAY_H
#define SN_SMS_GATEWAY_H

#include "store/subscribers.h"

typedef enum { SN_SMS_DRIVER_OUTBOX = 0, SN_SMS_DRIVER_KANNEL = 1 } sn_sms_driver;

#define SN_SMS_URL_MAX 1024
#define SN_SMS_CREDENTIAL_MAX 128

typedef struct {
    int driver; /* sn_sms_driver */
    char kannel_url[SN_SMS_URL_MAX + 1]; /* http(s)://host:13013/cgi-bin/sendsms */
    char user[SN_SMS_CREDENTIAL_MAX + 1];
    char password[SN_SMS_CREDENTIAL_MAX + 1];
    char from[SN_SMS_CREDENTIAL_MAX + 1]; /* sender id; "" for the smsc's default */
    unsigned max_attempts;                /* 5 */
    int64_t retry_base_ms;                /* 2000, doubled per attempt */
    long timeout_ms;                      /* 10000 per request */
} sn_sms_options;

void sn_sms_defaults(sn_sms_options *o);

/* "outbox" or "kannel"; -1 for anything else. */
int sn_sms_driver_parse(const char *s);

/* Read a "key = value" gateway file (lines: driver, url, user, password,
 * from, max_attempts; # comments) into o. SN_OK, or SN_ECONFIG / SN_EIO
 * with a message naming the line. */
int sn_sms_config_load(const char *path, sn_sms_options *o, char *err, size_t errlen);

/* Queue text for number n (inside the caller's transaction): kept in the
 * outbox, or pending for the gateway. */
int sn_sms_queue(sn_store *s, const sn_sms_options *o, sn_number n, int purpose,
                 const char *lang, const char *text, int64_t now, char *err, size_t errlen);

/* The sendsms URL for message m (the query string percent-encoded).
 * SN_OK, or SN_ELIMIT when it does not fit in cap bytes. */
int sn_kannel_url(const sn_sms_options *o, const sn_sms_msg *m, char *out, size_t cap);

typedef struct sn_sms_sender sn_sms_sender;

/* Start the sender thread on its own store handle for db (kannel driver;
 * with the outbox driver *out is NULL and nothing runs). */
int sn_sms_sender_start(const char *db, const sn_sms_options *o, sn_sms_sender **out, char *err,
                        size_t errlen);

/* Stop the thread (a send in flight finishes) and close its store;
 * accepts NULL. Messages still pending are sent by the next start. */
void sn_sms_sender_stop(sn_sms_sender *s);

#endif

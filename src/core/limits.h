/*
 * limits.h - the sizes of the names and texts every layer agrees on: what
 * the HTTP layer accepts, what the store keeps and what a record holds.
 * Each is a maximum in bytes of UTF-8, without the terminating NUL.
 * docs/http-api.md lists them for clients.
 */
#ifndef SN_LIMITS_H
#define SN_LIMITS_H

#define SN_NAME_MAX 64 /* an API key's, a carrier's or an app's name */
#define SN_KEY_NAME_MAX SN_NAME_MAX
#define SN_CARRIER_NAME_MAX SN_NAME_MAX
#define SN_APP_NAME_MAX SN_NAME_MAX
#define SN_DISPLAY_NAME_MAX 128   /* what subscribers see of an app */
#define SN_EVENT_ID_MAX 64        /* a carrier's id for an event */
#define SN_URL_MAX 2048           /* a webhook URL */
#define SN_WEBHOOK_SECRET_MAX 256 /* a webhook's signing secret */
/* a webhook's signing secret as the store keeps it: sealed, in base64 (crypto/secret.h) */
#define SN_WEBHOOK_SECRET_STORED_MAX 512
#define SN_NOTE_MAX 1000           /* an acknowledgement's note, a complaint's resolution */
#define SN_DELIVERY_ERROR_MAX 200  /* the last error of a webhook delivery or an SMS */
#define SN_SMS_TEXT_MAX 640        /* about four concatenated SMS segments */
#define SN_COMPLAINT_TEXT_MAX 2000 /* a subscriber's complaint */
#define SN_LANG_LEN 2              /* "zh" or "en" */

#endif

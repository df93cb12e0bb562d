/*
 * signature.h - the webhook signature apps verify:
 *   Secondnum-Signature: t=UNIX_TIME,v1=HEX(HMAC-SHA256(secret, t + "." + body))
 * The timestamp is inside the MAC so a captured delivery cannot be replayed
 * later with a fresh time; receivers compare t with their clock.
 */
#ifndef SN_SIGNATURE_H
#define SN_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#define SN_SIGNATURE_HEADER_MAX 96 /* "t=" + 20 digits + ",v1=" + 64 hex + NUL */

/* Write the header value for body signed at time t into out. */
void sn_webhook_signature(const char *secret, size_t secret_len, int64_t t, const char *body,
                          size_t body_len, char out[SN_SIGNATURE_HEADER_MAX]);

#endif

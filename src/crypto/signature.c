/*
 * signature.c - HMAC-SHA256 webhook signatures (see signature.h), with
 * libsodium's HMAC, which takes keys of any length.
 */
#include "crypto/signature.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>

void sn_webhook_signature(const char *secret, size_t secret_len, int64_t t, const char *body,
                          size_t body_len, char out[SN_SIGNATURE_HEADER_MAX])
{
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char stamp[24], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    int n = snprintf(stamp, sizeof(stamp), "%" PRId64 ".", t);
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret, secret_len);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)stamp, (size_t)n);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    snprintf(out, SN_SIGNATURE_HEADER_MAX, "t=%" PRId64 ",v1=%s", t, hex);
}

/*
 * tokens.h - the secrets a subscriber holds: six-digit sign-in codes and
 * session tokens, and the hashes the store keeps of them instead.
 *
 * A code has only a million values, so its hash is keyed with the
 * deployment secret (and the number): a stolen database cannot be searched
 * for the codes of live rows. A session token is 32 random bytes
 * ("sns_" + 64 hex digits, told apart from API keys, "sn_...", by the
 * prefix); its plain BLAKE2b-256 hash suffices. Thread-safe after
 * sodium_init (sn_secret_load calls it).
 */
#ifndef SN_CRYPTO_TOKENS_H
#define SN_CRYPTO_TOKENS_H

#include "core/subscriber.h"
#include "crypto/secret.h"

#define SN_OTP_DIGITS 6
#define SN_SESSION_TOKEN_LEN 68 /* "sns_" + 64 hex */

/* A new uniformly random code: six digits and a NUL. */
void sn_otp_new_code(char code[SN_OTP_DIGITS + 1]);

/* The keyed hash of an answer to number n's code (any bytes). */
void sn_otp_hash(const sn_secret *secret, sn_number n, const char *code, size_t len,
                 uint8_t out[SN_SECRET_HASH_LEN]);

/* True when s[0..len) is six ASCII digits. */
int sn_otp_code_valid(const char *s, size_t len);

/* A new token (SN_SESSION_TOKEN_LEN + 1 bytes) and its hash. */
void sn_session_token_new(char *text, uint8_t hash[SN_SECRET_HASH_LEN]);

/* True when text[0..len) has the shape of a session token. */
int sn_session_token_shaped(const char *text, size_t len);

/* The hash of a presented token. */
void sn_session_token_hash(const char *text, size_t len, uint8_t hash[SN_SECRET_HASH_LEN]);

#endif

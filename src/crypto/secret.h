/*
 * secret.h - the deployment secret and the keyed hashes made with it.
 *
 * The registry never stores an ID digit in the clear. The last six ID digits
 * a carrier reports are kept only as a keyed BLAKE2b hash (libsodium
 * crypto_generichash) under a per-deployment secret that lives in its own
 * file (mode 0600), not in the store: a stolen database alone cannot be
 * brute-forced over the million possible id6 values.
 *
 * Secrets the service must read back (apps' webhook signing secrets) are
 * kept sealed under the same file: crypto_secretbox (XSalsa20-Poly1305)
 * with a random nonce, under a key derived from the deployment secret for
 * what is sealed and the record it belongs to (crypto_kdf: a context of 8
 * characters and an id), so a sealed value copied to another record does
 * not open. Stored as text: SN_SEALED_PREFIX, then base64 (URL-safe, no
 * padding) of nonce || ciphertext.
 */
#ifndef SN_SECRET_H
#define SN_SECRET_H

#include "core/number.h"

#include <stddef.h>
#include <stdint.h>

#define SN_SECRET_LEN 32
#define SN_ID6_HASH_LEN 16
#define SN_ID6_LEN 6

typedef struct {
    uint8_t key[SN_SECRET_LEN];
} sn_secret;

/* Load the secret from path. When the file is absent and create is set, make
 * a new random one (0600, written to a temp file, fsynced, renamed).
 * SN_OK, SN_ENOTFOUND (absent, create not set) or SN_EIO. */
int sn_secret_load(const char *path, int create, sn_secret *out, char *err, size_t errlen);

/* Validate the last six digits of an ID: five digits then a digit or X
 * (x is accepted and means X). Writes the normalised form to out[6].
 * SN_OK or SN_EINVAL. */
int sn_id6_parse(const char *s, size_t len, char out[SN_ID6_LEN], char *err, size_t errlen);

/* The keyed hash of a normalised id6 for a number. */
/* The keyed hash (BLAKE2b under the secret) of a label (its NUL counts),
 * a number (8 bytes, little-endian) and data[0..len), outlen bytes: what
 * id6 and sign-in codes are kept as. */
void sn_number_hash(const sn_secret *secret, const char *label, sn_number number, const void *data,
                    size_t len, uint8_t *out, size_t outlen);

void sn_id6_hash(const sn_secret *secret, sn_number number, const char id6[SN_ID6_LEN],
                 uint8_t out[SN_ID6_HASH_LEN]);

#define SN_ACCOUNT_HASH_LEN 32

/* The keyed hash of an app's account reference. The key is derived from the
 * deployment secret and the app's id, so the same reference hashes
 * differently for two apps and a leaked table names no account. */
void sn_account_hash(const sn_secret *secret, uint32_t app, const char *account, size_t len,
                     uint8_t out[SN_ACCOUNT_HASH_LEN]);

/* ---- sealed values ---------------------------------------------------------- */

#define SN_SEALED_PREFIX "sealed1:"        /* marks a sealed value in a text column */
#define SN_SEAL_CONTEXT_WEBHOOK "webhook1" /* an app's webhook secret, id = the app's */
#define SN_SEAL_OVERHEAD 40                /* nonce (24) and MAC (16) bytes around the plaintext */
/* The text of a sealed value of n bytes, without its NUL. */
#define SN_SEALED_TEXT_LEN(n)                                                                      \
    (sizeof(SN_SEALED_PREFIX) - 1 + ((n) + SN_SEAL_OVERHEAD) / 3 * 4 +                             \
     ((n) + SN_SEAL_OVERHEAD) % 3 * 4 / 3 + (((n) + SN_SEAL_OVERHEAD) % 3 != 0))

/* 1 when text starts with SN_SEALED_PREFIX (it is sealed, or is damaged). */
int sn_sealed(const char *text);

/* Seal plain[0..len) for (context, id) into out, SN_SEALED_TEXT_LEN(len)
 * + 1 bytes at least (cap). SN_OK, or SN_ELIMIT when cap is too small. */
int sn_seal(const sn_secret *secret, const char context[8], uint64_t id, const void *plain,
            size_t len, char *out, size_t cap);

/* Open a sealed text for (context, id) into out (cap bytes, NUL-terminated
 * after the *len bytes of plaintext). SN_OK; SN_EINVAL when text is not a
 * sealed value, does not authenticate (another deployment secret, another
 * record, altered) or does not fit (then out holds nothing). */
int sn_unseal(const sn_secret *secret, const char context[8], uint64_t id, const char *text,
              char *out, size_t cap, size_t *len);

#endif

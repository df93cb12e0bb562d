/*
 * secret.h - the deployment secret and the keyed hashes made with it.
 *
 * The registry never stores an ID digit in the clear. The last six ID digits
 * a carrier reports are kept only as a keyed BLAKE2b hash (libsodium
 * crypto_generichash) under a per-deployment secret that lives in its own
 * file (mode 0600), not in the store: a stolen database alone cannot be
 * brute-forced over the million possible id6 values.
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

#endif

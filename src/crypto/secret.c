/*
 * secret.c - deployment secret file and keyed hashes (see secret.h).
 * Thread-safe after sodium_init(), which sn_secret_load calls.
 */
#include "crypto/secret.h"

#include "core/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_secret(int fd, sn_secret *out, const char *path, char *err, size_t errlen)
{
    uint8_t extra;
    ssize_t n = read(fd, out->key, SN_SECRET_LEN);
    if (n != SN_SECRET_LEN || read(fd, &extra, 1) != 0)
        return sn_fail(err, errlen, SN_EIO, "secret file %s is not %d bytes", path, SN_SECRET_LEN);
    return SN_OK;
}

static int create_secret(const char *path, sn_secret *out, char *err, size_t errlen)
{
    char tmp[4096];
    int fd = -1, rc = SN_EIO;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return sn_fail(err, errlen, SN_EIO, "secret path too long");
    randombytes_buf(out->key, SN_SECRET_LEN);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        sn_fail(err, errlen, SN_EIO, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (write(fd, out->key, SN_SECRET_LEN) != SN_SECRET_LEN || fsync(fd) != 0) {
        sn_fail(err, errlen, SN_EIO, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        sn_fail(err, errlen, SN_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    rc = SN_OK;
out:
    if (fd >= 0)
        close(fd);
    if (rc != SN_OK)
        unlink(tmp);
    return rc;
}

int sn_secret_load(const char *path, int create, sn_secret *out, char *err, size_t errlen)
{
    if (sodium_init() < 0)
        return sn_fail(err, errlen, SN_EIO, "libsodium failed to initialise");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        int rc = read_secret(fd, out, path, err, errlen);
        close(fd);
        return rc;
    }
    if (errno != ENOENT)
        return sn_fail(err, errlen, SN_EIO, "cannot open secret %s: %s", path, strerror(errno));
    if (!create)
        return sn_fail(err, errlen, SN_ENOTFOUND, "secret file %s is missing", path);
    return create_secret(path, out, err, errlen);
}

int sn_id6_parse(const char *s, size_t len, char out[SN_ID6_LEN], char *err, size_t errlen)
{
    if (len != SN_ID6_LEN)
        goto bad;
    for (size_t i = 0; i < SN_ID6_LEN; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            out[i] = c;
        else if (i == SN_ID6_LEN - 1 && (c == 'X' || c == 'x'))
            out[i] = 'X';
        else
            goto bad;
    }
    return SN_OK;
bad:
    return sn_fail(err, errlen, SN_EINVAL,
                   "id6 must be the last six ID characters (5 digits, then a digit or X)");
}

void sn_number_hash(const sn_secret *secret, const char *label, sn_number number, const void *data,
                    size_t len, uint8_t *out, size_t outlen)
{
    crypto_generichash_state h;
    uint8_t num[8];
    for (int i = 0; i < 8; i++)
        num[i] = (uint8_t)(number >> (8 * i));
    crypto_generichash_init(&h, secret->key, SN_SECRET_LEN, outlen);
    crypto_generichash_update(&h, (const uint8_t *)label, strlen(label) + 1);
    crypto_generichash_update(&h, num, sizeof(num));
    crypto_generichash_update(&h, data, len);
    crypto_generichash_final(&h, out, outlen);
}

void sn_id6_hash(const sn_secret *secret, sn_number number, const char id6[SN_ID6_LEN],
                 uint8_t out[SN_ID6_HASH_LEN])
{
    sn_number_hash(secret, "secondnum-id6", number, id6, SN_ID6_LEN, out, SN_ID6_HASH_LEN);
}

void sn_account_hash(const sn_secret *secret, uint32_t app, const char *account, size_t len,
                     uint8_t out[SN_ACCOUNT_HASH_LEN])
{
    uint8_t app_key[crypto_generichash_KEYBYTES];
    uint8_t id[4] = {(uint8_t)app, (uint8_t)(app >> 8), (uint8_t)(app >> 16), (uint8_t)(app >> 24)};
    crypto_generichash_state h;
    crypto_generichash_init(&h, secret->key, SN_SECRET_LEN, sizeof(app_key));
    crypto_generichash_update(&h, (const uint8_t *)"secondnum-app-account\0", 22);
    crypto_generichash_update(&h, id, sizeof(id));
    crypto_generichash_final(&h, app_key, sizeof(app_key));
    crypto_generichash(out, SN_ACCOUNT_HASH_LEN, (const uint8_t *)account, len, app_key,
                       sizeof(app_key));
    sodium_memzero(app_key, sizeof(app_key));
}

/* ---- sealed values ---------------------------------------------------------- */

#define PREFIX_LEN (sizeof(SN_SEALED_PREFIX) - 1)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

_Static_assert(SN_SEAL_OVERHEAD == crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES,
               "SN_SEAL_OVERHEAD is the nonce and the MAC");
_Static_assert(crypto_kdf_KEYBYTES == SN_SECRET_LEN, "the deployment secret is a KDF key");

int sn_sealed(const char *text)
{
    return strncmp(text, SN_SEALED_PREFIX, PREFIX_LEN) == 0;
}

/* The key that seals (context, id): derived, never the secret itself, which
 * keys the hashes. */
static void seal_key(const sn_secret *secret, const char context[8], uint64_t id,
                     uint8_t key[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, id, context, secret->key);
}

int sn_seal(const sn_secret *secret, const char context[8], uint64_t id, const void *plain,
            size_t len, char *out, size_t cap)
{
    uint8_t key[crypto_secretbox_KEYBYTES], *box;
    size_t n = len + SN_SEAL_OVERHEAD;
    if (cap < SN_SEALED_TEXT_LEN(len) + 1 || (box = malloc(n)) == NULL)
        return SN_ELIMIT;
    seal_key(secret, context, id, key);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, plain, len, box, key);
    memcpy(out, SN_SEALED_PREFIX, PREFIX_LEN);
    sodium_bin2base64(out + PREFIX_LEN, cap - PREFIX_LEN, box, n, B64);
    sodium_memzero(key, sizeof(key));
    free(box);
    return SN_OK;
}

int sn_unseal(const sn_secret *secret, const char context[8], uint64_t id, const char *text,
              char *out, size_t cap, size_t *len)
{
    uint8_t key[crypto_secretbox_KEYBYTES], *box = NULL;
    size_t n = 0, b64 = strlen(text);
    int rc = SN_EINVAL;
    if (!sn_sealed(text) || (box = malloc(b64)) == NULL ||
        sodium_base642bin(box, b64, text + PREFIX_LEN, b64 - PREFIX_LEN, NULL, &n, NULL, B64) !=
            0 ||
        n < SN_SEAL_OVERHEAD || n - SN_SEAL_OVERHEAD >= cap)
        goto out;
    seal_key(secret, context, id, key);
    if (crypto_secretbox_open_easy((uint8_t *)out, box + crypto_secretbox_NONCEBYTES,
                                   n - crypto_secretbox_NONCEBYTES, box, key) == 0) {
        *len = n - SN_SEAL_OVERHEAD;
        out[*len] = '\0';
        rc = SN_OK;
    }
    sodium_memzero(key, sizeof(key));
out:
    if (rc != SN_OK && cap > 0)
        out[0] = '\0';
    free(box);
    return rc;
}

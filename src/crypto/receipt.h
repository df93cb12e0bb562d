/*
 * receipt.h - signed receipts of checks: what the registry answered, to
 * whom and when, signed with Ed25519 (libsodium crypto_sign_detached) so an
 * app can prove it later to anyone holding the registry's public keys.
 *
 * The signed bytes are the receipt's canonical encoding (docs/http-api.md,
 * "Receipts"): one JSON object, no white space, these members in this
 * order, strings escaped as sn_json_escape does (\" \\ and \u00xx for
 * bytes below 0x20 and 0x7f, nothing else), integers in decimal:
 *
 *   {"format":"secondnum-receipt-1","api":API,QUESTION:ASKED,"date":DAY,
 *    "result":VERDICT,"answered_at":UTC,"app":APP,"credential":CRED,
 *    "as_of":N,"key_id":K}
 *
 * QUESTION is the name the question gave its number by (number,
 * number_sha256, number_md5, number_sm3) and ASKED its value as the
 * registry read it (E.164, lowercase hex). The receipt as served is the
 * canonical object with one more member, "signature" (base64url, no
 * padding, of the 64 signature bytes), last. Pure; thread-safe.
 */
#ifndef SN_RECEIPT_H
#define SN_RECEIPT_H

#include "core/limits.h"

#include <stddef.h>
#include <stdint.h>

#define SN_RECEIPT_FORMAT "secondnum-receipt-1"
#define SN_RECEIPT_SIG_LEN 64         /* Ed25519 signature bytes */
#define SN_RECEIPT_PK_LEN 32          /* Ed25519 public key bytes */
#define SN_RECEIPT_SEED_LEN 32        /* the secret seed a key is made from */
#define SN_RECEIPT_SK_LEN 64          /* libsodium's secret key: seed and public key */
#define SN_RECEIPT_PK_TEXT_MAX 44     /* base64url of a public key (43) and NUL */
#define SN_RECEIPT_SIG_TEXT_MAX 87    /* base64url of a signature (86) and NUL */
#define SN_RECEIPT_CREDENTIAL_MAX 140 /* "key:<id>" or "oauth:<client_id up to 128>" */
#define SN_RECEIPT_MAX 2048 /* bytes of a receipt as served (every member escaped at worst) */
#define SN_RECEIPT_FILE_MAX (64u << 10) /* bytes of a receipt file `receipts verify` reads */

/* A receipt's members. */
typedef struct {
    char api[16];         /* "check", "camara-v0.2", "camara-v0.3" */
    char question[16];    /* "number", "number_sha256", "number_md5", "number_sm3" */
    char asked[65];       /* E.164 text or lowercase hex */
    char date[11];        /* YYYY-MM-DD asked about */
    char result[16];      /* the verdict's name */
    char answered_at[24]; /* YYYY-MM-DDTHH:MM:SSZ */
    char app[SN_APP_NAME_MAX + 1];
    char credential[SN_RECEIPT_CREDENTIAL_MAX + 1];
    uint64_t as_of; /* the data's position the answer was read at */
    uint32_t key_id;
} sn_receipt;

/* The canonical encoding of r into out (cap bytes, NUL-terminated), *len
 * bytes. SN_OK, or SN_ELIMIT when it does not fit. */
int sn_receipt_encode(const sn_receipt *r, char *out, size_t cap, size_t *len);

/* The receipt as served, signed with sk (SN_RECEIPT_SK_LEN bytes), into
 * out (cap bytes, NUL-terminated), *len bytes. SN_OK or SN_ELIMIT. */
int sn_receipt_sign(const sn_receipt *r, const uint8_t *sk, char *out, size_t cap, size_t *len);

/* Read a receipt as served (json[0..len)): its members into r, its
 * signature into sig. SN_OK, or SN_EINVAL with why (not a receipt: a
 * member missing, extra, of the wrong type or too long). */
int sn_receipt_parse(const char *json, size_t len, sn_receipt *r, uint8_t sig[SN_RECEIPT_SIG_LEN],
                     char *why, size_t whylen);

/* Verify a receipt (json[0..len)) against a keys document (the body of
 * GET /v1/receipts/keys). SN_OK when it is valid: its key is in the
 * document, was not retired before the receipt was answered, and the
 * signature holds over the canonical encoding. SN_EINVAL otherwise, why
 * saying which of these failed. */
int sn_receipt_verify(const char *json, size_t len, const char *keys, size_t keys_len, char *why,
                      size_t whylen);

/* base64url (no padding) of a public key. */
void sn_receipt_pk_text(const uint8_t pk[SN_RECEIPT_PK_LEN], char out[SN_RECEIPT_PK_TEXT_MAX]);

#endif

/*
 * tokens.c - sign-in codes and session tokens (see tokens.h).
 */
#include "crypto/tokens.h"

#include <sodium.h>
#include <string.h>

void sn_otp_new_code(char code[SN_OTP_DIGITS + 1])
{
    uint32_t v = randombytes_uniform(1000000);
    for (int i = SN_OTP_DIGITS - 1; i >= 0; i--) {
        code[i] = (char)('0' + v % 10);
        v /= 10;
    }
    code[SN_OTP_DIGITS] = '\0';
}

void sn_otp_hash(const sn_secret *secret, sn_number n, const char *code, size_t len,
                 uint8_t out[SN_SECRET_HASH_LEN])
{
    sn_number_hash(secret, "secondnum-otp", n, code, len, out, SN_SECRET_HASH_LEN);
}

int sn_otp_code_valid(const char *s, size_t len)
{
    if (len != SN_OTP_DIGITS)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

void sn_session_token_new(char *text, uint8_t hash[SN_SECRET_HASH_LEN])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof(raw));
    memcpy(text, "sns_", 4);
    sodium_bin2hex(text + 4, SN_SESSION_TOKEN_LEN - 4 + 1, raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    sn_session_token_hash(text, SN_SESSION_TOKEN_LEN, hash);
}

int sn_session_token_shaped(const char *text, size_t len)
{
    if (len != SN_SESSION_TOKEN_LEN || memcmp(text, "sns_", 4) != 0)
        return 0;
    for (size_t i = 4; i < len; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return 0;
    return 1;
}

void sn_session_token_hash(const char *text, size_t len, uint8_t hash[SN_SECRET_HASH_LEN])
{
    crypto_generichash(hash, SN_SECRET_HASH_LEN, (const uint8_t *)text, len, NULL, 0);
}

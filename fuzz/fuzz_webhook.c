/* fuzz_webhook.c - libFuzzer driver: the webhook URL rules (an app's URL,
 * read by libcurl's parser, then its host judged) and the sealed secret a
 * store hands back never crash; a URL the rules accept without the flag
 * is accepted with it; any text given to
 * sn_unseal is refused unless it is a sealed value, and one that opens
 * fits its buffer. */
#include "core/errors.h"
#include "crypto/secret.h"
#include "delivery/webhook.h"
#include "util/netaddr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sn_secret key = {{1, 2, 3, 4, 5, 6, 7, 8}};
    char text[4096], why[SN_ERRMSG_MAX], out[SN_WEBHOOK_SECRET_MAX + 1];
    size_t len = 0;
    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int strict = sn_webhook_url_check(text, 0, why, sizeof(why));
    int open = sn_webhook_url_check(text, 1, why, sizeof(why));
    if (strict == SN_OK && open != SN_OK)
        abort();
    (void)sn_ip_literal_public(text);
    if (sn_unseal(&key, SN_SEAL_CONTEXT_WEBHOOK, 1, text, out, sizeof(out), &len) == SN_OK &&
        (!sn_sealed(text) || len >= sizeof(out) || out[len] != '\0'))
        abort();
    return 0;
}

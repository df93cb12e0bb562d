/* fuzz_number.c - libFuzzer driver: sn_number_parse never crashes, and an
 * accepted number formats back to E.164 that parses to the same value. */
#include "core/errors.h"
#include "core/number.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned countries[] = {0, 1, 44, 86, 999};
    char err[SN_ERRMSG_MAX], text[SN_NUMBER_TEXT_MAX];
    for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++) {
        sn_number n, again;
        if (sn_number_parse((const char *)data, size, countries[i], &n, err, sizeof(err)) != SN_OK)
            continue;
        size_t len = sn_number_format(n, text);
        if (sn_number_parse(text, len, 0, &again, err, sizeof(err)) != SN_OK || again != n)
            abort();
    }
    return 0;
}

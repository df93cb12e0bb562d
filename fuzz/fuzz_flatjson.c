/* fuzz_flatjson.c - libFuzzer driver: the check-body parser never crashes,
 * and accepted values are NUL-terminated inside the scratch buffer. */
#include "core/errors.h"
#include "http/flatjson.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SN_ERRMSG_MAX], scratch[1024];
    sn_flat_field f[3] = {{"phoneNumber", NULL, 0, 0}, {"specifiedDate", NULL, 0, 0}, {"number", NULL, 0, 1}};
    if (sn_flatjson_parse((const char *)data, size, f, 3, scratch, sizeof(scratch), err,
                          sizeof(err)) != SN_OK)
        return 0;
    for (int i = 0; i < 3; i++)
        if (f[i].value != NULL &&
            (f[i].value < scratch || f[i].value + f[i].len >= scratch + sizeof(scratch) ||
             f[i].value[f[i].len] != '\0'))
            abort();
    return 0;
}

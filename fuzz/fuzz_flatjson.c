/* fuzz_flatjson.c - libFuzzer driver: the flat-object parser never crashes;
 * an accepted string value is NUL-terminated inside the scratch buffer, an
 * accepted boolean is "true" or "false". */
#include "core/errors.h"
#include "http/flatjson.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SN_ERRMSG_MAX], scratch[1024];
    sn_flat_field f[3] = {
        {"phoneNumber", NULL, 0, 0}, {"specifiedDate", NULL, 0, 0}, {"number", NULL, 0, 1}};
    if (size + 3 > sizeof(scratch) ||
        sn_flatjson_parse((const char *)data, size, f, 3, scratch, sizeof(scratch), err,
                          sizeof(err)) != SN_OK)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (f[i].value == NULL)
            continue;
        if (f[i].boolean) {
            if (strcmp(f[i].value, "true") != 0 && strcmp(f[i].value, "false") != 0)
                abort();
        } else if (f[i].value < scratch || f[i].value + f[i].len >= scratch + sizeof(scratch) ||
                   f[i].value[f[i].len] != '\0') {
            abort();
        }
    }
    return 0;
}

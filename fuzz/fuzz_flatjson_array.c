/* fuzz_flatjson_array.c - libFuzzer driver: the array-body scanner
 * ({"items": [...]}, the batch, events and bindings bodies) never crashes;
 * every element it records lies inside the body, in order, and each is
 * then parsed as a flat object without crashing. */
#include "core/errors.h"
#include "http/flatjson.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    sn_flat_span items[MAX_ITEMS];
    size_t n = 0;
    if (sn_flatjson_array(body, size, "items", items, MAX_ITEMS, 30, &n) != SN_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char err[SN_ERRMSG_MAX], scratch[512];
        sn_flat_field f[2] = {{"number", NULL, 0, 0}, {"force", NULL, 0, 1}};
        size_t len = (size_t)(items[i].end - items[i].start);
        if (items[i].start < body || items[i].end > body + size || items[i].end <= items[i].start ||
            (i > 0 && items[i].start < items[i - 1].end))
            abort();
        if (len + 3 <= sizeof(scratch))
            sn_flatjson_parse(items[i].start, len, f, 2, scratch, sizeof(scratch), err,
                              sizeof(err));
    }
    return 0;
}

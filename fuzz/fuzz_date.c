/* fuzz_date.c - libFuzzer driver: date and time parsing never crash; an
 * accepted day formats back to the same text; an accepted instant's day is
 * consistent with the day it starts. */
#include "core/date.h"
#include "core/errors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SN_ERRMSG_MAX], text[SN_DAY_TEXT_MAX];
    const char *s = (const char *)data;
    sn_day d;
    int64_t t;
    int tz;
    if (sn_day_parse(s, size, &d, err, sizeof(err)) == SN_OK) {
        sn_day_format(d, text);
        if (size != 10 || memcmp(text, s, 10) != 0)
            abort();
    }
    if (sn_time_parse(s, size, 480, &t, err, sizeof(err)) == SN_OK) {
        sn_day day = sn_day_of(t, 480);
        if (sn_day_start(day, 480) > t || sn_day_start(day + 1, 480) <= t)
            abort();
    }
    char z[16];
    size_t n = size < sizeof(z) - 1 ? size : sizeof(z) - 1;
    memcpy(z, data, n);
    z[n] = '\0';
    if (sn_tz_parse(z, &tz, err, sizeof(err)) == SN_OK && (tz < -1439 || tz > 1439))
        abort();
    return 0;
}

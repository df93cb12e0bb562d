/* fuzz_csv.c - libFuzzer driver: CSV splitting never reads or writes outside
 * the line, and every field lies inside it. */
#include "core/errors.h"
#include "feed/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SN_ERRMSG_MAX];
    sn_csv_field f[SN_CSV_FIELDS_MAX];
    size_t n = 0;
    char *line = malloc(size ? size : 1);
    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    if (sn_csv_split(line, size, f, SN_CSV_FIELDS_MAX, &n, err, sizeof(err)) == SN_OK) {
        for (size_t i = 0; i < n; i++)
            if (f[i].s < line || f[i].s + f[i].len > line + size)
                abort();
    }
    free(line);
    return 0;
}

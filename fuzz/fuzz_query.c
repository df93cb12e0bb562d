/* fuzz_query.c - libFuzzer driver: the query-string parser never crashes;
 * a parameter it accepts is NUL-terminated within its value buffer and
 * holds no NUL before its end. */
#include "core/errors.h"
#include "http/query.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096], why[SN_ERRMSG_MAX];
    sn_query_param q[3] = {{"after", "", 0}, {"limit", "", 0}, {"state", "", 0}};
    h2o_req_t req;
    if (size + 2 > sizeof(path))
        return 0;
    path[0] = '/';
    path[1] = '?';
    memcpy(path + 2, data, size);
    memset(&req, 0, sizeof(req));
    req.path = h2o_iovec_init(path, size + 2);
    req.query_at = 1;
    if (sn_query_parse(&req, q, 3, why, sizeof(why)) != SN_OK)
        return 0;
    for (int i = 0; i < 3; i++)
        if (q[i].present && strlen(q[i].value) >= sizeof(q[i].value))
            abort();
    return 0;
}

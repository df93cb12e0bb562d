/*
 * errors.c - names of the SN_E* codes and the message helper.
 *
 * The mapping of codes to HTTP statuses and CAMARA codes belongs to the HTTP
 * layer, in one table there; this file only knows the codes themselves.
 * Thread-safe: no state.
 */
#include "core/errors.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const names[] = {
    "ok",         "invalid", "number",   "date", "future", "transition",  "aging",  "order",
    "notfound",   "store",   "nomem",    "io",   "limit",  "usage",       "config", "duplicate",
    "permission", "held",    "conflict", "auth", "rate",   "unavailable", "event",  "port",
};

const char *sn_error_name(int code)
{
    int i = -code;
    if (i < 0 || (size_t)i >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[i];
}

int sn_fail(char *buf, size_t len, int code, const char *fmt, ...)
{
    if (buf != NULL && len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/*
 * names.c - enumeration names as tables (see names.h).
 */
#include "core/names.h"

#include <string.h>

const char *sn_name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

int sn_name_find(const char *const *names, size_t n, const char *s, int absent)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (names[i] != NULL && strcmp(names[i], s) == 0)
            return (int)i;
    return absent;
}

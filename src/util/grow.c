/*
 * grow.c - growable arrays (see grow.h). Thread-safe: no state.
 */
#include "util/grow.h"

#include "core/errors.h"

#include <stdint.h>
#include <stdlib.h>

int sn_grow(void **items, size_t *cap, size_t count, size_t elem, size_t first)
{
    if (count < *cap)
        return SN_OK;
    size_t n = *cap ? *cap * 2 : first;
    if (n < *cap || n > SIZE_MAX / elem)
        return SN_ENOMEM;
    void *p = realloc(*items, n * elem);
    if (p == NULL)
        return SN_ENOMEM;
    *items = p;
    *cap = n;
    return SN_OK;
}

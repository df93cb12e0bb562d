/*
 * grow.c - growable arrays (see grow.h). Thread-safe: no state.
 */
#include "util/grow.h"

#include <stdint.h>
#include <stdlib.h>

void *sn_grow(void *items, size_t *cap, size_t count, size_t elem, size_t first)
{
    if (count < *cap)
        return items;
    size_t n = *cap ? *cap * 2 : first;
    if (n < *cap || n > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(items, n * elem);
    if (p != NULL)
        *cap = n;
    return p;
}

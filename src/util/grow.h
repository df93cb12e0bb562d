/*
 * grow.h - room for one more element in a growable array.
 *
 * Every list the program builds (feed events, rejects, keys, states at
 * startup) grows the same way: double the capacity when full. One function
 * does it, so the overflow check and the failure path are written once.
 */
#ifndef SN_GROW_H
#define SN_GROW_H

#include <stddef.h>

/* Ensure *items (capacity *cap elements of elem bytes) has room for element
 * number `count` (0-based), doubling from `first` when it has none. On
 * failure (out of memory, size overflow) *items and *cap are unchanged.
 * Returns 0 or SN_ENOMEM. */
int sn_grow(void **items, size_t *cap, size_t count, size_t elem, size_t first);

#endif

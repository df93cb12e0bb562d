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

/* An array (items, capacity *cap elements of elem bytes) with room for
 * element number `count` (0-based), doubling from `first` when full: returns
 * the array, moved or not, with *cap updated; or NULL on failure (out of
 * memory, size overflow), when items and *cap are unchanged and still the
 * caller's. */
void *sn_grow(void *items, size_t *cap, size_t count, size_t elem, size_t first);

#endif

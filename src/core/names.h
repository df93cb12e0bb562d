/*
 * names.h - the names of an enumeration's values as a table: names[v] is
 * the name of value v (NULL where v has none). Every "kind", "outcome",
 * "level" and the like reads and prints its names through these two.
 * Pure, thread-safe.
 */
#ifndef SN_NAMES_H
#define SN_NAMES_H

#include <stddef.h>

/* The table and its length, as the two arguments below take them. */
#define SN_NAMES(table) (table), (sizeof(table) / sizeof((table)[0]))

/* The name of value v; NULL when v is out of the table or has none. */
const char *sn_name_of(const char *const *names, size_t n, int v);

/* The value named s; `absent` when no value has that name. */
int sn_name_find(const char *const *names, size_t n, const char *s, int absent);

#endif

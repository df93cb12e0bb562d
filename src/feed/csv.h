/*
 * csv.h - splitting one CSV line into fields, in place (pure).
 *
 * RFC 4180 within a line: fields separated by commas, optionally quoted with
 * '"', a quote inside a quoted field written twice. A field never spans
 * lines (carrier feeds have no use for it, and it would let one bad quote
 * swallow the rest of a file). A trailing CR is ignored.
 */
#ifndef SN_CSV_H
#define SN_CSV_H

#include <stddef.h>

/* Longest accepted line, in bytes, excluding the newline. */
#define SN_CSV_LINE_MAX 4096
/* Most fields in one line. */
#define SN_CSV_FIELDS_MAX 16

typedef struct {
    char *s; /* points into the line; not NUL-terminated */
    size_t len;
} sn_csv_field;

/* Split line[0..len) into at most max fields, unquoting in place.
 * Sets *n to the number of fields. SN_OK, SN_ELIMIT (line too long, too many
 * fields) or SN_EINVAL (a stray or unterminated quote). */
int sn_csv_split(char *line, size_t len, sn_csv_field *fields, size_t max, size_t *n, char *err,
                 size_t errlen);

/* Write s as one CSV field (quoted when needed) to buf; returns the length
 * that the full field needs (as snprintf does). */
size_t sn_csv_quote(const char *s, size_t len, char *buf, size_t cap);

#endif

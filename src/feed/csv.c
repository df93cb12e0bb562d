/*
 * csv.c - in-place CSV line splitting and quoting (see csv.h).
 * Thread-safe: no state.
 */
#include "feed/csv.h"

#include "core/errors.h"

#include <string.h>

/* Unquote a field starting at line[i] == '"'; sets *end past the closing quote. */
static int unquote(char *line, size_t len, size_t i, sn_csv_field *f, size_t *end)
{
    char *w = line + i;
    f->s = w;
    for (i++; i < len; i++) {
        if (line[i] != '"') {
            *w++ = line[i];
            continue;
        }
        if (i + 1 < len && line[i + 1] == '"') {
            *w++ = '"';
            i++;
            continue;
        }
        f->len = (size_t)(w - f->s);
        *end = i + 1;
        return SN_OK;
    }
    return SN_EINVAL;
}

int sn_csv_split(char *line, size_t len, sn_csv_field *fields, size_t max, size_t *n, char *err,
                 size_t errlen)
{
    size_t i = 0, count = 0;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > SN_CSV_LINE_MAX)
        return sn_fail(err, errlen, SN_ELIMIT, "line longer than %d bytes", SN_CSV_LINE_MAX);
    for (;;) {
        if (count == max)
            return sn_fail(err, errlen, SN_ELIMIT, "more than %zu columns", max);
        sn_csv_field *f = &fields[count++];
        if (i < len && line[i] == '"') {
            size_t end;
            if (unquote(line, len, i, f, &end) != SN_OK)
                return sn_fail(err, errlen, SN_EINVAL, "unterminated quote in column %zu", count);
            if (end < len && line[end] != ',')
                return sn_fail(err, errlen, SN_EINVAL, "text after a closing quote in column %zu",
                               count);
            i = end;
        } else {
            size_t start = i;
            while (i < len && line[i] != ',') {
                if (line[i] == '"')
                    return sn_fail(err, errlen, SN_EINVAL, "stray quote in column %zu", count);
                i++;
            }
            f->s = line + start;
            f->len = i - start;
        }
        if (i >= len)
            break;
        i++; /* the comma */
    }
    *n = count;
    return SN_OK;
}

size_t sn_csv_quote(const char *s, size_t len, char *buf, size_t cap)
{
    int needs = 0;
    size_t out = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            needs = 1;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (out + 1 < cap)                                                                         \
            buf[out] = (c);                                                                        \
        out++;                                                                                     \
    } while (0)
    if (needs)
        PUT('"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            PUT('"');
        PUT(s[i]);
    }
    if (needs)
        PUT('"');
#undef PUT
    if (cap > 0)
        buf[out < cap ? out : cap - 1] = '\0';
    return out;
}

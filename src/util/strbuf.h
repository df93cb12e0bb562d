/*
 * strbuf.h - a growing text buffer for building JSON answers, and JSON
 * string escaping.
 *
 * Appends never fail visibly: an allocation failure sets `failed`, later
 * appends do nothing, and the owner checks `failed` once at the end (then
 * answers 500 instead of a truncated body).
 */
#ifndef SN_STRBUF_H
#define SN_STRBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *s; /* NUL-terminated while !failed; malloc'd, the owner frees it */
    size_t len, cap;
    int failed;
} sn_strbuf;

/* Copy src into dst (cap bytes, at least 1), cut to fit: what snprintf's
 * "%s" does, without its formatting (per request and per record, that was
 * a visible share of a check's CPU); NULL copies as empty. */
void sn_text_copy(char *dst, size_t cap, const char *src);

#define SN_U64_TEXT_MAX 21 /* bytes sn_u64_text writes at most: 20 digits and a NUL */

/* v in decimal into buf (SN_U64_TEXT_MAX bytes at least), NUL-terminated;
 * returns its length. By hand: it runs for every number a digest build
 * hashes and every answer's audit record. */
size_t sn_u64_text(uint64_t v, char *buf);

/* Append printf-style. */
void sn_strbuf_printf(sn_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s as a quoted JSON string; NULL appends null. */
void sn_strbuf_string(sn_strbuf *b, const char *s);

/* Write s[0..len) escaped for a JSON string (without quotes) into out;
 * returns the length needed (may exceed cap: then out holds a prefix).
 * Quotes, backslashes and control characters are escaped. */
size_t sn_json_escape(const char *s, size_t len, char *out, size_t cap);

#endif

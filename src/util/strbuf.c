/*
 * strbuf.c - growing text buffer, bounded copies and JSON escaping (see
 * strbuf.h).
 */
#include "util/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t sn_u64_text(uint64_t v, char *buf)
{
    char rev[SN_U64_TEXT_MAX];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    buf[n] = '\0';
    return n;
}

void sn_text_copy(char *dst, size_t cap, const char *src)
{
    const char *t = src != NULL ? src : "";
    size_t n = strnlen(t, cap - 1);
    memcpy(dst, t, n);
    dst[n] = '\0';
}

static int reserve(sn_strbuf *b, size_t more)
{
    if (b->failed)
        return 0;
    if (b->len + more + 1 <= b->cap)
        return 1;
    size_t cap = b->cap * 2 + more + 64;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
        b->failed = 1;
        return 0;
    }
    b->s = p;
    b->cap = cap;
    return 1;
}

void sn_strbuf_printf(sn_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sn_strbuf_string(sn_strbuf *b, const char *s)
{
    if (s == NULL) {
        sn_strbuf_printf(b, "null");
        return;
    }
    size_t len = strlen(s), need = sn_json_escape(s, len, NULL, 0);
    if (!reserve(b, need + 2))
        return;
    b->s[b->len++] = '"';
    b->len += sn_json_escape(s, len, b->s + b->len, need);
    b->s[b->len++] = '"';
    b->s[b->len] = '\0';
}

size_t sn_json_escape(const char *s, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (n < cap)                                                                               \
            out[n] = (ch);                                                                         \
        n++;                                                                                       \
    } while (0)
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            PUT('\\');
            PUT((char)ch);
        } else if (ch < 0x20 || ch == 0x7f) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[ch >> 4]);
            PUT(hex[ch & 15]);
        } else {
            PUT((char)ch);
        }
    }
#undef PUT
    return n;
}

/*
 * flatjson.c - strict flat-object JSON parsing (see flatjson.h).
 * RFC 8259 strings: escapes \" \\ \/ \b \f \n \r \t \uXXXX (surrogate pairs
 * joined); raw control characters and invalid UTF-8 lead bytes rejected.
 */
#include "http/flatjson.h"

#include "core/errors.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    char *out, *out_end;
    char *err;
    size_t errlen;
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

const char *sn_flatjson_type_name(char c)
{
    switch (c) {
    case '{':
        return "an object";
    case '[':
        return "an array";
    case '"':
        return "a string";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    default:
        return (c == '-' || (c >= '0' && c <= '9')) ? "a number" : "invalid JSON";
    }
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    return 1;
}

static int put_utf8(parser *ps, unsigned cp)
{
    char b[4];
    int n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (ps->out + n >= ps->out_end)
        return 0;
    memcpy(ps->out, b, (size_t)n);
    ps->out += n;
    return 1;
}

/* An escape after the backslash at ps->p. */
static int escape(parser *ps)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    unsigned cp, lo;
    const char *hit = ps->p < ps->end ? strchr(from, *ps->p) : NULL;
    if (hit != NULL && *ps->p != '\0') {
        ps->p++;
        return put_utf8(ps, (unsigned char)to[hit - from]);
    }
    if (ps->p >= ps->end || *ps->p != 'u' || ps->end - ps->p < 5 || !hex4(ps->p + 1, &cp))
        return 0;
    ps->p += 5;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || !hex4(ps->p + 2, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return 0;
    }
    return put_utf8(ps, cp);
}

/* Bytes a string holds as they are: not '"' or '\\', no control character,
 * no byte that never leads UTF-8 (C0, C1, F5-FF). A string is scanned a run
 * of them at a time and copied with one memcpy: per byte, with the room
 * checked for each, it was a tenth of a batch check's time. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* A0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* B0 */
    0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* C0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* D0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* E0 */
    1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* F0 */
};

/* A string at ps->p == '"'; the decoded text goes to ps->out, NUL-terminated. */
static int string(parser *ps, const char **value, size_t *len)
{
    char *start = ps->out;
    const char *p = ps->p + 1;
    for (;;) {
        const char *run = p;
        while (p < ps->end && plain[(unsigned char)*p])
            p++;
        size_t n = (size_t)(p - run);
        if (n > 0) {
            if (n >= (size_t)(ps->out_end - ps->out))
                return 0; /* the text and its NUL must fit */
            memcpy(ps->out, run, n);
            ps->out += n;
        }
        if (p >= ps->end)
            return 0;
        if (*p == '"')
            break;
        if (*p != '\\')
            return 0; /* a control character or a byte that never leads UTF-8 */
        ps->p = p + 1;
        if (!escape(ps))
            return 0;
        p = ps->p;
    }
    if (ps->out >= ps->out_end)
        return 0; /* an empty text's NUL (a longer one's was counted) */
    ps->p = p + 1;
    *ps->out++ = '\0';
    *value = start;
    *len = (size_t)(ps->out - start - 1);
    return 1;
}

int sn_flatjson_parse(const char *body, size_t len, sn_flat_field *fields, size_t n, char *scratch,
                      size_t scratch_len, char *err, size_t errlen)
{
    parser ps = {body, body + len, scratch, scratch + scratch_len, err, errlen};
    const char *key;
    size_t keylen;

    for (size_t i = 0; i < n; i++)
        fields[i].value = NULL;
    skip_ws(&ps);
    if (ps.p >= ps.end)
        return sn_fail(err, errlen, SN_EINVAL, "the request body is empty");
    if (*ps.p != '{')
        return sn_fail(err, errlen, SN_EINVAL, "the request body must be a JSON object, not %s",
                       sn_flatjson_type_name(*ps.p));
    ps.p++;
    skip_ws(&ps);
    if (ps.p < ps.end && *ps.p == '}') {
        ps.p++;
        goto done;
    }
    for (;;) {
        skip_ws(&ps);
        if (ps.p >= ps.end || *ps.p != '"' || !string(&ps, &key, &keylen))
            return sn_fail(err, errlen, SN_EINVAL, "malformed JSON: expected a property name");
        size_t f = 0;
        while (f < n && !(fields[f].name[0] == key[0] && strlen(fields[f].name) == keylen &&
                          memcmp(fields[f].name, key, keylen) == 0))
            f++;
        if (f == n)
            return sn_fail(err, errlen, SN_EINVAL, "unknown property '%.64s'", key);
        if (fields[f].value != NULL)
            return sn_fail(err, errlen, SN_EINVAL, "property '%s' appears twice", fields[f].name);
        skip_ws(&ps);
        if (ps.p >= ps.end || *ps.p != ':')
            return sn_fail(err, errlen, SN_EINVAL, "malformed JSON: expected ':'");
        ps.p++;
        skip_ws(&ps);
        if (ps.p >= ps.end)
            return sn_fail(err, errlen, SN_EINVAL, "malformed JSON: missing value");
        if (fields[f].boolean) {
            static const char *const words[] = {"false", "true"};
            int w = 0;
            for (; w < 2; w++)
                if ((size_t)(ps.end - ps.p) >= strlen(words[w]) &&
                    memcmp(ps.p, words[w], strlen(words[w])) == 0)
                    break;
            if (w == 2)
                return sn_fail(err, errlen, SN_EINVAL, "property '%s' must be true or false",
                               fields[f].name);
            fields[f].value = words[w];
            fields[f].len = strlen(words[w]);
            ps.p += fields[f].len;
        } else if (*ps.p != '"') {
            return sn_fail(err, errlen, SN_EINVAL, "property '%s' must be a string, not %s",
                           fields[f].name, sn_flatjson_type_name(*ps.p));
        } else if (!string(&ps, &fields[f].value, &fields[f].len))
            return sn_fail(err, errlen, SN_EINVAL, "malformed JSON string in '%s'", fields[f].name);
        skip_ws(&ps);
        if (ps.p < ps.end && *ps.p == ',') {
            ps.p++;
            continue;
        }
        if (ps.p < ps.end && *ps.p == '}') {
            ps.p++;
            break;
        }
        return sn_fail(err, errlen, SN_EINVAL, "malformed JSON: expected ',' or '}'");
    }
done:
    skip_ws(&ps);
    if (ps.p != ps.end)
        return sn_fail(err, errlen, SN_EINVAL, "malformed JSON: text after the object");
    return SN_OK;
}

/* ---- arrays of elements ---------------------------------------------------- */

static const char *skip_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A mask of w's zero bytes whose lowest set bit is exact: bit 8k+7 for the
 * first zero byte k (a borrow only runs past a zero byte, so bits above
 * the first may be wrong, never the first). */
static uint64_t zero_bytes(uint64_t w)
{
    return (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
}

/* The closing quote of the string whose text starts at p (after its opening
 * quote), escapes skipped, or NULL. Eight bytes at a time: the first '"'
 * or '\\' of a word is found from its mask, not by stepping a byte at a time
 * (a byte loop was most of a batch body's scan). */
static const char *string_end(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t m = zero_bytes(w ^ 0x2222222222222222ull) | zero_bytes(w ^ 0x5c5c5c5c5c5c5c5cull);
        if (m == 0) {
            p += 8;
            continue;
        }
        p += __builtin_ctzll(m) / 8; /* the first '"' or '\\' of the word */
        if (*p == '"')
            return p;
        p += end - p >= 2 ? 2 : 1; /* the escape and the byte it escapes */
    }
#endif
    while (p < end) {
        if (*p == '"')
            return p;
        p += *p == '\\' && end - p >= 2 ? 2 : 1; /* never past end */
    }
    return NULL;
}

/* End of the JSON value starting at p, or NULL when malformed or nested
 * deeper than max_depth. */
static const char *skip_value(const char *p, const char *end, int max_depth)
{
    int depth = 0;
    do {
        if (p >= end)
            return NULL;
        char ch = *p;
        if (ch == '"') {
            p = string_end(p + 1, end);
            if (p == NULL)
                return NULL;
            p++;
        } else if (ch == '{' || ch == '[') {
            if (++depth > max_depth)
                return NULL;
            p++;
        } else if (ch == '}' || ch == ']') {
            if (--depth < 0)
                return NULL;
            p++;
        } else if (ch == ',' || ch == ':' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            if (depth == 0)
                return NULL;
            p++;
        } else { /* a literal or number: its characters */
            const char *start = p;
            while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '-' ||
                               *p == '+' || *p == '.' || *p == 'E'))
                p++;
            if (p == start)
                return NULL;
        }
    } while (depth > 0);
    return p;
}

int sn_flatjson_array(const char *body, size_t len, const char *key, sn_flat_span *items,
                      size_t max, int max_depth, size_t *n)
{
    const char *p = body, *end = body + len;
    size_t klen = strlen(key);
    *n = 0;
    p = skip_blank(p, end);
    if (p >= end || *p++ != '{')
        return SN_EINVAL;
    p = skip_blank(p, end);
    if ((size_t)(end - p) < klen + 2 || p[0] != '"' || memcmp(p + 1, key, klen) != 0 ||
        p[klen + 1] != '"')
        return SN_EINVAL;
    p = skip_blank(p + klen + 2, end);
    if (p >= end || *p++ != ':')
        return SN_EINVAL;
    p = skip_blank(p, end);
    if (p >= end || *p++ != '[')
        return SN_EINVAL;
    p = skip_blank(p, end);
    while (p < end && *p != ']') {
        const char *next = skip_value(p, end, max_depth);
        if (next == NULL)
            return SN_EINVAL;
        if (*n == max)
            return SN_ELIMIT;
        items[(*n)++] = (sn_flat_span){p, next};
        p = skip_blank(next, end);
        if (p < end && *p == ',')
            p = skip_blank(p + 1, end);
        else if (p >= end || *p != ']')
            return SN_EINVAL;
    }
    if (p >= end)
        return SN_EINVAL;
    p = skip_blank(p + 1, end);
    if (p >= end || *p++ != '}')
        return SN_EINVAL;
    return skip_blank(p, end) == end ? SN_OK : SN_EINVAL;
}

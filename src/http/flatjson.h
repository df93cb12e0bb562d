/*
 * flatjson.h - a strict parser for flat JSON objects of strings, the shape of
 * every check request ({"phoneNumber":"+86...","specifiedDate":"2024-05-01"}).
 *
 * The check path is the hot path: a general JSON library costs more than the
 * rest of the request. This parser reads exactly one object whose values are
 * all strings (or booleans, for fields declared so), decodes escapes into a caller's buffer, and
 * rejects anything else (nested values, numbers, duplicate keys, trailing bytes) with a message
 * naming the problem. Fields are matched against a fixed list of names; an unknown name is an
 * error. Pure, thread-safe.
 */
#ifndef SN_FLATJSON_H
#define SN_FLATJSON_H

#include <stddef.h>

#define SN_FLATJSON_MAX_FIELDS 8
#define SN_FLATJSON_VALUE_MAX 512

typedef struct {
    const char *name;  /* expected key */
    const char *value; /* decoded value (NUL-terminated) or NULL when absent */
    size_t len;
    int boolean; /* set by the caller: the value is true or false, not a
                    string; value is then "true" or "false" */
} sn_flat_field;

/* Parse body[0..len) into fields[0..n) (names set by the caller). Decoded
 * values are written into scratch (at least len + n bytes). SN_OK or
 * SN_EINVAL with a message. */
int sn_flatjson_parse(const char *body, size_t len, sn_flat_field *fields, size_t n, char *scratch,
                      size_t scratch_len, char *err, size_t errlen);

/* The text of one element of an array. */
typedef struct {
    const char *start, *end;
} sn_flat_span;

/* Scan a body of exactly the shape {"<key>": [ELEMENT, ...]} in one pass,
 * recording each element's text (any JSON value, nested at most max_depth)
 * without building a tree; the elements are then parsed one by one (flat
 * objects with sn_flatjson_parse). SN_OK, SN_EINVAL (malformed, another
 * shape) or SN_ELIMIT (more than max elements). */
int sn_flatjson_array(const char *body, size_t len, const char *key, sn_flat_span *out, size_t max,
                      int max_depth, size_t *n);

/* The JSON value type starting at s (for messages): "a number", "an
 * object", ..., "invalid JSON". */
const char *sn_flatjson_type_name(char first);

#endif

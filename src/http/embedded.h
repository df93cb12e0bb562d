/*
 * embedded.h - files compiled into the binary, so `secondnum serve` needs
 * nothing beside itself: the OpenAPI document (docs/openapi.yaml, by
 * scripts/embed.sh) and the subscriber web portal's files (web/, by
 * scripts/embed_web.sh). Both are linked into the program only.
 */
#ifndef SN_EMBEDDED_H
#define SN_EMBEDDED_H

#include <stddef.h>

extern const char sn_openapi_yaml[];
extern const size_t sn_openapi_yaml_len;

typedef struct {
    const char *path;         /* "/index.html" */
    const char *content_type; /* "text/html; charset=utf-8" */
    const char *data;
    size_t len;
} sn_portal_file;

extern const sn_portal_file sn_portal_files[];
extern const size_t sn_portal_nfiles;

#endif

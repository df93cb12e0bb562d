/*
 * portal.h - the subscriber web portal's files (web/ in the repository),
 * compiled into the binary by scripts/embed_web.sh so `secondnum serve`
 * needs nothing beside itself, like the OpenAPI document.
 */
#ifndef SN_PORTAL_H
#define SN_PORTAL_H

#include <stddef.h>

typedef struct {
    const char *path;         /* "/index.html" */
    const char *content_type; /* "text/html; charset=utf-8" */
    const char *data;
    size_t len;
} sn_portal_file;

extern const sn_portal_file sn_portal_files[];
extern const size_t sn_portal_nfiles;

#endif

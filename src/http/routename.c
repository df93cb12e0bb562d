/*
 * routename.c - a path against the route table's patterns: whether it
 * matches one (sn_route_matches, the router's test), and the name the
 * request log and the metrics give a request (its route's pattern, never
 * its path, which may carry a number). Pure over the table; any thread.
 */
#include "http/routename.h"

#include <string.h>

int sn_route_matches(const char *pattern, h2o_iovec_t path, const char **param, size_t *plen)
{
    /* one walk of the common prefix: the router tries every route for each
     * request, and most differ from the path within a few bytes */
    size_t i = 0;
    while (pattern[i] != '\0' && pattern[i] != '{' && i < path.len && pattern[i] == path.base[i])
        i++;
    if (pattern[i] == '\0')
        return i == path.len;
    if (pattern[i] != '{' || strncmp(pattern + i, "{id}", 4) != 0)
        return 0; /* a byte differs, or the path ended first */
    const char *suffix = pattern + i + 4;
    size_t slen = strlen(suffix);
    if (path.len <= i + slen || memcmp(path.base + path.len - slen, suffix, slen) != 0)
        return 0;
    *param = path.base + i;
    *plen = path.len - i - slen;
    return memchr(*param, '/', *plen) == NULL;
}

const char *sn_route_name(const sn_call *c, int status)
{
    const char *param;
    size_t plen;
    if (c->route != NULL)
        return c->route->path;
    for (size_t r = 0; r < sn_nroutes; r++) /* 405, or refused before the route was taken */
        if (sn_route_matches(sn_routes[r].path, c->req->path_normalized, &param, &plen))
            return sn_routes[r].path;
    return status < 400 ? "portal" : "no-route";
}

const char *sn_route_name_of_head(const sn_head *h)
{
    h2o_mem_pool_t pool;
    size_t query_at;
    size_t *norm_indexes = NULL;
    const char *found = "no-route", *param;
    size_t plen;
    if (h == NULL || h->target.base == NULL || h->method.base == NULL)
        return "refused";
    h2o_mem_init_pool(&pool);
    h2o_iovec_t path =
        h2o_url_normalize_path(&pool, h->target.base, h->target.len, &query_at, &norm_indexes);
    for (size_t r = 0; r < sn_nroutes; r++)
        if (sn_route_matches(sn_routes[r].path, path, &param, &plen)) {
            found = sn_routes[r].path;
            break;
        }
    h2o_mem_clear_pool(&pool);
    return found;
}

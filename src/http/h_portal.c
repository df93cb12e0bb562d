/*
 * h_portal.c - the subscriber web portal at "/": the files of web/,
 * embedded at build time (embedded.h), served for GET and HEAD of paths that
 * are no API route. "/" is index.html; "/admin" and "/admin/" are the
 * dashboard's (web/admin/index.html, with its charting library beside it).
 *
 * Every answer carries a strict Content-Security-Policy (scripts, styles
 * and fetches from this origin only, no inline code, no framing) and asks
 * the browser not to sniff types or send a referrer: the portal handles
 * sign-in codes and session tokens. Runs on the loop thread; the files are
 * read-only data.
 */
#include "http/http.h"
#include "http/embedded.h"

#include <string.h>

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "connect-src 'self'; img-src 'self'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'";

static void header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value,
                          strlen(value));
}

int sn_portal_serve(sn_call *c, h2o_iovec_t path)
{
    h2o_req_t *req = c->req;
    const sn_portal_file *f = NULL;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        return 0;
    if (path.len == 1 && path.base[0] == '/')
        path = h2o_iovec_init(H2O_STRLIT("/index.html"));
    else if (h2o_memis(path.base, path.len, H2O_STRLIT("/admin")) ||
             h2o_memis(path.base, path.len, H2O_STRLIT("/admin/")))
        path = h2o_iovec_init(H2O_STRLIT("/admin/index.html"));
    for (size_t i = 0; i < sn_portal_nfiles && f == NULL; i++)
        if (h2o_memis(path.base, path.len, sn_portal_files[i].path,
                      strlen(sn_portal_files[i].path)))
            f = &sn_portal_files[i];
    if (f == NULL)
        return 0;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    header(req, "content-security-policy", csp);
    header(req, "x-content-type-options", "nosniff");
    header(req, "referrer-policy", "no-referrer");
    header(req, "x-frame-options", "DENY");
    sn_reply(c, 200, f->content_type, f->data, f->len);
    return 1;
}

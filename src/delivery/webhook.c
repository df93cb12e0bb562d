/*
 * webhook.c - the webhook URL rules, the address test and the sealed
 * secret (see webhook.h). The URL is read with libcurl's URL API, the
 * parser that will deliver to it, so the host judged here is the host
 * connected to. Thread-safe.
 */
#include "delivery/webhook.h"

#include "core/errors.h"
#include "core/limits.h"
#include "util/netaddr.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Does the URL's form pass: the scheme, the length, no blanks? */
static int form_valid(const char *u)
{
    size_t len = strlen(u), scheme = strncmp(u, "https://", 8) == 0  ? 8
                                     : strncmp(u, "http://", 7) == 0 ? 7
                                                                     : 0;
    return scheme > 0 && len > scheme && len <= SN_URL_MAX && strpbrk(u, " \t\r\n") == NULL;
}

/* "localhost", "localhost.", "x.localhost" in any case (RFC 6761). */
static int names_localhost(const char *host)
{
    static const char name[] = "localhost";
    size_t len = strlen(host), n = sizeof(name) - 1;
    if (len > 0 && host[len - 1] == '.')
        len--;
    if (len < n || strncasecmp(host + len - n, name, n) != 0)
        return 0;
    return len == n || host[len - n - 1] == '.';
}

/* A part of the URL, or NULL when it has none (freed by curl_free). */
static char *part(CURLU *u, CURLUPart what)
{
    char *v = NULL;
    if (curl_url_get(u, what, &v, 0) != CURLUE_OK) {
        curl_free(v);
        return NULL;
    }
    return v;
}

static int check_parts(CURLU *u, int allow_private, char *err, size_t errlen)
{
    char *user = part(u, CURLUPART_USER), *password = part(u, CURLUPART_PASSWORD);
    char *host = part(u, CURLUPART_HOST), *zone = part(u, CURLUPART_ZONEID);
    int rc = SN_OK;
    if (user != NULL || password != NULL)
        rc = sn_fail(err, errlen, SN_EINVAL,
                     "url must not carry a user name or password (user:password@): deliveries "
                     "are signed with the secret instead");
    else if (host == NULL || host[0] == '\0')
        rc = sn_fail(err, errlen, SN_EINVAL, "url has no host");
    else if (!allow_private && names_localhost(host))
        rc = sn_fail(err, errlen, SN_EINVAL,
                     "url must not name localhost: webhooks go to public addresses only");
    else if (!allow_private && (zone != NULL || sn_ip_literal_public(host) == 0))
        rc = sn_fail(err, errlen, SN_EINVAL,
                     "url's host %.64s is not a public address (loopback, private, link-local "
                     "and other special ranges are refused): webhooks go to public addresses "
                     "only",
                     host);
    curl_free(user);
    curl_free(password);
    curl_free(host);
    curl_free(zone);
    return rc;
}

int sn_webhook_url_check(const char *url, int allow_private, char *err, size_t errlen)
{
    CURLU *u;
    int rc;
    if (!form_valid(url))
        return sn_fail(err, errlen, SN_EINVAL,
                       "url must be an http:// or https:// URL of at most %d bytes", SN_URL_MAX);
    if ((u = curl_url()) == NULL)
        return sn_fail(err, errlen, SN_ENOMEM, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        rc = sn_fail(err, errlen, SN_EINVAL, "url is not a valid http:// or https:// URL");
    else
        rc = check_parts(u, allow_private, err, errlen);
    curl_url_cleanup(u);
    return rc;
}

int sn_webhook_address_allowed(const struct sockaddr *sa, size_t len, int allow_private)
{
    if (allow_private)
        return sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
    return sn_sockaddr_public(sa, len);
}

_Static_assert(SN_SEALED_TEXT_LEN(SN_WEBHOOK_SECRET_MAX) <= SN_WEBHOOK_SECRET_STORED_MAX,
               "a sealed webhook secret fits the store's column");

void sn_webhook_secret_seal(const sn_secret *secret, uint32_t app, const char *plain, size_t len,
                            char out[SN_WEBHOOK_SECRET_STORED_MAX + 1])
{
    sn_seal(secret, SN_SEAL_CONTEXT_WEBHOOK, app, plain, len, out,
            SN_WEBHOOK_SECRET_STORED_MAX + 1);
}

int sn_webhook_secret_open(const sn_secret *secret, const sn_app *a,
                           char out[SN_WEBHOOK_SECRET_MAX + 1], size_t *len)
{
    if (!sn_sealed(a->secret)) { /* kept in the clear by an earlier version */
        *len = strlen(a->secret);
        if (*len > SN_WEBHOOK_SECRET_MAX)
            return SN_EINVAL;
        memcpy(out, a->secret, *len + 1);
        return SN_OK;
    }
    if (secret == NULL)
        return SN_EINVAL;
    return sn_unseal(secret, SN_SEAL_CONTEXT_WEBHOOK, a->id, a->secret, out,
                     SN_WEBHOOK_SECRET_MAX + 1, len);
}

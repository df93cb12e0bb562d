/*
 * webhook.h - what an app's webhook may be: where it may point, how its
 * signing secret is kept, and what the app is told when a delivery fails.
 *
 * A webhook URL is the app's, but the POST is the server's: left open, an
 * app could aim it at 127.0.0.1:6379, 169.254.169.254 or 10.0.0.5:22 and
 * read which ports answer from its deliveries' errors. So, unless `serve
 * --allow-private-webhooks` says otherwise (tests, closed networks):
 *
 *   1. at registration (sn_webhook_url_check), the URL must be http:// or
 *      https://, at most SN_URL_MAX bytes, carry no user:password@ (never,
 *      with the flag or without: a URL is shown back and kept readable,
 *      and the signature is what authenticates a delivery), and its host
 *      must not be localhost (or a name under .localhost) nor an IP
 *      literal that is not public (util/netaddr.h), in whatever form
 *      libcurl would read it ("127.1", "0x7f000001", "[::ffff:127.0.0.1]");
 *      the URL is parsed by libcurl's own parser, the one that delivers;
 *   2. at delivery, every address libcurl is about to connect to, after
 *      resolving the host, is checked the same way before any socket
 *      exists (sn_webhook_address_allowed, from the deliverer's
 *      CURLOPT_OPENSOCKETFUNCTION), so a name that resolves to a private
 *      address, or changes what it resolves to after registration (DNS
 *      rebinding), is refused without a packet sent. Redirects are not
 *      followed and no proxy is used.
 *
 * A failed delivery's last_error, which the app reads, is one of the
 * SN_DELIVERY_ERR_* sentences below and nothing else: no address, port,
 * or libcurl message; a refused port reads exactly like an unreachable
 * host, and a name that does not resolve like one that resolves to a
 * refused address. The HTTP status of an answer is told by its class only.
 *
 * The signing secret is stored sealed under the deployment secret
 * (crypto/secret.h, context SN_SEAL_CONTEXT_WEBHOOK, id = the app's), so a
 * copy of the database alone cannot sign deliveries; a store written
 * before sealing kept it in the clear, which still signs until `serve`
 * seals it at start (service/webhooks.h, sn_webhooks_seal_stored).
 */
#ifndef SN_DELIVERY_WEBHOOK_H
#define SN_DELIVERY_WEBHOOK_H

#include "crypto/secret.h"
#include "store/apps.h"

#include <stddef.h>

struct sockaddr;

/* A failed delivery's last_error: the whole vocabulary. */
/* The host did not resolve, or resolved only to addresses the rules
 * refuse: the two read alike, so which internal names exist is not told. */
#define SN_DELIVERY_ERR_ADDRESS "no public address"
#define SN_DELIVERY_ERR_CONNECT "connection failed" /* refused, unreachable, reset, closed */
#define SN_DELIVERY_ERR_TIMEOUT "timeout"           /* no complete answer in time */
#define SN_DELIVERY_ERR_TLS "TLS failed"            /* handshake or certificate */
#define SN_DELIVERY_ERR_INTERNAL "internal error"   /* the server could not send it */
/* and "HTTP 1xx", "HTTP 3xx", "HTTP 4xx", "HTTP 5xx": an answer outside 2xx */

/* SN_OK, or SN_EINVAL with a sentence for the app saying which rule url
 * breaks. allow_private: only the rules of form and of userinfo apply. */
int sn_webhook_url_check(const char *url, int allow_private, char *err, size_t errlen);

/* May the deliverer connect to sa (len bytes)? Always 1 with allow_private
 * (for the IP families); else 1 only for a public address. */
int sn_webhook_address_allowed(const struct sockaddr *sa, size_t len, int allow_private);

/* Seal secret[0..len) for app into out. */
void sn_webhook_secret_seal(const sn_secret *secret, uint32_t app, const char *plain, size_t len,
                            char out[SN_WEBHOOK_SECRET_STORED_MAX + 1]);

/* app's signing secret from its stored form (sealed, or clear in a store
 * from before sealing) into out (*len bytes, NUL-terminated; the caller
 * wipes it after use). SN_EINVAL when it does not open under secret (NULL:
 * only a clear one can be read). */
int sn_webhook_secret_open(const sn_secret *secret, const sn_app *a,
                           char out[SN_WEBHOOK_SECRET_MAX + 1], size_t *len);

#endif

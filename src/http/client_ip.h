/*
 * client_ip.h - the client's address, as the per-address limits of
 * subscriber self-service count it (router.c takes it for those routes).
 *
 * Behind a trusted proxy (`serve --client-ip-header X-Forwarded-For`) the
 * address is the entry the proxy appended, not one the client wrote: a
 * proxy appends the address it saw to the list, so with N trusted proxies
 * in a row (`--client-ip-hops N`, default 1:
 * SN_CLIENT_IP_HOPS_DEFAULT in core/subscriber.h) the client is the Nth entry
 * from the right, and everything to its left is the client's own text.
 * Every line of the header counts, in order, as one list; empty elements
 * are skipped. The entry must be a bare IPv4 or IPv6 address (inet_pton);
 * when the header is absent, has fewer than N entries, or that entry is not
 * an address, the peer's address is taken instead: the request did not
 * come through the proxies as configured, and the peer is the one address
 * a client cannot choose.
 *
 * Either way the address is grouped the same: IPv4 as itself, an
 * IPv4-mapped IPv6 address as its IPv4, any other IPv6 address as its /64
 * (the low 64 bits zeroed: one subscriber line usually gets a /64 whole,
 * so a client cannot step through its own addresses), written by
 * inet_ntop so one client always has one text. Pure, thread-safe.
 */
#ifndef SN_HTTP_CLIENT_IP_H
#define SN_HTTP_CLIENT_IP_H

#include <stddef.h>
#include <sys/socket.h>

#define SN_CLIENT_IP_LINES_MAX 16 /* lines of the header read, the last ones */
#define SN_CLIENT_IP_TEXT_MAX 46  /* INET6_ADDRSTRLEN: a grouped address and its NUL */

/* One line of the header. */
typedef struct {
    const char *s;
    size_t len;
} sn_header_line;

/* The hops-th entry from the right of the lines (in order), as a grouped
 * address into out (cap >= SN_CLIENT_IP_TEXT_MAX): 1, or 0 when there is
 * no such entry or it is not an IP address (out untouched). */
int sn_client_ip_forwarded(const sn_header_line *lines, size_t n, unsigned hops, char *out,
                           size_t cap);

/* A peer's socket address, grouped, into out: 1, or 0 when it is neither
 * IPv4 nor IPv6 (out untouched). */
int sn_client_ip_peer(const struct sockaddr *sa, char *out, size_t cap);

#endif

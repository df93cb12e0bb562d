/*
 * netaddr.h - which IP addresses are public: the test the webhook rules
 * apply to a URL's literal host when it is registered and to every address
 * the deliverer is about to connect to (delivery/target.h).
 *
 * Not public (RFC 6890 and the IANA special-purpose registries): "this
 * network" 0/8, private 10/8, 172.16/12, 192.168/16, shared 100.64/10,
 * loopback 127/8, link-local 169.254/16 (cloud metadata services live
 * there), IETF protocol assignments 192.0.0/24, the documentation and
 * benchmarking ranges, 6to4 relays 192.88.99/24, multicast 224/4 and
 * reserved 240/4 (with the broadcast address); for IPv6 the unspecified
 * and loopback addresses, unique-local fc00::/7, link-local fe80::/10,
 * site-local fec0::/10, multicast ff00::/8, discard 100::/64, benchmarking
 * 2001:2::/48, ORCHIDs 2001:10::/28 and 2001:20::/28, documentation
 * 2001:db8::/32 and 3fff::/20, the local-use NAT64 prefix 64:ff9b:1::/48,
 * and every form that embeds an IPv4 address (mapped ::ffff:0:0/96,
 * compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16), judged by that
 * address. Pure functions, thread-safe.
 */
#ifndef SN_NETADDR_H
#define SN_NETADDR_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* 1 when the address (network byte order) is public, else 0. */
int sn_ipv4_public(const uint8_t a[4]);
int sn_ipv6_public(const uint8_t a[16]);

/* 1 when sa (len bytes) is an AF_INET or AF_INET6 address that is public;
 * 0 for any other address or family. */
int sn_sockaddr_public(const struct sockaddr *sa, size_t len);

/* Is host an IP literal: IPv6 with or without its brackets (a zone id,
 * "%eth0", is refused as not public), or IPv4 in any form the resolver
 * takes ("127.1", "0x7f.1", "2130706433", as inet_aton reads them)?
 * Returns -1 when host is not a literal, else sn_ipv4/6_public's answer. */
int sn_ip_literal_public(const char *host);

#endif

/*
 * netaddr.c - public and non-public IP addresses (see netaddr.h): two
 * tables of prefixes, and the IPv6 forms that carry an IPv4 address.
 */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef struct {
    uint8_t prefix[16];
    unsigned bits;
} range;

static const range v4_private[] = {
    {{0}, 8},             /* "this network", 0.0.0.0 */
    {{10}, 8},            /* private */
    {{100, 64}, 10},      /* shared address space (carrier-grade NAT) */
    {{127}, 8},           /* loopback */
    {{169, 254}, 16},     /* link-local, cloud metadata */
    {{172, 16}, 12},      /* private */
    {{192, 0, 0}, 24},    /* IETF protocol assignments */
    {{192, 0, 2}, 24},    /* documentation */
    {{192, 88, 99}, 24},  /* 6to4 relay anycast */
    {{192, 168}, 16},     /* private */
    {{198, 18}, 15},      /* benchmarking */
    {{198, 51, 100}, 24}, /* documentation */
    {{203, 0, 113}, 24},  /* documentation */
    {{224}, 4},           /* multicast */
    {{240}, 4},           /* reserved, and 255.255.255.255 */
};

static const range v6_private[] = {
    {{0}, 128},                                              /* unspecified */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128}, /* loopback */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48},              /* local-use NAT64 */
    {{0x01, 0x00}, 64},                                      /* discard */
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48},              /* benchmarking */
    {{0x20, 0x01, 0x00, 0x10}, 28},                          /* ORCHID */
    {{0x20, 0x01, 0x00, 0x20}, 28},                          /* ORCHIDv2 */
    {{0x20, 0x01, 0x0d, 0xb8}, 32},                          /* documentation */
    {{0x3f, 0xff}, 20},                                      /* documentation */
    {{0xfc}, 7},                                             /* unique local */
    {{0xfe, 0x80}, 10},                                      /* link-local */
    {{0xfe, 0xc0}, 10},                                      /* site-local (deprecated) */
    {{0xff}, 8},                                             /* multicast */
};

/* IPv6 prefixes whose addresses embed an IPv4 address at `at`. */
static const struct {
    range r;
    unsigned at;
} v6_embedding[] = {
    {{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, 12}, /* IPv4-mapped */
    {{{0}, 96}, 12},                                        /* IPv4-compatible */
    {{{0x00, 0x64, 0xff, 0x9b}, 96}, 12},                   /* NAT64 */
    {{{0x20, 0x02}, 16}, 2},                                /* 6to4 */
};

static int in_range(const uint8_t *a, const range *r)
{
    unsigned whole = r->bits / 8, rest = r->bits % 8;
    if (memcmp(a, r->prefix, whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (r->prefix[whole] & mask);
}

int sn_ipv4_public(const uint8_t a[4])
{
    for (size_t i = 0; i < sizeof(v4_private) / sizeof(v4_private[0]); i++)
        if (in_range(a, &v4_private[i]))
            return 0;
    return 1;
}

int sn_ipv6_public(const uint8_t a[16])
{
    for (size_t i = 0; i < sizeof(v6_private) / sizeof(v6_private[0]); i++)
        if (in_range(a, &v6_private[i]))
            return 0;
    for (size_t i = 0; i < sizeof(v6_embedding) / sizeof(v6_embedding[0]); i++)
        if (in_range(a, &v6_embedding[i].r))
            return sn_ipv4_public(a + v6_embedding[i].at);
    return 1;
}

int sn_sockaddr_public(const struct sockaddr *sa, size_t len)
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        return sn_ipv4_public((const uint8_t *)&v4->sin_addr);
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        return sn_ipv6_public(v6->sin6_addr.s6_addr);
    }
    return 0;
}

int sn_ip_literal_public(const char *host)
{
    char buf[256];
    size_t len = strlen(host);
    struct in6_addr v6;
    struct in_addr v4;
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (strchr(buf, ':') != NULL) {
        if (strchr(buf, '%') != NULL)
            return 0; /* a zone: scoped to a local link */
        return inet_pton(AF_INET6, buf, &v6) == 1 ? sn_ipv6_public(v6.s6_addr) : -1;
    }
    return inet_aton(buf, &v4) != 0 ? sn_ipv4_public((const uint8_t *)&v4) : -1;
}

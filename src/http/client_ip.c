/*
 * client_ip.c - the client's address for per-address limits (see
 * client_ip.h).
 */
#include "http/client_ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* IPv4 as itself; IPv4-mapped IPv6 as its IPv4; other IPv6 by its /64. */
static int group(int family, const void *addr, char *out, size_t cap)
{
    if (family == AF_INET)
        return inet_ntop(AF_INET, addr, out, (socklen_t)cap) != NULL;
    if (family != AF_INET6)
        return 0;
    struct in6_addr a;
    memcpy(&a, addr, sizeof(a));
    if (IN6_IS_ADDR_V4MAPPED(&a))
        return inet_ntop(AF_INET, a.s6_addr + 12, out, (socklen_t)cap) != NULL;
    memset(a.s6_addr + 8, 0, 8);
    return inet_ntop(AF_INET6, &a, out, (socklen_t)cap) != NULL;
}

/* One entry's text, trimmed, as a grouped address: 1, or 0. */
static int entry_addr(const char *s, size_t len, char *out, size_t cap)
{
    char text[SN_CLIENT_IP_TEXT_MAX];
    unsigned char bin[sizeof(struct in6_addr)];
    if (len == 0 || len >= sizeof(text))
        return 0;
    memcpy(text, s, len);
    text[len] = '\0';
    if (inet_pton(AF_INET, text, bin) == 1)
        return group(AF_INET, bin, out, cap);
    if (inet_pton(AF_INET6, text, bin) == 1)
        return group(AF_INET6, bin, out, cap);
    return 0;
}

static int blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

int sn_client_ip_forwarded(const sn_header_line *lines, size_t n, unsigned hops, char *out,
                           size_t cap)
{
    unsigned seen = 0;
    if (hops == 0)
        return 0;
    for (size_t l = n; l-- > 0;) {
        const char *s = lines[l].s;
        size_t end = lines[l].len;
        for (;;) {
            size_t start = end;
            while (start > 0 && s[start - 1] != ',')
                start--;
            size_t a = start, b = end; /* the element is s[a, b), trimmed */
            while (a < b && blank(s[a]))
                a++;
            while (b > a && blank(s[b - 1]))
                b--;
            if (b > a && ++seen == hops)
                return entry_addr(s + a, b - a, out, cap);
            if (start == 0)
                break;
            end = start - 1; /* before the comma */
        }
    }
    return 0;
}

int sn_client_ip_peer(const struct sockaddr *sa, char *out, size_t cap)
{
    if (sa->sa_family == AF_INET)
        return group(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, cap);
    if (sa->sa_family == AF_INET6)
        return group(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                     cap);
    return 0;
}

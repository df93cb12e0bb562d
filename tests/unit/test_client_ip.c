/* test_client_ip.c - http/client_ip.c: the entry the trusted proxies
 * appended (the Nth from the right, across every line of the header,
 * empty elements skipped), refused when it is not a bare IP address or
 * there are too few entries; the grouping every address gets (IPv4 as
 * itself, IPv4-mapped IPv6 as IPv4, IPv6 by its /64) from the header and
 * from a peer alike. */
#include "unit.h"

#include "http/client_ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* The hops-th entry of the lines (NULL-terminated), or "-" when refused. */
static const char *pick(unsigned hops, const char *const *texts)
{
    static char out[SN_CLIENT_IP_TEXT_MAX];
    sn_header_line lines[8];
    size_t n = 0;
    for (; texts[n] != NULL; n++)
        lines[n] = (sn_header_line){texts[n], strlen(texts[n])};
    if (!sn_client_ip_forwarded(lines, n, hops, out, sizeof(out)))
        return "-";
    return out;
}

#define PICK(hops, ...) pick(hops, (const char *const[]){__VA_ARGS__, NULL})

static void test_the_proxys_entry_not_the_clients(void **state)
{
    (void)state;
    /* the client wrote 1.1.1.1; the proxy appended the address it saw */
    assert_string_equal(PICK(1, "1.1.1.1, 203.0.113.7"), "203.0.113.7");
    assert_string_equal(PICK(1, "203.0.113.7"), "203.0.113.7");
    assert_string_equal(PICK(2, "1.1.1.1, 203.0.113.7, 10.0.0.2"), "203.0.113.7");
    assert_string_equal(PICK(3, "1.1.1.1, 203.0.113.7, 10.0.0.2"), "1.1.1.1");
    /* spaces, tabs and empty elements */
    assert_string_equal(PICK(1, "  1.1.1.1 ,\t198.51.100.9\t "), "198.51.100.9");
    assert_string_equal(PICK(2, "1.1.1.1,, 198.51.100.9 ,"), "1.1.1.1");
    /* several lines are one list, in order */
    assert_string_equal(PICK(1, "1.1.1.1", "198.51.100.9"), "198.51.100.9");
    assert_string_equal(PICK(2, "1.1.1.1", "198.51.100.9"), "1.1.1.1");
    assert_string_equal(PICK(2, "9.9.9.9, 1.1.1.1", "", "198.51.100.9"), "1.1.1.1");
}

static void test_refused(void **state)
{
    (void)state;
    assert_string_equal(PICK(2, "203.0.113.7"), "-"); /* fewer entries than hops */
    assert_string_equal(PICK(1, ""), "-");
    assert_string_equal(PICK(1, " , ,"), "-");
    assert_string_equal(PICK(0, "203.0.113.7"), "-");
    assert_string_equal(PICK(1, "1.1.1.1, unknown"), "-");
    assert_string_equal(PICK(1, "1.1.1.1, 203.0.113.7:443"), "-"); /* a port */
    assert_string_equal(PICK(1, "[2001:db8::1]"), "-");
    assert_string_equal(PICK(1, "203.0.113"), "-");
    assert_string_equal(PICK(1, "203.0.113.256"), "-");
    assert_string_equal(PICK(1, "203.0.113.7 x"), "-");
    assert_string_equal(PICK(1, "2001:db8::1::2"), "-");
    assert_string_equal(PICK(1, "2001:0db8:0000:0000:0000:0000:0000:0001:0000"), "-");
    assert_string_equal(PICK(1, "\"203.0.113.7\""), "-");
    assert_string_equal(PICK(1, "1.1.1.1, 203.0.113.7;x"), "-");
    /* the client's own entries do not count when the proxy's is bad */
    assert_string_equal(PICK(1, "203.0.113.7, junk"), "-");
    {
        char out[SN_CLIENT_IP_TEXT_MAX] = "untouched";
        sn_header_line none[1];
        assert_false(sn_client_ip_forwarded(none, 0, 1, out, sizeof(out)));
        assert_string_equal(out, "untouched");
    }
}

static void test_grouping(void **state)
{
    (void)state;
    /* IPv6 by its /64, one text however it was written */
    assert_string_equal(PICK(1, "2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::");
    assert_string_equal(PICK(1, "2001:DB8:1:2:ffff::1"), "2001:db8:1:2::");
    assert_string_equal(PICK(1, "2001:0db8:0001:0002:0000:0000:0000:0001"), "2001:db8:1:2::");
    assert_string_equal(PICK(1, "::1"), "::");
    /* IPv4-mapped IPv6 is the IPv4 address, not one /64 shared by all */
    assert_string_equal(PICK(1, "::ffff:203.0.113.7"), "203.0.113.7");
    assert_string_equal(PICK(1, "::ffff:198.51.100.9"), "198.51.100.9");
    assert_string_equal(PICK(1, "203.0.113.7"), "203.0.113.7");
}

static void test_peer(void **state)
{
    (void)state;
    char out[SN_CLIENT_IP_TEXT_MAX];
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    struct sockaddr other = {.sa_family = AF_UNIX};
    inet_pton(AF_INET, "192.0.2.1", &v4.sin_addr);
    assert_true(sn_client_ip_peer((struct sockaddr *)&v4, out, sizeof(out)));
    assert_string_equal(out, "192.0.2.1");
    inet_pton(AF_INET6, "2001:db8:aa:bb:cc::9", &v6.sin6_addr);
    assert_true(sn_client_ip_peer((struct sockaddr *)&v6, out, sizeof(out)));
    assert_string_equal(out, "2001:db8:aa:bb::");
    inet_pton(AF_INET6, "::ffff:192.0.2.1", &v6.sin6_addr); /* a dual-stack listener */
    assert_true(sn_client_ip_peer((struct sockaddr *)&v6, out, sizeof(out)));
    assert_string_equal(out, "192.0.2.1");
    assert_false(sn_client_ip_peer(&other, out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_proxys_entry_not_the_clients),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_peer),
    };
    return sn_run_tests(tests);
}

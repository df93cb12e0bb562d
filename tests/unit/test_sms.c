/* test_sms.c - sms/messages.c and sms/gateway.c without a network: the
 * code message in both languages, the report (lists cut at a whole entry
 * with the count left out, never past the buffer, never mid-character),
 * number masking, the Kannel sendsms URL (percent-encoding of credentials
 * and UTF-8 text), and the gateway file (settings, errors naming the line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "core/errors.h"
#include "sms/gateway.h"
#include "sms/messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int utf8_valid(const char *s)
{
    for (size_t i = 0; s[i] != '\0';) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0)
            return 0;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                return 0;
        i += n;
    }
    return 1;
}

static void test_otp_text(void **state)
{
    (void)state;
    char out[SN_SMS_TEXT_MAX + 1];
    size_t n = sn_sms_otp_text(SN_LANG_EN, "012345", 5, out, sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_non_null(strstr(out, "012345"));
    assert_non_null(strstr(out, "5 minutes"));
    sn_sms_otp_text(SN_LANG_ZH, "012345", 5, out, sizeof(out));
    assert_non_null(strstr(out, "验证码是 012345"));
    assert_true(utf8_valid(out));
    assert_int_equal(sn_lang_parse("zh"), SN_LANG_ZH);
    assert_int_equal(sn_lang_parse("en"), SN_LANG_EN);
    assert_int_equal(sn_lang_parse("EN"), -1);
    assert_string_equal(sn_lang_code(SN_LANG_EN), "en");
}

static void test_mask(void **state)
{
    (void)state;
    char out[SN_NUMBER_TEXT_MAX];
    sn_mask_number(8613812345678ull, out);
    assert_string_equal(out, "+86138****5678");
    sn_mask_number(15551234567ull, out);
    assert_string_equal(out, "+155****4567");
}

static void test_report(void **state)
{
    (void)state;
    char out[SN_SMS_TEXT_MAX + 1], small[200];
    sn_report_app apps[40];
    char names[40][32];
    size_t n = sn_sms_report_text(SN_LANG_EN, "+86138****5678", NULL, 0, 0, out, sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_non_null(strstr(out, "none."));
    apps[0] = (sn_report_app){"Bank One", 2, 1};
    apps[1] = (sn_report_app){"shop", 0, 3};
    sn_sms_report_text(SN_LANG_EN, "+86138****5678", apps, 2, 1, out, sizeof(out));
    assert_non_null(strstr(out, "yours, 1: Bank One (2)."));
    assert_non_null(strstr(out, "a previous owner's, 2: Bank One (1), shop (3)."));
    assert_non_null(strstr(out, "still open: 1."));
    assert_int_not_equal(out[strlen(out) - 1], ' ');
    /* forty apps with Chinese names do not fit: whole entries and a count */
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "招商银行%02d", i);
        apps[i] = (sn_report_app){names[i], 1, 1};
    }
    n = sn_sms_report_text(SN_LANG_ZH, "+86138****5678", apps, 40, 0, small, sizeof(small));
    assert_true(n < sizeof(small));
    assert_int_equal(n, strlen(small));
    assert_true(utf8_valid(small));
    assert_non_null(strstr(small, "等另外"));
    n = sn_sms_report_text(SN_LANG_ZH, "+86138****5678", apps, 40, 2, out, sizeof(out));
    assert_true(n <= SN_SMS_TEXT_MAX);
    assert_true(utf8_valid(out));
    assert_non_null(strstr(out, "前机主绑定 40 个应用"));
}

static void test_kannel_url(void **state)
{
    (void)state;
    sn_sms_options o;
    sn_sms_msg m;
    char url[4096];
    sn_sms_defaults(&o);
    snprintf(o.kannel_url, sizeof(o.kannel_url), "http://127.0.0.1:13013/cgi-bin/sendsms");
    snprintf(o.user, sizeof(o.user), "u");
    snprintf(o.password, sizeof(o.password), "p&s w=");
    memset(&m, 0, sizeof(m));
    m.number = 8613812345678ull;
    snprintf(m.text, sizeof(m.text), "码 1");
    assert_int_equal(sn_kannel_url(&o, &m, url, sizeof(url)), SN_OK);
    assert_string_equal(url, "http://127.0.0.1:13013/cgi-bin/sendsms?username=u&password=p%26s%20w%3D"
                             "&to=%2B8613812345678&text=%E7%A0%81%201&charset=UTF-8&coding=2");
    snprintf(o.kannel_url, sizeof(o.kannel_url), "http://gw/sendsms?smsc=a");
    snprintf(o.from, sizeof(o.from), "1069");
    assert_int_equal(sn_kannel_url(&o, &m, url, sizeof(url)), SN_OK);
    assert_non_null(strstr(url, "sendsms?smsc=a&username=u"));
    assert_non_null(strstr(url, "&from=1069"));
    assert_int_equal(sn_kannel_url(&o, &m, url, 40), SN_ELIMIT);
    assert_int_equal(sn_sms_driver_parse("kannel"), SN_SMS_DRIVER_KANNEL);
    assert_int_equal(sn_sms_driver_parse("smpp"), -1);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sn-test-sms-XXXXXX", err[SN_ERRMSG_MAX];
    int fd = mkstemp(path);
    sn_sms_options o;
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# gateway\n driver = kannel \nurl=http://gw:13013/cgi-bin/sendsms\n"
                     "user = sn\npassword = a b=c\nfrom = 1069\nmax_attempts = 3\n\n");
    sn_sms_defaults(&o);
    assert_int_equal(sn_sms_config_load(path, &o, err, sizeof(err)), SN_OK);
    assert_int_equal(o.driver, SN_SMS_DRIVER_KANNEL);
    assert_string_equal(o.kannel_url, "http://gw:13013/cgi-bin/sendsms");
    assert_string_equal(o.password, "a b=c");
    assert_int_equal(o.max_attempts, 3);
    write_file(path, "driver = kannel\n");
    sn_sms_defaults(&o);
    assert_int_equal(sn_sms_config_load(path, &o, err, sizeof(err)), SN_ECONFIG);
    assert_non_null(strstr(err, "needs a url"));
    write_file(path, "user = x\nspeed = 9\n");
    assert_int_equal(sn_sms_config_load(path, &o, err, sizeof(err)), SN_ECONFIG);
    assert_non_null(strstr(err, ":2: unknown setting"));
    write_file(path, "url = ftp://x\n");
    assert_int_equal(sn_sms_config_load(path, &o, err, sizeof(err)), SN_ECONFIG);
    write_file(path, "max_attempts = 0\n");
    assert_int_equal(sn_sms_config_load(path, &o, err, sizeof(err)), SN_ECONFIG);
    write_file(path, "no equals sign\n");
    assert_int_equal(sn_sms_config_load(path, &o, err, sizeof(err)), SN_ECONFIG);
    unlink(path);
    assert_int_equal(sn_sms_config_load(path, &o, err, sizeof(err)), SN_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otp_text),   cmocka_unit_test(test_mask),
        cmocka_unit_test(test_report),     cmocka_unit_test(test_kannel_url),
        cmocka_unit_test(test_config_file),
    };
    return sn_run_tests(tests);
}

/* test_log.c - util/log.c: the level names, the filter, and the line
 * itself (the prefix, one write with its newline, a message over
 * SN_LOG_LINE_MAX cut and marked "..."), read back from stderr through a
 * pipe. */
#include "unit.h"

#include "util/log.h"

#include <string.h>
#include <unistd.h>

/* What sn_log wrote to stderr while fn ran (fd 2 is a pipe meanwhile). */
static char captured[SN_LOG_LINE_MAX * 4];

static const char *capture(void (*fn)(void))
{
    int p[2], saved = dup(STDERR_FILENO);
    assert_int_equal(pipe(p), 0);
    dup2(p[1], STDERR_FILENO);
    close(p[1]);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = read(p[0], captured, sizeof(captured) - 1);
    close(p[0]);
    captured[n > 0 ? n : 0] = '\0';
    return captured;
}

static void test_level_names(void **state)
{
    (void)state;
    assert_int_equal(sn_log_level_parse("error"), SN_LOG_ERROR);
    assert_int_equal(sn_log_level_parse("warn"), SN_LOG_WARN);
    assert_int_equal(sn_log_level_parse("info"), SN_LOG_INFO);
    assert_int_equal(sn_log_level_parse("debug"), SN_LOG_DEBUG);
    assert_int_equal(sn_log_level_parse("warning"), -1);
    assert_int_equal(sn_log_level_parse("INFO"), -1);
    assert_int_equal(sn_log_level_parse(""), -1);
}

static void three_levels(void)
{
    sn_log(SN_LOG_ERROR, "e %d", 1);
    sn_log(SN_LOG_WARN, "w %s", "2");
    sn_log(SN_LOG_INFO, "i");
    sn_log(SN_LOG_DEBUG, "d");
}

static void test_the_level_filters(void **state)
{
    (void)state;
    sn_log_set_level(SN_LOG_WARN);
    assert_string_equal(capture(three_levels), "secondnum serve: e 1\nsecondnum serve: w 2\n");
    assert_false(sn_log_enabled(SN_LOG_INFO));
    sn_log_set_level(SN_LOG_ERROR);
    assert_string_equal(capture(three_levels), "secondnum serve: e 1\n");
    sn_log_set_level(SN_LOG_DEBUG);
    assert_string_equal(capture(three_levels), "secondnum serve: e 1\nsecondnum serve: w 2\n"
                                               "secondnum serve: i\nsecondnum serve: d\n");
    sn_log_set_level(SN_LOG_INFO);
}

static void long_line(void)
{
    static char big[SN_LOG_LINE_MAX * 2];
    memset(big, 'x', sizeof(big) - 1);
    sn_log(SN_LOG_ERROR, "%s", big);
}

static void test_a_long_message_is_cut_to_one_line(void **state)
{
    (void)state;
    const char *s = capture(long_line);
    assert_int_equal(strlen(s), SN_LOG_LINE_MAX);
    assert_int_equal(strchr(s, '\n') - s, SN_LOG_LINE_MAX - 1);
    assert_memory_equal(s + SN_LOG_LINE_MAX - 4, "...\n", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_the_level_filters),
        cmocka_unit_test(test_a_long_message_is_cut_to_one_line),
    };
    return sn_run_tests(tests);
}

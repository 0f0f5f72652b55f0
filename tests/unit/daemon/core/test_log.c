/* Unit tests for daemon/core/lb_log: field values are quoted exactly when logfmt needs it (B10:
 * values with spaces used to be written bare and split into bogus keys), with quotes,
 * backslashes and control characters escaped, and whole lines keep the logfmt shape. */
#include "lb_log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lb_test.h"

static char *quoted(const char *v)
{
    lb_buf_t b = {0};
    lb_log_append_value(&b, v);
    return lb_buf_steal(&b, NULL);
}

START_TEST(test_value_quoting)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"a-b_c.d/e:f", "a-b_c.d/e:f"},
        {"", "\"\""},
        {NULL, "\"\""},
        {"two words", "\"two words\""},
        {"k=v", "\"k=v\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"back\\slash", "\"back\\\\slash\""},
        {"line\nbreak", "\"line\\nbreak\""},
        {"cr\rtab\t", "\"cr\\rtab\\t\""},
        {"bell\a", "\"bell\\u0007\""},
        {"del\x7f", "\"del\\u007f\""},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = quoted(cases[i].in);
        ck_assert_msg(strcmp(got, cases[i].out) == 0, "case %zu: got [%s] want [%s]", i, got,
                      cases[i].out);
        free(got);
    }
}
END_TEST

static char *log_line(const lb_log_t *base, void (*emit)(const lb_log_t *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    lb_log_t log = *base;
    log.sink = f;
    emit(&log);
    fclose(f);
    return text;
}

static void emit_fields(const lb_log_t *log)
{
    lb_logf_error(log, "store \"commit\" failed", LB_LOG_STR("error", "disk I/O error"),
                  LB_LOG_INT("jobs", -3), LB_LOG_UINT("commits", 7), LB_LOG_STR("path", "/a b"));
}

START_TEST(test_line_with_fields)
{
    lb_log_t log = {.level = LB_LOG_DEBUG};
    char *line = log_line(&log, emit_fields);
    const char *rest = strstr(line, " level=error ");
    ck_assert_ptr_nonnull(rest);
    ck_assert_str_eq(rest, " level=error msg=\"store \\\"commit\\\" failed\" error=\"disk I/O "
                           "error\" jobs=-3 commits=7 path=\"/a b\"\n");
    ck_assert_int_eq(strncmp(line, "ts=", 3), 0);
    free(line);
}
END_TEST

START_TEST(test_json_format)
{
    lb_log_t log = {.level = LB_LOG_DEBUG, .format = LB_LOG_FORMAT_JSON};
    char *line = log_line(&log, emit_fields);
    const char *rest = strstr(line, "\",\"level\"");
    ck_assert_int_eq(strncmp(line, "{\"ts\":\"", 7), 0);
    ck_assert_ptr_nonnull(rest);
    ck_assert_str_eq(rest, "\",\"level\":\"error\",\"msg\":\"store \\\"commit\\\" failed\","
                           "\"error\":\"disk I/O error\",\"jobs\":-3,\"commits\":7,"
                           "\"path\":\"/a b\"}\n");
    free(line);
}
END_TEST

START_TEST(test_text_format)
{
    lb_log_t log = {.level = LB_LOG_DEBUG, .format = LB_LOG_FORMAT_TEXT};
    char *line = log_line(&log, emit_fields);
    /* HH:MM:SS.mmm, the level (not info), the message, then the fields as key=value. */
    ck_assert_int_eq(line[2], ':');
    ck_assert_int_eq(line[8], '.');
    ck_assert_str_eq(line + 13, "ERROR store \"commit\" failed error=\"disk I/O error\" jobs=-3 "
                                "commits=7 path=\"/a b\"\n");
    free(line);
}
END_TEST

static void emit_below_level(const lb_log_t *log)
{
    lb_logf_info(log, "hidden", LB_LOG_STR("k", "v"));
    lb_log_info(log, "hidden too", "k=%d", 1);
}

START_TEST(test_level_filters)
{
    lb_log_t log = {.level = LB_LOG_WARN};
    char *line = log_line(&log, emit_below_level);
    ck_assert_str_eq(line, "");
    free(line);
}
END_TEST

static void emit_long(const lb_log_t *log)
{
    char *big = malloc(10000);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    lb_logf_warn(log, "big", LB_LOG_STR("body", big));
    free(big);
}

START_TEST(test_long_value_is_cut)
{
    lb_log_t log = {.level = LB_LOG_DEBUG};
    char *line = log_line(&log, emit_long);
    ck_assert_ptr_nonnull(strstr(line, " body_truncated=true\n"));
    ck_assert_uint_lt(strlen(line), 2300);
    free(line);
}
END_TEST

static void emit_printf(const lb_log_t *log)
{
    lb_log_warn(log, "old style", "count=%d", 3);
}

START_TEST(test_printf_style_still_works)
{
    lb_log_t log = {.level = LB_LOG_DEBUG};
    char *line = log_line(&log, emit_printf);
    ck_assert_ptr_nonnull(strstr(line, " level=warn msg=\"old style\" count=3\n"));
    free(line);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_value_quoting);
    tcase_add_test(tc, test_line_with_fields);
    tcase_add_test(tc, test_json_format);
    tcase_add_test(tc, test_text_format);
    tcase_add_test(tc, test_level_filters);
    tcase_add_test(tc, test_long_value_is_cut);
    tcase_add_test(tc, test_printf_style_still_works);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

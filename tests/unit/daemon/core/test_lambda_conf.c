/* lb_lambda_conf: lambda_handler and lambda_function lines, and which line decides what for a
 * function. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_test.h"
#include "lb_config.h"
#include "lb_lambda_conf.h"

START_TEST(test_handler_words_and_quotes)
{
    char *glob = NULL, **argv = NULL, msg[200];
    ck_assert_int_eq(lb_lambda_parse_handler("  orders-*  ->  python3 \"/srv/my app/h.py:main\" "
                                             "--flag \"say \\\"hi\\\"\" a\\b \"\"",
                                             &glob, &argv, msg, sizeof msg),
                     0);
    ck_assert_str_eq(glob, "orders-*");
    ck_assert_str_eq(argv[0], "python3");
    ck_assert_str_eq(argv[1], "/srv/my app/h.py:main");
    ck_assert_str_eq(argv[2], "--flag");
    ck_assert_str_eq(argv[3], "say \"hi\"");
    ck_assert_str_eq(argv[4], "a\\b"); /* a backslash outside quotes is itself */
    ck_assert_str_eq(argv[5], "");
    ck_assert_ptr_null(argv[6]);
    free(glob);
    lb_lambda_argv_free(argv);
}
END_TEST

START_TEST(test_handler_errors)
{
    char *glob = NULL, **argv = NULL, msg[200];
    ck_assert_int_eq(lb_lambda_parse_handler("orders python3", &glob, &argv, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "GLOB -> COMMAND"));
    ck_assert_int_eq(lb_lambda_parse_handler("orders ->   ", &glob, &argv, msg, sizeof msg), -1);
    ck_assert_str_eq(msg, "no command after '->'");
    ck_assert_int_eq(lb_lambda_parse_handler("a b -> x", &glob, &argv, msg, sizeof msg), -1);
    ck_assert_int_eq(lb_lambda_parse_handler("f -> x \"open", &glob, &argv, msg, sizeof msg), -1);
    ck_assert_str_eq(msg, "unterminated double quote in the command");
}
END_TEST

START_TEST(test_function_settings)
{
    char *glob = NULL, msg[200];
    lb_lambda_settings_t s;
    ck_assert_int_eq(lb_lambda_parse_function("fn-* timeout=30s concurrency=4 retries=0 "
                                              "max_event_age=2h on_failure=arn:aws:sqs:us-east-1:"
                                              "000000000000:dlq",
                                              &glob, &s, msg, sizeof msg),
                     0);
    ck_assert_str_eq(glob, "fn-*");
    ck_assert_int_eq(s.timeout_ms, 30000);
    ck_assert_int_eq(s.concurrency, 4);
    ck_assert_int_eq(s.retries, 0);
    ck_assert_int_eq(s.max_event_age_s, 7200);
    ck_assert_str_eq(s.on_failure, "arn:aws:sqs:us-east-1:000000000000:dlq");
    free(glob);
    lb_lambda_settings_clear(&s);
    const char *bad[] = {"fn retries=3",
                         "fn timeout=16m",
                         "fn max_event_age=59s",
                         "fn concurrency=-1",
                         "fn on_failure=queue",
                         "fn colour=blue",
                         "fn 5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(lb_lambda_parse_function(bad[i], &glob, &s, msg, sizeof msg), -1);
        ck_assert_ptr_null(glob);
    }
}
END_TEST

static struct lb_lines lines(const char **texts, size_t n)
{
    struct lb_lines l = {.items = calloc(n, sizeof *l.items), .count = n};
    for (size_t i = 0; i < n; i++)
        l.items[i].text = (char *)texts[i];
    return l;
}

START_TEST(test_resolve_first_line_setting_a_key_wins)
{
    const char *fl[] = {"orders-big timeout=60s", "orders-* timeout=10s retries=1",
                        "* retries=0 concurrency=2"};
    struct lb_lines fns = lines(fl, 3);
    lb_lambda_settings_t s;
    lb_lambda_settings_unset(&s);
    lb_lambda_resolve_settings(&fns, "orders-big", &s);
    ck_assert_int_eq(s.timeout_ms, 60000);
    ck_assert_int_eq(s.retries, 1);
    ck_assert_int_eq(s.concurrency, 2);
    ck_assert_int_eq(s.max_event_age_s, LB_LAMBDA_DEFAULT_MAX_AGE_S);
    lb_lambda_settings_clear(&s);
    lb_lambda_resolve_settings(&fns, "billing", &s);
    ck_assert_int_eq(s.timeout_ms, LB_LAMBDA_DEFAULT_TIMEOUT_MS);
    ck_assert_int_eq(s.retries, 0);
    lb_lambda_settings_clear(&s);
    struct lb_lines none = {0};
    lb_lambda_resolve_settings(&none, "x", &s);
    ck_assert_int_eq(s.timeout_ms, 3000);
    ck_assert_int_eq(s.retries, 2);
    ck_assert_int_eq(s.max_event_age_s, 21600);
    ck_assert_int_eq(s.concurrency, -1);
    lb_lambda_settings_clear(&s);
    free(fns.items);
    const char *hl[] = {"orders-* -> a", "* -> b"};
    struct lb_lines hs = lines(hl, 2);
    char **argv = NULL;
    ck_assert_int_eq(lb_lambda_find_handler(&hs, "orders-x", &argv), 0);
    ck_assert_str_eq(argv[0], "a");
    lb_lambda_argv_free(argv);
    ck_assert_int_eq(lb_lambda_find_handler(&hs, "billing", &argv), 0);
    ck_assert_str_eq(argv[0], "b");
    lb_lambda_argv_free(argv);
    hs.count = 1;
    ck_assert_int_eq(lb_lambda_find_handler(&hs, "billing", &argv), -1);
    free(hs.items);
}
END_TEST

/* Through the config: repeatable lines, a bad one refused with a message, flags before the
 * file, the retry delay option. */
START_TEST(test_config_lines)
{
    lb_config_t *c;
    char *err = NULL;
    ck_assert_int_eq(lb_config_new(&c), 0);
    const char *text = "lambda_handler = a-* -> one\n"
                       "lambda_handler = * -> \"two words\" x\n"
                       "lambda_function = a-* retries=1\n"
                       "lambda_retry_delay = 250ms\n"
                       "lambda_invocation_type = requestresponse\n";
    ck_assert_int_eq(lb_config_load_string(c, "t.conf", text, strlen(text), &err), 0);
    const struct lb_settings *s = lb_config_settings(c);
    ck_assert_uint_eq(s->lambda_handlers.count, 2);
    ck_assert_str_eq(s->lambda_handlers.items[1].text, "* -> \"two words\" x");
    ck_assert_uint_eq(s->lambda_functions.count, 1);
    ck_assert_int_eq(s->lambda_retry_delay_ms, 250);
    ck_assert_int_eq(s->lambda_invocation_type, LB_LAMBDA_REQUEST_RESPONSE);
    ck_assert_int_eq(lb_config_set(c, "lambda_handler", "b-* -> flag", &err), 0);
    ck_assert_str_eq(lb_config_settings(c)->lambda_handlers.items[0].text, "b-* -> flag");
    const char *bad = "lambda_function = a-* retries=5\n";
    ck_assert_int_eq(lb_config_load_string(c, "t.conf", bad, strlen(bad), &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "t.conf:1: lambda_function:"));
    free(err);
    lb_config_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lambda_conf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_handler_words_and_quotes);
    tcase_add_test(tc, test_handler_errors);
    tcase_add_test(tc, test_function_settings);
    tcase_add_test(tc, test_resolve_first_line_setting_a_key_wins);
    tcase_add_test(tc, test_config_lines);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

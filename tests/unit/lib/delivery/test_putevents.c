/* lb_putevents: an upstream PutEvents entry rebuilt from a delivered envelope (the Detail bytes
 * kept exactly, Time as epoch seconds, the TraceHeader, the bus ARN), AWS's entry size rule, the
 * per-entry results of an answer, and which errors are retried. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_putevents.h"
#include "lb_test.h"

#define BUS "arn:aws:events:eu-west-1:111122223333:event-bus/prod"

START_TEST(entry_from_envelope)
{
    const char *env = "{\"version\":\"0\",\"id\":\"x\",\"detail-type\":\"Order \\u00e9\","
                      "\"source\":\"shop\",\"account\":\"000000000000\","
                      "\"time\":\"2024-01-02T03:04:05Z\",\"region\":\"us-east-1\","
                      "\"resources\":[\"arn:a\",\"arn:b\"],"
                      "\"detail\":{\"n\":12345678901234567890123,\"s\":\"\\\"q\\\"\"}}";
    lb_buf_t b = {0};
    size_t size = 0;
    ck_assert_int_eq(lb_putevents_entry(env, strlen(env), BUS, "Root=1-abc", &b, &size), 0);
    ck_assert_str_eq(b.data, "{\"Source\":\"shop\",\"DetailType\":\"Order \xc3\xa9\","
                             "\"Detail\":\"{\\\"n\\\":12345678901234567890123,\\\"s\\\":"
                             "\\\"\\\\\\\"q\\\\\\\"\\\"}\",\"Resources\":[\"arn:a\",\"arn:b\"],"
                             "\"Time\":1704164645,\"EventBusName\":\"" BUS "\","
                             "\"TraceHeader\":\"Root=1-abc\"}");
    /* 14 (Time) + 4 (shop) + 8 (Order + 2-byte e acute) + detail bytes + 5 + 5 */
    const char *detail = strstr(env, "\"detail\":") + 9;
    ck_assert_uint_eq(size, 14 + 4 + 8 + (strlen(detail) - 1) + 5 + 5);
    lb_buf_free(&b);

    const char *bare = "{\"source\":\"s\",\"detail-type\":\"t\",\"detail\":{}}";
    ck_assert_int_eq(lb_putevents_entry(bare, strlen(bare), BUS, NULL, &b, &size), 0);
    ck_assert_str_eq(b.data, "{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":\"{}\","
                             "\"EventBusName\":\"" BUS "\"}");
    ck_assert_uint_eq(size, 4);
    lb_buf_free(&b);

    const char *bad[] = {"{}",
                         "[1]",
                         "{\"source\":\"s\",\"detail-type\":\"t\",\"detail\":\"x\"}",
                         "{\"source\":\"\",\"detail-type\":\"t\",\"detail\":{}}",
                         ("{\"source\":\"s\",\"detail-type\":\"t\",\"detail\":{},"
                          "\"resources\":[1]}"),
                         "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(lb_putevents_entry(bad[i], strlen(bad[i]), BUS, NULL, &b, &size), -EINVAL);
        ck_assert_uint_eq(b.len, 0);
    }
}
END_TEST

START_TEST(results_and_errors)
{
    const char *ok = "{\"FailedEntryCount\":2,\"Entries\":[{\"EventId\":\"e1\"},"
                     "{\"ErrorCode\":\"ThrottlingException\",\"ErrorMessage\":\"Rate exceeded\"},"
                     "{\"ErrorCode\":\"AccessDeniedException\",\"ErrorMessage\":\"no\"}]}";
    lb_putevents_result_t r[3];
    lb_json_doc_t *doc;
    ck_assert_int_eq(lb_putevents_results(ok, strlen(ok), 3, r, &doc), 0);
    ck_assert_str_eq(r[0].event_id, "e1");
    ck_assert_ptr_null(r[1].event_id);
    ck_assert_str_eq(r[1].error_code, "ThrottlingException");
    ck_assert_str_eq(r[2].error_message, "no");
    lb_json_doc_free(&doc);
    ck_assert_int_eq(lb_putevents_results(ok, strlen(ok), 2, r, &doc), -EINVAL);
    ck_assert_int_eq(lb_putevents_results("<html>", 6, 1, r, &doc), -EINVAL);

    char type[64], msg[128];
    const char *err = "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
                      "\"message\":\"The security token included in the request is invalid.\"}";
    lb_putevents_error(err, strlen(err), type, sizeof type, msg, sizeof msg);
    ck_assert_str_eq(type, "UnrecognizedClientException");
    ck_assert_str_eq(msg, "The security token included in the request is invalid.");
    lb_putevents_error("oops", 4, type, sizeof type, msg, sizeof msg);
    ck_assert_str_eq(type, "");

    ck_assert(lb_putevents_retryable("ThrottlingException"));
    ck_assert(lb_putevents_retryable("InternalException"));
    ck_assert(lb_putevents_retryable("InternalFailure"));
    ck_assert(!lb_putevents_retryable("AccessDeniedException"));
    ck_assert(!lb_putevents_retryable("MalformedDetail"));
    ck_assert(!lb_putevents_retryable(NULL));
    ck_assert(lb_putevents_auth_error("ExpiredTokenException"));
    ck_assert(!lb_putevents_auth_error("ValidationException"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("putevents");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, entry_from_envelope);
    tcase_add_test(tc, results_and_errors);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* proto/: the operation table, framing errors, validation messages, bus operations and PutEvents
 * driven through lb_api_handle() exactly as the daemon drives it, with a real store. Expected
 * messages are AWS's (shared/conformance/aws-snapshots/test_events.snapshot.json). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_harness.h"
#include "lb_ops_events.h"
#include "lb_validate.h"

START_TEST(test_framing_errors)
{
    expect_error("NoSuchThing", "{}", 400, "UnknownOperationException", NULL);
    expect_error("ListEventBuses", "{oops", 400, "SerializationException", NULL);
    expect_error("ListEventBuses", "[]", 400, "SerializationException", NULL);
    expect_error("ListEventBuses", "{} {}", 400, "SerializationException", NULL);
    expect_error("CreateEventBus", "{\"Name\": 5}", 400, "SerializationException", NULL);

    lb_call_t call = {0};
    snprintf(call.region, sizeof call.region, "us-east-1");
    call.account_id = "123456789012";
    lb_api_handle(api, &call, NULL, NULL, "{}", 2);
    ck_assert_int_eq(call.status, 400);
    ck_assert_ptr_nonnull(strstr(call.body.data, "UnknownOperationException"));
    lb_call_clear(&call);

    char deep[300];
    memset(deep, '[', 150);
    memset(deep + 150, ']', 150);
    deep[299] = '\0';
    deep[149] = '[';
    lb_call_t c2 = {0};
    snprintf(c2.region, sizeof c2.region, "us-east-1");
    lb_api_handle(api, &c2, "AWSEvents.ListEventBuses", NULL, deep, strlen(deep));
    ck_assert_ptr_nonnull(strstr(c2.body.data, "nested deeper"));
    lb_call_clear(&c2);
}
END_TEST

START_TEST(test_operation_table_sorted)
{
    /* find_operation() bisects the table. */
    for (size_t i = 1; i < lb_api_operation_count(); i++)
        ck_assert_int_lt(strcmp(lb_api_operation_name(i - 1), lb_api_operation_name(i)), 0);
}
END_TEST

START_TEST(test_bus_operations)
{
    int status;
    const lb_json_t *r =
        call_api("CreateEventBus", "{\"Name\":\"orders\",\"Description\":\"d\"}", &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(str(r, "EventBusArn"),
                     "arn:aws:events:us-east-1:123456789012:event-bus/orders");
    ck_assert_str_eq(str(r, "Description"), "d");
    expect_error("CreateEventBus", "{\"Name\":\"orders\"}", 400, "ResourceAlreadyExistsException",
                 "Event bus orders already exists.");
    expect_error("CreateEventBus", "{\"Name\":\"a b\"}", 400, "ValidationException",
                 "1 validation error detected: Value 'a b' at 'name' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "[/\\.\\-_A-Za-z0-9]+");
    expect_error("CreateEventBus", "{}", 400, "ValidationException",
                 "1 validation error detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null");
    expect_error("DeleteEventBus", "{\"Name\":\"default\"}", 400, "ValidationException",
                 "Cannot delete event bus default.");
    expect_error("DescribeEventBus", "{\"Name\":\"nope\"}", 400, "ResourceNotFoundException",
                 "Event bus nope does not exist.");

    r = call_api("DescribeEventBus",
                 "{\"Name\":\"arn:aws:events:us-east-1:123456789012:event-bus/orders\"}", &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(str(r, "Name"), "orders");
    ck_assert(is_number(lb_json_get(r, "CreationTime")));

    r = call_api("ListEventBuses", "{\"Limit\":1}", &status);
    ck_assert_int_eq(count(lb_json_get(r, "EventBuses")), 1);
    ck_assert_str_ne(str(r, "NextToken"), "");

    r = call_api("DeleteEventBus", "{\"Name\":\"orders\"}", &status);
    ck_assert_int_eq(status, 200);
    expect_error("DeleteEventBus", "{\"Name\":\"orders\"}", 400, "ResourceNotFoundException", NULL);
}
END_TEST

START_TEST(test_put_events)
{
    int status;
    const lb_json_t *r =
        call_api("PutEvents",
                 "{\"Entries\":[{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":"
                 "\"{\\\"a\\\":1}\",\"Time\":1715000000},{\"Source\":\"s\",\"Detail\":"
                 "\"{}\"},{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":\"[1]\"}]}",
                 &status);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(lb_json_get(r, "FailedEntryCount")->num, 2);
    const lb_json_t *entries = lb_json_get(r, "Entries");
    ck_assert_uint_eq(strlen(str(lb_json_at(entries, 0), "EventId")), 36);
    ck_assert_str_eq(str(lb_json_at(entries, 1), "ErrorCode"), "InvalidArgument");
    ck_assert_str_eq(str(lb_json_at(entries, 2), "ErrorCode"), "MalformedDetail");
    expect_error("PutEvents", "{\"Entries\":[]}", 400, "ValidationException", NULL);
    expect_error("PutEvents",
                 "{\"Entries\":[{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":\"{}\","
                 "\"EventBusName\":\"ghost\"}]}",
                 400, "ResourceNotFoundException", "Event bus ghost does not exist.");
}
END_TEST

START_TEST(test_region_from_auth)
{
    char region[32];
    ck_assert_int_eq(
        lb_api_region_from_auth("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/events/"
                                "aws4_request, SignedHeaders=host, Signature=abc",
                                region, sizeof region),
        0);
    ck_assert_str_eq(region, "eu-west-1");
    ck_assert_int_ne(lb_api_region_from_auth("Bearer x", region, sizeof region), 0);
    ck_assert_int_ne(lb_api_region_from_auth(NULL, region, sizeof region), 0);
    ck_assert_int_ne(lb_api_region_from_auth("Credential=A/B/../events/x", region, sizeof region),
                     0);
}
END_TEST

START_TEST(test_verr_plural)
{
    lb_verrs_t v = {0};
    lb_call_t call = {0};
    lb_verr_add(&v, "x", "a", "c1");
    lb_verr_add(&v, NULL, "b", "c2");
    ck_assert_int_eq(lb_verr_emit(&v, &call), 1);
    ck_assert_ptr_nonnull(strstr(call.body.data,
                                 "2 validation errors detected: Value 'x' at 'a' failed to "
                                 "satisfy constraint: c1; Value null at 'b'"));
    lb_call_clear(&call);
}
END_TEST

/* Regression (B3): lb_call_error formatted into char[4096], so a long message was cut, here inside
 * a two-byte character, and the body was no longer UTF-8 (boto3 raised UnicodeDecodeError). */
START_TEST(test_long_error_message_is_not_cut_inside_utf8)
{
    lb_buf_t name = {0}, body = {0}, want = {0};
    lb_buf_puts(&name, "a");
    for (int i = 0; i < 3000; i++)
        lb_buf_puts(&name, "\xc3\xa9"); /* é */
    lb_buf_puts(&body, "{\"Name\":");
    lb_buf_json_string(&body, name.data, name.len);
    lb_buf_puts(&body, ",\"EventPattern\":\"{}\"}");
    lb_buf_printf(&want,
                  "2 validation errors detected: Value '%s' at 'name' failed to satisfy "
                  "constraint: Member must have length less than or equal to 64; Value '%s' at "
                  "'name' failed to satisfy constraint: Member must satisfy regular expression "
                  "pattern: [\\.\\-_A-Za-z0-9]+",
                  name.data, name.data);
    ck_assert_uint_gt(want.len, 4096);
    lb_call_t call = {0};
    snprintf(call.region, sizeof call.region, "us-east-1");
    call.account_id = "123456789012";
    lb_api_handle(api, &call, "AWSEvents.PutRule", NULL, body.data, body.len);
    ck_assert_int_eq(call.status, 400);
    ck_assert(lb_utf8_valid(call.body.data, call.body.len));
    const lb_json_t *r = json_parse_held(call.body.data);
    ck_assert_str_eq(str(r, "__type"), "ValidationException");
    ck_assert_str_eq(str(r, "message"), want.data);
    lb_call_clear(&call);
    lb_buf_free(&name);
    lb_buf_free(&body);
    lb_buf_free(&want);
}
END_TEST

/* A message quoting a header is cut at a character boundary, and bytes that are not UTF-8 are
 * written as U+FFFD: the body always decodes. */
START_TEST(test_error_message_always_utf8)
{
    lb_buf_t target = {0};
    lb_buf_puts(&target, "AWSEvents.");
    for (int i = 0; i < 120; i++)
        lb_buf_puts(&target, "\xc3\xa9");
    lb_call_t call = {0};
    lb_api_handle(api, &call, target.data, NULL, "{}", 2);
    ck_assert_int_eq(call.status, 400);
    ck_assert(lb_utf8_valid(call.body.data, call.body.len));
    lb_call_clear(&call);
    lb_buf_free(&target);

    lb_call_t c2 = {0};
    lb_api_handle(api, &c2, "AWSEvents.Bad\xff\xfe", NULL, "{}", 2);
    ck_assert(lb_utf8_valid(c2.body.data, c2.body.len));
    const lb_json_t *r = json_parse_held(c2.body.data);
    ck_assert_str_eq(str(r, "message"), "Operation Bad\xef\xbf\xbd\xef\xbf\xbd is not supported.");
    lb_call_clear(&c2);
}
END_TEST

/* Regression (B2): strings were read as C strings, so U+0000 cut them short: CreateEventBus
 * {"Name":"bus\u0000evil"} created the bus "bus". A name holding U+0000 now fails its pattern,
 * and other strings are refused as AWS formats a constraint. */
START_TEST(test_nul_in_bus_fields_is_refused)
{
    static const char name_msg[] =
        "1 validation error detected: Value 'bus\000evil' at 'name' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+";
    expect_error_n("CreateEventBus", "{\"Name\":\"bus\\u0000evil\"}", "ValidationException",
                   name_msg, sizeof name_msg - 1);
    expect_error("DescribeEventBus", "{\"Name\":\"bus\"}", 400, "ResourceNotFoundException",
                 "Event bus bus does not exist.");
    static const char arn_msg[] =
        "1 validation error detected: Value 'default\000' at 'name' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: " LB_BUS_NAME_OR_ARN_PATTERN;
    expect_error_n("DescribeEventBus", "{\"Name\":\"default\\u0000\"}", "ValidationException",
                   arn_msg, sizeof arn_msg - 1);
    static const char desc_msg[] =
        "1 validation error detected: Value 'd\000' at 'description' failed to satisfy "
        "constraint: Member must not contain U+0000";
    expect_error_n("CreateEventBus", "{\"Name\":\"ok\",\"Description\":\"d\\u0000\"}",
                   "ValidationException", desc_msg, sizeof desc_msg - 1);
    static const char tag_msg[] =
        "1 validation error detected: Value 'k\000' at 'tags.1.member.key' failed to satisfy "
        "constraint: Member must not contain U+0000";
    expect_error_n("CreateEventBus",
                   "{\"Name\":\"ok\",\"Tags\":[{\"Key\":\"k\\u0000\",\"Value\":\"v\"}]}",
                   "ValidationException", tag_msg, sizeof tag_msg - 1);
    static const char rule_bus_msg[] =
        "1 validation error detected: Value 'b\000' at 'eventBusName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: " LB_BUS_NAME_OR_ARN_PATTERN;
    expect_error_n("ListRules", "{\"EventBusName\":\"b\\u0000\"}", "ValidationException",
                   rule_bus_msg, sizeof rule_bus_msg - 1);
}
END_TEST

/* Regression (B2): a PutEvents Source or DetailType holding U+0000 fails that entry, as AWS
 * fails an entry it cannot accept, instead of being read shorter. */
START_TEST(test_nul_in_put_events_source_fails_the_entry)
{
    int status;
    const lb_json_t *r = call_api("PutEvents",
                                  "{\"Entries\":[{\"Source\":\"s\\u0000x\",\"DetailType\":\"t\","
                                  "\"Detail\":\"{}\"},{\"Source\":\"s\",\"DetailType\":"
                                  "\"t\\u0000\",\"Detail\":\"{}\"},{\"Source\":\"s\","
                                  "\"DetailType\":\"t\",\"Detail\":\"{}\"}]}",
                                  &status);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(lb_json_get(r, "FailedEntryCount")->num, 2);
    const lb_json_t *entries = lb_json_get(r, "Entries");
    ck_assert_str_eq(str(lb_json_at(entries, 0), "ErrorCode"), "InvalidArgument");
    ck_assert_str_eq(str(lb_json_at(entries, 0), "ErrorMessage"),
                     "Parameter Source is not valid. Reason: Source must not contain U+0000.");
    ck_assert_str_eq(str(lb_json_at(entries, 1), "ErrorCode"), "InvalidArgument");
    ck_assert_str_eq(str(lb_json_at(entries, 1), "ErrorMessage"),
                     "Parameter DetailType is not valid. Reason: DetailType must not contain "
                     "U+0000.");
    ck_assert_uint_eq(strlen(str(lb_json_at(entries, 2), "EventId")), 36);
}
END_TEST

/* A Detail with a lone surrogate escape is JSON but no Unicode text: MalformedDetail, as before
 * lb_json (which reads it as U+FFFD) parsed Details. A pair, or an escaped backslash before
 * "ud800", is fine. */
START_TEST(test_lone_surrogate_detail_is_malformed)
{
    int status;
    const lb_json_t *r = call_api(
        "PutEvents",
        "{\"Entries\":[{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":\"{\\\"a\\\":"
        "\\\"\\\\ud800\\\"}\"},"
        "{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":\"{\\\"a\\\":\\\"\\\\udc00x\\\"}\"},"
        "{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":\"{\\\"a\\\":\\\"\\\\ud83d\\\\ude00\\\"}"
        "\"},"
        "{\"Source\":\"s\",\"DetailType\":\"t\",\"Detail\":\"{\\\"a\\\":\\\"\\\\\\\\ud800\\\"}\"}]"
        "}",
        &status);
    ck_assert_int_eq(status, 200);
    const lb_json_t *entries = lb_json_get(r, "Entries");
    ck_assert_str_eq(str(lb_json_at(entries, 0), "ErrorCode"), "MalformedDetail");
    ck_assert_str_eq(str(lb_json_at(entries, 1), "ErrorCode"), "MalformedDetail");
    ck_assert_uint_eq(strlen(str(lb_json_at(entries, 2), "EventId")), 36);
    ck_assert_uint_eq(strlen(str(lb_json_at(entries, 3), "EventId")), 36);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_framing_errors);
    tcase_add_test(tc, test_operation_table_sorted);
    tcase_add_test(tc, test_bus_operations);
    tcase_add_test(tc, test_put_events);
    tcase_add_test(tc, test_region_from_auth);
    tcase_add_test(tc, test_verr_plural);
    tcase_add_test(tc, test_long_error_message_is_not_cut_inside_utf8);
    tcase_add_test(tc, test_error_message_always_utf8);
    tcase_add_test(tc, test_nul_in_bus_fields_is_refused);
    tcase_add_test(tc, test_nul_in_put_events_source_fails_the_entry);
    tcase_add_test(tc, test_lone_surrogate_detail_is_malformed);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

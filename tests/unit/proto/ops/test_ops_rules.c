/* proto/ rule, target, tag and TestEventPattern operations through lb_api_handle(). Messages are
 * AWS's where recorded (shared/conformance/aws-snapshots/test_events.snapshot.json,
 * test_events_tags.snapshot.json, test_events_patterns.snapshot.json). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api_harness.h"

static void ok(const char *op, const char *body)
{
    int status;
    const lb_json_t *r = call_api(op, body, &status);
    char *text = lb_json_print(r, NULL);
    ck_assert_msg(status == 200, "%s: %d %s", op, status, text);
    free(text);
}

START_TEST(test_rule_lifecycle)
{
    int status;
    ok("CreateEventBus", "{\"Name\":\"b\"}");
    const lb_json_t *r = call_api("PutRule",
                                  "{\"Name\":\"r\",\"EventBusName\":\"b\",\"EventPattern\":"
                                  "\"{\\\"source\\\":[\\\"s\\\"]}\"}",
                                  &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(str(r, "RuleArn"), "arn:aws:events:us-east-1:123456789012:rule/b/r");
    r = call_api("DescribeRule", "{\"Name\":\"r\",\"EventBusName\":\"b\"}", &status);
    ck_assert_str_eq(str(r, "State"), "ENABLED");
    ck_assert_str_eq(str(r, "CreatedBy"), "123456789012");
    ck_assert_str_eq(str(r, "EventPattern"), "{\"source\":[\"s\"]}");
    ok("DisableRule", "{\"Name\":\"r\",\"EventBusName\":\"b\"}");
    r = call_api("ListRules", "{\"EventBusName\":\"b\"}", &status);
    ck_assert_str_eq(str(lb_json_at(lb_json_get(r, "Rules"), 0), "State"), "DISABLED");
    expect_error("DescribeRule", "{\"Name\":\"nope\"}", 400, "ResourceNotFoundException",
                 "Rule nope does not exist on EventBus default.");
    expect_error("PutRule", "{\"Name\":\"r2\"}", 400, "ValidationException",
                 "Parameter(s) EventPattern or ScheduleExpression must be specified.");
    expect_error("PutRule", "{\"Name\":\"r2\",\"EventPattern\":\"{\\\"a\\\":[]}\"}", 400,
                 "InvalidEventPatternException",
                 "Event pattern is not valid. Reason: Empty arrays are not allowed");
    expect_error("PutRule", "{\"Name\":\"r2\",\"ScheduleExpression\":\"rate(1 minutes)\"}", 400,
                 "ValidationException", "Parameter ScheduleExpression is not valid.");
    /* Accepted before lb_schedule: six fields were enough. AWS refuses both (recorded). */
    expect_error("PutRule", "{\"Name\":\"r2\",\"ScheduleExpression\":\"cron(0 1 * * * *)\"}", 400,
                 "ValidationException", "Parameter ScheduleExpression is not valid.");
    expect_error("PutRule", "{\"Name\":\"r2\",\"ScheduleExpression\":\"cron(71 8 1 * ? *)\"}", 400,
                 "ValidationException", "Parameter ScheduleExpression is not valid.");
    ok("PutRule", "{\"Name\":\"s1\",\"ScheduleExpression\":\"rate(1 minute)\"}");
    ok("PutRule", "{\"Name\":\"s2\",\"ScheduleExpression\":\"cron(0/5 8-17 ? * MON-FRI *)\"}");
    expect_error("PutRule",
                 "{\"Name\":\"s3\",\"EventBusName\":\"b\",\"ScheduleExpression\":\"rate(5 "
                 "minutes)\"}",
                 400, "ValidationException",
                 "ScheduleExpression is supported only on the default event bus.");
    expect_error("PutRule", "{\"Name\":\"bad name\",\"EventPattern\":\"{}\"}", 400,
                 "ValidationException", NULL);
    /* Deleting a rule that does not exist succeeds, as in AWS. */
    ok("DeleteRule", "{\"Name\":\"never\"}");
    ok("DeleteRule", "{\"Name\":\"r\",\"EventBusName\":\"b\"}");
    expect_error("DescribeRule", "{\"Name\":\"r\",\"EventBusName\":\"b\"}", 400,
                 "ResourceNotFoundException", "Rule r does not exist on EventBus b.");
}
END_TEST

START_TEST(test_targets)
{
    int status;
    ok("PutRule", "{\"Name\":\"t\",\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\"}");
    ok("PutTargets", "{\"Rule\":\"t\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:sqs:us-east-1:"
                     "123456789012:x\"},"
                     "{\"Id\":\"b\",\"Arn\":\"arn:aws:sqs:us-east-1:123456789012:y\",\"InputPath\":"
                     "\"$.detail\"}]}");
    /* Same Id again replaces; a sixth target is over AWS's per-rule limit of five. */
    ok("PutTargets", "{\"Rule\":\"t\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:sqs:us-east-1:"
                     "123456789012:z\"}]}");
    const lb_json_t *r = call_api("ListTargetsByRule", "{\"Rule\":\"t\"}", &status);
    const lb_json_t *targets = lb_json_get(r, "Targets");
    ck_assert_int_eq(count(targets), 2);
    ck_assert_str_eq(str(lb_json_at(targets, 0), "Arn"), "arn:aws:sqs:us-east-1:123456789012:z");
    expect_error(
        "PutTargets",
        "{\"Rule\":\"t\",\"Targets\":[{\"Id\":\"c\",\"Arn\":\"arn:aws:sqs:us-east-1:123456789012:"
        "1\"},{\"Id\":\"d\",\"Arn\":"
        "\"arn:aws:sqs:us-east-1:123456789012:1\"},{\"Id\":\"e\",\"Arn\":\"arn:aws:sqs:us-east-1:"
        "123456789012:1\"},{\"Id\":\"f\",\"Arn\":\"arn:aws:sqs:us-east-1:123456789012:1\"}]}",
        400, "LimitExceededException",
        "The requested resource exceeds the maximum number allowed.");
    expect_error(
        "PutTargets",
        "{\"Rule\":\"t\",\"Targets\":[{\"Id\":\"second-invalid-target-id-that-is-far-"
        "too-long-for-aws-to-accept-at-all\",\"Arn\":\"arn:aws:sqs:us-east-1:123456789012:1\"}]}",
        400, "ValidationException", NULL);
    expect_error("PutTargets",
                 "{\"Rule\":\"t\",\"Targets\":[{\"Id\":\"x\",\"Arn\":\"arn:aws:sqs:us-east-1:"
                 "123456789012:1\",\"RetryPolicy\":{"
                 "\"MaximumRetryAttempts\":186}}]}",
                 400, "ValidationException",
                 "1 validation error detected: Value '186' at "
                 "'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy "
                 "constraint: Member must have value less than or equal to 185");
    expect_error("PutTargets",
                 "{\"Rule\":\"nope\",\"Targets\":[{\"Id\":\"x\",\"Arn\":\"arn:aws:sqs:us-east-1:"
                 "123456789012:1\"}]}",
                 400, "ResourceNotFoundException", "Rule nope does not exist on EventBus default.");
    expect_error("DeleteRule", "{\"Name\":\"t\"}", 400, "ValidationException",
                 "Rule can't be deleted since it has targets.");
    r = call_api("ListRuleNamesByTarget",
                 "{\"TargetArn\":\"arn:aws:sqs:us-east-1:123456789012:y\"}", &status);
    ck_assert_str_eq(lb_json_at(lb_json_get(r, "RuleNames"), 0)->str, "t");
    ok("RemoveTargets", "{\"Rule\":\"t\",\"Ids\":[\"a\",\"b\"]}");
    ok("DeleteRule", "{\"Name\":\"t\"}");
}
END_TEST

START_TEST(test_tags)
{
    int status;
    ok("PutRule", "{\"Name\":\"g\",\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\"}");
    const char *arn = "arn:aws:events:us-east-1:123456789012:rule/g";
    char body[512];
    snprintf(body, sizeof body,
             "{\"ResourceARN\":\"%s\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},{\"Key\":\"b\","
             "\"Value\":\"2\"}]}",
             arn);
    ok("TagResource", body);
    snprintf(body, sizeof body, "{\"ResourceARN\":\"%s\",\"TagKeys\":[\"a\"]}", arn);
    ok("UntagResource", body);
    snprintf(body, sizeof body, "{\"ResourceARN\":\"%s\"}", arn);
    const lb_json_t *r = call_api("ListTagsForResource", body, &status);
    const lb_json_t *tags = lb_json_get(r, "Tags");
    ck_assert_int_eq(count(tags), 1);
    ck_assert_str_eq(str(lb_json_at(tags, 0), "Key"), "b");
    expect_error("ListTagsForResource",
                 "{\"ResourceARN\":\"arn:aws:events:us-east-1:123456789012:event-bus/ghost\"}", 400,
                 "ResourceNotFoundException", "Event bus ghost does not exist.");
}
END_TEST

START_TEST(test_test_event_pattern)
{
    int status;
    const char *event = "{\\\"id\\\":\\\"1\\\",\\\"account\\\":\\\"1\\\",\\\"source\\\":\\\"s\\\","
                        "\\\"time\\\":\\\"t\\\",\\\"region\\\":\\\"r\\\",\\\"detail-type\\\":"
                        "\\\"d\\\",\\\"detail\\\":{\\\"n\\\":3}}";
    char body[1024];
    snprintf(body, sizeof body,
             "{\"EventPattern\":\"{\\\"detail\\\":{\\\"n\\\":[{\\\"numeric\\\":[\\\"<\\\",5]}]}}\","
             "\"Event\":\"%s\"}",
             event);
    const lb_json_t *r = call_api("TestEventPattern", body, &status);
    ck_assert_int_eq(status, 200);
    ck_assert(is_true(lb_json_get(r, "Result")));
    expect_error("TestEventPattern",
                 "{\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\",\"Event\":\"[1]\"}", 400,
                 "ValidationException", "Parameter Event is not valid.");
    expect_error("TestEventPattern", "{\"EventPattern\":\"{}\"}", 400, "ValidationException", NULL);
}
END_TEST

/* Regression (B2): rule names, target Ids and other strings holding U+0000 are refused instead of
 * being read up to the U+0000. */
START_TEST(test_nul_in_rule_target_and_tag_fields)
{
    static const char rule_msg[] =
        "1 validation error detected: Value 'r\000x' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+";
    expect_error_n("PutRule", "{\"Name\":\"r\\u0000x\",\"EventPattern\":\"{}\"}",
                   "ValidationException", rule_msg, sizeof rule_msg - 1);
    expect_error("DescribeRule", "{\"Name\":\"r\"}", 400, "ResourceNotFoundException",
                 "Rule r does not exist on EventBus default.");
    ok("PutRule", "{\"Name\":\"n\",\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\"}");
    static const char id_msg[] =
        "1 validation error detected: Value 't\000' at 'targets.1.member.id' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+";
    expect_error_n("PutTargets",
                   "{\"Rule\":\"n\",\"Targets\":[{\"Id\":\"t\\u0000\",\"Arn\":"
                   "\"arn:aws:sqs:us-east-1:123456789012:q\"}]}",
                   "ValidationException", id_msg, sizeof id_msg - 1);
    static const char input_msg[] =
        "2 validation errors detected: Value 'q\000' at 'targets.1.member.arn' failed to "
        "satisfy constraint: Member must not contain U+0000; Value '\000' at "
        "'targets.1.member.input' failed to satisfy constraint: Member must not contain U+0000";
    expect_error_n("PutTargets",
                   "{\"Rule\":\"n\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"q\\u0000\","
                   "\"Input\":\"\\u0000\"}]}",
                   "ValidationException", input_msg, sizeof input_msg - 1);
    ok("PutTargets", "{\"Rule\":\"n\",\"Targets\":[{\"Id\":\"t\",\"Arn\":"
                     "\"arn:aws:sqs:us-east-1:123456789012:q\"}]}");
    static const char ids_msg[] =
        "1 validation error detected: Value '[t\000x]' at 'ids' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must satisfy regular expression pattern: "
        "[\\.\\-_A-Za-z0-9]+]";
    expect_error_n("RemoveTargets", "{\"Rule\":\"n\",\"Ids\":[\"t\\u0000x\"]}",
                   "ValidationException", ids_msg, sizeof ids_msg - 1);
    int status;
    const lb_json_t *r = call_api("ListTargetsByRule", "{\"Rule\":\"n\"}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Targets")), 1);

    const char *arn = "arn:aws:events:us-east-1:123456789012:rule/n";
    char body[512];
    static const char value_msg[] =
        "1 validation error detected: Value 'v\000' at 'tags.1.member.value' failed to satisfy "
        "constraint: Member must not contain U+0000";
    snprintf(body, sizeof body,
             "{\"ResourceARN\":\"%s\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\\u0000\"}]}", arn);
    expect_error_n("TagResource", body, "ValidationException", value_msg, sizeof value_msg - 1);
    static const char key_msg[] =
        "1 validation error detected: Value 'k\000' at 'tagKeys.1.member' failed to satisfy "
        "constraint: Member must not contain U+0000";
    snprintf(body, sizeof body, "{\"ResourceARN\":\"%s\",\"TagKeys\":[\"k\\u0000\"]}", arn);
    expect_error_n("UntagResource", body, "ValidationException", key_msg, sizeof key_msg - 1);
}
END_TEST

/* Regression (B9): PutTargets accepted an Arn that is no ARN ("lambda:Portfolio"), two targets
 * with one Id in a request, and a FIFO queue target without SqsParameters; AWS refuses all
 * three, and nothing of a refused request is kept. */
START_TEST(test_put_targets_arn_fifo_and_repeated_id)
{
    int status;
    ok("PutRule", "{\"Name\":\"v\",\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\"}");
    expect_error("PutTargets",
                 "{\"Rule\":\"v\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"lambda:Portfolio\"}]}", 400,
                 "ValidationException",
                 "Parameter lambda:Portfolio is not valid. Reason: Provided Arn is not in "
                 "correct format.");
    expect_error("PutTargets",
                 "{\"Rule\":\"v\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:sqs\"}]}", 400,
                 "ValidationException",
                 "Parameter arn:aws:sqs is not valid. Reason: Provided Arn is not in correct "
                 "format.");
    expect_error("PutTargets",
                 "{\"Rule\":\"v\",\"Targets\":[{\"Id\":\"fifo\",\"Arn\":"
                 "\"arn:aws:sqs:us-east-1:123456789012:q.fifo\"}]}",
                 400, "ValidationException",
                 "Parameter(s) SqsParameters must be specified for target: fifo.");
    expect_error("PutTargets",
                 "{\"Rule\":\"v\",\"Targets\":[{\"Id\":\"b\",\"Arn\":"
                 "\"arn:aws:sqs:us-east-1:123456789012:q\"},{\"Id\":\"b\",\"Arn\":"
                 "\"arn:aws:sqs:us-east-1:123456789012:r\"}]}",
                 400, "ValidationException",
                 "Parameter Targets is not valid. Reason: the target Id b is given more than "
                 "once; each target of a request needs an Id of its own.");
    ok("PutTargets",
       "{\"Rule\":\"v\",\"Targets\":[{\"Id\":\"fifo\",\"Arn\":"
       "\"arn:aws:sqs:us-east-1:123456789012:q.fifo\",\"SqsParameters\":"
       "{\"MessageGroupId\":\"g\"}},{\"Id\":\"s3\",\"Arn\":\"arn:aws:s3:::bucket\"}]}");
    const lb_json_t *r = call_api("ListTargetsByRule", "{\"Rule\":\"v\"}", &status);
    const lb_json_t *targets = lb_json_get(r, "Targets");
    ck_assert_uint_eq(count(targets), 2);
    ck_assert_str_eq(str(lb_json_at(targets, 0), "Id"), "fifo");
    ck_assert_str_eq(str(lb_json_at(targets, 1), "Id"), "s3");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_rules");
    TCase *tc = tcase_create("ops_rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rule_lifecycle);
    tcase_add_test(tc, test_targets);
    tcase_add_test(tc, test_tags);
    tcase_add_test(tc, test_test_event_pattern);
    tcase_add_test(tc, test_nul_in_rule_target_and_tag_fields);
    tcase_add_test(tc, test_put_targets_arn_fifo_and_repeated_id);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

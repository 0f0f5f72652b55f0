/* proto/ archive and replay operations through lb_api_handle(). Messages are AWS's where
 * recorded (tests/conformance/archive-and-replay.snapshot.json, from LocalStack's
 * test_archive_and_replay.py run against AWS); the others are LocalBridge's and say so in the
 * README. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_harness.h"

#define BUS_ARN "arn:aws:events:us-east-1:123456789012:event-bus/"
#define ARCHIVE_ARN "arn:aws:events:us-east-1:123456789012:archive/"
/* The harness's "now" (2023-11-14T22:13:20Z) is 1700000000 s: a window that ended before it. */
#define WINDOW "\"EventStartTime\":1699990000,\"EventEndTime\":1699999000"

static const lb_json_t *ok(const char *op, const char *body)
{
    int status;
    const lb_json_t *r = call_api(op, body, &status);
    char *text = lb_json_print(r, NULL);
    ck_assert_msg(status == 200, "%s: %d %s", op, status, text);
    free(text);
    return r;
}

static int64_t num(const lb_json_t *o, const char *k)
{
    const lb_json_t *n = lb_json_get(o, k);
    ck_assert_msg(is_number(n), "%s is not a number", k);
    return (int64_t)n->num;
}

START_TEST(archive_lifecycle)
{
    ok("CreateEventBus", "{\"Name\":\"orders\"}");
    const lb_json_t *r = ok(
        "CreateArchive", "{\"ArchiveName\":\"a1\",\"EventSourceArn\":\"" BUS_ARN "orders\","
                         "\"Description\":\"d\",\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\","
                         "\"RetentionDays\":1}");
    ck_assert_str_eq(str(r, "ArchiveArn"), ARCHIVE_ARN "a1");
    ck_assert_str_eq(str(r, "State"), "ENABLED");
    ck_assert_int_eq(num(r, "CreationTime"), 1700000000);
    ck_assert_uint_eq(count(r), 3);
    r = ok("DescribeArchive", "{\"ArchiveName\":\"a1\"}");
    ck_assert_str_eq(str(r, "ArchiveName"), "a1");
    ck_assert_str_eq(str(r, "EventSourceArn"), BUS_ARN "orders");
    ck_assert_str_eq(str(r, "Description"), "d");
    ck_assert_str_eq(str(r, "EventPattern"), "{\"source\":[\"s\"]}");
    ck_assert_int_eq(num(r, "RetentionDays"), 1);
    ck_assert_int_eq(num(r, "SizeBytes"), 0);
    ck_assert_int_eq(num(r, "EventCount"), 0);
    ck_assert_uint_eq(count(r), 10);
    /* No pattern and the default bus (by its ARN). */
    ok("CreateArchive", "{\"ArchiveName\":\"a2\",\"EventSourceArn\":\"" BUS_ARN "default\"}");
    r = ok("DescribeArchive", "{\"ArchiveName\":\"a2\"}");
    ck_assert_ptr_null(lb_json_get(r, "EventPattern"));
    ck_assert_int_eq(num(r, "RetentionDays"), 0);
    r = ok("UpdateArchive", "{\"ArchiveName\":\"a1\",\"RetentionDays\":2,"
                            "\"EventPattern\":\"{\\\"source\\\":[\\\"t\\\"]}\"}");
    ck_assert_str_eq(str(r, "ArchiveArn"), ARCHIVE_ARN "a1");
    ck_assert_str_eq(str(r, "State"), "ENABLED");
    r = ok("DescribeArchive", "{\"ArchiveName\":\"a1\"}");
    ck_assert_int_eq(num(r, "RetentionDays"), 2);
    ck_assert_str_eq(str(r, "Description"), "d"); /* left out: kept */
    ck_assert_str_eq(str(r, "EventPattern"), "{\"source\":[\"t\"]}");
    /* A bus with an archive cannot go: in AWS the archive is one of its rules. */
    expect_error("DeleteEventBus", "{\"Name\":\"orders\"}", 400, "ValidationException",
                 "EventBus can't be deleted since it has rules.");
    r = ok("DeleteArchive", "{\"ArchiveName\":\"a1\"}");
    ck_assert_uint_eq(count(r), 0);
    expect_error("DescribeArchive", "{\"ArchiveName\":\"a1\"}", 400, "ResourceNotFoundException",
                 "Archive a1 does not exist.");
    ok("DeleteEventBus", "{\"Name\":\"orders\"}");
}
END_TEST

START_TEST(archive_errors)
{
    ok("CreateArchive", "{\"ArchiveName\":\"dup\",\"EventSourceArn\":\"" BUS_ARN "default\"}");
    expect_error("CreateArchive",
                 "{\"ArchiveName\":\"dup\",\"EventSourceArn\":\"" BUS_ARN "default\"}", 400,
                 "ResourceAlreadyExistsException", "Archive dup already exists.");
    expect_error("CreateArchive",
                 "{\"ArchiveName\":\"x\",\"EventSourceArn\":"
                 "\"arn:aws:events:us-east-1:123456789012:event-bus/doesnotexist\"}",
                 400, "ResourceNotFoundException", "Event bus doesnotexist does not exist.");
    expect_error("CreateArchive",
                 "{\"ArchiveName\":\"x\",\"EventSourceArn\":\"" BUS_ARN "default\","
                 "\"EventPattern\":\"{\\\"source\\\":[]}\"}",
                 400, "InvalidEventPatternException",
                 "Event pattern is not valid. Reason: Empty arrays are not allowed");
    expect_error("CreateArchive",
                 "{\"ArchiveName\":\"bad name\",\"EventSourceArn\":\"orders\","
                 "\"RetentionDays\":-1}",
                 400, "ValidationException",
                 "3 validation errors detected: Value 'bad name' at 'archiveName' failed to "
                 "satisfy constraint: Member must satisfy regular expression pattern: "
                 "[\\.\\-_A-Za-z0-9]+; Value 'orders' at 'eventSourceArn' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:.+\\/.+$; Value '-1' "
                 "at 'retentionDays' failed to satisfy constraint: Member must have value greater "
                 "than or equal to 0");
    expect_error("CreateArchive", "{}", 400, "ValidationException",
                 "2 validation errors detected: Value null at 'archiveName' failed to satisfy "
                 "constraint: Member must not be null; Value null at 'eventSourceArn' failed to "
                 "satisfy constraint: Member must not be null");
    expect_error("CreateArchive", "{\"ArchiveName\":1}", 400, "SerializationException", NULL);
    /* U+0000 is outside the name pattern: "a\u0000b" is not the archive "a". */
    static const char nul_msg[] = "1 validation error detected: Value 'a\0b' at 'archiveName' "
                                  "failed to satisfy constraint: Member must satisfy regular "
                                  "expression pattern: [\\.\\-_A-Za-z0-9]+";
    expect_error_n("DescribeArchive", "{\"ArchiveName\":\"a\\u0000b\"}", "ValidationException",
                   nul_msg, sizeof nul_msg - 1);
    /* Recorded: the "at least one" check comes before the archive is looked up. */
    expect_error("UpdateArchive", "{\"ArchiveName\":\"doesnotexist\"}", 400, "ValidationException",
                 "At least one of EventPattern, RetentionDays or Description must be provided.");
    expect_error("UpdateArchive", "{\"ArchiveName\":\"doesnotexist\",\"Description\":\"x\"}", 400,
                 "ResourceNotFoundException", "Archive doesnotexist does not exist.");
    expect_error("UpdateArchive", "{\"ArchiveName\":\"dup\",\"EventPattern\":\"{\\\"a\\\":1}\"}",
                 400, "InvalidEventPatternException", NULL);
    expect_error("DeleteArchive", "{\"ArchiveName\":\"doesnotexist\"}", 400,
                 "ResourceNotFoundException", "Archive doesnotexist does not exist.");
    expect_error("ListArchives", "{\"EventSourceArn\":\"" BUS_ARN "doesnotexist\"}", 400,
                 "ResourceNotFoundException", "Event bus doesnotexist does not exist.");
    expect_error("ListArchives", "{\"NamePrefix\":\"a\",\"State\":\"ENABLED\"}", 400,
                 "ValidationException",
                 "At most one filter is allowed for ListArchives. Use either : State, "
                 "EventSourceArn, or NamePrefix.");
    expect_error("ListArchives", "{\"State\":\"ENABLE\"}", 400, "ValidationException",
                 "1 validation error detected: Value 'ENABLE' at 'state' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [ENABLED, DISABLED, CREATING, "
                 "UPDATING, CREATE_FAILED, UPDATE_FAILED]");
}
END_TEST

START_TEST(archive_listing_pages_and_filters)
{
    int status;
    ok("CreateEventBus", "{\"Name\":\"b\"}");
    const char *names[] = {"p-3", "p-1", "q-1", "p-2"};
    for (int i = 0; i < 4; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"ArchiveName\":\"%s\",\"EventSourceArn\":\"" BUS_ARN "%s\"}",
                 names[i], i == 2 ? "b" : "default");
        ok("CreateArchive", body);
    }
    const lb_json_t *r = call_api("ListArchives", "{\"NamePrefix\":\"p-\",\"Limit\":2}", &status);
    const lb_json_t *list = lb_json_get(r, "Archives");
    ck_assert_uint_eq(count(list), 2);
    ck_assert_str_eq(str(lb_json_at(list, 0), "ArchiveName"), "p-1");
    ck_assert_str_eq(str(lb_json_at(list, 1), "ArchiveName"), "p-2");
    ck_assert_uint_eq(count(lb_json_at(list, 0)), 7);
    char body[256];
    snprintf(body, sizeof body, "{\"NamePrefix\":\"p-\",\"Limit\":2,\"NextToken\":\"%s\"}",
             str(r, "NextToken"));
    r = call_api("ListArchives", body, &status);
    list = lb_json_get(r, "Archives");
    ck_assert_uint_eq(count(list), 1);
    ck_assert_str_eq(str(lb_json_at(list, 0), "ArchiveName"), "p-3");
    ck_assert_ptr_null(lb_json_get(r, "NextToken"));
    r = call_api("ListArchives", "{\"EventSourceArn\":\"" BUS_ARN "b\"}", &status);
    list = lb_json_get(r, "Archives");
    ck_assert_uint_eq(count(list), 1);
    ck_assert_str_eq(str(lb_json_at(list, 0), "EventSourceArn"), BUS_ARN "b");
    r = call_api("ListArchives", "{\"State\":\"ENABLED\",\"Limit\":3}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Archives")), 3);
    ck_assert_ptr_nonnull(lb_json_get(r, "NextToken"));
    r = call_api("ListArchives", "{\"State\":\"DISABLED\"}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Archives")), 0);
    r = call_api("ListArchives", "{\"NamePrefix\":\"doesnotexist\"}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Archives")), 0);
}
END_TEST

static void start(const char *name, const char *archive, const char *bus, const char *extra)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"ReplayName\":\"%s\",\"EventSourceArn\":\"" ARCHIVE_ARN "%s\"," WINDOW
             ",\"Destination\":{\"Arn\":\"" BUS_ARN "%s\"%s}}",
             name, archive, bus, extra ? extra : "");
    const lb_json_t *r = ok("StartReplay", body);
    char arn[256];
    snprintf(arn, sizeof arn, "arn:aws:events:us-east-1:123456789012:replay/%s", name);
    ck_assert_str_eq(str(r, "ReplayArn"), arn);
    ck_assert_str_eq(str(r, "State"), "STARTING");
    ck_assert_int_eq(num(r, "ReplayStartTime"), 1700000000);
}

static void start_error(const char *body_tail, const char *type, const char *message)
{
    char body[2048];
    snprintf(body, sizeof body, "{\"ReplayName\":\"bad\",%s}", body_tail);
    expect_error("StartReplay", body, 400, type, message);
}

START_TEST(replay_lifecycle)
{
    int status;
    ok("CreateEventBus", "{\"Name\":\"b\"}");
    ok("CreateArchive", "{\"ArchiveName\":\"a\",\"EventSourceArn\":\"" BUS_ARN "b\"}");
    start("r1", "a", "b",
          ",\"FilterArns\":[\"arn:aws:events:us-east-1:123456789012:rule/b/rule-1\"]");
    const lb_json_t *r = ok("DescribeReplay", "{\"ReplayName\":\"r1\"}");
    ck_assert_str_eq(str(r, "State"), "STARTING");
    ck_assert_str_eq(str(r, "EventSourceArn"), ARCHIVE_ARN "a");
    ck_assert_str_eq(str(lb_json_get(r, "Destination"), "Arn"), BUS_ARN "b");
    ck_assert_str_eq(lb_json_at(lb_json_get(lb_json_get(r, "Destination"), "FilterArns"), 0)->str,
                     "arn:aws:events:us-east-1:123456789012:rule/b/rule-1");
    ck_assert_int_eq(num(r, "EventStartTime"), 1699990000);
    ck_assert_int_eq(num(r, "EventEndTime"), 1699999000);
    ck_assert_ptr_null(lb_json_get(r, "EventLastReplayedTime"));
    ck_assert_ptr_null(lb_json_get(r, "ReplayEndTime"));
    start("r2", "a", "b", NULL);
    r = call_api("ListReplays", "{\"NamePrefix\":\"r\",\"Limit\":1}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Replays")), 1);
    ck_assert_str_eq(str(lb_json_at(lb_json_get(r, "Replays"), 0), "ReplayName"), "r1");
    ck_assert_ptr_nonnull(lb_json_get(r, "NextToken"));
    r = call_api("ListReplays", "{\"EventSourceArn\":\"" ARCHIVE_ARN "a\"}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Replays")), 2);
    r = call_api("ListReplays", "{\"EventSourceArn\":\"" ARCHIVE_ARN "other\"}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Replays")), 0);
    r = ok("CancelReplay", "{\"ReplayName\":\"r1\"}");
    ck_assert_str_eq(str(r, "State"), "CANCELLING");
    ck_assert_str_eq(str(r, "ReplayArn"), "arn:aws:events:us-east-1:123456789012:replay/r1");
    expect_error("CancelReplay", "{\"ReplayName\":\"r1\"}", 400, "IllegalStatusException",
                 "Replay r1 is not in a valid state for this operation.");
    r = call_api("ListReplays", "{\"State\":\"CANCELLING\"}", &status);
    ck_assert_uint_eq(count(lb_json_get(r, "Replays")), 1);
    /* Deleting the archive ends its replays: the running one FAILED with a reason. */
    ok("DeleteArchive", "{\"ArchiveName\":\"a\"}");
    r = ok("DescribeReplay", "{\"ReplayName\":\"r2\"}");
    ck_assert_str_eq(str(r, "State"), "FAILED");
    ck_assert_str_eq(str(r, "StateReason"), "Archive a was deleted.");
    ck_assert_ptr_nonnull(lb_json_get(r, "ReplayEndTime"));
    r = ok("DescribeReplay", "{\"ReplayName\":\"r1\"}");
    ck_assert_str_eq(str(r, "State"), "CANCELLED");
    expect_error("DescribeReplay", "{\"ReplayName\":\"nope\"}", 400, "ResourceNotFoundException",
                 "Replay nope does not exist.");
    expect_error("CancelReplay", "{\"ReplayName\":\"nope\"}", 400, "ResourceNotFoundException",
                 "Replay nope does not exist.");
}
END_TEST

START_TEST(replay_errors)
{
    ok("CreateEventBus", "{\"Name\":\"b\"}");
    ok("CreateEventBus", "{\"Name\":\"other\"}");
    ok("CreateArchive", "{\"ArchiveName\":\"a\",\"EventSourceArn\":\"" BUS_ARN "b\"}");
    const char *dest = ",\"Destination\":{\"Arn\":\"" BUS_ARN "b\"}";
    char tail[1024];
    snprintf(tail, sizeof tail,
             "\"EventSourceArn\":\"" ARCHIVE_ARN "a\",\"EventStartTime\":1699999000,"
             "\"EventEndTime\":1699999000%s",
             dest);
    start_error(tail, "ValidationException",
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before "
                "EventEndTime.");
    snprintf(tail, sizeof tail,
             "\"EventSourceArn\":\"" ARCHIVE_ARN "a\",\"EventStartTime\":1700000100,"
             "\"EventEndTime\":1700000200%s",
             dest);
    start_error(tail, "ValidationException",
                "Parameter EventStartTime is not valid. Reason: EventStartTime must be in the "
                "past.");
    snprintf(tail, sizeof tail, "\"EventSourceArn\":\"" ARCHIVE_ARN "doesnotexist\"," WINDOW "%s",
             dest);
    start_error(tail, "ValidationException",
                "Parameter EventSourceArn is not valid. Reason: Archive doesnotexist does not "
                "exist.");
    snprintf(tail, sizeof tail,
             "\"EventSourceArn\":\"" ARCHIVE_ARN "a\"," WINDOW
             ",\"Destination\":{\"Arn\":\"" BUS_ARN "doesnotexist\"}");
    start_error(tail, "ResourceNotFoundException", "Event bus doesnotexist does not exist.");
    snprintf(tail, sizeof tail,
             "\"EventSourceArn\":\"" ARCHIVE_ARN "a\"," WINDOW
             ",\"Destination\":{\"Arn\":\"" BUS_ARN "other\"}");
    start_error(tail, "ValidationException",
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not "
                "permitted.");
    snprintf(tail, sizeof tail,
             "\"EventSourceArn\":\"" ARCHIVE_ARN "a\"," WINDOW
             ",\"Destination\":{\"Arn\":\"arn:aws:sqs:us-east-1:123456789012:q\"}");
    start_error(tail, "ValidationException",
                "Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN.");
    snprintf(tail, sizeof tail,
             "\"EventSourceArn\":\"" ARCHIVE_ARN "a\"," WINDOW
             ",\"Destination\":{\"Arn\":\"" BUS_ARN "b\",\"FilterArns\":[\"" BUS_ARN "b\"]}");
    start_error(tail, "ValidationException",
                "Parameter Destination.FilterArns is not valid. Reason: " BUS_ARN
                "b is not a rule ARN.");
    snprintf(tail, sizeof tail,
             "\"EventSourceArn\":\"" ARCHIVE_ARN "a\"," WINDOW
             ",\"Destination\":{\"Arn\":\"" BUS_ARN
             "b\",\"FilterArns\":[\"arn:aws:events:us-east-1:123456789012:rule/x\"]}");
    start_error(tail, "ValidationException",
                "Parameter Destination.FilterArns is not valid. Reason: Rule x is not on event "
                "bus b.");
    expect_error("StartReplay", "{}", 400, "ValidationException",
                 "5 validation errors detected: Value null at 'replayName' failed to satisfy "
                 "constraint: Member must not be null; Value null at 'eventSourceArn' failed to "
                 "satisfy constraint: Member must not be null; Value null at 'eventStartTime' "
                 "failed to satisfy constraint: Member must not be null; Value null at "
                 "'eventEndTime' failed to satisfy constraint: Member must not be null; Value null "
                 "at 'destination' failed to satisfy constraint: Member must not be null");
    expect_error("StartReplay", "{\"EventStartTime\":{}}", 400, "SerializationException", NULL);
    /* Ten active replays at most; the eleventh is refused with AWS's recorded message. */
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        start(name, "a", "b", NULL);
    }
    expect_error("StartReplay",
                 "{\"ReplayName\":\"r10\",\"EventSourceArn\":\"" ARCHIVE_ARN "a\"," WINDOW
                 ",\"Destination\":{\"Arn\":\"" BUS_ARN "b\"}}",
                 400, "LimitExceededException",
                 "The requested resource exceeds the maximum number allowed.");
    /* A name is taken across archives. */
    expect_error("StartReplay",
                 "{\"ReplayName\":\"r0\",\"EventSourceArn\":\"" ARCHIVE_ARN "a\"," WINDOW
                 ",\"Destination\":{\"Arn\":\"" BUS_ARN "b\"}}",
                 400, "ResourceAlreadyExistsException", "Replay r0 already exists.");
    ok("CancelReplay", "{\"ReplayName\":\"r0\"}"); /* a cancelling replay no longer counts */
    start("r10", "a", "b", NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_archive");
    TCase *tc = tcase_create("ops_archive");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, archive_lifecycle);
    tcase_add_test(tc, archive_errors);
    tcase_add_test(tc, archive_listing_pages_and_filters);
    tcase_add_test(tc, replay_lifecycle);
    tcase_add_test(tc, replay_errors);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

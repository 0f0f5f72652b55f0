/* Unit tests for lb_deploy: generated names, hashes, replacement rules, and the calls each type
 * becomes (rules' targets removed before the rule, SQS attributes as strings, SAM functions and
 * their events). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_deploy.h"
#include "lb_test.h"

static const lb_deploy_ctx_t ctx = {.stack_name = "shop",
                                    .region = "us-east-1",
                                    .account_id = "123456789012",
                                    .endpoint = "http://127.0.0.1:4010",
                                    .template_dir = "/srv/app",
                                    .lambda_runner = "/usr/bin/localbridge-lambda-python"};

typedef struct {
    lb_template_t *t;
    lb_dres_t r[8];
    size_t n;
} world_t;

/* Parses and resolves every resource of text, in order. */
static void load(world_t *w, const char *text)
{
    char *err = NULL;
    memset(w, 0, sizeof *w);
    lb_tpl_context_t tc = {
        .stack_name = ctx.stack_name, .region = ctx.region, .account_id = ctx.account_id};
    ck_assert_int_eq(lb_template_parse("t.yaml", text, strlen(text), &w->t, &err), 0);
    ck_assert_int_eq(lb_template_prepare(w->t, &tc, NULL, 0, &err), 0);
    w->n = lb_template_resource_count(w->t);
    for (size_t i = 0; i < w->n; i++) {
        int rc = lb_deploy_resolve(w->t, i, &ctx, NULL, &w->r[i], &err);
        ck_assert_msg(rc == 0, "%s", err ? err : "");
    }
}

static void unload(world_t *w)
{
    for (size_t i = 0; i < w->n; i++)
        lb_dres_clear(&w->r[i]);
    lb_template_free(&w->t);
}

static lb_dres_t *res(world_t *w, const char *id)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->r[i].logical_id, id) == 0) return &w->r[i];
    ck_abort_msg("no resource %s", id);
    return NULL;
}

/* "OP body" per call, joined by newlines. */
static char *calls_text(const lb_dcalls_t *c)
{
    lb_buf_t b = {0};
    lb_buf_puts(&b, "");
    for (size_t i = 0; i < c->n; i++)
        lb_buf_printf(&b, "%s%s %s", i ? "\n" : "", c->v[i].op, c->v[i].body ? c->v[i].body : "-");
    return lb_buf_steal(&b, NULL);
}

START_TEST(generated_names_are_stable_and_bounded)
{
    char a[128], b[128], c[128];
    world_t w;
    load(&w,
         "Resources:\n  AVeryLongLogicalIdForARuleThatGoesOnAndOnAndOnForeverAndEver:\n"
         "    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}}\n"
         "  Other:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}}\n");
    snprintf(a, sizeof a, "%s", w.r[0].physical_id);
    snprintf(c, sizeof c, "%s", w.r[1].physical_id);
    unload(&w);
    load(&w, "Resources:\n  AVeryLongLogicalIdForARuleThatGoesOnAndOnAndOnForeverAndEver:\n"
             "    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [y]}}\n");
    snprintf(b, sizeof b, "%s", w.r[0].physical_id);
    unload(&w);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(strlen(a), 64);
    ck_assert(strncmp(a, "shop-AVeryLong", 14) == 0);
    ck_assert(strncmp(c, "shop-Other-", 11) == 0);
    ck_assert_uint_eq(strlen(c), 11 + 12);
}
END_TEST

START_TEST(hash_follows_resolved_properties)
{
    world_t w;
    load(&w, "Resources:\n  B:\n    Type: AWS::Events::EventBus\n    Properties: {Name: !Sub "
             "'${AWS::Region}-x'}\n"
             "  C:\n    Type: AWS::Events::EventBus\n    Properties: {Name: us-east-1-x}\n"
             "  D:\n    Type: AWS::Events::EventBus\n    Properties: {Name: us-east-1-x, "
             "Description: d}\n");
    ck_assert_str_eq(res(&w, "B")->hash, res(&w, "C")->hash);
    ck_assert_str_ne(res(&w, "B")->hash, res(&w, "D")->hash);
    ck_assert_str_eq(res(&w, "B")->physical_id, "us-east-1-x");
    unload(&w);
}
END_TEST

START_TEST(rule_update_removes_dropped_targets_first)
{
    world_t w;
    load(&w,
         "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties:\n"
         "      Name: r\n      EventBusName: arn:aws:events:us-east-1:123456789012:event-bus/b\n"
         "      EventPattern: {source: [x]}\n"
         "      Targets: [{Id: keep, Arn: 'arn:aws:sqs:us-east-1:123456789012:q',"
         " RetryPolicy: {MaximumRetryAttempts: '2'}}]\n");
    lb_dres_t *r = res(&w, "R");
    ck_assert_str_eq(r->physical_id, "b|r");
    ck_assert_str_eq(lb_json_get_str(r->attrs, "Arn"),
                     "arn:aws:events:us-east-1:123456789012:rule/b/r");
    lb_json_doc_t *old = NULL;
    const char *old_props = "{\"Targets\":[{\"Id\":\"keep\"},{\"Id\":\"gone\"}]}";
    ck_assert_int_eq(lb_json_parse(old_props, strlen(old_props), 8, &old, NULL), 0);
    lb_dcalls_t calls = {0};
    char *err;
    ck_assert_int_eq(lb_deploy_upsert_calls(&ctx, r, lb_json_doc_root(old), NULL, &calls, &err), 0);
    char *text = calls_text(&calls);
    ck_assert_str_eq(text,
                     "RemoveTargets {\"Rule\":\"r\",\"EventBusName\":\"b\",\"Ids\":[\"gone\"]}\n"
                     "PutRule {\"Name\":\"r\",\"EventBusName\":\"b\",\"EventPattern\":"
                     "\"{\\\"source\\\":[\\\"x\\\"]}\"}\n"
                     "PutTargets {\"Rule\":\"r\",\"EventBusName\":\"b\",\"Targets\":[{\"Id\":"
                     "\"keep\",\"Arn\":\"arn:aws:sqs:us-east-1:123456789012:q\",\"RetryPolicy\":"
                     "{\"MaximumRetryAttempts\":2}}]}");
    free(text);
    lb_dcalls_free(&calls);
    lb_deploy_delete_calls(&ctx, "AWS::Events::Rule", "b|r", lb_json_doc_root(old), NULL, &calls);
    text = calls_text(&calls);
    ck_assert_str_eq(text, "RemoveTargets {\"Rule\":\"r\",\"EventBusName\":\"b\",\"Ids\":[\"keep\","
                           "\"gone\"]}\nDeleteRule {\"Name\":\"r\",\"EventBusName\":\"b\"}");
    ck_assert(calls.v[0].missing_ok && calls.v[1].missing_ok);
    free(text);
    lb_dcalls_free(&calls);
    lb_json_doc_free(&old);
    unload(&w);
}
END_TEST

START_TEST(queue_attributes_are_strings)
{
    world_t w;
    load(&w, "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
             "      QueueName: dlq\n      MessageRetentionPeriod: 1209600\n"
             "      FifoQueue: false\n      RedrivePolicy: {maxReceiveCount: 3, "
             "deadLetterTargetArn: x}\n"
             "      Tags: [{Key: team, Value: ops}]\n");
    lb_dres_t *q = res(&w, "Q");
    ck_assert_str_eq(lb_json_get_str(q->attrs, "QueueUrl"),
                     "http://127.0.0.1:4010/123456789012/dlq");
    ck_assert_str_eq(lb_json_get_str(q->attrs, "Arn"), "arn:aws:sqs:us-east-1:123456789012:dlq");
    lb_dcalls_t calls = {0};
    char *err;
    ck_assert_int_eq(lb_deploy_upsert_calls(&ctx, q, NULL, NULL, &calls, &err), 0);
    char *text = calls_text(&calls);
    ck_assert_str_eq(text,
                     "CreateQueue {\"QueueName\":\"dlq\",\"Attributes\":{"
                     "\"MessageRetentionPeriod\":\"1209600\",\"FifoQueue\":\"false\","
                     "\"RedrivePolicy\":\"{\\\"maxReceiveCount\\\":3,"
                     "\\\"deadLetterTargetArn\\\":\\\"x\\\"}\"},\"tags\":{\"team\":\"ops\"}}");
    ck_assert_int_eq(calls.v[0].kind, LB_DCALL_SQS);
    free(text);
    lb_dcalls_free(&calls);
    lb_deploy_delete_calls(&ctx, "AWS::SQS::Queue", "dlq", q->props, q->attrs, &calls);
    text = calls_text(&calls);
    ck_assert_str_eq(text, "DeleteQueue {\"QueueUrl\":\"http://127.0.0.1:4010/123456789012/dlq\"}");
    free(text);
    lb_dcalls_free(&calls);
    unload(&w);
}
END_TEST

START_TEST(sam_function_and_its_events)
{
    world_t w;
    load(&w,
         "Globals:\n  Function:\n    Runtime: python3.12\n    Timeout: 20\n"
         "    Environment: {Variables: {A: global, B: global}}\n"
         "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
         "      CodeUri: src/\n      Handler: app.handler\n"
         "      Environment: {Variables: {B: mine}}\n"
         "      EventInvokeConfig: {MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60,"
         " DestinationConfig: {OnFailure: {Type: SQS, Destination: 'arn:aws:sqs:us-east-1:1:q'}}}\n"
         "      Events:\n        Sig:\n          Type: EventBridgeRule\n"
         "          Properties: {EventBusName: bus, Pattern: {source: [s]},"
         " RetryPolicy: {MaximumRetryAttempts: 3}}\n"
         "        Tick:\n          Type: Schedule\n"
         "          Properties: {Schedule: rate(1 hour), Enabled: false, Name: tick}\n"
         "        Api:\n          Type: Api\n          Properties: {Path: /, Method: get}\n");
    lb_dres_t *f = res(&w, "Fn");
    ck_assert(strncmp(f->physical_id, "shop-Fn-", 8) == 0);
    lb_dcalls_t calls = {0};
    char *err;
    ck_assert_int_eq(lb_deploy_upsert_calls(&ctx, f, NULL, NULL, &calls, &err), 0);
    ck_assert_uint_eq(calls.n, 5); /* the function, then PutRule + PutTargets per rule event */
    ck_assert_int_eq(calls.v[0].kind, LB_DCALL_PUT);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"command\":[\"/usr/bin/localbridge-lambda-python\",\"--code-dir\",\"/srv/app/src\","
             "\"app.handler\"],\"timeout\":20,\"environment\":{\"B\":\"mine\",\"A\":\"global\"},"
             "\"maximum_retry_attempts\":0,\"maximum_event_age_seconds\":60,"
             "\"on_failure_arn\":\"arn:aws:sqs:us-east-1:1:q\"}");
    ck_assert_str_eq(calls.v[0].body, want);
    snprintf(want, sizeof want, "/_localbridge/functions/%s", f->physical_id);
    ck_assert_str_eq(calls.v[0].op, want);
    ck_assert_str_eq(calls.v[1].op, "PutRule");
    ck_assert(strstr(calls.v[1].body, "\"Name\":\"shop-FnSig-") != NULL);
    ck_assert(strstr(calls.v[1].body, "\"EventBusName\":\"bus\"") != NULL);
    ck_assert(strstr(calls.v[2].body, "\"Id\":\"FnSigLambdaTarget\"") != NULL);
    ck_assert(strstr(calls.v[2].body, "\"RetryPolicy\":{\"MaximumRetryAttempts\":3}") != NULL);
    ck_assert_str_eq(calls.v[3].body,
                     "{\"Name\":\"tick\",\"EventBusName\":\"default\","
                     "\"ScheduleExpression\":\"rate(1 hour)\",\"State\":\"DISABLED\"}");
    lb_dcalls_free(&calls);
    /* Deleting: each event rule (targets first), then the function. */
    lb_deploy_delete_calls(&ctx, f->type, f->physical_id, f->props, f->attrs, &calls);
    ck_assert_uint_eq(calls.n, 5);
    ck_assert_str_eq(calls.v[0].op, "RemoveTargets");
    ck_assert_str_eq(calls.v[1].op, "DeleteRule");
    ck_assert_int_eq(calls.v[4].kind, LB_DCALL_DELETE);
    lb_dcalls_free(&calls);
    unload(&w);
}
END_TEST

START_TEST(non_python_function_is_an_error)
{
    world_t w;
    load(&w, "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
             "      CodeUri: src/\n      Handler: index.handler\n      Runtime: nodejs20.x\n");
    lb_dcalls_t calls = {0};
    char *err = NULL;
    ck_assert_int_eq(lb_deploy_upsert_calls(&ctx, &w.r[0], NULL, NULL, &calls, &err), -EINVAL);
    ck_assert_str_eq(err, "local functions need Runtime python3.* and Handler module.function");
    free(err);
    lb_dcalls_free(&calls);
    unload(&w);
}
END_TEST

START_TEST(replacement_rules)
{
    world_t w;
    load(&w, "Resources:\n  A:\n    Type: AWS::Events::Archive\n    Properties:\n"
             "      ArchiveName: a\n      SourceArn: arn:aws:events:us-east-1:1:event-bus/x\n"
             "  S:\n    Type: AWS::IAM::Role\n    Properties: {}\n");
    lb_json_doc_t *old = NULL;
    const char *same =
        "{\"ArchiveName\":\"a\",\"SourceArn\":\"arn:aws:events:us-east-1:1:event-bus/x\"}";
    const char *moved =
        "{\"ArchiveName\":\"a\",\"SourceArn\":\"arn:aws:events:us-east-1:1:event-bus/y\"}";
    lb_dres_t *a = res(&w, "A");
    lb_json_parse(same, strlen(same), 8, &old, NULL);
    ck_assert_int_eq(lb_deploy_needs_replace(a, "AWS::Events::Archive", "a", lb_json_doc_root(old)),
                     0);
    ck_assert_int_eq(lb_deploy_needs_replace(a, "AWS::Events::Archive", "b", lb_json_doc_root(old)),
                     1);
    lb_json_doc_free(&old);
    lb_json_parse(moved, strlen(moved), 8, &old, NULL);
    ck_assert_int_eq(lb_deploy_needs_replace(a, "AWS::Events::Archive", "a", lb_json_doc_root(old)),
                     1);
    lb_json_doc_free(&old);
    lb_dres_t *s = res(&w, "S");
    ck_assert(s->skipped);
    ck_assert(strncmp(lb_json_get_str(s->attrs, "Arn"), "arn:aws:iam::123456789012:role/shop-S-",
                      38) == 0);
    ck_assert(!lb_deploy_supported("AWS::IAM::Role"));
    ck_assert(lb_deploy_supported("AWS::Events::Connection"));
    unload(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("deploy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, generated_names_are_stable_and_bounded);
    tcase_add_test(tc, hash_follows_resolved_properties);
    tcase_add_test(tc, rule_update_removes_dropped_targets_first);
    tcase_add_test(tc, queue_attributes_are_strings);
    tcase_add_test(tc, sam_function_and_its_events);
    tcase_add_test(tc, non_python_function_is_an_error);
    tcase_add_test(tc, replacement_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return lb_test_run(suite());
}

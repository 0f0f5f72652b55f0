/* Unit tests for proto/admin (ListEvents, ListDeadLetters, RedriveDeadLetters, FireScheduledRule):
 * validation in
 * AWS's shape, paging by count and by bytes with NextToken, and deferral of store work (reads
 * through lb_call_defer_read, the redrive through lb_call_defer). Includes B4: {"Ids":[1e400]}
 * was a float-to-integer conversion out of range; every Id must be an integer from 1. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lb_test.h"
#include "lb_admin.h"
#include "lb_api.h"
#include "lb_delivery.h"
#include "lb_json.h"
#include "lb_rules.h"

static lb_engine_t *engine;
static lb_api_t *api;
static lb_store_t *store;

static void setup(void)
{
    lb_test_db_setup_named("admin");
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &store), 0);
    lb_engine_new(&engine);
    lb_api_new(engine, &api);
}

static void teardown(void)
{
    lb_api_free(&api);
    lb_engine_free(&engine);
    lb_store_close(&store);
    lb_test_db_remove();
}

typedef struct {
    int status;
    int deferred_read, deferred_write;
    lb_json_doc_t *doc;
    const lb_json_t *body;
} result_t;

static void result_free(result_t *r)
{
    lb_json_doc_free(&r->doc);
}

/* Runs the call's deferred work as the daemon would, then completes it. */
static result_t finish_call(lb_call_t *call)
{
    result_t r = {0};
    if (call->read) {
        r.deferred_read = 1;
        lb_call_complete(call, call->read(store, call->arg));
    } else if (call->txn) {
        r.deferred_write = 1;
        ck_assert_int_eq(lb_store_begin(store), 0);
        int rc = call->txn(store, call->arg);
        if (rc == 0)
            ck_assert_int_eq(lb_store_commit(store), 0);
        else
            lb_store_rollback(store);
        lb_call_complete(call, rc);
    }
    r.status = call->status;
    char *why = NULL;
    ck_assert_msg(lb_json_parse(call->body.data, call->body.len, 64, &r.doc, &why) == 0,
                  "response is not JSON (%s): %.200s", why, call->body.data);
    r.body = lb_json_doc_root(r.doc);
    lb_call_clear(call);
    return r;
}

static void init_call(lb_call_t *call)
{
    memset(call, 0, sizeof *call);
    snprintf(call->region, sizeof call->region, "us-east-1");
    call->account_id = "123456789012";
    call->now_ms = 1700000000000;
}

static result_t admin_body(const char *op, const char *body)
{
    lb_call_t call;
    init_call(&call);
    lb_api_handle_admin_body(api, &call, op, body, strlen(body));
    return finish_call(&call);
}

/* A GET's query as the daemon passes it: every value a string. pairs: key, value, ..., NULL. */
static result_t admin_query(const char *op, const char *const *pairs)
{
    lb_call_t call;
    init_call(&call);
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *obj = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_doc_set_root(doc, obj);
    for (size_t i = 0; pairs && pairs[i]; i += 2)
        lb_json_add(doc, obj, pairs[i], lb_json_new_str(doc, pairs[i + 1]));
    lb_api_handle_admin(api, &call, op, obj);
    lb_json_doc_free(&doc);
    return finish_call(&call);
}

static void expect_json(const lb_json_t *v, const char *text)
{
    char *got = lb_json_print(v, NULL);
    ck_assert_str_eq(got, text);
    free(got);
}

static void expect_validation(result_t r, const char *message_part)
{
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(lb_json_get_str(r.body, "__type"), "ValidationException");
    const char *msg = lb_json_get_str(r.body, "message");
    ck_assert_msg(strstr(msg, message_part), "message [%s] lacks [%s]", msg, message_part);
    ck_assert_int_eq(r.deferred_read + r.deferred_write, 0);
    result_free(&r);
}

START_TEST(test_redrive_ids_must_be_integers_in_range)
{
    static const char *const bodies[] = {
        "{\"Ids\":[1e400]}", "{\"Ids\":[-1e400]}", "{\"Ids\":[2.5]}",
        "{\"Ids\":[1e3]}",   "{\"Ids\":[\"3\"]}",  "{\"Ids\":[0]}",
        "{\"Ids\":[-7]}",    "{\"Ids\":[null]}",   "{\"Ids\":[9223372036854775808]}",
        "{\"Ids\":[1,{}]}",  "{\"Ids\":[true]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
        expect_validation(admin_body("RedriveDeadLetters", bodies[i]), "must be a dead-letter Id");
    expect_validation(admin_body("RedriveDeadLetters", "{\"Ids\":[1e400]}"),
                      "Ids[0] must be a dead-letter Id, an integer from 1 to 9223372036854775807; "
                      "got 1e400.");
    expect_validation(admin_body("RedriveDeadLetters", "{\"Ids\":[5, 1e400]}"), "Ids[1]");
    expect_validation(admin_body("RedriveDeadLetters", "{\"Ids\":\"x\"}"),
                      "Ids must be a list of dead-letter Ids.");
    expect_validation(admin_body("RedriveDeadLetters", "{\"RuleName\":5}"),
                      "RuleName must be a string.");
    expect_validation(admin_body("RedriveDeadLetters", "{\"Region\":\"EU WEST\"}"), "Region");
}
END_TEST

START_TEST(test_redrive_valid_ids_defer_a_write)
{
    result_t r = admin_body("RedriveDeadLetters", "{\"Ids\":[9223372036854775807, 3]}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.deferred_write, 1);
    expect_json(r.body, "{\"Redriven\":0}");
    result_free(&r);
    r = admin_body("RedriveDeadLetters", "{\"Ids\":[]}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.deferred_write, 0);
    result_free(&r);
    r = admin_body("RedriveDeadLetters", "");
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.deferred_write, 1);
    result_free(&r);
    r = admin_body("RedriveDeadLetters", "{\"Ids\":[1,");
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(lb_json_get_str(r.body, "__type"), "SerializationException");
    result_free(&r);
}
END_TEST

static void put_event(int n, size_t envelope_size)
{
    char id[37];
    snprintf(id, sizeof id, "ev-%d", n);
    char *env = malloc(envelope_size + 1);
    int head = snprintf(env, envelope_size + 1, "{\"id\":\"%s\",\"pad\":\"", id);
    memset(env + head, 'x', envelope_size - (size_t)head - 2);
    memcpy(env + envelope_size - 2, "\"}", 3);
    lb_event_record_t ev = {.id = id,
                            .region = "us-east-1",
                            .bus = "default",
                            .ingested_ms = n,
                            .envelope = env,
                            .envelope_len = envelope_size};
    ck_assert_int_eq(lb_store_event_insert(store, &ev), 0);
    free(env);
}

static const char *event_id_at(const result_t *r, size_t i)
{
    return lb_json_get_str(lb_json_at(lb_json_get(r->body, "Events"), i), "id");
}

START_TEST(test_list_events_pages_by_count)
{
    for (int i = 1; i <= 5; i++)
        put_event(i, 64);
    const char *q1[] = {"Limit", "2", NULL};
    result_t r = admin_query("ListEvents", q1);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.deferred_read, 1);
    ck_assert_uint_eq(lb_json_get(r.body, "Events")->n_children, 2);
    ck_assert_str_eq(event_id_at(&r, 0), "ev-5");
    char token[64];
    snprintf(token, sizeof token, "%s", lb_json_get_str(r.body, "NextToken"));
    result_free(&r);
    const char *q2[] = {"Limit", "3", "NextToken", token, NULL};
    r = admin_query("ListEvents", q2);
    ck_assert_uint_eq(lb_json_get(r.body, "Events")->n_children, 3);
    ck_assert_str_eq(event_id_at(&r, 0), "ev-3");
    ck_assert_str_eq(event_id_at(&r, 2), "ev-1");
    ck_assert_ptr_null(lb_json_get(r.body, "NextToken")); /* exactly 3 were left */
    result_free(&r);
    r = admin_body("ListEvents", "{\"Limit\":100,\"EventBusName\":\"other\"}");
    ck_assert_uint_eq(lb_json_get(r.body, "Events")->n_children, 0);
    result_free(&r);
}
END_TEST

START_TEST(test_list_events_pages_by_bytes)
{
    /* Five 1 MiB events: a page stops once it holds LB_ADMIN_PAGE_BYTES (4 MiB), whatever the
     * Limit, so one listing never holds the whole table. */
    for (int i = 1; i <= 5; i++)
        put_event(i, 1u << 20);
    const char *q[] = {"Limit", "1000000", NULL};
    result_t r = admin_query("ListEvents", q);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(lb_json_get(r.body, "Events")->n_children, 4);
    const char *token = lb_json_get_str(r.body, "NextToken");
    ck_assert_ptr_nonnull(token);
    char next[64];
    snprintf(next, sizeof next, "%s", token);
    result_free(&r);
    const char *q2[] = {"Limit", "1000000", "NextToken", next, NULL};
    r = admin_query("ListEvents", q2);
    ck_assert_uint_eq(lb_json_get(r.body, "Events")->n_children, 1);
    ck_assert_str_eq(event_id_at(&r, 0), "ev-1");
    ck_assert_ptr_null(lb_json_get(r.body, "NextToken"));
    result_free(&r);
}
END_TEST

START_TEST(test_list_validation)
{
    static const char *const bad_limits[] = {"0",   "-1", "abc", "1000001",
                                             "1.5", "",   "1e3", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad_limits / sizeof *bad_limits; i++) {
        const char *q[] = {"Limit", bad_limits[i], NULL};
        expect_validation(admin_query("ListEvents", q),
                          "Limit must be an integer from 1 to 1000000");
        expect_validation(admin_query("ListDeadLetters", q), "Limit must be");
    }
    expect_validation(admin_body("ListEvents", "{\"Limit\":2.0}"), "got 2.0.");
    expect_validation(admin_body("ListEvents", "{\"Limit\":true}"), "Limit must be");
    static const char *const bad_tokens[] = {"x", "e.", "e.abc", "d.1", "e.1.2", "e.-1", "d.1.x"};
    for (size_t i = 0; i < sizeof bad_tokens / sizeof *bad_tokens; i++) {
        const char *q[] = {"NextToken", bad_tokens[i], NULL};
        expect_validation(admin_query(i == 3 ? "ListEvents" : "ListDeadLetters", q),
                          "is not one this endpoint returned");
    }
    expect_validation(admin_body("ListDeadLetters", "{\"EventBusName\":[]}"),
                      "EventBusName must be a string.");
    result_t r = admin_body("ListEvents", "[1]");
    ck_assert_str_eq(lb_json_get_str(r.body, "__type"), "SerializationException");
    result_free(&r);
    r = admin_body("NoSuchAdminOp", "{}");
    ck_assert_str_eq(lb_json_get_str(r.body, "__type"), "UnknownOperationException");
    result_free(&r);
}
END_TEST

static void kill_delivery(const char *event_id, int64_t dead_ms)
{
    lb_delivery_t *d = lb_delivery_new(event_id, "us-east-1", "default", "r", "t",
                                       "arn:aws:sqs:us-east-1:1:q", "{}", NULL);
    lb_text_t *body = lb_text_new("{\"a\":1}", 7);
    lb_delivery_set_body(d, body);
    lb_text_unref(&body);
    d->max_retries = 185;
    d->max_age_s = 86400;
    ck_assert_int_eq(lb_delivery_insert(store, d), 0);
    ck_assert_int_eq(lb_delivery_kill(store, d->seq, 3, "TARGET_SERVER_ERROR", "HTTP 500 \"x\"",
                                      "MaximumRetryAttempts", dead_ms),
                     0);
    lb_delivery_free(&d);
}

START_TEST(test_dead_letters_page_and_redrive)
{
    /* Two share a dead_ms: the cursor must order by (dead_ms, Id). */
    kill_delivery("a", 100);
    kill_delivery("b", 200);
    kill_delivery("c", 200);
    const char *q[] = {"Limit", "2", NULL};
    result_t r = admin_query("ListDeadLetters", q);
    ck_assert_int_eq(r.status, 200);
    const lb_json_t *list = lb_json_get(r.body, "DeadLetters");
    ck_assert_uint_eq(list->n_children, 2);
    ck_assert_str_eq(lb_json_get_str(lb_json_at(list, 0), "EventId"), "c");
    ck_assert_str_eq(lb_json_get_str(lb_json_at(list, 1), "EventId"), "b");
    ck_assert_str_eq(lb_json_get_str(lb_json_at(list, 0), "ERROR_MESSAGE"), "HTTP 500 \"x\"");
    char token[64];
    snprintf(token, sizeof token, "%s", lb_json_get_str(r.body, "NextToken"));
    result_free(&r);
    const char *q2[] = {"Limit", "2", "NextToken", token, NULL};
    r = admin_query("ListDeadLetters", q2);
    list = lb_json_get(r.body, "DeadLetters");
    ck_assert_uint_eq(list->n_children, 1);
    const lb_json_t *a = lb_json_at(list, 0);
    ck_assert_str_eq(lb_json_get_str(a, "EventId"), "a");
    char body[64];
    snprintf(body, sizeof body, "{\"Ids\":[%s]}", lb_json_get(a, "Id")->str);
    result_free(&r);
    r = admin_body("RedriveDeadLetters", body);
    ck_assert_int_eq(r.status, 200);
    expect_json(r.body, "{\"Redriven\":1}");
    result_free(&r);
    r = admin_body("RedriveDeadLetters", "{\"RuleName\":\"r\"}");
    expect_json(r.body, "{\"Redriven\":2}");
    result_free(&r);
}
END_TEST

static result_t aws_call(const char *op, const char *body)
{
    lb_call_t call;
    char target[128];
    init_call(&call);
    snprintf(target, sizeof target, "AWSEvents.%s", op);
    lb_api_handle(api, &call, target, NULL, body, strlen(body));
    return finish_call(&call);
}

static int keep_envelope(const lb_event_record_t *ev, void *ctx)
{
    snprintf(ctx, 1024, "%.*s", (int)ev->envelope_len, ev->envelope);
    return 0;
}

static void expect_error(result_t r, const char *type, const char *message)
{
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(lb_json_get_str(r.body, "__type"), type);
    ck_assert_str_eq(lb_json_get_str(r.body, "message"), message);
    ck_assert_int_eq(r.deferred_write, 0);
    result_free(&r);
}

START_TEST(test_fire_scheduled_rule)
{
    lb_bus_record_t bus = {.region = "us-east-1", .name = "default"};
    ck_assert_int_eq(lb_engine_bus_put(engine, &bus), 0);
    const char *puts[] = {
        "{\"Name\":\"tick\",\"ScheduleExpression\":\"cron(0 12 * * ? *)\"}",
        "{\"Name\":\"pat\",\"EventPattern\":\"{\\\"source\\\":[\\\"a\\\"]}\"}",
        "{\"Name\":\"off\",\"ScheduleExpression\":\"rate(5 minutes)\",\"State\":\"DISABLED\"}"};
    for (size_t i = 0; i < 3; i++) {
        result_t r = aws_call("PutRule", puts[i]);
        ck_assert_int_eq(r.status, 200);
        result_free(&r);
    }
    /* now is 2023-11-14T22:13:20Z: the firing is the minute's. */
    result_t r = admin_body("FireScheduledRule", "{\"Name\":\"tick\"}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.deferred_write, 1);
    ck_assert_str_eq(lb_json_get_str(r.body, "Time"), "2023-11-14T22:13:00Z");
    const char *id = lb_json_get_str(r.body, "EventId");
    ck_assert_uint_eq(strlen(id), 36);
    char envelope[1024] = "", want[1024];
    ck_assert_int_eq(
        lb_store_events_each(store, "us-east-1", "default", 10, keep_envelope, envelope), 0);
    snprintf(want, sizeof want,
             "{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":\"Scheduled Event\","
             "\"source\":\"aws.events\",\"account\":\"123456789012\",\"time\":"
             "\"2023-11-14T22:13:00Z\",\"region\":\"us-east-1\",\"resources\":[\"arn:aws:"
             "events:us-east-1:123456789012:rule/tick\"],\"detail\":{}}",
             id);
    ck_assert_str_eq(envelope, want);
    result_free(&r);
    /* An extra firing: the rule's own firing of this minute is still to come. */
    ck_assert_int_eq(lb_store_rule_fired(store, "us-east-1", "default", "tick", 1699999980000), 0);

    expect_error(admin_body("FireScheduledRule", "{\"Name\":\"pat\"}"), "ValidationException",
                 "Rule pat has no ScheduleExpression; only a scheduled rule can be fired.");
    expect_error(admin_body("FireScheduledRule", "{\"Name\":\"off\"}"), "ValidationException",
                 "Rule off is DISABLED; a disabled rule does not fire. Enable it first.");
    expect_error(admin_body("FireScheduledRule", "{\"Name\":\"nope\"}"),
                 "ResourceNotFoundException", "Rule nope does not exist on EventBus default.");
    expect_error(admin_body("FireScheduledRule", "{\"Name\":\"tick\",\"EventBusName\":\"x\"}"),
                 "ResourceNotFoundException", "Event bus x does not exist.");
    expect_validation(admin_body("FireScheduledRule", "{}"), "Member must not be null");
    expect_validation(admin_body("FireScheduledRule", "{\"Name\":\"a b\"}"),
                      "Member must satisfy regular expression pattern");
    expect_validation(admin_body("FireScheduledRule", "{\"Name\":\"tick\",\"Region\":\"EU\"}"),
                      "Region");
    /* Another region's rules are looked up there. */
    expect_error(admin_body("FireScheduledRule", "{\"Name\":\"tick\",\"Region\":\"eu-west-1\"}"),
                 "ResourceNotFoundException", "Rule tick does not exist on EventBus default.");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("admin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_redrive_ids_must_be_integers_in_range);
    tcase_add_test(tc, test_redrive_valid_ids_defer_a_write);
    tcase_add_test(tc, test_list_events_pages_by_count);
    tcase_add_test(tc, test_list_events_pages_by_bytes);
    tcase_add_test(tc, test_list_validation);
    tcase_add_test(tc, test_dead_letters_page_and_redrive);
    tcase_add_test(tc, test_fire_scheduled_rule);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* lb_rules and lb_engine: the rule registry, per-bus matching (enabled rules only), targets with
 * compiled inputs, the store round trip, scheduled rules (compiled schedule, the minute they last
 * fired, the change hook) and the migration that added them. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_engine.h"
#include "lb_rules.h"
#include "lb_util.h"

static void setup(void)
{
    lb_test_db_setup_named("rules");
}

static void teardown(void)
{
    lb_test_db_remove();
}

static void put_rule(lb_rules_t *r, const char *bus, const char *name, const char *pattern,
                     const char *state)
{
    lb_rule_t rule;
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", bus, name, pattern, NULL, state, NULL, NULL,
                                  NULL, NULL, 1, NULL),
                     0);
    ck_assert_int_eq(lb_rules_put(r, &rule), 0);
}

static size_t count_matches(lb_rules_t *r, const char *bus, const char *event_json)
{
    lb_event_t *ev;
    ck_assert_int_eq(lb_event_parse(event_json, strlen(event_json), &ev), 0);
    lb_rule_t **hits;
    size_t n;
    ck_assert_int_eq(lb_rules_match(r, "us-east-1", bus, ev, &hits, &n), 0);
    free(hits);
    lb_event_free(&ev);
    return n;
}

START_TEST(test_registry_and_matching)
{
    lb_rules_t *r;
    lb_rules_new(&r);
    const char *ev = "{\"source\":\"shop\",\"detail-type\":\"x\",\"detail\":{\"n\":5}}";
    put_rule(r, "default", "a", "{\"source\":[\"shop\"]}", NULL);
    put_rule(r, "default", "b", "{\"detail\":{\"n\":[{\"numeric\":[\">\",4]}]}}", NULL);
    put_rule(r, "default", "c", "{\"source\":[\"other\"]}", NULL);
    put_rule(r, "other", "d", "{\"source\":[\"shop\"]}", NULL);
    ck_assert_uint_eq(count_matches(r, "default", ev), 2);
    ck_assert_uint_eq(count_matches(r, "other", ev), 1);
    ck_assert_uint_eq(count_matches(r, "nobus", ev), 0);
    /* Disabling takes a rule out of matching; replacing keeps the registry sorted. */
    put_rule(r, "default", "a", "{\"source\":[\"shop\"]}", "DISABLED");
    ck_assert_uint_eq(count_matches(r, "default", ev), 1);
    ck_assert_uint_eq(lb_rules_count_on_bus(r, "us-east-1", "default"), 3);
    ck_assert_str_eq(lb_rules_at(r, lb_rules_lower_bound(r, "us-east-1", "default", ""))->name,
                     "a");
    ck_assert_int_eq(lb_rules_remove(r, "us-east-1", "default", "b"), 0);
    ck_assert_int_eq(lb_rules_remove(r, "us-east-1", "default", "b"), LB_ENOTFOUND);
    ck_assert_uint_eq(count_matches(r, "default", ev), 0);
    ck_assert_ptr_null(lb_rules_find(r, "us-east-1", "default", "b"));
    lb_rules_free(&r);
}
END_TEST

START_TEST(test_invalid_pattern_and_target)
{
    lb_rule_t rule;
    char *err = NULL;
    ck_assert_int_ne(lb_rule_init(&rule, "us-east-1", "default", "x", "{\"source\":[]}", NULL, NULL,
                                  NULL, NULL, NULL, NULL, 1, &err),
                     0);
    ck_assert_str_eq(err, "Event pattern is not valid. Reason: Empty arrays are not allowed");
    free(err);
    lb_target_t t;
    err = NULL;
    ck_assert_int_ne(lb_target_init(&t,
                                    "{\"Id\":\"t1\",\"Arn\":\"a\",\"Input\":\"{}\","
                                    "\"InputPath\":\"$.detail\"}",
                                    &err),
                     0);
    ck_assert_str_eq(err, "Only one of Input, InputPath, or InputTransformer must be provided for "
                          "target t1.");
    free(err);
    ck_assert_int_eq(lb_target_init(&t,
                                    "{\"Id\":\"t1\",\"Arn\":\"a\",\"RetryPolicy\":{"
                                    "\"MaximumRetryAttempts\":3,\"MaximumEventAgeInSeconds\":"
                                    "120},\"DeadLetterConfig\":{\"Arn\":\"dlq\"}}",
                                    NULL),
                     0);
    ck_assert_int_eq(t.max_attempts, 3);
    ck_assert_int_eq(t.max_age_s, 120);
    ck_assert_str_eq(t.dlq_arn, "dlq");
    lb_target_clear(&t);
    ck_assert_int_eq(lb_target_init(&t, "{\"Id\":\"t2\",\"Arn\":\"a\"}", NULL), 0);
    ck_assert_int_eq(t.max_attempts, LB_RETRY_MAX_ATTEMPTS_DEFAULT);
    ck_assert_int_eq(t.max_age_s, LB_RETRY_MAX_AGE_S_DEFAULT);
    ck_assert_ptr_null(t.http_params);
    lb_target_clear(&t);
    /* Out-of-range retry numbers in a stored definition are clamped, not converted blindly. */
    ck_assert_int_eq(lb_target_init(&t,
                                    "{\"Id\":\"t3\",\"Arn\":\"a\",\"RetryPolicy\":{"
                                    "\"MaximumRetryAttempts\":1e400,\"MaximumEventAgeInSeconds\":"
                                    "-1e30}}",
                                    NULL),
                     0);
    ck_assert_int_eq(t.max_attempts, 2147483647);
    ck_assert_int_eq(t.max_age_s, -2147483647 - 1);
    lb_target_clear(&t);
}
END_TEST

/* HttpParameters are compiled with the target, once, not at each delivery. */
START_TEST(test_target_http_parameters_compiled)
{
    lb_target_t t;
    ck_assert_int_eq(lb_target_init(&t,
                                    "{\"Id\":\"t\",\"Arn\":\"a\",\"HttpParameters\":{"
                                    "\"PathParameterValues\":[\"p\"]}}",
                                    NULL),
                     0);
    ck_assert_ptr_nonnull(t.http_params);
    lb_target_clear(&t);
    ck_assert_ptr_null(t.http_params);
    ck_assert_int_eq(lb_target_init(&t, "{\"Id\":\"t\",\"Arn\":\"a\",\"HttpParameters\":[]}", NULL),
                     0);
    ck_assert_ptr_null(t.http_params);
    lb_target_clear(&t);
}
END_TEST

START_TEST(test_rule_arn)
{
    char arn[256];
    lb_rule_arn("eu-west-1", "123456789012", "default", "r", arn, sizeof arn);
    ck_assert_str_eq(arn, "arn:aws:events:eu-west-1:123456789012:rule/r");
    lb_rule_arn("eu-west-1", "123456789012", "orders", "r", arn, sizeof arn);
    ck_assert_str_eq(arn, "arn:aws:events:eu-west-1:123456789012:rule/orders/r");
}
END_TEST

START_TEST(test_store_round_trip)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_rule_t rule;
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", "orders", "kept", "{\"source\":[\"a\"]}",
                                  NULL, "DISABLED", "desc", NULL, NULL,
                                  "[{\"Key\":\"k\",\"Value\":\"v\"}]", 42, NULL),
                     0);
    lb_target_t targets[2];
    ck_assert_int_eq(lb_target_init(&targets[0], "{\"Id\":\"t1\",\"Arn\":\"arn:1\"}", NULL), 0);
    ck_assert_int_eq(lb_target_init(&targets[1],
                                    "{\"Id\":\"t2\",\"Arn\":\"arn:2\",\"InputPath\":\"$.detail\"}",
                                    NULL),
                     0);
    ck_assert_int_eq(lb_store_rule_put(s, &rule), 0);
    ck_assert_int_eq(lb_store_targets_replace(s, &rule, targets, 2), 0);
    lb_engine_t *e;
    lb_engine_new(&e);
    size_t skipped = 99;
    ck_assert_int_eq(lb_engine_load(e, s, &skipped), 0);
    ck_assert_uint_eq(skipped, 0);
    lb_rule_t *got = lb_rules_find(lb_engine_rules(e), "us-east-1", "orders", "kept");
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->state, "DISABLED");
    ck_assert_str_eq(got->description, "desc");
    ck_assert_int_eq(got->created_ms, 42);
    ck_assert_uint_eq(got->n_targets, 2);
    ck_assert_str_eq(got->targets[1].id, "t2");
    ck_assert_ptr_nonnull(got->targets[1].input);
    lb_engine_free(&e);
    ck_assert_int_eq(lb_store_rule_delete(s, "us-east-1", "orders", "kept"), 0);
    ck_assert_int_eq(lb_store_rule_delete(s, "us-east-1", "orders", "kept"), LB_ENOTFOUND);
    lb_target_clear(&targets[0]);
    lb_target_clear(&targets[1]);
    lb_rule_clear(&rule);
    lb_store_close(&s);
}
END_TEST

typedef struct {
    int puts, removes;
    char last[64];
} hook_log_t;

static void on_rule(void *ctx, const lb_rule_t *rule, int removed)
{
    hook_log_t *log = ctx;
    *(removed ? &log->removes : &log->puts) += 1;
    snprintf(log->last, sizeof log->last, "%s", rule->name);
}

START_TEST(test_schedule_and_hook)
{
    lb_rules_t *r;
    lb_rules_new(&r);
    hook_log_t log = {0};
    lb_rules_set_hook(r, on_rule, &log);
    lb_rule_t rule;
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", "default", "tick", NULL, "rate(5 minutes)",
                                  NULL, NULL, NULL, NULL, NULL, 7, NULL),
                     0);
    ck_assert_ptr_nonnull(rule.sched);
    ck_assert_int_eq(lb_schedule_period_ms(rule.sched), 300000);
    ck_assert_int_eq(rule.schedule_since_ms, 7);
    ck_assert_int_eq(lb_rules_put(r, &rule), 0);
    ck_assert_int_eq(log.puts, 1);
    ck_assert_str_eq(log.last, "tick");
    /* A stored schedule this build no longer accepts keeps the rule, which never fires. */
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", "default", "old", NULL, "cron(0 1 * * * *)",
                                  NULL, NULL, NULL, NULL, NULL, 7, NULL),
                     0);
    ck_assert_ptr_null(rule.sched);
    ck_assert_int_eq(lb_rules_put(r, &rule), 0);
    ck_assert_int_eq(lb_rules_remove(r, "us-east-1", "default", "tick"), 0);
    ck_assert_int_eq(log.puts, 2);
    ck_assert_int_eq(log.removes, 1);
    ck_assert_str_eq(log.last, "tick");
    lb_rules_free(&r);
}
END_TEST

START_TEST(test_fired_minutes_are_recorded_once)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_rule_t rule;
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", "default", "tick", NULL, "rate(1 minute)",
                                  NULL, NULL, NULL, NULL, NULL, 42, NULL),
                     0);
    rule.schedule_since_ms = 600000;
    ck_assert_int_eq(lb_store_rule_put(s, &rule), 0);
    ck_assert_int_eq(lb_store_rule_fired(s, "us-east-1", "default", "tick", 660000), 0);
    ck_assert_int_eq(lb_store_rule_fired(s, "us-east-1", "default", "tick", 660000), LB_ECONFLICT);
    ck_assert_int_eq(lb_store_rule_fired(s, "us-east-1", "default", "tick", 600000), LB_ECONFLICT);
    ck_assert_int_eq(lb_store_rule_fired(s, "us-east-1", "default", "tick", 720000), 0);
    ck_assert_int_eq(lb_store_rule_fired(s, "us-east-1", "default", "gone", 720000), LB_ENOTFOUND);
    /* Putting the rule again (EnableRule, a new description) keeps the minute it last fired. */
    ck_assert_int_eq(lb_store_rule_put(s, &rule), 0);
    lb_engine_t *e;
    lb_engine_new(&e);
    size_t skipped = 0;
    ck_assert_int_eq(lb_engine_load(e, s, &skipped), 0);
    lb_rule_t *got = lb_rules_find(lb_engine_rules(e), "us-east-1", "default", "tick");
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(got->sched);
    ck_assert_int_eq(got->created_ms, 42);
    ck_assert_int_eq(got->schedule_since_ms, 600000);
    ck_assert_int_eq(got->last_fired_ms, 720000);
    /* No bus row: that region's default bus was only ever in memory (the daemon persists only
     * its configured region's). It comes back with its rule, or the schedule could not fire
     * after a restart. */
    ck_assert_ptr_nonnull(lb_engine_bus_find(e, "us-east-1", "default"));
    ck_assert_ptr_null(lb_engine_bus_find(e, "eu-west-1", "default"));
    lb_engine_free(&e);
    lb_rule_clear(&rule);
    lb_store_close(&s);
}
END_TEST

/* A database from before scheduled rules fired (schema 3): its rules count their rates from
 * their creation and have fired nothing. */
START_TEST(test_migration_from_schema_3)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_store_close(&s);
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 3), 0);
    ck_assert_int_eq(
        lb_test_schema_exec(lb_test_db,
                            "INSERT INTO rules VALUES ('us-east-1', 'default', 'old', "
                            "'{\"ScheduleExpression\":\"rate(5 minutes)\",\"State\":\"ENABLED\"}', "
                            "1234);"),
        SQLITE_OK);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    lb_rules_t *r;
    lb_rules_new(&r);
    size_t skipped = 0;
    ck_assert_int_eq(lb_rules_load(r, s, &skipped), 0);
    ck_assert_uint_eq(skipped, 0);
    lb_rule_t *got = lb_rules_find(r, "us-east-1", "default", "old");
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(got->sched);
    ck_assert_int_eq(got->schedule_since_ms, 1234);
    ck_assert_int_eq(got->last_fired_ms, 0);
    ck_assert_int_eq(lb_store_rule_fired(s, "us-east-1", "default", "old", 1234 + 300000), 0);
    lb_rules_free(&r);
    lb_store_close(&s);
}
END_TEST

/* Rules put and removed by the thousand (a long-running daemon under a test suite) keep the
 * matcher ids bounded by the live rule count: a replaced rule keeps its id, a removed one's id is
 * reused, and matching still finds exactly the live rules. */
START_TEST(test_rule_ids_stay_bounded)
{
    lb_rules_t *r;
    lb_rules_new(&r);
    const char *ev = "{\"source\":\"shop\",\"detail-type\":\"x\",\"detail\":{}}";
    put_rule(r, "default", "keep", "{\"source\":[\"shop\"]}", NULL);
    for (int i = 0; i < 1000; i++) {
        char bus[32], name[32];
        snprintf(bus, sizeof bus, "bus-%d", i);
        snprintf(name, sizeof name, "r-%d", i);
        put_rule(r, "default", "keep", "{\"source\":[\"shop\"]}", NULL);
        put_rule(r, bus, name, "{\"source\":[\"shop\"]}", NULL);
        ck_assert_uint_eq(count_matches(r, bus, ev), 1);
        ck_assert_int_eq(lb_rules_remove(r, "us-east-1", bus, name), 0);
        ck_assert_uint_eq(count_matches(r, bus, ev), 0);
    }
    ck_assert_uint_le(lb_rules_find(r, "us-east-1", "default", "keep")->uid, 2);
    put_rule(r, "default", "new", "{\"source\":[\"shop\"]}", NULL);
    ck_assert_uint_le(lb_rules_find(r, "us-east-1", "default", "new")->uid, 2);
    ck_assert_uint_eq(count_matches(r, "default", ev), 2);
    lb_rules_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registry_and_matching);
    tcase_add_test(tc, test_rule_ids_stay_bounded);
    tcase_add_test(tc, test_invalid_pattern_and_target);
    tcase_add_test(tc, test_target_http_parameters_compiled);
    tcase_add_test(tc, test_rule_arn);
    tcase_add_test(tc, test_store_round_trip);
    tcase_add_test(tc, test_schedule_and_hook);
    tcase_add_test(tc, test_fired_minutes_are_recorded_once);
    tcase_add_test(tc, test_migration_from_schema_3);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* lb_policy: the statements PutPermission builds (AWS's member order, Sids unique), removal, the
 * checks on a whole Policy document, the enforcement hook, and the bus policy's store round trip
 * (including a database migrated from the schema before policies). */
#include <check.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lb_engine.h"
#include "lb_policy.h"
#include "lb_store.h"
#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_util.h"

#define BUS "arn:aws:events:us-east-1:000000000000:event-bus/b"

static char *put(const char *policy, const char *sid, const char *principal,
                 const lb_policy_condition_t *cond)
{
    lb_policy_statement_t st = {.sid = sid,
                                .principal = principal,
                                .action = "events:PutEvents",
                                .resource = BUS,
                                .condition = cond};
    char *out;
    ck_assert_int_eq(lb_policy_put_statement(policy, &st, &out), 0);
    return out;
}

START_TEST(test_put_builds_aws_statements)
{
    char *p = put(NULL, "s1", "111111111111", NULL);
    ck_assert_str_eq(p, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"s1\",\"Effect\":"
                        "\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111111111111:root\"},"
                        "\"Action\":\"events:PutEvents\",\"Resource\":\"" BUS "\"}]}");
    lb_policy_condition_t org = {"StringEquals", "aws:PrincipalOrgID", "o-1"};
    char *q = put(p, "s2", "*", &org);
    ck_assert_ptr_nonnull(strstr(q, "{\"Sid\":\"s2\",\"Effect\":\"Allow\",\"Principal\":\"*\","
                                    "\"Action\":\"events:PutEvents\",\"Resource\":\"" BUS
                                    "\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":"
                                    "\"o-1\"}}}"));
    /* The same Sid replaces the statement where it stands. */
    char *r = put(q, "s1", "*", NULL);
    ck_assert_ptr_nonnull(strstr(r, "[{\"Sid\":\"s1\",\"Effect\":\"Allow\",\"Principal\":\"*\""));
    ck_assert_ptr_null(strstr(r, "111111111111"));
    ck_assert_int_eq(lb_policy_has_statement(r, "s2"), 1);
    ck_assert_int_eq(lb_policy_has_statement(r, "s3"), 0);
    free(p);
    free(q);
    free(r);
}
END_TEST

START_TEST(test_remove)
{
    char *p = put(NULL, "a", "111111111111", NULL), *q = put(p, "b", "*", NULL), *out;
    ck_assert_int_eq(lb_policy_remove_statement(q, "zz", &out), LB_ENOTFOUND);
    ck_assert_int_eq(lb_policy_remove_statement(NULL, "a", &out), LB_ENOTFOUND);
    ck_assert_int_eq(lb_policy_remove_statement(q, "a", &out), 0);
    ck_assert_int_eq(lb_policy_has_statement(out, "a"), 0);
    ck_assert_int_eq(lb_policy_has_statement(out, "b"), 1);
    char *last;
    ck_assert_int_eq(lb_policy_remove_statement(out, "b", &last), 0);
    ck_assert_ptr_null(last); /* no statement left: no policy */
    free(p);
    free(q);
    free(out);
}
END_TEST

static const char *check(const char *doc)
{
    static char why[256];
    char *out = NULL, *w = NULL;
    int rc = lb_policy_check_document(doc, strlen(doc), &out, &w);
    snprintf(why, sizeof why, "%s", rc ? w : "ok");
    free(out);
    free(w);
    return why;
}

START_TEST(test_check_document)
{
    ck_assert_str_eq(check("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
                           "\"events:PutEvents\",\"Resource\":\"*\"}}"),
                     "ok");
    ck_assert_str_eq(check("{nope"), "This policy contains invalid Json");
    ck_assert_str_eq(check("[]"), "This policy contains invalid Json");
    ck_assert_str_eq(check("{\"Statement\":[]}"),
                     "The policy must have a Statement: one statement or a list of them.");
    ck_assert_str_eq(check("{\"Statement\":[{\"Effect\":\"Maybe\"}]}"),
                     "Policy statement 1 needs an Effect of Allow or Deny.");
    ck_assert_str_eq(check("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                           "\"Resource\":\"*\"}]}"),
                     "Policy statement 1 has no Action.");
}
END_TEST

START_TEST(test_allows_put_events)
{
    /* The owner always may; nobody else without a policy. */
    ck_assert_int_eq(lb_policy_allows_put_events(NULL, BUS, "000000000000", "000000000000", NULL),
                     1);
    ck_assert_int_eq(lb_policy_allows_put_events(NULL, BUS, "000000000000", "111111111111", NULL),
                     0);
    char *p = put(NULL, "one", "111111111111", NULL);
    ck_assert_int_eq(lb_policy_allows_put_events(p, BUS, "000000000000", "111111111111", NULL), 1);
    ck_assert_int_eq(lb_policy_allows_put_events(p, BUS, "000000000000", "222222222222", NULL), 0);
    /* Another bus's ARN is not covered. */
    ck_assert_int_eq(lb_policy_allows_put_events(p, BUS "x", "000000000000", "111111111111", NULL),
                     0);
    lb_policy_condition_t org = {"StringEquals", "aws:PrincipalOrgID", "o-1"};
    char *q = put(p, "org", "*", &org);
    ck_assert_int_eq(lb_policy_allows_put_events(q, BUS, "000000000000", "222222222222", "o-1"), 1);
    ck_assert_int_eq(lb_policy_allows_put_events(q, BUS, "000000000000", "222222222222", "o-2"), 0);
    ck_assert_int_eq(lb_policy_allows_put_events(q, BUS, "000000000000", "222222222222", NULL), 0);
    /* A Deny wins; wildcards in Resource and Action. */
    const char *deny = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
                       "\"events:*\",\"Resource\":\"arn:aws:events:*:*:event-bus/*\"},{\"Effect\":"
                       "\"Deny\",\"Principal\":{\"AWS\":[\"333333333333\"]},\"Action\":\"*\","
                       "\"Resource\":\"*\"}]}";
    ck_assert_int_eq(lb_policy_allows_put_events(deny, BUS, "0", "222222222222", NULL), 1);
    ck_assert_int_eq(lb_policy_allows_put_events(deny, BUS, "0", "333333333333", NULL), 0);
    /* A service principal or another action grants no account anything. */
    const char *svc = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                      "\"events.amazonaws.com\"},\"Action\":\"events:PutEvents\",\"Resource\":"
                      "\"*\"},{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
                      "\"events:ListRules\",\"Resource\":\"*\"}]}";
    ck_assert_int_eq(lb_policy_allows_put_events(svc, BUS, "0", "222222222222", NULL), 0);
    free(p);
    free(q);
}
END_TEST

static int first_policy(const lb_bus_record_t *bus, void *ctx)
{
    if (strcmp(bus->name, "b") == 0) *(char **)ctx = lb_strdup(bus->policy);
    return 0;
}

START_TEST(test_store_round_trip_and_migration)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_bus_record_t b = {.region = "us-east-1", .name = "b", .created_ms = 1, .modified_ms = 1};
    ck_assert_int_eq(lb_store_bus_insert(s, &b), 0);
    lb_store_close(&s);
    /* Take the database back to schema 3 (before policies and documents), bus row kept. */
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 3), 0);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    char *pol = NULL;
    ck_assert_int_eq(lb_store_bus_get_policy(s, "us-east-1", "b", &pol), 0);
    ck_assert_ptr_null(pol);
    ck_assert_int_eq(lb_store_bus_set_policy(s, "us-east-1", "b", "{\"Statement\":[]}", 5), 0);
    ck_assert_int_eq(lb_store_bus_set_policy(s, "us-east-1", "nope", "{}", 5), LB_ENOTFOUND);
    ck_assert_int_eq(lb_store_bus_get_policy(s, "us-east-1", "nope", &pol), LB_ENOTFOUND);
    /* An UpdateEventBus leaves the policy alone; the load reads it back. */
    b.description = "d";
    ck_assert_int_eq(lb_store_bus_update(s, &b), 0);
    char *seen = NULL;
    ck_assert_int_eq(lb_store_buses_each(s, first_policy, &seen), 0);
    ck_assert_str_eq(seen, "{\"Statement\":[]}");
    free(seen);
    lb_store_close(&s);
}
END_TEST

int main(void)
{
    lb_test_db_setup_named("policy");
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, test_put_builds_aws_statements);
    tcase_add_test(tc, test_remove);
    tcase_add_test(tc, test_check_document);
    tcase_add_test(tc, test_allows_put_events);
    tcase_add_test(tc, test_store_round_trip_and_migration);
    suite_add_tcase(s, tc);
    int rc = lb_test_run(s);
    lb_test_db_remove();
    return rc;
}

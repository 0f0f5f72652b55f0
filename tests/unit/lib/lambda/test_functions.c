/* lb_functions: definitions of functions registered at run time, the registry, the store. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_functions.h"
#include "lb_json.h"
#include "lb_store.h"
#include "lb_util.h"

static void setup(void)
{
    lb_test_db_setup_named("functions");
}

static void teardown(void)
{
    lb_test_db_remove();
}

static int parse(const char *name, const char *json, lb_function_t *f, char *msg)
{
    lb_json_doc_t *doc = NULL;
    ck_assert_int_eq(lb_json_parse(json, strlen(json), 64, &doc, NULL), 0);
    int rc = lb_function_parse(name, lb_json_doc_root(doc), 5000, f, msg, 300);
    lb_json_doc_free(&doc);
    return rc;
}

START_TEST(test_parse)
{
    lb_function_t f;
    char msg[300];
    ck_assert_int_eq(parse("orders-fn",
                           "{\"command\":[\"@python-runner\",\"--code-dir\",\"/srv\",\"a.b\"],"
                           "\"timeout\":30,\"environment\":{\"A\":\"1\",\"B\":\"x=y\"},"
                           "\"maximum_retry_attempts\":0,\"maximum_event_age_seconds\":60,"
                           "\"on_failure_arn\":\"arn:aws:sqs:us-east-1:000000000000:q\"}",
                           &f, msg),
                     0);
    ck_assert_str_eq(f.argv[3], "a.b");
    ck_assert_ptr_null(f.argv[4]);
    ck_assert_str_eq(f.env[0], "A=1");
    ck_assert_str_eq(f.env[1], "B=x=y");
    ck_assert_int_eq(f.timeout_ms, 30000);
    ck_assert_int_eq(f.retries, 0);
    ck_assert_int_eq(f.max_age_s, 60);
    ck_assert_int_eq(f.concurrency, -1);
    ck_assert_str_eq(f.on_failure, "arn:aws:sqs:us-east-1:000000000000:q");
    lb_function_clear(&f);
    ck_assert_int_eq(parse("f", "{\"command\":[\"x\"]}", &f, msg), 0);
    ck_assert_int_eq(f.timeout_ms, -1);
    ck_assert_int_eq(f.retries, -1);
    ck_assert_ptr_null(f.env[0]);
    lb_function_clear(&f);
    const char *bad[] = {"{}",
                         "{\"command\":[\"\"]}",
                         "{\"command\":[1]}",
                         "{\"command\":[\"x\"],\"timeout\":1.5}",
                         "{\"command\":[\"x\"],\"timeout\":901}",
                         "{\"command\":[\"x\"],\"maximum_retry_attempts\":-1}",
                         "{\"command\":[\"x\"],\"environment\":[]}",
                         "{\"command\":[\"x\"],\"on_failure_arn\":7}",
                         "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(parse("f", bad[i], &f, msg), LB_EINVALID);
    ck_assert_int_eq(parse("a/b", "{\"command\":[\"x\"]}", &f, msg), LB_EINVALID);
    ck_assert_ptr_nonnull(strstr(msg, "functionName"));
    ck_assert_int_eq(lb_function_name_valid("x-_9AZ"), 1);
    ck_assert_int_eq(lb_function_name_valid(""), 0);
}
END_TEST

START_TEST(test_registry_and_store)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_functions_t *r;
    lb_functions_new(&r);
    char msg[300];
    const char *names[] = {"b", "a", "c"};
    for (size_t i = 0; i < 3; i++) {
        lb_function_t f;
        ck_assert_int_eq(parse(names[i], "{\"command\":[\"x\"]}", &f, msg), 0);
        ck_assert_int_eq(lb_functions_store_put(s, &f), 0);
        lb_functions_put(r, &f);
    }
    lb_function_t f;
    ck_assert_int_eq(parse("a", "{\"command\":[\"y\"],\"timeout\":9}", &f, msg), 0);
    ck_assert_int_eq(lb_functions_store_put(s, &f), 0);
    lb_functions_put(r, &f);
    ck_assert_uint_eq(lb_functions_count(r), 3);
    ck_assert_str_eq(lb_functions_at(r, 0)->name, "a");
    ck_assert_str_eq(lb_functions_find(r, "a")->argv[0], "y");
    ck_assert_int_eq(lb_functions_remove(r, "b"), 0);
    ck_assert_int_eq(lb_functions_remove(r, "b"), LB_ENOTFOUND);
    ck_assert_int_eq(lb_functions_store_delete(s, "b"), 0);
    lb_functions_free(&r);
    lb_store_close(&s);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_functions_new(&r);
    size_t skipped = 0;
    ck_assert_int_eq(lb_functions_load(r, s, &skipped), 0);
    ck_assert_uint_eq(skipped, 0);
    ck_assert_uint_eq(lb_functions_count(r), 2);
    ck_assert_int_eq(lb_functions_find(r, "a")->timeout_ms, 9000);
    ck_assert_ptr_null(lb_functions_find(r, "b"));
    ck_assert_str_eq(lb_functions_find(r, "a")->spec, "{\"command\":[\"y\"],\"timeout\":9}");
    lb_functions_free(&r);
    lb_store_close(&s);
}
END_TEST

/* A database of schema 9 migrates: pending deliveries keep their rows, with an empty Lambda
 * retry budget, and the functions table is there. */
START_TEST(test_migrates_from_9)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_store_close(&s);
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 9), 0);
    ck_assert_int_eq(
        lb_test_schema_exec(lb_test_db,
                            "INSERT INTO deliveries (event_id, region, bus, rule, target_id,"
                            " target_arn, target_json, body, ingested_ms, next_ms)"
                            " VALUES ('e', 'us-east-1', 'default', 'r', 't', 'arn', '{}',"
                            " '{}', 1, 1)"),
        SQLITE_OK);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    lb_functions_t *r;
    lb_functions_new(&r);
    ck_assert_int_eq(lb_functions_load(r, s, NULL), 0);
    ck_assert_uint_eq(lb_functions_count(r), 0);
    lb_functions_free(&r);
    sqlite3_stmt *st = lb_store_prepare(s, "SELECT fn_errors, fn_first_ms FROM deliveries");
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
    ck_assert_int_eq(sqlite3_column_type(st, 1), SQLITE_NULL);
    sqlite3_finalize(st);
    lb_store_close(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("functions");
    TCase *tc = tcase_create("functions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_registry_and_store);
    tcase_add_test(tc, test_migrates_from_9);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

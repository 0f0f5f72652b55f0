/* Unit tests for lb_stack_store: stack records put, replaced, read and deleted per region, and a
 * database from before the stacks table migrated with its data kept. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb_stack_store.h"
#include "lb_store.h"
#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_util.h"

static lb_store_t *store;

static void setup(void)
{
    lb_test_db_setup_named("stack");
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &store), 0);
}

static void teardown(void)
{
    lb_store_close(&store);
    lb_test_db_remove();
}

START_TEST(round_trip_per_region)
{
    char *json = NULL;
    int64_t when = 0;
    ck_assert_int_eq(lb_store_stack_get(store, "us-east-1", "s", &json, &when), LB_ENOTFOUND);
    ck_assert_int_eq(lb_store_stack_put(store, "us-east-1", "s", "[1]", 10), 0);
    ck_assert_int_eq(lb_store_stack_put(store, "us-east-1", "s", "[2]", 20), 0);
    ck_assert_int_eq(lb_store_stack_put(store, "eu-west-1", "s", "[3]", 30), 0);
    ck_assert_int_eq(lb_store_stack_get(store, "us-east-1", "s", &json, &when), 0);
    ck_assert_str_eq(json, "[2]");
    ck_assert_int_eq(when, 20);
    free(json);
    ck_assert_int_eq(lb_store_stack_delete(store, "us-east-1", "s"), 0);
    ck_assert_int_eq(lb_store_stack_delete(store, "us-east-1", "s"), LB_ENOTFOUND);
    ck_assert_int_eq(lb_store_stack_get(store, "eu-west-1", "s", &json, &when), 0);
    ck_assert_str_eq(json, "[3]");
    free(json);
}
END_TEST

/* The stacks table came with schema 9: a database of schema 8 has none. */
START_TEST(migrates_the_version_before_stacks)
{
    lb_bus_record_t bus = {
        .region = "us-east-1", .name = "kept", .created_ms = 1, .modified_ms = 1};
    ck_assert_int_eq(lb_store_bus_insert(store, &bus), 0);
    lb_store_close(&store);
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 8), 0);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &store), 0);
    ck_assert_int_eq(lb_store_schema_version(store), lb_store_latest_schema_version());
    ck_assert_int_eq(lb_store_stack_put(store, "us-east-1", "s", "[]", 1), 0);
    ck_assert_int_eq(lb_store_bus_delete(store, "us-east-1", "kept"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stack");
    TCase *tc = tcase_create("stack");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_per_region);
    tcase_add_test(tc, migrates_the_version_before_stacks);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

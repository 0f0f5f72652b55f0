/* lb_dqueue: due-time order, per-target caps with parking, and ownership. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "lb_test.h"
#include "lb_dqueue.h"
#include "lb_util.h"

static lb_delivery_t *make(int64_t seq, int64_t next_ms, const char *arn)
{
    lb_delivery_t *d = lb_delivery_new("e", "us-east-1", "default", "r", "t", arn, "{}", NULL);
    d->seq = seq;
    d->next_ms = next_ms;
    return d;
}

START_TEST(test_due_order)
{
    lb_dqueue_t *q;
    lb_dqueue_new(&q);
    lb_dqueue_push(q, make(1, 300, "a"));
    lb_dqueue_push(q, make(2, 100, "a"));
    lb_dqueue_push(q, make(3, 100, "a")); /* same time: lower seq first */
    lb_dqueue_push(q, make(4, 200, "a"));
    ck_assert_int_eq(lb_dqueue_next_due(q), 100);
    ck_assert_ptr_null(lb_dqueue_pop_due(q, 99, 10));
    int64_t want[] = {2, 3, 4, 1};
    for (int i = 0; i < 4; i++) {
        lb_delivery_t *d = lb_dqueue_pop_due(q, 1000, 10);
        ck_assert_int_eq(d->seq, want[i]);
        lb_delivery_free(&d);
    }
    ck_assert_int_eq(lb_dqueue_next_due(q), -1);
    lb_dqueue_free(&q);
}
END_TEST

START_TEST(test_cap_parks_and_releases_in_order)
{
    lb_dqueue_t *q;
    lb_dqueue_new(&q);
    for (int i = 1; i <= 5; i++)
        lb_dqueue_push(q, make(i, 0, "slow"));
    lb_dqueue_push(q, make(6, 1, "fast"));
    /* Cap 2: two sends to "slow", then its other three park and "fast" still goes. */
    lb_delivery_t *a = lb_dqueue_pop_due(q, 10, 2), *b = lb_dqueue_pop_due(q, 10, 2);
    lb_dqueue_started(q, a);
    lb_dqueue_started(q, b);
    lb_delivery_t *c = lb_dqueue_pop_due(q, 10, 2);
    ck_assert_str_eq(c->target_arn, "fast");
    ck_assert_uint_eq(lb_dqueue_parked(q), 3);
    ck_assert_uint_eq(lb_dqueue_waiting(q), 3);
    ck_assert_ptr_null(lb_dqueue_pop_due(q, 10, 2));
    /* One finished send lets exactly one parked delivery back, the oldest. */
    lb_dqueue_finished(q, "slow");
    ck_assert_uint_eq(lb_dqueue_parked(q), 2);
    lb_delivery_t *d = lb_dqueue_pop_due(q, 10, 2);
    ck_assert_int_eq(d->seq, 3);
    lb_dqueue_started(q, d);
    ck_assert_uint_eq(lb_dqueue_inflight(q), 2);
    /* An unknown target finishing is ignored. */
    lb_dqueue_finished(q, "nobody");
    ck_assert_uint_eq(lb_dqueue_inflight(q), 2);
    lb_delivery_free(&a);
    lb_delivery_free(&b);
    lb_delivery_free(&c);
    lb_delivery_free(&d);
    /* Freeing the queue frees what is parked (valgrind/ASan check this). */
    lb_dqueue_free(&q);
    ck_assert_ptr_null(q);
}
END_TEST

START_TEST(test_due_counts_up_to_a_limit)
{
    lb_dqueue_t *q;
    lb_dqueue_new(&q);
    for (int i = 1; i <= 40; i++)
        lb_dqueue_push(q, make(i, i % 2 ? 100 : 1000 + i, "a")); /* 20 due at 100, 20 later */
    ck_assert_uint_eq(lb_dqueue_due(q, 99, 100), 0);
    ck_assert_uint_eq(lb_dqueue_due(q, 100, 100), 20);
    ck_assert_uint_eq(lb_dqueue_due(q, 100, 7), 7);
    ck_assert_uint_eq(lb_dqueue_due(q, 5000, 100), 40);
    /* Parked deliveries are due too: they only wait for their target. */
    lb_delivery_t *x = lb_dqueue_pop_due(q, 100, 1);
    lb_dqueue_started(q, x);
    lb_delivery_t *none = lb_dqueue_pop_due(q, 100, 1);
    ck_assert_ptr_null(none);
    ck_assert_uint_eq(lb_dqueue_parked(q), 19);
    ck_assert_uint_eq(lb_dqueue_due(q, 100, 100), 19);
    ck_assert_uint_eq(lb_dqueue_due(q, 100, 5), 5);
    lb_delivery_free(&x);
    lb_dqueue_free(&q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dqueue");
    TCase *tc = tcase_create("dqueue");
    tcase_add_test(tc, test_due_order);
    tcase_add_test(tc, test_cap_parks_and_releases_in_order);
    tcase_add_test(tc, test_due_counts_up_to_a_limit);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* lb_retry (backoff, classification, exhaustion) and lb_delivery (rows, dead letters, redrive),
 * plus a migration from schema version 1 with data in it. Expected retry behaviour follows the
 * EventBridge user guide ("Retry policies and dead-letter queues"; API destinations: 401, 407,
 * 409, 429 and 5xx are retried, other 4xx are not). */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_delivery.h"
#include "lb_retry.h"
#include "lb_util.h"

static void setup(void)
{
    lb_test_db_setup_named("delivery");
}

static void teardown(void)
{
    lb_test_db_remove();
}

START_TEST(test_classify)
{
    ck_assert_int_eq(lb_retry_classify_http(200), LB_ATTEMPT_OK);
    ck_assert_int_eq(lb_retry_classify_http(204), LB_ATTEMPT_OK);
    ck_assert_int_eq(lb_retry_classify_http(0), LB_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(lb_retry_classify_http(429), LB_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(lb_retry_classify_http(500), LB_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(lb_retry_classify_http(503), LB_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(lb_retry_classify_http(401), LB_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(lb_retry_classify_http(409), LB_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(lb_retry_classify_http(400), LB_ATTEMPT_PERMANENT);
    ck_assert_int_eq(lb_retry_classify_http(404), LB_ATTEMPT_PERMANENT);
    ck_assert_int_eq(lb_retry_classify_http(302), LB_ATTEMPT_PERMANENT);
}
END_TEST

START_TEST(test_backoff)
{
    /* Full jitter: the top of the range doubles per retry up to the cap. */
    ck_assert_int_eq(lb_retry_backoff_ms(1, 100, 10000, UINT32_MAX), 100);
    ck_assert_int_eq(lb_retry_backoff_ms(2, 100, 10000, UINT32_MAX), 200);
    ck_assert_int_eq(lb_retry_backoff_ms(5, 100, 10000, UINT32_MAX), 1600);
    ck_assert_int_eq(lb_retry_backoff_ms(30, 100, 10000, UINT32_MAX), 10000);
    ck_assert_int_eq(lb_retry_backoff_ms(185, 1000, 300000, UINT32_MAX), 300000);
    ck_assert_int_eq(lb_retry_backoff_ms(3, 100, 10000, 0), 1);
    int64_t mid = lb_retry_backoff_ms(3, 100, 10000, UINT32_MAX / 2);
    ck_assert(mid >= 199 && mid <= 201);
}
END_TEST

START_TEST(test_decide)
{
    lb_retry_decision_t d;
    lb_retry_decide(LB_ATTEMPT_OK, 1, 3, 0, 60, 1000, 100, 1000, 7, &d);
    ck_assert_int_eq(d.dead, 0);
    lb_retry_decide(LB_ATTEMPT_PERMANENT, 1, 185, 0, 86400, 1000, 100, 1000, 7, &d);
    ck_assert_int_eq(d.dead, 1);
    ck_assert_ptr_null(d.exhausted);
    /* MaximumRetryAttempts 2: attempts 1 and 2 may be retried, the third failure is final. */
    lb_retry_decide(LB_ATTEMPT_RETRYABLE, 2, 2, 0, 86400, 1000, 100, 1000, UINT32_MAX, &d);
    ck_assert_int_eq(d.dead, 0);
    ck_assert_int_ge(d.next_ms, 1001);
    lb_retry_decide(LB_ATTEMPT_RETRYABLE, 3, 2, 0, 86400, 1000, 100, 1000, 7, &d);
    ck_assert_int_eq(d.dead, 1);
    ck_assert_str_eq(d.exhausted, LB_EXHAUSTED_ATTEMPTS);
    /* MaximumRetryAttempts 0: no retry at all. */
    lb_retry_decide(LB_ATTEMPT_RETRYABLE, 1, 0, 0, 86400, 1000, 100, 1000, 7, &d);
    ck_assert_str_eq(d.exhausted, LB_EXHAUSTED_ATTEMPTS);
    /* Event age: past the deadline, dead; close to it, the retry is clamped to it. */
    lb_retry_decide(LB_ATTEMPT_RETRYABLE, 1, 185, 0, 60, 61000, 100, 1000, 7, &d);
    ck_assert_int_eq(d.dead, 1);
    ck_assert_str_eq(d.exhausted, LB_EXHAUSTED_AGE);
    lb_retry_decide(LB_ATTEMPT_RETRYABLE, 1, 185, 0, 60, 59990, 1000, 1000, UINT32_MAX, &d);
    ck_assert_int_eq(d.dead, 0);
    ck_assert_int_eq(d.next_ms, 60000);
}
END_TEST

/* Lambda's own policy after a function error: retries 1 and 2 minutes after the first and second
 * failed runs, then RetriesExhausted; a retry that would start past the maximum event age is
 * not made (EventAgeExceeded); refused runs back off from 1 s, doubling, to 5 min. */
START_TEST(test_async_decide)
{
    lb_async_policy_t p = {.max_retries = 2,
                           .max_age_ms = 21600000,
                           .retry_delay_ms = 60000,
                           .throttle_min_ms = 1000,
                           .throttle_max_ms = 300000};
    lb_retry_decision_t d;
    lb_retry_async_decide(&p, 1, 0, 0, 1000, 1000, &d);
    ck_assert_int_eq(d.dead, 0);
    ck_assert_int_eq(d.next_ms, 61000);
    lb_retry_async_decide(&p, 2, 0, 0, 1000, 62000, &d);
    ck_assert_int_eq(d.dead, 0);
    ck_assert_int_eq(d.next_ms, 182000);
    lb_retry_async_decide(&p, 3, 0, 0, 1000, 183000, &d);
    ck_assert_int_eq(d.dead, 1);
    ck_assert_str_eq(d.exhausted, LB_ASYNC_RETRIES_EXHAUSTED);
    p.max_retries = 0;
    lb_retry_async_decide(&p, 1, 0, 0, 1000, 1000, &d);
    ck_assert_str_eq(d.exhausted, LB_ASYNC_RETRIES_EXHAUSTED);
    p.max_retries = 2;
    p.max_age_ms = 60000;
    lb_retry_async_decide(&p, 1, 0, 0, 1000, 1000, &d);
    ck_assert_int_eq(d.dead, 0); /* 60 s after the first run: still within the age */
    lb_retry_async_decide(&p, 2, 0, 0, 1000, 2000, &d);
    ck_assert_int_eq(d.dead, 1);
    ck_assert_str_eq(d.exhausted, LB_ASYNC_EVENT_AGE_EXCEEDED);
    p.max_age_ms = 21600000;
    lb_retry_async_decide(&p, 1, 1, 1, 1000, 5000, &d);
    ck_assert_int_eq(d.next_ms, 6000);
    lb_retry_async_decide(&p, 1, 4, 1, 1000, 5000, &d);
    ck_assert_int_eq(d.next_ms, 13000);
    lb_retry_async_decide(&p, 1, 30, 1, 1000, 5000, &d);
    ck_assert_int_eq(d.next_ms, 305000);
    p.give_up = "ZeroReservedConcurrency";
    lb_retry_async_decide(&p, 1, 0, 0, 1000, 1000, &d);
    ck_assert_int_eq(d.dead, 1);
    ck_assert_str_eq(d.exhausted, "ZeroReservedConcurrency");
}
END_TEST

static lb_delivery_t *make(const char *event_id, int64_t next)
{
    lb_delivery_t *d = lb_delivery_new(event_id, "us-east-1", "default", "r", "t",
                                       "arn:aws:sqs:us-east-1:1:q", "{}", NULL);
    lb_text_t *body = lb_text_new("{\"a\":1}", 7);
    lb_delivery_set_body(d, body);
    lb_text_unref(&body);
    d->ingested_ms = d->age_base_ms = 100;
    d->next_ms = next;
    d->max_retries = 185;
    d->max_age_s = 86400;
    return d;
}

static int collect(lb_delivery_t *d, void *ctx)
{
    lb_buf_t *b = ctx;
    lb_buf_printf(b, "%s@%lld,", d->event_id, (long long)d->next_ms);
    lb_delivery_free(&d);
    return 0;
}

static int count_dead(const lb_dead_letter_t *dl, void *ctx)
{
    int *n = ctx;
    ck_assert_str_eq(dl->error_code, "TARGET_SERVER_ERROR");
    ck_assert_str_eq(dl->exhausted, LB_EXHAUSTED_ATTEMPTS);
    ck_assert_int_eq(dl->delivery->attempts, 3);
    (*n)++;
    return 0;
}

START_TEST(test_delivery_rows)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_delivery_t *a = make("e1", 300), *b = make("e2", 200), *c = make("e3", 100);
    ck_assert_int_eq(lb_delivery_insert(s, a), 0);
    ck_assert_int_eq(lb_delivery_insert(s, b), 0);
    ck_assert_int_eq(lb_delivery_insert(s, c), 0);
    ck_assert_int_gt(a->seq, 0);
    ck_assert_int_eq(lb_delivery_reschedule(s, a->seq, 1, 50, "X", "y"), 0);
    lb_buf_t order = {0};
    ck_assert_int_eq(lb_deliveries_pending(s, collect, &order), 0);
    ck_assert_str_eq(order.data, "e1@50,e3@100,e2@200,");
    lb_buf_free(&order);
    ck_assert_int_eq(lb_delivery_delete(s, c->seq), 0);
    ck_assert_int_eq(lb_delivery_kill(s, b->seq, 3, "TARGET_SERVER_ERROR", "HTTP 500",
                                      LB_EXHAUSTED_ATTEMPTS, 999),
                     0);
    int dead = 0;
    ck_assert_int_eq(lb_dead_letters_each(s, "us-east-1", NULL, NULL, 10, count_dead, &dead), 0);
    ck_assert_int_eq(dead, 1);
    ck_assert_int_eq(lb_deliveries_pending(s, collect, &order), 0);
    ck_assert_str_eq(order.data, "e1@50,");
    lb_buf_free(&order);
    size_t n;
    ck_assert_int_eq(
        lb_dead_letters_redrive(s, "us-east-1", NULL, "r", NULL, 0, 5000, collect, &order, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(order.data, "e2@5000,");
    lb_buf_free(&order);
    dead = 0;
    ck_assert_int_eq(lb_dead_letters_each(s, "us-east-1", NULL, NULL, 10, count_dead, &dead), 0);
    ck_assert_int_eq(dead, 0);
    lb_delivery_free(&a);
    lb_delivery_free(&b);
    lb_delivery_free(&c);
    lb_store_close(&s);
}
END_TEST

static int take_one(lb_delivery_t *d, void *ctx)
{
    lb_delivery_t **out = ctx;
    *out = d;
    return 0;
}

/* Lambda's retry budget is kept with the delivery (a pending retry survives a restart), goes
 * with it into the dead-letter store, and a redrive starts it afresh. */
START_TEST(test_async_state_rows)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_delivery_t *a = make("e1", 300);
    ck_assert_int_eq(lb_delivery_insert(s, a), 0);
    lb_async_state_t fn = {.errors = 2, .throttles = 1, .first_ms = 1234};
    snprintf(fn.request_id, sizeof fn.request_id, "11111111-2222-4333-8444-555555555555");
    ck_assert_int_eq(
        lb_delivery_reschedule_async(s, a->seq, 2, 900, &fn, "LAMBDA_FUNCTION_ERROR", "{}"), 0);
    lb_delivery_t *got = NULL;
    ck_assert_int_eq(lb_deliveries_pending(s, take_one, &got), 0);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->fn.errors, 2);
    ck_assert_int_eq(got->fn.throttles, 1);
    ck_assert_int_eq(got->fn.first_ms, 1234);
    ck_assert_str_eq(got->fn.request_id, fn.request_id);
    ck_assert_int_eq(got->next_ms, 900);
    lb_delivery_free(&got);
    fn.errors = 3;
    ck_assert_int_eq(lb_delivery_kill_async(s, a->seq, 3, &fn, "LAMBDA_FUNCTION_ERROR", "{}",
                                            LB_ASYNC_RETRIES_EXHAUSTED, 1000),
                     0);
    size_t n;
    ck_assert_int_eq(
        lb_dead_letters_redrive(s, "us-east-1", NULL, NULL, NULL, 0, 5000, take_one, &got, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(got->fn.errors, 0);
    ck_assert_str_eq(got->fn.request_id, "");
    lb_delivery_free(&got);
    ck_assert_int_eq(lb_deliveries_pending(s, take_one, &got), 0);
    ck_assert_int_eq(got->fn.errors, 0);
    ck_assert_int_eq(got->fn.first_ms, 0);
    lb_delivery_free(&got);
    lb_delivery_free(&a);
    lb_store_close(&s);
}
END_TEST

/* An outcome written again after the store refused it must not overwrite a newer one: a
 * reschedule or a kill only applies with more attempts than the store has, and never to a dead
 * letter. */
START_TEST(test_stale_outcomes_do_not_apply)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_delivery_t *a = make("e1", 300);
    ck_assert_int_eq(lb_delivery_insert(s, a), 0);
    ck_assert_int_eq(lb_delivery_reschedule(s, a->seq, 2, 70, "NEW", "second"), 0);
    ck_assert_int_eq(lb_delivery_reschedule(s, a->seq, 1, 50, "OLD", "first"), 0);
    lb_buf_t order = {0};
    ck_assert_int_eq(lb_deliveries_pending(s, collect, &order), 0);
    ck_assert_str_eq(order.data, "e1@70,");
    lb_buf_free(&order);
    ck_assert_int_eq(lb_delivery_kill(s, a->seq, 3, "TARGET_SERVER_ERROR", "HTTP 500",
                                      LB_EXHAUSTED_ATTEMPTS, 999),
                     0);
    ck_assert_int_eq(lb_delivery_reschedule(s, a->seq, 2, 80, "OLD", "late"), 0);
    ck_assert_int_eq(lb_delivery_kill(s, a->seq, 2, "OTHER", "late", NULL, 1000), 0);
    int dead = 0;
    ck_assert_int_eq(lb_dead_letters_each(s, "us-east-1", NULL, NULL, 10, count_dead, &dead), 0);
    ck_assert_int_eq(dead, 1);
    ck_assert_int_eq(lb_deliveries_pending(s, collect, &order), 0);
    ck_assert_ptr_null(order.data);
    lb_delivery_free(&a);
    lb_store_close(&s);
}
END_TEST

/* A database made by schema version 1 (buses and events only), with rows, migrates to the
 * latest version and keeps its rows. */
START_TEST(test_migrates_from_v1)
{
    ck_assert_int_eq(
        lb_test_schema_exec(
            lb_test_db,
            "CREATE TABLE buses (region TEXT NOT NULL, name TEXT NOT NULL, description"
            " TEXT, kms_key TEXT, dlq_arn TEXT, tags TEXT, created_ms INTEGER NOT NULL,"
            " modified_ms INTEGER NOT NULL, PRIMARY KEY (region, name));"
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL"
            " UNIQUE, region TEXT NOT NULL, bus TEXT NOT NULL, ingested_ms INTEGER NOT"
            " NULL, envelope TEXT NOT NULL);"
            "CREATE INDEX events_by_bus ON events (region, bus, seq);"
            "INSERT INTO buses VALUES ('us-east-1','old',NULL,NULL,NULL,NULL,1,1);"
            "INSERT INTO events (id, region, bus, ingested_ms, envelope) VALUES"
            " ('e-old','us-east-1','old',1,'{}');"
            "PRAGMA user_version = 1;"),
        SQLITE_OK);
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    int64_t count;
    ck_assert_int_eq(lb_store_event_count(s, &count), 0);
    ck_assert_int_eq(count, 1);
    lb_delivery_t *d = make("e-new", 1);
    ck_assert_int_eq(lb_delivery_insert(s, d), 0);
    lb_delivery_free(&d);
    lb_store_close(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("delivery");
    TCase *tc = tcase_create("delivery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_classify);
    tcase_add_test(tc, test_backoff);
    tcase_add_test(tc, test_decide);
    tcase_add_test(tc, test_async_decide);
    tcase_add_test(tc, test_async_state_rows);
    tcase_add_test(tc, test_delivery_rows);
    tcase_add_test(tc, test_stale_outcomes_do_not_apply);
    tcase_add_test(tc, test_migrates_from_v1);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* lb_attempts (the attempt log behind GET /_localbridge/events/ID and the deliveries long-poll)
 * and lb_store_cockpit (event lookup, delivery counts, reset), with the migrations from schemas 7
 * and 11. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_attempts.h"
#include "lb_delivery.h"
#include "lb_store_cockpit.h"
#include "lb_util.h"

static void setup(void)
{
    lb_test_db_setup_named("attempts");
}

static void teardown(void)
{
    lb_test_db_remove();
}

static lb_delivery_t *make(const char *event_id, const char *arn)
{
    lb_delivery_t *d =
        lb_delivery_new(event_id, "us-east-1", "default", "r1", "t1", arn, "{}", NULL);
    lb_text_t *body = lb_text_new("{\"a\":1}", 7);
    lb_delivery_set_body(d, body); /* takes its own reference */
    lb_text_unref(&body);
    d->ingested_ms = d->age_base_ms = d->next_ms = 1000;
    return d;
}

static void store_event(lb_store_t *s, const char *id)
{
    lb_event_record_t ev = {.id = id,
                            .region = "us-east-1",
                            .bus = "default",
                            .ingested_ms = 1000,
                            .envelope = "{}",
                            .envelope_len = 2};
    ck_assert_int_eq(lb_store_event_insert(s, &ev), 0);
}

typedef struct {
    int n;
    char status[8][16];
    char body[8][64];
    long http[8];
} seen_t;

static int collect(const lb_attempt_rec_t *r, void *ctx)
{
    seen_t *s = ctx;
    snprintf(s->status[s->n], 16, "%s", lb_attempt_status_name(r->status));
    snprintf(s->body[s->n], 64, "%s", r->body ? r->body : "");
    s->http[s->n] = r->http_status;
    s->n++;
    return 0;
}

START_TEST(test_log_and_read)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    store_event(s, "e0");
    store_event(s, "e1");
    lb_delivery_t *d = make("e1", "arn:q");
    d->attempts = 1;
    lb_attempt_rec_t *r =
        lb_attempt_rec_new(d, LB_AS_RETRYING, 503, 12, 2000, "TARGET_SERVER_ERROR", "boom");
    ck_assert_ptr_null(r->body_text); /* only a final attempt keeps the body */
    ck_assert_str_eq(r->error, "TARGET_SERVER_ERROR: boom");
    ck_assert_int_eq(lb_attempt_insert(s, r), 0);
    lb_attempt_rec_free(&r);
    d->attempts = 2;
    r = lb_attempt_rec_new(d, LB_AS_SUCCEEDED, 200, 3, 3000, NULL, NULL);
    ck_assert_int_eq(lb_attempt_insert(s, r), 0);
    lb_attempt_rec_free(&r);
    lb_delivery_free(&d);

    seen_t all = {0}, final = {0}, other = {0};
    ck_assert_int_eq(lb_attempts_for_event(s, "e1", collect, &all), 0);
    ck_assert_int_eq(all.n, 2);
    ck_assert_int_eq(lb_attempts_for_event(s, "e0", collect, &other), 0);
    ck_assert_int_eq(other.n, 0);
    ck_assert_str_eq(all.status[0], "RETRYING");
    ck_assert_int_eq(all.http[0], 503);
    ck_assert_str_eq(all.status[1], "SUCCEEDED");
    ck_assert_int_eq(lb_attempts_final_to(s, "arn:q", 0, 10, collect, &final), 0);
    ck_assert_int_eq(final.n, 1);
    ck_assert_str_eq(final.body[0], "{\"a\":1}");
    ck_assert_int_eq(lb_attempts_final_to(s, "arn:other", 0, 10, collect, &other), 0);
    ck_assert_int_eq(other.n, 0);
    lb_store_close(&s);
}
END_TEST

static int count_event(const lb_event_record_t *ev, void *ctx)
{
    (void)ev;
    (*(int *)ctx)++;
    return 0;
}

START_TEST(test_reset_wipes_everything)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_event_record_t ev = {.id = "e1",
                            .region = "us-east-1",
                            .bus = "default",
                            .ingested_ms = 1000,
                            .envelope = "{}",
                            .envelope_len = 2};
    ck_assert_int_eq(lb_store_event_insert(s, &ev), 0);
    lb_delivery_t *d = make("e1", "arn:q");
    ck_assert_int_eq(lb_delivery_insert(s, d), 0);
    int64_t seq = d->seq;
    lb_attempt_rec_t *r = lb_attempt_rec_new(d, LB_AS_SUCCEEDED, 0, 1, 2000, NULL, NULL);
    ck_assert_int_eq(lb_attempt_insert(s, r), 0);
    lb_attempt_rec_free(&r);
    lb_delivery_free(&d);
    int64_t pending, oldest, dead;
    ck_assert_int_eq(lb_store_delivery_counts(s, &pending, &oldest, &dead), 0);
    ck_assert_int_eq(pending, 1);
    ck_assert_int_eq(oldest, 1000);
    ck_assert_int_eq(dead, 0);
    int n = 0;
    ck_assert_int_eq(lb_store_event_get(s, "e1", count_event, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(lb_store_event_get(s, "nope", count_event, &n), LB_ENOTFOUND);

    int64_t max_seq;
    ck_assert_int_eq(lb_store_begin(s), 0);
    ck_assert_int_eq(lb_store_reset(s, &max_seq), 0);
    ck_assert_int_eq(lb_store_commit(s), 0);
    ck_assert_int_eq(max_seq, seq);
    ck_assert_int_eq(lb_store_event_get(s, "e1", count_event, &n), LB_ENOTFOUND);
    ck_assert_int_eq(lb_store_delivery_counts(s, &pending, &oldest, &dead), 0);
    ck_assert_int_eq(pending, 0);
    seen_t all = {0};
    ck_assert_int_eq(lb_attempts_for_event(s, "e1", collect, &all), 0);
    ck_assert_int_eq(all.n, 0);
    lb_store_close(&s);
}
END_TEST

static int count_pending(const lb_store_event_delivery_t *d, void *ctx)
{
    (void)d;
    (*(int *)ctx)++;
    return 0;
}

/* 1 when the plan of sql uses index (by name). */
static int plan_uses(lb_store_t *s, const char *sql, const char *index)
{
    sqlite3_stmt *st;
    char *q = lb_strdup("EXPLAIN QUERY PLAN ");
    size_t n = strlen(q) + strlen(sql) + 1;
    q = lb_xrealloc(q, n);
    strcat(q, sql);
    ck_assert_int_eq(sqlite3_prepare_v2(lb_store_db(s), q, -1, &st, NULL), SQLITE_OK);
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        found |= strstr((const char *)sqlite3_column_text(st, 3), index) != NULL;
    sqlite3_finalize(st);
    free(q);
    return found;
}

/* Schema 12 finds attempts and deliveries by their event's seq: indexes on the random event id
 * cost a page write anywhere in the file per delivery and per attempt (replay throughput
 * halved). A schema-11 store is carried over: its rows are found through their event after. */
START_TEST(test_migrates_from_v11)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_store_close(&s);
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 11), 0);
    ck_assert_int_eq(
        lb_test_schema_exec(lb_test_db,
                            "INSERT INTO events (id, region, bus, ingested_ms, envelope)"
                            " VALUES ('old', 'us-east-1', 'default', 1, '{}');"
                            "INSERT INTO delivery_attempts (event_id, region, bus, rule,"
                            " target_id, target_arn, attempt, status, latency_ms, at_ms)"
                            " VALUES ('old', 'us-east-1', 'default', 'r', 't', 'arn:q', 1,"
                            " 'SUCCEEDED', 1, 2);"
                            "INSERT INTO deliveries (event_id, region, bus, rule, target_id,"
                            " target_arn, target_json, body, ingested_ms, next_ms)"
                            " VALUES ('old', 'us-east-1', 'default', 'r', 't2', 'arn:q2',"
                            " '{}', '{}', 1, 1);"),
        SQLITE_OK);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    seen_t all = {0};
    ck_assert_int_eq(lb_attempts_for_event(s, "old", collect, &all), 0);
    ck_assert_int_eq(all.n, 1);
    ck_assert_str_eq(all.status[0], "SUCCEEDED");
    int pending = 0;
    ck_assert_int_eq(lb_store_event_deliveries(s, "old", count_pending, &pending), 0);
    ck_assert_int_eq(pending, 1);
    /* A delivery written now is found through its event too. */
    lb_delivery_t *d = make("old", "arn:q3");
    ck_assert_int_eq(lb_delivery_insert(s, d), 0);
    lb_delivery_free(&d);
    pending = 0;
    ck_assert_int_eq(lb_store_event_deliveries(s, "old", count_pending, &pending), 0);
    ck_assert_int_eq(pending, 2);
    ck_assert(plan_uses(s,
                        "SELECT seq FROM deliveries WHERE event_seq ="
                        " (SELECT seq FROM events WHERE id = 'old') ORDER BY seq",
                        "deliveries_by_event_seq"));
    ck_assert(plan_uses(s,
                        "SELECT id FROM delivery_attempts WHERE event_seq ="
                        " (SELECT seq FROM events WHERE id = 'old') ORDER BY id",
                        "delivery_attempts_by_event_seq"));
    /* No index on the attempts' event id is left to keep up. */
    ck_assert(!plan_uses(s, "SELECT id FROM delivery_attempts WHERE event_id = 'old'",
                         "delivery_attempts_by_event ("));
    lb_store_close(&s);
}
END_TEST

START_TEST(test_migrates_from_v7)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_store_close(&s);
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 7), 0);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    lb_delivery_t *d = make("e1", "arn:q");
    lb_attempt_rec_t *r = lb_attempt_rec_new(d, LB_AS_DEAD_LETTERED, 0, 1, 2000, "X", NULL);
    ck_assert_int_eq(lb_attempt_insert(s, r), 0);
    lb_attempt_rec_free(&r);
    lb_delivery_free(&d);
    lb_store_close(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("attempts");
    TCase *tc = tcase_create("attempts");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_log_and_read);
    tcase_add_test(tc, test_reset_wipes_everything);
    tcase_add_test(tc, test_migrates_from_v7);
    tcase_add_test(tc, test_migrates_from_v11);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* Unit tests for daemon/schedule/lb_scheduler on a real libuv loop and writer thread, with the
 * wall clock moved so that a minute boundary is a fraction of a second away: a firing at the
 * boundary, its event and its recorded minute in one transaction; thousands of rules on one
 * timer; rule changes followed; a restart that fires the current minute once and back-fills
 * nothing; a minute recorded already never fired again. */
#include "lb_scheduler.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lb_test.h"
#include "lb_json.h"
#include "lb_store.h"
#include "lb_util.h"

static int64_t offset_ms; /* the test's clock: the wall clock moved by this */
static lb_log_t quiet = {.level = LB_LOG_WARN};

static int64_t test_now(void *ctx)
{
    (void)ctx;
    return lb_now_ms() + offset_ms;
}

/* Moves the clock so that the next minute boundary is `before` ms away; returns it. */
static int64_t boundary_in(int64_t before)
{
    int64_t now = lb_now_ms();
    int64_t boundary = lb_minute_floor(now) + 10 * LB_MINUTE_MS;
    offset_ms = boundary - before - now;
    return boundary;
}

typedef struct {
    lb_delivery_t **ds;
    size_t n;
} sink_t;

static void hook(void *ctx, lb_delivery_t **ds, size_t n, const lb_rule_hit_t *hits, size_t nh)
{
    (void)hits;
    (void)nh;
    sink_t *s = ctx;
    if (!n) return; /* ds may be NULL then */
    s->ds = lb_xrealloc(s->ds, (s->n + n + 1) * sizeof *s->ds);
    memcpy(s->ds + s->n, ds, n * sizeof *ds);
    s->n += n;
}

typedef struct {
    uv_loop_t loop;
    lb_engine_t *engine;
    lb_store_t *store; /* until the writer takes it */
    lb_writer_t *writer;
    lb_config_t *config;
    lb_scheduler_t *sched;
    sink_t sink;
} fixture_t;

static fixture_t fx;

static void fixture_open(void)
{
    memset(&fx, 0, sizeof fx);
    lb_test_db_setup_named("scheduler");
    uv_loop_init(&fx.loop);
    lb_store_options_t opts = {.synchronous = LB_SYNC_OFF};
    ck_assert_int_eq(lb_store_open(lb_test_db, &opts, &fx.store), 0);
    ck_assert_int_eq(lb_config_new(&fx.config), 0);
    lb_engine_new(&fx.engine);
    lb_engine_set_delivery_hook(fx.engine, hook, &fx.sink);
    lb_bus_record_t bus = {.region = "us-east-1", .name = "default"};
    ck_assert_int_eq(lb_engine_bus_put(fx.engine, &bus), 0);
}

/* A rule in the store (and, with the engine loaded later, in memory). */
static void store_rule(const char *name, const char *schedule, const char *state, int64_t since_ms,
                       int with_target)
{
    lb_rule_t rule;
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", "default", name, NULL, schedule, state, NULL,
                                  NULL, NULL, NULL, since_ms, NULL),
                     0);
    ck_assert_int_eq(lb_store_rule_put(fx.store, &rule), 0);
    if (with_target) {
        lb_target_t t;
        ck_assert_int_eq(
            lb_target_init(&t, "{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}", NULL), 0);
        ck_assert_int_eq(lb_store_targets_replace(fx.store, &rule, &t, 1), 0);
        lb_target_clear(&t);
    }
    lb_rule_clear(&rule);
}

/* Loads the engine from the store and starts the writer on it. */
static void fixture_start_writer(void)
{
    size_t skipped = 0;
    ck_assert_int_eq(lb_engine_load(fx.engine, fx.store, &skipped), 0);
    ck_assert_int_eq(lb_writer_start(&fx.loop, fx.store, NULL, &fx.writer), 0);
    fx.store = NULL;
}

static void fixture_start_scheduler(void)
{
    lb_scheduler_env_t env = {.loop = &fx.loop,
                              .config = fx.config,
                              .engine = fx.engine,
                              .writer = fx.writer,
                              .log = &quiet,
                              .now = test_now};
    ck_assert_int_eq(lb_scheduler_start(&env, &fx.sched), 0);
}

static void fixture_start(void)
{
    fixture_start_writer();
    fixture_start_scheduler();
}

static void fixture_close(void)
{
    lb_scheduler_stop(fx.sched);
    lb_writer_stop(fx.writer);
    lb_scheduler_free(&fx.sched);
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&fx.loop), 0);
    for (size_t i = 0; i < fx.sink.n; i++)
        lb_delivery_free(&fx.sink.ds[i]);
    free(fx.sink.ds);
    lb_engine_free(&fx.engine);
    lb_config_free(&fx.config);
    lb_test_db_remove();
}

static void on_guard(uv_timer_t *t)
{
    (void)t; /* a one-shot timer is inactive once it ran */
}

/* Runs the loop until the sink holds n deliveries (or seconds pass). A wait for something that
 * must come is generous (it ends as soon as it comes; valgrind makes firing 3,000 rules take
 * seconds); a wait that checks nothing more comes is short. */
#define ARRIVES_WITHIN 60.0
static void run_until(size_t n, double seconds)
{
    uv_timer_t guard;
    uv_timer_init(&fx.loop, &guard);
    uv_timer_start(&guard, on_guard, (uint64_t)(seconds * 1000), 0);
    while (fx.sink.n < n && uv_is_active((uv_handle_t *)&guard))
        uv_run(&fx.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&fx.loop, UV_RUN_NOWAIT);
}

/* Reads the store through a connection of its own. */
static int64_t count_events(void)
{
    lb_store_t *s;
    lb_store_options_t ro = {.read_only = 1};
    ck_assert_int_eq(lb_store_open(lb_test_db, &ro, &s), 0);
    int64_t n;
    ck_assert_int_eq(lb_store_event_count(s, &n), 0);
    lb_store_close(&s);
    return n;
}

static const char *body_time(const lb_delivery_t *d, char out[32])
{
    lb_json_doc_t *doc = NULL;
    ck_assert_int_eq(lb_json_parse(d->body, d->body_len, 8, &doc, NULL), 0);
    snprintf(out, 32, "%s", lb_json_get_str(lb_json_doc_root(doc), "time"));
    lb_json_doc_free(&doc);
    return out;
}

START_TEST(fires_at_the_minute_boundary)
{
    fixture_open();
    int64_t boundary = boundary_in(300);
    store_rule("tick", "cron(* * * * ? *)", NULL, boundary - 1000, 1);
    fixture_start();
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 1);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary);
    run_until(1, ARRIVES_WITHIN);
    ck_assert_uint_eq(fx.sink.n, 1);
    /* Not early; late by milliseconds (the margin is for valgrind on a busy machine: the
     * one-second promise is checked end to end by the integration test). */
    int64_t late = test_now(NULL) - boundary;
    ck_assert_int_ge(late, 0);
    ck_assert_int_lt(late, 3000);
    char want[32], got[32];
    lb_format_time_iso(boundary, want);
    ck_assert_str_eq(body_time(fx.sink.ds[0], got), want);
    ck_assert_str_eq(fx.sink.ds[0]->rule, "tick");
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary + LB_MINUTE_MS);
    lb_rule_t *r = lb_rules_find(lb_engine_rules(fx.engine), "us-east-1", "default", "tick");
    ck_assert_int_eq(r->last_fired_ms, boundary);
    ck_assert_int_eq(count_events(), 1);
    fixture_close();
}
END_TEST

static void count_timers(uv_handle_t *h, void *arg)
{
    if (h->type == UV_TIMER && uv_is_active(h)) (*(int *)arg)++;
}

START_TEST(thousands_of_rules_cost_one_timer)
{
    fixture_open();
    int64_t boundary = boundary_in(400);
    ck_assert_int_eq(lb_store_begin(fx.store), 0);
    for (int i = 0; i < 3000; i++) {
        char name[32];
        snprintf(name, sizeof name, "r%04d", i);
        store_rule(name, i % 2 ? "cron(* * * * ? *)" : "rate(1 minute)", NULL, boundary - 30000,
                   i == 0);
    }
    ck_assert_int_eq(lb_store_commit(fx.store), 0);
    fixture_start_writer();
    int before = 0, after = 0;
    uv_walk(&fx.loop, count_timers, &before);
    fixture_start_scheduler();
    uv_walk(&fx.loop, count_timers, &after);
    ck_assert_int_eq(after - before, 1);
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 3000);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary);
    run_until(1, ARRIVES_WITHIN);
    ck_assert_uint_eq(fx.sink.n, 1);
    /* Every rule fired once, each its own event (committed by now: writer jobs complete in
     * order, and the one with a target was the first). */
    int64_t deadline = lb_now_ms() + (int64_t)(ARRIVES_WITHIN * 1000);
    while (count_events() < 3000 && lb_now_ms() < deadline)
        uv_run(&fx.loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(count_events(), 3000);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary + LB_MINUTE_MS);
    fixture_close();
}
END_TEST

static void put_rule(const char *name, const char *pattern, const char *schedule, const char *state,
                     int64_t since)
{
    lb_rule_t rule;
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", "default", name, pattern, schedule, state,
                                  NULL, NULL, NULL, NULL, since, NULL),
                     0);
    lb_rules_put(lb_engine_rules(fx.engine), &rule);
}

START_TEST(follows_rule_changes)
{
    fixture_open();
    int64_t boundary = boundary_in(30000), now = test_now(NULL);
    fixture_start();
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 0);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), -1);
    put_rule("tick", NULL, "cron(* * * * ? *)", NULL, now);
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 1);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary);
    put_rule("tick", NULL, "cron(* * * * ? *)", "DISABLED", now);
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 0);
    put_rule("tick", NULL, "cron(* * * * ? *)", "ENABLED", now);
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 1);
    /* A new schedule replaces the old: rate(5 minutes) counts from its anchor. */
    put_rule("tick", NULL, "rate(5 minutes)", NULL, now);
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 1);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), lb_minute_floor(now) + 5 * LB_MINUTE_MS);
    /* Pattern-only rules are not scheduled; both kinds together are. */
    put_rule("pattern", "{\"source\":[\"a\"]}", NULL, NULL, now);
    put_rule("both", "{\"source\":[\"a\"]}", "cron(0 12 * * ? *)", NULL, now);
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 2);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), lb_minute_floor(now) + 5 * LB_MINUTE_MS);
    /* A schedule that is over is not kept. */
    put_rule("past", NULL, "cron(0 12 * * ? 2002)", NULL, now);
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 2);
    lb_rules_remove(lb_engine_rules(fx.engine), "us-east-1", "default", "tick");
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 1);
    lb_rules_remove(lb_engine_rules(fx.engine), "us-east-1", "default", "both");
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 0);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), -1);
    fixture_close();
}
END_TEST

START_TEST(a_due_firing_survives_a_rule_update_at_the_boundary)
{
    fixture_open();
    int64_t boundary = boundary_in(300);
    store_rule("tick", "cron(* * * * ? *)", NULL, boundary - 1000, 1);
    fixture_start();
    /* The boundary passes and, before the timer runs, the rule is put again unchanged (a
     * TagResource, an EnableRule): its due firing must still happen. */
    offset_ms += 310;
    put_rule("tick", NULL, "cron(* * * * ? *)", NULL, boundary - 1000);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary);
    /* (The rule put here has no targets: the stored event tells.) */
    int64_t deadline = lb_now_ms() + (int64_t)(ARRIVES_WITHIN * 1000);
    while (count_events() < 1 && lb_now_ms() < deadline)
        uv_run(&fx.loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(count_events(), 1);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary + LB_MINUTE_MS);
    /* A new expression, though, starts from when it was set. */
    put_rule("tick", NULL, "rate(1 minute)", NULL, test_now(NULL));
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary + LB_MINUTE_MS);
    put_rule("tick", NULL, "cron(0 12 * * ? *)", NULL, test_now(NULL));
    ck_assert_int_gt(lb_scheduler_next_ms(fx.sched), boundary + LB_MINUTE_MS);
    fixture_close();
}
END_TEST

static void set_last_fired(const char *name, int64_t ms)
{
    ck_assert_int_eq(lb_store_rule_fired(fx.store, "us-east-1", "default", name, ms), 0);
}

START_TEST(restart_fires_the_current_minute_once_and_backfills_nothing)
{
    fixture_open();
    /* Started 20 s into a minute: "done" fired this minute before the restart, "behind" last
     * fired ten minutes ago (the daemon was down), "new" got its schedule after this minute
     * began. */
    int64_t boundary = boundary_in(40000), minute = boundary - LB_MINUTE_MS;
    store_rule("done", "cron(* * * * ? *)", NULL, 0, 1);
    store_rule("behind", "cron(* * * * ? *)", NULL, 0, 1);
    store_rule("new", "cron(* * * * ? *)", NULL, minute + 5000, 1);
    set_last_fired("done", minute);
    set_last_fired("behind", minute - 10 * LB_MINUTE_MS);
    fixture_start();
    ck_assert_uint_eq(lb_scheduler_count(fx.sched), 3);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), minute);
    run_until(1, ARRIVES_WITHIN);
    run_until(2, 0.5); /* nothing more comes */
    ck_assert_uint_eq(fx.sink.n, 1);
    ck_assert_str_eq(fx.sink.ds[0]->rule, "behind");
    char want[32], got[32];
    lb_format_time_iso(minute, want);
    ck_assert_str_eq(body_time(fx.sink.ds[0], got), want);
    ck_assert_int_eq(count_events(), 1);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary);
    fixture_close();
}
END_TEST

START_TEST(a_recorded_minute_is_not_fired_again)
{
    fixture_open();
    /* The store says the coming minute fired already (another process, or a firing committed
     * just before a crash that memory did not see): the firing rolls back whole. */
    int64_t boundary = boundary_in(200);
    store_rule("tick", "cron(* * * * ? *)", NULL, boundary - 1000, 1);
    fixture_start();
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary);
    lb_store_t *side;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &side), 0);
    ck_assert_int_eq(lb_store_rule_fired(side, "us-east-1", "default", "tick", boundary), 0);
    lb_store_close(&side);
    run_until(1, 1.5);
    ck_assert_uint_eq(fx.sink.n, 0);
    ck_assert_int_eq(count_events(), 0);
    ck_assert_int_eq(lb_scheduler_next_ms(fx.sched), boundary + LB_MINUTE_MS);
    fixture_close();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scheduler");
    TCase *tc = tcase_create("scheduler");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, fires_at_the_minute_boundary);
    tcase_add_test(tc, thousands_of_rules_cost_one_timer);
    tcase_add_test(tc, follows_rule_changes);
    tcase_add_test(tc, restart_fires_the_current_minute_once_and_backfills_nothing);
    tcase_add_test(tc, a_recorded_minute_is_not_fired_again);
    tcase_add_test(tc, a_due_firing_survives_a_rule_update_at_the_boundary);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

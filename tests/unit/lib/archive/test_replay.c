/* lb_replay and lb_replay_store: rule ARNs in FilterArns, states, the active-replay limit, the
 * durable position (conditional updates, restart from the store) and reading a window in
 * (event time, seq) order however many events share a second. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_archive_store.h"
#include "lb_replay.h"
#include "lb_replay_store.h"
#include "lb_test.h"
#include "lb_util.h"

static lb_store_t *store;

static void setup(void)
{
    lb_test_db_setup_named("replay");
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &store), 0);
}

static void teardown(void)
{
    lb_store_close(&store);
    lb_test_db_remove();
}

static void make(lb_replay_t *r, const char *name, int64_t archive_id)
{
    const char *filters[] = {"arn:aws:events:us-east-1:123456789012:rule/orders/r1"};
    ck_assert_int_eq(lb_replay_init(r, "us-east-1", name, "desc", archive_id, "a1", "orders",
                                    filters, 1, 10000, 20000, 50000),
                     0);
}

START_TEST(rule_arns_name_bus_and_rule)
{
    char bus[64], rule[64];
    ck_assert_int_eq(lb_replay_rule_from_arn("arn:aws:events:us-east-1:123456789012:rule/r1", bus,
                                             sizeof bus, rule, sizeof rule),
                     0);
    ck_assert_str_eq(bus, "default");
    ck_assert_str_eq(rule, "r1");
    ck_assert_int_eq(
        lb_replay_rule_from_arn("arn:aws:events:us-east-1:123456789012:rule/aws.partner/x.com/1/r2",
                                bus, sizeof bus, rule, sizeof rule),
        0);
    ck_assert_str_eq(bus, "aws.partner/x.com/1");
    ck_assert_str_eq(rule, "r2");
    ck_assert_int_eq(lb_replay_rule_from_arn("arn:aws:events:us-east-1:1:event-bus/b", bus,
                                             sizeof bus, rule, sizeof rule),
                     -EINVAL);
    ck_assert_int_eq(lb_replay_rule_from_arn("arn:aws:sqs:us-east-1:1:rule/x", bus, sizeof bus,
                                             rule, sizeof rule),
                     -EINVAL);
    ck_assert_int_eq(lb_replay_rule_from_arn("nonsense", bus, sizeof bus, rule, sizeof rule),
                     -EINVAL);
    lb_replay_t r;
    const char *bad[] = {"arn:aws:events:us-east-1:1:archive/x"};
    ck_assert_int_eq(lb_replay_init(&r, "us-east-1", "n", NULL, 1, "a", "b", bad, 1, 0, 1, 2),
                     -EINVAL);
    lb_replay_state_t st;
    ck_assert_int_eq(lb_replay_state_parse("CANCELLING", &st), 0);
    ck_assert_int_eq(st, LB_REPLAY_CANCELLING);
    ck_assert_int_eq(lb_replay_state_parse("DONE", &st), -EINVAL);
    char arn[128];
    lb_replay_arn("us-east-1", "123456789012", "n", arn, sizeof arn);
    ck_assert_str_eq(arn, "arn:aws:events:us-east-1:123456789012:replay/n");
}
END_TEST

START_TEST(at_most_ten_active_per_region)
{
    lb_replays_t *reg;
    lb_replays_new(&reg);
    for (int i = 0; i < 9; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        lb_replay_t r;
        make(&r, name, 1);
        ck_assert_int_eq(lb_replays_put(reg, &r), 0);
    }
    ck_assert_uint_eq(lb_replays_active(reg, "us-east-1"), 9);
    ck_assert_int_eq(lb_replays_reserve(reg, "us-east-1"), 0);
    ck_assert_int_eq(lb_replays_reserve(reg, "us-east-1"), LB_ELIMIT);
    ck_assert_int_eq(lb_replays_reserve(reg, "eu-west-1"), 0);
    lb_replays_release(reg, "us-east-1");
    /* An ended replay frees its place. */
    lb_replays_find(reg, "us-east-1", "r3")->p.state = LB_REPLAY_COMPLETED;
    ck_assert_uint_eq(lb_replays_active(reg, "us-east-1"), 8);
    /* Deleting the archive ends its pending replays; a cancelling one as CANCELLED. */
    lb_replays_find(reg, "us-east-1", "r4")->p.state = LB_REPLAY_CANCELLING;
    ck_assert_uint_eq(lb_replays_archive_gone(reg, 1, "Archive a1 was deleted.", 99), 8);
    ck_assert_int_eq(lb_replays_find(reg, "us-east-1", "r4")->p.state, LB_REPLAY_CANCELLED);
    lb_replay_t *r0 = lb_replays_find(reg, "us-east-1", "r0");
    ck_assert_int_eq(r0->p.state, LB_REPLAY_FAILED);
    ck_assert_str_eq(r0->p.state_reason, "Archive a1 was deleted.");
    ck_assert_int_eq(r0->p.replay_end_ms, 99);
    ck_assert_int_eq(lb_replays_find(reg, "us-east-1", "r3")->p.state, LB_REPLAY_COMPLETED);
    lb_replays_free(&reg);
}
END_TEST

START_TEST(progress_is_durable_and_conditional)
{
    lb_replay_t r;
    make(&r, "rp", 7);
    ck_assert_int_eq(lb_store_replay_insert(store, &r), 0);
    ck_assert_int_eq(lb_store_replay_insert(store, &r), LB_EEXISTS);
    lb_replay_progress_t p = r.p;
    p.state = LB_REPLAY_RUNNING;
    p.cursor_time_ms = 12000;
    p.cursor_seq = 42;
    p.replayed = 5;
    p.last_replayed_ms = 12000;
    p.total = 9;
    ck_assert_int_eq(lb_store_replay_update(store, "us-east-1", "rp", &p, LB_REPLAY_MASK_ACTIVE),
                     0);
    /* CancelReplay committed: a batch still in flight must not go on as if running. */
    lb_replay_progress_t c = p;
    c.state = LB_REPLAY_CANCELLING;
    ck_assert_int_eq(lb_store_replay_update(store, "us-east-1", "rp", &c, LB_REPLAY_MASK_ACTIVE),
                     0);
    p.replayed = 7;
    ck_assert_int_eq(lb_store_replay_update(store, "us-east-1", "rp", &p, LB_REPLAY_MASK_ACTIVE),
                     LB_ECONFLICT);
    ck_assert_int_eq(lb_store_replay_update(store, "us-east-1", "nope", &p, LB_REPLAY_MASK_ACTIVE),
                     LB_ENOTFOUND);
    lb_replays_t *reg;
    size_t skipped = 0;
    lb_replays_new(&reg);
    ck_assert_int_eq(lb_replays_load(reg, store, &skipped), 0);
    ck_assert_uint_eq(skipped, 0);
    lb_replay_t *got = lb_replays_find(reg, "us-east-1", "rp");
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->p.state, LB_REPLAY_CANCELLING);
    ck_assert_int_eq(got->p.cursor_time_ms, 12000);
    ck_assert_int_eq(got->p.cursor_seq, 42);
    ck_assert_int_eq(got->p.replayed, 5);
    ck_assert_int_eq(got->p.total, 9);
    ck_assert_int_eq(got->archive_id, 7);
    ck_assert_str_eq(got->description, "desc");
    ck_assert_str_eq(got->bus, "orders");
    ck_assert_uint_eq(got->n_filters, 1);
    ck_assert_str_eq(got->rule_names[0], "r1");
    ck_assert_int_eq(got->event_start_ms, 10000);
    ck_assert_int_eq(got->event_end_ms, 20000);
    ck_assert_int_eq(got->replay_start_ms, 50000);
    lb_replays_free(&reg);
    /* The archive goes: the cancelling replay is cancelled. */
    ck_assert_int_eq(lb_store_replays_archive_gone(store, 7, "gone", 60000), 0);
    lb_replays_new(&reg);
    ck_assert_int_eq(lb_replays_load(reg, store, &skipped), 0);
    ck_assert_int_eq(lb_replays_find(reg, "us-east-1", "rp")->p.state, LB_REPLAY_CANCELLED);
    ck_assert_int_eq(lb_replays_find(reg, "us-east-1", "rp")->p.replay_end_ms, 60000);
    lb_replays_free(&reg);
    lb_replay_clear(&r);
}
END_TEST

typedef struct {
    int64_t seqs[64], times[64];
    size_t n;
} got_t;

static int collect(void *ctx, int64_t seq, int64_t t, const char *env, size_t len)
{
    got_t *g = ctx;
    ck_assert_uint_eq(len, strlen(env));
    g->seqs[g->n] = seq;
    g->times[g->n++] = t;
    return 0;
}

/* Reads the whole window in batches of `limit`, as the replayer does. */
static size_t read_all(const lb_replay_window_t *w, size_t limit, got_t *all)
{
    int64_t ct = w->start_ms, cs = 0;
    size_t batches = 0;
    for (;;) {
        got_t g = {0};
        ck_assert_int_eq(lb_store_replay_read(store, w, ct, cs, limit, collect, &g), 0);
        for (size_t i = 0; i < g.n; i++) {
            all->seqs[all->n] = g.seqs[i];
            all->times[all->n++] = g.times[i];
        }
        batches++;
        if (g.n < limit) return batches;
        ct = g.times[g.n - 1];
        cs = g.seqs[g.n - 1];
    }
}

START_TEST(window_is_read_in_event_time_order)
{
    lb_archive_t a;
    ck_assert_int_eq(lb_archive_init(&a, "us-east-1", "a", "default", NULL, NULL, NULL, 0, 1, NULL),
                     0);
    ck_assert_int_eq(lb_store_archive_insert(store, &a), 0);
    /* Event times out of archive order: 3 s, 1 s (x5), 2 s, 5 s (outside), then one archived
     * after the replay started. */
    int64_t times[] = {3000, 1000, 1000, 1000, 1000, 1000, 2000, 5000, 1000};
    int64_t archived[] = {10, 11, 12, 13, 14, 15, 16, 17, 99};
    for (int i = 0; i < 9; i++) {
        lb_archive_row_t row = {.archive_id = a.id,
                                .event_time_ms = times[i],
                                .archived_ms = archived[i],
                                .size = 1,
                                .envelope = "{}",
                                .envelope_len = 2};
        ck_assert_int_eq(lb_store_archive_rows_write(store, &row, 1), 0);
    }
    lb_replay_window_t w = {.archive_id = a.id, .start_ms = 1000, .end_ms = 5000, .cap_ms = 50};
    int64_t n;
    ck_assert_int_eq(lb_store_replay_count(store, &w, &n), 0);
    ck_assert_int_eq(n, 7);
    got_t all = {0};
    ck_assert_uint_eq(read_all(&w, 2, &all), 4);
    ck_assert_uint_eq(all.n, 7);
    int64_t want_seq[] = {2, 3, 4, 5, 6, 7, 1};
    for (size_t i = 0; i < all.n; i++)
        ck_assert_int_eq(all.seqs[i], want_seq[i]);
    /* The end is exclusive, the start inclusive. */
    w.start_ms = 2000;
    w.end_ms = 3000;
    all.n = 0;
    read_all(&w, 10, &all);
    ck_assert_uint_eq(all.n, 1);
    ck_assert_int_eq(all.seqs[0], 7);
    lb_archive_clear(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("replay");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rule_arns_name_bus_and_rule);
    tcase_add_test(tc, at_most_ten_active_per_region);
    tcase_add_test(tc, progress_is_durable_and_conditional);
    tcase_add_test(tc, window_is_read_in_event_time_order);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

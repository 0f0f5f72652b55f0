/* lb_archive and lb_archive_store: the registry, which events an archive keeps, archived rows
 * and their counters, deletion by tombstone, and the retention sweep in small steps. */
#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lb_archive.h"
#include "lb_archive_store.h"
#include "lb_pattern.h"
#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_util.h"

#define DAY 86400000LL

static lb_store_t *store;

static void setup(void)
{
    lb_test_db_setup_named("archive");
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &store), 0);
}

static void teardown(void)
{
    lb_store_close(&store);
    lb_test_db_remove();
}

static void make(lb_archive_t *a, const char *name, const char *bus, const char *pattern,
                 int64_t days)
{
    ck_assert_int_eq(
        lb_archive_init(a, "us-east-1", name, bus, "d", pattern, NULL, days, 1000, NULL), 0);
}

/* Creates an archive in the store and returns its id. */
static int64_t stored(const char *name, int64_t days)
{
    lb_archive_t a;
    make(&a, name, "default", NULL, days);
    ck_assert_int_eq(lb_store_archive_insert(store, &a), 0);
    int64_t id = a.id;
    lb_archive_clear(&a);
    return id;
}

static int64_t count_rows(int64_t id)
{
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(lb_store_db(store),
                                        "SELECT count(*) FROM archive_events WHERE archive_id = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* n rows of 10 bytes each archived at archived_ms. */
static void archive_rows(int64_t id, int n, int64_t archived_ms)
{
    lb_archive_row_t *rows = lb_xcalloc((size_t)n, sizeof *rows);
    for (int i = 0; i < n; i++)
        rows[i] = (lb_archive_row_t){.archive_id = id,
                                     .event_time_ms = archived_ms,
                                     .archived_ms = archived_ms,
                                     .size = 10,
                                     .envelope = "{\"id\":\"x\"}",
                                     .envelope_len = 10};
    ck_assert_int_eq(lb_store_archive_rows_write(store, rows, (size_t)n), 0);
    free(rows);
}

static lb_archive_t *loaded(lb_archives_t **r, const char *name)
{
    size_t skipped = 0;
    lb_archives_new(r);
    ck_assert_int_eq(lb_archives_load(*r, store, &skipped), 0);
    ck_assert_uint_eq(skipped, 0);
    return lb_archives_find(*r, "us-east-1", name);
}

START_TEST(registry_is_sorted_and_keeps_counters_across_updates)
{
    lb_archives_t *r;
    lb_archives_new(&r);
    const char *names[] = {"b", "a", "c"};
    for (int i = 0; i < 3; i++) {
        lb_archive_t a;
        make(&a, names[i], i == 2 ? "orders" : "default", NULL, 0);
        a.id = i + 1;
        ck_assert_int_eq(lb_archives_put(r, &a), 0);
        ck_assert_ptr_null(a.name);
    }
    ck_assert_str_eq(lb_archives_at(r, 0)->name, "a");
    ck_assert_str_eq(lb_archives_at(r, 2)->name, "c");
    ck_assert_uint_eq(lb_archives_count_on_bus(r, "us-east-1", "default"), 2);
    lb_archives_add_counts(r, 1, 3, 300, 1);
    lb_archives_add_counts(r, 99, 3, 300, 1); /* deleted meanwhile: ignored */
    lb_archive_t upd;
    make(&upd, "b", "default", "{\"source\":[\"x\"]}", 5);
    upd.id = 1;
    ck_assert_int_eq(lb_archives_put(r, &upd), 0);
    lb_archive_t *b = lb_archives_find(r, "us-east-1", "b");
    ck_assert_int_eq(b->event_count, 3);
    ck_assert_int_eq(b->size_bytes, 300);
    ck_assert_int_eq(b->retention_days, 5);
    lb_archives_add_counts(r, 1, -5, -500, 0);
    ck_assert_int_eq(b->event_count, 0);
    ck_assert_int_eq(b->size_bytes, 0);
    ck_assert_uint_eq(b->archived_total, 3);
    ck_assert_int_eq(lb_archives_remove(r, "us-east-1", "b"), 0);
    ck_assert_int_eq(lb_archives_remove(r, "us-east-1", "b"), LB_ENOTFOUND);
    ck_assert_ptr_null(lb_archives_find_id(r, 1));
    lb_archives_free(&r);
}
END_TEST

START_TEST(pattern_selects_events)
{
    lb_archive_t all, some;
    make(&all, "all", "default", NULL, 0);
    make(&some, "some", "default", "{\"source\":[\"keep\"]}", 0);
    lb_event_t *keep, *drop;
    const char *k = "{\"source\":\"keep\",\"detail\":{}}", *d = "{\"source\":\"drop\"}";
    ck_assert_int_eq(lb_event_parse(k, strlen(k), &keep), 0);
    ck_assert_int_eq(lb_event_parse(d, strlen(d), &drop), 0);
    ck_assert(!lb_archive_needs_event(&all));
    ck_assert(lb_archive_wants(&all, NULL));
    ck_assert(lb_archive_needs_event(&some));
    ck_assert(lb_archive_wants(&some, keep));
    ck_assert(!lb_archive_wants(&some, drop));
    char *err = NULL;
    lb_archive_t bad;
    ck_assert_int_eq(lb_archive_init(&bad, "us-east-1", "bad", "default", NULL, "{\"source\":[]}",
                                     NULL, 0, 1, &err),
                     -EINVAL);
    ck_assert_str_eq(err, "Event pattern is not valid. Reason: Empty arrays are not allowed");
    free(err);
    char arn[256];
    lb_archive_arn("eu-west-1", "123456789012", "a1", arn, sizeof arn);
    ck_assert_str_eq(arn, "arn:aws:events:eu-west-1:123456789012:archive/a1");
    lb_event_free(&keep);
    lb_event_free(&drop);
    lb_archive_clear(&all);
    lb_archive_clear(&some);
}
END_TEST

START_TEST(store_round_trip)
{
    lb_archive_t a;
    make(&a, "a1", "orders", "{\"source\":[\"s\"]}", 7);
    a.kms_key = lb_strdup("alias/k");
    ck_assert_int_eq(lb_store_archive_insert(store, &a), 0);
    ck_assert_int_gt(a.id, 0);
    lb_archive_t dup;
    make(&dup, "a1", "other", NULL, 0);
    ck_assert_int_eq(lb_store_archive_insert(store, &dup), LB_EEXISTS);
    lb_archive_clear(&dup);
    archive_rows(a.id, 4, 5000);
    free(a.description);
    a.description = lb_strdup("changed");
    a.retention_days = 9;
    ck_assert_int_eq(lb_store_archive_update(store, &a), 0);
    lb_archives_t *r;
    lb_archive_t *got = loaded(&r, "a1");
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->id, a.id);
    ck_assert_str_eq(got->bus, "orders");
    ck_assert_str_eq(got->description, "changed");
    ck_assert_str_eq(got->event_pattern, "{\"source\":[\"s\"]}");
    ck_assert_str_eq(got->kms_key, "alias/k");
    ck_assert_str_eq(got->state, "ENABLED");
    ck_assert_int_eq(got->retention_days, 9);
    ck_assert_int_eq(got->event_count, 4);
    ck_assert_int_eq(got->size_bytes, 40);
    ck_assert_ptr_nonnull(got->pattern);
    lb_archives_free(&r);
    lb_archive_clear(&a);
}
END_TEST

START_TEST(deleted_archive_rows_are_dropped_and_swept)
{
    int64_t gone = stored("gone", 0), kept = stored("kept", 0);
    archive_rows(gone, 25, 1000);
    ck_assert_int_eq(lb_store_archive_delete(store, gone), 0);
    ck_assert_int_eq(lb_store_archive_delete(store, gone), LB_ENOTFOUND);
    /* A batch built before the delete and committed after it: its rows are dropped. */
    archive_rows(gone, 5, 1000);
    archive_rows(kept, 3, 1000);
    ck_assert_int_eq(count_rows(gone), 25);
    lb_archive_sweep_t sw;
    ck_assert_int_eq(lb_store_archive_sweep(store, 2000, DAY, 10, &sw), 0);
    ck_assert_uint_eq(sw.deleted, 10);
    ck_assert(sw.more);
    ck_assert_uint_eq(sw.n_changes, 0); /* nobody's counters: the archive is gone */
    lb_archive_sweep_clear(&sw);
    ck_assert_int_eq(count_rows(gone), 15);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(lb_store_archive_sweep(store, 2000, DAY, 10, &sw), 0);
        lb_archive_sweep_clear(&sw);
    }
    ck_assert_int_eq(count_rows(gone), 0);
    ck_assert_int_eq(count_rows(kept), 3);
    ck_assert_int_eq(lb_store_archive_sweep(store, 2000, DAY, 10, &sw), 0);
    ck_assert_uint_eq(sw.deleted, 0);
    ck_assert(!sw.more);
    lb_archive_sweep_clear(&sw);
}
END_TEST

START_TEST(retention_sweep_removes_expired_in_steps)
{
    int64_t one_day = stored("one-day", 1), forever = stored("forever", 0);
    archive_rows(one_day, 12, 1000);          /* expire at 1000 + DAY */
    archive_rows(one_day, 3, 1000 + DAY / 2); /* expire half a day later */
    archive_rows(forever, 5, 1000);
    lb_archive_sweep_t sw;
    /* Not a day old yet. */
    ck_assert_int_eq(lb_store_archive_sweep(store, 1000 + DAY - 1, DAY, 100, &sw), 0);
    ck_assert_uint_eq(sw.deleted, 0);
    lb_archive_sweep_clear(&sw);
    /* A day old: twelve expire, five at a time. */
    ck_assert_int_eq(lb_store_archive_sweep(store, 1001 + DAY, DAY, 5, &sw), 0);
    ck_assert_uint_eq(sw.deleted, 5);
    ck_assert(sw.more);
    ck_assert_uint_eq(sw.n_changes, 1);
    ck_assert_int_eq(sw.changes[0].archive_id, one_day);
    ck_assert_int_eq(sw.changes[0].events, 5);
    ck_assert_int_eq(sw.changes[0].bytes, 50);
    lb_archive_sweep_clear(&sw);
    size_t total = 5;
    while (total < 12) {
        ck_assert_int_eq(lb_store_archive_sweep(store, 1001 + DAY, DAY, 5, &sw), 0);
        total += sw.deleted;
        lb_archive_sweep_clear(&sw);
    }
    ck_assert_uint_eq(total, 12);
    ck_assert_int_eq(count_rows(one_day), 3);
    ck_assert_int_eq(count_rows(forever), 5);
    lb_archives_t *r;
    lb_archive_t *a = loaded(&r, "one-day");
    ck_assert_int_eq(a->event_count, 3);
    ck_assert_int_eq(a->size_bytes, 30);
    ck_assert_int_eq(lb_archives_find(r, "us-east-1", "forever")->event_count, 5);
    lb_archives_free(&r);
    /* A shorter day (the test knob) makes the rest expire too. */
    ck_assert_int_eq(lb_store_archive_sweep(store, 1001 + DAY, 1000, 100, &sw), 0);
    ck_assert_uint_eq(sw.deleted, 3);
    ck_assert(!sw.more);
    lb_archive_sweep_clear(&sw);
    ck_assert_int_eq(count_rows(forever), 5);
}
END_TEST

/* A database written before archives existed (schema 3, with an event in it) is migrated in
 * place: the event stays, archives work. */
START_TEST(migrates_a_version_3_database)
{
    lb_event_record_t ev = {.id = "e1",
                            .region = "us-east-1",
                            .bus = "default",
                            .ingested_ms = 5,
                            .envelope = "{}",
                            .envelope_len = 2};
    ck_assert_int_eq(lb_store_event_insert(store, &ev), 0);
    lb_store_close(&store);
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 3), 0);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &store), 0);
    ck_assert_int_eq(lb_store_schema_version(store), lb_store_latest_schema_version());
    int64_t n;
    ck_assert_int_eq(lb_store_event_count(store, &n), 0);
    ck_assert_int_eq(n, 1);
    int64_t id = stored("after-migration", 0);
    archive_rows(id, 2, 1000);
    ck_assert_int_eq(count_rows(id), 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("archive");
    TCase *tc = tcase_create("archive");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, registry_is_sorted_and_keeps_counters_across_updates);
    tcase_add_test(tc, pattern_selects_events);
    tcase_add_test(tc, store_round_trip);
    tcase_add_test(tc, deleted_archive_rows_are_dropped_and_swept);
    tcase_add_test(tc, retention_sweep_removes_expired_in_steps);
    tcase_add_test(tc, migrates_a_version_3_database);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

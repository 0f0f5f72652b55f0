/* lb_store, lb_engine and lb_util: schema, migrations, bus CRUD, events, transactions. */
#include <check.h>
#include <sqlite3.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_test.h"
#include "lb_test_schema.h"
#include "lb_delivery.h"
#include "lb_store_cockpit.h"
#include "lb_engine.h"
#include "lb_store.h"
#include "lb_util.h"

static void setup(void)
{
    lb_test_db_setup_named("store");
}

static void teardown(void)
{
    lb_test_db_remove();
}

START_TEST(test_open_migrates_to_latest)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    lb_store_close(&s);
    ck_assert_ptr_null(s);
    /* Re-opening an up-to-date database runs no migration and keeps the version. */
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    lb_store_close(&s);
}
END_TEST

/* sqlite_cache_size was accepted and documented but never applied. */
static int keep_trace(const lb_event_record_t *ev, void *ctx)
{
    char *out = ctx;
    snprintf(out, 64, "%s", ev->trace_header ? ev->trace_header : "(null)");
    return 0;
}

static int take_delivery(lb_delivery_t *d, void *ctx)
{
    lb_delivery_t **out = ctx;
    lb_delivery_free(out);
    *out = d;
    return 0;
}

/* Schema 7 keeps an entry's TraceHeader with its event and deliveries. A database of schema 6 (the
 * columns dropped again, as it was) migrates with its rows intact and their trace headers NULL. */
START_TEST(test_trace_header_migration)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_store_close(&s);
    ck_assert_int_eq(lb_test_schema_downgrade(lb_test_db, 6), 0);
    ck_assert_int_eq(
        lb_test_schema_exec(lb_test_db,
                            "INSERT INTO events (id, region, bus, ingested_ms, envelope)"
                            " VALUES ('old', 'us-east-1', 'default', 1, '{}');"
                            "INSERT INTO deliveries (event_id, region, bus, rule, target_id,"
                            " target_arn, target_json, body, ingested_ms, next_ms)"
                            " VALUES ('old', 'us-east-1', 'default', 'r', 't', 'arn:x',"
                            " '{}', '{}', 1, 1);"),
        SQLITE_OK);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    char trace[64];
    ck_assert_int_eq(lb_store_events_each(s, "us-east-1", "default", 1, keep_trace, trace), 0);
    ck_assert_str_eq(trace, "(null)");
    lb_delivery_t *d = NULL;
    size_t n;
    ck_assert_int_eq(lb_deliveries_pending_after(s, 0, 10, take_delivery, &d, &n), 0);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_null(d->trace_header);
    lb_delivery_free(&d);

    lb_event_record_t ev = {.id = "new",
                            .region = "us-east-1",
                            .bus = "default",
                            .envelope = "{}",
                            .envelope_len = 2,
                            .trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793"};
    ck_assert_int_eq(lb_store_event_insert(s, &ev), 0);
    ck_assert_int_eq(lb_store_events_each(s, "us-east-1", "default", 1, keep_trace, trace), 0);
    ck_assert_str_eq(trace, "Root=1-5759e988-bd862e3fe1be46a994272793");
    /* The cockpit's filtered listing reads the same columns (it once dropped the trace header). */
    trace[0] = 0;
    ck_assert_int_eq(lb_store_events_filtered(s, "us-east-1", "default", NULL, 0, INT64_MAX, 1,
                                              keep_trace, trace),
                     0);
    ck_assert_str_eq(trace, "Root=1-5759e988-bd862e3fe1be46a994272793");
    d = lb_delivery_new("new", "us-east-1", "default", "r", "t", "arn:x", "{}", NULL);
    d->trace_header = strdup("Root=1-abc");
    lb_text_t *body = lb_text_new("{}", 2);
    lb_delivery_set_body(d, body);
    lb_text_unref(&body);
    ck_assert_int_eq(lb_delivery_insert(s, d), 0);
    int64_t seq = d->seq;
    lb_delivery_free(&d);
    ck_assert_int_eq(lb_deliveries_pending_after(s, seq - 1, 10, take_delivery, &d, &n), 0);
    ck_assert_str_eq(d->trace_header, "Root=1-abc");
    lb_delivery_free(&d);
    lb_store_close(&s);
}
END_TEST

START_TEST(test_cache_size_is_applied)
{
    lb_store_options_t opts = {.synchronous = LB_SYNC_FULL, .cache_bytes = 3 * 1024 * 1024};
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, &opts, &s), 0);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(lb_store_db(s), "PRAGMA cache_size", -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_int_eq(sqlite3_column_int(st, 0), -3072);
    sqlite3_finalize(st);
    lb_store_close(&s);
}
END_TEST

START_TEST(test_refuses_newer_schema)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_store_close(&s);
    /* Pretend a newer LocalBridge wrote it. */
    ck_assert_int_eq(lb_test_schema_exec(lb_test_db, "PRAGMA user_version = 999"), SQLITE_OK);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), -EPROTO);
}
END_TEST

START_TEST(test_garbage_file_is_refused)
{
    FILE *f = fopen(lb_test_db, "w");
    fputs("this is not a database, just text that is long enough to look like a header......", f);
    fclose(f);
    lb_store_t *s = NULL;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), LB_ESTORE);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_bus_crud)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    lb_bus_record_t b = {.region = "us-east-1",
                         .name = "orders",
                         .description = "d",
                         .created_ms = 1000,
                         .modified_ms = 1000};
    ck_assert_int_eq(lb_store_bus_insert(s, &b), 0);
    ck_assert_int_eq(lb_store_bus_insert(s, &b), LB_EEXISTS);
    b.region = "eu-west-1";
    ck_assert_int_eq(lb_store_bus_insert(s, &b), 0); /* same name, other region */
    b.description = "changed";
    b.modified_ms = 2000;
    ck_assert_int_eq(lb_store_bus_update(s, &b), 0);
    b.name = "missing";
    ck_assert_int_eq(lb_store_bus_update(s, &b), LB_ENOTFOUND);
    ck_assert_int_eq(lb_store_bus_delete(s, "us-east-1", "missing"), LB_ENOTFOUND);

    lb_engine_t *e;
    lb_engine_new(&e);
    ck_assert_int_eq(lb_engine_load(e, s, NULL), 0);
    ck_assert_uint_eq(lb_engine_bus_count(e), 2);
    const lb_bus_record_t *got = lb_engine_bus_find(e, "eu-west-1", "orders");
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->description, "changed");
    ck_assert_int_eq(got->modified_ms, 2000);
    ck_assert_int_eq(got->created_ms, 1000);
    ck_assert_ptr_null(lb_engine_bus_find(e, "us-west-2", "orders"));
    ck_assert_int_eq(lb_engine_bus_remove(e, "eu-west-1", "orders"), 0);
    ck_assert_int_eq(lb_engine_bus_remove(e, "eu-west-1", "orders"), LB_ENOTFOUND);
    lb_engine_free(&e);

    ck_assert_int_eq(lb_store_bus_delete(s, "us-east-1", "orders"), 0);
    lb_store_close(&s);
}
END_TEST

static int count_event(const lb_event_record_t *ev, void *ctx)
{
    int *n = ctx;
    /* Newest first. */
    char want[16];
    snprintf(want, sizeof want, "e%d", 4 - *n);
    ck_assert_str_eq(ev->id, want);
    (*n)++;
    return 0;
}

START_TEST(test_events_and_savepoints)
{
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_begin(s), 0);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "e%d", i);
        lb_event_record_t ev = {.id = id,
                                .region = "us-east-1",
                                .bus = "default",
                                .ingested_ms = i,
                                .envelope = "{}",
                                .envelope_len = 2};
        ck_assert_int_eq(lb_store_event_insert(s, &ev), 0);
    }
    /* A failing job inside a savepoint rolls back alone. */
    ck_assert_int_eq(lb_store_savepoint(s), 0);
    lb_event_record_t dup = {
        .id = "e0", .region = "us-east-1", .bus = "default", .envelope = "{}", .envelope_len = 2};
    ck_assert_int_eq(lb_store_event_insert(s, &dup), LB_EEXISTS);
    ck_assert_int_eq(lb_store_savepoint_rollback(s), 0);
    ck_assert_int_eq(lb_store_commit(s), 0);
    int64_t count = 0;
    ck_assert_int_eq(lb_store_event_count(s, &count), 0);
    ck_assert_int_eq(count, 5);
    int n = 0;
    ck_assert_int_eq(lb_store_events_each(s, "us-east-1", "default", 100, count_event, &n), 0);
    ck_assert_int_eq(n, 5);
    n = 0;
    ck_assert_int_eq(lb_store_events_each(s, "us-east-1", "other", 100, count_event, &n), 0);
    ck_assert_int_eq(n, 0);
    /* Rolled back transactions leave nothing. */
    ck_assert_int_eq(lb_store_begin(s), 0);
    lb_event_record_t ev = {
        .id = "gone", .region = "us-east-1", .bus = "default", .envelope = "{}", .envelope_len = 2};
    ck_assert_int_eq(lb_store_event_insert(s, &ev), 0);
    ck_assert_int_eq(lb_store_rollback(s), 0);
    ck_assert_int_eq(lb_store_event_count(s, &count), 0);
    ck_assert_int_eq(count, 5);
    lb_store_close(&s);

    /* A read-only connection sees the committed rows. */
    lb_store_options_t ro = {.read_only = 1, .synchronous = LB_SYNC_FULL};
    ck_assert_int_eq(lb_store_open(lb_test_db, &ro, &s), 0);
    ck_assert_int_eq(lb_store_event_count(s, &count), 0);
    ck_assert_int_eq(count, 5);
    lb_store_close(&s);
}
END_TEST

START_TEST(test_util_time_uuid_utf8_buf)
{
    char out[32];
    lb_format_time_iso(1715000000123, out);
    ck_assert_str_eq(out, "2024-05-06T12:53:20Z");
    int64_t ms;
    ck_assert_int_eq(lb_parse_time_iso("2024-05-06T12:53:20Z", &ms), 0);
    ck_assert_int_eq(ms, 1715000000000);
    ck_assert_int_eq(lb_parse_time_iso("2024-05-06T14:53:20.5+02:00", &ms), 0);
    ck_assert_int_eq(ms, 1715000000500);
    ck_assert_int_ne(lb_parse_time_iso("yesterday", &ms), 0);
    ck_assert_int_ne(lb_parse_time_iso("2024-13-01T00:00:00Z", &ms), 0);

    char a[37], b[37];
    ck_assert_int_eq(lb_uuid_v4(a), 0);
    ck_assert_int_eq(lb_uuid_v4(b), 0);
    ck_assert_uint_eq(strlen(a), 36);
    ck_assert_int_eq(a[14], '4');
    ck_assert_str_ne(a, b);

    ck_assert(lb_utf8_valid("plain", 5));
    ck_assert(lb_utf8_valid("Zo\xc3\xab \xe2\x9c\x93", 8));
    ck_assert(!lb_utf8_valid("\xff", 1));
    ck_assert(!lb_utf8_valid("\xc3", 1));         /* truncated */
    ck_assert(!lb_utf8_valid("\xc0\xaf", 2));     /* overlong */
    ck_assert(!lb_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */

    lb_buf_t buf = {0};
    lb_buf_json_string(&buf, "a\"b\\c\n\x01", 7);
    ck_assert_str_eq(buf.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    lb_buf_free(&buf);
}
END_TEST

static void unlink_db_files(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char p[300];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", lb_test_db, suffixes[i]);
        unlink(p);
    }
}

static void insert_event(lb_store_t *s, const char *id)
{
    lb_event_record_t ev = {
        .id = id, .region = "us-east-1", .bus = "default", .envelope = "{}", .envelope_len = 2};
    ck_assert_int_eq(lb_store_begin(s), 0);
    ck_assert_int_eq(lb_store_event_insert(s, &ev), 0);
    ck_assert_int_eq(lb_store_commit(s), 0);
}

/* B7: a database deleted while open is noticed and written back from the open connection, and
 * what was committed before and after is there when it is opened again. */
START_TEST(test_deleted_database_is_noticed_and_restored)
{
    lb_store_t *s, *ro;
    lb_store_options_t ro_opts = {.read_only = 1, .synchronous = LB_SYNC_FULL};
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_open(lb_test_db, &ro_opts, &ro), 0);
    insert_event(s, "before");
    ck_assert_int_eq(lb_store_file_changed(s), 0);
    unlink_db_files();
    ck_assert_int_eq(lb_store_file_changed(s), 1);
    insert_event(s, "while-deleted"); /* still works, into the deleted file */
    ck_assert_int_eq(lb_store_restore(s), 0);
    ck_assert_int_eq(lb_store_file_changed(s), 0);
    insert_event(s, "after");
    /* The other connection still reads the deleted file until it reopens. */
    ck_assert_int_eq(lb_store_reopen(ro), 0);
    int64_t count = 0;
    ck_assert_int_eq(lb_store_event_count(ro, &count), 0);
    ck_assert_int_eq(count, 3);
    lb_store_close(&ro);
    lb_store_close(&s);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_event_count(s, &count), 0);
    ck_assert_int_eq(count, 3);
    lb_store_close(&s);
    /* Only the main file was deleted: the WAL left at the path belongs to the old file and must
     * not be replayed onto the restored one. */
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    insert_event(s, "wal-kept");
    ck_assert_int_eq(unlink(lb_test_db), 0);
    ck_assert_int_eq(lb_store_file_changed(s), 1);
    ck_assert_int_eq(lb_store_restore(s), 0);
    insert_event(s, "after-2");
    lb_store_close(&s);
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_store_event_count(s, &count), 0);
    ck_assert_int_eq(count, 5);
    ck_assert_int_eq(lb_store_schema_version(s), lb_store_latest_schema_version());
    lb_store_close(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_migrates_to_latest);
    tcase_add_test(tc, test_trace_header_migration);
    tcase_add_test(tc, test_refuses_newer_schema);
    tcase_add_test(tc, test_cache_size_is_applied);
    tcase_add_test(tc, test_garbage_file_is_refused);
    tcase_add_test(tc, test_bus_crud);
    tcase_add_test(tc, test_events_and_savepoints);
    tcase_add_test(tc, test_util_time_uuid_utf8_buf);
    tcase_add_test(tc, test_deleted_database_is_noticed_and_restored);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* Unit tests for daemon/store/lb_reader: jobs run off the loop thread on the reader's own
 * read-only connection, completions come back on the loop thread in submission order, a reopen
 * moves the connection to a file restored at the path, and stopping delivers what was queued. */
#include "lb_reader.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lb_test.h"

typedef struct {
    uv_thread_t loop_thread;
    int order[64];
    int n_done;
    int ran_off_loop;
} state_t;

typedef struct {
    state_t *st;
    int index;
    int64_t count;
} job_arg_t;

static int count_events(lb_store_t *store, void *arg)
{
    job_arg_t *a = arg;
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &a->st->loop_thread)) a->st->ran_off_loop++;
    return lb_store_event_count(store, &a->count);
}

static void job_done(void *data, int rc)
{
    job_arg_t *a = data;
    uv_thread_t self = uv_thread_self();
    ck_assert(uv_thread_equal(&self, &a->st->loop_thread));
    ck_assert_int_eq(rc, 0);
    a->st->order[a->st->n_done++] = a->index;
}

static void insert_event(lb_store_t *s, const char *id)
{
    lb_event_record_t ev = {
        .id = id, .region = "us-east-1", .bus = "default", .envelope = "{}", .envelope_len = 2};
    ck_assert_int_eq(lb_store_event_insert(s, &ev), 0);
}

START_TEST(test_jobs_run_off_loop_and_complete_in_order)
{
    lb_test_db_setup_named("reader");
    lb_store_t *rw, *ro;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &rw), 0);
    insert_event(rw, "a");
    lb_store_options_t opts = {.read_only = 1, .synchronous = LB_SYNC_FULL};
    ck_assert_int_eq(lb_store_open(lb_test_db, &opts, &ro), 0);

    uv_loop_t loop;
    uv_loop_init(&loop);
    state_t st = {.loop_thread = uv_thread_self()};
    lb_reader_t *r;
    ck_assert_int_eq(lb_reader_start(&loop, ro, NULL, &r), 0);
    job_arg_t args[40];
    for (int i = 0; i < 40; i++) {
        args[i] = (job_arg_t){.st = &st, .index = i};
        ck_assert_int_eq(lb_reader_submit(r, count_events, &args[i], job_done, &args[i]), 0);
    }
    ck_assert_uint_eq(lb_reader_pending(r), 40);
    while (st.n_done < 40)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_uint_eq(lb_reader_pending(r), 0);
    ck_assert_int_eq(st.ran_off_loop, 40);
    for (int i = 0; i < 40; i++) {
        ck_assert_int_eq(st.order[i], i);
        ck_assert_int_eq(args[i].count, 1);
    }

    /* The file is deleted and restored by the writer's connection: after a reopen the reader
     * sees what was written since. */
    char path[300];
    snprintf(path, sizeof path, "%s", lb_test_db);
    unlink(path);
    insert_event(rw, "b");
    ck_assert_int_eq(lb_store_restore(rw), 0);
    insert_event(rw, "c");
    lb_reader_reopen(r);
    job_arg_t after = {.st = &st, .index = 40};
    ck_assert_int_eq(lb_reader_submit(r, count_events, &after, job_done, &after), 0);
    while (st.n_done < 41)
        uv_run(&loop, UV_RUN_ONCE);
    ck_assert_int_eq(after.count, 3);

    /* Stopping runs what was queued and delivers its completion before returning. */
    job_arg_t last = {.st = &st, .index = 41};
    ck_assert_int_eq(lb_reader_submit(r, count_events, &last, job_done, &last), 0);
    lb_reader_stop(r);
    ck_assert_int_eq(st.n_done, 42);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    lb_store_close(&rw);
    lb_test_db_remove();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, test_jobs_run_off_loop_and_complete_in_order);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

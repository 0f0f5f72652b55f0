/* lb_dirwatch: a deleted or renamed file with the prefix wakes the callback; other files don't. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "lb_dirwatch.h"
#include "lb_test.h"

static int calls;

static void on_change(void *ctx)
{
    (void)ctx;
    calls++;
}

static void touch(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

/* Runs the loop until the callback count reaches want or 500 ms pass. */
static void settle(uv_loop_t *loop, int want)
{
    for (int i = 0; i < 50 && calls < want; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    uv_run(loop, UV_RUN_NOWAIT);
}

START_TEST(test_prefix_files_going_wake_the_callback)
{
    char dir[] = "/tmp/lb-dirwatch-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    uv_loop_t loop;
    uv_loop_init(&loop);
    touch(dir, "x.db");
    touch(dir, "x.db-wal");
    touch(dir, "other");
    lb_dirwatch_t *w;
    ck_assert_int_eq(lb_dirwatch_start(&loop, dir, "x.db", on_change, NULL, &w), 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/other", dir);
    snprintf(b, sizeof b, "%s/other2", dir);
    ck_assert_int_eq(rename(a, b), 0);
    ck_assert_int_eq(unlink(b), 0);
    touch(dir, "x.db-new"); /* created, not gone */
    settle(&loop, 1);
    ck_assert_int_eq(calls, 0);
    snprintf(a, sizeof a, "%s/x.db-wal", dir);
    ck_assert_int_eq(unlink(a), 0);
    settle(&loop, 1);
    ck_assert_int_eq(calls, 1);
    snprintf(a, sizeof a, "%s/x.db", dir);
    snprintf(b, sizeof b, "%s/moved", dir);
    ck_assert_int_eq(rename(a, b), 0);
    settle(&loop, 2);
    ck_assert_int_eq(calls, 2);
    lb_dirwatch_stop(&w);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    unlink(b);
    snprintf(a, sizeof a, "%s/x.db-new", dir);
    unlink(a);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dirwatch");
    TCase *tc = tcase_create("dirwatch");
    tcase_add_test(tc, test_prefix_files_going_wake_the_callback);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* lb_forward_pending: the hash of pending forwards agrees with a plain array under a long run of
 * random adds and removes (backward-shift deletion included), and the oldest is the minimum. */
#include <check.h>
#include <stdlib.h>

#include "lb_forward_pending.h"
#include "lb_test.h"

#define UNIVERSE 5000

START_TEST(agrees_with_a_reference)
{
    lb_forward_pending_t *p;
    lb_forward_pending_new(&p);
    static int64_t ref[UNIVERSE + 1]; /* 0: absent, else ingested_ms */
    srand(7);
    size_t n = 0;
    for (int step = 0; step < 200000; step++) {
        int64_t seq = 1 + rand() % UNIVERSE;
        if (rand() % 3) {
            int64_t t = 1 + rand() % 1000000;
            if (!ref[seq]) n++;
            ref[seq] = t;
            lb_forward_pending_add(p, seq, t);
        } else {
            if (ref[seq]) n--;
            ref[seq] = 0;
            lb_forward_pending_remove(p, seq);
        }
        ck_assert_uint_eq(lb_forward_pending_count(p), n);
        if (step % 5000 == 0) {
            int64_t oldest = 0;
            for (int i = 1; i <= UNIVERSE; i++)
                if (ref[i] && (!oldest || ref[i] < oldest)) oldest = ref[i];
            ck_assert_int_eq(lb_forward_pending_oldest(p), oldest);
        }
    }
    for (int i = 1; i <= UNIVERSE; i++)
        lb_forward_pending_remove(p, i);
    ck_assert_uint_eq(lb_forward_pending_count(p), 0);
    ck_assert_int_eq(lb_forward_pending_oldest(p), 0);
    lb_forward_pending_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("forward_pending");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, agrees_with_a_reference);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

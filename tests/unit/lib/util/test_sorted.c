/* lb_sorted: the sorted array under every registry, checked against a plain model (a bitmap of
 * which keys are present) through random inserts and erases. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb_sorted.h"
#include "lb_test.h"

static int int_cmp(const void *elem, const void *key)
{
    int a = *(const int *)elem, b = *(const int *)key;
    return (a > b) - (a < b);
}

START_TEST(test_matches_a_model)
{
    lb_sorted_t s = {0};
    char present[500] = {0};
    srand(7);
    for (int step = 0; step < 20000; step++) {
        int k = rand() % 500;
        int *found = lb_sorted_find(&s, sizeof(int), &k, int_cmp);
        ck_assert_int_eq(found != NULL, present[k]);
        size_t i = lb_sorted_lower_bound(&s, sizeof(int), &k, int_cmp);
        if (found) {
            ck_assert_ptr_eq(found, lb_sorted_at(&s, sizeof(int), i));
            lb_sorted_erase_at(&s, sizeof(int), i);
            present[k] = 0;
        } else {
            *(int *)lb_sorted_insert_at(&s, sizeof(int), i) = k;
            present[k] = 1;
        }
    }
    size_t n = 0;
    for (int k = 0; k < 500; k++)
        n += (size_t)present[k];
    ck_assert_uint_eq(s.n, n);
    for (size_t i = 1; i < s.n; i++)
        ck_assert_int_lt(*(int *)lb_sorted_at(&s, sizeof(int), i - 1),
                         *(int *)lb_sorted_at(&s, sizeof(int), i));
    int past = 1000;
    ck_assert_uint_eq(lb_sorted_lower_bound(&s, sizeof(int), &past, int_cmp), s.n);
    lb_sorted_free(&s);
    ck_assert_ptr_null(s.items);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_region_name_key)
{
    ck_assert_int_lt(lb_region_name_cmp("eu-west-1", "z", &(lb_region_name_t){"us-east-1", "a"}),
                     0);
    ck_assert_int_gt(lb_region_name_cmp("us-east-1", "b", &(lb_region_name_t){"us-east-1", "a"}),
                     0);
    ck_assert_int_eq(lb_region_name_cmp("us-east-1", "a", &(lb_region_name_t){"us-east-1", "a"}),
                     0);
    /* "" sorts first: lower_bound(region, "") starts a region's page. */
    ck_assert_int_gt(lb_region_name_cmp("us-east-1", "a", &(lb_region_name_t){"us-east-1", ""}), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sorted");
    TCase *tc = tcase_create("sorted");
    tcase_add_test(tc, test_matches_a_model);
    tcase_add_test(tc, test_region_name_key);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

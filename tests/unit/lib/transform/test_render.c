/* Rendering a target's body from the tree parsed once at ingestion (lb_input_render_tree): numbers
 * keep the digits they arrived with, and a body is capped at AWS's 256 KB (issue 8 B8: a legal
 * 8 KB template over a 100 KB event used to grow the daemon by half a gigabyte). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_test.h"
#include "lb_transform.h"

static lb_json_doc_t *parse(const char *text)
{
    lb_json_doc_t *d = NULL;
    ck_assert_int_eq(lb_json_parse(text, strlen(text), 1001, &d, NULL), 0);
    return d;
}

static char *render(const char *path, const char *map, const char *tmpl, const char *event,
                    size_t max, int *rc)
{
    lb_input_t *in = NULL;
    char *err = NULL;
    ck_assert_int_eq(lb_input_compile_for_target("t1", NULL, path, map, tmpl, &in, &err), 0);
    lb_json_doc_t *d = parse(event);
    char *out = NULL;
    size_t len = 0;
    *rc =
        lb_input_render_tree(in, lb_json_doc_root(d), event, strlen(event), NULL, max, &out, &len);
    if (*rc == 0) ck_assert_uint_eq(strlen(out), len);
    lb_json_doc_free(&d);
    lb_input_free(&in);
    return out;
}

/* Issue 8: InputPath $.detail.n of 12345678901234567890123 delivered 1.2345678901234568e+22. */
START_TEST(input_path_keeps_the_digits_of_numbers)
{
    const char *ev = "{\"id\":\"1\",\"detail\":{\"n\":12345678901234567890123,\"f\":0.10,"
                     "\"e\":1E+400,\"o\":{\"x\":-0.0}}}";
    int rc;
    char *out = render("$.detail.n", NULL, NULL, ev, LB_INPUT_MAX_BODY, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(out, "12345678901234567890123");
    free(out);
    out = render("$.detail", NULL, NULL, ev, LB_INPUT_MAX_BODY, &rc);
    ck_assert_str_eq(out,
                     "{\"n\":12345678901234567890123,\"f\":0.10,\"e\":1E+400,\"o\":{\"x\":-0.0}}");
    free(out);
    out = render(NULL, "{\"n\":\"$.detail.n\"}", "{\"v\":<n>,\"s\":\"<n>\"}", ev, LB_INPUT_MAX_BODY,
                 &rc);
    ck_assert_str_eq(out, "{\"v\":12345678901234567890123,\"s\":\"12345678901234567890123\"}");
    free(out);
}
END_TEST

/* B8: a body past the cap is refused, and rendering stops there rather than building it. */
START_TEST(transformer_output_is_capped)
{
    /* An event of ~100 KB and a template naming it 80 times: 8 MB if built. */
    size_t n = 100 * 1024;
    char *ev = malloc(n + 64);
    strcpy(ev, "{\"detail\":{\"big\":\"");
    size_t off = strlen(ev);
    memset(ev + off, 'x', n);
    strcpy(ev + off + n, "\"}}");
    lb_buf_t tmpl = {0};
    for (int i = 0; i < 80; i++)
        lb_buf_puts(&tmpl, "<b>");
    int rc;
    char *out = render(NULL, "{\"b\":\"$.detail.big\"}", tmpl.data, ev, LB_INPUT_MAX_BODY, &rc);
    ck_assert_int_eq(rc, -E2BIG);
    ck_assert_ptr_null(out);
    /* Two copies fit. */
    out = render(NULL, "{\"b\":\"$.detail.big\"}", "<b><b>", ev, LB_INPUT_MAX_BODY, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(strlen(out), 2 * n);
    free(out);
    /* InputPath of a value bigger than the cap. */
    out = render("$.detail", NULL, NULL, ev, 1000, &rc);
    ck_assert_int_eq(rc, -E2BIG);
    lb_buf_free(&tmpl);
    free(ev);
}
END_TEST

START_TEST(whole_event_and_constant_need_no_tree)
{
    lb_input_t *in = NULL;
    ck_assert(lb_input_is_whole_event(NULL));
    ck_assert_int_eq(lb_input_compile_for_target("t", NULL, NULL, NULL, NULL, &in, NULL), 0);
    ck_assert(lb_input_is_whole_event(in));
    char *out;
    size_t len;
    ck_assert_int_eq(lb_input_render_tree(in, NULL, "{\"a\":1}", 7, NULL, 100, &out, &len), 0);
    ck_assert_str_eq(out, "{\"a\":1}");
    free(out);
    ck_assert_int_eq(lb_input_render_tree(in, NULL, "{\"a\":1}", 7, NULL, 6, &out, &len), -E2BIG);
    lb_input_free(&in);
    ck_assert_int_eq(lb_input_compile_for_target("t", "{\"k\": 2}", NULL, NULL, NULL, &in, NULL),
                     0);
    ck_assert(!lb_input_is_whole_event(in));
    ck_assert_int_eq(lb_input_render_tree(in, NULL, "{}", 2, NULL, 100, &out, &len), 0);
    ck_assert_str_eq(out, "{\"k\": 2}");
    free(out);
    lb_input_free(&in);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, input_path_keeps_the_digits_of_numbers);
    tcase_add_test(tc, transformer_output_is_capped);
    tcase_add_test(tc, whole_event_and_constant_need_no_tree);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* Unit tests for lb_json, the one JSON parser: RFC 8259 strictness (every text the fault probes
 * found cJSON accepting and strict JSON refusing, issue 8 B1), numbers that keep their digits,
 * the nesting limit, minify, building and copying trees. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "lb_json.h"
#include "lb_test.h"

static int parses(const char *text, size_t len, int depth)
{
    lb_json_doc_t *d = NULL;
    int rc = lb_json_parse(text, len, depth, &d, NULL);
    lb_json_doc_free(&d);
    return rc == 0;
}

static int ok(const char *text)
{
    return parses(text, strlen(text), 64);
}

START_TEST(refuses_what_rfc8259_refuses)
{
    static const char *const bad[] = {
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":1.e5}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":\"x\ty\"}",
        "{\"a\":\"x\ny\"}",
        "\x0b{}",
        "{}\x0c",
        "{\x01}",
        "{\"a\":1,}",
        "[1,]",
        "{\"a\" 1}",
        "{a:1}",
        "{'a':1}",
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "{} {}",
        "",
        "   ",
        "[\"\\x41\"]",
        "[\"\\u12\"]",
        "[tru]",
        "{\"a\":1}x",
        "[\"\xff\"]",
        "[\"\xc3\"]",
        "[1e]",
        "[-]",
        "[--1]",
        "[\"\\ud800\"]",
        "[\"\\udc00x\"]",
        "[\"\\ud800\\u0041\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ok(bad[i]), "accepted %s", bad[i]);
}
END_TEST

START_TEST(accepts_what_rfc8259_accepts)
{
    static const char *const good[] = {
        "{}",
        "[]",
        "0",
        "-0",
        "1.5e-3",
        "1E+2",
        "\"\"",
        "null",
        " \t\r\n{ \"a\" : [ true , false ] }",
        "{\"a\":1,\"a\":2}",
        "[\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\\\\\"\"]",
        "[\"\xc3\xa9\"]",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(ok(good[i]), "refused %s", good[i]);
}
END_TEST

START_TEST(nesting_limit)
{
    char deep[2100];
    for (int n = 1; n <= 1000; n += 333) {
        memset(deep, '[', (size_t)n);
        memset(deep + n, ']', (size_t)n);
        ck_assert(parses(deep, 2 * (size_t)n, 1000));
    }
    memset(deep, '[', 1001);
    memset(deep + 1001, ']', 1001);
    ck_assert(!parses(deep, 2002, 1000));
    char *err = NULL;
    lb_json_doc_t *d = NULL;
    ck_assert_int_eq(lb_json_parse(deep, 2002, 1000, &d, &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "nesting depth"));
    free(err);
}
END_TEST

START_TEST(numbers_keep_their_text)
{
    lb_json_doc_t *d;
    const char *text = "{\"n\":12345678901234567890123,\"f\":1.50,\"e\":-2E+3}";
    ck_assert_int_eq(lb_json_parse(text, strlen(text), 8, &d, NULL), 0);
    const lb_json_t *n = lb_json_get(lb_json_doc_root(d), "n");
    ck_assert_str_eq(n->str, "12345678901234567890123");
    ck_assert(n->num > 1.2e22 && n->num < 1.3e22);
    char *out = lb_json_print(lb_json_doc_root(d), NULL);
    ck_assert_str_eq(out, text);
    free(out);
    lb_json_doc_free(&d);
}
END_TEST

START_TEST(strings_decode_and_reencode)
{
    lb_json_doc_t *d;
    const char *text = "[\"a\\u0000b\",\"\\u00e9\",\"\\ud83d\\ude00x\",\"q\\\"\\\\\"]";
    ck_assert_int_eq(lb_json_parse(text, strlen(text), 8, &d, NULL), 0);
    const lb_json_t *r = lb_json_doc_root(d);
    const lb_json_t *a = lb_json_at(r, 0);
    ck_assert_uint_eq(a->len, 3);
    ck_assert(lb_json_has_nul(a->str, a->len));
    ck_assert_str_eq(lb_json_at(r, 1)->str, "\xc3\xa9");
    ck_assert_str_eq(lb_json_at(r, 2)->str, "\xf0\x9f\x98\x80x"); /* a surrogate pair */
    char *out = lb_json_print(r, NULL);
    ck_assert_str_eq(out, "[\"a\\u0000b\",\"\xc3\xa9\",\"\xf0\x9f\x98\x80x\",\"q\\\"\\\\\"]");
    free(out);
    lb_json_doc_free(&d);
}
END_TEST

START_TEST(repeated_keys_last_wins)
{
    lb_json_doc_t *d;
    const char *text = "{\"a\":1,\"b\":2,\"a\":3}";
    ck_assert_int_eq(lb_json_parse(text, strlen(text), 8, &d, NULL), 0);
    ck_assert_str_eq(lb_json_get(lb_json_doc_root(d), "a")->str, "3");
    ck_assert_uint_eq(lb_json_doc_root(d)->n_children, 3);
    lb_json_remove(lb_json_doc_root(d), "a");
    char *out = lb_json_print(lb_json_doc_root(d), NULL);
    ck_assert_str_eq(out, "{\"b\":2}");
    free(out);
    lb_json_doc_free(&d);
}
END_TEST

START_TEST(minify_keeps_tokens)
{
    lb_buf_t b = {0};
    const char *text = " { \"a b\" : [ 1 , 2.50 ] ,\n\"c\\\" d\":\"\\u00e9 \\\\\" } ";
    lb_json_minify(&b, text, strlen(text));
    ck_assert_str_eq(b.data, "{\"a b\":[1,2.50],\"c\\\" d\":\"\\u00e9 \\\\\"}");
    lb_buf_free(&b);
}
END_TEST

START_TEST(build_copy_equal)
{
    lb_json_doc_t *d = lb_json_doc_new();
    lb_json_t *o = lb_json_new(d, LB_JSON_OBJECT);
    lb_json_add_str(d, o, "s", "x\"y");
    lb_json_add(d, o, "i", lb_json_new_int(d, -42));
    lb_json_add(d, o, "f", lb_json_new_double(d, 0.1));
    lb_json_add(d, o, "big", lb_json_new_double(d, 1e300));
    lb_json_t *a = lb_json_add(d, o, "a", lb_json_new(d, LB_JSON_ARRAY));
    lb_json_add(d, a, NULL, lb_json_new_bool(d, 1));
    lb_json_add(d, a, NULL, lb_json_new(d, LB_JSON_NULL));
    char *out = lb_json_print(o, NULL);
    ck_assert_str_eq(out,
                     "{\"s\":\"x\\\"y\",\"i\":-42,\"f\":0.1,\"big\":1e+300,\"a\":[true,null]}");
    lb_json_doc_t *d2 = lb_json_doc_new();
    lb_json_t *c = lb_json_copy(d2, o);
    lb_json_doc_free(&d);
    char *out2 = lb_json_print(c, NULL);
    ck_assert_str_eq(out, out2);
    lb_json_doc_t *d3;
    ck_assert_int_eq(lb_json_parse(out, strlen(out), 8, &d3, NULL), 0);
    ck_assert(lb_json_equal(c, lb_json_doc_root(d3)));
    free(out);
    free(out2);
    lb_json_doc_free(&d2);
    lb_json_doc_free(&d3);
}
END_TEST

START_TEST(large_documents_and_strings)
{
    size_t n = 300000;
    char *text = malloc(n + 3);
    text[0] = '"';
    memset(text + 1, 'a', n);
    text[n + 1] = '"';
    text[n + 2] = 0;
    lb_json_doc_t *d;
    ck_assert_int_eq(lb_json_parse(text, n + 2, 8, &d, NULL), 0);
    ck_assert_uint_eq(lb_json_doc_root(d)->len, n);
    lb_json_doc_free(&d);
    free(text);
    lb_buf_t b = {0};
    lb_buf_puts(&b, "[");
    for (int i = 0; i < 20000; i++)
        lb_buf_printf(&b, "%s{\"k%d\":\"v\"}", i ? "," : "", i);
    lb_buf_puts(&b, "]");
    ck_assert_int_eq(lb_json_parse(b.data, b.len, 8, &d, NULL), 0);
    ck_assert_uint_eq(lb_json_doc_root(d)->n_children, 20000);
    ck_assert_str_eq(lb_json_at(lb_json_doc_root(d), 19999)->child->key, "k19999");
    lb_json_doc_free(&d);
    lb_buf_free(&b);
}
END_TEST

START_TEST(get_int_clamps)
{
    const char *text = "{\"a\":42,\"big\":1e300,\"neg\":-1e300,\"s\":\"7\",\"f\":2.9}";
    lb_json_doc_t *doc;
    ck_assert_int_eq(lb_json_parse(text, strlen(text), 8, &doc, NULL), 0);
    const lb_json_t *o = lb_json_doc_root(doc);
    ck_assert_int_eq(lb_json_get_int(o, "a", -1), 42);
    ck_assert(lb_json_get_int(o, "big", -1) == INT64_MAX);
    ck_assert(lb_json_get_int(o, "neg", -1) == INT64_MIN);
    ck_assert_int_eq(lb_json_get_int(o, "s", -1), -1);
    ck_assert_int_eq(lb_json_get_int(o, "missing", -1), -1);
    ck_assert_int_eq(lb_json_get_int(o, "f", -1), 2);
    ck_assert_int_eq(lb_json_get_int(NULL, "a", 5), 5);
    lb_json_doc_free(&doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, refuses_what_rfc8259_refuses);
    tcase_add_test(tc, accepts_what_rfc8259_accepts);
    tcase_add_test(tc, nesting_limit);
    tcase_add_test(tc, numbers_keep_their_text);
    tcase_add_test(tc, strings_decode_and_reencode);
    tcase_add_test(tc, repeated_keys_last_wins);
    tcase_add_test(tc, minify_keeps_tokens);
    tcase_add_test(tc, build_copy_equal);
    tcase_add_test(tc, large_documents_and_strings);
    tcase_add_test(tc, get_int_clamps);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* lb_docs: the registry of JSON-document resources (sorted per kind and region, deep copies,
 * runtime marks that survive a replace but not a restart) and its store round trip, including a
 * row that no longer parses. */
#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lb_docs.h"
#include "lb_engine.h"
#include "lb_test.h"
#include "lb_util.h"

static lb_json_doc_t *doc_of(const char *text)
{
    lb_json_doc_t *d;
    ck_assert_int_eq(lb_json_parse(text, strlen(text), 64, &d, NULL), 0);
    return d;
}

static void put(lb_docs_t *docs, lb_doc_kind_t kind, const char *region, const char *text)
{
    lb_json_doc_t *d = doc_of(text);
    ck_assert_int_eq(lb_docs_put(docs, kind, region, lb_json_doc_root(d)), 0);
    lb_json_doc_free(&d); /* the registry keeps its own copy */
}

START_TEST(test_registry)
{
    lb_docs_t *docs;
    lb_docs_new(&docs);
    put(docs, LB_DOC_ENDPOINT, "us-east-1", "{\"Name\":\"b\",\"V\":1}");
    put(docs, LB_DOC_ENDPOINT, "us-east-1", "{\"Name\":\"a\"}");
    put(docs, LB_DOC_ENDPOINT, "eu-west-1", "{\"Name\":\"z\"}");
    put(docs, LB_DOC_EVENT_SOURCE, "us-east-1", "{\"Name\":\"a\"}");
    ck_assert_uint_eq(lb_docs_count(docs, LB_DOC_ENDPOINT), 3);
    ck_assert_uint_eq(lb_docs_count(docs, LB_DOC_EVENT_SOURCE), 1);
    /* Sorted by (region, name); lower_bound starts a region's walk. */
    const char *region;
    size_t i = lb_docs_lower_bound(docs, LB_DOC_ENDPOINT, "us-east-1", "");
    ck_assert_str_eq(lb_json_get_str(lb_docs_at(docs, LB_DOC_ENDPOINT, i, &region), "Name"), "a");
    ck_assert_str_eq(region, "us-east-1");
    ck_assert_str_eq(lb_json_get_str(lb_docs_at(docs, LB_DOC_ENDPOINT, i + 1, NULL), "Name"), "b");
    ck_assert_ptr_null(lb_docs_at(docs, LB_DOC_ENDPOINT, i + 2, NULL));
    ck_assert_str_eq(lb_json_get_str(lb_docs_at(docs, LB_DOC_ENDPOINT, 0, NULL), "Name"), "z");
    /* A mark is runtime state: kept when the document is replaced. */
    ck_assert_int_eq(lb_docs_mark(docs, LB_DOC_ENDPOINT, "us-east-1", "b"), 0);
    ck_assert_int_eq(lb_docs_set_mark(docs, LB_DOC_ENDPOINT, "us-east-1", "b", 1), 0);
    put(docs, LB_DOC_ENDPOINT, "us-east-1", "{\"Name\":\"b\",\"V\":2}");
    const lb_json_t *b = lb_docs_find(docs, LB_DOC_ENDPOINT, "us-east-1", "b");
    ck_assert_int_eq(lb_json_get_int(b, "V", 0), 2);
    ck_assert_int_eq(lb_docs_mark(docs, LB_DOC_ENDPOINT, "us-east-1", "b"), 1);
    ck_assert_int_eq(lb_docs_set_mark(docs, LB_DOC_ENDPOINT, "us-east-1", "nope", 1), LB_ENOTFOUND);
    /* Kinds are separate namespaces. */
    ck_assert_ptr_null(lb_docs_find(docs, LB_DOC_EVENT_SOURCE, "us-east-1", "b"));
    ck_assert_int_eq(lb_docs_remove(docs, LB_DOC_ENDPOINT, "us-east-1", "a"), 0);
    ck_assert_int_eq(lb_docs_remove(docs, LB_DOC_ENDPOINT, "us-east-1", "a"), LB_ENOTFOUND);
    ck_assert_uint_eq(lb_docs_count(docs, LB_DOC_ENDPOINT), 2);
    /* No Name, or not an object: refused. */
    lb_json_doc_t *bad = doc_of("{\"X\":1}");
    ck_assert_int_eq(lb_docs_put(docs, LB_DOC_ENDPOINT, "us-east-1", lb_json_doc_root(bad)),
                     -EINVAL);
    lb_json_doc_free(&bad);
    lb_docs_free(&docs);
    ck_assert_ptr_null(docs);
}
END_TEST

START_TEST(test_store_round_trip)
{
    lb_test_db_setup_named("docs");
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    ck_assert_int_eq(lb_docs_store_insert(s, LB_DOC_EVENT_SOURCE, "us-east-1", "a/b",
                                          "{\"Name\":\"a/b\",\"Account\":\"1\"}"),
                     0);
    ck_assert_int_eq(lb_docs_store_insert(s, LB_DOC_EVENT_SOURCE, "us-east-1", "a/b", "{}"),
                     LB_EEXISTS);
    ck_assert_int_eq(lb_docs_store_put(s, LB_DOC_EVENT_SOURCE, "us-east-1", "a/b",
                                       "{\"Name\":\"a/b\",\"Account\":\"2\"}"),
                     0);
    ck_assert_int_eq(lb_docs_store_put(s, LB_DOC_ENDPOINT, "us-east-1", "e", "{\"Name\":\"e\"}"),
                     0);
    ck_assert_int_eq(lb_docs_store_put(s, LB_DOC_ENDPOINT, "us-east-1", "gone", "{\"Name\":1}"), 0);
    ck_assert_int_eq(lb_docs_store_delete(s, LB_DOC_ENDPOINT, "us-east-1", "x"), LB_ENOTFOUND);
    lb_docs_t *docs;
    lb_docs_new(&docs);
    size_t skipped = 0;
    ck_assert_int_eq(lb_docs_load(docs, s, &skipped), 0);
    ck_assert_uint_eq(skipped, 1);
    ck_assert_str_eq(
        lb_json_get_str(lb_docs_find(docs, LB_DOC_EVENT_SOURCE, "us-east-1", "a/b"), "Account"),
        "2");
    ck_assert_ptr_nonnull(lb_docs_find(docs, LB_DOC_ENDPOINT, "us-east-1", "e"));
    lb_docs_free(&docs);
    /* The engine loads them too. */
    ck_assert_int_eq(lb_docs_store_delete(s, LB_DOC_ENDPOINT, "us-east-1", "gone"), 0);
    lb_engine_t *e;
    lb_engine_new(&e);
    skipped = 9;
    ck_assert_int_eq(lb_engine_load(e, s, &skipped), 0);
    ck_assert_uint_eq(skipped, 0);
    ck_assert_uint_eq(lb_docs_count(lb_engine_docs(e), LB_DOC_ENDPOINT), 1);
    lb_engine_free(&e);
    lb_store_close(&s);
    lb_test_db_remove();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("docs");
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_store_round_trip);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

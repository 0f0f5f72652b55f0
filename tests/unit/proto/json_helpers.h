/* Reading JSON in the proto unit tests: documents parsed with lb_json are held until the test's
 * teardown calls json_release_all(), so a test can keep pointers into every response it got.
 * Header-only; everything is static inline so a test uses what it needs. */
#ifndef LB_TEST_JSON_HELPERS_H
#define LB_TEST_JSON_HELPERS_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"

static lb_json_doc_t **json_held;
static size_t json_n_held;

/* The root of text parsed as JSON (NULL if it is not JSON); the document lives until
 * json_release_all(). */
static inline const lb_json_t *json_parse_held(const char *text)
{
    lb_json_doc_t *doc;
    if (!text || lb_json_parse(text, strlen(text), 1000, &doc, NULL)) return NULL;
    json_held = realloc(json_held, (json_n_held + 1) * sizeof *json_held);
    ck_assert_ptr_nonnull(json_held);
    json_held[json_n_held++] = doc;
    return lb_json_doc_root(doc);
}

static inline void json_release_all(void)
{
    for (size_t i = 0; i < json_n_held; i++)
        lb_json_doc_free(&json_held[i]);
    free(json_held);
    json_held = NULL;
    json_n_held = 0;
}

/* Elements of an array or members of an object; 0 for anything else or NULL. */
static inline size_t count(const lb_json_t *n)
{
    return n ? n->n_children : 0;
}

static inline int is_number(const lb_json_t *n)
{
    return lb_json_is(n, LB_JSON_NUMBER);
}

static inline int is_object(const lb_json_t *n)
{
    return lb_json_is(n, LB_JSON_OBJECT);
}

static inline int is_true(const lb_json_t *n)
{
    return lb_json_is(n, LB_JSON_TRUE);
}

#endif

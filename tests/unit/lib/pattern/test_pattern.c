/* Unit tests for the pattern engine (lib/lb_pattern*.c, lb_event.c, lb_matcher.c).
 *
 * The ground truth is tests/conformance/patterns.jsonl: 168 TestEventPattern answers
 * recorded from real AWS (via LocalStack's AWS-validated suite, Apache-2.0). Every case there is
 * checked, and every valid conformance pattern is also loaded into one matcher, whose answer for
 * each conformance event must equal lb_pattern_matches for every pattern: 160 x 160 pairs.
 * Our own cases below say where their expected answers come from. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_pattern.h"

/* ---- helpers ---- */

static int match_text(const char *pattern, const char *event)
{
    lb_pattern_t *p = NULL;
    lb_event_t *e = NULL;
    char *err = NULL;
    int rc = lb_pattern_compile(pattern, strlen(pattern), &p, &err);
    ck_assert_msg(rc == 0, "pattern %s failed to compile: %s", pattern, err ? err : "?");
    ck_assert_int_eq(lb_event_parse(event, strlen(event), &e), 0);
    int m = lb_pattern_matches(p, e);
    /* The matcher must agree with the single-pattern evaluator, alone and among others. */
    lb_matcher_t *mt = NULL;
    lb_matcher_new(&mt);
    static const char *others[] = {
        "{\"source\":[\"x\"]}", "{\"detail\":{\"a\":[{\"prefix\":\"\"}]}}",
        "{\"detail-type\":[{\"anything-but\":\"zz\"}]}", "{\"n\":[{\"numeric\":[\">\",0]}]}"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        lb_pattern_t *o = NULL;
        ck_assert_int_eq(lb_pattern_compile(others[i], strlen(others[i]), &o, NULL), 0);
        ck_assert_int_eq(lb_matcher_add(mt, 100 + i, o), 0);
        lb_pattern_free(&o);
    }
    ck_assert_int_eq(lb_matcher_add(mt, 7, p), 0);
    uint64_t *ids = NULL;
    size_t n = 0;
    ck_assert_int_eq(lb_matcher_match(mt, e, &ids, &n), 0);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == 7) found = 1;
    ck_assert_msg(found == m, "matcher says %d, pattern says %d for %s vs %s", found, m, pattern,
                  event);
    free(ids);
    lb_matcher_free(&mt);
    char *why = NULL;
    ck_assert_int_eq(lb_pattern_explain(p, e, &why), 0);
    ck_assert_msg((why == NULL) == (m == 1), "explain disagrees: %s", why ? why : "(null)");
    free(why);
    lb_pattern_free(&p);
    lb_event_free(&e);
    return m;
}

static char *compile_error(const char *pattern)
{
    lb_pattern_t *p = NULL;
    char *err = NULL;
    int rc = lb_pattern_compile(pattern, strlen(pattern), &p, &err);
    ck_assert_msg(rc == -EINVAL, "pattern %s compiled but should fail", pattern);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(err);
    return err;
}

/* ---- the AWS conformance file ---- */

typedef struct {
    char *name;
    char *pattern;
    char *event;
    int match;   /* 1, 0, or -1 when an error is expected */
    char *error; /* AWS error code or NULL */
    char *error_message;
} conf_case_t;

static conf_case_t *load_conformance(size_t *n_out)
{
    FILE *f = fopen(LB_CONFORMANCE_DIR "/patterns.jsonl", "r");
    ck_assert_msg(f != NULL, "cannot open %s", LB_CONFORMANCE_DIR "/patterns.jsonl");
    conf_case_t *cases = NULL;
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        lb_json_doc_t *doc;
        ck_assert_int_eq(lb_json_parse(line, (size_t)len, 1000, &doc, NULL), 0);
        const lb_json_t *j = lb_json_doc_root(doc);
        cases = realloc(cases, (n + 1) * sizeof *cases);
        conf_case_t *c = &cases[n++];
        memset(c, 0, sizeof *c);
        c->name = strdup(lb_json_get_str(j, "name"));
        const char *praw = lb_json_get_str(j, "pattern_raw");
        const char *eraw = lb_json_get_str(j, "event_raw");
        /* pattern_raw wins: it keeps repeated keys that the parsed form lost. */
        c->pattern = praw ? strdup(praw) : lb_json_print(lb_json_get(j, "pattern"), NULL);
        c->event = eraw ? strdup(eraw) : lb_json_print(lb_json_get(j, "event"), NULL);
        const lb_json_t *m = lb_json_get(j, "match");
        c->match = lb_json_is(m, LB_JSON_TRUE) ? 1 : lb_json_is(m, LB_JSON_FALSE) ? 0 : -1;
        const char *er = lb_json_get_str(j, "error");
        c->error = er ? strdup(er) : NULL;
        const char *em = lb_json_get_str(j, "error_message");
        c->error_message = em ? strdup(em) : NULL;
        lb_json_doc_free(&doc);
    }
    free(line);
    fclose(f);
    *n_out = n;
    return cases;
}

static void free_conformance(conf_case_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].name);
        free(c[i].pattern);
        free(c[i].event);
        free(c[i].error);
        free(c[i].error_message);
    }
    free(c);
}

START_TEST(conformance_every_case)
{
    size_t n;
    conf_case_t *cases = load_conformance(&n);
    ck_assert_uint_eq(n, 168);
    size_t passed = 0, validation = 0;
    for (size_t i = 0; i < n; i++) {
        conf_case_t *c = &cases[i];
        lb_pattern_t *p = NULL;
        char *err = NULL;
        int rc = lb_pattern_compile(c->pattern, strlen(c->pattern), &p, &err);
        if (c->error && !strcmp(c->error, "InvalidEventPatternException")) {
            ck_assert_msg(rc == -EINVAL, "%s: pattern should be rejected", c->name);
            if (c->error_message)
                ck_assert_msg(!strcmp(err, c->error_message), "%s: message\n  got  %s\n  want %s",
                              c->name, err, c->error_message);
            free(err);
            passed++;
            continue;
        }
        ck_assert_msg(rc == 0, "%s: compile failed: %s", c->name, err ? err : "?");
        lb_event_t *e = NULL;
        int erc = lb_event_parse(c->event, strlen(c->event), &e);
        if (c->error && !strcmp(c->error, "ValidationException")) {
            /* Envelope validation (object with id, account, source, time, region, detail-type)
             * belongs to the API layer; the lib only refuses events that are not objects. */
            validation++;
            lb_event_free(&e);
            lb_pattern_free(&p);
            (void)erc;
            continue;
        }
        ck_assert_msg(erc == 0, "%s: event did not parse", c->name);
        int m = lb_pattern_matches(p, e);
        ck_assert_msg(m == c->match, "%s: got %d want %d", c->name, m, c->match);
        char *why = NULL;
        ck_assert_int_eq(lb_pattern_explain(p, e, &why), 0);
        ck_assert_msg((why == NULL) == (m == 1), "%s: explain disagrees", c->name);
        free(why);
        passed++;
        lb_event_free(&e);
        lb_pattern_free(&p);
    }
    ck_assert_uint_eq(validation, 3);
    ck_assert_uint_eq(passed, n - validation);
    free_conformance(cases, n);
}
END_TEST

/* The three ValidationException cases carry events that are not valid envelopes; the two that
 * are not JSON objects must be refused by the parser too. */
START_TEST(conformance_non_object_events_refused)
{
    lb_event_t *e = NULL;
    ck_assert_int_eq(lb_event_parse("plain string", 12, &e), -EINVAL);
    ck_assert_int_eq(lb_event_parse("[\"plain string\"]", 16, &e), -EINVAL);
    ck_assert_ptr_null(e);
}
END_TEST

/* Every valid conformance pattern in one matcher: for every conformance event the matcher's ids
 * must be exactly the patterns that lb_pattern_matches accepts. */
START_TEST(conformance_matcher_agrees)
{
    size_t n;
    conf_case_t *cases = load_conformance(&n);
    lb_pattern_t **pats = calloc(n, sizeof *pats);
    lb_matcher_t *m = NULL;
    lb_matcher_new(&m);
    for (size_t i = 0; i < n; i++)
        if (lb_pattern_compile(cases[i].pattern, strlen(cases[i].pattern), &pats[i], NULL) == 0)
            ck_assert_int_eq(lb_matcher_add(m, i, pats[i]), 0);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        lb_event_t *e = NULL;
        if (lb_event_parse(cases[i].event, strlen(cases[i].event), &e)) continue;
        uint64_t *ids = NULL;
        size_t nids = 0;
        ck_assert_int_eq(lb_matcher_match(m, e, &ids, &nids), 0);
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            if (!pats[j]) continue;
            int want = lb_pattern_matches(pats[j], e);
            int got = k < nids && ids[k] == j;
            ck_assert_msg(want == got, "event of %s, pattern of %s: matcher %d, pattern %d",
                          cases[i].name, cases[j].name, got, want);
            if (got) k++;
            checked++;
        }
        ck_assert_uint_eq(k, nids);
        free(ids);
        lb_event_free(&e);
    }
    ck_assert_uint_gt(checked, 20000);
    for (size_t i = 0; i < n; i++)
        lb_pattern_free(&pats[i]);
    free(pats);
    lb_matcher_free(&m);
    free_conformance(cases, n);
}
END_TEST

/* ---- our own cases ---- */

typedef struct {
    const char *pattern, *event;
    int match;
    const char *why; /* where the expected answer comes from */
} own_case_t;

static const own_case_t own_cases[] = {
    /* Exact values: AWS docs "Event pattern syntax" + event-ruler README. */
    {"{\"a\":[\"\"]}", "{\"a\":\"\"}", 1, "docs: empty string matches empty string"},
    {"{\"a\":[\"\"]}", "{\"a\":null}", 0, "docs: empty string is not null"},
    {"{\"a\":[5]}", "{\"a\":5.0}", 1, "conformance number_comparison_float generalised"},
    {"{\"a\":[5]}", "{\"a\":5e0}", 1, "event-ruler: numbers compare numerically"},
    {"{\"a\":[5]}", "{\"a\":\"5\"}", 0, "event-ruler: strings never equal numbers"},
    {"{\"a\":[\"5\"]}", "{\"a\":5}", 0, "event-ruler: strings never equal numbers"},
    {"{\"a\":[-0.0]}", "{\"a\":0}", 1, "IEEE: -0 equals 0"},
    {"{\"a\":[1e308]}", "{\"a\":1e308}", 1, "huge numbers compare exactly"},
    {"{\"a\":[12345678901234567890]}", "{\"a\":12345678901234567890}", 1, "beyond int64"},
    {"{\"a\":[true]}", "{\"a\":\"true\"}", 0, "booleans are not strings"},
    {"{\"a\":[null]}", "{\"a\":[1,null]}", 1, "null inside an event array"},
    {"{\"a\":[null]}", "{}", 0, "absent is not null (conformance null_value_NEG kin)"},
    {"{\"a\":[\"caf\\u00e9 \\ud83d\\ude80\"]}", "{\"a\":\"caf\\u00e9 \\ud83d\\ude80\"}", 1,
     "unicode escapes decode to the same UTF-8"},
    {"{\"a\":[\"x\"]}", "{\"a\":[[\"x\"]]}", 1, "nested event arrays flatten"},
    {"{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":[1]}}}}}}",
     "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":1}}}}}}", 1, "deep nesting"},
    {"{\"a\":{\"b\":[1]}}", "{\"a\":[{\"b\":2},{\"b\":1}]}", 1, "arrays of objects"},
    /* Array consistency: event-ruler README "Array consistency" (rulesForJSONEvent). */
    {"{\"a\":{\"b\":[1],\"c\":[2]}}", "{\"a\":[{\"b\":1,\"c\":3},{\"b\":4,\"c\":2}]}", 0,
     "event-ruler: fields must match in the same array element"},
    {"{\"a\":{\"b\":[1],\"c\":[2]}}", "{\"a\":[{\"b\":4,\"c\":3},{\"b\":1,\"c\":2}]}", 1,
     "event-ruler: same element matches"},
    {"{\"a\":{\"b\":[1]},\"z\":[2]}", "{\"a\":[{\"b\":1}],\"z\":[5,2]}", 1,
     "different arrays never conflict"},
    /* prefix / suffix / equals-ignore-case: AWS docs "Content filtering". */
    {"{\"a\":[{\"prefix\":\"ab\"}]}", "{\"a\":\"abc\"}", 1, "docs"},
    {"{\"a\":[{\"prefix\":\"ab\"}]}", "{\"a\":\"a\"}", 0, "docs"},
    {"{\"a\":[{\"prefix\":\"1\"}]}", "{\"a\":12}", 0, "event-ruler: prefix applies to strings"},
    {"{\"a\":[{\"suffix\":\".png\"}]}", "{\"a\":[\"x.jpg\",\"y.png\"]}", 1, "docs + arrays"},
    {"{\"a\":[{\"suffix\":\"\"}]}", "{\"a\":\"\"}", 1, "conformance content_suffix_empty kin"},
    {"{\"a\":[{\"equals-ignore-case\":\"\\u00c9T\\u00c9\"}]}", "{\"a\":\"\\u00e9t\\u00e9\"}", 1,
     "Java toLowerCase folds Latin-1"},
    {"{\"a\":[{\"equals-ignore-case\":\"abc\"}]}", "{\"a\":\"abcd\"}", 0, "docs"},
    {"{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"AB\"}}]}", "{\"a\":\"aBc\"}", 1, "docs"},
    {"{\"a\":[{\"suffix\":{\"equals-ignore-case\":\"BC\"}}]}", "{\"a\":\"xbC\"}", 1, "docs"},
    {"{\"a\":[{\"suffix\":{\"equals-ignore-case\":\"BC\"}}]}", "{\"a\":\"xbd\"}", 0, "docs"},
    /* wildcard: AWS docs "Wildcard matching"; event-ruler README. */
    {"{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":\"\"}", 1, "event-ruler: * matches zero chars"},
    {"{\"a\":[{\"wildcard\":\"a*c\"}]}", "{\"a\":\"ac\"}", 1, "event-ruler: * matches zero chars"},
    {"{\"a\":[{\"wildcard\":\"a*c\"}]}", "{\"a\":\"abbbc\"}", 1, "docs"},
    {"{\"a\":[{\"wildcard\":\"a*c\"}]}", "{\"a\":\"abbbcd\"}", 0, "docs"},
    {"{\"a\":[{\"wildcard\":\"a\\\\*c\"}]}", "{\"a\":\"a*c\"}", 1, "docs: \\* is a literal star"},
    {"{\"a\":[{\"wildcard\":\"a\\\\*c\"}]}", "{\"a\":\"abc\"}", 0, "docs: \\* is a literal star"},
    {"{\"a\":[{\"wildcard\":\"a\\\\\\\\b\"}]}", "{\"a\":\"a\\\\b\"}", 1,
     "docs: \\\\ is a backslash"},
    {"{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":5}", 0, "wildcard applies to strings"},
    /* anything-but: AWS docs + conformance semantics for null and mixed types. */
    {"{\"a\":[{\"anything-but\":[\"x\",5]}]}", "{\"a\":\"5\"}", 1, "string 5 is not number 5"},
    {"{\"a\":[{\"anything-but\":[\"x\",5]}]}", "{\"a\":5.0}", 0, "numeric equality"},
    {"{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":true}", 1, "booleans are not x"},
    {"{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":[\"x\",\"y\"]}", 1, "any element may match"},
    {"{\"a\":[{\"anything-but\":\"x\"}]}", "{\"a\":[\"x\"]}", 0, "docs"},
    {"{\"a\":[{\"anything-but\":{\"equals-ignore-case\":[\"X\",\"Y\"]}}]}", "{\"a\":\"y\"}", 0,
     "docs"},
    {"{\"a\":[{\"anything-but\":{\"wildcard\":\"a*\"}}]}", "{\"a\":\"ba\"}", 1, "docs"},
    /* numeric: AWS docs "Numeric matching". */
    {"{\"a\":[{\"numeric\":[\"=\",3.0e2]}]}", "{\"a\":300}", 1, "docs"},
    {"{\"a\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"a\":5}", 1, "docs: inclusive top"},
    {"{\"a\":[{\"numeric\":[\">\",0,\"<=\",5]}]}", "{\"a\":0}", 0, "docs: exclusive bottom"},
    {"{\"a\":[{\"numeric\":[\">=\",-1e9]}]}", "{\"a\":-1e9}", 1, "negative bounds"},
    {"{\"a\":[{\"numeric\":[\"<\",-1.5]}]}", "{\"a\":-1.6}", 1, "negative numbers order"},
    {"{\"a\":[{\"numeric\":[\"<\",-1.5]}]}", "{\"a\":-1.4}", 0, "negative numbers order"},
    {"{\"a\":[{\"numeric\":[\">\",1]}]}", "{\"a\":[0,\"7\",2]}", 1, "array: 2 > 1"},
    {"{\"a\":[{\"numeric\":[\"<\",1e300]}]}", "{\"a\":1e-300}", 1, "huge and tiny"},
    /* cidr: AWS docs "IP address matching". */
    {"{\"a\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"a\":\"10.255.1.2\"}", 1, "docs"},
    {"{\"a\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"a\":\"11.0.0.1\"}", 0, "docs"},
    {"{\"a\":[{\"cidr\":\"0.0.0.0/0\"}]}", "{\"a\":\"1.2.3.4\"}", 1, "every IPv4 address"},
    {"{\"a\":[{\"cidr\":\"10.0.0.0/8\"}]}", "{\"a\":\"::ffff:10.0.0.1\"}", 0, "families differ"},
    {"{\"a\":[{\"cidr\":\"2001:db8::/32\"}]}", "{\"a\":\"2001:DB8:0:0:1::1\"}", 1, "IPv6 case"},
    {"{\"a\":[{\"cidr\":\"1.2.3.4/32\"}]}", "{\"a\":\"1.2.3.4\"}", 1, "host route"},
    /* exists: AWS docs "Exists matching"; conformance exists_* for objects. */
    {"{\"a\":[{\"exists\":true}]}", "{\"a\":null}", 1, "event-ruler: null is a value"},
    {"{\"a\":[{\"exists\":true}]}", "{\"a\":[]}", 0, "conformance exists_list_empty_NEG"},
    {"{\"a\":[{\"exists\":false}]}", "{\"a\":{}}", 1, "objects are not leaves"},
    {"{\"a\":[{\"exists\":false}]}", "{\"a\":[]}", 1, "empty arrays are not leaves"},
    {"{\"a\":[{\"exists\":false}]}", "{\"a\":0}", 0, "docs"},
    {"{\"a\":[{\"exists\":false}],\"b\":[1]}", "{\"b\":1}", 1, "docs"},
    {"{\"a\":[{\"exists\":false}],\"b\":[1]}", "{\"b\":2}", 0, "docs"},
    /* $or: AWS docs "Multiple matching ($or)". */
    {"{\"$or\":[{\"a\":[1]},{\"b\":[2]}]}", "{\"b\":2}", 1, "docs"},
    {"{\"$or\":[{\"a\":[1]},{\"b\":[2]}]}", "{\"b\":3}", 0, "docs"},
    {"{\"x\":[0],\"$or\":[{\"a\":[1]},{\"$or\":[{\"b\":[2]},{\"c\":[3]}]}]}", "{\"x\":0,\"c\":3}",
     1, "docs: nested $or"},
    {"{\"d\":{\"$or\":[{\"a\":[1]},{\"b\":[{\"exists\":false}]}]}}", "{\"d\":{\"a\":2}}", 1,
     "docs: $or at any level"},
    {"{\"a\":[\"x\"],\"a\":[\"y\"]}", "{\"a\":\"y\"}", 1, "conformance multi_key: last key wins"},
    /* Combinations in one array: conformance operator_multiple_list. */
    {"{\"a\":[\"x\",{\"prefix\":\"q\"},{\"numeric\":[\">\",9]},null]}", "{\"a\":10}", 1, "OR"},
    {"{\"a\":[\"x\",{\"prefix\":\"q\"},{\"numeric\":[\">\",9]},null]}", "{\"a\":\"qq\"}", 1, "OR"},
    {"{\"a\":[\"x\",{\"prefix\":\"q\"},{\"numeric\":[\">\",9]},null]}", "{\"a\":9}", 0, "OR"},
};

START_TEST(own_match_cases)
{
    for (size_t i = 0; i < sizeof own_cases / sizeof *own_cases; i++) {
        const own_case_t *c = &own_cases[i];
        int m = match_text(c->pattern, c->event);
        ck_assert_msg(m == c->match, "case %zu (%s): %s vs %s: got %d", i, c->why, c->pattern,
                      c->event, m);
    }
}
END_TEST

typedef struct {
    const char *pattern, *message;
} err_case_t;

#define R "Event pattern is not valid. Reason: "
static const err_case_t err_cases[] = {
    /* Texts from the conformance file (AWS) or from event-ruler's JsonRuleCompiler. */
    {"{\"a\":[]}", R "Empty arrays are not allowed"},
    {"{\"a\":{}}", R "Empty objects are not allowed"},
    {"{\"a\":[[1]]}", R "Match value must be String, number, true, false, or null"},
    {"{\"a\":[{\"prefix\":\"a\",\"suffix\":\"b\"}]}", R "Only one key allowed in match expression"},
    {"{\"a\":[{\"exists\":\"yes\"}]}", R "exists match pattern must be either true or false."},
    {"{\"a\":[{\"numeric\":[]}]}", R "Invalid member in numeric match: ]"},
    {"{\"a\":[{\"numeric\":[\"~\",1]}]}", R "Unrecognized numeric range operator: ~"},
    {"{\"a\":[{\"numeric\":[\">\",5,\"<\",5]}]}", R "Bottom must be less than top"},
    {"{\"a\":[{\"numeric\":[\"=\",5,\"<\",6]}]}", R "Too many elements in numeric expression"},
    {"{\"a\":[{\"numeric\":[\"=\",\"5\"]}]}", R "Value of equals must be numeric"},
    {"{\"a\":[{\"numeric\":[\">\",1,\"<\",5,\"<\"]}]}",
     R "Too many terms in numeric range expression"},
    {"{\"a\":[{\"anything-but\":{\"contains\":\"x\"}}]}",
     R "Unsupported anything-but pattern: contains"},
    {"{\"a\":[{\"anything-but\":true}]}",
     R "Value of anything-but must be an array or single string/number value."},
    {"{\"a\":[{\"wildcard\":\"a\\\\b\"}]}", R "Invalid escape character at pos 1"},
    {"{\"a\":[{\"wildcard\":\"**\"}]}", R "Consecutive wildcard characters at pos 1"},
    {"{\"a\":[{\"cidr\":\"10.0.0.0/33\"}]}",
     R "Malformed CIDR, mask bits must be between 0 and 32"},
    {"{\"a\":[{\"cidr\":\"1.2.3/8\"}]}", R "Nonstandard IP address: 1.2.3"},
    {"{\"a\":[{\"Prefix\":\"x\"}]}", R "Unrecognized match type Prefix"},
    {"{\"a\":true}", R "\"a\" must be an object or an array"},
    {"{\"a\":[1]", R "Unexpected end-of-input: expected close marker for Object"},
    {"{\"a\":[1 2]}", R "Unexpected character ('2' (code 50)): was expecting comma to separate "
                        "Array entries"},
    {"", R "No content to map due to end-of-input"},
    {"\"x\"", R "Filter is not an object"},
};

START_TEST(own_error_cases)
{
    for (size_t i = 0; i < sizeof err_cases / sizeof *err_cases; i++) {
        char *err = compile_error(err_cases[i].pattern);
        ck_assert_msg(!strcmp(err, err_cases[i].message), "case %zu: got %s want %s", i, err,
                      err_cases[i].message);
        free(err);
    }
    /* Deep nesting is refused, not a stack overflow. */
    char deep[4000];
    size_t k = 0;
    for (int i = 0; i < 1000; i++)
        deep[k++] = '[';
    deep[k] = '\0';
    char *err = compile_error(deep);
    ck_assert_ptr_nonnull(strstr(err, "nesting depth"));
    free(err);
}
END_TEST

START_TEST(explain_names_field)
{
    const char *pat = "{\"detail\":{\"state\":[\"running\"],\"zone\":[{\"exists\":true}]}}";
    lb_pattern_t *p = NULL;
    lb_event_t *e = NULL;
    ck_assert_int_eq(lb_pattern_compile(pat, strlen(pat), &p, NULL), 0);
    const char *ev = "{\"detail\":{\"state\":\"stopped\"}}";
    ck_assert_int_eq(lb_event_parse(ev, strlen(ev), &e), 0);
    char *why = NULL;
    ck_assert_int_eq(lb_pattern_explain(p, e, &why), 0);
    ck_assert_str_eq(why, "field detail.state: pattern wants [\"running\"], event has \"stopped\"");
    free(why);
    lb_event_free(&e);
    ev = "{\"detail\":{\"state\":\"running\"}}";
    ck_assert_int_eq(lb_event_parse(ev, strlen(ev), &e), 0);
    ck_assert_int_eq(lb_pattern_explain(p, e, &why), 0);
    ck_assert_str_eq(why, "field detail.zone: pattern wants [{\"exists\":true}], field absent");
    free(why);
    lb_event_free(&e);
    ev = "{\"detail\":{\"state\":\"running\",\"zone\":\"a\"}}";
    ck_assert_int_eq(lb_event_parse(ev, strlen(ev), &e), 0);
    ck_assert_int_eq(lb_pattern_explain(p, e, &why), 0);
    ck_assert_ptr_null(why);
    lb_event_free(&e);
    lb_pattern_free(&p);
}
END_TEST

START_TEST(matcher_add_replace_remove)
{
    lb_matcher_t *m = NULL;
    ck_assert_int_eq(lb_matcher_new(&m), 0);
    const char *pa = "{\"source\":[\"a\"]}", *pb = "{\"source\":[{\"prefix\":\"\"}]}";
    lb_pattern_t *a = NULL, *b = NULL;
    ck_assert_int_eq(lb_pattern_compile(pa, strlen(pa), &a, NULL), 0);
    ck_assert_int_eq(lb_pattern_compile(pb, strlen(pb), &b, NULL), 0);
    ck_assert_int_eq(lb_matcher_add(m, 30, a), 0);
    ck_assert_int_eq(lb_matcher_add(m, 10, b), 0);
    ck_assert_int_eq(lb_matcher_add(m, 20, a), 0);
    lb_pattern_free(&a); /* the matcher keeps its own copies */
    lb_pattern_free(&b);
    lb_event_t *e = NULL;
    ck_assert_int_eq(lb_event_parse("{\"source\":\"a\"}", 14, &e), 0);
    uint64_t *ids = NULL;
    size_t n = 0;
    ck_assert_int_eq(lb_matcher_match(m, e, &ids, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert(ids[0] == 10 && ids[1] == 20 && ids[2] == 30);
    free(ids);
    /* Replacing rule 30 with a pattern that does not match drops it. */
    const char *pc = "{\"source\":[\"c\"]}";
    lb_pattern_t *c = NULL;
    ck_assert_int_eq(lb_pattern_compile(pc, strlen(pc), &c, NULL), 0);
    ck_assert_int_eq(lb_matcher_add(m, 30, c), 0);
    lb_pattern_free(&c);
    ck_assert_uint_eq(lb_matcher_count(m), 3);
    ck_assert_int_eq(lb_matcher_remove(m, 10), 0);
    ck_assert_int_eq(lb_matcher_remove(m, 10), -ENOENT);
    ck_assert_int_eq(lb_matcher_match(m, e, &ids, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert(ids[0] == 20);
    free(ids);
    ck_assert_int_eq(lb_matcher_remove(m, 20), 0);
    ck_assert_int_eq(lb_matcher_match(m, e, &ids, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(ids);
    lb_event_free(&e);
    lb_matcher_free(&m);
    ck_assert_ptr_null(m);
}
END_TEST

/* Many rules on one path with every indexable operator, then churn: after removing half, the
 * matcher must still agree with the evaluator for every rule. */
START_TEST(matcher_many_rules_agree)
{
    lb_matcher_t *m = NULL;
    lb_matcher_new(&m);
    enum { N = 600 };
    lb_pattern_t *pats[N] = {0};
    char buf[256];
    for (int i = 0; i < N; i++) {
        switch (i % 8) {
        case 0:
            snprintf(buf, sizeof buf, "{\"d\":{\"v\":[\"s%d\"]}}", i % 50);
            break;
        case 1:
            snprintf(buf, sizeof buf, "{\"d\":{\"v\":[{\"prefix\":\"s%d\"}]}}", i % 7);
            break;
        case 2:
            snprintf(buf, sizeof buf, "{\"d\":{\"v\":[{\"suffix\":\"%d\"}]}}", i % 9);
            break;
        case 3:
            snprintf(buf, sizeof buf, "{\"d\":{\"n\":[{\"numeric\":[\">\",%d,\"<=\",%d]}]}}",
                     i % 40, i % 40 + 7);
            break;
        case 4:
            snprintf(buf, sizeof buf, "{\"d\":{\"v\":[{\"equals-ignore-case\":\"S%d\"}]}}", i % 50);
            break;
        case 5:
            snprintf(buf, sizeof buf, "{\"d\":{\"ip\":[{\"cidr\":\"10.%d.0.0/16\"}]}}", i % 5);
            break;
        case 6:
            snprintf(buf, sizeof buf, "{\"d\":{\"v\":[{\"anything-but\":\"s%d\"}]}}", i % 3);
            break;
        default:
            snprintf(buf, sizeof buf,
                     "{\"$or\":[{\"d\":{\"n\":[%d]}},{\"d\":{\"w\":[{\"exists\":true}]}}]}",
                     i % 30);
            break;
        }
        ck_assert_int_eq(lb_pattern_compile(buf, strlen(buf), &pats[i], NULL), 0);
        ck_assert_int_eq(lb_matcher_add(m, (uint64_t)i, pats[i]), 0);
    }
    for (int round = 0; round < 2; round++) {
        for (int ev = 0; ev < 60; ev++) {
            snprintf(buf, sizeof buf,
                     "{\"d\":{\"v\":[\"s%d\",\"x%d\"],\"n\":%d.5,\"ip\":\"10.%d.3.4\"%s}}", ev % 50,
                     ev % 9, ev % 45, ev % 6, ev % 4 ? "" : ",\"w\":1");
            lb_event_t *e = NULL;
            ck_assert_int_eq(lb_event_parse(buf, strlen(buf), &e), 0);
            uint64_t *ids = NULL;
            size_t n = 0, k = 0;
            ck_assert_int_eq(lb_matcher_match(m, e, &ids, &n), 0);
            for (int i = 0; i < N; i++) {
                if (!pats[i]) continue;
                int want = lb_pattern_matches(pats[i], e);
                int got = k < n && ids[k] == (uint64_t)i;
                ck_assert_msg(want == got, "rule %d event %s: matcher %d pattern %d", i, buf, got,
                              want);
                k += (size_t)got;
            }
            ck_assert_uint_eq(k, n);
            free(ids);
            lb_event_free(&e);
        }
        for (int i = round; i < N; i += 2 + 2 * round) {
            ck_assert_int_eq(lb_matcher_remove(m, (uint64_t)i), 0);
            lb_pattern_free(&pats[i]);
        }
    }
    for (int i = 0; i < N; i++)
        lb_pattern_free(&pats[i]);
    lb_matcher_free(&m);
}
END_TEST

static Suite *pattern_suite(void)
{
    Suite *s = suite_create("pattern");
    TCase *tc = tcase_create("conformance");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conformance_every_case);
    tcase_add_test(tc, conformance_non_object_events_refused);
    tcase_add_test(tc, conformance_matcher_agrees);
    suite_add_tcase(s, tc);
    tc = tcase_create("own");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, own_match_cases);
    tcase_add_test(tc, own_error_cases);
    tcase_add_test(tc, explain_names_field);
    tcase_add_test(tc, matcher_add_replace_remove);
    tcase_add_test(tc, matcher_many_rules_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pattern_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

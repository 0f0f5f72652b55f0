/* libFuzzer target for the pattern engine: the input is a pattern and an event separated by the
 * first NUL byte (seeds in tests/fuzz/pattern_seeds/, made by make_pattern_seeds.py). The pattern
 * is compiled, the event parsed and matched, a failure explained, and the matcher must agree with
 * the single-pattern evaluator; any disagreement aborts so the fuzzer reports it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb_pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep = memchr(text, '\0', size);
    size_t plen = sep ? (size_t)(sep - text) : size;
    const char *ev = sep ? sep + 1 : "{}";
    size_t elen = sep ? size - plen - 1 : 2;

    lb_pattern_t *p = NULL;
    char *err = NULL;
    if (lb_pattern_compile(text, plen, &p, &err)) {
        if (!err) abort(); /* an invalid pattern always comes with AWS's reason */
        free(err);
        return 0;
    }
    lb_event_t *e = NULL;
    if (lb_event_parse(ev, elen, &e) == 0) {
        int m = lb_pattern_matches(p, e);
        char *why = NULL;
        if (lb_pattern_explain(p, e, &why) || (why == NULL) != (m == 1)) abort();
        free(why);
        lb_matcher_t *mt = NULL;
        lb_matcher_new(&mt);
        lb_matcher_add(mt, 1, p);
        lb_matcher_add(mt, 2, p);
        uint64_t *ids = NULL;
        size_t n = 0;
        lb_matcher_match(mt, e, &ids, &n);
        if (n != (size_t)(m ? 2 : 0)) abort();
        if (lb_matcher_remove(mt, 1) || lb_matcher_remove(mt, 1) == 0) abort();
        free(ids);
        lb_matcher_free(&mt);
        lb_event_free(&e);
    }
    lb_pattern_free(&p);
    return 0;
}

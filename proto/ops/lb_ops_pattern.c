#include "lb_ops_pattern.h"

#include <stdlib.h>
#include <string.h>

#include "lb_pattern.h"
#include "lb_validate.h"

/* The envelope fields AWS insists on before it will test an event (recorded answers:
 * "Parameter Event is not valid." for a string, an array, or an object without them). */
static const char *const required_fields[] = {"id",   "account", "source",
                                              "time", "region",  "detail-type"};

/* The envelope adds one level above the event's detail. */
static int event_valid(const char *text, size_t len)
{
    lb_json_doc_t *doc;
    if (lb_json_parse(text, len, LB_JSON_EVENT_MAX_DEPTH + 1, &doc, NULL)) return 0;
    const lb_json_t *e = lb_json_doc_root(doc);
    int ok = e->type == LB_JSON_OBJECT;
    for (size_t i = 0; ok && i < sizeof required_fields / sizeof *required_fields; i++)
        ok = lb_json_get(e, required_fields[i]) != NULL;
    lb_json_doc_free(&doc);
    return ok;
}

static void test_pattern(const lb_json_t *req, lb_call_t *call, int explain)
{
    const char *pattern_text, *event_text;
    lb_verrs_t v = {0};
    if (lb_get_string(req, "EventPattern", &pattern_text, call) ||
        lb_get_string(req, "Event", &event_text, call))
        return;
    if (!pattern_text) lb_verr_add(&v, NULL, "eventPattern", "Member must not be null");
    if (!event_text) lb_verr_add(&v, NULL, "event", "Member must not be null");
    if (pattern_text && lb_utf8_length(pattern_text) > LB_PATTERN_MAX_LEN)
        lb_verr_add(&v, pattern_text, "eventPattern",
                    "Member must have length less than or equal to 4096");
    if (lb_verr_emit(&v, call)) return;

    lb_pattern_t *pattern;
    char *err = NULL;
    if (lb_pattern_compile(pattern_text, strlen(pattern_text), &pattern, &err)) {
        lb_call_error(call, LB_AWS_INVALID_EVENT_PATTERN, "%s",
                      err ? err : "Event pattern is not valid.");
        free(err);
        return;
    }
    lb_event_t *event = NULL;
    if (!event_valid(event_text, strlen(event_text)) ||
        lb_event_parse(event_text, strlen(event_text), &event)) {
        lb_pattern_free(&pattern);
        lb_call_error(call, LB_AWS_VALIDATION, "Parameter Event is not valid.");
        return;
    }
    int match = lb_pattern_matches(pattern, event);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_printf(b, "{\"Result\":%s", match ? "true" : "false");
    if (explain && !match) {
        char *why = NULL;
        if (lb_pattern_explain(pattern, event, &why) == 0 && why) lb_json_put_str(b, "Reason", why);
        free(why);
    }
    lb_buf_puts(b, "}");
    lb_event_free(&event);
    lb_pattern_free(&pattern);
}

void lb_op_test_event_pattern(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)engine;
    test_pattern(req, call, 0);
}

void lb_op_explain_event_pattern(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)engine;
    test_pattern(req, call, 1);
}

#include "lb_ops_pattern.h"

#include <stdlib.h>
#include <string.h>

#include "lb_pattern.h"
#include "lb_validate.h"

/* The envelope fields AWS insists on before it will test an event (recorded answers:
 * "Parameter Event is not valid." for a string, an array, or an object without them). */
static const char *const required_fields[] = {"id",   "account",    "source",
                                              "time", "region", "detail-type"};

static int event_valid(const char *text)
{
    cJSON *e = cJSON_Parse(text);
    int ok = cJSON_IsObject(e);
    for (size_t i = 0; ok && i < sizeof required_fields / sizeof *required_fields; i++)
        ok = cJSON_GetObjectItemCaseSensitive(e, required_fields[i]) != NULL;
    cJSON_Delete(e);
    return ok;
}

static void test_pattern(const cJSON *req, lb_call_t *call, int explain)
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
    if (!event_valid(event_text) || lb_event_parse(event_text, strlen(event_text), &event)) {
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
        if (lb_pattern_explain(pattern, event, &why) == 0 && why)
            lb_json_put_str(b, "Reason", why);
        free(why);
    }
    lb_buf_puts(b, "}");
    lb_event_free(&event);
    lb_pattern_free(&pattern);
}

void lb_op_test_event_pattern(lb_engine_t *engine, const cJSON *req, lb_call_t *call)
{
    (void)engine;
    test_pattern(req, call, 0);
}

void lb_op_explain_event_pattern(lb_engine_t *engine, const cJSON *req, lb_call_t *call)
{
    (void)engine;
    test_pattern(req, call, 1);
}

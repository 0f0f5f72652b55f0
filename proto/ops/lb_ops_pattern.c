#include "lb_ops_pattern.h"

#include <stdlib.h>
#include <string.h>

#include "lb_ops_rule.h"
#include "lb_pattern.h"
#include "lb_store_cockpit.h"
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

/* ---- a stored event against a rule: {"RuleName", "EventBusName"?, "EventId"} ---- */

typedef struct {
    char *pattern; /* the rule's EventPattern */
    char *event_id;
    char *envelope; /* read on the reader thread */
} stored_t;

static void stored_free(void *arg)
{
    stored_t *st = arg;
    free(st->pattern);
    free(st->event_id);
    free(st->envelope);
    free(st);
}

static int keep_envelope(const lb_event_record_t *ev, void *ctx)
{
    stored_t *st = ctx;
    st->envelope = lb_xmalloc(ev->envelope_len + 1);
    memcpy(st->envelope, ev->envelope, ev->envelope_len);
    st->envelope[ev->envelope_len] = '\0';
    return 0;
}

static int read_stored(lb_store_t *store, void *arg)
{
    stored_t *st = arg;
    int rc = lb_store_event_get(store, st->event_id, keep_envelope, st);
    return rc == LB_ENOTFOUND ? 0 : rc;
}

static void finish_stored(lb_call_t *call, int rc)
{
    stored_t *st = call->arg;
    if (rc) {
        lb_call_error_code(call, rc, "reading the event");
        return;
    }
    if (!st->envelope) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event %s does not exist.", st->event_id);
        return;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_add_str(doc, req, "EventPattern", st->pattern);
    lb_json_add_str(doc, req, "Event", st->envelope);
    test_pattern(req, call, 1);
    lb_json_doc_free(&doc);
}

static void test_stored(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *event_id;
    if (lb_get_string(req, "EventId", &event_id, call)) return;
    if (!event_id || !event_id[0]) {
        lb_call_error(call, LB_AWS_VALIDATION, "EventId is required with RuleName.");
        return;
    }
    const lb_rule_t *rule = lb_rule_lookup(engine, req, "RuleName", call);
    if (!rule) return;
    if (!rule->event_pattern) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Rule %s has no EventPattern (it is a scheduled rule).", rule->name);
        return;
    }
    stored_t *st = lb_xcalloc(1, sizeof *st);
    st->pattern = lb_strdup(rule->event_pattern);
    st->event_id = lb_strdup(event_id);
    lb_call_defer_read(call, read_stored, finish_stored, st, stored_free);
}

void lb_op_explain_event_pattern(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    if (lb_json_get(req, "RuleName")) {
        test_stored(engine, req, call);
        return;
    }
    test_pattern(req, call, 1);
}

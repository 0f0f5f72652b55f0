#include "lb_api.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_admin.h"
#include "lb_admin_stack.h"
#include "lb_ops_archive.h"
#include "lb_ops_bus.h"
#include "lb_ops_conn.h"
#include "lb_ops_endpoint.h"
#include "lb_ops_events.h"
#include "lb_ops_pattern.h"
#include "lb_ops_perm.h"
#include "lb_ops_replay.h"
#include "lb_ops_rule.h"
#include "lb_ops_source.h"
#include "lb_ops_target.h"

#define TARGET_PREFIX "AWSEvents."

typedef void (*lb_op_fn)(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

static const struct {
    const char *name;
    lb_op_fn fn;
} operations[] = {
    {"ActivateEventSource", lb_op_activate_event_source},
    {"CancelReplay", lb_op_cancel_replay},
    {"CreateApiDestination", lb_op_create_api_destination},
    {"CreateArchive", lb_op_create_archive},
    {"CreateConnection", lb_op_create_connection},
    {"CreateEndpoint", lb_op_create_endpoint},
    {"CreateEventBus", lb_op_create_event_bus},
    {"CreatePartnerEventSource", lb_op_create_partner_event_source},
    {"DeactivateEventSource", lb_op_deactivate_event_source},
    {"DeauthorizeConnection", lb_op_deauthorize_connection},
    {"DeleteApiDestination", lb_op_delete_api_destination},
    {"DeleteArchive", lb_op_delete_archive},
    {"DeleteConnection", lb_op_delete_connection},
    {"DeleteEndpoint", lb_op_delete_endpoint},
    {"DeleteEventBus", lb_op_delete_event_bus},
    {"DeletePartnerEventSource", lb_op_delete_partner_event_source},
    {"DeleteRule", lb_op_delete_rule},
    {"DescribeApiDestination", lb_op_describe_api_destination},
    {"DescribeArchive", lb_op_describe_archive},
    {"DescribeConnection", lb_op_describe_connection},
    {"DescribeEndpoint", lb_op_describe_endpoint},
    {"DescribeEventBus", lb_op_describe_event_bus},
    {"DescribeEventSource", lb_op_describe_event_source},
    {"DescribePartnerEventSource", lb_op_describe_partner_event_source},
    {"DescribeReplay", lb_op_describe_replay},
    {"DescribeRule", lb_op_describe_rule},
    {"DisableRule", lb_op_disable_rule},
    {"EnableRule", lb_op_enable_rule},
    {"ListApiDestinations", lb_op_list_api_destinations},
    {"ListArchives", lb_op_list_archives},
    {"ListConnections", lb_op_list_connections},
    {"ListEndpoints", lb_op_list_endpoints},
    {"ListEventBuses", lb_op_list_event_buses},
    {"ListEventSources", lb_op_list_event_sources},
    {"ListPartnerEventSourceAccounts", lb_op_list_partner_event_source_accounts},
    {"ListPartnerEventSources", lb_op_list_partner_event_sources},
    {"ListReplays", lb_op_list_replays},
    {"ListRuleNamesByTarget", lb_op_list_rule_names_by_target},
    {"ListRules", lb_op_list_rules},
    {"ListTagsForResource", lb_op_list_tags_for_resource},
    {"ListTargetsByRule", lb_op_list_targets_by_rule},
    {"PutEvents", lb_op_put_events},
    {"PutPartnerEvents", lb_op_put_partner_events},
    {"PutPermission", lb_op_put_permission},
    {"PutRule", lb_op_put_rule},
    {"PutTargets", lb_op_put_targets},
    {"RemovePermission", lb_op_remove_permission},
    {"RemoveTargets", lb_op_remove_targets},
    {"StartReplay", lb_op_start_replay},
    {"TagResource", lb_op_tag_resource},
    {"TestEventPattern", lb_op_test_event_pattern},
    {"UntagResource", lb_op_untag_resource},
    {"UpdateApiDestination", lb_op_update_api_destination},
    {"UpdateArchive", lb_op_update_archive},
    {"UpdateConnection", lb_op_update_connection},
    {"UpdateEndpoint", lb_op_update_endpoint},
    {"UpdateEventBus", lb_op_update_event_bus},
};

#define N_OPERATIONS (sizeof operations / sizeof operations[0])

struct lb_api {
    lb_engine_t *engine;
};

int lb_api_new(lb_engine_t *engine, lb_api_t **out)
{
    lb_api_t *api = lb_xcalloc(1, sizeof *api);
    api->engine = engine;
    *out = api;
    return 0;
}

void lb_api_free(lb_api_t **api)
{
    free(*api);
    *api = NULL;
}

size_t lb_api_operation_count(void)
{
    return N_OPERATIONS;
}

const char *lb_api_operation_name(size_t i)
{
    return i < N_OPERATIONS ? operations[i].name : NULL;
}

static lb_op_fn find_operation(const char *name)
{
    size_t lo = 0, hi = N_OPERATIONS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(operations[mid].name, name);
        if (c == 0) return operations[mid].fn;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The number of bytes of s's first max bytes that end on a character boundary, so quoting a
 * long header in a message never cuts a UTF-8 sequence in two. */
static int utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return (int)max;
}

static int content_type_ok(const char *ct)
{
    if (!ct || !*ct) return 1;
    size_t n = strcspn(ct, ";");
    while (n && isspace((unsigned char)ct[n - 1]))
        n--;
    return (n == 26 && strncasecmp(ct, "application/x-amz-json-1.1", n) == 0) ||
           (n == 26 && strncasecmp(ct, "application/x-amz-json-1.0", n) == 0) ||
           (n == 16 && strncasecmp(ct, "application/json", n) == 0);
}

static lb_op_fn find_admin_operation(const char *name)
{
    return strcmp(name, "ExplainEventPattern") == 0 ? lb_op_explain_event_pattern : NULL;
}

/* The request body as a JSON object. An empty body means an empty request, as AWS treats it.
 * lb_json_parse bounds the nesting, so a hostile "[[[[..." never recurses deeper than
 * LB_JSON_REQUEST_MAX_DEPTH. Returns -1 with a SerializationException on the call. */
static int parse_request(lb_call_t *call, const char *body, size_t len, lb_json_doc_t **out)
{
    lb_json_doc_t *doc = NULL;
    char *err = NULL;
    *out = NULL;
    if (len == 0) {
        doc = lb_json_doc_new();
        lb_json_doc_set_root(doc, lb_json_new(doc, LB_JSON_OBJECT));
    } else if (lb_json_parse(body, len, LB_JSON_REQUEST_MAX_DEPTH, &doc, &err)) {
        /* The parser checks UTF-8 and refuses raw control characters, so only a failed parse
         * needs these scans, to say what was wrong. lb_json words a nesting failure as Jackson
         * does; AWS's own answer names the limit. */
        if (!lb_utf8_valid(body, len))
            lb_call_error(call, LB_AWS_SERIALIZATION, "Request body is not valid UTF-8.");
        else if (memchr(body, '\0', len))
            lb_call_error(call, LB_AWS_SERIALIZATION, "Request body contains a NUL byte.");
        else if (err && strncmp(err, "Document nesting depth", 22) == 0)
            lb_call_error(call, LB_AWS_SERIALIZATION,
                          "Request JSON is nested deeper than %d levels.",
                          LB_JSON_REQUEST_MAX_DEPTH);
        else
            lb_call_error(call, LB_AWS_SERIALIZATION, "Request body is not valid JSON.");
        free(err);
        return -1;
    }
    if (lb_json_doc_root(doc)->type != LB_JSON_OBJECT) {
        lb_json_doc_free(&doc);
        lb_call_error(call, LB_AWS_SERIALIZATION, "Request body must be a JSON object.");
        return -1;
    }
    *out = doc;
    return 0;
}

void lb_api_handle(lb_api_t *api, lb_call_t *call, const char *target, const char *content_type,
                   const char *body, size_t len)
{
    call->api = api;
    call->txn = NULL;
    if (!target || strncmp(target, TARGET_PREFIX, strlen(TARGET_PREFIX)) != 0) {
        lb_call_error(call, LB_AWS_UNKNOWN_OPERATION,
                      "Missing or unknown X-Amz-Target header; expected AWSEvents.<Operation>.");
        return;
    }
    const char *name = target + strlen(TARGET_PREFIX);
    lb_op_fn fn = call->admin ? find_admin_operation(name) : find_operation(name);
    if (!fn) {
        lb_call_error(call, LB_AWS_UNKNOWN_OPERATION, "Operation %.*s is not supported.",
                      utf8_prefix(name, 100), name);
        return;
    }
    if (lb_api_foreign_caller_denied(call, name)) return;
    if (!content_type_ok(content_type)) {
        lb_call_error(call, LB_AWS_UNSUPPORTED_MEDIA,
                      "Content-Type %.*s is not supported; use application/x-amz-json-1.1.",
                      utf8_prefix(content_type, 100), content_type);
        return;
    }
    lb_json_doc_t *doc;
    if (parse_request(call, body, len, &doc)) return;
    call->status = 200;
    fn(api->engine, lb_json_doc_root(doc), call);
    lb_json_doc_free(&doc);
}

/* A caller of another account may only put events (on buses whose policy lets it) and test
 * patterns: everything else here belongs to the daemon's account, as IAM would see it. */
int lb_api_foreign_caller_denied(lb_call_t *call, const char *operation)
{
    if (!call->caller_account || strcmp(call->caller_account, call->account_id) == 0) return 0;
    if (!call->admin &&
        (strcmp(operation, "PutEvents") == 0 || strcmp(operation, "TestEventPattern") == 0))
        return 0;
    lb_call_error(call, LB_AWS_ACCESS_DENIED,
                  "User: arn:aws:iam::%s:root is not authorized to perform: events:%.*s on "
                  "resource: arn:aws:events:%s:%s:* because no resource-based policy allows the "
                  "events:%.*s action",
                  call->caller_account, utf8_prefix(operation, 100), operation, call->region,
                  call->account_id, utf8_prefix(operation, 100), operation);
    return 1;
}

int lb_api_region_from_auth(const char *auth, char *out, size_t outlen)
{
    if (!auth) return -1;
    const char *cred = strstr(auth, "Credential=");
    if (!cred) return -1;
    cred += strlen("Credential=");
    /* AKID/date/region/service/aws4_request */
    const char *p = strchr(cred, '/');
    if (!p) return -1;
    p = strchr(p + 1, '/');
    if (!p) return -1;
    p++;
    size_t n = strcspn(p, "/,");
    if (n == 0 || n >= outlen || p[n] != '/') return -1;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)p[i]) && !isdigit((unsigned char)p[i]) && p[i] != '-')
            return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* ---- LocalBridge admin operations on lb_json requests ---- */

typedef void (*lb_admin_op_fn)(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

static const struct {
    const char *name;
    lb_admin_op_fn fn;
} admin_json_operations[] = {
    {"DeleteFunction", lb_admin_delete_function},
    {"DeleteStack", lb_admin_delete_stack},
    {"FireScheduledRule", lb_admin_fire_scheduled_rule},
    {"GetStack", lb_admin_get_stack},
    {"ListDeadLetters", lb_admin_list_dead_letters},
    {"ListEvents", lb_admin_list_events},
    {"ListFunctions", lb_admin_list_functions},
    {"PutFunction", lb_admin_put_function},
    {"PutStack", lb_admin_put_stack},
    {"RedriveDeadLetters", lb_admin_redrive_dead_letters},
    {"SetEndpointHealth", lb_admin_set_endpoint_health},
};

void lb_api_handle_admin(lb_api_t *api, lb_call_t *call, const char *name, const lb_json_t *req)
{
    call->api = api;
    call->txn = NULL;
    call->read = NULL;
    lb_admin_op_fn fn = NULL;
    for (size_t i = 0; i < sizeof admin_json_operations / sizeof *admin_json_operations; i++)
        if (strcmp(admin_json_operations[i].name, name) == 0) fn = admin_json_operations[i].fn;
    if (!fn) {
        lb_call_error(call, LB_AWS_UNKNOWN_OPERATION, "Operation %.100s is not supported.", name);
        return;
    }
    if (lb_api_foreign_caller_denied(call, name)) return;
    if (!lb_json_is(req, LB_JSON_OBJECT)) {
        lb_call_error(call, LB_AWS_SERIALIZATION, "Request body must be a JSON object.");
        return;
    }
    call->status = 200;
    fn(api->engine, req, call);
}

void lb_api_handle_admin_body(lb_api_t *api, lb_call_t *call, const char *name, const char *body,
                              size_t len)
{
    lb_json_doc_t *doc = NULL;
    char *why = NULL;
    if (len == 0) {
        doc = lb_json_doc_new();
        lb_json_doc_set_root(doc, lb_json_new(doc, LB_JSON_OBJECT));
    } else if (lb_json_parse(body, len, LB_JSON_REQUEST_MAX_DEPTH, &doc, &why)) {
        call->api = api;
        lb_call_error(call, LB_AWS_SERIALIZATION, "Request body is not valid JSON: %s",
                      why ? why : "parse error");
        free(why);
        return;
    }
    lb_api_handle_admin(api, call, name, lb_json_doc_root(doc));
    lb_json_doc_free(&doc);
}

/* API destination operations (declared in lb_ops_conn.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_ops_conn.h"

#define METHOD_ENUM "[HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]"
#define CONNECTION_ARN_PATTERN                                                                     \
    "^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:connection\\/"                      \
    "[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]+$"
#define ENDPOINT_PATTERN "^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$"

static const char *doc_str(const lb_json_t *doc, const char *key)
{
    return lb_json_get_str(doc, key);
}

static int64_t doc_ms(const lb_json_t *doc, const char *key)
{
    const lb_json_t *f = lb_json_get(doc, key);
    /* Written here as integers; anything else reads as 0 rather than as an out-of-range
     * conversion. */
    return lb_json_is(f, LB_JSON_NUMBER) && fabs(f->num) < 9.2e18 ? (int64_t)f->num : 0;
}

static void not_found(lb_call_t *call, const char *name)
{
    lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND,
                  "Failed to describe the api-destination(s). An api-destination '%s' does not "
                  "exist.",
                  name);
}

static int is_method(const char *m)
{
    static const char *const methods[] = {"HEAD", "POST", "PATCH",  "DELETE",
                                          "PUT",  "GET",  "OPTIONS"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(m, methods[i]) == 0) return 1;
    return 0;
}

/* ^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:connection\/NAME\/ID$ for an ARN
 * of len bytes (U+0000 is outside the pattern). */
static int connection_arn_ok(const char *arn, size_t len)
{
    if (strlen(arn) != len || strncmp(arn, "arn:aws", 7) != 0) return 0;
    const char *p = arn + 7;
    while ((*p >= 'a' && *p <= 'z') || *p == '-')
        p++;
    if (strncmp(p, ":events:", 8) != 0) return 0;
    p += 8;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
        p++;
    if (*p++ != ':') return 0;
    if (*p != ':') {
        for (int i = 0; i < 12; i++, p++)
            if (*p < '0' || *p > '9') return 0;
    }
    if (strncmp(p, ":connection/", 12) != 0) return 0;
    p += 12;
    const char *slash = strchr(p, '/');
    if (!slash || slash == p) return 0;
    for (const char *q = p; q < slash; q++)
        if (!strchr(".-_", *q) &&
            !((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')))
            return 0;
    p = slash + 1;
    if (!*p) return 0;
    return lb_chars_only(p, strlen(p), "-");
}

/* The endpoint pattern's character set (percent escapes checked for two hex digits), for an
 * endpoint of len bytes. */
static int endpoint_ok(const char *s, size_t len)
{
    if (!*s || strlen(s) != len) return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '%') {
            if (!strchr("0123456789abcdefABCDEF", s[1]) || !s[1] ||
                !strchr("0123456789abcdefABCDEF", s[2]) || !s[2])
                return 0;
            s += 2;
            continue;
        }
        if (c >= 0x80 || !lb_chars_only(s, 1, "-()_.!~*';/?:@&=+$,")) return 0;
    }
    return 1;
}

/* The members Create and Update share; on success the valid ones are set in doc. */
static int read_settings(const lb_json_t *req, lb_call_t *call, lb_verrs_t *v, int create,
                         lb_json_doc_t *doc, lb_json_t *root)
{
    const char *desc, *conn_arn, *endpoint, *method;
    size_t conn_arn_len, endpoint_len;
    int64_t rate = 0;
    int has_rate;
    if (lb_get_string(req, "Description", &desc, call) ||
        lb_get_string_n(req, "ConnectionArn", &conn_arn, &conn_arn_len, call) ||
        lb_get_string_n(req, "InvocationEndpoint", &endpoint, &endpoint_len, call) ||
        lb_get_string(req, "HttpMethod", &method, call) ||
        lb_get_int(req, "InvocationRateLimitPerSecond", &rate, &has_rate, call))
        return -1;
    if (desc && lb_utf8_length(desc) > 512)
        lb_verr_add(v, desc, "description", "Member must have length less than or equal to 512");
    if (!conn_arn && create)
        lb_verr_add(v, NULL, "connectionArn", "Member must not be null");
    else if (conn_arn &&
             (lb_utf8_length(conn_arn) > 1600 || !connection_arn_ok(conn_arn, conn_arn_len)))
        lb_verr_add_n(v, conn_arn, conn_arn_len, "connectionArn",
                      "Member must satisfy regular expression pattern: " CONNECTION_ARN_PATTERN);
    if (!endpoint && create)
        lb_verr_add(v, NULL, "invocationEndpoint", "Member must not be null");
    else if (endpoint && lb_utf8_length(endpoint) > 2048)
        lb_verr_add_n(v, endpoint, endpoint_len, "invocationEndpoint",
                      "Member must have length less than or equal to 2048");
    else if (endpoint && !endpoint_ok(endpoint, endpoint_len))
        lb_verr_add_n(v, endpoint, endpoint_len, "invocationEndpoint",
                      "Member must satisfy regular expression pattern: " ENDPOINT_PATTERN);
    if (!method && create)
        lb_verr_add(v, NULL, "httpMethod", "Member must not be null");
    else if (method && !is_method(method))
        lb_verr_add(v, method, "httpMethod", "Member must satisfy enum value set: " METHOD_ENUM);
    if (has_rate && rate < 1) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)rate);
        lb_verr_add(v, num, "invocationRateLimitPerSecond",
                    "Member must have value greater than or equal to 1");
    }
    static const char *const keys[] = {"Description", "ConnectionArn", "InvocationEndpoint",
                                       "HttpMethod"};
    const char *values[] = {desc, conn_arn, endpoint, method};
    for (size_t i = 0; i < 4; i++)
        if (values[i]) lb_conn_set_str(doc, root, keys[i], values[i]);
    if (has_rate || create)
        lb_conn_set_ms(doc, root, "InvocationRateLimitPerSecond", has_rate ? rate : 300);
    return 0;
}

/* Checks what validation cannot: the connection exists (exact ARN) and the endpoint is a URL we
 * can call. AWS accepts only https://; a local stand-in also accepts http://. */
static int check_references(lb_engine_t *engine, lb_call_t *call, const lb_json_t *doc)
{
    const char *conn_arn = doc_str(doc, "ConnectionArn");
    char conn_name[256];
    if (lb_connection_arn_name(conn_arn, conn_name, sizeof conn_name)) {
        lb_conn_not_found(call, conn_arn);
        return -1;
    }
    const lb_json_t *conn =
        lb_conn_find(lb_engine_connections(engine), LB_CONN_CONNECTION, call->region, conn_name);
    const char *actual = conn ? doc_str(conn, "ConnectionArn") : NULL;
    if (!actual || strcmp(actual, conn_arn) != 0) {
        lb_conn_not_found(call, conn_name);
        return -1;
    }
    const char *endpoint = doc_str(doc, "InvocationEndpoint");
    if (strncmp(endpoint, "https://", 8) != 0 && strncmp(endpoint, "http://", 7) != 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "InvocationEndpoint '%s' must be an https:// (or, locally, http://) URL.",
                      endpoint);
        return -1;
    }
    return 0;
}

static const char *state_of(lb_connections_t *reg, lb_call_t *call, const lb_json_t *doc)
{
    const char *s = lb_apidest_state(reg, call->region, doc_str(doc, "Name"));
    return s ? s : "INACTIVE";
}

/* {ApiDestinationArn, ApiDestinationState, CreationTime, LastModifiedTime} of Create/Update. */
static void render_changed(lb_call_t *call, lb_connections_t *reg, const lb_json_t *doc)
{
    lb_buf_t *b = &call->body;
    const char *arn = doc_str(doc, "ApiDestinationArn");
    lb_buf_puts(b, "{\"ApiDestinationArn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    lb_json_put_str(b, "ApiDestinationState", state_of(reg, call, doc));
    lb_json_put_time(b, "CreationTime", doc_ms(doc, "CreationTime"));
    lb_json_put_time(b, "LastModifiedTime", doc_ms(doc, "LastModifiedTime"));
    lb_buf_puts(b, "}");
}

static void render_deleted(lb_call_t *call, lb_connections_t *reg, const lb_json_t *doc)
{
    (void)reg;
    (void)doc;
    lb_buf_puts(&call->body, "{}");
}

/* Every member but Description, which Describe adds and List leaves out. */
static void render_destination(lb_buf_t *b, lb_connections_t *reg, lb_call_t *call,
                               const lb_json_t *doc, int with_description)
{
    const char *name = doc_str(doc, "Name");
    lb_buf_puts(b, "{\"Name\":");
    lb_buf_json_string(b, name, strlen(name));
    lb_json_put_str(b, "ApiDestinationArn", doc_str(doc, "ApiDestinationArn"));
    lb_json_put_str(b, "ApiDestinationState", state_of(reg, call, doc));
    lb_json_put_str(b, "ConnectionArn", doc_str(doc, "ConnectionArn"));
    if (with_description && doc_str(doc, "Description"))
        lb_json_put_str(b, "Description", doc_str(doc, "Description"));
    lb_json_put_str(b, "InvocationEndpoint", doc_str(doc, "InvocationEndpoint"));
    lb_json_put_str(b, "HttpMethod", doc_str(doc, "HttpMethod"));
    lb_buf_printf(b, ",\"InvocationRateLimitPerSecond\":%lld",
                  (long long)doc_ms(doc, "InvocationRateLimitPerSecond"));
    lb_json_put_time(b, "CreationTime", doc_ms(doc, "CreationTime"));
    lb_json_put_time(b, "LastModifiedTime", doc_ms(doc, "LastModifiedTime"));
    lb_buf_puts(b, "}");
}

void lb_op_create_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    size_t name_len;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "Name", &name, &name_len, call)) return;
    lb_json_t *root;
    lb_json_doc_t *doc = lb_conn_doc_new(&root);
    lb_conn_check_name(name, name_len, &v);
    if (read_settings(req, call, &v, 1, doc, root)) {
        lb_buf_free(&v.text);
        lb_json_doc_free(&doc);
        return;
    }
    if (lb_verr_emit(&v, call)) {
        lb_json_doc_free(&doc);
        return;
    }
    if (lb_conn_find(lb_engine_connections(engine), LB_CONN_API_DESTINATION, call->region, name)) {
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "An api-destination '%s' already exists.",
                      name);
        lb_json_doc_free(&doc);
        return;
    }
    if (check_references(engine, call, root)) {
        lb_json_doc_free(&doc);
        return;
    }
    char id[37], arn[512];
    lb_uuid_v4(id);
    snprintf(arn, sizeof arn, "arn:aws:events:%s:%s:api-destination/%s/%s", call->region,
             call->account_id, name, id);
    lb_json_add_str(doc, root, "Name", name);
    lb_json_add_str(doc, root, "ApiDestinationArn", arn);
    lb_conn_set_ms(doc, root, "CreationTime", call->now_ms);
    lb_conn_set_ms(doc, root, "LastModifiedTime", call->now_ms);
    lb_conn_defer(engine, call, LB_CONN_API_DESTINATION, LB_CONN_JOB_INSERT, doc, render_changed);
}

static const lb_json_t *find_named(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                                   const char **name)
{
    return lb_conn_find_named(engine, req, call, LB_CONN_API_DESTINATION, not_found, name);
}

void lb_op_describe_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    const lb_json_t *doc = find_named(engine, req, call, &name);
    if (!doc) return;
    call->status = 200;
    call->body.len = 0;
    render_destination(&call->body, lb_engine_connections(engine), call, doc, 1);
}

static int destination_of_connection(lb_connections_t *reg, lb_call_t *call, const lb_json_t *doc,
                                     void *conn_arn)
{
    (void)reg;
    (void)call;
    return strcmp(conn_arn, doc_str(doc, "ConnectionArn")) == 0;
}

static void destination_item(lb_buf_t *b, lb_connections_t *reg, lb_call_t *call,
                             const lb_json_t *doc, void *ctx)
{
    (void)ctx;
    render_destination(b, reg, call, doc, 0);
}

void lb_op_list_api_destinations(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *conn_arn;
    size_t conn_arn_len;
    if (lb_get_string_n(req, "ConnectionArn", &conn_arn, &conn_arn_len, call)) return;
    if (conn_arn && !connection_arn_ok(conn_arn, conn_arn_len)) {
        lb_verrs_t v = {0};
        lb_verr_add_n(&v, conn_arn, conn_arn_len, "connectionArn",
                      "Member must satisfy regular expression pattern: " CONNECTION_ARN_PATTERN);
        lb_verr_emit(&v, call);
        return;
    }
    lb_conn_lister_t lister = {.kind = LB_CONN_API_DESTINATION,
                               .member = "ApiDestinations",
                               .keep = conn_arn ? destination_of_connection : NULL,
                               .item = destination_item,
                               .ctx = (void *)conn_arn};
    lb_conn_list_page(engine, req, call, &lister);
}

void lb_op_update_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    size_t name_len;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "Name", &name, &name_len, call)) return;
    lb_conn_check_name(name, name_len, &v);
    const lb_json_t *old =
        lb_conn_find(lb_engine_connections(engine), LB_CONN_API_DESTINATION, call->region, name);
    /* Start from the stored definition (if any) and apply the members given. */
    lb_json_t *root;
    lb_json_doc_t *doc = old ? lb_conn_doc_copy(old, &root) : lb_conn_doc_new(&root);
    if (read_settings(req, call, &v, 0, doc, root)) {
        lb_buf_free(&v.text);
        lb_json_doc_free(&doc);
        return;
    }
    if (lb_verr_emit(&v, call)) {
        lb_json_doc_free(&doc);
        return;
    }
    if (!old) {
        not_found(call, name);
        lb_json_doc_free(&doc);
        return;
    }
    if (check_references(engine, call, root)) {
        lb_json_doc_free(&doc);
        return;
    }
    lb_conn_set_ms(doc, root, "LastModifiedTime", call->now_ms);
    lb_conn_defer(engine, call, LB_CONN_API_DESTINATION, LB_CONN_JOB_UPDATE, doc, render_changed);
}

void lb_op_delete_api_destination(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    const lb_json_t *doc = find_named(engine, req, call, &name);
    if (!doc) return;
    lb_json_t *root;
    lb_conn_defer(engine, call, LB_CONN_API_DESTINATION, LB_CONN_JOB_DELETE,
                  lb_conn_doc_copy(doc, &root), render_deleted);
}

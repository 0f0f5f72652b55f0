/* What each request reaches: authentication and the browser guards, then the AWS API, the SQS
 * API, the admin endpoints, the console, /health and /metrics. See lb_server_internal.h. */
#include "lb_server_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "lb_api.h"
#include "lb_auth.h"
#include "lb_cockpit.h"
#include "lb_console.h"
#include "lb_dirwatch.h"
#include "lb_dispatch.h"
#include "lb_metrics.h"
#include "lb_engine.h"
#include "lb_forwards.h"
#include "lb_http.h"
#include "lb_json.h"
#include "lb_keyfile.h"
#include "lb_keys.h"
#include "lb_log.h"
#include "lb_notify.h"
#include "lb_origin.h"
#include "lb_pidlock.h"
#include "lb_reader.h"
#include "lb_scheduler.h"
#include "lb_sqs.h"
#include "lb_sqsd.h"
#include "lb_queue_store.h"
#include "lb_replayer.h"
#include "lb_retention.h"
#include "lb_store.h"
#include "lb_writer.h"

#define JSON_TYPE "application/x-amz-json-1.1"

/* One API or admin request waiting for its store work (a commit or a read). */
typedef struct {
    lb_server_t *server;
    lb_http_request_t *req;
    const char *content_type;
    char caller_account[16]; /* auth = sigv4: the signing key's account */
    lb_call_t call;
} pending_call_t;

/* Who signed the request (auth = sigv4), or NULL (auth = none, a bearer token). */
typedef const lb_auth_caller_t *caller_t;

static void respond_call(pending_call_t *pc)
{
    char headers[400];
    snprintf(headers, sizeof headers, "x-amzn-RequestId: %s\r\n%s", pc->call.request_id,
             pc->call.extra_headers);
    lb_http_respond(pc->req, pc->call.status,
                    pc->call.content_type ? pc->call.content_type : pc->content_type, headers,
                    pc->call.body.data, pc->call.body.len);
    lb_call_clear(&pc->call);
    free(pc);
}

static void on_store_work_done(void *data, int rc)
{
    pending_call_t *pc = data;
    lb_call_complete(&pc->call, rc);
    respond_call(pc);
}

/* A call with its request context (region, account, request id, now) filled in. */
static pending_call_t *begin_call(lb_server_t *s, lb_http_request_t *req, const char *type,
                                  caller_t caller)
{
    const struct lb_settings *cfg = lb_config_settings(s->config);
    pending_call_t *pc = lb_xcalloc(1, sizeof *pc);
    pc->server = s;
    pc->req = req;
    pc->content_type = type;
    lb_call_t *call = &pc->call;
    if (caller)
        snprintf(call->region, sizeof call->region, "%s", caller->region);
    else if (lb_api_region_from_auth(lb_http_request_header(req, "Authorization"), call->region,
                                     sizeof call->region))
        snprintf(call->region, sizeof call->region, "%s", cfg->region);
    call->account_id = cfg->account_id;
    if (caller) {
        snprintf(pc->caller_account, sizeof pc->caller_account, "%s", caller->account);
        call->caller_account = pc->caller_account;
    }
    call->now_ms = lb_now_ms();
    if (lb_uuid_v4(call->request_id)) snprintf(call->request_id, 37, "unknown");
    return pc;
}

/* Answers at once, or runs the call's deferred store work first: reads on the reader thread,
 * writes on the writer thread. The loop thread never waits on SQLite. */
static void run_call(lb_server_t *s, pending_call_t *pc)
{
    lb_call_t *call = &pc->call;
    int rc = 0;
    if (call->read)
        rc = lb_reader_submit(s->reader, call->read, call->arg, on_store_work_done, pc);
    else if (call->txn)
        rc = s->store_lost
                 ? LB_ESTORELOST
                 : lb_writer_submit(s->writer, call->txn, call->arg, on_store_work_done, pc);
    else {
        respond_call(pc);
        return;
    }
    if (rc) {
        lb_call_complete(call, rc == LB_ESTORELOST ? rc : LB_ESTORE);
        respond_call(pc);
    }
}

/* admin_target: NULL for the AWS API (the X-Amz-Target header decides), or the LocalBridge
 * operation an admin endpoint maps to. */
static void handle_api(lb_server_t *s, lb_http_request_t *req, const char *admin_target,
                       caller_t caller)
{
    pending_call_t *pc = begin_call(s, req, JSON_TYPE, caller);
    lb_call_t *call = &pc->call;
    size_t len;
    const char *body = lb_http_request_body(req, &len);
    call->admin = admin_target != NULL;
    lb_api_handle(s->api, call,
                  admin_target ? admin_target : lb_http_request_header(req, "X-Amz-Target"),
                  admin_target ? NULL : lb_http_request_header(req, "Content-Type"), body, len);
    run_call(s, pc);
}

void lb_server_run_pending(void *ctx, void *pending)
{
    run_call(ctx, pending);
}

/* An SQS request (JSON 1.0 or query): through the queues' daemon side, which may park it. */
static void handle_sqs(lb_server_t *s, lb_http_request_t *req, lb_sqs_proto_t proto,
                       caller_t caller)
{
    pending_call_t *pc = begin_call(s, req, "application/x-amz-json-1.0", caller);
    lb_sqs_req_t rq = {.proto = proto,
                       .target = lb_http_request_header(req, "X-Amz-Target"),
                       .path = lb_http_request_path(req),
                       .host = lb_http_request_header(req, "Host")};
    rq.body = lb_http_request_body(req, &rq.len);
    if (proto == LB_SQS_QUERY && strcmp(lb_http_request_method(req), "GET") == 0) {
        rq.body = lb_http_request_query(req);
        rq.len = strlen(rq.body);
    }
    lb_sqsd_handle(s->sqsd, req, &pc->call, pc, &rq);
}

/* How a GET admin endpoint's query parameters name the operation's request members. */
static const struct {
    const char *param, *member;
} query_members[] = {
    {"bus", "EventBusName"},     {"rule", "RuleName"}, {"region", "Region"}, {"limit", "Limit"},
    {"next_token", "NextToken"}, {"source", "Source"}, {"since", "Since"},
};

/* A GET admin endpoint: its query string becomes the request object of operation op. */
static void handle_admin_get(lb_server_t *s, lb_http_request_t *req, const char *op,
                             caller_t caller)
{
    pending_call_t *pc = begin_call(s, req, "application/json", caller);
    const char *query = lb_http_request_query(req);
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *obj = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_doc_set_root(doc, obj);
    char value[2048];
    for (size_t i = 0; i < sizeof query_members / sizeof *query_members; i++)
        if (lb_http_query_param(query, query_members[i].param, value, sizeof value) == 0)
            lb_json_add(doc, obj, query_members[i].member, lb_json_new_str(doc, value));
    lb_api_handle_admin(s->api, &pc->call, op, obj);
    lb_json_doc_free(&doc);
    run_call(s, pc);
}

/* A POST admin endpoint: its JSON body is the request of operation op. */
static void handle_admin_post(lb_server_t *s, lb_http_request_t *req, const char *op,
                              caller_t caller)
{
    pending_call_t *pc = begin_call(s, req, "application/json", caller);
    size_t len;
    const char *body = lb_http_request_body(req, &len);
    lb_api_handle_admin_body(s->api, &pc->call, op, body, len);
    run_call(s, pc);
}

/* /_localbridge/stacks/NAME: GET, PUT (the record as its body) and DELETE of a deploy's stack
 * record; the name in the path becomes the request's StackName. */
static void handle_stack(lb_server_t *s, lb_http_request_t *req, const char *method,
                         const char *name, caller_t caller)
{
    const char *op = strcmp(method, "GET") == 0      ? "GetStack"
                     : strcmp(method, "PUT") == 0    ? "PutStack"
                     : strcmp(method, "DELETE") == 0 ? "DeleteStack"
                                                     : NULL;
    pending_call_t *pc = begin_call(s, req, "application/json", caller);
    size_t len = 0;
    const char *body = strcmp(method, "PUT") == 0 ? lb_http_request_body(req, &len) : NULL;
    lb_json_doc_t *doc = NULL;
    if (!op) {
        pc->call.api = s->api;
        lb_call_error(&pc->call, LB_AWS_METHOD_NOT_ALLOWED, "Stacks take GET, PUT and DELETE.");
    } else if (len && lb_json_parse(body, len, LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL)) {
        pc->call.api = s->api;
        lb_call_error(&pc->call, LB_AWS_SERIALIZATION, "Request body is not valid JSON.");
    } else {
        if (!doc) {
            doc = lb_json_doc_new();
            lb_json_doc_set_root(doc, lb_json_new(doc, LB_JSON_OBJECT));
        }
        lb_json_t *root = lb_json_doc_root(doc);
        char region[64];
        if (root->type == LB_JSON_OBJECT) {
            lb_json_remove(root, "StackName");
            lb_json_add(doc, root, "StackName", lb_json_new_str(doc, name));
            /* ?region=R, as the other admin endpoints take it. */
            if (lb_http_query_param(lb_http_request_query(req), "region", region, sizeof region) ==
                0) {
                lb_json_remove(root, "Region");
                lb_json_add(doc, root, "Region", lb_json_new_str(doc, region));
            }
        }
        lb_api_handle_admin(s->api, &pc->call, op, root);
    }
    lb_json_doc_free(&doc);
    run_call(s, pc);
}

/* /_localbridge/functions/NAME: op's request is {"FunctionName": NAME, "Definition": body}. */
static void handle_admin_function(lb_server_t *s, lb_http_request_t *req, const char *op,
                                  const char *name, caller_t caller)
{
    pending_call_t *pc = begin_call(s, req, "application/json", caller);
    size_t len;
    const char *body = lb_http_request_body(req, &len);
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *obj = lb_json_new(doc, LB_JSON_OBJECT), *def = NULL;
    lb_json_doc_set_root(doc, obj);
    lb_json_add(doc, obj, "FunctionName", lb_json_new_str(doc, name));
    if (len && lb_json_parse_into(doc, body, len, LB_JSON_REQUEST_MAX_DEPTH, &def, NULL)) {
        /* Not JSON: the body path answers with its usual SerializationException. */
        lb_api_handle_admin_body(s->api, &pc->call, op, body, len);
    } else {
        if (def) lb_json_add(doc, obj, "Definition", def);
        lb_api_handle_admin(s->api, &pc->call, op, obj);
    }
    lb_json_doc_free(&doc);
    run_call(s, pc);
}

/* The engine's route hook: a target or dead-letter queue ARN no adapter takes is reported when
 * PutTargets accepts it (a warning and a counter), not discovered when an event fails. */

/* Every response carries a request id, as AWS's do, admin endpoints included. */
static void respond_json(lb_http_request_t *req, int status, const char *json)
{
    char id[37], headers[64];
    if (lb_uuid_v4(id)) snprintf(id, sizeof id, "unknown");
    snprintf(headers, sizeof headers, "x-amzn-RequestId: %s\r\n", id);
    lb_http_respond(req, status, "application/json", headers, json, strlen(json));
}

/* An error no operation produced, in the API's error shape from proto's one table. */
static void respond_error(lb_http_request_t *req, lb_aws_error_t err, const char *message)
{
    lb_buf_t body = {0};
    int status = lb_aws_error_body(&body, err, message);
    respond_json(req, status, body.data);
    lb_buf_free(&body);
}

/* "ok"; "failing" (503) when writes are refused; "degraded" (200: events are still accepted and
 * kept) when a target an adapter reaches is stuck, such as forwarding's upstream. */
static void handle_health(lb_server_t *s, lb_http_request_t *req)
{
    lb_buf_t body = {0}, adapters = {0};
    int degraded = s->dispatch && lb_dispatch_health(s->dispatch, &adapters);
    lb_buf_printf(&body,
                  "{\"status\":\"%s\",\"version\":\"%s\",\"schema\":%d,"
                  "\"pending_writes\":%zu",
                  s->store_lost ? "failing"
                  : degraded    ? "degraded"
                                : "ok",
                  LB_VERSION, lb_store_latest_schema_version(), lb_writer_pending(s->writer));
    if (s->store_lost) {
        lb_buf_puts(&body, ",\"reason\":");
        lb_buf_json_string(&body, s->store_lost_reason, strlen(s->store_lost_reason));
    }
    if (adapters.len) lb_buf_append(&body, adapters.data, adapters.len);
    lb_buf_free(&adapters);
    lb_buf_puts(&body, "}");
    respond_json(req, s->store_lost ? 503 : 200, body.data);
    lb_buf_free(&body);
}

static void handle_metrics(lb_server_t *s, lb_http_request_t *req)
{
    lb_buf_t out = {0};
    uint64_t commits, jobs;
    lb_writer_stats(s->writer, &commits, &jobs);
    lb_metrics_render(s->metrics, &out, lb_dispatch_pending(s->dispatch),
                      lb_dispatch_inflight(s->dispatch), commits, jobs);
    lb_metrics_render_archives(&out, s->engine);
    lb_dispatch_metrics(s->dispatch, &out);
    lb_buf_printf(&out,
                  "# HELP localbridge_unroutable_targets_total Targets and dead-letter queues "
                  "accepted with no route (no adapter takes their ARN)\n"
                  "# TYPE localbridge_unroutable_targets_total counter\n"
                  "localbridge_unroutable_targets_total %llu\n",
                  (unsigned long long)s->unroutable);
    lb_sqs_metrics(s->sqs, &out, lb_config_settings(s->config)->account_id, lb_now_ms());
    lb_http_respond(req, 200, "text/plain; version=0.0.4", NULL, out.data, out.len);
    lb_buf_free(&out);
}

static void handle_console(lb_http_request_t *req)
{
    int rc = lb_console_handle(req);
    if (rc == -EINVAL)
        respond_error(req, LB_AWS_METHOD_NOT_ALLOWED, "The web console is read with GET.");
    else if (rc)
        respond_error(req, LB_AWS_NOT_FOUND, "No such file in the web console.");
}

/* ---- authentication (auth = sigv4) ---- */

/* `Authorization: Bearer TOKEN` with the configured admin_token, compared in constant time. */
static int bearer_ok(const lb_server_t *s, lb_http_request_t *req)
{
    const char *token = lb_config_settings(s->config)->admin_token;
    const char *h = lb_http_request_header(req, "Authorization");
    if (!*token || !h || strncmp(h, "Bearer ", 7) != 0) return 0;
    size_t n = strlen(token);
    if (strlen(h + 7) != n) return 0;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(h[7 + i] ^ token[i]);
    return diff == 0;
}

/* Checks the request's signature. 0 with *caller filled; otherwise the AWS error has been sent. */
static int authenticate(lb_server_t *s, lb_http_request_t *req, lb_auth_caller_t *caller)
{
    size_t n = lb_http_request_header_count(req), len;
    lb_sigv4_header_t *headers = lb_xcalloc(n + 1, sizeof *headers);
    for (size_t i = 0; i < n; i++)
        lb_http_request_header_at(req, i, &headers[i].name, &headers[i].value);
    const char *body = lb_http_request_body(req, &len);
    char hash[65];
    lb_sigv4_sha256_hex(body, len, hash);
    lb_sigv4_request_t sreq = {.method = lb_http_request_method(req),
                               .path = lb_http_request_path(req),
                               .query = lb_http_request_query(req),
                               .headers = headers,
                               .n_headers = n,
                               .payload_hash = hash};
    pending_call_t *pc = begin_call(s, req, JSON_TYPE, NULL);
    int sqs = lb_sqsd_protocol(req);
    if (sqs >= 0) pc->call.service = "sqs";
    int rc = lb_auth_check(s->keys, &sreq, pc->call.now_ms, &pc->call, caller);
    free(headers);
    if (rc == 0) {
        lb_call_clear(&pc->call);
        free(pc);
        return 0;
    }
    lb_logf_debug(&s->log, "request refused: not authenticated",
                  LB_LOG_STR("path", lb_http_request_path(req)),
                  LB_LOG_STR("request_id", pc->call.request_id));
    if (sqs == LB_SQS_QUERY) lb_sqs_query_error_from_json(&pc->call);
    respond_call(pc);
    return -1;
}

static void route(lb_server_t *s, lb_http_request_t *req, caller_t caller)
{
    const char *method = lb_http_request_method(req);
    const char *path = lb_http_request_path(req);
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (strncmp(path, "/_localbridge/", 14) == 0 && s->cockpit &&
        lb_cockpit_handle(s->cockpit, req, lb_config_settings(s->config)->region))
        return;
    int sqs = lb_sqsd_protocol(req);
    if (sqs >= 0) {
        handle_sqs(s, req, (lb_sqs_proto_t)sqs, caller);
    } else if (strcmp(path, "/") == 0 && post) {
        handle_api(s, req, NULL, caller);
    } else if (strcmp(path, "/_localbridge/test-event-pattern") == 0 && post) {
        handle_api(s, req, "AWSEvents.ExplainEventPattern", caller);
    } else if (strcmp(path, "/health") == 0 && get) {
        handle_health(s, req);
    } else if (strcmp(path, "/_localbridge/events") == 0 && get) {
        handle_admin_get(s, req, "ListEvents", caller);
    } else if (strcmp(path, "/metrics") == 0 && get) {
        handle_metrics(s, req);
    } else if (strcmp(path, "/_localbridge/dead-letters") == 0 && get) {
        handle_admin_get(s, req, "ListDeadLetters", caller);
    } else if (strcmp(path, "/_localbridge/dead-letters/redrive") == 0 && post) {
        handle_admin_post(s, req, "RedriveDeadLetters", caller);
    } else if (strcmp(path, "/_localbridge/endpoints/health") == 0 && post) {
        /* Stands in for a global endpoint's Route 53 health check. */
        handle_admin_post(s, req, "SetEndpointHealth", caller);
    } else if (strcmp(path, "/_localbridge/schedules/fire") == 0 && post) {
        handle_admin_post(s, req, "FireScheduledRule", caller);
    } else if (strncmp(path, "/_localbridge/stacks/", 21) == 0 && path[21]) {
        handle_stack(s, req, method, path + 21, caller);
    } else if (lb_console_owns(path)) {
        handle_console(req);
    } else if (strcmp(path, "/_localbridge/functions") == 0 && get) {
        handle_admin_get(s, req, "ListFunctions", caller);
    } else if (strncmp(path, "/_localbridge/functions/", 24) == 0 && strcmp(method, "PUT") == 0) {
        handle_admin_function(s, req, "PutFunction", path + 24, caller);
    } else if (strncmp(path, "/_localbridge/functions/", 24) == 0 &&
               strcmp(method, "DELETE") == 0) {
        handle_admin_function(s, req, "DeleteFunction", path + 24, caller);
    } else if (strcmp(path, "/") == 0) {
        respond_error(req, LB_AWS_METHOD_NOT_ALLOWED,
                      "The AWS API takes POST / with an X-Amz-Target header.");
    } else {
        respond_error(req, LB_AWS_NOT_FOUND, "No such endpoint.");
    }
}

/* The replayer's "live work first": API requests being handled right now. */
int lb_server_live_requests(void *ctx)
{
    lb_server_t *s = ctx;
    /* A long-poll waiting for deliveries is a test waiting, not live work. */
    return s->http && lb_http_server_in_flight(s->http) > lb_cockpit_waiting(s->cockpit);
}

/* The browser-facing guards (see lb_origin.h), whatever `auth` says: a Host the daemon does not
 * serve is DNS rebinding; a cross-origin or non-JSON POST to an admin endpoint is CSRF. 0 to go
 * on; otherwise the refusal has been sent. */
static int browser_guard(lb_server_t *s, lb_http_request_t *req, const char *path)
{
    const char *host = lb_http_request_header(req, "Host");
    if (!lb_origin_host_allowed(host, lb_config_settings(s->config)->allowed_hosts)) {
        lb_logf_warn(&s->log, "request refused: Host not served (DNS rebinding guard)",
                     LB_LOG_STR("host", host), LB_LOG_STR("path", path));
        char msg[400];
        snprintf(msg, sizeof msg,
                 "Host %.200s is not served here: LocalBridge answers IP addresses, localhost "
                 "and the names in allowed_hosts.",
                 host);
        respond_error(req, LB_AWS_FORBIDDEN, msg);
        return -1;
    }
    const char *method = lb_http_request_method(req);
    int body_change = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    if ((!body_change && strcmp(method, "DELETE") != 0) || strncmp(path, "/_localbridge/", 14))
        return 0;
    const char *origin = lb_http_request_header(req, "Origin");
    const char *site = lb_http_request_header(req, "Sec-Fetch-Site");
    if (lb_origin_cross_site(origin, site, host)) {
        lb_logf_warn(&s->log, "request refused: cross-origin state change",
                     LB_LOG_STR("origin", origin), LB_LOG_STR("sec_fetch_site", site),
                     LB_LOG_STR("path", path));
        respond_error(req, LB_AWS_FORBIDDEN,
                      "Cross-origin requests may not change LocalBridge's state.");
        return -1;
    }
    if (body_change && !lb_origin_json_content_type(lb_http_request_header(req, "Content-Type"))) {
        respond_error(req, LB_AWS_UNSUPPORTED_MEDIA,
                      "LocalBridge's admin endpoints take Content-Type: application/json.");
        return -1;
    }
    return 0;
}

void lb_server_handle_request(lb_http_request_t *req, void *ctx)
{
    lb_server_t *s = ctx;
    const char *path = lb_http_request_path(req);
    if (browser_guard(s, req, path)) return;
    if (lb_config_settings(s->config)->auth != LB_AUTH_SIGV4 || strcmp(path, "/health") == 0) {
        route(s, req, NULL);
        return;
    }
    /* Admin endpoints and metrics also open to the bearer token; the API only to signatures. */
    int admin = strcmp(path, "/metrics") == 0 || strncmp(path, "/_localbridge/", 14) == 0;
    if (admin && bearer_ok(s, req)) {
        route(s, req, NULL);
        return;
    }
    lb_auth_caller_t caller;
    if (authenticate(s, req, &caller) == 0) route(s, req, &caller);
}

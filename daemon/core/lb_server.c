#include "lb_server.h"

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

struct lb_server {
    lb_dirwatch_t *dirwatch; /* tells the writer when a database file goes */
    uv_loop_t *loop;
    lb_config_t *config;
    lb_log_t log;
    lb_reader_t *reader; /* listings read here, off the loop thread */
    lb_writer_t *writer;
    lb_engine_t *engine;
    lb_api_t *api;
    lb_http_server_t *http;
    lb_dispatch_t *dispatch;
    lb_scheduler_t *scheduler; /* fires scheduled rules */
    lb_replayer_t *replayer;   /* replays, in the background */
    lb_retention_t *retention; /* archived events' RetentionDays */
    lb_metrics_t *metrics;
    lb_cockpit_t *cockpit; /* the cockpit's endpoints: live stream, long-poll, status, reset */
    lb_pidlock_t *pidlock; /* held from start-up until the store is closed */
    lb_keys_t *keys;       /* auth = sigv4: the keys callers sign with */
    lb_sqs_t *sqs;         /* the built-in queues */
    lb_sqsd_t *sqsd;       /* their long polls and retention */
    uint64_t unroutable;   /* targets and DLQs accepted with no route */
    uv_timer_t drain_timer;
    int drain_timer_open;
    int shutting_down;
    /* The database was deleted and could not be written back: writes refused, /health fails. */
    int store_lost;
    char store_lost_reason[4400];
    char url[128];
    char db_path[4096];
};

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

static void run_pending(void *ctx, void *pending)
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
static void on_route_check(void *ctx, const char *region, const char *bus, const char *rule,
                           const char *target_id, const char *arn, int dlq)
{
    lb_server_t *s = ctx;
    if (!s->dispatch || lb_dispatch_routable(s->dispatch, arn)) return;
    s->unroutable++;
    lb_logf_warn(&s->log,
                 dlq ? "dead-letter queue has no route: its dead letters stay in the dead-letter "
                       "store"
                     : "target has no route: its deliveries will be dead-lettered",
                 LB_LOG_STR("region", region), LB_LOG_STR("bus", bus), LB_LOG_STR("rule", rule),
                 LB_LOG_STR("target", target_id), LB_LOG_STR("arn", arn));
}

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
    if (lb_sqsd_protocol(req) >= 0) pc->call.service = "sqs";
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
static int live_requests(void *ctx)
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

static void handle_request(lb_http_request_t *req, void *ctx)
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

/* Reads credentials_file into s->keys (auth = sigv4). On failure *err says why and the keys held
 * so far stay. */
static int load_keys(lb_server_t *s, char **err)
{
    const char *path = lb_config_settings(s->config)->credentials_file;
    if (!*path) {
        *err = lb_strdup("auth = sigv4 needs credentials_file (a file of 'ACCESS_KEY_ID "
                         "SECRET_ACCESS_KEY ACCOUNT_ID' lines)");
        return -EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        lb_buf_t m = {0};
        lb_buf_printf(&m, "cannot read credentials_file %s: %s", path, strerror(errno));
        *err = lb_buf_steal(&m, NULL);
        return -errno;
    }
    lb_buf_t text = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < (1u << 24))
        lb_buf_append(&text, chunk, got);
    fclose(f);
    lb_keys_t *keys = NULL;
    int rc = lb_keys_parse(path, text.data ? text.data : "", text.len, &keys, err);
    if (text.data) OPENSSL_cleanse(text.data, text.len);
    lb_buf_free(&text);
    if (rc) return rc;
    lb_keys_free(&s->keys);
    s->keys = keys;
    lb_logf_info(&s->log, "caller keys loaded", LB_LOG_STR("credentials_file", path),
                 LB_LOG_UINT("keys", lb_keys_count(keys)));
    return 0;
}

/* Directories the daemon creates are its own: 0700, so the database, its key and its lock are
 * nobody else's to read. An existing directory keeps its mode (it may be /tmp). */
static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST) return -errno;
    return 0;
}

static char *format_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format_error(const char *fmt, ...)
{
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lb_strdup(msg);
}

/* The configured region's default bus is persisted at first start so its creation time is
 * stable across restarts. */
static int ensure_default_bus(lb_store_t *store, lb_engine_t *engine, const char *region)
{
    if (lb_engine_bus_find(engine, region, "default")) return 0;
    int64_t now = lb_now_ms();
    lb_bus_record_t rec = {
        .region = (char *)region, .name = "default", .created_ms = now, .modified_ms = now};
    int rc = lb_store_bus_insert(store, &rec);
    if (rc) return rc;
    return lb_engine_bus_put(engine, &rec);
}

static void on_data_dir_change(void *ctx)
{
    lb_writer_check_files(ctx);
}

/* The writer found the database file deleted (or replaced) under it and wrote it back (rc 0),
 * or could not (writes are refused from now on). Runs on the loop thread. */
static void on_store_restored(void *ctx, int rc)
{
    lb_server_t *s = ctx;
    if (rc == 0) {
        /* The read-only connection still reads the deleted file: move it to the restored one. */
        lb_reader_reopen(s->reader);
        return;
    }
    s->store_lost = 1;
    snprintf(s->store_lost_reason, sizeof s->store_lost_reason,
             "database %s was deleted while running and could not be restored; writes are "
             "refused until restart",
             s->db_path);
}

/* Connection secrets are sealed with the key file's key; rows an older build stored in plain are
 * sealed now, and the WAL is checkpointed so no page holds them in plain afterwards. */
static int open_secrets(lb_server_t *s, lb_store_t *store, char **err)
{
    unsigned char key[LB_SEAL_KEY_BYTES];
    const struct lb_settings *cfg = lb_config_settings(s->config);
    int rc = lb_keyfile_load(cfg, &s->log, key, err);
    if ((rc == -EACCES || rc == -EROFS || rc == -EPERM) && !*cfg->secrets_key_file) {
        /* A read-only data directory: nothing can be written to the store either. */
        lb_logf_warn(&s->log, "no secrets key: connection secrets cannot be read or written",
                     LB_LOG_STR("error", *err));
        free(*err);
        *err = NULL;
        return 0;
    }
    if (rc) return rc;
    lb_store_set_secret_key(store, key);
    OPENSSL_cleanse(key, sizeof key);
    size_t sealed = 0;
    if (lb_store_read_only(store)) return 0;
    if ((rc = lb_conn_store_seal_all(store, &sealed)) ||
        (sealed && (rc = lb_store_checkpoint(store)))) {
        *err = format_error("cannot encrypt the stored connection secrets in %s: %s", s->db_path,
                            lb_store_errmsg(store));
        return rc;
    }
    if (sealed)
        lb_logf_info(&s->log, "connection secrets stored in plain were encrypted",
                     LB_LOG_UINT("connections", sealed));
    return 0;
}

static lb_http_limits_t http_limits(const struct lb_settings *cfg)
{
    lb_http_limits_t l = {
        .max_body_size = cfg->max_body_size,
        .max_header_size = cfg->max_header_size,
        .max_connections = cfg->max_connections,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .request_timeout_ms = cfg->request_timeout_ms,
    };
    return l;
}

int lb_server_start(uv_loop_t *loop, lb_config_t *config, lb_server_t **out, char **err)
{
    const struct lb_settings *cfg = lb_config_settings(config);
    lb_server_t *s = lb_xcalloc(1, sizeof *s);
    s->loop = loop;
    s->config = config;
    s->log.level = cfg->log_level;
    s->log.format = lb_log_resolve_format(cfg->log_format);
    lb_store_t *store = NULL;
    int rc;
    *err = NULL;
    if ((rc = mkdir_p(cfg->data_dir))) {
        *err = format_error("cannot create data dir %s: %s", cfg->data_dir, strerror(-rc));
        goto fail;
    }
    pid_t holder = 0;
    rc = lb_pidlock_acquire(cfg->data_dir, &s->pidlock, &holder);
    if (rc == -EBUSY) {
        *err = holder ? format_error("data dir %s is in use by another LocalBridge (pid %ld holds "
                                     "%s/" LB_PIDLOCK_NAME "); stop it or choose another "
                                     "--data-dir",
                                     cfg->data_dir, (long)holder, cfg->data_dir)
                      : format_error("data dir %s is in use by another LocalBridge (it holds "
                                     "%s/" LB_PIDLOCK_NAME "); stop it or choose another "
                                     "--data-dir",
                                     cfg->data_dir, cfg->data_dir);
        goto fail;
    } else if (rc == -EROFS) {
        /* Nothing can be written there, so a second daemon could not diverge either. */
        lb_logf_warn(&s->log, "data dir is not writable; running without its lock file",
                     LB_LOG_STR("data_dir", cfg->data_dir));
    } else if (rc) {
        *err = format_error("cannot lock data dir %s: %s", cfg->data_dir, strerror(-rc));
        goto fail;
    }
    snprintf(s->db_path, sizeof s->db_path, "%s/localbridge.db", cfg->data_dir);
    lb_store_options_t opts = {.read_only = 0,
                               .synchronous = (lb_sync_mode_t)cfg->sqlite_synchronous,
                               .cache_bytes = cfg->sqlite_cache_size};
    if ((rc = lb_store_open(s->db_path, &opts, &store))) {
        *err = format_error("cannot open store %s%s", s->db_path,
                            rc == -EPROTO ? ": written by a newer LocalBridge" : "");
        goto fail;
    }
    if ((rc = open_secrets(s, store, err))) goto fail;
    lb_engine_new(&s->engine);
    size_t skipped = 0;
    if (lb_store_read_only(store))
        lb_logf_warn(&s->log, "store is read-only; every write will fail until it is writable",
                     LB_LOG_STR("path", s->db_path));
    if ((rc = lb_engine_load(s->engine, store, &skipped)) ||
        (rc = ensure_default_bus(store, s->engine, cfg->region))) {
        *err = format_error("cannot load store %s: %s", s->db_path, lb_store_errmsg(store));
        goto fail;
    }
    lb_sqs_new(&s->sqs);
    if ((rc = lb_queues_load(lb_sqs_queues(s->sqs), store, lb_now_ms()))) {
        *err = format_error("cannot load the queues of %s: %s", s->db_path, lb_store_errmsg(store));
        goto fail;
    }
    if (skipped)
        lb_logf_warn(&s->log, "stored rules or targets no longer valid; skipped",
                     LB_LOG_UINT("count", skipped));
    if ((rc = lb_forwards_install(cfg, s->engine, store, &s->log, err))) goto fail;
    /* The reader thread's read-only connection: listings and the dispatcher's paging. */
    opts.read_only = 1;
    lb_store_t *reader_db = NULL;
    if ((rc = lb_store_open(s->db_path, &opts, &reader_db))) {
        *err = format_error("cannot open store %s for reading", s->db_path);
        goto fail;
    }
    if ((rc = lb_reader_start(loop, reader_db, &s->log, &s->reader))) {
        s->reader = NULL;
        *err = format_error("cannot start the reader thread: %s", uv_strerror(rc));
        goto fail;
    }
    if (cfg->auth == LB_AUTH_SIGV4 && (rc = load_keys(s, err))) goto fail;
    lb_api_new(s->engine, &s->api);
    if ((rc = lb_writer_start(loop, store, &s->log, &s->writer))) {
        *err = format_error("cannot start the writer thread: %s", uv_strerror(rc));
        goto fail;
    }
    store = NULL; /* the writer owns it now */
    lb_writer_on_restore(s->writer, on_store_restored, s);
    /* Without a watch (inotify unavailable) the writer still checks its file once a second. */
    if (lb_dirwatch_start(loop, cfg->data_dir, "localbridge.db", on_data_dir_change, s->writer,
                          &s->dirwatch))
        lb_logf_warn(&s->log,
                     "cannot watch the data dir; a deleted database is noticed within a "
                     "second",
                     LB_LOG_STR("data_dir", cfg->data_dir));
    lb_metrics_new(&s->metrics);
    lb_cockpit_env_t cenv = {.loop = loop,
                             .engine = s->engine,
                             .reader = s->reader,
                             .writer = s->writer,
                             .metrics = s->metrics,
                             .log = &s->log};
    lb_cockpit_new(&cenv, &s->cockpit);
    lb_dispatch_env_t env = {.loop = loop,
                             .config = config,
                             .engine = s->engine,
                             .writer = s->writer,
                             .reader = s->reader,
                             .metrics = s->metrics,
                             .log = &s->log,
                             .on_logged = lb_cockpit_on_attempt,
                             .on_logged_ctx = s->cockpit,
                             .self_url = s->url,
                             .sqs = s->sqs};
    if ((rc = lb_dispatch_start(&env, &s->dispatch))) {
        *err = format_error("cannot start the delivery dispatcher");
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    lb_engine_set_delivery_hook(s->engine, lb_dispatch_hook, s->dispatch);
    lb_engine_set_route_hook(s->engine, on_route_check, s);
    lb_cockpit_set_dispatch(s->cockpit, s->dispatch);
    lb_scheduler_env_t senv = {
        .loop = loop, .config = config, .engine = s->engine, .writer = s->writer, .log = &s->log};
    if ((rc = lb_scheduler_start(&senv, &s->scheduler))) {
        *err = format_error("cannot start the scheduler: %s", uv_strerror(rc));
        lb_dispatch_stop(s->dispatch);
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    lb_replayer_env_t renv = {.loop = loop,
                              .config = config,
                              .engine = s->engine,
                              .writer = s->writer,
                              .reader = s->reader,
                              .dispatch = s->dispatch,
                              .log = &s->log,
                              .live_requests = live_requests,
                              .live_requests_ctx = s};
    lb_replayer_start(&renv, &s->replayer);
    lb_retention_env_t tenv = {
        .loop = loop, .config = config, .engine = s->engine, .writer = s->writer, .log = &s->log};
    lb_retention_start(&tenv, &s->retention);
    lb_sqsd_env_t qenv = {.loop = loop,
                          .writer = s->writer,
                          .log = &s->log,
                          .sqs = s->sqs,
                          .run = run_pending,
                          .ctx = s};
    lb_sqsd_start(&qenv, &s->sqsd);
    lb_http_limits_t limits = http_limits(cfg);
    if ((rc = lb_http_server_start(loop, cfg->listen.host, cfg->listen.port, &limits,
                                   handle_request, s, &s->log, &s->http))) {
        char where[128];
        snprintf(where, sizeof where, "%s%s%s:%u", cfg->listen.ipv6 ? "[" : "", cfg->listen.host,
                 cfg->listen.ipv6 ? "]" : "", cfg->listen.port);
        *err = format_error("cannot listen on %s: %s", where, uv_strerror(rc));
        lb_scheduler_stop(s->scheduler);
        lb_replayer_stop(s->replayer);
        lb_retention_stop(s->retention);
        lb_sqsd_stop(s->sqsd);
        lb_dispatch_stop(s->dispatch);
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    snprintf(s->url, sizeof s->url, "http://%s%s%s:%d", cfg->listen.ipv6 ? "[" : "",
             cfg->listen.host, cfg->listen.ipv6 ? "]" : "", lb_http_server_port(s->http));
    lb_logf_info(&s->log, "listening", LB_LOG_STR("url", s->url),
                 LB_LOG_STR("data_dir", cfg->data_dir), LB_LOG_STR("region", cfg->region),
                 LB_LOG_STR("account", cfg->account_id));
    *out = s;
    return 0;
fail:
    lb_store_close(&store);
    if (s->reader) lb_reader_stop(s->reader);
    s->reader = NULL;
    lb_server_free(&s);
    return rc ? rc : -EINVAL;
}

const char *lb_server_url(const lb_server_t *s)
{
    return s->url;
}

static void drain_check(uv_timer_t *t)
{
    lb_server_t *s = t->data;
    if (lb_http_server_in_flight(s->http) > 0 || lb_writer_pending(s->writer) > 0 ||
        lb_reader_pending(s->reader) > 0)
        return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    /* The read-only connections close first so the writer's, closing last, can checkpoint and
     * remove the WAL: a clean stop leaves just the database file. */
    lb_reader_stop(s->reader);
    s->reader = NULL;
    lb_dirwatch_stop(&s->dirwatch);
    lb_writer_stop(s->writer);
    s->writer = NULL;
    lb_scheduler_free(&s->scheduler); /* after the writer completed its last firings */
    lb_replayer_free(&s->replayer);
    lb_retention_free(&s->retention);
    lb_sqsd_free(&s->sqsd);
    lb_dispatch_free(&s->dispatch);
    lb_cockpit_free(&s->cockpit);
    lb_http_server_close(s->http);
    s->http = NULL;
    lb_log_fields(&s->log, LB_LOG_INFO, "stopped", NULL, 0);
}

void lb_server_shutdown(lb_server_t *s)
{
    if (s->shutting_down) return;
    s->shutting_down = 1;
    lb_notify("STOPPING=1");
    lb_logf_info(&s->log, "shutting down",
                 LB_LOG_UINT("in_flight", lb_http_server_in_flight(s->http)),
                 LB_LOG_UINT("pending_writes", lb_writer_pending(s->writer)));
    lb_cockpit_stop(s->cockpit); /* long-polls answer now, streams end */
    lb_http_server_drain(s->http);
    lb_scheduler_stop(s->scheduler);
    /* No new replay step or sweep step; those in flight finish with the writer's queue. */
    lb_replayer_stop(s->replayer);
    lb_retention_stop(s->retention);
    /* Parked long polls answer now (empty), as SQS does when a wait ends. */
    lb_sqsd_stop(s->sqsd);
    /* Sends under way are abandoned: their deliveries stay pending and go out after restart. */
    lb_dispatch_stop(s->dispatch);
    uv_timer_init(s->loop, &s->drain_timer);
    s->drain_timer.data = s;
    uv_timer_start(&s->drain_timer, drain_check, 0, 10);
}

void lb_server_reload(lb_server_t *s)
{
    char *restart = NULL, *err = NULL;
    lb_notify("RELOADING=1");
    if (lb_config_reload(s->config, &restart, &err)) {
        lb_logf_error(&s->log, "reload failed; keeping the current configuration",
                      LB_LOG_STR("error", err ? err : "unknown"));
    } else {
        const struct lb_settings *cfg = lb_config_settings(s->config);
        s->log.level = cfg->log_level;
        char *keys_err = NULL;
        if (cfg->auth == LB_AUTH_SIGV4 && load_keys(s, &keys_err))
            lb_logf_error(&s->log, "credentials_file not reloaded; keeping the keys loaded before",
                          LB_LOG_STR("error", keys_err ? keys_err : "unknown"));
        free(keys_err);
        lb_dispatch_kick(s->dispatch);
        lb_logf_info(&s->log, "configuration reloaded",
                     LB_LOG_STR("log_level", lb_log_level_name(cfg->log_level)));
        if (restart)
            lb_logf_warn(&s->log, "changed options take effect only after a restart",
                         LB_LOG_STR("options", restart));
    }
    free(restart);
    free(err);
    lb_notify("READY=1");
}

void lb_server_free(lb_server_t **sp)
{
    lb_server_t *s = *sp;
    if (!s) return;
    lb_dirwatch_stop(&s->dirwatch);
    lb_cockpit_free(&s->cockpit);
    lb_scheduler_free(&s->scheduler);
    lb_replayer_free(&s->replayer);
    lb_retention_free(&s->retention);
    lb_dispatch_free(&s->dispatch);
    lb_metrics_free(&s->metrics);
    lb_api_free(&s->api);
    lb_sqsd_free(&s->sqsd);
    lb_sqs_free(&s->sqs);
    lb_keys_free(&s->keys);
    lb_engine_free(&s->engine);
    lb_config_free(&s->config);
    lb_pidlock_release(&s->pidlock);
    free(s);
    *sp = NULL;
}

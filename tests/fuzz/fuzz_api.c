/* libFuzzer target for the JSON request decoders behind lb_api_handle(): the first input byte
 * picks an operation (index into lb_api_operation_name(); one past the table is the admin
 * operation AWSEvents.ExplainEventPattern, other values wrap), the rest is the request body.
 * The call runs exactly as the daemon runs it: lb_api_handle(), then any deferred store work in
 * a transaction, then lb_call_complete(). Every response must be valid UTF-8 (clients decode it
 * before anything else) and a JSON object with a status code, and errors must carry an AWS
 * __type. Seeds (tests/fuzz/api_seeds/) are written by
 * make_api_seeds.py.
 *
 * Each input starts from the same state, so a crash reproduces from its input alone: a fresh
 * in-memory store, engine and API, populated with a bus, a rule with targets, a connection and
 * an API destination for the request to refer to. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_api.h"
#include "lb_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    lb_store_t *store;
    lb_engine_t *engine;
    lb_api_t *api;
} world_t;

/* Runs one call to completion and checks the response's shape. */
static int run_call(world_t *w, const char *target, int admin, const char *body, size_t len,
                    const char *field, char *out, size_t outlen)
{
    lb_call_t call = {0};
    snprintf(call.region, sizeof call.region, "us-east-1");
    snprintf(call.request_id, sizeof call.request_id, "00000000-0000-4000-8000-000000000000");
    call.account_id = "123456789012";
    call.now_ms = 1700000000000;
    call.admin = admin;
    lb_api_handle(w->api, &call, target, "application/x-amz-json-1.1", body, len);
    if (call.txn) {
        int rc = lb_store_begin(w->store);
        if (rc == 0) rc = call.txn(w->store, call.arg);
        if (rc == 0)
            rc = lb_store_commit(w->store);
        else
            lb_store_rollback(w->store);
        lb_call_complete(&call, rc);
    }
    if (call.txn || call.status < 200 || call.status > 599 || !call.body.data) {
        fprintf(stderr, "%s: no complete response (status %d)\n", target, call.status);
        abort();
    }
    if (!lb_utf8_valid(call.body.data, call.body.len)) {
        fprintf(stderr, "%s: response is not UTF-8: %s\n", target, call.body.data);
        abort();
    }
    lb_json_doc_t *doc = NULL;
    if (lb_json_parse(call.body.data, call.body.len, 1000, &doc, NULL) ||
        lb_json_doc_root(doc)->type != LB_JSON_OBJECT) {
        fprintf(stderr, "%s: response is not a JSON object: %s\n", target, call.body.data);
        abort();
    }
    const lb_json_t *json = lb_json_doc_root(doc);
    if (call.status != 200 && !lb_json_is(lb_json_get(json, "__type"), LB_JSON_STRING)) {
        fprintf(stderr, "%s: error %d without __type: %s\n", target, call.status, call.body.data);
        abort();
    }
    const char *f = field ? lb_json_get_str(json, field) : NULL;
    if (f) snprintf(out, outlen, "%s", f);
    lb_json_doc_free(&doc);
    int status = call.status;
    if (status != 200 && getenv("FUZZ_API_VERBOSE")) fprintf(stderr, "%s\n", call.body.data);
    lb_call_clear(&call);
    return status;
}

static void setup_call(world_t *w, const char *op, const char *body, const char *field, char *out,
                       size_t outlen)
{
    char target[96];
    snprintf(target, sizeof target, "AWSEvents.%s", op);
    if (run_call(w, target, 0, body, strlen(body), field, out, outlen) != 200) {
        fprintf(stderr, "fuzz_api set-up call %s failed\n", op);
        abort();
    }
}

static void world_new(world_t *w)
{
    lb_store_options_t opts = {.read_only = 0, .synchronous = LB_SYNC_OFF};
    if (lb_store_open(":memory:", &opts, &w->store) || lb_engine_new(&w->engine) ||
        lb_api_new(w->engine, &w->api))
        abort();
    setup_call(w, "CreateEventBus", "{\"Name\":\"orders\",\"Description\":\"fuzz\"}", NULL, NULL,
               0);
    setup_call(w, "PutRule",
               "{\"Name\":\"r1\",\"EventBusName\":\"orders\",\"EventPattern\":"
               "\"{\\\"source\\\":[\\\"shop\\\"],\\\"detail\\\":{\\\"n\\\":[{\\\"numeric\\\":"
               "[\\\">\\\",1]}]}}\"}",
               NULL, NULL, 0);
    setup_call(w, "PutTargets",
               "{\"Rule\":\"r1\",\"EventBusName\":\"orders\",\"Targets\":[{\"Id\":\"t1\","
               "\"Arn\":\"arn:aws:sqs:us-east-1:123456789012:q\",\"InputTransformer\":{"
               "\"InputPathsMap\":{\"n\":\"$.detail.n\"},\"InputTemplate\":\"{\\\"v\\\":<n>}\"}}]}",
               NULL, NULL, 0);
    char conn_arn[256] = "";
    setup_call(w, "CreateConnection",
               "{\"Name\":\"c1\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":{"
               "\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"x-key\",\"ApiKeyValue\":\"s\"}}}",
               "ConnectionArn", conn_arn, sizeof conn_arn);
    char req[512];
    snprintf(req, sizeof req,
             "{\"Name\":\"d1\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":"
             "\"https://example.com/x\",\"HttpMethod\":\"POST\"}",
             conn_arn);
    setup_call(w, "CreateApiDestination", req, NULL, NULL, 0);
    setup_call(w, "CreateArchive",
               "{\"ArchiveName\":\"a1\",\"EventSourceArn\":\"arn:aws:events:us-east-1:"
               "123456789012:event-bus/orders\",\"EventPattern\":\"{\\\"source\\\":"
               "[\\\"shop\\\"]}\",\"RetentionDays\":1}",
               NULL, NULL, 0);
    setup_call(w, "StartReplay",
               "{\"ReplayName\":\"rp1\",\"EventSourceArn\":\"arn:aws:events:us-east-1:"
               "123456789012:archive/a1\",\"EventStartTime\":1699990000,\"EventEndTime\":"
               "1699999000,\"Destination\":{\"Arn\":\"arn:aws:events:us-east-1:123456789012:"
               "event-bus/orders\"}}",
               NULL, NULL, 0);
}

static void world_free(world_t *w)
{
    lb_api_free(&w->api);
    lb_engine_free(&w->engine);
    lb_store_close(&w->store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t n_ops = lb_api_operation_count();
    size_t pick = data[0] % (n_ops + 1);
    char target[96];
    snprintf(target, sizeof target, "AWSEvents.%s",
             pick < n_ops ? lb_api_operation_name(pick) : "ExplainEventPattern");
    /* lb_api_handle() wants the body NUL-terminated at len (it may hold NULs before that). */
    char *body = malloc(size);
    if (!body) abort();
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';

    world_t w = {0};
    world_new(&w);
    run_call(&w, target, pick == n_ops, body, size - 1, NULL, NULL, 0);
    world_free(&w);
    free(body);
    return 0;
}

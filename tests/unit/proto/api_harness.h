/* Drives proto/ operations exactly as the daemon does: lb_api_handle(), then the deferred store
 * work in a transaction on a scratch store, then lb_call_complete(). Header-only, for the proto
 * unit tests. */
#ifndef LB_API_HARNESS_H
#define LB_API_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../lb_test.h"
#include "json_helpers.h"
#include "lb_api.h"

static lb_engine_t *engine;
static lb_api_t *api;
static lb_store_t *store;
static void setup(void)
{
    lb_test_db_setup_named("proto");
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &store), 0);
    lb_engine_new(&engine);
    lb_api_new(engine, &api);
}

static void teardown(void)
{
    json_release_all();
    lb_api_free(&api);
    lb_engine_free(&engine);
    lb_store_close(&store);
    lb_test_db_remove();
}

/* Runs one call to completion (committing deferred work) and returns the parsed body (held until
 * teardown). */
static const lb_json_t *call_api(const char *op, const char *body, int *status)
{
    lb_call_t call = {0};
    char target[128];
    snprintf(call.region, sizeof call.region, "us-east-1");
    call.account_id = "123456789012";
    call.now_ms = 1700000000000;
    snprintf(target, sizeof target, "AWSEvents.%s", op);
    lb_api_handle(api, &call, target, "application/x-amz-json-1.1", body, strlen(body));
    if (call.txn) {
        ck_assert_int_eq(lb_store_begin(store), 0);
        int rc = call.txn(store, call.arg);
        if (rc == 0)
            ck_assert_int_eq(lb_store_commit(store), 0);
        else
            lb_store_rollback(store);
        lb_call_complete(&call, rc);
    }
    *status = call.status;
    const lb_json_t *json = json_parse_held(call.body.data);
    ck_assert_msg(json != NULL, "response is not JSON: %s", call.body.data);
    lb_call_clear(&call);
    return json;
}

static const char *str(const lb_json_t *o, const char *k)
{
    const char *s = lb_json_get_str(o, k);
    return s ? s : "";
}

static void expect_error(const char *op, const char *body, int status, const char *type,
                         const char *message)
{
    int got;
    const lb_json_t *r = call_api(op, body, &got);
    ck_assert_int_eq(got, status);
    ck_assert_str_eq(str(r, "__type"), type);
    if (message) ck_assert_str_eq(str(r, "message"), message);
}

/* As expect_error for a message of len bytes, which may hold U+0000. */
static void expect_error_n(const char *op, const char *body, const char *type, const char *message,
                           size_t len)
{
    int got;
    const lb_json_t *r = call_api(op, body, &got);
    ck_assert_int_eq(got, 400);
    ck_assert_str_eq(str(r, "__type"), type);
    const lb_json_t *m = lb_json_get(r, "message");
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(m->len == len && memcmp(m->str, message, len) == 0, "message %s", m->str);
}

#endif

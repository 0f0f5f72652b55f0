/* proto/ + lib/: connections and API destinations. The operations are called directly (the
 * operation table lives in lb_api.c) with deferred work committed on a real store, the way the
 * daemon does. Expected messages are AWS's, from
 * shared/conformance/aws-snapshots/test_api_destinations_and_connection.snapshot.json and
 * test_events.snapshot.json. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_helpers.h"
#include "lb_connections.h"
#include "lb_ops_conn.h"
#include "lb_ops_rule.h"
#include "lb_ops_target.h"

static lb_engine_t *engine;
static lb_store_t *store;
static char db_path[256];

static lb_connections_t *reg(void)
{
    return lb_engine_connections(engine);
}

static void setup(void)
{
    snprintf(db_path, sizeof db_path, "/tmp/lb-test-conn-%d.db", getpid());
    unlink(db_path);
    ck_assert_int_eq(lb_store_open(db_path, NULL, &store), 0);
    lb_engine_new(&engine);
}

static void teardown(void)
{
    char p[300];
    json_release_all();
    lb_engine_free(&engine);
    lb_store_close(&store);
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
}

typedef void (*op_fn)(lb_engine_t *, const lb_json_t *, lb_call_t *);

/* Secrets used by every test: none may ever appear in a response. */
static const char *const secrets[] = {"pass-s3cret", "key-s3cret", "client-s3cret", "hdr-s3cret"};

/* Runs one operation to completion; the parsed response is held until teardown. */
static const lb_json_t *run(op_fn op, const char *body, int *status)
{
    lb_call_t call = {0};
    snprintf(call.region, sizeof call.region, "us-east-1");
    call.account_id = "123456789012";
    call.now_ms = 1700000000000;
    lb_json_doc_t *req;
    ck_assert_int_eq(lb_json_parse(body, strlen(body), LB_JSON_REQUEST_MAX_DEPTH, &req, NULL), 0);
    op(engine, lb_json_doc_root(req), &call);
    if (call.txn) {
        ck_assert_int_eq(lb_store_begin(store), 0);
        int rc = call.txn(store, call.arg);
        if (rc == 0)
            ck_assert_int_eq(lb_store_commit(store), 0);
        else
            lb_store_rollback(store);
        lb_call_complete(&call, rc);
    }
    lb_json_doc_free(&req);
    *status = call.status;
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        ck_assert_msg(strstr(call.body.data, secrets[i]) == NULL, "secret leaked: %s",
                      call.body.data);
    const lb_json_t *json = json_parse_held(call.body.data);
    ck_assert_msg(json != NULL, "response is not JSON: %s", call.body.data);
    lb_call_clear(&call);
    return json;
}

static const lb_json_t *ok(op_fn op, const char *body)
{
    int status;
    const lb_json_t *r = run(op, body, &status);
    ck_assert_msg(status == 200, "status %d: %s", status, r ? lb_json_print(r, NULL) : "");
    return r;
}

static const char *str(const lb_json_t *o, const char *path)
{
    /* "A.B.C" walks nested objects. */
    char key[128];
    const char *p = path;
    while (o) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        memcpy(key, p, n);
        key[n] = '\0';
        o = lb_json_get(o, key);
        if (!dot) break;
        p = dot + 1;
    }
    return lb_json_is(o, LB_JSON_STRING) ? o->str : "";
}

static void expect_error(op_fn op, const char *body, const char *type, const char *message)
{
    int status;
    const lb_json_t *r = run(op, body, &status);
    ck_assert_int_eq(status, 400);
    ck_assert_str_eq(str(r, "__type"), type);
    if (message) ck_assert_str_eq(str(r, "message"), message);
}

/* As expect_error for a ValidationException message of len bytes, which may hold U+0000. */
static void expect_validation_n(op_fn op, const char *body, const char *message, size_t len)
{
    int status;
    const lb_json_t *r = run(op, body, &status);
    ck_assert_int_eq(status, 400);
    ck_assert_str_eq(str(r, "__type"), "ValidationException");
    const lb_json_t *m = lb_json_get(r, "message");
    ck_assert_msg(m && m->len == len && memcmp(m->str, message, len) == 0, "message %s",
                  m ? m->str : "(none)");
}

static char *create_connection(const char *body)
{
    const lb_json_t *r = ok(lb_op_create_connection, body);
    char *arn = strdup(str(r, "ConnectionArn"));
    return arn;
}

static char *create_destination(const char *name, const char *conn_arn, const char *endpoint,
                                const char *method, int rate)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"Name\":\"%s\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":\"%s\","
             "\"HttpMethod\":\"%s\"%s%d}",
             name, conn_arn, endpoint, method,
             rate ? ",\"InvocationRateLimitPerSecond\":" : ",\"Description\":\"d\",\"X\":", rate);
    const lb_json_t *r = ok(lb_op_create_api_destination, body);
    char *arn = strdup(str(r, "ApiDestinationArn"));
    return arn;
}

START_TEST(test_connection_lifecycle)
{
    const lb_json_t *r = ok(lb_op_create_connection,
                            "{\"Name\":\"c1\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
                            "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"ApiKey\",\"ApiKeyValue\":"
                            "\"key-s3cret\"},\"InvocationHttpParameters\":{}}}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZED");
    ck_assert_int_eq(strncmp(str(r, "ConnectionArn"),
                             "arn:aws:events:us-east-1:123456789012:connection/c1/", 52),
                     0);
    ck_assert(is_number(lb_json_get(r, "CreationTime")));
    ck_assert(is_number(lb_json_get(r, "LastModifiedTime")));
    ck_assert_int_eq(count(r), 4);
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"c1\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
                 "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"a\",\"ApiKeyValue\":\"b\"}}}",
                 "ResourceAlreadyExistsException", "Connection c1 already exists.");

    r = ok(lb_op_describe_connection, "{\"Name\":\"c1\"}");
    ck_assert_str_eq(str(r, "Name"), "c1");
    ck_assert_str_eq(str(r, "AuthorizationType"), "API_KEY");
    ck_assert_str_eq(str(r, "AuthParameters.ApiKeyAuthParameters.ApiKeyName"), "ApiKey");
    ck_assert_ptr_null(lb_json_get(
        lb_json_get(lb_json_get(r, "AuthParameters"), "ApiKeyAuthParameters"), "ApiKeyValue"));
    ck_assert(is_object(lb_json_get(lb_json_get(r, "AuthParameters"), "InvocationHttpParameters")));
    ck_assert_int_eq(strncmp(str(r, "SecretArn"),
                             "arn:aws:secretsmanager:us-east-1:123456789012:secret:events!"
                             "connection/c1/",
                             74),
                     0);
    ck_assert(is_number(lb_json_get(r, "LastAuthorizedTime")));

    (void)(ok(lb_op_create_connection,
              "{\"Name\":\"c2\",\"Description\":\"basic\",\"AuthorizationType\":"
              "\"BASIC\",\"AuthParameters\":{\"BasicAuthParameters\":{\"Username\":"
              "\"user\",\"Password\":\"pass-s3cret\"}}}"));
    r = ok(lb_op_list_connections, "{}");
    const lb_json_t *list = lb_json_get(r, "Connections");
    ck_assert_int_eq(count(list), 2);
    ck_assert_str_eq(str(lb_json_at(list, 1), "AuthorizationType"), "BASIC");
    ck_assert_ptr_null(lb_json_get(lb_json_at(list, 1), "AuthParameters"));
    r = ok(lb_op_list_connections, "{\"Limit\":1}");
    ck_assert_int_eq(count(lb_json_get(r, "Connections")), 1);
    char next[600];
    snprintf(next, sizeof next, "{\"Limit\":1,\"NextToken\":\"%s\"}", str(r, "NextToken"));
    r = ok(lb_op_list_connections, next);
    ck_assert_str_eq(str(lb_json_at(lb_json_get(r, "Connections"), 0), "Name"), "c2");
    ck_assert_ptr_null(lb_json_get(r, "NextToken"));
    r = ok(lb_op_list_connections, "{\"NamePrefix\":\"c2\"}");
    ck_assert_int_eq(count(lb_json_get(r, "Connections")), 1);
    r = ok(lb_op_list_connections, "{\"ConnectionState\":\"AUTHORIZED\"}");
    ck_assert_int_eq(count(lb_json_get(r, "Connections")), 2);
    r = ok(lb_op_list_connections, "{\"ConnectionState\":\"DEAUTHORIZED\",\"Limit\":1}");
    ck_assert_int_eq(count(lb_json_get(r, "Connections")), 0);
    ck_assert_ptr_null(lb_json_get(r, "NextToken"));

    /* Update keeps what is not given, replaces what is. */
    r = ok(lb_op_update_connection,
           "{\"Name\":\"c2\",\"AuthParameters\":{\"BasicAuthParameters\":{\"Username\":"
           "\"new_user\"}}}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZED");
    ck_assert(is_number(lb_json_get(r, "LastAuthorizedTime")));
    r = ok(lb_op_describe_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "AuthParameters.BasicAuthParameters.Username"), "new_user");
    ck_assert_str_eq(str(r, "Description"), "basic");
    const lb_json_t *doc = lb_conn_find(reg(), LB_CONN_CONNECTION, "us-east-1", "c2");
    ck_assert_str_eq(str(doc, "AuthParameters.BasicAuthParameters.Password"), "pass-s3cret");

    /* Deauthorize forgets the credentials; an update with new ones authorizes again. */
    r = ok(lb_op_deauthorize_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DEAUTHORIZING");
    r = ok(lb_op_describe_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DEAUTHORIZED");
    r = ok(lb_op_update_connection, "{\"Name\":\"c2\",\"Description\":\"x\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DEAUTHORIZED");
    expect_error(lb_op_update_connection,
                 "{\"Name\":\"c2\",\"AuthParameters\":{\"BasicAuthParameters\":{\"Username\":"
                 "\"u\"}}}",
                 "ValidationException",
                 "1 validation error detected: Value null at "
                 "'authParameters.basicAuthParameters.password' failed to satisfy constraint: "
                 "Member must not be null");
    r = ok(lb_op_update_connection,
           "{\"Name\":\"c2\",\"AuthParameters\":{\"BasicAuthParameters\":{\"Password\":"
           "\"pass-s3cret\"}}}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZED");

    r = ok(lb_op_delete_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DELETING");
    ck_assert(is_number(lb_json_get(r, "LastAuthorizedTime")));
    expect_error(lb_op_describe_connection, "{\"Name\":\"c2\"}", "ResourceNotFoundException",
                 "Failed to describe the connection(s). Connection 'c2' does not exist.");
    expect_error(lb_op_delete_connection, "{\"Name\":\"c2\"}", "ResourceNotFoundException",
                 "Failed to describe the connection(s). Connection 'c2' does not exist.");
    expect_error(lb_op_update_connection, "{\"Name\":\"c2\"}", "ResourceNotFoundException",
                 "Failed to describe the connection(s). Connection 'c2' does not exist.");
    expect_error(lb_op_deauthorize_connection, "{\"Name\":\"c2\"}", "ResourceNotFoundException",
                 NULL);

    /* The store has what memory has: a fresh registry loads the same definitions. */
    lb_connections_t *fresh;
    size_t skipped = 99;
    lb_connections_new(&fresh);
    ck_assert_int_eq(lb_connections_load(fresh, store, &skipped), 0);
    ck_assert_uint_eq(skipped, 0);
    ck_assert_ptr_nonnull(lb_conn_find(fresh, LB_CONN_CONNECTION, "us-east-1", "c1"));
    ck_assert_ptr_null(lb_conn_find(fresh, LB_CONN_CONNECTION, "us-east-1", "c2"));
    ck_assert_str_eq(lb_connection_state(fresh, "us-east-1", "c1"), "AUTHORIZED");
    lb_connections_free(&fresh);
}
END_TEST

START_TEST(test_connection_validation)
{
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"This should fail with two errors "
                 "123467890123412341234123412341234\",\"AuthorizationType\":\"INVALID\","
                 "\"AuthParameters\":{}}",
                 "ValidationException",
                 "3 validation errors detected: Value 'This should fail with two errors "
                 "123467890123412341234123412341234' at 'name' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value "
                 "'This should fail with two errors 123467890123412341234123412341234' at "
                 "'name' failed to satisfy constraint: Member must have length less than or "
                 "equal to 64; Value 'INVALID' at 'authorizationType' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [BASIC, "
                 "OAUTH_CLIENT_CREDENTIALS, API_KEY]");
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"Invalid Name With Spaces!\",\"AuthorizationType\":\"API_KEY\","
                 "\"AuthParameters\":{}}",
                 "ValidationException",
                 "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' "
                 "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                 "[\\.\\-_A-Za-z0-9]+");
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"ok\",\"AuthorizationType\":\"INVALID_AUTH_TYPE\","
                 "\"AuthParameters\":{}}",
                 "ValidationException",
                 "1 validation error detected: Value 'INVALID_AUTH_TYPE' at 'authorizationType' "
                 "failed to satisfy constraint: Member must satisfy enum value set: [BASIC, "
                 "OAUTH_CLIENT_CREDENTIALS, API_KEY]");
    expect_error(lb_op_create_connection, "{\"Name\":\"ok\",\"AuthorizationType\":\"BASIC\"}",
                 "ValidationException",
                 "1 validation error detected: Value null at 'authParameters' failed to satisfy "
                 "constraint: Member must not be null");
    expect_error(lb_op_create_connection, "{}", "ValidationException",
                 "3 validation errors detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null; Value null at 'authorizationType' failed "
                 "to satisfy constraint: Member must not be null; Value null at 'authParameters' "
                 "failed to satisfy constraint: Member must not be null");
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"ok\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":"
                 "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"a\",\"ApiKeyValue\":\"b\"}}}",
                 "ValidationException",
                 "AuthParameters.BasicAuthParameters must be specified for authorization type "
                 "BASIC.");
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"ok\",\"AuthorizationType\":\"OAUTH_CLIENT_CREDENTIALS\","
                 "\"AuthParameters\":{\"OAuthParameters\":{\"AuthorizationEndpoint\":\"https://"
                 "a\",\"HttpMethod\":\"DELETE\",\"ClientParameters\":{\"ClientID\":\"i\"}}}}",
                 "ValidationException",
                 "2 validation errors detected: Value null at "
                 "'authParameters.oAuthParameters.clientParameters.clientSecret' failed to "
                 "satisfy constraint: Member must not be null; Value 'DELETE' at "
                 "'authParameters.oAuthParameters.httpMethod' failed to satisfy constraint: "
                 "Member must satisfy enum value set: [GET, POST, PUT]");
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"ok\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
                 "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":5}}}",
                 "SerializationException", NULL);
    expect_error(lb_op_create_connection, "{\"Name\":7}", "SerializationException", NULL);
    expect_error(lb_op_list_connections, "{\"ConnectionState\":\"NOPE\"}", "ValidationException",
                 NULL);
    expect_error(lb_op_list_connections, "{\"Limit\":0}", "ValidationException",
                 "1 validation error detected: Value '0' at 'limit' failed to satisfy "
                 "constraint: Member must have value greater than or equal to 1");
    expect_error(lb_op_list_connections, "{\"NextToken\":\"zz\"}", "ValidationException",
                 "The NextToken 'zz' is not valid.");
    expect_error(lb_op_describe_connection, "{}", "ValidationException",
                 "1 validation error detected: Value null at 'name' failed to satisfy "
                 "constraint: Member must not be null");
    expect_error(lb_op_update_connection, "{\"Name\":\"x\",\"AuthorizationType\":\"NOPE\"}",
                 "ValidationException",
                 "1 validation error detected: Value 'NOPE' at 'authorizationType' failed to "
                 "satisfy constraint: Member must satisfy enum value set: [BASIC, "
                 "OAUTH_CLIENT_CREDENTIALS, API_KEY]");
}
END_TEST

START_TEST(test_api_destination_lifecycle)
{
    char *conn = create_connection(
        "{\"Name\":\"c\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":"
        "{\"BasicAuthParameters\":{\"Username\":\"user\",\"Password\":\"pass-s3cret\"}}}");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"Name\":\"d1\",\"Description\":\"Test API destination\",\"ConnectionArn\":"
             "\"%s\",\"InvocationEndpoint\":\"https://example.com/api\",\"HttpMethod\":\"POST\"}",
             conn);
    const lb_json_t *r = ok(lb_op_create_api_destination, body);
    ck_assert_str_eq(str(r, "ApiDestinationState"), "ACTIVE");
    ck_assert_int_eq(strncmp(str(r, "ApiDestinationArn"),
                             "arn:aws:events:us-east-1:123456789012:api-destination/d1/", 57),
                     0);
    ck_assert_int_eq(count(r), 4);
    expect_error(lb_op_create_api_destination, body, "ResourceAlreadyExistsException",
                 "An api-destination 'd1' already exists.");

    r = ok(lb_op_describe_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_str_eq(str(r, "ConnectionArn"), conn);
    ck_assert_str_eq(str(r, "Description"), "Test API destination");
    ck_assert_str_eq(str(r, "HttpMethod"), "POST");
    ck_assert_str_eq(str(r, "InvocationEndpoint"), "https://example.com/api");
    ck_assert_int_eq(lb_json_get(r, "InvocationRateLimitPerSecond")->num, 300);

    r = ok(lb_op_list_api_destinations, "{}");
    const lb_json_t *item = lb_json_at(lb_json_get(r, "ApiDestinations"), 0);
    ck_assert_str_eq(str(item, "Name"), "d1");
    ck_assert_ptr_null(lb_json_get(item, "Description"));
    ck_assert_str_eq(str(item, "ApiDestinationState"), "ACTIVE");
    snprintf(body, sizeof body, "{\"ConnectionArn\":\"%s\"}", conn);
    r = ok(lb_op_list_api_destinations, body);
    ck_assert_int_eq(count(lb_json_get(r, "ApiDestinations")), 1);
    r = ok(lb_op_list_api_destinations, "{\"NamePrefix\":\"zz\"}");
    ck_assert_int_eq(count(lb_json_get(r, "ApiDestinations")), 0);
    r = ok(lb_op_list_api_destinations,
           "{\"ConnectionArn\":\"arn:aws:events:us-east-1:000000000000:connection/other/"
           "0b0c1f61-2f5e-4d5c-9e5b-6f4f5d1a7a10\"}");
    ck_assert_int_eq(count(lb_json_get(r, "ApiDestinations")), 0);

    r = ok(lb_op_update_api_destination,
           "{\"Name\":\"d1\",\"Description\":\"Updated API destination\",\"HttpMethod\":\"PUT\","
           "\"InvocationEndpoint\":\"https://example.com/api/v2\"}");
    ck_assert_str_eq(str(r, "ApiDestinationState"), "ACTIVE");
    r = ok(lb_op_describe_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_str_eq(str(r, "HttpMethod"), "PUT");
    ck_assert_str_eq(str(r, "InvocationEndpoint"), "https://example.com/api/v2");
    ck_assert_str_eq(str(r, "Description"), "Updated API destination");
    ck_assert_str_eq(str(r, "ConnectionArn"), conn);

    /* A destination follows its connection's state. */
    (void)(ok(lb_op_deauthorize_connection, "{\"Name\":\"c\"}"));
    r = ok(lb_op_describe_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_str_eq(str(r, "ApiDestinationState"), "INACTIVE");

    r = ok(lb_op_delete_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_int_eq(count(r), 0);
    expect_error(lb_op_describe_api_destination, "{\"Name\":\"d1\"}", "ResourceNotFoundException",
                 "Failed to describe the api-destination(s). An api-destination 'd1' does not "
                 "exist.");
    expect_error(lb_op_delete_api_destination, "{\"Name\":\"d1\"}", "ResourceNotFoundException",
                 NULL);
    expect_error(lb_op_update_api_destination, "{\"Name\":\"d1\"}", "ResourceNotFoundException",
                 NULL);
    free(conn);
}
END_TEST

START_TEST(test_api_destination_validation)
{
    expect_error(lb_op_create_api_destination,
                 "{\"Name\":\"d\",\"ConnectionArn\":\"invalid-connection-arn\","
                 "\"InvocationEndpoint\":\"https://example.com/api\",\"HttpMethod\":"
                 "\"INVALID_METHOD\"}",
                 "ValidationException",
                 "2 validation errors detected: Value 'invalid-connection-arn' at "
                 "'connectionArn' failed to satisfy constraint: Member must satisfy regular "
                 "expression pattern: ^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:"
                 "connection\\/[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]+$; Value 'INVALID_METHOD' at "
                 "'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: "
                 "[HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]");
    expect_error(lb_op_create_api_destination,
                 "{\"Name\":\"Invalid Name With Spaces!\",\"ConnectionArn\":\"arn:aws:events:"
                 "us-east-1:123456789012:connection/c/abc\",\"InvocationEndpoint\":\"https://"
                 "example.com/api\",\"HttpMethod\":\"POST\"}",
                 "ValidationException",
                 "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' "
                 "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                 "[\\.\\-_A-Za-z0-9]+");
    expect_error(lb_op_create_api_destination,
                 "{\"Name\":\"d\",\"ConnectionArn\":\"arn:aws:events:us-east-1:123456789012:"
                 "connection/nope/abc\",\"InvocationEndpoint\":\"https://example.com/api\","
                 "\"HttpMethod\":\"POST\"}",
                 "ResourceNotFoundException",
                 "Failed to describe the connection(s). Connection 'nope' does not exist.");
    expect_error(lb_op_create_api_destination, "{\"Name\":\"d\"}", "ValidationException",
                 "3 validation errors detected: Value null at 'connectionArn' failed to satisfy "
                 "constraint: Member must not be null; Value null at 'invocationEndpoint' failed "
                 "to satisfy constraint: Member must not be null; Value null at 'httpMethod' "
                 "failed to satisfy constraint: Member must not be null");
    expect_error(lb_op_create_api_destination,
                 "{\"Name\":\"d\",\"ConnectionArn\":\"arn:aws:events:us-east-1:123456789012:"
                 "connection/c/abc\",\"InvocationEndpoint\":\"https://e x\",\"HttpMethod\":"
                 "\"POST\",\"InvocationRateLimitPerSecond\":0}",
                 "ValidationException",
                 "2 validation errors detected: Value 'https://e x' at 'invocationEndpoint' "
                 "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                 "^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$; Value '0' "
                 "at 'invocationRateLimitPerSecond' failed to satisfy constraint: Member must "
                 "have value greater than or equal to 1");
    char *conn = create_connection(
        "{\"Name\":\"c\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"key-s3cret\"}}}");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"Name\":\"d\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":\"ftp://x\","
             "\"HttpMethod\":\"POST\"}",
             conn);
    expect_error(lb_op_create_api_destination, body, "ValidationException",
                 "InvocationEndpoint 'ftp://x' must be an https:// (or, locally, http://) URL.");
    /* Same name, other ID: not the connection that exists. */
    expect_error(lb_op_create_api_destination,
                 "{\"Name\":\"d\",\"ConnectionArn\":\"arn:aws:events:us-east-1:123456789012:"
                 "connection/c/other\",\"InvocationEndpoint\":\"https://x\",\"HttpMethod\":"
                 "\"POST\"}",
                 "ResourceNotFoundException", NULL);
    free(conn);
}
END_TEST

static int header_eq(const lb_http_call_t *c, const char *line)
{
    for (char **h = c->headers; *h; h++)
        if (strcmp(*h, line) == 0) return 1;
    return 0;
}

static size_t header_count(const lb_http_call_t *c)
{
    size_t n = 0;
    for (char **h = c->headers; *h; h++)
        n++;
    return n;
}

/* A target's HttpParameters object text, compiled (NULL for none). */
static lb_http_params_t *params_of(const char *json)
{
    lb_http_params_t *p;
    ck_assert_int_eq(lb_http_params_compile(json_parse_held(json), &p), 0);
    return p;
}

START_TEST(test_prepare_api_key_and_parameters)
{
    char *conn = create_connection(
        "{\"Name\":\"c\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"x-api-key\",\"ApiKeyValue\":\"key-s3cret\"},"
        "\"InvocationHttpParameters\":{\"HeaderParameters\":[{\"Key\":\"X-Conn\",\"Value\":"
        "\"hdr-s3cret\",\"IsValueSecret\":true},{\"Key\":\"X-Both\",\"Value\":\"conn\"}],"
        "\"QueryStringParameters\":[{\"Key\":\"cq\",\"Value\":\"a b&c\"},{\"Key\":\"both\","
        "\"Value\":\"conn\"}],\"BodyParameters\":[{\"Key\":\"extra\",\"Value\":\"1\"}]}}}");
    /* Secret parameter values stay out of Describe. */
    const lb_json_t *r = ok(lb_op_describe_connection, "{\"Name\":\"c\"}");
    const lb_json_t *hdrs =
        lb_json_get(lb_json_get(lb_json_get(r, "AuthParameters"), "InvocationHttpParameters"),
                    "HeaderParameters");
    ck_assert_str_eq(str(lb_json_at(hdrs, 0), "Key"), "X-Conn");
    ck_assert_ptr_null(lb_json_get(lb_json_at(hdrs, 0), "Value"));
    ck_assert_str_eq(str(lb_json_at(hdrs, 1), "Value"), "conn");

    char *dest =
        create_destination("d", conn, "https://example.com/orders/*/items/*?v=1", "PUT", 0);
    lb_http_call_t c;
    lb_http_params_t *params =
        params_of("{\"PathParameterValues\":[\"o 1\",\"i2\"],\"HeaderParameters\":"
                  "{\"X-Target\":\"t\",\"x-both\":\"target\",\"Content-Type\":"
                  "\"text/plain\"},\"QueryStringParameters\":{\"tq\":\"z\",\"both\":"
                  "\"target\"}}");
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, params, "{\"detail\":{}}", &c),
                     0);
    lb_http_params_free(&params);
    ck_assert_ptr_null(params);
    ck_assert_str_eq(c.method, "PUT");
    ck_assert_str_eq(c.url,
                     "https://example.com/orders/o%201/items/i2?v=1&cq=a%20b%26c&both=conn&tq=z");
    ck_assert(header_eq(&c, "x-api-key: key-s3cret"));
    ck_assert(header_eq(&c, "X-Conn: hdr-s3cret"));
    ck_assert(header_eq(&c, "X-Both: conn"));
    ck_assert(header_eq(&c, "X-Target: t"));
    ck_assert(header_eq(&c, "Content-Type: text/plain"));
    ck_assert(header_eq(&c, "User-Agent: Amazon/EventBridge/ApiDestinations"));
    ck_assert(header_eq(&c, "Range: bytes=0-1048575"));
    ck_assert_uint_eq(header_count(&c), 7);
    const lb_json_t *b = json_parse_held(c.body);
    ck_assert_str_eq(str(b, "extra"), "1");
    ck_assert(is_object(lb_json_get(b, "detail")));
    lb_http_call_clear(&c);

    /* No target parameters: defaults only; a non-object body is sent unchanged. */
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "\"text\"", &c), 0);
    ck_assert(header_eq(&c, "Content-Type: application/json; charset=utf-8"));
    ck_assert_str_eq(c.body, "\"text\"");
    ck_assert_str_eq(c.url, "https://example.com/orders/*/items/*?v=1&cq=a%20b%26c&both=conn");
    lb_http_call_clear(&c);

    /* HttpParameters that are not an object compile to none. */
    ck_assert_ptr_null(params_of("[1]"));
    /* A path value that is not a string ends the list; map members that are not strings are
     * left out. */
    params = params_of("{\"PathParameterValues\":[\"p\",7,\"q\"],\"HeaderParameters\":"
                       "{\"X-N\":1,\"X-S\":\"s\"},\"QueryStringParameters\":{\"n\":null}}");
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, params, "{}", &c), 0);
    ck_assert_str_eq(c.url, "https://example.com/orders/p/items/*?v=1&cq=a%20b%26c&both=conn");
    ck_assert(header_eq(&c, "X-S: s"));
    ck_assert_uint_eq(header_count(&c), 7);
    lb_http_call_clear(&c);
    lb_http_params_free(&params);
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1",
                                        "arn:aws:events:us-east-1:1:api-"
                                        "destination/d/wrong",
                                        NULL, "{}", &c),
                     -ENOENT);
    ck_assert_int_eq(lb_apidest_prepare(reg(), "eu-west-1", dest, NULL, "{}", &c), -ENOENT);
    (void)(ok(lb_op_deauthorize_connection, "{\"Name\":\"c\"}"));
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "{}", &c), LB_EINVALID);
    (void)(ok(lb_op_delete_connection, "{\"Name\":\"c\"}"));
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "{}", &c), -ENOENT);
    ck_assert_str_eq(lb_apidest_state(reg(), "us-east-1", "d"), "INACTIVE");
    free(dest);
    free(conn);
}
END_TEST

START_TEST(test_prepare_basic)
{
    char *conn = create_connection(
        "{\"Name\":\"c\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":"
        "{\"BasicAuthParameters\":{\"Username\":\"user\",\"Password\":\"pass-s3cret\"}}}");
    char *dest = create_destination("d", conn, "http://localhost:9000/hook", "POST", 0);
    lb_http_call_t c;
    lb_http_params_t *params = params_of("{}");
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, params, "{\"a\":1}", &c), 0);
    lb_http_params_free(&params);
    /* base64("user:pass-s3cret") */
    ck_assert(header_eq(&c, "Authorization: Basic dXNlcjpwYXNzLXMzY3JldA=="));
    ck_assert_str_eq(c.url, "http://localhost:9000/hook");
    ck_assert_str_eq(c.body, "{\"a\":1}");
    ck_assert_uint_eq(header_count(&c), 4);
    lb_http_call_clear(&c);
    free(dest);
    free(conn);
}
END_TEST

/* Regression (B2): connection and destination names holding U+0000 fail their pattern, and
 * credentials holding it are refused, instead of being read up to the U+0000. */
START_TEST(test_nul_in_connection_fields)
{
    static const char name_msg[] =
        "1 validation error detected: Value 'c\000x' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+";
    expect_validation_n(
        lb_op_create_connection,
        "{\"Name\":\"c\\u0000x\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":"
        "{\"BasicAuthParameters\":{\"Username\":\"u\",\"Password\":\"p\"}}}",
        name_msg, sizeof name_msg - 1);
    ck_assert_ptr_null(lb_conn_find(reg(), LB_CONN_CONNECTION, "us-east-1", "c"));
    static const char user_msg[] =
        "1 validation error detected: Value 'u\000' at "
        "'authParameters.basicAuthParameters.username' failed to satisfy constraint: Member "
        "must not contain U+0000";
    expect_validation_n(lb_op_create_connection,
                        "{\"Name\":\"c\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":"
                        "{\"BasicAuthParameters\":{\"Username\":\"u\\u0000\",\"Password\":\"p\"}}}",
                        user_msg, sizeof user_msg - 1);
    char *conn = create_connection(
        "{\"Name\":\"c\",\"AuthorizationType\":\"BASIC\",\"AuthParameters\":"
        "{\"BasicAuthParameters\":{\"Username\":\"u\",\"Password\":\"pass-s3cret\"}}}");
    char body[512];
    static const char dest_msg[] =
        "1 validation error detected: Value 'https://x\000y' at 'invocationEndpoint' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: "
        "^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$";
    snprintf(
        body, sizeof body,
        "{\"Name\":\"d\",\"ConnectionArn\":\"%s\",\"InvocationEndpoint\":\"https://x\\u0000y\","
        "\"HttpMethod\":\"POST\"}",
        conn);
    expect_validation_n(lb_op_create_api_destination, body, dest_msg, sizeof dest_msg - 1);
    static const char describe_msg[] =
        "1 validation error detected: Value 'c\000' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+";
    expect_validation_n(lb_op_describe_connection, "{\"Name\":\"c\\u0000\"}", describe_msg,
                        sizeof describe_msg - 1);
    free(conn);
}
END_TEST

/* PutTargets compiles a target's HttpParameters once; a delivery uses the compiled form. */
START_TEST(test_http_parameters_compiled_at_put_targets)
{
    char *conn =
        create_connection("{\"Name\":\"c\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
                          "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"x-api-key\",\"ApiKeyValue\":"
                          "\"key-s3cret\"}}}");
    char *dest = create_destination("d", conn, "https://example.com/o/*", "POST", 0);
    (void)ok(lb_op_put_rule, "{\"Name\":\"r\",\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\"}");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"%s\",\"HttpParameters\":"
             "{\"PathParameterValues\":[\"42\"],\"HeaderParameters\":{\"X-T\":\"v\"},"
             "\"QueryStringParameters\":{\"q\":\"1\"}}},{\"Id\":\"plain\",\"Arn\":\"%s\"}]}",
             dest, dest);
    (void)ok(lb_op_put_targets, body);
    const lb_rule_t *rule = lb_rules_find(lb_engine_rules(engine), "us-east-1", "default", "r");
    ck_assert_ptr_nonnull(rule);
    ck_assert_uint_eq(rule->n_targets, 2);
    ck_assert_ptr_nonnull(rule->targets[0].http_params);
    ck_assert_ptr_null(rule->targets[1].http_params);
    lb_http_call_t c;
    ck_assert_int_eq(
        lb_apidest_prepare(reg(), "us-east-1", dest, rule->targets[0].http_params, "{}", &c), 0);
    ck_assert_str_eq(c.url, "https://example.com/o/42?q=1");
    ck_assert(header_eq(&c, "X-T: v"));
    lb_http_call_clear(&c);
    free(dest);
    free(conn);
}
END_TEST

static int collect_due(const char *region, const char *name, void *ctx)
{
    lb_buf_t *b = ctx;
    lb_buf_printf(b, "%s/%s;", region, name);
    return 0;
}

START_TEST(test_oauth)
{
    const lb_json_t *r =
        ok(lb_op_create_connection,
           "{\"Name\":\"o\",\"AuthorizationType\":\"OAUTH_CLIENT_CREDENTIALS\","
           "\"AuthParameters\":{\"OAuthParameters\":{\"AuthorizationEndpoint\":\"https://"
           "example.com/oauth\",\"HttpMethod\":\"POST\",\"ClientParameters\":{\"ClientID\":"
           "\"client_id\",\"ClientSecret\":\"client-s3cret\"},\"OAuthHttpParameters\":"
           "{\"BodyParameters\":[{\"Key\":\"scope\",\"Value\":\"a b\"}],"
           "\"QueryStringParameters\":[{\"Key\":\"aud\",\"Value\":\"x\"}],"
           "\"HeaderParameters\":[{\"Key\":\"X-O\",\"Value\":\"1\"}]}}}}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZING");
    char *conn = strdup(str(r, "ConnectionArn"));
    r = ok(lb_op_describe_connection, "{\"Name\":\"o\"}");
    ck_assert_str_eq(str(r, "AuthParameters.OAuthParameters.ClientParameters.ClientID"),
                     "client_id");
    ck_assert_str_eq(str(r, "AuthParameters.OAuthParameters.HttpMethod"), "POST");
    ck_assert_str_eq(str(r, "AuthParameters.OAuthParameters.AuthorizationEndpoint"),
                     "https://example.com/oauth");

    char *dest = create_destination("d", conn, "https://api.example.com/x", "POST", 0);
    /* Until the daemon has a token, the destination is INACTIVE as AWS reports it. */
    ck_assert_str_eq(lb_apidest_state(reg(), "us-east-1", "d"), "INACTIVE");
    lb_http_call_t c;
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "{}", &c), -EAGAIN);

    lb_buf_t due = {0};
    ck_assert_int_eq(lb_connections_oauth_due(reg(), 1000, collect_due, &due), 0);
    ck_assert_str_eq(due.data, "us-east-1/o;");
    lb_buf_free(&due);

    ck_assert_int_eq(lb_connections_oauth_request(reg(), "us-east-1", "o", &c), 0);
    ck_assert_str_eq(c.method, "POST");
    ck_assert_str_eq(c.url, "https://example.com/oauth?aud=x");
    /* base64("client_id:client-s3cret") */
    ck_assert(header_eq(&c, "Authorization: Basic Y2xpZW50X2lkOmNsaWVudC1zM2NyZXQ="));
    ck_assert(header_eq(&c, "X-O: 1"));
    ck_assert(header_eq(&c, "Content-Type: application/x-www-form-urlencoded"));
    ck_assert_str_eq(c.body, "scope=a%20b&grant_type=client_credentials");
    lb_http_call_clear(&c);
    ck_assert_int_eq(lb_connections_oauth_request(reg(), "us-east-1", "nope", &c), -ENOENT);

    ck_assert_int_eq(lb_connections_oauth_set_token(reg(), "us-east-1", "o", "tok", 100000), 0);
    ck_assert_str_eq(lb_connection_state(reg(), "us-east-1", "o"), "AUTHORIZED");
    ck_assert_str_eq(lb_apidest_state(reg(), "us-east-1", "d"), "ACTIVE");
    r = ok(lb_op_describe_connection, "{\"Name\":\"o\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZED");
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "{}", &c), 0);
    ck_assert(header_eq(&c, "Authorization: Bearer tok"));
    lb_http_call_clear(&c);

    /* Refreshed within 60 s of expiry, not before. */
    ck_assert_int_eq(lb_connections_oauth_due(reg(), 1000, collect_due, &due), 0);
    ck_assert_ptr_null(due.data);
    ck_assert_int_eq(lb_connections_oauth_due(reg(), 50000, collect_due, &due), 0);
    ck_assert_str_eq(due.data, "us-east-1/o;");
    lb_buf_free(&due);

    /* A failed token request deauthorizes until the connection is updated. */
    ck_assert_int_eq(lb_connections_oauth_set_token(reg(), "us-east-1", "o", NULL, 0), 0);
    ck_assert_str_eq(lb_connection_state(reg(), "us-east-1", "o"), "DEAUTHORIZED");
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "{}", &c), LB_EINVALID);
    r = ok(lb_op_update_connection, "{\"Name\":\"o\",\"Description\":\"again\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZING");

    (void)(ok(lb_op_create_connection,
              "{\"Name\":\"k\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
              "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"key-s3cret\"}}}"));
    ck_assert_int_eq(lb_connections_oauth_request(reg(), "us-east-1", "k", &c), -EINVAL);
    ck_assert_int_eq(lb_connections_oauth_set_token(reg(), "us-east-1", "k", "t", 0), -EINVAL);
    free(dest);
    free(conn);
}
END_TEST

START_TEST(test_rate_limit)
{
    char *conn = create_connection(
        "{\"Name\":\"c\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
        "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"k\",\"ApiKeyValue\":\"key-s3cret\"}}}");
    char *dest = create_destination("d", conn, "https://x", "POST", 2);
    int64_t t = 5000;
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t), 0);
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t), 0);
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t), 500);
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t + 250), 250);
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t + 500), 0);
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t + 500), 500);
    /* Idle time refills only up to the limit. */
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t + 100000), 0);
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t + 100000), 0);
    ck_assert_int_gt(lb_apidest_rate_take(reg(), "us-east-1", dest, t + 100000), 0);
    /* A raised limit takes effect on the next refill. */
    (void)(ok(lb_op_update_api_destination,
              "{\"Name\":\"d\",\"InvocationRateLimitPerSecond\":1000}"));
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1", dest, t + 100001), 0);
    ck_assert_int_eq(lb_apidest_rate_take(reg(), "us-east-1",
                                          "arn:aws:events:us-east-1:1:"
                                          "api-destination/zz/x",
                                          t),
                     -ENOENT);
    free(dest);
    free(conn);
}
END_TEST

Suite *conn_suite(void);
Suite *conn_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tc = tcase_create("ops");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_connection_lifecycle);
    tcase_add_test(tc, test_connection_validation);
    tcase_add_test(tc, test_api_destination_lifecycle);
    tcase_add_test(tc, test_api_destination_validation);
    tcase_add_test(tc, test_prepare_api_key_and_parameters);
    tcase_add_test(tc, test_prepare_basic);
    tcase_add_test(tc, test_http_parameters_compiled_at_put_targets);
    tcase_add_test(tc, test_nul_in_connection_fields);
    tcase_add_test(tc, test_oauth);
    tcase_add_test(tc, test_rate_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

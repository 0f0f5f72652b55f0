/* proto/ + lib/: connections and API destinations. The operations are called directly (the
 * operation table lives in lb_api.c) with deferred work committed on a real store, the way the
 * daemon does. Expected messages are AWS's, from
 * shared/conformance/aws-snapshots/test_api_destinations_and_connection.snapshot.json and
 * test_events.snapshot.json. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_connections.h"
#include "lb_ops_conn.h"

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
    lb_engine_free(&engine);
    lb_store_close(&store);
    unlink(db_path);
    snprintf(p, sizeof p, "%s-wal", db_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db_path);
    unlink(p);
}

typedef void (*op_fn)(lb_engine_t *, const cJSON *, lb_call_t *);

/* Secrets used by every test: none may ever appear in a response. */
static const char *const secrets[] = {"pass-s3cret", "key-s3cret", "client-s3cret", "hdr-s3cret"};

static cJSON *run(op_fn op, const char *body, int *status)
{
    lb_call_t call = {0};
    snprintf(call.region, sizeof call.region, "us-east-1");
    call.account_id = "123456789012";
    call.now_ms = 1700000000000;
    cJSON *req = cJSON_Parse(body);
    ck_assert_ptr_nonnull(req);
    op(engine, req, &call);
    if (call.txn) {
        ck_assert_int_eq(lb_store_begin(store), 0);
        int rc = call.txn(store, call.arg);
        if (rc == 0)
            ck_assert_int_eq(lb_store_commit(store), 0);
        else
            lb_store_rollback(store);
        lb_call_complete(&call, rc);
    }
    cJSON_Delete(req);
    *status = call.status;
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        ck_assert_msg(strstr(call.body.data, secrets[i]) == NULL, "secret leaked: %s",
                      call.body.data);
    cJSON *json = cJSON_Parse(call.body.data);
    ck_assert_msg(json != NULL, "response is not JSON: %s", call.body.data);
    lb_call_clear(&call);
    return json;
}

static cJSON *ok(op_fn op, const char *body)
{
    int status;
    cJSON *r = run(op, body, &status);
    ck_assert_msg(status == 200, "status %d: %s", status, cJSON_PrintUnformatted(r));
    return r;
}

static const char *str(const cJSON *o, const char *path)
{
    /* "A.B.C" walks nested objects. */
    char key[128];
    const char *p = path;
    while (o) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        memcpy(key, p, n);
        key[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        if (!dot) break;
        p = dot + 1;
    }
    return cJSON_IsString(o) ? o->valuestring : "";
}

static void expect_error(op_fn op, const char *body, const char *type, const char *message)
{
    int status;
    cJSON *r = run(op, body, &status);
    ck_assert_int_eq(status, 400);
    ck_assert_str_eq(str(r, "__type"), type);
    if (message) ck_assert_str_eq(str(r, "message"), message);
    cJSON_Delete(r);
}

static char *create_connection(const char *body)
{
    cJSON *r = ok(lb_op_create_connection, body);
    char *arn = strdup(str(r, "ConnectionArn"));
    cJSON_Delete(r);
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
    cJSON *r = ok(lb_op_create_api_destination, body);
    char *arn = strdup(str(r, "ApiDestinationArn"));
    cJSON_Delete(r);
    return arn;
}

START_TEST(test_connection_lifecycle)
{
    cJSON *r = ok(lb_op_create_connection,
                  "{\"Name\":\"c1\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
                  "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"ApiKey\",\"ApiKeyValue\":"
                  "\"key-s3cret\"},\"InvocationHttpParameters\":{}}}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZED");
    ck_assert_int_eq(strncmp(str(r, "ConnectionArn"),
                             "arn:aws:events:us-east-1:123456789012:connection/c1/", 52),
                     0);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "CreationTime")));
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "LastModifiedTime")));
    ck_assert_int_eq(cJSON_GetArraySize(r), 4);
    cJSON_Delete(r);
    expect_error(lb_op_create_connection,
                 "{\"Name\":\"c1\",\"AuthorizationType\":\"API_KEY\",\"AuthParameters\":"
                 "{\"ApiKeyAuthParameters\":{\"ApiKeyName\":\"a\",\"ApiKeyValue\":\"b\"}}}",
                 "ResourceAlreadyExistsException", "Connection c1 already exists.");

    r = ok(lb_op_describe_connection, "{\"Name\":\"c1\"}");
    ck_assert_str_eq(str(r, "Name"), "c1");
    ck_assert_str_eq(str(r, "AuthorizationType"), "API_KEY");
    ck_assert_str_eq(str(r, "AuthParameters.ApiKeyAuthParameters.ApiKeyName"), "ApiKey");
    ck_assert_ptr_null(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "AuthParameters"), "ApiKeyAuthParameters"),
        "ApiKeyValue"));
    ck_assert(cJSON_IsObject(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "AuthParameters"), "InvocationHttpParameters")));
    ck_assert_int_eq(strncmp(str(r, "SecretArn"),
                             "arn:aws:secretsmanager:us-east-1:123456789012:secret:events!"
                             "connection/c1/",
                             74),
                     0);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "LastAuthorizedTime")));
    cJSON_Delete(r);

    cJSON_Delete(ok(lb_op_create_connection,
                    "{\"Name\":\"c2\",\"Description\":\"basic\",\"AuthorizationType\":"
                    "\"BASIC\",\"AuthParameters\":{\"BasicAuthParameters\":{\"Username\":"
                    "\"user\",\"Password\":\"pass-s3cret\"}}}"));
    r = ok(lb_op_list_connections, "{}");
    cJSON *list = cJSON_GetObjectItem(r, "Connections");
    ck_assert_int_eq(cJSON_GetArraySize(list), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(list, 1), "AuthorizationType"), "BASIC");
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "AuthParameters"));
    cJSON_Delete(r);
    r = ok(lb_op_list_connections, "{\"Limit\":1}");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "Connections")), 1);
    char next[600];
    snprintf(next, sizeof next, "{\"Limit\":1,\"NextToken\":\"%s\"}", str(r, "NextToken"));
    cJSON_Delete(r);
    r = ok(lb_op_list_connections, next);
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "Connections"), 0), "Name"),
                     "c2");
    ck_assert_ptr_null(cJSON_GetObjectItem(r, "NextToken"));
    cJSON_Delete(r);
    r = ok(lb_op_list_connections, "{\"NamePrefix\":\"c2\"}");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "Connections")), 1);
    cJSON_Delete(r);

    /* Update keeps what is not given, replaces what is. */
    r = ok(lb_op_update_connection,
           "{\"Name\":\"c2\",\"AuthParameters\":{\"BasicAuthParameters\":{\"Username\":"
           "\"new_user\"}}}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZED");
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "LastAuthorizedTime")));
    cJSON_Delete(r);
    r = ok(lb_op_describe_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "AuthParameters.BasicAuthParameters.Username"), "new_user");
    ck_assert_str_eq(str(r, "Description"), "basic");
    cJSON_Delete(r);
    const cJSON *doc = lb_conn_find(reg(), LB_CONN_CONNECTION, "us-east-1", "c2");
    ck_assert_str_eq(str(doc, "AuthParameters.BasicAuthParameters.Password"), "pass-s3cret");

    /* Deauthorize forgets the credentials; an update with new ones authorizes again. */
    r = ok(lb_op_deauthorize_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DEAUTHORIZING");
    cJSON_Delete(r);
    r = ok(lb_op_describe_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DEAUTHORIZED");
    cJSON_Delete(r);
    r = ok(lb_op_update_connection, "{\"Name\":\"c2\",\"Description\":\"x\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DEAUTHORIZED");
    cJSON_Delete(r);
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
    cJSON_Delete(r);

    r = ok(lb_op_delete_connection, "{\"Name\":\"c2\"}");
    ck_assert_str_eq(str(r, "ConnectionState"), "DELETING");
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "LastAuthorizedTime")));
    cJSON_Delete(r);
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
    cJSON *r = ok(lb_op_create_api_destination, body);
    ck_assert_str_eq(str(r, "ApiDestinationState"), "ACTIVE");
    ck_assert_int_eq(strncmp(str(r, "ApiDestinationArn"),
                             "arn:aws:events:us-east-1:123456789012:api-destination/d1/", 57),
                     0);
    ck_assert_int_eq(cJSON_GetArraySize(r), 4);
    cJSON_Delete(r);
    expect_error(lb_op_create_api_destination, body, "ResourceAlreadyExistsException",
                 "An api-destination 'd1' already exists.");

    r = ok(lb_op_describe_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_str_eq(str(r, "ConnectionArn"), conn);
    ck_assert_str_eq(str(r, "Description"), "Test API destination");
    ck_assert_str_eq(str(r, "HttpMethod"), "POST");
    ck_assert_str_eq(str(r, "InvocationEndpoint"), "https://example.com/api");
    ck_assert_int_eq(cJSON_GetObjectItem(r, "InvocationRateLimitPerSecond")->valueint, 300);
    cJSON_Delete(r);

    r = ok(lb_op_list_api_destinations, "{}");
    cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "ApiDestinations"), 0);
    ck_assert_str_eq(str(item, "Name"), "d1");
    ck_assert_ptr_null(cJSON_GetObjectItem(item, "Description"));
    ck_assert_str_eq(str(item, "ApiDestinationState"), "ACTIVE");
    cJSON_Delete(r);
    snprintf(body, sizeof body, "{\"ConnectionArn\":\"%s\"}", conn);
    r = ok(lb_op_list_api_destinations, body);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "ApiDestinations")), 1);
    cJSON_Delete(r);
    r = ok(lb_op_list_api_destinations, "{\"NamePrefix\":\"zz\"}");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "ApiDestinations")), 0);
    cJSON_Delete(r);

    r = ok(lb_op_update_api_destination,
           "{\"Name\":\"d1\",\"Description\":\"Updated API destination\",\"HttpMethod\":\"PUT\","
           "\"InvocationEndpoint\":\"https://example.com/api/v2\"}");
    ck_assert_str_eq(str(r, "ApiDestinationState"), "ACTIVE");
    cJSON_Delete(r);
    r = ok(lb_op_describe_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_str_eq(str(r, "HttpMethod"), "PUT");
    ck_assert_str_eq(str(r, "InvocationEndpoint"), "https://example.com/api/v2");
    ck_assert_str_eq(str(r, "Description"), "Updated API destination");
    ck_assert_str_eq(str(r, "ConnectionArn"), conn);
    cJSON_Delete(r);

    /* A destination follows its connection's state. */
    cJSON_Delete(ok(lb_op_deauthorize_connection, "{\"Name\":\"c\"}"));
    r = ok(lb_op_describe_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_str_eq(str(r, "ApiDestinationState"), "INACTIVE");
    cJSON_Delete(r);

    r = ok(lb_op_delete_api_destination, "{\"Name\":\"d1\"}");
    ck_assert_int_eq(cJSON_GetArraySize(r), 0);
    cJSON_Delete(r);
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
    cJSON *r = ok(lb_op_describe_connection, "{\"Name\":\"c\"}");
    cJSON *hdrs = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "AuthParameters"), "InvocationHttpParameters"),
        "HeaderParameters");
    ck_assert_str_eq(str(cJSON_GetArrayItem(hdrs, 0), "Key"), "X-Conn");
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(hdrs, 0), "Value"));
    ck_assert_str_eq(str(cJSON_GetArrayItem(hdrs, 1), "Value"), "conn");
    cJSON_Delete(r);

    char *dest =
        create_destination("d", conn, "https://example.com/orders/*/items/*?v=1", "PUT", 0);
    lb_http_call_t c;
    ck_assert_int_eq(
        lb_apidest_prepare(reg(), "us-east-1", dest,
                           "{\"PathParameterValues\":[\"o 1\",\"i2\"],\"HeaderParameters\":"
                           "{\"X-Target\":\"t\",\"x-both\":\"target\",\"Content-Type\":"
                           "\"text/plain\"},\"QueryStringParameters\":{\"tq\":\"z\",\"both\":"
                           "\"target\"}}",
                           "{\"detail\":{}}", &c),
        0);
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
    cJSON *b = cJSON_Parse(c.body);
    ck_assert_str_eq(str(b, "extra"), "1");
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(b, "detail")));
    cJSON_Delete(b);
    lb_http_call_clear(&c);

    /* No target parameters: defaults only; a non-object body is sent unchanged. */
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "\"text\"", &c), 0);
    ck_assert(header_eq(&c, "Content-Type: application/json; charset=utf-8"));
    ck_assert_str_eq(c.body, "\"text\"");
    ck_assert_str_eq(c.url, "https://example.com/orders/*/items/*?v=1&cq=a%20b%26c&both=conn");
    lb_http_call_clear(&c);

    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, "[1]", "{}", &c), -EINVAL);
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1",
                                        "arn:aws:events:us-east-1:1:api-"
                                        "destination/d/wrong",
                                        NULL, "{}", &c),
                     -ENOENT);
    ck_assert_int_eq(lb_apidest_prepare(reg(), "eu-west-1", dest, NULL, "{}", &c), -ENOENT);
    cJSON_Delete(ok(lb_op_deauthorize_connection, "{\"Name\":\"c\"}"));
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, NULL, "{}", &c), LB_EINVALID);
    cJSON_Delete(ok(lb_op_delete_connection, "{\"Name\":\"c\"}"));
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
    ck_assert_int_eq(lb_apidest_prepare(reg(), "us-east-1", dest, "{}", "{\"a\":1}", &c), 0);
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

static int collect_due(const char *region, const char *name, void *ctx)
{
    lb_buf_t *b = ctx;
    lb_buf_printf(b, "%s/%s;", region, name);
    return 0;
}

START_TEST(test_oauth)
{
    cJSON *r = ok(lb_op_create_connection,
                  "{\"Name\":\"o\",\"AuthorizationType\":\"OAUTH_CLIENT_CREDENTIALS\","
                  "\"AuthParameters\":{\"OAuthParameters\":{\"AuthorizationEndpoint\":\"https://"
                  "example.com/oauth\",\"HttpMethod\":\"POST\",\"ClientParameters\":{\"ClientID\":"
                  "\"client_id\",\"ClientSecret\":\"client-s3cret\"},\"OAuthHttpParameters\":"
                  "{\"BodyParameters\":[{\"Key\":\"scope\",\"Value\":\"a b\"}],"
                  "\"QueryStringParameters\":[{\"Key\":\"aud\",\"Value\":\"x\"}],"
                  "\"HeaderParameters\":[{\"Key\":\"X-O\",\"Value\":\"1\"}]}}}}");
    ck_assert_str_eq(str(r, "ConnectionState"), "AUTHORIZING");
    char *conn = strdup(str(r, "ConnectionArn"));
    cJSON_Delete(r);
    r = ok(lb_op_describe_connection, "{\"Name\":\"o\"}");
    ck_assert_str_eq(str(r, "AuthParameters.OAuthParameters.ClientParameters.ClientID"),
                     "client_id");
    ck_assert_str_eq(str(r, "AuthParameters.OAuthParameters.HttpMethod"), "POST");
    ck_assert_str_eq(str(r, "AuthParameters.OAuthParameters.AuthorizationEndpoint"),
                     "https://example.com/oauth");
    cJSON_Delete(r);

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
    cJSON_Delete(r);
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
    cJSON_Delete(r);

    cJSON_Delete(
        ok(lb_op_create_connection,
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
    cJSON_Delete(
        ok(lb_op_update_api_destination, "{\"Name\":\"d\",\"InvocationRateLimitPerSecond\":1000}"));
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

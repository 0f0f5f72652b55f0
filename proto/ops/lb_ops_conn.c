#include "lb_ops_conn.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The deferred change shared with lb_ops_apidest.c ---- */

typedef struct {
    lb_connections_t *reg;
    lb_conn_kind_t kind;
    lb_conn_job_op_t op;
    char *region;
    lb_json_doc_t *doc; /* its root is the resource's definition */
    char *json;         /* doc as stored */
    lb_conn_render_fn render;
} conn_job_t;

static void conn_job_free(void *arg)
{
    conn_job_t *job = arg;
    free(job->region);
    lb_json_doc_free(&job->doc);
    if (job->json) {
        /* The stored document holds secrets. */
        memset(job->json, 0, strlen(job->json));
        free(job->json);
    }
    free(job);
}

static const char *doc_str(const lb_json_t *doc, const char *key)
{
    return lb_json_get_str(doc, key);
}

static int64_t doc_ms(const lb_json_t *doc, const char *key)
{
    const lb_json_t *f = lb_json_get(doc, key);
    /* Times are written here as integers; anything else reads as 0 rather than as an
     * out-of-range conversion. */
    return lb_json_is(f, LB_JSON_NUMBER) && fabs(f->num) < 9.2e18 ? (int64_t)f->num : 0;
}

lb_json_doc_t *lb_conn_doc_new(lb_json_t **root)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    *root = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_doc_set_root(doc, *root);
    return doc;
}

lb_json_doc_t *lb_conn_doc_copy(const lb_json_t *src, lb_json_t **root)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    *root = lb_json_copy(doc, src);
    lb_json_doc_set_root(doc, *root);
    return doc;
}

void lb_conn_set_str(lb_json_doc_t *doc, lb_json_t *obj, const char *key, const char *value)
{
    lb_json_remove(obj, key);
    lb_json_add_str(doc, obj, key, value);
}

void lb_conn_set_ms(lb_json_doc_t *doc, lb_json_t *obj, const char *key, int64_t ms)
{
    lb_json_remove(obj, key);
    lb_json_add(doc, obj, key, lb_json_new_int(doc, ms));
}

static int conn_job_txn(lb_store_t *store, void *arg)
{
    conn_job_t *job = arg;
    const lb_json_t *doc = lb_json_doc_root(job->doc);
    const char *name = doc_str(doc, "Name");
    switch (job->op) {
    case LB_CONN_JOB_INSERT:
        return lb_conn_store_insert(store, job->kind, job->region, name, job->json,
                                    doc_ms(doc, "CreationTime"), doc_ms(doc, "LastModifiedTime"));
    case LB_CONN_JOB_UPDATE:
        return lb_conn_store_update(store, job->kind, job->region, name, job->json,
                                    doc_ms(doc, "LastModifiedTime"));
    case LB_CONN_JOB_DELETE:
        return lb_conn_store_delete(store, job->kind, job->region, name);
    }
    return -1;
}

void lb_conn_not_found(lb_call_t *call, const char *name)
{
    lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND,
                  "Failed to describe the connection(s). Connection '%s' does not exist.", name);
}

static void conn_job_finish(lb_call_t *call, int rc)
{
    conn_job_t *job = call->arg;
    const lb_json_t *doc = lb_json_doc_root(job->doc);
    const char *name = doc_str(doc, "Name");
    int is_conn = job->kind == LB_CONN_CONNECTION;
    if (rc == LB_EEXISTS) {
        if (is_conn)
            lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "Connection %s already exists.", name);
        else
            lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "An api-destination '%s' already exists.",
                          name);
        return;
    }
    if (rc == LB_ENOTFOUND) {
        if (is_conn)
            lb_conn_not_found(call, name);
        else
            lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND,
                          "Failed to describe the api-destination(s). An api-destination '%s' "
                          "does not exist.",
                          name);
        return;
    }
    if (rc) {
        lb_call_error_code(call, rc, is_conn ? "Connection" : "API destination");
        return;
    }
    call->status = 200;
    call->body.len = 0;
    if (job->op == LB_CONN_JOB_DELETE) {
        job->render(call, job->reg, doc);
        lb_conn_remove(job->reg, job->kind, job->region, name);
        return;
    }
    if (lb_conn_put(job->reg, job->kind, job->region, doc)) {
        lb_call_error_code(call, -ENOMEM, "Connection");
        return;
    }
    job->render(call, job->reg, doc);
}

void lb_conn_defer(lb_engine_t *engine, lb_call_t *call, lb_conn_kind_t kind, lb_conn_job_op_t op,
                   lb_json_doc_t *doc, lb_conn_render_fn render)
{
    conn_job_t *job = lb_xcalloc(1, sizeof *job);
    job->reg = lb_engine_connections(engine);
    job->kind = kind;
    job->op = op;
    job->region = lb_strdup(call->region);
    job->doc = doc;
    job->render = render;
    if (op != LB_CONN_JOB_DELETE) job->json = lb_json_print(lb_json_doc_root(doc), NULL);
    lb_call_defer(call, conn_job_txn, conn_job_finish, job, conn_job_free);
}

/* ---- Shared validation ---- */

void lb_conn_check_name(const char *name, size_t len, lb_verrs_t *v)
{
    if (!name) {
        lb_verr_add(v, NULL, "name", "Member must not be null");
        return;
    }
    if (!len || !lb_chars_only(name, len, ".-_"))
        lb_verr_add_n(v, name, len, "name",
                      "Member must satisfy regular expression pattern: " LB_CONN_NAME_PATTERN);
    if (lb_utf8_length(name) > 64)
        lb_verr_add_n(v, name, len, "name", "Member must have length less than or equal to 64");
}

int lb_conn_read_list_args(const lb_json_t *req, lb_call_t *call, const char **prefix,
                           int64_t *limit, char *start, size_t startlen)
{
    const char *token;
    size_t len;
    int has_limit;
    lb_verrs_t v = {0};
    *limit = 100;
    start[0] = '\0';
    if (lb_get_string_n(req, "NamePrefix", prefix, &len, call) ||
        lb_get_string(req, "NextToken", &token, call) ||
        lb_get_int(req, "Limit", limit, &has_limit, call))
        return -1;
    if (*prefix) {
        if (!len || !lb_chars_only(*prefix, len, ".-_"))
            lb_verr_add_n(&v, *prefix, len, "namePrefix",
                          "Member must satisfy regular expression pattern: " LB_CONN_NAME_PATTERN);
        if (lb_utf8_length(*prefix) > 64)
            lb_verr_add_n(&v, *prefix, len, "namePrefix",
                          "Member must have length less than or equal to 64");
    }
    if (has_limit && (*limit < 1 || *limit > 100)) {
        char lim[32];
        snprintf(lim, sizeof lim, "%lld", (long long)*limit);
        lb_verr_add(&v, lim, "limit",
                    *limit < 1 ? "Member must have value greater than or equal to 1"
                               : "Member must have value less than or equal to 100");
    }
    if (lb_verr_emit(&v, call)) return -1;
    if (lb_read_next_token(token, call, start, startlen)) return -1;
    return 0;
}

void lb_conn_list_page(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                       const lb_conn_lister_t *lister)
{
    const char *prefix;
    int64_t limit;
    char start[256];
    if (lb_conn_read_list_args(req, call, &prefix, &limit, start, sizeof start)) return;
    lb_connections_t *reg = lb_engine_connections(engine);
    const char *from = start[0] ? start : (prefix ? prefix : "");
    size_t i = lb_conn_lower_bound(reg, lister->kind, call->region, from);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_printf(b, "{\"%s\":[", lister->member);
    int64_t n = 0;
    const lb_json_t *doc;
    const char *region;
    for (; (doc = lb_conn_at(reg, lister->kind, i, &region)) != NULL; i++) {
        const char *name = doc_str(doc, "Name");
        if (strcmp(region, call->region) != 0) break;
        if (prefix && strncmp(name, prefix, strlen(prefix)) != 0) break;
        if (lister->keep && !lister->keep(reg, call, doc, lister->ctx)) continue;
        if (n == limit) {
            lb_json_close_page(b, name);
            return;
        }
        if (n) lb_buf_puts(b, ",");
        lister->item(b, reg, call, doc, lister->ctx);
        n++;
    }
    lb_buf_puts(b, "]}");
}

/* ---- Connection documents ---- */

static const char *const auth_types[] = {"BASIC", "OAUTH_CLIENT_CREDENTIALS", "API_KEY"};
#define AUTH_TYPE_ENUM "[BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]"

static int is_auth_type(const char *t)
{
    for (size_t i = 0; i < sizeof auth_types / sizeof auth_types[0]; i++)
        if (strcmp(t, auth_types[i]) == 0) return 1;
    return 0;
}

/* The auth block each authorization type needs, with its secret member. */
static const char *block_of(const char *type)
{
    if (strcmp(type, "BASIC") == 0) return "BasicAuthParameters";
    if (strcmp(type, "API_KEY") == 0) return "ApiKeyAuthParameters";
    return "OAuthParameters";
}

/* obj's member key, to change: obj belongs to a document this file is building. */
static lb_json_t *member(lb_json_t *obj, const char *key)
{
    return (lb_json_t *)lb_json_get(obj, key);
}

/* obj's member key as an object, added (replacing anything else of that name) if need be. */
static lb_json_t *object_member(lb_json_doc_t *doc, lb_json_t *obj, const char *key)
{
    lb_json_t *m = member(obj, key);
    if (lb_json_is(m, LB_JSON_OBJECT)) return m;
    lb_json_remove(obj, key);
    return lb_json_add(doc, obj, key, lb_json_new(doc, LB_JSON_OBJECT));
}

/* A parameter list [{Key, Value, IsValueSecret}] as rendered: secret values left out. */
static lb_json_t *public_params(lb_json_doc_t *doc, const lb_json_t *params)
{
    lb_json_t *out = lb_json_new(doc, LB_JSON_OBJECT);
    static const char *const lists[] = {"HeaderParameters", "QueryStringParameters",
                                        "BodyParameters"};
    for (size_t i = 0; i < 3; i++) {
        const lb_json_t *list = lb_json_get(params, lists[i]);
        if (!lb_json_is(list, LB_JSON_ARRAY)) continue;
        lb_json_t *arr = lb_json_add(doc, out, lists[i], lb_json_new(doc, LB_JSON_ARRAY));
        lb_json_each(p, list)
        {
            lb_json_t *o = lb_json_add(doc, arr, NULL, lb_json_new(doc, LB_JSON_OBJECT));
            const lb_json_t *secret = lb_json_get(p, "IsValueSecret");
            lb_json_add_str(doc, o, "Key", doc_str(p, "Key"));
            if (!lb_json_is(secret, LB_JSON_TRUE))
                lb_json_add_str(doc, o, "Value", doc_str(p, "Value"));
            if (lb_json_is(secret, LB_JSON_TRUE) || lb_json_is(secret, LB_JSON_FALSE))
                lb_json_add(doc, o, "IsValueSecret",
                            lb_json_new_bool(doc, secret->type == LB_JSON_TRUE));
        }
    }
    return out;
}

/* AuthParameters as DescribeConnection shows them: Password, ApiKeyValue and ClientSecret are
 * never included, nor values marked IsValueSecret. */
static lb_json_t *public_auth(lb_json_doc_t *doc, const lb_json_t *auth)
{
    lb_json_t *out = lb_json_new(doc, LB_JSON_OBJECT);
    const lb_json_t *b = lb_json_get(auth, "BasicAuthParameters");
    if (b) {
        lb_json_t *o =
            lb_json_add(doc, out, "BasicAuthParameters", lb_json_new(doc, LB_JSON_OBJECT));
        lb_json_add_str(doc, o, "Username", doc_str(b, "Username"));
    }
    const lb_json_t *k = lb_json_get(auth, "ApiKeyAuthParameters");
    if (k) {
        lb_json_t *o =
            lb_json_add(doc, out, "ApiKeyAuthParameters", lb_json_new(doc, LB_JSON_OBJECT));
        lb_json_add_str(doc, o, "ApiKeyName", doc_str(k, "ApiKeyName"));
    }
    const lb_json_t *oa = lb_json_get(auth, "OAuthParameters");
    if (oa) {
        lb_json_t *o = lb_json_add(doc, out, "OAuthParameters", lb_json_new(doc, LB_JSON_OBJECT));
        const lb_json_t *client = lb_json_get(oa, "ClientParameters");
        lb_json_add_str(doc, o, "AuthorizationEndpoint", doc_str(oa, "AuthorizationEndpoint"));
        lb_json_t *c = lb_json_add(doc, o, "ClientParameters", lb_json_new(doc, LB_JSON_OBJECT));
        lb_json_add_str(doc, c, "ClientID", doc_str(client, "ClientID"));
        lb_json_add_str(doc, o, "HttpMethod", doc_str(oa, "HttpMethod"));
        const lb_json_t *http = lb_json_get(oa, "OAuthHttpParameters");
        if (http) lb_json_add(doc, o, "OAuthHttpParameters", public_params(doc, http));
    }
    const lb_json_t *inv = lb_json_get(auth, "InvocationHttpParameters");
    if (inv) lb_json_add(doc, out, "InvocationHttpParameters", public_params(doc, inv));
    return out;
}

static void put_json(lb_buf_t *b, const char *key, const lb_json_t *value)
{
    lb_buf_printf(b, ",\"%s\":", key);
    lb_json_write(b, value);
}

/* {ConnectionArn, ConnectionState, CreationTime, LastModifiedTime[, LastAuthorizedTime]}, the
 * shape of Create/Update/Delete/Deauthorize responses. */
static void render_state(lb_call_t *call, const lb_json_t *doc, const char *state, int with_auth)
{
    lb_buf_t *b = &call->body;
    lb_buf_puts(b, "{\"ConnectionArn\":");
    const char *arn = doc_str(doc, "ConnectionArn");
    lb_buf_json_string(b, arn, strlen(arn));
    lb_json_put_str(b, "ConnectionState", state);
    lb_json_put_time(b, "CreationTime", doc_ms(doc, "CreationTime"));
    lb_json_put_time(b, "LastModifiedTime", doc_ms(doc, "LastModifiedTime"));
    if (with_auth) lb_json_put_time(b, "LastAuthorizedTime", doc_ms(doc, "LastAuthorizedTime"));
    lb_buf_puts(b, "}");
}

static const char *state_of(lb_connections_t *reg, lb_call_t *call, const lb_json_t *doc)
{
    const char *s = lb_connection_state(reg, call->region, doc_str(doc, "Name"));
    return s ? s : doc_str(doc, "ConnectionState");
}

static void render_created(lb_call_t *call, lb_connections_t *reg, const lb_json_t *doc)
{
    render_state(call, doc, state_of(reg, call, doc), 0);
}

static void render_updated(lb_call_t *call, lb_connections_t *reg, const lb_json_t *doc)
{
    render_state(call, doc, state_of(reg, call, doc), 1);
}

static void render_deleting(lb_call_t *call, lb_connections_t *reg, const lb_json_t *doc)
{
    (void)reg;
    render_state(call, doc, "DELETING", 1);
}

static void render_deauthorizing(lb_call_t *call, lb_connections_t *reg, const lb_json_t *doc)
{
    (void)reg;
    render_state(call, doc, "DEAUTHORIZING", 1);
}

/* Checks a parameter list member of InvocationHttpParameters/OAuthHttpParameters and copies it
 * into out (an object of doc). */
static int copy_param_lists(lb_json_doc_t *doc, const lb_json_t *in, lb_json_t *out,
                            const char *member_path, lb_verrs_t *v, lb_call_t *call)
{
    static const char *const lists[] = {"HeaderParameters", "QueryStringParameters",
                                        "BodyParameters"};
    for (size_t i = 0; i < 3; i++) {
        const lb_json_t *list;
        if (lb_get_array(in, lists[i], &list, call)) return -1;
        if (!list) continue;
        lb_json_t *arr = lb_json_add(doc, out, lists[i], lb_json_new(doc, LB_JSON_ARRAY));
        lb_json_each(p, list)
        {
            const char *k, *val;
            int secret = 0, has_secret;
            if (p->type != LB_JSON_OBJECT) {
                lb_call_error(call, LB_AWS_SERIALIZATION, "Field '%s' must be a list of %s.",
                              lists[i], "structures");
                return -1;
            }
            if (lb_get_string(p, "Key", &k, call) || lb_get_string(p, "Value", &val, call) ||
                lb_get_bool(p, "IsValueSecret", &secret, &has_secret, call))
                return -1;
            if (!k) {
                char m[128];
                snprintf(m, sizeof m, "%s.%c%s.member.key", member_path, lists[i][0] + 32,
                         lists[i] + 1);
                lb_verr_add(v, NULL, m, "Member must not be null");
                continue;
            }
            lb_json_t *o = lb_json_add(doc, arr, NULL, lb_json_new(doc, LB_JSON_OBJECT));
            lb_json_add_str(doc, o, "Key", k);
            lb_json_add_str(doc, o, "Value", val);
            if (has_secret) lb_json_add(doc, o, "IsValueSecret", lb_json_new_bool(doc, secret));
        }
    }
    return 0;
}

/* Copies the members of a given auth block (those present) into blk, replacing them. */
static int merge_block(lb_json_doc_t *doc, lb_json_t *blk, const lb_json_t *in, lb_verrs_t *v,
                       lb_call_t *call)
{
    static const char *const members[] = {
        "Username", "Password", "ApiKeyName", "ApiKeyValue", "AuthorizationEndpoint", "HttpMethod"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        const char *s;
        if (lb_get_string(in, members[i], &s, call)) return -1;
        if (s) lb_conn_set_str(doc, blk, members[i], s);
    }
    const lb_json_t *client, *http;
    if (lb_get_object(in, "ClientParameters", &client, call) ||
        lb_get_object(in, "OAuthHttpParameters", &http, call))
        return -1;
    if (client) {
        lb_json_t *c = object_member(doc, blk, "ClientParameters");
        const char *id, *secret;
        if (lb_get_string(client, "ClientID", &id, call) ||
            lb_get_string(client, "ClientSecret", &secret, call))
            return -1;
        if (id) lb_conn_set_str(doc, c, "ClientID", id);
        if (secret) lb_conn_set_str(doc, c, "ClientSecret", secret);
    }
    if (http) {
        lb_json_remove(blk, "OAuthHttpParameters");
        lb_json_t *o =
            lb_json_add(doc, blk, "OAuthHttpParameters", lb_json_new(doc, LB_JSON_OBJECT));
        if (copy_param_lists(doc, http, o, "authParameters.oAuthParameters.oAuthHttpParameters", v,
                             call))
            return -1;
    }
    return 0;
}

/* What the type needs once merged: missing members are collected in v. */
static int check_merged(const lb_json_t *auth, const char *type, lb_verrs_t *v, lb_call_t *call)
{
    const lb_json_t *blk = lb_json_get(auth, block_of(type));
    static const struct {
        const char *type, *member, *path;
    } required[] = {
        {"BASIC", "Username", "authParameters.basicAuthParameters.username"},
        {"BASIC", "Password", "authParameters.basicAuthParameters.password"},
        {"API_KEY", "ApiKeyName", "authParameters.apiKeyAuthParameters.apiKeyName"},
        {"API_KEY", "ApiKeyValue", "authParameters.apiKeyAuthParameters.apiKeyValue"},
        {"OAUTH_CLIENT_CREDENTIALS", "AuthorizationEndpoint",
         "authParameters.oAuthParameters.authorizationEndpoint"},
        {"OAUTH_CLIENT_CREDENTIALS", "HttpMethod", "authParameters.oAuthParameters.httpMethod"},
    };
    if (!blk) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "AuthParameters.%s must be specified for authorization type %s.",
                      block_of(type), type);
        return -1;
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (strcmp(required[i].type, type) == 0 && !doc_str(blk, required[i].member))
            lb_verr_add(v, NULL, required[i].path, "Member must not be null");
    if (strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0) {
        const lb_json_t *c = lb_json_get(blk, "ClientParameters");
        if (!doc_str(c, "ClientID"))
            lb_verr_add(v, NULL, "authParameters.oAuthParameters.clientParameters.clientID",
                        "Member must not be null");
        if (!doc_str(c, "ClientSecret"))
            lb_verr_add(v, NULL, "authParameters.oAuthParameters.clientParameters.clientSecret",
                        "Member must not be null");
        const char *m = doc_str(blk, "HttpMethod");
        if (m && strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0)
            lb_verr_add(v, m, "authParameters.oAuthParameters.httpMethod",
                        "Member must satisfy enum value set: [GET, POST, PUT]");
        const char *ep = doc_str(blk, "AuthorizationEndpoint");
        if (ep && (lb_utf8_length(ep) < 1 || lb_utf8_length(ep) > 2048))
            lb_verr_add(v, ep, "authParameters.oAuthParameters.authorizationEndpoint",
                        "Member must have length less than or equal to 2048");
    }
    return 0;
}

/* Merges the request's AuthParameters (create, or the partial ones of update) into auth (an
 * object of doc), which keeps only the block of type plus InvocationHttpParameters. Type errors
 * set an error on the call (-1); missing required members are collected in v. */
static int merge_auth(lb_json_doc_t *doc, lb_json_t *auth, const lb_json_t *given, const char *type,
                      lb_verrs_t *v, lb_call_t *call)
{
    static const char *const blocks[] = {"BasicAuthParameters", "ApiKeyAuthParameters",
                                         "OAuthParameters"};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(blocks[i], block_of(type)) != 0) lb_json_remove(auth, blocks[i]);
    const lb_json_t *in;
    if (given) {
        if (lb_get_object(given, block_of(type), &in, call)) return -1;
        if (in && merge_block(doc, object_member(doc, auth, block_of(type)), in, v, call))
            return -1;
        if (lb_get_object(given, "InvocationHttpParameters", &in, call)) return -1;
        if (in) {
            lb_json_remove(auth, "InvocationHttpParameters");
            lb_json_t *o = lb_json_add(doc, auth, "InvocationHttpParameters",
                                       lb_json_new(doc, LB_JSON_OBJECT));
            if (copy_param_lists(doc, in, o, "authParameters.invocationHttpParameters", v, call))
                return -1;
        }
    }
    return check_merged(auth, type, v, call);
}

static void check_description(const char *desc, lb_verrs_t *v)
{
    if (desc && lb_utf8_length(desc) > 512)
        lb_verr_add(v, desc, "description", "Member must have length less than or equal to 512");
}

static void check_auth_type(const char *type, lb_verrs_t *v, int required)
{
    if (!type) {
        if (required) lb_verr_add(v, NULL, "authorizationType", "Member must not be null");
        return;
    }
    if (!is_auth_type(type))
        lb_verr_add(v, type, "authorizationType",
                    "Member must satisfy enum value set: " AUTH_TYPE_ENUM);
}

/* Sets the connection state a fresh set of credentials gives: OAuth waits for its token. */
static void set_authorizing(lb_json_doc_t *doc, lb_json_t *root, const char *type, int64_t now_ms)
{
    lb_conn_set_str(doc, root, "ConnectionState",
                    strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0 ? "AUTHORIZING" : "AUTHORIZED");
    lb_conn_set_ms(doc, root, "LastAuthorizedTime", now_ms);
}

void lb_op_create_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *desc, *type;
    const lb_json_t *given;
    lb_verrs_t v = {0};
    size_t name_len;
    if (lb_get_string_n(req, "Name", &name, &name_len, call) ||
        lb_get_string(req, "Description", &desc, call) ||
        lb_get_string(req, "AuthorizationType", &type, call) ||
        lb_get_object(req, "AuthParameters", &given, call))
        return;
    lb_conn_check_name(name, name_len, &v);
    check_description(desc, &v);
    check_auth_type(type, &v, 1);
    if (!given) lb_verr_add(&v, NULL, "authParameters", "Member must not be null");
    /* Credentials and parameters are read as C strings: none may hold U+0000. */
    lb_verr_nul(&v, given, "authParameters", NULL);
    if (lb_verr_emit(&v, call)) return;
    lb_connections_t *reg = lb_engine_connections(engine);
    if (lb_conn_find(reg, LB_CONN_CONNECTION, call->region, name)) {
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "Connection %s already exists.", name);
        return;
    }
    lb_json_t *root;
    lb_json_doc_t *doc = lb_conn_doc_new(&root);
    lb_json_t *auth = lb_json_new(doc, LB_JSON_OBJECT);
    if (merge_auth(doc, auth, given, type, &v, call)) {
        lb_buf_free(&v.text);
        lb_json_doc_free(&doc);
        return;
    }
    if (lb_verr_emit(&v, call)) {
        lb_json_doc_free(&doc);
        return;
    }
    char id[37], secret_id[37], arn[512];
    lb_uuid_v4(id);
    lb_uuid_v4(secret_id);
    lb_json_add_str(doc, root, "Name", name);
    snprintf(arn, sizeof arn, "arn:aws:events:%s:%s:connection/%s/%s", call->region,
             call->account_id, name, id);
    lb_json_add_str(doc, root, "ConnectionArn", arn);
    /* Secrets Manager names end in a 6-character suffix after the secret's own id. */
    snprintf(arn, sizeof arn, "arn:aws:secretsmanager:%s:%s:secret:events!connection/%s/%s-%.6s",
             call->region, call->account_id, name, id, secret_id);
    lb_json_add_str(doc, root, "SecretArn", arn);
    lb_json_add_str(doc, root, "Description", desc);
    lb_json_add_str(doc, root, "AuthorizationType", type);
    lb_json_add(doc, root, "AuthParameters", auth);
    set_authorizing(doc, root, type, call->now_ms);
    lb_conn_set_ms(doc, root, "CreationTime", call->now_ms);
    lb_conn_set_ms(doc, root, "LastModifiedTime", call->now_ms);
    lb_conn_defer(engine, call, LB_CONN_CONNECTION, LB_CONN_JOB_INSERT, doc, render_created);
}

const lb_json_t *lb_conn_find_named(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                                    lb_conn_kind_t kind,
                                    void (*not_found)(lb_call_t *call, const char *name),
                                    const char **name)
{
    lb_verrs_t v = {0};
    size_t len;
    if (lb_get_string_n(req, "Name", name, &len, call)) return NULL;
    lb_conn_check_name(*name, len, &v);
    if (lb_verr_emit(&v, call)) return NULL;
    const lb_json_t *doc = lb_conn_find(lb_engine_connections(engine), kind, call->region, *name);
    if (!doc) not_found(call, *name);
    return doc;
}

/* The connection a request's Name designates, or NULL with the error set. */
static const lb_json_t *find_named(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                                   const char **name)
{
    return lb_conn_find_named(engine, req, call, LB_CONN_CONNECTION, lb_conn_not_found, name);
}

void lb_op_describe_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    const lb_json_t *doc = find_named(engine, req, call, &name);
    if (!doc) return;
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"Name\":");
    lb_buf_json_string(b, name, strlen(name));
    lb_json_put_str(b, "ConnectionArn", doc_str(doc, "ConnectionArn"));
    if (doc_str(doc, "Description")) lb_json_put_str(b, "Description", doc_str(doc, "Description"));
    lb_json_put_str(b, "ConnectionState", state_of(lb_engine_connections(engine), call, doc));
    lb_json_put_str(b, "AuthorizationType", doc_str(doc, "AuthorizationType"));
    lb_json_put_str(b, "SecretArn", doc_str(doc, "SecretArn"));
    lb_json_doc_t *scratch = lb_json_doc_new();
    put_json(b, "AuthParameters", public_auth(scratch, lb_json_get(doc, "AuthParameters")));
    lb_json_doc_free(&scratch);
    lb_json_put_time(b, "CreationTime", doc_ms(doc, "CreationTime"));
    lb_json_put_time(b, "LastModifiedTime", doc_ms(doc, "LastModifiedTime"));
    lb_json_put_time(b, "LastAuthorizedTime", doc_ms(doc, "LastAuthorizedTime"));
    lb_buf_puts(b, "}");
}

static int connection_in_state(lb_connections_t *reg, lb_call_t *call, const lb_json_t *doc,
                               void *state_filter)
{
    return strcmp(state_of(reg, call, doc), state_filter) == 0;
}

static void connection_item(lb_buf_t *b, lb_connections_t *reg, lb_call_t *call,
                            const lb_json_t *doc, void *ctx)
{
    (void)ctx;
    const char *name = doc_str(doc, "Name");
    lb_buf_puts(b, "{\"Name\":");
    lb_buf_json_string(b, name, strlen(name));
    lb_json_put_str(b, "ConnectionArn", doc_str(doc, "ConnectionArn"));
    lb_json_put_str(b, "ConnectionState", state_of(reg, call, doc));
    lb_json_put_str(b, "AuthorizationType", doc_str(doc, "AuthorizationType"));
    lb_json_put_time(b, "CreationTime", doc_ms(doc, "CreationTime"));
    lb_json_put_time(b, "LastModifiedTime", doc_ms(doc, "LastModifiedTime"));
    lb_json_put_time(b, "LastAuthorizedTime", doc_ms(doc, "LastAuthorizedTime"));
    lb_buf_puts(b, "}");
}

void lb_op_list_connections(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *state_filter;
    static const char *const states[] = {"CREATING",      "UPDATING",     "DELETING",
                                         "AUTHORIZED",    "DEAUTHORIZED", "AUTHORIZING",
                                         "DEAUTHORIZING", "ACTIVE",       "FAILED_CONNECTIVITY"};
    if (lb_get_string(req, "ConnectionState", &state_filter, call)) return;
    if (state_filter) {
        int ok = 0;
        for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
            ok |= strcmp(states[i], state_filter) == 0;
        if (!ok) {
            lb_verrs_t v = {0};
            lb_verr_add(&v, state_filter, "connectionState",
                        "Member must satisfy enum value set: [CREATING, UPDATING, DELETING, "
                        "AUTHORIZED, DEAUTHORIZED, AUTHORIZING, DEAUTHORIZING, ACTIVE, "
                        "FAILED_CONNECTIVITY]");
            lb_verr_emit(&v, call);
            return;
        }
    }
    lb_conn_lister_t lister = {.kind = LB_CONN_CONNECTION,
                               .member = "Connections",
                               .keep = state_filter ? connection_in_state : NULL,
                               .item = connection_item,
                               .ctx = (void *)state_filter};
    lb_conn_list_page(engine, req, call, &lister);
}

void lb_op_update_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *desc, *type;
    const lb_json_t *given;
    lb_verrs_t v = {0};
    size_t name_len;
    if (lb_get_string_n(req, "Name", &name, &name_len, call) ||
        lb_get_string(req, "Description", &desc, call) ||
        lb_get_string(req, "AuthorizationType", &type, call) ||
        lb_get_object(req, "AuthParameters", &given, call))
        return;
    lb_conn_check_name(name, name_len, &v);
    check_description(desc, &v);
    check_auth_type(type, &v, 0);
    lb_verr_nul(&v, given, "authParameters", NULL);
    if (lb_verr_emit(&v, call)) return;
    const lb_json_t *old =
        lb_conn_find(lb_engine_connections(engine), LB_CONN_CONNECTION, call->region, name);
    if (!old) {
        lb_conn_not_found(call, name);
        return;
    }
    lb_json_t *root;
    lb_json_doc_t *doc = lb_conn_doc_copy(old, &root);
    /* A deauthorized connection stays so until new credentials arrive; other members may
     * still change. */
    const char *stored_state = doc_str(old, "ConnectionState");
    int reauthorize = given || type || !stored_state || strcmp(stored_state, "DEAUTHORIZED") != 0;
    if (!type) type = doc_str(old, "AuthorizationType");
    lb_json_t *auth = object_member(doc, root, "AuthParameters");
    if (reauthorize && merge_auth(doc, auth, given, type, &v, call)) {
        lb_buf_free(&v.text);
        lb_json_doc_free(&doc);
        return;
    }
    if (lb_verr_emit(&v, call)) {
        lb_json_doc_free(&doc);
        return;
    }
    if (desc) lb_conn_set_str(doc, root, "Description", desc);
    lb_conn_set_str(doc, root, "AuthorizationType", type);
    if (reauthorize) set_authorizing(doc, root, type, call->now_ms);
    lb_conn_set_ms(doc, root, "LastModifiedTime", call->now_ms);
    lb_conn_defer(engine, call, LB_CONN_CONNECTION, LB_CONN_JOB_UPDATE, doc, render_updated);
}

void lb_op_delete_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    const lb_json_t *old = find_named(engine, req, call, &name);
    if (!old) return;
    lb_json_t *root;
    lb_json_doc_t *doc = lb_conn_doc_copy(old, &root);
    lb_conn_set_ms(doc, root, "LastModifiedTime", call->now_ms);
    lb_conn_defer(engine, call, LB_CONN_CONNECTION, LB_CONN_JOB_DELETE, doc, render_deleting);
}

void lb_op_deauthorize_connection(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    const lb_json_t *old = find_named(engine, req, call, &name);
    if (!old) return;
    /* Deauthorizing removes the credentials; UpdateConnection with new ones authorizes again. */
    lb_json_t *root;
    lb_json_doc_t *doc = lb_conn_doc_copy(old, &root);
    lb_json_t *auth = member(root, "AuthParameters");
    lb_json_remove(member(auth, "BasicAuthParameters"), "Password");
    lb_json_remove(member(auth, "ApiKeyAuthParameters"), "ApiKeyValue");
    lb_json_remove(member(member(auth, "OAuthParameters"), "ClientParameters"), "ClientSecret");
    lb_conn_set_str(doc, root, "ConnectionState", "DEAUTHORIZED");
    lb_conn_set_ms(doc, root, "LastModifiedTime", call->now_ms);
    lb_conn_defer(engine, call, LB_CONN_CONNECTION, LB_CONN_JOB_UPDATE, doc, render_deauthorizing);
}

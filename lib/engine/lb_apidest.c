/* Delivery helpers of lb_connections.h: building the HTTP request of an API destination target
 * and of an OAuth token exchange, and the per-destination invocation rate limit. Pure functions
 * of the registry; the daemon does the I/O. */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_connections.h"
#include "lb_connections_internal.h"
#include "lb_util.h"

void lb_http_call_clear(lb_http_call_t *c)
{
    if (!c) return;
    free(c->capture_header);
    free(c->method);
    free(c->url);
    if (c->headers) {
        for (char **h = c->headers; *h; h++) {
            /* Headers carry credentials. */
            memset(*h, 0, strlen(*h));
            free(*h);
        }
        free(c->headers);
    }
    if (c->body) free(c->body);
    memset(c, 0, sizeof *c);
}

/* ---- Headers: added by priority, first one of a name wins. ---- */

typedef struct {
    char **v;
    size_t n, cap;
} header_list_t;

/* A header name or value that could split the request (CR, LF, or ':' in a name) is dropped
 * rather than sent. */
static int header_safe(const char *name, const char *value)
{
    if (!name || !*name || !value) return 0;
    if (strpbrk(name, "\r\n: \t")) return 0;
    return strpbrk(value, "\r\n") == NULL;
}

static int header_has(const header_list_t *h, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < h->n; i++)
        if (strncasecmp(h->v[i], name, len) == 0 && h->v[i][len] == ':') return 1;
    return 0;
}

static void header_add(header_list_t *h, const char *name, const char *value)
{
    if (!header_safe(name, value) || header_has(h, name)) return;
    if (h->n + 2 > h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->v = lb_xrealloc(h->v, h->cap * sizeof *h->v);
    }
    lb_buf_t b = {0};
    lb_buf_printf(&b, "%s: %s", name, value);
    h->v[h->n++] = lb_buf_steal(&b, NULL);
    h->v[h->n] = NULL;
}

static char **header_finish(header_list_t *h)
{
    if (!h->v) {
        h->v = lb_xcalloc(1, sizeof *h->v);
    }
    return h->v;
}

/* Adds every {Key, Value} of a connection parameter list ([{Key, Value, IsValueSecret}]). */
static void header_add_list(header_list_t *h, const lb_json_t *list)
{
    if (!lb_json_is(list, LB_JSON_ARRAY)) return;
    lb_json_each(p, list) header_add(h, lb_conn_doc_str(p, "Key"), lb_conn_doc_str(p, "Value"));
}

/* ---- A target's HttpParameters, compiled ---- */

typedef struct {
    char *name, *value;
} http_param_t;

struct lb_http_params {
    char **path_values;
    size_t n_path_values;
    http_param_t *headers;
    size_t n_headers;
    http_param_t *query;
    size_t n_query;
};

/* 1 if a JSON string can be used as a C string: holding U+0000 it would be cut short. */
static int c_string_ok(const char *s, size_t len)
{
    return s && !lb_json_has_nul(s, len);
}

/* The {"name": "value"} map's string members, in document order. */
static http_param_t *compile_map(const lb_json_t *map, size_t *n)
{
    *n = 0;
    if (!lb_json_is(map, LB_JSON_OBJECT) || !map->n_children) return NULL;
    http_param_t *v = lb_xcalloc(map->n_children, sizeof *v);
    lb_json_each(m, map)
    {
        if (m->type != LB_JSON_STRING || !c_string_ok(m->str, m->len) ||
            !c_string_ok(m->key, m->key_len))
            continue;
        v[*n].name = lb_strdup(m->key);
        v[(*n)++].value = lb_strdup(m->str);
    }
    return v;
}

int lb_http_params_compile(const lb_json_t *http_parameters, lb_http_params_t **out)
{
    *out = NULL;
    if (!lb_json_is(http_parameters, LB_JSON_OBJECT)) return 0;
    lb_http_params_t *p = lb_xcalloc(1, sizeof *p);
    const lb_json_t *path = lb_json_get(http_parameters, "PathParameterValues");
    if (lb_json_is(path, LB_JSON_ARRAY) && path->n_children) {
        p->path_values = lb_xcalloc(path->n_children, sizeof *p->path_values);
        /* A value that is not a string ends the list: its `*` and every later one stay. */
        for (const lb_json_t *v = path->child;
             v && v->type == LB_JSON_STRING && c_string_ok(v->str, v->len); v = v->next)
            p->path_values[p->n_path_values++] = lb_strdup(v->str);
    }
    p->headers = compile_map(lb_json_get(http_parameters, "HeaderParameters"), &p->n_headers);
    p->query = compile_map(lb_json_get(http_parameters, "QueryStringParameters"), &p->n_query);
    *out = p;
    return 0;
}

static void free_params(http_param_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

void lb_http_params_free(lb_http_params_t **pp)
{
    lb_http_params_t *p = pp ? *pp : NULL;
    if (!p) return;
    for (size_t i = 0; i < p->n_path_values; i++)
        free(p->path_values[i]);
    free(p->path_values);
    free_params(p->headers, p->n_headers);
    free_params(p->query, p->n_query);
    free(p);
    *pp = NULL;
}

/* ---- URL building ---- */

static void url_encode(lb_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            lb_buf_append(b, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            lb_buf_append(b, esc, 3);
        }
    }
}

/* Query parameters already added, so a later source cannot repeat a key. */
typedef struct {
    lb_buf_t url;
    int has_query;
    lb_buf_t seen; /* "\n"-separated keys, with leading and trailing "\n" */
} url_builder_t;

static void query_add(url_builder_t *u, const char *key, const char *value)
{
    if (!key || !value) return;
    lb_buf_t probe = {0};
    lb_buf_printf(&probe, "\n%s\n", key);
    int dup = u->seen.data && strstr(u->seen.data, probe.data);
    lb_buf_free(&probe);
    if (dup) return;
    if (!u->seen.len) lb_buf_puts(&u->seen, "\n");
    lb_buf_printf(&u->seen, "%s\n", key);
    lb_buf_puts(&u->url, u->has_query ? "&" : "?");
    u->has_query = 1;
    url_encode(&u->url, key);
    lb_buf_puts(&u->url, "=");
    url_encode(&u->url, value);
}

static void query_add_list(url_builder_t *u, const lb_json_t *list)
{
    if (!lb_json_is(list, LB_JSON_ARRAY)) return;
    lb_json_each(p, list) query_add(u, lb_conn_doc_str(p, "Key"), lb_conn_doc_str(p, "Value"));
}

/* The endpoint with each `*` replaced by the next path parameter value (URL-encoded); a `*`
 * without a value is kept as it is. */
static void url_start(url_builder_t *u, const char *endpoint, const lb_http_params_t *params)
{
    size_t next = 0, n = params ? params->n_path_values : 0;
    for (const char *p = endpoint; *p; p++) {
        if (*p == '*' && next < n) {
            url_encode(&u->url, params->path_values[next++]);
        } else {
            lb_buf_append(&u->url, p, 1);
        }
    }
    if (!u->url.data) lb_buf_puts(&u->url, "");
    u->has_query = strchr(u->url.data, '?') != NULL;
}

/* ---- Authorization ---- */

static char *base64_of(const char *s)
{
    size_t len = strlen(s);
    char *out = lb_xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)len);
    return out;
}

static void add_basic(header_list_t *h, const char *user, const char *password)
{
    lb_buf_t pair = {0};
    lb_buf_printf(&pair, "%s:%s", user ? user : "", password ? password : "");
    char *enc = base64_of(pair.data);
    memset(pair.data, 0, pair.len);
    lb_buf_free(&pair);
    lb_buf_t value = {0};
    lb_buf_printf(&value, "Basic %s", enc);
    header_add(h, "Authorization", value.data);
    memset(enc, 0, strlen(enc));
    free(enc);
    memset(value.data, 0, value.len);
    lb_buf_free(&value);
}

/* The auth header of a connection; -EAGAIN for an OAuth connection without a token. */
static int add_auth(header_list_t *h, const lb_conn_entry_t *conn)
{
    const char *type = lb_conn_doc_str(lb_conn_entry_doc(conn), "AuthorizationType");
    const lb_json_t *auth = lb_json_get(lb_conn_entry_doc(conn), "AuthParameters");
    if (!type) return 0;
    if (strcmp(type, "BASIC") == 0) {
        const lb_json_t *p = lb_json_get(auth, "BasicAuthParameters");
        add_basic(h, lb_conn_doc_str(p, "Username"), lb_conn_doc_str(p, "Password"));
    } else if (strcmp(type, "API_KEY") == 0) {
        const lb_json_t *p = lb_json_get(auth, "ApiKeyAuthParameters");
        header_add(h, lb_conn_doc_str(p, "ApiKeyName"), lb_conn_doc_str(p, "ApiKeyValue"));
    } else if (strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0) {
        if (!conn->token) return -EAGAIN;
        lb_buf_t value = {0};
        lb_buf_printf(&value, "Bearer %s", conn->token);
        header_add(h, "Authorization", value.data);
        memset(value.data, 0, value.len);
        lb_buf_free(&value);
    }
    return 0;
}

/* A delivery body is parsed only to merge connection body parameters into it. It was rendered
 * here from an event (at most LB_JSON_EVENT_MAX_DEPTH deep, plus its envelope and template), so
 * this bound only keeps a pathological body from recursing without limit. */
#define BODY_MAX_DEPTH 512

/* Connection body parameters are merged into a JSON-object body (they win on a clash); any other
 * body is sent unchanged. */
static char *merge_body(const char *body, const lb_json_t *body_params)
{
    if (!body) return NULL;
    if (!lb_json_is(body_params, LB_JSON_ARRAY) || !body_params->n_children) return lb_strdup(body);
    lb_json_doc_t *doc;
    if (lb_json_parse(body, strlen(body), BODY_MAX_DEPTH, &doc, NULL)) return lb_strdup(body);
    lb_json_t *root = lb_json_doc_root(doc);
    if (root->type != LB_JSON_OBJECT) {
        lb_json_doc_free(&doc);
        return lb_strdup(body);
    }
    lb_json_each(p, body_params)
    {
        const char *k = lb_conn_doc_str(p, "Key"), *v = lb_conn_doc_str(p, "Value");
        if (!k || !v) continue;
        lb_json_remove(root, k);
        lb_json_add_str(doc, root, k, v);
    }
    char *out = lb_json_print(root, NULL);
    lb_json_doc_free(&doc);
    return out;
}

/* Name of an API destination ARN "...:api-destination/NAME/ID". */
static int apidest_arn_name(const char *arn, char *out, size_t outlen)
{
    const char *p = arn ? strstr(arn, ":api-destination/") : NULL;
    if (!p) return -EINVAL;
    p += strlen(":api-destination/");
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (!len || len >= outlen) return -EINVAL;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

static lb_conn_entry_t *destination_of(const lb_connections_t *r, const char *region,
                                       const char *arn)
{
    char name[256];
    if (apidest_arn_name(arn, name, sizeof name)) return NULL;
    lb_conn_entry_t *e = lb_conn_entry_find(r, LB_CONN_API_DESTINATION, region, name);
    const char *actual = e ? lb_conn_doc_str(lb_conn_entry_doc(e), "ApiDestinationArn") : NULL;
    return actual && strcmp(actual, arn) == 0 ? e : NULL;
}

static lb_conn_entry_t *connection_of(const lb_connections_t *r, const char *region,
                                      const lb_json_t *dest)
{
    char name[256];
    const char *arn = lb_conn_doc_str(dest, "ConnectionArn");
    if (lb_connection_arn_name(arn, name, sizeof name)) return NULL;
    lb_conn_entry_t *e = lb_conn_entry_find(r, LB_CONN_CONNECTION, region, name);
    const char *actual = e ? lb_conn_doc_str(lb_conn_entry_doc(e), "ConnectionArn") : NULL;
    return actual && strcmp(actual, arn) == 0 ? e : NULL;
}

int lb_apidest_prepare(const lb_connections_t *r, const char *region, const char *destination_arn,
                       const lb_http_params_t *params, const char *body, lb_http_call_t *out)
{
    memset(out, 0, sizeof *out);
    const lb_conn_entry_t *dest = destination_of(r, region, destination_arn);
    if (!dest) return -ENOENT;
    const lb_json_t *dest_doc = lb_conn_entry_doc(dest);
    const lb_conn_entry_t *conn = connection_of(r, region, dest_doc);
    if (!conn) return -ENOENT;
    const char *state = lb_connection_state(r, region, conn->name);
    if (state && strcmp(state, "DEAUTHORIZED") == 0) return LB_EINVALID;
    const lb_json_t *auth = lb_json_get(lb_conn_entry_doc(conn), "AuthParameters");
    const lb_json_t *inv = lb_json_get(auth, "InvocationHttpParameters");

    header_list_t h = {0};
    int rc = add_auth(&h, conn);
    if (rc) {
        lb_http_call_t partial = {.headers = header_finish(&h)};
        lb_http_call_clear(&partial);
        return rc;
    }
    header_add_list(&h, lb_json_get(inv, "HeaderParameters"));
    for (size_t i = 0; params && i < params->n_headers; i++)
        header_add(&h, params->headers[i].name, params->headers[i].value);
    header_add(&h, "Content-Type", "application/json; charset=utf-8");
    header_add(&h, "User-Agent", "Amazon/EventBridge/ApiDestinations");
    header_add(&h, "Range", "bytes=0-1048575");

    url_builder_t u = {0};
    const char *endpoint = lb_conn_doc_str(dest_doc, "InvocationEndpoint");
    url_start(&u, endpoint ? endpoint : "", params);
    query_add_list(&u, lb_json_get(inv, "QueryStringParameters"));
    for (size_t i = 0; params && i < params->n_query; i++)
        query_add(&u, params->query[i].name, params->query[i].value);
    lb_buf_free(&u.seen);

    const char *method = lb_conn_doc_str(dest_doc, "HttpMethod");
    out->method = lb_strdup(method ? method : "POST");
    out->url = lb_buf_steal(&u.url, NULL);
    out->headers = header_finish(&h);
    out->body = merge_body(body, lb_json_get(inv, "BodyParameters"));
    return 0;
}

int64_t lb_apidest_rate_take(lb_connections_t *r, const char *region, const char *destination_arn,
                             int64_t now_ms)
{
    lb_conn_entry_t *dest = destination_of(r, region, destination_arn);
    if (!dest) return -ENOENT;
    int64_t limit = lb_json_get_int(lb_conn_entry_doc(dest), "InvocationRateLimitPerSecond", 300);
    if (limit < 1) limit = 1;
    if (!dest->bucket_started) {
        dest->bucket_started = 1;
        dest->bucket_tokens = (double)limit;
        dest->bucket_ms = now_ms;
    } else if (now_ms > dest->bucket_ms) {
        dest->bucket_tokens += (double)(now_ms - dest->bucket_ms) * (double)limit / 1000.0;
        dest->bucket_ms = now_ms;
    }
    /* A lowered limit (UpdateApiDestination) caps the burst at once. */
    if (dest->bucket_tokens > (double)limit) dest->bucket_tokens = (double)limit;
    if (dest->bucket_tokens >= 1.0) {
        dest->bucket_tokens -= 1.0;
        return 0;
    }
    double wait = (1.0 - dest->bucket_tokens) * 1000.0 / (double)limit;
    int64_t ms = (int64_t)wait;
    return ms < (double)wait || ms == 0 ? ms + 1 : ms;
}

static void form_add(lb_buf_t *b, const char *k, const char *v)
{
    if (!k || !v) return;
    if (b->len) lb_buf_puts(b, "&");
    url_encode(b, k);
    lb_buf_puts(b, "=");
    url_encode(b, v);
}

int lb_connections_oauth_request(const lb_connections_t *r, const char *region,
                                 const char *connection_name, lb_http_call_t *out)
{
    memset(out, 0, sizeof *out);
    const lb_conn_entry_t *conn =
        lb_conn_entry_find(r, LB_CONN_CONNECTION, region, connection_name);
    if (!conn) return -ENOENT;
    const lb_json_t *doc = lb_conn_entry_doc(conn);
    const char *type = lb_conn_doc_str(doc, "AuthorizationType");
    if (!type || strcmp(type, "OAUTH_CLIENT_CREDENTIALS") != 0) return -EINVAL;
    const char *stored = lb_conn_doc_str(doc, "ConnectionState");
    if (stored && strcmp(stored, "DEAUTHORIZED") == 0) return LB_EINVALID;
    const lb_json_t *auth = lb_json_get(doc, "AuthParameters");
    const lb_json_t *oauth = lb_json_get(auth, "OAuthParameters");
    const lb_json_t *client = lb_json_get(oauth, "ClientParameters");
    const lb_json_t *http = lb_json_get(oauth, "OAuthHttpParameters");
    const char *endpoint = lb_conn_doc_str(oauth, "AuthorizationEndpoint");
    const char *method = lb_conn_doc_str(oauth, "HttpMethod");
    if (!endpoint) return -EINVAL;
    if (!method) method = "POST";

    header_list_t h = {0};
    add_basic(&h, lb_conn_doc_str(client, "ClientID"), lb_conn_doc_str(client, "ClientSecret"));
    header_add_list(&h, lb_json_get(http, "HeaderParameters"));

    lb_buf_t form = {0};
    int has_grant = 0;
    const lb_json_t *body_params = lb_json_get(http, "BodyParameters");
    if (lb_json_is(body_params, LB_JSON_ARRAY)) lb_json_each(p, body_params)
        {
            const char *k = lb_conn_doc_str(p, "Key");
            if (k && strcmp(k, "grant_type") == 0) has_grant = 1;
            form_add(&form, k, lb_conn_doc_str(p, "Value"));
        }
    if (!has_grant) form_add(&form, "grant_type", "client_credentials");

    url_builder_t u = {0};
    url_start(&u, endpoint, NULL);
    query_add_list(&u, lb_json_get(http, "QueryStringParameters"));
    lb_buf_free(&u.seen);
    if (strcmp(method, "GET") == 0) {
        /* A GET has no body: its form parameters go in the query string. */
        lb_buf_puts(&u.url, u.has_query ? "&" : "?");
        lb_buf_append(&u.url, form.data, form.len);
        lb_buf_free(&form);
    } else {
        header_add(&h, "Content-Type", "application/x-www-form-urlencoded");
        out->body = lb_buf_steal(&form, NULL);
    }
    header_add(&h, "Accept", "application/json");
    out->method = lb_strdup(method);
    out->url = lb_buf_steal(&u.url, NULL);
    out->headers = header_finish(&h);
    return 0;
}

/* The deploy client's HTTP calls: see lb_deploy_http.h. */
#include "lb_deploy_http.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_awsconfig.h"
#include "lb_sigv4.h"

struct lb_dclient {
    CURL *curl;
    char *endpoint;
    char host[256]; /* the Host header, signed */
    char *key, *secret, *token, *admin_token;
    char region[64];
};

int lb_dclient_new(const char *endpoint, const lb_dclient_auth_t *auth, lb_dclient_t **out)
{
    char host[256], path[16];
    *out = NULL;
    if (lb_aws_url_host_path(endpoint, host, sizeof host, path, sizeof path)) return -1;
    lb_dclient_t *c = lb_xcalloc(1, sizeof *c);
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return -1;
    }
    c->endpoint = lb_strdup(endpoint);
    size_t n = strlen(c->endpoint);
    while (n && c->endpoint[n - 1] == '/')
        c->endpoint[--n] = '\0';
    snprintf(c->host, sizeof c->host, "%s", host);
    if (auth->access_key_id && auth->secret_access_key) {
        c->key = lb_strdup(auth->access_key_id);
        c->secret = lb_strdup(auth->secret_access_key);
        c->token = auth->session_token ? lb_strdup(auth->session_token) : NULL;
    }
    c->admin_token = auth->admin_token ? lb_strdup(auth->admin_token) : NULL;
    snprintf(c->region, sizeof c->region, "%s", auth->region ? auth->region : "");
    *out = c;
    return 0;
}

static void wipe_free(char *s)
{
    if (s) OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void lb_dclient_free(lb_dclient_t **cp)
{
    lb_dclient_t *c = *cp;
    if (!c) return;
    curl_easy_cleanup(c->curl);
    free(c->endpoint);
    free(c->key);
    wipe_free(c->secret);
    wipe_free(c->token);
    wipe_free(c->admin_token);
    free(c);
    *cp = NULL;
}

/* The Authorization header line for one request (malloc'd), or NULL for none. */
static char *authorization(lb_dclient_t *c, const char *method, const char *path,
                           const char *target, const char *content_type, const char *body,
                           char amz_date[17])
{
    lb_buf_t b = {0};
    if (c->key) {
        char hash[65];
        lb_sigv4_amz_date(lb_now_ms(), amz_date);
        lb_sigv4_sha256_hex(body, strlen(body), hash);
        lb_sigv4_header_t h[5] = {
            {"host", c->host}, {"x-amz-date", amz_date}, {"content-type", content_type}};
        size_t n = 3;
        if (target) h[n++] = (lb_sigv4_header_t){"x-amz-target", target};
        if (c->token) h[n++] = (lb_sigv4_header_t){"x-amz-security-token", c->token};
        lb_sigv4_request_t req = {.method = method,
                                  .path = path,
                                  .query = "",
                                  .headers = h,
                                  .n_headers = n,
                                  .payload_hash = hash};
        lb_sigv4_creds_t creds = {c->key, c->secret, c->token};
        char *auth = NULL;
        const char *service = target && strncmp(target, "AmazonSQS.", 10) == 0 ? "sqs" : "events";
        lb_sigv4_sign(&req, &creds, c->region[0] ? c->region : "us-east-1", service, amz_date,
                      &auth);
        lb_buf_printf(&b, "Authorization: %s", auth);
        free(auth);
    } else if (c->admin_token && strncmp(path, "/_localbridge/", 14) == 0) {
        lb_buf_printf(&b, "Authorization: Bearer %s", c->admin_token);
    } else if (c->region[0]) {
        /* Unsigned: the daemon reads the region from the credential scope, as AWS clients send
         * it; a daemon with auth = sigv4 refuses it, as it should. */
        lb_buf_printf(&b,
                      "Authorization: AWS4-HMAC-SHA256 Credential=localbridge/20200101/%s/events/"
                      "aws4_request, SignedHeaders=host, Signature=0",
                      c->region);
    } else {
        return NULL;
    }
    return lb_buf_steal(&b, NULL);
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    lb_buf_append(ctx, data, size * n);
    return size * n;
}

int lb_dclient_request(lb_dclient_t *c, const char *method, const char *path, const char *target,
                       const char *content_type, const char *body, int *status, lb_json_doc_t **doc,
                       char **err)
{
    char url[4096], header[512], amz_date[17] = "";
    snprintf(url, sizeof url, "%s%s", c->endpoint, path);
    if (!content_type) content_type = "application/json";
    if (!body) body = "";
    struct curl_slist *headers = NULL;
    if (target) {
        snprintf(header, sizeof header, "X-Amz-Target: %s", target);
        headers = curl_slist_append(headers, header);
    }
    snprintf(header, sizeof header, "Content-Type: %s", content_type);
    headers = curl_slist_append(headers, header);
    snprintf(header, sizeof header, "Host: %s", c->host);
    headers = curl_slist_append(headers, header);
    char *auth = authorization(c, method, path, target, content_type, body, amz_date);
    if (auth) {
        headers = curl_slist_append(headers, auth);
        wipe_free(auth);
    }
    if (amz_date[0]) {
        snprintf(header, sizeof header, "X-Amz-Date: %s", amz_date);
        headers = curl_slist_append(headers, header);
    }
    if (c->token) {
        lb_buf_t t = {0};
        lb_buf_printf(&t, "X-Amz-Security-Token: %s", c->token);
        headers = curl_slist_append(headers, t.data);
        OPENSSL_cleanse(t.data, t.len);
        lb_buf_free(&t);
    }
    headers = curl_slist_append(headers, "Expect:");

    lb_buf_t resp = {0};
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (strcmp(method, "GET") == 0) curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    *doc = NULL;
    if (rc != CURLE_OK) {
        lb_buf_t e = {0};
        lb_buf_printf(&e, "cannot reach the daemon at %s: %s", c->endpoint, curl_easy_strerror(rc));
        *err = lb_buf_steal(&e, NULL);
        lb_buf_free(&resp);
        return -1;
    }
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    if (resp.len) lb_json_parse(resp.data, resp.len, 200, doc, NULL);
    lb_buf_free(&resp);
    return 0;
}

/* "Type: message" of an AWS error body; SQS's JSON types are "com.amazonaws.sqs#Name". */
static char *error_text(int status, const lb_json_t *root)
{
    const char *type = lb_json_get_str(root, "__type");
    const char *msg = lb_json_get_str(root, "message");
    if (!msg) msg = lb_json_get_str(root, "Message");
    if (type && strchr(type, '#')) type = strchr(type, '#') + 1;
    lb_buf_t b = {0};
    lb_buf_printf(&b, "%s: %s", type ? type : "HTTP error", msg ? msg : "");
    if (!type) lb_buf_printf(&b, "(status %d)", status);
    return lb_buf_steal(&b, NULL);
}

static int is_missing(int status, const lb_json_t *root)
{
    const char *type = lb_json_get_str(root, "__type");
    if (status == 404) return 1;
    return type && (strstr(type, "ResourceNotFound") || strstr(type, "QueueDoesNotExist") ||
                    strstr(type, "NonExistentQueue"));
}

/* Replaces or adds one statement (by Sid) of the bus's policy, and puts the policy back. */
static int merge_policy(lb_dclient_t *c, const lb_dcall_t *call, char **err)
{
    lb_json_doc_t *doc = lb_json_doc_new(), *resp = NULL, *old = NULL, *stmt = NULL;
    lb_json_t *req = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_add_str(doc, req, "Name", call->op);
    char *text = lb_json_print(req, NULL);
    int status, rc = lb_dclient_request(c, "POST", "/", "AWSEvents.DescribeEventBus",
                                        "application/x-amz-json-1.1", text, &status, &resp, err);
    free(text);
    if (rc == 0 && status != 200) {
        *err = error_text(status, resp ? lb_json_doc_root(resp) : NULL);
        rc = -1;
    }
    lb_json_t *policy = NULL;
    if (rc == 0) {
        const char *p = lb_json_get_str(lb_json_doc_root(resp), "Policy");
        if (p) lb_json_parse(p, strlen(p), 64, &old, NULL);
        lb_json_parse(call->body, strlen(call->body), 64, &stmt, NULL);
        const char *sid = lb_json_get_str(lb_json_doc_root(stmt), "Sid");
        policy = lb_json_new(doc, LB_JSON_OBJECT);
        lb_json_add_str(doc, policy, "Version", "2012-10-17");
        lb_json_t *list = lb_json_add(doc, policy, "Statement", lb_json_new(doc, LB_JSON_ARRAY));
        lb_json_each(s, lb_json_get(old ? lb_json_doc_root(old) : NULL, "Statement"))
        {
            const char *osid = lb_json_get_str(s, "Sid");
            if (!osid || !sid || strcmp(osid, sid) != 0)
                lb_json_add(doc, list, NULL, lb_json_copy(doc, s));
        }
        lb_json_add(doc, list, NULL, lb_json_copy(doc, lb_json_doc_root(stmt)));
    }
    if (rc == 0) {
        lb_json_t *put = lb_json_new(doc, LB_JSON_OBJECT);
        lb_json_add_str(doc, put, "EventBusName", call->op);
        char *ptext = lb_json_print(policy, NULL);
        lb_json_add_str(doc, put, "Policy", ptext);
        free(ptext);
        lb_dcall_t inner = {.kind = LB_DCALL_EVENTS, .op = "PutPermission"};
        inner.body = lb_json_print(put, NULL);
        rc = lb_dclient_run(c, &inner, NULL, err);
        free(inner.body);
    }
    lb_json_doc_free(&resp);
    lb_json_doc_free(&old);
    lb_json_doc_free(&stmt);
    lb_json_doc_free(&doc);
    return rc;
}

int lb_dclient_run(lb_dclient_t *c, const lb_dcall_t *call, char **captured, char **err)
{
    if (captured) *captured = NULL;
    *err = NULL;
    if (call->kind == LB_DCALL_MERGE_POLICY) return merge_policy(c, call, err);
    char target[128];
    const char *method = "POST", *path = "/", *ct = NULL, *tgt = NULL;
    switch (call->kind) {
    case LB_DCALL_EVENTS:
        snprintf(target, sizeof target, "AWSEvents.%s", call->op);
        tgt = target;
        ct = "application/x-amz-json-1.1";
        break;
    case LB_DCALL_SQS:
        snprintf(target, sizeof target, "AmazonSQS.%s", call->op);
        tgt = target;
        ct = "application/x-amz-json-1.0";
        break;
    case LB_DCALL_PUT:
        method = "PUT";
        path = call->op;
        break;
    default:
        method = "DELETE";
        path = call->op;
        break;
    }
    int status;
    lb_json_doc_t *resp = NULL;
    if (lb_dclient_request(c, method, path, tgt, ct, call->body, &status, &resp, err)) return -1;
    const lb_json_t *root = resp ? lb_json_doc_root(resp) : NULL;
    int rc = 0;
    if (status < 200 || status > 299) {
        if (!(call->missing_ok && is_missing(status, root))) {
            *err = error_text(status, root);
            rc = -1;
        }
    } else if (call->capture && captured) {
        const char *v = lb_json_get_str(root, call->capture);
        if (v) *captured = lb_strdup(v);
    }
    lb_json_doc_free(&resp);
    return rc;
}

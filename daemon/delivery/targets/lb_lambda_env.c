#include "lb_lambda_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_lambda_conf.h"

extern char **environ;

char **lb_lambda_env_copy(char *const *v)
{
    if (!v) return NULL;
    size_t n = 0;
    while (v[n])
        n++;
    char **out = lb_xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = lb_strdup(v[i]);
    return out;
}

typedef struct {
    char **v;
    size_t n;
} vec_t;

/* Sets "K=V", replacing an earlier K. */
static void put(vec_t *e, const char *kv)
{
    size_t klen = strcspn(kv, "=");
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], kv, klen) == 0 && e->v[i][klen] == '=') {
            free(e->v[i]);
            e->v[i] = lb_strdup(kv);
            return;
        }
    }
    e->v = lb_xrealloc(e->v, (e->n + 2) * sizeof *e->v);
    e->v[e->n++] = lb_strdup(kv);
    e->v[e->n] = NULL;
}

static void putf(vec_t *e, const char *key, const char *value)
{
    lb_buf_t b = {0};
    lb_buf_printf(&b, "%s=%s", key, value);
    put(e, b.data);
    lb_buf_free(&b);
}

/* The code directory: --code-dir DIR, else the directory of a FILE.py:FUNCTION argument. */
static void task_root(char *const *argv, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 1; argv[i]; i++) {
        if (strcmp(argv[i], "--code-dir") == 0 && argv[i + 1]) {
            snprintf(out, n, "%s", argv[i + 1]);
            return;
        }
        const char *py = strstr(argv[i], ".py:"), *slash = NULL;
        if (!py) continue;
        for (const char *p = argv[i]; p < py; p++)
            if (*p == '/') slash = p;
        if (slash) snprintf(out, n, "%.*s", (int)(slash - argv[i]), argv[i]);
    }
}

char **lb_lambda_env_build(const lb_lambda_env_t *e, char **argv)
{
    vec_t v = {0};
    /* The daemon's own settings (LOCALBRIDGE_*: an admin token, say) are not the handler's, nor
     * its profile: a handler has Lambda's credentials (the placeholders below), and a profile
     * its SDK cannot find (AWS_PROFILE= empty, say) would fail every client it makes. */
    for (size_t i = 0; environ && environ[i]; i++)
        if (strchr(environ[i], '=') && strncmp(environ[i], "LOCALBRIDGE_", 12) != 0 &&
            strncmp(environ[i], "AWS_PROFILE=", 12) != 0 &&
            strncmp(environ[i], "AWS_DEFAULT_PROFILE=", 20) != 0)
            put(&v, environ[i]);
    if (e->endpoint_url && *e->endpoint_url) putf(&v, "AWS_ENDPOINT_URL", e->endpoint_url);
    for (size_t i = 0; e->function_env && e->function_env[i]; i++)
        put(&v, e->function_env[i]);
    /* "@python-runner" first runs the runner itself (its #! picks python3 from PATH); after an
     * interpreter ("/usr/bin/python3 @python-runner ...") it is the script that one runs. */
    int runner = 0;
    size_t last = 0;
    for (size_t i = 0; argv[i]; i++) {
        last = i;
        if (i >= 2) continue;
        if (strcmp(argv[i], LB_LAMBDA_RUNNER_TOKEN) == 0) {
            free(argv[i]);
            argv[i] = lb_strdup(e->runner);
            runner = 1;
        }
        /* The runner named by its path (as `localbridge deploy` may write it) is the runner. */
        const char *slash = strrchr(argv[i], '/');
        if (strcmp(slash ? slash + 1 : argv[i], "localbridge-lambda-python") == 0) runner = 1;
    }
    if (runner && last) putf(&v, "_HANDLER", argv[last]);
    char buf[256], hex[33], id[37];
    if (lb_uuid_v4(id)) snprintf(id, sizeof id, "%s", e->request_id);
    size_t k = 0;
    for (const char *p = id; *p && k < 32; p++)
        if (*p != '-') hex[k++] = *p;
    hex[k] = '\0';
    char day[32];
    lb_format_time_iso(lb_now_ms(), day);
    snprintf(buf, sizeof buf, "%.4s/%.2s/%.2s/[$LATEST]%s", day, day + 5, day + 8, hex);
    putf(&v, "AWS_LAMBDA_LOG_STREAM_NAME", buf);
    snprintf(buf, sizeof buf, "/aws/lambda/%s", e->function);
    putf(&v, "AWS_LAMBDA_LOG_GROUP_NAME", buf);
    putf(&v, "AWS_LAMBDA_FUNCTION_NAME", e->function);
    putf(&v, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    putf(&v, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    putf(&v, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    putf(&v, "AWS_REGION", e->region);
    putf(&v, "AWS_DEFAULT_REGION", e->region);
    putf(&v, "TZ", ":UTC");
    /* Placeholders, as the handler's SDK needs some; this daemon does not check them unless
     * auth = sigv4. */
    putf(&v, "AWS_ACCESS_KEY_ID", "localbridge");
    putf(&v, "AWS_SECRET_ACCESS_KEY", "localbridge");
    putf(&v, "AWS_SESSION_TOKEN", "localbridge");
    task_root(argv, buf, sizeof buf);
    if (buf[0]) putf(&v, "LAMBDA_TASK_ROOT", buf);
    /* The runner's context object. */
    putf(&v, "LOCALBRIDGE_LAMBDA_REQUEST_ID", e->request_id);
    putf(&v, "LOCALBRIDGE_LAMBDA_FUNCTION_ARN", e->function_arn);
    snprintf(buf, sizeof buf, "%lld", (long long)(lb_now_ms() + e->timeout_ms));
    putf(&v, "LOCALBRIDGE_LAMBDA_DEADLINE_MS", buf);
    return v.v;
}

/* Appends text as JSON when it parses as JSON, else as a JSON string. */
static void json_or_string(lb_buf_t *out, const char *text, size_t len)
{
    lb_json_doc_t *doc = NULL;
    if (text && lb_json_parse(text, len, LB_JSON_EVENT_MAX_DEPTH, &doc, NULL) == 0)
        lb_buf_append(out, text, len);
    else
        lb_buf_json_string(out, text ? text : "", text ? len : 0);
    lb_json_doc_free(&doc);
}

void lb_lambda_failure_record(const lb_delivery_t *d, const char *region, const char *account,
                              const char *function, const char *condition, const char *error_json,
                              int64_t now_ms, lb_buf_t *out)
{
    char ts[32], arn[512];
    lb_format_time_iso(now_ms, ts);
    snprintf(arn, sizeof arn, "arn:aws:lambda:%s:%s:function:%s:$LATEST", region, account,
             function);
    lb_buf_puts(out, "{\"version\":\"1.0\",\"timestamp\":");
    lb_buf_json_string(out, ts, strlen(ts));
    lb_buf_puts(out, ",\"requestContext\":{\"requestId\":");
    lb_buf_json_string(out, d->fn.request_id, strlen(d->fn.request_id));
    lb_buf_puts(out, ",\"functionArn\":");
    lb_buf_json_string(out, arn, strlen(arn));
    lb_buf_puts(out, ",\"condition\":");
    const char *cond = condition ? condition : "RetriesExhausted";
    lb_buf_json_string(out, cond, strlen(cond));
    lb_buf_printf(out, ",\"approximateInvokeCount\":%d},\"requestPayload\":", d->fn.errors);
    json_or_string(out, d->body, d->body_len);
    lb_buf_puts(out, ",\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\","
                     "\"functionError\":\"Unhandled\"},\"responsePayload\":");
    json_or_string(out, error_json, error_json ? strlen(error_json) : 0);
    lb_buf_puts(out, "}");
}

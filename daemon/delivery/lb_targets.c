#include "lb_targets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_util.h"

void lb_route_clear(lb_route_t *r)
{
    lb_http_call_clear(&r->req);
    free(r->oauth_connection);
    memset(r, 0, sizeof *r);
}

static void fail(lb_route_t *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(lb_route_t *r, const char *code, const char *fmt, ...)
{
    va_list ap;
    r->kind = LB_ROUTE_FAIL;
    snprintf(r->error_code, sizeof r->error_code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(r->error_message, sizeof r->error_message, fmt, ap);
    va_end(ap);
}

static void http_post(lb_route_t *r, const char *url, const lb_delivery_t *d,
                      const char *extra_header)
{
    r->kind = LB_ROUTE_HTTP;
    r->req.method = lb_strdup("POST");
    r->req.url = lb_strdup(url);
    r->req.headers = lb_xcalloc(4, sizeof *r->req.headers);
    r->req.headers[0] = lb_strdup("Content-Type: application/json; charset=utf-8");
    r->req.headers[1] = lb_strdup("User-Agent: LocalBridge/" LB_VERSION);
    if (extra_header) r->req.headers[2] = lb_strdup(extra_header);
    r->req.body = lb_strdup(d->body);
}

/* arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE -> pointers into arn; 0 or -1. */
static int split_arn(const char *arn, char service[32], char region[32], const char **resource)
{
    if (strncmp(arn, "arn:", 4) != 0) return -1;
    const char *p = strchr(arn + 4, ':'); /* after partition */
    if (!p) return -1;
    const char *svc = p + 1, *svc_end = strchr(svc, ':');
    if (!svc_end || svc_end - svc >= 32) return -1;
    const char *reg = svc_end + 1, *reg_end = strchr(reg, ':');
    if (!reg_end || reg_end - reg >= 32) return -1;
    const char *acct_end = strchr(reg_end + 1, ':');
    if (!acct_end) return -1;
    snprintf(service, 32, "%.*s", (int)(svc_end - svc), svc);
    snprintf(region, 32, "%.*s", (int)(reg_end - reg), reg);
    *resource = acct_end + 1;
    return 0;
}

/* The delivery carries its target as it was when the event matched; until the dispatcher takes
 * the target compiled at PutTargets from the rules, its HttpParameters are compiled here. */
static lb_http_params_t *target_http_parameters(const lb_delivery_t *d)
{
    lb_json_doc_t *doc;
    lb_http_params_t *params = NULL;
    if (d->target_json && lb_json_parse(d->target_json, strlen(d->target_json),
                                        LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) == 0) {
        lb_http_params_compile(lb_json_get(lb_json_doc_root(doc), "HttpParameters"), &params);
        lb_json_doc_free(&doc);
    }
    return params;
}

static void route_api_destination(lb_connections_t *conns, const lb_delivery_t *d,
                                  const char *region, int64_t now_ms, lb_route_t *r)
{
    int64_t wait = lb_apidest_rate_take(conns, region, d->target_arn, now_ms);
    if (wait > 0) {
        r->kind = LB_ROUTE_WAIT;
        r->wait_ms = wait;
        return;
    }
    lb_http_params_t *params = target_http_parameters(d);
    int rc = lb_apidest_prepare(conns, region, d->target_arn, params, d->body, &r->req);
    lb_http_params_free(&params);
    if (rc == 0) {
        r->kind = LB_ROUTE_HTTP;
    } else if (rc == -EAGAIN) {
        r->kind = LB_ROUTE_WAIT;
        r->wait_ms = 1000;
    } else if (rc == LB_EINVALID) {
        fail(r, "CONNECTION_DEAUTHORIZED",
             "The connection of API destination %s is deauthorized.", d->target_arn);
    } else {
        fail(r, "RESOURCE_NOT_FOUND", "API destination %s or its connection does not exist.",
             d->target_arn);
    }
}

int lb_target_route(const lb_config_t *cfg, lb_connections_t *conns, const lb_delivery_t *d,
                    int64_t now_ms, lb_route_t *out)
{
    memset(out, 0, sizeof *out);
    const char *url;
    if (lb_config_map_target(cfg, d->target_arn, &url) == 0) {
        http_post(out, url, d, NULL);
        return 0;
    }
    char service[32], region[32];
    const char *resource;
    if (split_arn(d->target_arn, service, region, &resource)) {
        fail(out, "INVALID_TARGET", "Target %s is not an ARN.", d->target_arn);
        return 0;
    }
    if (strcmp(service, "events") == 0 && strncmp(resource, "api-destination/", 16) == 0) {
        route_api_destination(conns, d, region, now_ms, out);
        return 0;
    }
    if (strcmp(service, "events") == 0 && strncmp(resource, "event-bus/", 10) == 0) {
        out->kind = LB_ROUTE_BUS;
        snprintf(out->bus_region, sizeof out->bus_region, "%s", region);
        snprintf(out->bus_name, sizeof out->bus_name, "%s", resource + 10);
        return 0;
    }
    const struct lb_settings *st = lb_config_settings(cfg);
    if (strcmp(service, "lambda") == 0 && strncmp(resource, "function:", 9) == 0 &&
        st->lambda_endpoint && *st->lambda_endpoint) {
        char name[256], target_url[2048];
        snprintf(name, sizeof name, "%s", resource + 9);
        /* A qualifier (function:NAME:alias) goes into the query, as the Invoke API takes it. */
        char *qualifier = strchr(name, ':');
        if (qualifier) *qualifier++ = '\0';
        size_t n = strlen(st->lambda_endpoint);
        snprintf(target_url, sizeof target_url, "%.*s/2015-03-31/functions/%s/invocations%s%s",
                 (int)(n && st->lambda_endpoint[n - 1] == '/' ? n - 1 : n), st->lambda_endpoint,
                 name, qualifier ? "?Qualifier=" : "", qualifier ? qualifier : "");
        http_post(out, target_url, d, "X-Amz-Invocation-Type: Event");
        return 0;
    }
    fail(out, "RESOURCE_NOT_FOUND",
         "No local endpoint for target %s: map it with `target_map = GLOB -> URL` in the config "
         "(or set lambda_endpoint for Lambda functions).",
         d->target_arn);
    return 0;
}

#include "lb_target_lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_target_http.h"
#include "lb_util.h"

typedef struct {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
} lambda_t;

static const char *endpoint(const lambda_t *l)
{
    const char *e = lb_config_settings(l->env.config)->lambda_endpoint;
    return e && *e ? e : NULL;
}

/* The NAME[:QUALIFIER] part of a function ARN, or NULL. */
static const char *function_part(const char *arn)
{
    lb_arn_t a;
    if (lb_arn_parse(arn, &a) || strcmp(a.service, "lambda") != 0 ||
        strncmp(a.resource, "function:", 9) != 0 || !a.resource[9])
        return NULL;
    return a.resource + 9;
}

static int lambda_accepts(void *self, const char *arn)
{
    return endpoint(self) && function_part(arn);
}

static void lambda_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    lambda_t *l = self;
    const char *base = endpoint(l), *fn = function_part(d->target_arn);
    if (!base || !fn) {
        lb_send_result_t r = {.outcome = LB_ATTEMPT_PERMANENT,
                              .error_code = "NO_RESOURCE",
                              .error_message = "lambda_endpoint is no longer configured."};
        done(ctx, d, &r);
        return;
    }
    char name[256], url[2048];
    snprintf(name, sizeof name, "%s", fn);
    /* A qualifier (function:NAME:alias) goes into the query, as the Invoke API takes it. */
    char *qualifier = strchr(name, ':');
    if (qualifier) *qualifier++ = '\0';
    size_t n = strlen(base);
    if (n && base[n - 1] == '/') n--;
    snprintf(url, sizeof url, "%.*s/2015-03-31/functions/%s/invocations%s%s", (int)n, base, name,
             qualifier ? "?Qualifier=" : "", qualifier ? qualifier : "");
    lb_http_call_t req = {.method = lb_strdup("POST"),
                          .url = lb_strdup(url),
                          .headers = lb_target_http_headers("X-Amz-Invocation-Type: Event")};
    lb_target_http_send(l->env.transport, lb_config_settings(l->env.config)->delivery_timeout_ms,
                        &req, d, done, ctx);
}

static void lambda_stop(void *self)
{
    (void)self; /* its sends belong to the shared transport */
}

static void free_lambda(void *self)
{
    free(self);
}

lb_adapter_t *lb_target_lambda_new(const lb_adapter_env_t *env)
{
    lambda_t *l = lb_xcalloc(1, sizeof *l);
    l->env = *env;
    l->adapter = (lb_adapter_t){.name = "lambda",
                                .self = l,
                                .accepts = lambda_accepts,
                                .send = lambda_send,
                                .stop = lambda_stop,
                                .free = free_lambda};
    return &l->adapter;
}

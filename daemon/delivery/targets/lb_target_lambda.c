#include "lb_target_lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_lambda_conf.h"
#include "lb_target_http.h"
#include "lb_util.h"

typedef struct {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
    /* The endpoint that answered 501 to an Event invoke (sam local start-lambda supports only
     * RequestResponse): invoked with RequestResponse from then on. NULL: none. */
    char *sync_only;
} lambda_t;

/* One invoke under way. */
typedef struct {
    lambda_t *owner;
    lb_delivery_t *d;
    lb_send_done_fn done;
    void *ctx;
    int event; /* sent as X-Amz-Invocation-Type: Event */
    lb_async_policy_t policy;
    lb_http_call_t req; /* owned until the answer; its body is the delivery's, borrowed */
} invoke_t;

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

static int sync_only(const lambda_t *l, const char *base)
{
    return l->sync_only && strcmp(l->sync_only, base) == 0;
}

/* Lambda's own retry policy for the function (lambda_function lines, Lambda's defaults), which
 * governs a function error: for a local endpoint nothing else retries it. */
static void policy_for(const lambda_t *l, const char *name, lb_async_policy_t *p)
{
    const struct lb_settings *s = lb_config_settings(l->env.config);
    lb_lambda_settings_t fs;
    lb_lambda_settings_unset(&fs);
    lb_lambda_resolve_settings(&s->lambda_functions, name, &fs);
    int64_t delay = (int64_t)s->lambda_retry_delay_ms;
    *p = (lb_async_policy_t){.max_retries = fs.retries,
                             .max_age_ms = (int64_t)fs.max_event_age_s * delay / 60,
                             .retry_delay_ms = delay,
                             .throttle_min_ms = delay / 60 > 0 ? delay / 60 : 1,
                             .throttle_max_ms = delay * 5};
    lb_lambda_settings_clear(&fs);
}

static void invoke(lambda_t *l, invoke_t *iv);

static void on_answer(void *arg, const lb_http_result_t *r)
{
    invoke_t *iv = arg;
    lambda_t *l = iv->owner;
    char message[LB_TRANSPORT_KEEP + 128];
    lb_send_result_t res;
    lb_target_http_classify(r, &res, message, sizeof message);
    const char *base = endpoint(l);
    iv->req.body = NULL;
    lb_http_call_clear(&iv->req);
    memset(&iv->req, 0, sizeof iv->req);
    if (r->answered && r->status == 501 && iv->event && base && !r->aborted) {
        /* sam local start-lambda: "invocation-type: Event is not supported. RequestResponse is
         * only supported." Remembered for this endpoint, said once, and sent again now. */
        /* Invokes sent together may all come back 501: said once. */
        if (!sync_only(l, base)) {
            free(l->sync_only);
            l->sync_only = lb_strdup(base);
            lb_logf_warn(l->env.log,
                         "lambda_endpoint does not take Event invokes (sam local start-lambda); "
                         "invoking with RequestResponse from now on",
                         LB_LOG_STR("endpoint", base));
        }
        invoke(l, iv);
        return;
    }
    if (r->answered && r->status >= 200 && r->status < 300 && r->header && *r->header) {
        /* X-Amz-Function-Error: the function ran and failed; its own retry policy decides. */
        res.outcome = LB_ATTEMPT_FUNCTION_ERROR;
        res.error_code = "LAMBDA_FUNCTION_ERROR";
        snprintf(message, sizeof message, "%s", *r->body ? r->body : r->header);
        res.error_message = message;
    }
    if (r->answered && r->status == 429) res.throttled = 1;
    res.async = &iv->policy;
    iv->done(iv->ctx, iv->d, &res);
    free(iv);
}

static void invoke(lambda_t *l, invoke_t *iv)
{
    const char *base = endpoint(l), *fn = function_part(iv->d->target_arn);
    if (!base || !fn) {
        lb_send_result_t r = {.outcome = LB_ATTEMPT_PERMANENT,
                              .error_code = "NO_RESOURCE",
                              .error_message = "lambda_endpoint is no longer configured."};
        iv->done(iv->ctx, iv->d, &r);
        free(iv);
        return;
    }
    char name[256], url[2048];
    snprintf(name, sizeof name, "%s", fn);
    /* A qualifier (function:NAME:alias) goes into the query, as the Invoke API takes it. */
    char *qualifier = strchr(name, ':');
    if (qualifier) *qualifier++ = '\0';
    policy_for(l, name, &iv->policy);
    size_t n = strlen(base);
    if (n && base[n - 1] == '/') n--;
    snprintf(url, sizeof url, "%.*s/2015-03-31/functions/%s/invocations%s%s", (int)n, base, name,
             qualifier ? "?Qualifier=" : "", qualifier ? qualifier : "");
    iv->event = lb_config_settings(l->env.config)->lambda_invocation_type == LB_LAMBDA_EVENT &&
                !sync_only(l, base);
    iv->req = (lb_http_call_t){
        .method = lb_strdup("POST"),
        .url = lb_strdup(url),
        .headers = lb_target_http_headers(iv->event ? "X-Amz-Invocation-Type: Event"
                                                    : "X-Amz-Invocation-Type: RequestResponse"),
        .body = (char *)iv->d->body,
        .capture_header = lb_strdup("X-Amz-Function-Error")};
    if (lb_transport_send(l->env.transport, &iv->req,
                          lb_config_settings(l->env.config)->delivery_timeout_ms, on_answer,
                          iv) == 0)
        return;
    iv->req.body = NULL;
    lb_http_call_clear(&iv->req);
    lb_send_result_t r = {.outcome = LB_ATTEMPT_RETRYABLE,
                          .error_code = "INTERNAL_ERROR",
                          .error_message = "The HTTP request could not be started."};
    iv->done(iv->ctx, iv->d, &r);
    free(iv);
}

static void lambda_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    lambda_t *l = self;
    invoke_t *iv = lb_xcalloc(1, sizeof *iv);
    iv->owner = l;
    iv->d = d;
    iv->done = done;
    iv->ctx = ctx;
    invoke(l, iv);
}

static void lambda_stop(void *self)
{
    (void)self; /* its sends belong to the shared transport */
}

static void free_lambda(void *self)
{
    lambda_t *l = self;
    free(l->sync_only);
    free(l);
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

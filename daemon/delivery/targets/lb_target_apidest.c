#include "lb_target_apidest.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_json.h"
#include "lb_rules.h"
#include "lb_target_http.h"
#include "lb_util.h"

/* How often OAuth connections are checked for a token that is missing or about to expire. */
#define TOKEN_CHECK_MS 5000
/* An OAuth server's expires_in is believed up to a year; beyond (or not a number) it is not. */
#define TOKEN_MAX_LIFETIME_S (365.0 * 24 * 3600)

typedef struct {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
    uv_timer_t token_timer;
    char **token_requests; /* "region\nconnection" of token requests under way */
    size_t n_token_requests;
    int stopped, closed, free_requested;
} apidest_t;

static lb_connections_t *conns(const apidest_t *a)
{
    return lb_engine_connections(a->env.engine);
}

static int apidest_accepts(void *self, const char *arn)
{
    (void)self;
    lb_arn_t p;
    return lb_arn_parse(arn, &p) == 0 && strcmp(p.service, "events") == 0 &&
           strncmp(p.resource, "api-destination/", 16) == 0;
}

/* ---- OAuth tokens ---- */

typedef struct {
    apidest_t *owner;
    char *region, *connection;
    lb_http_call_t req;
} token_request_t;

static void forget_request(apidest_t *a, const char *key)
{
    for (size_t i = 0; i < a->n_token_requests; i++)
        if (strcmp(a->token_requests[i], key) == 0) {
            free(a->token_requests[i]);
            a->token_requests[i] = a->token_requests[--a->n_token_requests];
            return;
        }
}

/* Milliseconds from now until a token expires, from the answer's expires_in (seconds); 0 when
 * absent or not a usable number (negative, huge, not finite): such a token is kept until a call
 * with it fails or the connection changes. */
static int64_t lifetime_ms(const lb_json_t *expires_in)
{
    if (!lb_json_is(expires_in, LB_JSON_NUMBER)) return 0;
    double s = expires_in->num;
    if (!isfinite(s) || s <= 0 || s > TOKEN_MAX_LIFETIME_S) return 0;
    return (int64_t)(s * 1000.0);
}

static void token_answered(void *arg, const lb_http_result_t *r)
{
    token_request_t *t = arg;
    apidest_t *a = t->owner;
    char key[512];
    snprintf(key, sizeof key, "%s\n%s", t->region, t->connection);
    forget_request(a, key);
    lb_json_doc_t *doc = NULL;
    const char *token = NULL;
    int64_t until = 0;
    if (r->answered && r->status >= 200 && r->status < 300 &&
        lb_json_parse(r->body, r->body_len, LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) == 0) {
        const lb_json_t *root = lb_json_doc_root(doc);
        token = lb_json_get_str(root, "access_token");
        int64_t life = lifetime_ms(lb_json_get(root, "expires_in"));
        until = life ? lb_now_ms() + life : 0;
    }
    if (!r->aborted) {
        lb_connections_oauth_set_token(conns(a), t->region, t->connection, token, until);
        if (token)
            lb_logf_info(a->env.log, "OAuth token obtained",
                         LB_LOG_STR("connection", t->connection));
        else
            lb_logf_warn(a->env.log, "OAuth token request failed; connection deauthorized",
                         LB_LOG_STR("connection", t->connection),
                         LB_LOG_INT("status", r->answered ? r->status : 0),
                         LB_LOG_STR("error", r->answered ? r->body : r->error));
    }
    lb_json_doc_free(&doc);
    lb_http_call_clear(&t->req);
    free(t->region);
    free(t->connection);
    free(t);
}

static int request_token(const char *region, const char *name, void *ctx)
{
    apidest_t *a = ctx;
    char key[512];
    snprintf(key, sizeof key, "%s\n%s", region, name);
    for (size_t i = 0; i < a->n_token_requests; i++)
        if (strcmp(a->token_requests[i], key) == 0) return 0;
    token_request_t *t = lb_xcalloc(1, sizeof *t);
    if (lb_connections_oauth_request(conns(a), region, name, &t->req)) {
        free(t);
        return 0;
    }
    t->owner = a;
    t->region = lb_strdup(region);
    t->connection = lb_strdup(name);
    uint64_t timeout = lb_config_settings(a->env.config)->delivery_timeout_ms;
    if (lb_transport_send(a->env.transport, &t->req, timeout, token_answered, t)) {
        lb_http_call_clear(&t->req);
        free(t->region);
        free(t->connection);
        free(t);
        return 0;
    }
    a->token_requests =
        lb_xrealloc(a->token_requests, (a->n_token_requests + 1) * sizeof *a->token_requests);
    a->token_requests[a->n_token_requests++] = lb_strdup(key);
    return 0;
}

static void refresh_tokens(apidest_t *a)
{
    if (!a->stopped) lb_connections_oauth_due(conns(a), lb_now_ms(), request_token, a);
}

static void on_token_timer(uv_timer_t *timer)
{
    refresh_tokens(timer->data);
}

/* ---- sending ---- */

/* The target's HttpParameters, compiled at PutTargets: the live target's when it is still the
 * one this delivery was made for (the common case: no parse), else compiled from the definition
 * the delivery carries (the target changed or went away since the event matched). *owned is
 * what the caller must free. */
static const lb_http_params_t *http_parameters(const apidest_t *a, const lb_delivery_t *d,
                                               lb_http_params_t **owned)
{
    *owned = NULL;
    const lb_rule_t *rule =
        lb_rules_find(lb_engine_rules(a->env.engine), d->region, d->bus, d->rule);
    for (size_t i = 0; rule && i < rule->n_targets; i++) {
        const lb_target_t *t = &rule->targets[i];
        if (strcmp(t->id, d->target_id) == 0 && strcmp(t->json, d->target_json) == 0)
            return t->http_params;
    }
    lb_json_doc_t *doc;
    if (lb_json_parse(d->target_json, strlen(d->target_json), LB_JSON_REQUEST_MAX_DEPTH, &doc,
                      NULL) == 0) {
        lb_http_params_compile(lb_json_get(lb_json_doc_root(doc), "HttpParameters"), owned);
        lb_json_doc_free(&doc);
    }
    return *owned;
}

static void fail(lb_delivery_t *d, lb_send_done_fn done, void *ctx, const char *code,
                 const char *message)
{
    lb_send_result_t r = {
        .outcome = LB_ATTEMPT_PERMANENT, .error_code = code, .error_message = message};
    done(ctx, d, &r);
}

static void apidest_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    apidest_t *a = self;
    int64_t now = lb_now_ms();
    lb_arn_t arn;
    lb_arn_parse(d->target_arn, &arn);
    int64_t wait = lb_apidest_rate_take(conns(a), arn.region, d->target_arn, now);
    if (wait > 0) {
        lb_send_result_t r = {.wait_ms = wait};
        done(ctx, d, &r);
        return;
    }
    lb_http_call_t req = {0};
    lb_http_params_t *owned;
    const lb_http_params_t *params = http_parameters(a, d, &owned);
    int rc = lb_apidest_prepare(conns(a), arn.region, d->target_arn, params, d->body, &req);
    lb_http_params_free(&owned);
    if (rc == 0) {
        lb_target_http_send(a->env.transport,
                            lb_config_settings(a->env.config)->delivery_timeout_ms, &req, d, done,
                            ctx);
    } else if (rc == -EAGAIN) {
        /* An OAuth connection still waiting for its token: not an attempt. */
        refresh_tokens(a);
        lb_send_result_t r = {.wait_ms = 1000};
        done(ctx, d, &r);
    } else {
        char message[2200];
        int deauthorized = rc == LB_EINVALID;
        snprintf(message, sizeof message,
                 deauthorized ? "The connection of API destination %.1600s is deauthorized."
                              : "API destination %.1600s or its connection does not exist.",
                 d->target_arn);
        fail(d, done, ctx, deauthorized ? "CONNECTION_DEAUTHORIZED" : "RESOURCE_NOT_FOUND",
             message);
    }
}

/* ---- lifecycle ---- */

static void release(apidest_t *a)
{
    for (size_t i = 0; i < a->n_token_requests; i++)
        free(a->token_requests[i]);
    free(a->token_requests);
    free(a);
}

static void on_timer_closed(uv_handle_t *h)
{
    apidest_t *a = h->data;
    a->closed = 1;
    if (a->free_requested) release(a);
}

static void apidest_stop(void *self)
{
    apidest_t *a = self;
    if (a->stopped) return;
    a->stopped = 1;
    uv_timer_stop(&a->token_timer);
    uv_close((uv_handle_t *)&a->token_timer, on_timer_closed);
}

static void free_apidest(void *self)
{
    apidest_t *a = self;
    apidest_stop(a);
    a->free_requested = 1;
    if (a->closed) release(a);
}

lb_adapter_t *lb_target_apidest_new(const lb_adapter_env_t *env)
{
    apidest_t *a = lb_xcalloc(1, sizeof *a);
    a->env = *env;
    a->adapter = (lb_adapter_t){.name = "api-destination",
                                .self = a,
                                .accepts = apidest_accepts,
                                .send = apidest_send,
                                .stop = apidest_stop,
                                .free = free_apidest};
    uv_timer_init(env->loop, &a->token_timer);
    a->token_timer.data = a;
    uv_timer_start(&a->token_timer, on_token_timer, 0, TOKEN_CHECK_MS);
    return &a->adapter;
}

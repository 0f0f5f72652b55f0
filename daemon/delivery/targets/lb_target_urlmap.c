#include "lb_target_urlmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_target_http.h"
#include "lb_util.h"

typedef struct {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
} urlmap_t;

static int urlmap_accepts(void *self, const char *arn)
{
    urlmap_t *u = self;
    const char *url;
    return lb_config_map_target(u->env.config, arn, &url) == 0;
}

static uint64_t timeout_ms(const urlmap_t *u)
{
    return lb_config_settings(u->env.config)->delivery_timeout_ms;
}

static void urlmap_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    urlmap_t *u = self;
    const char *url;
    if (lb_config_map_target(u->env.config, d->target_arn, &url)) {
        /* The mapping went away (SIGHUP) between the choice and the send. */
        lb_send_result_t r = {.outcome = LB_ATTEMPT_PERMANENT,
                              .error_code = "NO_RESOURCE",
                              .error_message = "The target_map line for this target was removed."};
        done(ctx, d, &r);
        return;
    }
    lb_http_call_t req = {.method = lb_strdup("POST"),
                          .url = lb_strdup(url),
                          .headers = lb_target_http_headers(NULL)};
    lb_target_http_send(u->env.transport, timeout_ms(u), &req, d, done, ctx);
}

typedef struct {
    lb_http_call_t req;
    lb_text_t *body;
} dead_letter_t;

static void dead_letter_sent(void *arg, const lb_http_result_t *r)
{
    (void)r; /* one attempt: the local dead-letter store has it either way */
    dead_letter_t *dl = arg;
    lb_http_call_clear(&dl->req);
    lb_text_unref(&dl->body);
    free(dl);
}

static char *header(const char *name, const char *value)
{
    lb_buf_t b = {0};
    lb_buf_printf(&b, "X-EventBridge-%s: %.1024s", name, value ? value : "");
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\r' || b.data[i] == '\n') b.data[i] = ' ';
    return lb_buf_steal(&b, NULL);
}

static void urlmap_send_dead_letter(void *self, const char *dlq_arn, const lb_dead_letter_msg_t *m)
{
    urlmap_t *u = self;
    const char *url;
    if (lb_config_map_target(u->env.config, dlq_arn, &url)) return;
    const lb_delivery_t *x = m->delivery;
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d", m->retry_attempts);
    dead_letter_t *dl = lb_xcalloc(1, sizeof *dl);
    char **h = lb_xcalloc(8, sizeof *h);
    h[0] = lb_strdup("Content-Type: application/json; charset=utf-8");
    h[1] = header("ERROR_CODE", m->error_code);
    h[2] = header("ERROR_MESSAGE", m->error_message);
    h[3] = header("EXHAUSTED_RETRY_CONDITION", m->exhausted);
    h[4] = header("RETRY_ATTEMPTS", attempts);
    h[5] = header("RULE_ARN", m->rule_arn);
    h[6] = header("TARGET_ARN", x->target_arn);
    dl->req = (lb_http_call_t){.method = lb_strdup("POST"), .url = lb_strdup(url), .headers = h};
    dl->body = lb_text_ref(x->body_text);
    lb_http_call_t view = dl->req;
    view.body = (char *)x->body;
    if (lb_transport_send(u->env.transport, &view, timeout_ms(u), dead_letter_sent, dl))
        dead_letter_sent(dl, NULL);
}

static void urlmap_stop(void *self)
{
    (void)self; /* its sends belong to the shared transport, which the dispatcher stops */
}

static void free_urlmap(void *self)
{
    free(self);
}

lb_adapter_t *lb_target_urlmap_new(const lb_adapter_env_t *env)
{
    urlmap_t *u = lb_xcalloc(1, sizeof *u);
    u->env = *env;
    u->adapter = (lb_adapter_t){.name = "url-map",
                                .self = u,
                                .accepts = urlmap_accepts,
                                .send = urlmap_send,
                                .send_dead_letter = urlmap_send_dead_letter,
                                .stop = urlmap_stop,
                                .free = free_urlmap};
    return &u->adapter;
}

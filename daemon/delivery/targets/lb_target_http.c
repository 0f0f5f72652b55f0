#include "lb_target_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

typedef struct {
    lb_http_call_t req;
    lb_delivery_t *delivery;
    lb_send_done_fn done;
    void *ctx;
} attempt_t;

void lb_target_http_classify(const lb_http_result_t *r, lb_send_result_t *res, char *message,
                             size_t n)
{
    *res = (lb_send_result_t){
        .outcome = LB_ATTEMPT_OK, .aborted = r->aborted, .http_status = r->status};
    if (r->answered) {
        res->outcome = lb_retry_classify_http(r->status);
        res->error_code = r->status == 429   ? "THROTTLING"
                          : r->status >= 500 ? "TARGET_SERVER_ERROR"
                                             : "TARGET_CLIENT_ERROR";
        snprintf(message, n, "Target answered HTTP %ld: %s", r->status, r->body);
    } else {
        res->outcome = LB_ATTEMPT_RETRYABLE;
        res->error_code = r->timed_out ? "TIMEOUT" : "CONNECTION_ERROR";
        snprintf(message, n, "%s", r->error ? r->error : "no answer");
    }
    res->error_message = message;
}

static void on_answer(void *arg, const lb_http_result_t *r)
{
    attempt_t *a = arg;
    char message[LB_TRANSPORT_KEEP + 128];
    lb_send_result_t res;
    lb_target_http_classify(r, &res, message, sizeof message);
    a->done(a->ctx, a->delivery, &res);
    lb_http_call_clear(&a->req);
    free(a);
}

void lb_target_http_send(lb_transport_t *t, uint64_t timeout_ms, lb_http_call_t *req,
                         lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    attempt_t *a = lb_xcalloc(1, sizeof *a);
    a->req = *req;
    memset(req, 0, sizeof *req);
    a->delivery = d;
    a->done = done;
    a->ctx = ctx;
    lb_http_call_t view = a->req;
    if (!view.body) view.body = (char *)d->body;
    if (lb_transport_send(t, &view, timeout_ms, on_answer, a) == 0) return;
    lb_send_result_t res = {.outcome = LB_ATTEMPT_RETRYABLE,
                            .error_code = "INTERNAL_ERROR",
                            .error_message = "The HTTP request could not be started."};
    done(ctx, d, &res);
    lb_http_call_clear(&a->req);
    free(a);
}

char **lb_target_http_headers(const char *extra)
{
    char **h = lb_xcalloc(4, sizeof *h);
    h[0] = lb_strdup("Content-Type: application/json; charset=utf-8");
    h[1] = lb_strdup("User-Agent: LocalBridge/" LB_VERSION);
    if (extra) h[2] = lb_strdup(extra);
    return h;
}

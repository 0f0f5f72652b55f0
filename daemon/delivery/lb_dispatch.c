#include "lb_dispatch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lb_curl.h"
#include "lb_dqueue.h"
#include "lb_json.h"
#include "lb_retry.h"
#include "lb_targets.h"

/* Bytes of a target's answer kept for logs and dead letters. */
#define KEEP_RESPONSE 1024

typedef enum { XFER_DELIVERY, XFER_OAUTH, XFER_DLQ } xfer_kind_t;

/* One curl transfer. */
typedef struct xfer {
    struct xfer *prev, *next; /* the dispatcher's list of transfers under way */
    xfer_kind_t kind;
    lb_dispatch_t *dispatch;
    CURL *easy;
    struct curl_slist *headers;
    lb_delivery_t *delivery;               /* XFER_DELIVERY */
    char *oauth_region, *oauth_connection; /* XFER_OAUTH */
    lb_buf_t response;
    char curl_error[CURL_ERROR_SIZE];
} xfer_t;

struct lb_dispatch {
    lb_dispatch_env_t env;
    lb_dqueue_t *queue; /* scheduled, parked and in-flight accounting */
    /* The backlog beyond delivery_resident_max stays in the store. Every pending delivery with
     * seq <= paged_to is in memory or being recorded; while `spilled`, those above it are only
     * in the store and are paged in, in seq order, as memory frees up. */
    int64_t paged_to;
    int spilled;
    size_t paged_total;
    lb_curl_t *curl;
    struct xfer *xfers;
    uv_timer_t wake_timer;
    uv_timer_t oauth_timer;
    size_t outcomes_pending; /* writer jobs still to complete */
    char **oauth_inflight;   /* "region\nname" of token requests under way */
    size_t n_oauth;
    int stopping;
    int handles_open;
    int free_requested; /* freed once its timers are closed */
};

static const struct lb_settings *settings(const lb_dispatch_t *d)
{
    return lb_config_settings(d->env.config);
}

static uint32_t random32(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r) r = (uint32_t)lb_now_ms();
    return r;
}

static void pump(lb_dispatch_t *d);
static void page_in(lb_dispatch_t *d);

/* Counts a send to x's target in (+1) or out (-1). */
static void target_inflight(lb_dispatch_t *d, const lb_delivery_t *x, int delta)
{
    if (delta > 0)
        lb_dqueue_started(d->queue, x);
    else
        lb_dqueue_finished(d->queue, x->target_arn);
}

static size_t per_target_cap(const lb_dispatch_t *d)
{
    size_t cap = (size_t)lb_config_settings(d->env.config)->delivery_concurrency / 2;
    return cap ? cap : 1;
}

/* ---- recording outcomes ---- */

typedef enum { OUT_DELETE, OUT_RESCHEDULE, OUT_KILL } outcome_op_t;

typedef struct {
    lb_dispatch_t *dispatch;
    outcome_op_t op;
    int64_t seq;
    int attempts;
    int64_t next_ms, now_ms;
    char *error_code, *error_message;
    const char *exhausted;
    lb_delivery_t *dead; /* OUT_KILL: kept to forward to a mapped DLQ after the commit */
} outcome_t;

static int outcome_txn(lb_store_t *store, void *arg)
{
    outcome_t *o = arg;
    switch (o->op) {
    case OUT_DELETE:
        return lb_delivery_delete(store, o->seq);
    case OUT_RESCHEDULE:
        return lb_delivery_reschedule(store, o->seq, o->attempts, o->next_ms, o->error_code,
                                      o->error_message);
    case OUT_KILL:
        return lb_delivery_kill(store, o->seq, o->attempts, o->error_code, o->error_message,
                                o->exhausted, o->now_ms);
    }
    return -1;
}

static void send_to_dlq(lb_dispatch_t *d, const outcome_t *o);

static void outcome_done(void *data, int rc)
{
    outcome_t *o = data;
    lb_dispatch_t *d = o->dispatch;
    d->outcomes_pending--;
    if (rc)
        lb_log_error(d->env.log, "could not record a delivery outcome; it will be resent",
                     "seq=%lld", (long long)o->seq);
    else if (o->op == OUT_KILL && o->dead && o->dead->dlq_arn && !d->stopping)
        send_to_dlq(d, o);
    lb_delivery_free(&o->dead);
    free(o->error_code);
    free(o->error_message);
    free(o);
}

static void record(lb_dispatch_t *d, outcome_t *o)
{
    o->dispatch = d;
    d->outcomes_pending++;
    if (lb_writer_submit(d->env.writer, outcome_txn, o, outcome_done, o)) outcome_done(o, -1);
}

/* One attempt of delivery x ended. Takes ownership of x. */
static void finish_attempt(lb_dispatch_t *d, lb_delivery_t *x, lb_attempt_t outcome,
                           const char *code, const char *message)
{
    const struct lb_settings *cfg = settings(d);
    lb_metrics_t *m = d->env.metrics;
    int64_t now = lb_now_ms();
    x->attempts++;
    outcome_t *o = lb_xcalloc(1, sizeof *o);
    o->seq = x->seq;
    o->attempts = x->attempts;
    o->now_ms = now;
    if (outcome == LB_ATTEMPT_OK) {
        lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_INVOCATIONS, 1);
        lb_metrics_latency(m, (double)(now - x->ingested_ms) / 1000.0);
        o->op = OUT_DELETE;
        lb_log_debug(d->env.log, "delivered", "event=%s rule=%s target=%s attempts=%d", x->event_id,
                     x->rule, x->target_id, x->attempts);
        lb_delivery_free(&x);
        record(d, o);
        return;
    }
    lb_retry_decision_t dec;
    lb_retry_decide(outcome, x->attempts, x->max_retries, x->age_base_ms, x->max_age_s, now,
                    (int64_t)cfg->retry_base_delay_ms, (int64_t)cfg->retry_max_delay_ms, random32(),
                    &dec);
    o->error_code = lb_strdup(code);
    o->error_message = lb_strdup(message);
    if (!dec.dead) {
        lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_RETRY_INVOCATION_ATTEMPTS, 1);
        o->op = OUT_RESCHEDULE;
        o->next_ms = x->next_ms = dec.next_ms;
        lb_log_debug(d->env.log, "delivery failed; will retry",
                     "event=%s rule=%s target=%s attempts=%d in_ms=%lld error=%s", x->event_id,
                     x->rule, x->target_id, x->attempts, (long long)(dec.next_ms - now), code);
        lb_dqueue_push(d->queue, x);
        record(d, o);
        return;
    }
    lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_INVOCATIONS, 1);
    lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_FAILED_INVOCATIONS, 1);
    lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_DEAD_LETTER_INVOCATIONS, 1);
    lb_log_warn(d->env.log, "delivery dead-lettered",
                "event=%s rule=%s target=%s attempts=%d error=%s exhausted=%s", x->event_id,
                x->rule, x->target_id, x->attempts, code, dec.exhausted ? dec.exhausted : "none");
    o->op = OUT_KILL;
    o->exhausted = dec.exhausted;
    o->dead = x;
    record(d, o);
}

/* ---- transfers ---- */

static size_t keep_response(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer_t *t = userdata;
    size_t n = size * nmemb;
    if (t->response.len < KEEP_RESPONSE)
        lb_buf_append(&t->response, ptr,
                      n < KEEP_RESPONSE - t->response.len ? n : KEEP_RESPONSE - t->response.len);
    return n;
}

static void xfer_free(xfer_t *t)
{
    lb_dispatch_t *d = t->dispatch;
    if (t->prev)
        t->prev->next = t->next;
    else if (d->xfers == t)
        d->xfers = t->next;
    if (t->next) t->next->prev = t->prev;
    if (t->easy) curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    lb_delivery_free(&t->delivery);
    free(t->oauth_region);
    free(t->oauth_connection);
    lb_buf_free(&t->response);
    free(t);
}

static xfer_t *xfer_new(lb_dispatch_t *d, xfer_kind_t kind, const lb_http_call_t *req)
{
    xfer_t *t = lb_xcalloc(1, sizeof *t);
    t->kind = kind;
    t->dispatch = d;
    t->easy = curl_easy_init();
    if (!t->easy) {
        free(t);
        return NULL;
    }
    for (char **h = req->headers; h && *h; h++)
        t->headers = curl_slist_append(t->headers, *h);
    /* curl adds "Expect: 100-continue" to large POSTs; targets should not wait a second. */
    t->headers = curl_slist_append(t->headers, "Expect:");
    curl_easy_setopt(t->easy, CURLOPT_URL, req->url);
    curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        curl_easy_setopt(t->easy, CURLOPT_COPYPOSTFIELDS, req->body);
    if (strcmp(req->method, "HEAD") == 0) curl_easy_setopt(t->easy, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)settings(d)->delivery_timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)settings(d)->delivery_timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, keep_response);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->curl_error);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    t->next = d->xfers;
    if (d->xfers) d->xfers->prev = t;
    d->xfers = t;
    return t;
}

static void delivery_transfer_done(lb_dispatch_t *d, xfer_t *t, CURLcode result)
{
    lb_delivery_t *x = t->delivery;
    t->delivery = NULL;
    target_inflight(d, x, -1);
    long status = 0;
    char message[KEEP_RESPONSE + 128];
    const char *code;
    lb_attempt_t outcome;
    if (result == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        outcome = lb_retry_classify_http(status);
        code = status == 429   ? "THROTTLING"
               : status >= 500 ? "TARGET_SERVER_ERROR"
                               : "TARGET_CLIENT_ERROR";
        snprintf(message, sizeof message, "Target answered HTTP %ld: %s", status,
                 t->response.data ? t->response.data : "");
    } else {
        outcome = LB_ATTEMPT_RETRYABLE;
        code = result == CURLE_OPERATION_TIMEDOUT ? "TIMEOUT" : "CONNECTION_ERROR";
        snprintf(message, sizeof message, "%s",
                 t->curl_error[0] ? t->curl_error : curl_easy_strerror(result));
    }
    finish_attempt(d, x, outcome, code, message);
}

/* The longest token lifetime believed from an OAuth server's expires_in. */
#define OAUTH_EXPIRES_MAX_S (365.0 * 24 * 3600)

/* When a token with this expires_in (seconds) expires, or 0 (no expiry known) if it is absent,
 * not a number or not positive. A server may send anything, such as 1e400: the value is clamped
 * to [1 s, OAUTH_EXPIRES_MAX_S] before it becomes an integer, because converting a double
 * outside int64_t's range is undefined behaviour. */
static int64_t token_expiry_ms(const lb_json_t *expires_in, int64_t now_ms)
{
    if (!lb_json_is(expires_in, LB_JSON_NUMBER) || !(expires_in->num > 0)) return 0;
    double s = expires_in->num;
    if (s < 1.0) s = 1.0;
    if (s > OAUTH_EXPIRES_MAX_S) s = OAUTH_EXPIRES_MAX_S;
    return now_ms + (int64_t)(s * 1000.0);
}

static void oauth_transfer_done(lb_dispatch_t *d, xfer_t *t, CURLcode result)
{
    long status = 0;
    char key[256];
    snprintf(key, sizeof key, "%s\n%s", t->oauth_region, t->oauth_connection);
    for (size_t i = 0; i < d->n_oauth; i++)
        if (strcmp(d->oauth_inflight[i], key) == 0) {
            free(d->oauth_inflight[i]);
            d->oauth_inflight[i] = d->oauth_inflight[--d->n_oauth];
            break;
        }
    if (result == CURLE_OK) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    lb_json_doc_t *answer = NULL;
    if (status >= 200 && status < 300 && t->response.data)
        lb_json_parse(t->response.data, t->response.len, LB_JSON_REQUEST_MAX_DEPTH, &answer, NULL);
    const lb_json_t *root = lb_json_doc_root(answer);
    const char *token = lb_json_get_str(root, "access_token");
    lb_connections_t *conns = lb_engine_connections(d->env.engine);
    if (token) {
        int64_t until = token_expiry_ms(lb_json_get(root, "expires_in"), lb_now_ms());
        lb_connections_oauth_set_token(conns, t->oauth_region, t->oauth_connection, token, until);
        lb_log_info(d->env.log, "OAuth token obtained", "connection=%s", t->oauth_connection);
    } else {
        lb_connections_oauth_set_token(conns, t->oauth_region, t->oauth_connection, NULL, 0);
        lb_log_warn(d->env.log, "OAuth token request failed; connection deauthorized",
                    "connection=%s status=%ld", t->oauth_connection, status);
    }
    lb_json_doc_free(&answer);
}

/* A curl transfer ended: hand it to its kind's completion. */
static void on_transfer_done(CURL *easy, CURLcode result, void *ctx)
{
    lb_dispatch_t *d = ctx;
    xfer_t *t;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    if (t->kind == XFER_DELIVERY)
        delivery_transfer_done(d, t, result);
    else if (t->kind == XFER_OAUTH)
        oauth_transfer_done(d, t, result);
    xfer_free(t);
}

static void on_transfers_done(void *ctx)
{
    pump(ctx);
}

static void dispatch_release(lb_dispatch_t *d);

static void on_handle_closed(uv_handle_t *h)
{
    lb_dispatch_t *d = h->data;
    if (--d->handles_open == 0 && d->free_requested) dispatch_release(d);
}

/* ---- OAuth tokens ---- */

static int start_oauth(const char *region, const char *name, void *ctx)
{
    lb_dispatch_t *d = ctx;
    char key[256];
    snprintf(key, sizeof key, "%s\n%s", region, name);
    for (size_t i = 0; i < d->n_oauth; i++)
        if (strcmp(d->oauth_inflight[i], key) == 0) return 0;
    lb_http_call_t req = {0};
    if (lb_connections_oauth_request(lb_engine_connections(d->env.engine), region, name, &req))
        return 0;
    xfer_t *t = xfer_new(d, XFER_OAUTH, &req);
    lb_http_call_clear(&req);
    if (!t) return 0;
    t->oauth_region = lb_strdup(region);
    t->oauth_connection = lb_strdup(name);
    d->oauth_inflight = lb_xrealloc(d->oauth_inflight, (d->n_oauth + 1) * sizeof(char *));
    d->oauth_inflight[d->n_oauth++] = lb_strdup(key);
    lb_curl_add(d->curl, t->easy);
    return 0;
}

static void refresh_tokens(lb_dispatch_t *d)
{
    lb_connections_oauth_due(lb_engine_connections(d->env.engine), lb_now_ms(), start_oauth, d);
}

static void on_oauth_timer(uv_timer_t *timer)
{
    refresh_tokens(timer->data);
}

/* ---- event-bus targets ---- */

typedef struct {
    lb_dispatch_t *dispatch;
    lb_delivery_t *delivery;
    lb_call_t call;
} bus_forward_t;

static void bus_forward_finish(lb_dispatch_t *d, bus_forward_t *f)
{
    target_inflight(d, f->delivery, -1);
    lb_call_t *call = &f->call;
    lb_attempt_t outcome = LB_ATTEMPT_OK;
    char message[512] = "";
    const char *code = "OK";
    if (call->status >= 500) {
        outcome = LB_ATTEMPT_RETRYABLE;
        code = "INTERNAL_ERROR";
    } else if (call->status != 200 || strstr(call->body.data, "\"FailedEntryCount\":0") == NULL) {
        outcome = LB_ATTEMPT_PERMANENT;
        code = call->status == 200 ? "INVALID_EVENT" : "RESOURCE_NOT_FOUND";
    }
    if (outcome != LB_ATTEMPT_OK)
        snprintf(message, sizeof message, "PutEvents to the target bus answered %d: %.400s",
                 call->status, call->body.data ? call->body.data : "");
    finish_attempt(d, f->delivery, outcome, code, message);
    lb_call_clear(call);
    free(f);
}

static void bus_forward_committed(void *data, int rc)
{
    bus_forward_t *f = data;
    lb_call_complete(&f->call, rc);
    bus_forward_finish(f->dispatch, f);
}

/* The target receives the event as a PutEvents entry on its bus, as EventBridge forwards it:
 * source, detail-type, detail, resources and time kept; a new id. */
static void forward_to_bus(lb_dispatch_t *d, lb_delivery_t *x, const lb_route_t *route)
{
    bus_forward_t *f = lb_xcalloc(1, sizeof *f);
    f->dispatch = d;
    f->delivery = x;
    target_inflight(d, x, +1);
    /* The body is an event; one nested deeper than an event may be is no event, and the
     * PutEvents below refuses the entry for lack of a Source. */
    lb_json_doc_t *event = NULL;
    lb_json_parse(x->body, x->body_len, LB_JSON_EVENT_MAX_DEPTH + 1, &event, NULL);
    const lb_json_t *ev = lb_json_doc_root(event);
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_t *entries = lb_json_add(doc, req, "Entries", lb_json_new(doc, LB_JSON_ARRAY));
    lb_json_t *entry = lb_json_add(doc, entries, NULL, lb_json_new(doc, LB_JSON_OBJECT));
    const char *copy[][2] = {{"source", "Source"}, {"detail-type", "DetailType"}, {"time", "Time"}};
    for (size_t i = 0; i < 3; i++) {
        const lb_json_t *v = lb_json_get(ev, copy[i][0]);
        if (lb_json_is(v, LB_JSON_STRING))
            lb_json_add(doc, entry, copy[i][1], lb_json_new_string(doc, v->str, v->len));
    }
    const lb_json_t *detail = lb_json_get(ev, "detail");
    if (detail) {
        size_t detail_len;
        char *detail_text = lb_json_print(detail, &detail_len);
        lb_json_add(doc, entry, "Detail", lb_json_new_string(doc, detail_text, detail_len));
        free(detail_text);
    }
    const lb_json_t *resources = lb_json_get(ev, "resources");
    if (lb_json_is(resources, LB_JSON_ARRAY))
        lb_json_add(doc, entry, "Resources", lb_json_copy(doc, resources));
    lb_json_add_str(doc, entry, "EventBusName", route->bus_name);
    size_t body_len;
    char *body = lb_json_print(req, &body_len);
    lb_json_doc_free(&doc);
    lb_json_doc_free(&event);

    lb_call_t *call = &f->call;
    snprintf(call->region, sizeof call->region, "%s", route->bus_region);
    call->account_id = settings(d)->account_id;
    call->now_ms = lb_now_ms();
    lb_uuid_v4(call->request_id);
    lb_api_handle(d->env.api, call, "AWSEvents.PutEvents", NULL, body, body_len);
    free(body);
    if (call->txn) {
        if (lb_writer_submit(d->env.writer, call->txn, call->arg, bus_forward_committed, f) == 0)
            return;
        lb_call_complete(call, LB_ESTORE);
    }
    bus_forward_finish(d, f);
}

/* ---- dead-letter queues ---- */

/* A target's DeadLetterConfig queue, when mapped to a local URL, receives the event with AWS's
 * DLQ message attributes as headers. One attempt: the local dead-letter store keeps it anyway. */
static void send_to_dlq(lb_dispatch_t *d, const outcome_t *o)
{
    const char *url;
    const lb_delivery_t *x = o->dead;
    if (lb_config_map_target(d->env.config, x->dlq_arn, &url)) return;
    char rule_arn[2048], h[6][2200];
    lb_rule_arn(x->region, settings(d)->account_id, x->bus, x->rule, rule_arn, sizeof rule_arn);
    snprintf(h[0], sizeof h[0], "X-EventBridge-ERROR_CODE: %s", o->error_code);
    snprintf(h[1], sizeof h[1], "X-EventBridge-ERROR_MESSAGE: %.1024s", o->error_message);
    snprintf(h[2], sizeof h[2], "X-EventBridge-EXHAUSTED_RETRY_CONDITION: %s",
             o->exhausted ? o->exhausted : "");
    snprintf(h[3], sizeof h[3], "X-EventBridge-RETRY_ATTEMPTS: %d", o->attempts - 1);
    snprintf(h[4], sizeof h[4], "X-EventBridge-RULE_ARN: %s", rule_arn);
    snprintf(h[5], sizeof h[5], "X-EventBridge-TARGET_ARN: %s", x->target_arn);
    for (size_t i = 0; i < 6; i++)
        for (char *p = h[i]; *p; p++)
            if (*p == '\r' || *p == '\n') *p = ' ';
    char *headers[] = {
        "Content-Type: application/json; charset=utf-8", h[0], h[1], h[2], h[3], h[4], h[5], NULL};
    lb_http_call_t req = {
        .method = "POST", .url = (char *)url, .headers = headers, .body = x->body};
    xfer_t *t = xfer_new(d, XFER_DLQ, &req);
    if (t) lb_curl_add(d->curl, t->easy);
}

/* ---- scheduling ---- */

static void on_wake(uv_timer_t *timer)
{
    pump(timer->data);
}

static void start_delivery(lb_dispatch_t *d, lb_delivery_t *x, int64_t now)
{
    lb_route_t route;
    lb_target_route(d->env.config, lb_engine_connections(d->env.engine), x, now, &route);
    switch (route.kind) {
    case LB_ROUTE_HTTP: {
        xfer_t *t = xfer_new(d, XFER_DELIVERY, &route.req);
        if (!t) {
            finish_attempt(d, x, LB_ATTEMPT_RETRYABLE, "INTERNAL_ERROR", "curl_easy_init failed");
            break;
        }
        t->delivery = x;
        target_inflight(d, x, +1);
        lb_curl_add(d->curl, t->easy);
        break;
    }
    case LB_ROUTE_BUS:
        forward_to_bus(d, x, &route);
        break;
    case LB_ROUTE_WAIT:
        lb_metrics_rule_add(d->env.metrics, x->region, x->bus, x->rule, LB_M_THROTTLED_RULES, 1);
        x->next_ms = now + route.wait_ms;
        lb_dqueue_push(d->queue, x);
        refresh_tokens(d);
        break;
    case LB_ROUTE_FAIL:
        finish_attempt(d, x, LB_ATTEMPT_PERMANENT, route.error_code, route.error_message);
        break;
    }
    lb_route_clear(&route);
}

static void pump(lb_dispatch_t *d)
{
    if (d->stopping) return;
    page_in(d);
    const struct lb_settings *cfg = settings(d);
    int64_t now = lb_now_ms();
    lb_delivery_t *x;
    while (cfg->delivery_enabled &&
           lb_dqueue_inflight(d->queue) < (size_t)cfg->delivery_concurrency &&
           (x = lb_dqueue_pop_due(d->queue, now, per_target_cap(d))) != NULL)
        start_delivery(d, x, now);
    int64_t next = lb_dqueue_next_due(d->queue);
    if (next >= 0 && cfg->delivery_enabled) {
        int64_t wait = next - now;
        /* When the concurrency limit holds deliveries back, a finishing transfer pumps again. */
        if (lb_dqueue_inflight(d->queue) >= (size_t)cfg->delivery_concurrency) return;
        uv_timer_start(&d->wake_timer, on_wake, wait > 0 ? (uint64_t)wait : 0, 0);
    } else {
        uv_timer_stop(&d->wake_timer);
    }
}

void lb_dispatch_add(lb_dispatch_t *d, lb_delivery_t *x)
{
    if (d->stopping) {
        lb_delivery_free(&x);
        return;
    }
    lb_dqueue_push(d->queue, x);
    /* Batch the scheduling of a burst: one pump per loop turn is enough. */
    if (!uv_is_active((uv_handle_t *)&d->wake_timer) || lb_dqueue_next_due(d->queue) == x->next_ms)
        uv_timer_start(&d->wake_timer, on_wake, 0, 0);
}

static size_t resident(const lb_dispatch_t *d)
{
    return lb_dqueue_waiting(d->queue) + lb_dqueue_inflight(d->queue);
}

static size_t resident_max(const lb_dispatch_t *d)
{
    return (size_t)settings(d)->delivery_resident_max;
}

/* A newly committed delivery: kept in memory unless the backlog is spilling to the store. */
static void admit(lb_dispatch_t *d, lb_delivery_t *x)
{
    if (x->seq <= d->paged_to) {
        /* Paging read it from the store before its commit was reported here. */
        lb_delivery_free(&x);
        return;
    }
    if (!d->spilled && resident(d) >= resident_max(d)) {
        d->spilled = 1;
        d->paged_to = x->seq - 1;
        lb_log_warn(d->env.log, "delivery backlog exceeds delivery_resident_max; paging it",
                    "resident=%zu", resident(d));
    }
    if (d->spilled) {
        lb_delivery_free(&x); /* it is in the store; paged in later */
        return;
    }
    lb_dispatch_add(d, x);
}

static int page_in_one(lb_delivery_t *x, void *ctx)
{
    lb_dispatch_t *d = ctx;
    d->paged_to = x->seq;
    d->paged_total++;
    lb_dqueue_push(d->queue, x);
    return 0;
}

/* Brings the next part of a spilled backlog into memory once half of it has room. */
static void page_in(lb_dispatch_t *d)
{
    size_t max = resident_max(d), now_resident = resident(d);
    if (!d->spilled || d->stopping || !d->env.reader || now_resident > max / 2) return;
    int limit = (int)(max - now_resident);
    size_t got = 0;
    if (lb_deliveries_pending_after(d->env.reader, d->paged_to, limit, page_in_one, d, &got)) {
        lb_log_error(d->env.log, "could not page in pending deliveries; will retry", "error=\"%s\"",
                     lb_store_errmsg(d->env.reader));
        return;
    }
    if (got)
        lb_log_debug(d->env.log, "paged in pending deliveries", "count=%zu up_to_seq=%lld", got,
                     (long long)d->paged_to);
    if (got < (size_t)limit) d->spilled = 0; /* caught up: new ones stay in memory again */
}

void lb_dispatch_hook(void *ctx, lb_delivery_t **ds, size_t n, const lb_rule_hit_t *hits,
                      size_t n_hits)
{
    lb_dispatch_t *d = ctx;
    for (size_t i = 0; i < n_hits; i++) {
        lb_metrics_rule_add(d->env.metrics, hits[i].region, hits[i].bus, hits[i].rule,
                            LB_M_TRIGGERED_RULES, 1);
        if (hits[i].first_for_event)
            lb_metrics_bus_matched(d->env.metrics, hits[i].region, hits[i].bus, 1);
    }
    for (size_t i = 0; i < n; i++)
        admit(d, ds[i]);
}

int lb_dispatch_start(const lb_dispatch_env_t *env, lb_dispatch_t **out)
{
    lb_dispatch_t *d = lb_xcalloc(1, sizeof *d);
    d->env = *env;
    lb_dqueue_new(&d->queue);
    if (lb_curl_new(env->loop, on_transfer_done, on_transfers_done, d, &d->curl)) {
        lb_dqueue_free(&d->queue);
        free(d);
        return -1;
    }
    uv_timer_init(env->loop, &d->wake_timer);
    uv_timer_init(env->loop, &d->oauth_timer);
    d->wake_timer.data = d->oauth_timer.data = d;
    d->handles_open = 2;
    /* Whatever the store holds pending (from before a restart) is a spilled backlog. */
    d->spilled = 1;
    d->paged_to = 0;
    uv_timer_start(&d->wake_timer, on_wake, 0, 0);
    uv_timer_start(&d->oauth_timer, on_oauth_timer, 0, 5000);
    *out = d;
    return 0;
}

void lb_dispatch_kick(lb_dispatch_t *d)
{
    if (!d->stopping) uv_timer_start(&d->wake_timer, on_wake, 0, 0);
}

size_t lb_dispatch_pending(const lb_dispatch_t *d)
{
    return lb_dqueue_waiting(d->queue);
}

size_t lb_dispatch_inflight(const lb_dispatch_t *d)
{
    return lb_dqueue_inflight(d->queue);
}

void lb_dispatch_stop(lb_dispatch_t *d)
{
    if (d->stopping) return;
    d->stopping = 1;
    /* Abort transfers: their deliveries stay pending in the store. */
    size_t n = 0;
    while (d->xfers) {
        xfer_t *t = d->xfers;
        lb_curl_remove(d->curl, t->easy);
        if (t->kind == XFER_DELIVERY) target_inflight(d, t->delivery, -1);
        xfer_free(t);
        n++;
    }
    lb_curl_close(d->curl);
    d->curl = NULL;
    uv_timer_stop(&d->wake_timer);
    uv_timer_stop(&d->oauth_timer);
    uv_close((uv_handle_t *)&d->wake_timer, on_handle_closed);
    uv_close((uv_handle_t *)&d->oauth_timer, on_handle_closed);
    lb_log_info(d->env.log, "dispatcher stopped", "aborted=%zu pending=%zu", n,
                lb_dqueue_waiting(d->queue));
}

static void dispatch_release(lb_dispatch_t *d)
{
    lb_dqueue_free(&d->queue);
    for (size_t i = 0; i < d->n_oauth; i++)
        free(d->oauth_inflight[i]);
    free(d->oauth_inflight);
    free(d);
}

void lb_dispatch_free(lb_dispatch_t **dp)
{
    lb_dispatch_t *d = *dp;
    if (!d) return;
    *dp = NULL;
    lb_dispatch_stop(d);
    d->free_requested = 1;
    if (d->handles_open == 0) dispatch_release(d);
}

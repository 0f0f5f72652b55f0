/* Forwarding to Amazon EventBridge. See lb_target_forward.h. */
#include "lb_target_forward.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_awscreds.h"
#include "lb_forward_pending.h"
#include "lb_putevents.h"
#include "lb_sigv4.h"
#include "lb_util.h"

/* No upstream success for this long while forwards wait: /health says the upstream is stuck. */
#define STUCK_AFTER_MS 15000
/* A PutEvents answer lists every entry; error messages included, 64 KiB is plenty for 10. */
#define ANSWER_MAX (64 * 1024)

typedef struct {
    lb_delivery_t *d;
    lb_send_done_fn done;
    void *ctx;
} item_t;

typedef struct fwd fwd_t;

/* One PutEvents in flight. */
typedef struct batch {
    fwd_t *owner;
    struct batch *prev, *next;
    item_t items[LB_PUTEVENTS_MAX_ENTRIES];
    size_t n;
    lb_http_call_t req;
} batch_t;

struct fwd {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
    lb_awscreds_t *creds;
    item_t *held; /* given by send() since the last flush */
    size_t n_held, cap_held;
    batch_t *inflight;
    lb_forward_pending_t *pending; /* every forward sent and not settled: seq -> ingested_ms */
    uint64_t forwarded, retried, failed, requests, request_failures;
    int64_t last_ok_ms, failing_since_ms;
    char last_error[512];
    int stopped;
};

static const struct lb_settings *settings(const fwd_t *f)
{
    return lb_config_settings(f->env.config);
}

/* Event-bus ARNs of another account, or of another region whose bus this daemon does not hold. */
static int forward_accepts(void *self, const char *arn)
{
    fwd_t *f = self;
    lb_arn_t p;
    if (lb_arn_parse(arn, &p) || strcmp(p.service, "events") != 0 ||
        strncmp(p.resource, "event-bus/", 10) != 0 || !p.resource[10])
        return 0;
    const struct lb_settings *cfg = settings(f);
    if (strcmp(p.account, cfg->account_id) != 0) return 1;
    if (strcmp(p.region, cfg->region) == 0) return 0;
    return lb_engine_bus_find(f->env.engine, p.region, p.resource + 10) == NULL;
}

/* ---- outcomes ---- */

static void failing(fwd_t *f, const char *why)
{
    int64_t now = lb_now_ms();
    if (!f->failing_since_ms) {
        f->failing_since_ms = now;
        lb_logf_warn(f->env.log, "forwarding to EventBridge is failing; retrying",
                     LB_LOG_STR("error", why));
    }
    /* /health shows the start of it; the log line above has it whole. */
    snprintf(f->last_error, sizeof f->last_error, "%.*s", (int)sizeof f->last_error - 1, why);
}

static void working(fwd_t *f)
{
    if (f->failing_since_ms)
        lb_logf_info(f->env.log, "forwarding to EventBridge works again",
                     LB_LOG_INT("failed_for_ms", lb_now_ms() - f->failing_since_ms));
    f->failing_since_ms = 0;
    f->last_ok_ms = lb_now_ms();
}

static void finish(fwd_t *f, item_t *it, lb_attempt_t outcome, const char *code,
                   const char *message)
{
    lb_send_result_t r = {.outcome = outcome, .error_code = code, .error_message = message};
    if (outcome == LB_ATTEMPT_OK) f->forwarded++;
    if (outcome == LB_ATTEMPT_RETRYABLE) f->retried++;
    it->done(it->ctx, it->d, &r);
}

static void hold_back(item_t *it, int64_t wait_ms)
{
    lb_send_result_t r = {.wait_ms = wait_ms};
    it->done(it->ctx, it->d, &r);
}

static void abort_item(item_t *it)
{
    lb_send_result_t r = {.aborted = 1};
    it->done(it->ctx, it->d, &r);
}

/* ---- answers ---- */

/* A 200: each entry succeeded, or failed on its own. */
static void entries_answered(fwd_t *f, batch_t *b, const lb_http_result_t *r)
{
    lb_putevents_result_t res[LB_PUTEVENTS_MAX_ENTRIES];
    lb_json_doc_t *doc = NULL;
    if (lb_putevents_results(r->body, r->body_len, b->n, res, &doc)) {
        failing(f, "EventBridge answered 200 with no entry list");
        for (size_t i = 0; i < b->n; i++)
            finish(f, &b->items[i], LB_ATTEMPT_RETRYABLE, "INTERNAL_ERROR",
                   "EventBridge's answer did not list the entries.");
        return;
    }
    int any_ok = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (res[i].event_id) {
            any_ok = 1;
            finish(f, &b->items[i], LB_ATTEMPT_OK, NULL, NULL);
            continue;
        }
        const char *code = res[i].error_code;
        const char *msg = res[i].error_message ? res[i].error_message : "";
        if (lb_putevents_retryable(code)) {
            char why[600];
            snprintf(why, sizeof why, "%s: %s", code, msg);
            failing(f, why);
        }
        finish(f, &b->items[i],
               lb_putevents_retryable(code) ? LB_ATTEMPT_RETRYABLE : LB_ATTEMPT_PERMANENT, code,
               msg);
    }
    if (any_ok) working(f);
    lb_json_doc_free(&doc);
}

/* Not a 200, or no answer: the whole request failed, every entry alike. */
static void request_failed(fwd_t *f, batch_t *b, const lb_http_result_t *r)
{
    char type[128], message[600], why[900];
    lb_attempt_t outcome = LB_ATTEMPT_RETRYABLE;
    f->request_failures++;
    if (!r->answered) {
        snprintf(type, sizeof type, "%s", r->timed_out ? "TIMEOUT" : "CONNECTION_ERROR");
        snprintf(message, sizeof message, "%s", r->error ? r->error : "no answer");
    } else {
        lb_putevents_error(r->body, r->body_len, type, sizeof type, message, sizeof message);
        if (!type[0]) snprintf(type, sizeof type, "HTTP_%ld", r->status);
        if (!message[0])
            snprintf(message, sizeof message, "EventBridge answered HTTP %ld", r->status);
        if (lb_putevents_auth_error(type)) {
            /* Fresh credentials may be all it takes (an expired session, a rotated key). */
            lb_awscreds_invalidate(f->creds);
        } else if (r->status < 500 && r->status != 429 && !lb_putevents_retryable(type)) {
            outcome = LB_ATTEMPT_PERMANENT;
        }
    }
    snprintf(why, sizeof why, "%s: %s", type, message);
    failing(f, why);
    for (size_t i = 0; i < b->n; i++)
        finish(f, &b->items[i], outcome, type, message);
}

static void on_answer(void *ctx, const lb_http_result_t *r)
{
    batch_t *b = ctx;
    fwd_t *f = b->owner;
    if (b->prev)
        b->prev->next = b->next;
    else
        f->inflight = b->next;
    if (b->next) b->next->prev = b->prev;
    if (r->aborted) {
        for (size_t i = 0; i < b->n; i++)
            abort_item(&b->items[i]);
    } else if (r->answered && r->status == 200) {
        entries_answered(f, b, r);
    } else {
        request_failed(f, b, r);
    }
    lb_http_call_clear(&b->req);
    free(b);
}

/* ---- requests ---- */

static char **headers_for(const char *amz_date, const lb_aws_creds_t *c, const char *auth)
{
    char **h = lb_xcalloc(7, sizeof *h);
    size_t n = 0;
    lb_buf_t b = {0};
    h[n++] = lb_strdup("Content-Type: application/x-amz-json-1.1");
    h[n++] = lb_strdup("X-Amz-Target: AWSEvents.PutEvents");
    lb_buf_printf(&b, "X-Amz-Date: %s", amz_date);
    h[n++] = lb_buf_steal(&b, NULL);
    if (c->session_token) {
        lb_buf_printf(&b, "X-Amz-Security-Token: %s", c->session_token);
        h[n++] = lb_buf_steal(&b, NULL);
    }
    if (auth) {
        lb_buf_printf(&b, "Authorization: %s", auth);
        h[n++] = lb_buf_steal(&b, NULL);
    }
    h[n++] = lb_strdup("User-Agent: LocalBridge/" LB_VERSION " forward");
    return h;
}

/* Signs and sends b with body (taken over). */
static void send_batch(fwd_t *f, batch_t *b, const char *bus_arn, char *body,
                       const lb_aws_creds_t *c)
{
    lb_arn_t arn;
    lb_arn_parse(bus_arn, &arn);
    char url[2048], host[1024], path[1024], amz_date[17];
    const char *env_events = getenv("AWS_ENDPOINT_URL_EVENTS"),
               *env_any = getenv("AWS_ENDPOINT_URL");
    lb_aws_events_endpoint(arn.region, settings(f)->forward_endpoint, env_events, env_any, url,
                           sizeof url);
    b->req.method = lb_strdup("POST");
    b->req.url = lb_strdup(url);
    b->req.body = body;
    b->req.response_max = ANSWER_MAX;
    if (lb_aws_url_host_path(url, host, sizeof host, path, sizeof path)) {
        for (size_t i = 0; i < b->n; i++)
            finish(f, &b->items[i], LB_ATTEMPT_RETRYABLE, "INTERNAL_ERROR",
                   "The EventBridge endpoint is not an http(s) URL.");
        lb_http_call_clear(&b->req);
        free(b);
        return;
    }
    lb_sigv4_amz_date(lb_now_ms(), amz_date);
    char hash[65], *auth = NULL;
    lb_sigv4_sha256_hex(body, strlen(body), hash);
    char **unsigned_h = headers_for(amz_date, c, NULL);
    lb_sigv4_header_t sh[8];
    size_t n = 0;
    sh[n++] = (lb_sigv4_header_t){"Host", host};
    for (char **p = unsigned_h; *p; p++) {
        char *colon = strchr(*p, ':');
        *colon = '\0';
        sh[n++] = (lb_sigv4_header_t){*p, colon + 2};
    }
    lb_sigv4_request_t sreq = {.method = "POST",
                               .path = path,
                               .query = "",
                               .headers = sh,
                               .n_headers = n,
                               .payload_hash = hash};
    lb_sigv4_creds_t sc = {c->access_key_id, c->secret_access_key, c->session_token};
    lb_sigv4_sign(&sreq, &sc, arn.region, "events", amz_date, &auth);
    for (char **p = unsigned_h; *p; p++)
        free(*p);
    free(unsigned_h);
    b->req.headers = headers_for(amz_date, c, auth);
    free(auth);
    f->requests++;
    if (lb_transport_send(f->env.transport, &b->req, settings(f)->delivery_timeout_ms, on_answer,
                          b) == 0) {
        b->next = f->inflight;
        if (f->inflight) f->inflight->prev = b;
        f->inflight = b;
        return;
    }
    for (size_t i = 0; i < b->n; i++)
        finish(f, &b->items[i], LB_ATTEMPT_RETRYABLE, "INTERNAL_ERROR",
               "The PutEvents request could not be started.");
    lb_http_call_clear(&b->req);
    free(b);
}

static int by_target(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    int c = strcmp(x->d->target_arn, y->d->target_arn);
    if (c) return c;
    return x->d->seq < y->d->seq ? -1 : x->d->seq > y->d->seq;
}

/* Packs the items of one bus (all for items[0]'s target) into PutEvents batches. */
static void send_group(fwd_t *f, item_t *items, size_t n, const lb_aws_creds_t *c)
{
    const char *bus_arn = items[0].d->target_arn;
    batch_t *b = NULL;
    lb_buf_t body = {0};
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        item_t *it = &items[i];
        lb_buf_t entry = {0};
        size_t size;
        if (lb_putevents_entry(it->d->body, it->d->body_len, bus_arn, it->d->trace_header, &entry,
                               &size)) {
            finish(f, it, LB_ATTEMPT_PERMANENT, "INVALID_EVENT",
                   "The target input is not an event (an object with source, detail-type and an "
                   "object detail), so it cannot be put on an event bus.");
            continue;
        }
        if (size > LB_PUTEVENTS_MAX_BYTES) {
            lb_buf_free(&entry);
            finish(f, it, LB_ATTEMPT_PERMANENT, "INVALID_PARAMETER",
                   "The event is larger than 256 KB as PutEvents counts entries.");
            continue;
        }
        if (b && (b->n == LB_PUTEVENTS_MAX_ENTRIES || total + size > LB_PUTEVENTS_MAX_BYTES)) {
            lb_buf_puts(&body, "]}");
            send_batch(f, b, bus_arn, lb_buf_steal(&body, NULL), c);
            b = NULL;
        }
        if (!b) {
            b = lb_xcalloc(1, sizeof *b);
            b->owner = f;
            lb_buf_puts(&body, "{\"Entries\":[");
            total = 0;
        } else {
            lb_buf_puts(&body, ",");
        }
        lb_buf_append(&body, entry.data, entry.len);
        lb_buf_free(&entry);
        total += size;
        b->items[b->n++] = *it;
    }
    if (b) {
        lb_buf_puts(&body, "]}");
        send_batch(f, b, bus_arn, lb_buf_steal(&body, NULL), c);
    }
    lb_buf_free(&body);
}

static void forward_flush(void *self)
{
    fwd_t *f = self;
    if (!f->n_held) return;
    item_t *items = f->held;
    size_t n = f->n_held;
    f->held = NULL;
    f->n_held = f->cap_held = 0;
    const lb_aws_creds_t *c = NULL;
    int rc = lb_awscreds_get(f->creds, lb_now_ms(), &c);
    if (rc) {
        /* Not an attempt: the deliveries wait, durable, until credentials are there. */
        if (rc != -EAGAIN) failing(f, lb_awscreds_describe(f->creds));
        for (size_t i = 0; i < n; i++)
            hold_back(&items[i], rc == -EAGAIN ? 200 : 5000);
        free(items);
        return;
    }
    qsort(items, n, sizeof *items, by_target);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && strcmp(items[j].d->target_arn, items[i].d->target_arn) == 0)
            j++;
        send_group(f, items + i, j - i, c);
        i = j;
    }
    free(items);
}

static void forward_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    fwd_t *f = self;
    item_t it = {d, done, ctx};
    if (f->stopped) {
        abort_item(&it);
        return;
    }
    lb_forward_pending_add(f->pending, d->seq, d->ingested_ms);
    if (f->n_held == f->cap_held) {
        f->cap_held = f->cap_held ? 2 * f->cap_held : 64;
        f->held = lb_xrealloc(f->held, f->cap_held * sizeof *f->held);
    }
    f->held[f->n_held++] = it;
}

static void forward_settled(void *self, const lb_delivery_t *d, int delivered)
{
    fwd_t *f = self;
    lb_forward_pending_remove(f->pending, d->seq);
    if (!delivered) f->failed++;
}

/* ---- visibility ---- */

static void forward_metrics(void *self, lb_buf_t *out)
{
    fwd_t *f = self;
    int64_t oldest = lb_forward_pending_oldest(f->pending);
    double age = oldest ? (double)(lb_now_ms() - oldest) / 1000.0 : 0.0;
    lb_buf_printf(out,
                  "# HELP localbridge_forwarded_entries_total Entries Amazon EventBridge accepted "
                  "from forwarding.\n# TYPE localbridge_forwarded_entries_total counter\n"
                  "localbridge_forwarded_entries_total %llu\n"
                  "# HELP localbridge_forward_retried_entries_total Forwarded entries that failed "
                  "and were scheduled again (throttling, 5xx, no answer).\n"
                  "# TYPE localbridge_forward_retried_entries_total counter\n"
                  "localbridge_forward_retried_entries_total %llu\n"
                  "# HELP localbridge_forward_failed_entries_total Forwards dead-lettered: refused "
                  "by EventBridge or out of retries.\n"
                  "# TYPE localbridge_forward_failed_entries_total counter\n"
                  "localbridge_forward_failed_entries_total %llu\n"
                  "# HELP localbridge_forward_requests_total PutEvents requests sent upstream.\n"
                  "# TYPE localbridge_forward_requests_total counter\n"
                  "localbridge_forward_requests_total %llu\n"
                  "# HELP localbridge_forward_pending Forwards sent at least once and not yet "
                  "accepted or dead-lettered.\n# TYPE localbridge_forward_pending gauge\n"
                  "localbridge_forward_pending %zu\n"
                  "# HELP localbridge_forward_oldest_pending_seconds Age of the oldest pending "
                  "forward (0: none).\n# TYPE localbridge_forward_oldest_pending_seconds gauge\n"
                  "localbridge_forward_oldest_pending_seconds %.3f\n",
                  (unsigned long long)f->forwarded, (unsigned long long)f->retried,
                  (unsigned long long)f->failed, (unsigned long long)f->requests,
                  lb_forward_pending_count(f->pending), age);
}

static int forward_health(void *self, lb_buf_t *out)
{
    fwd_t *f = self;
    size_t pending = lb_forward_pending_count(f->pending);
    if (!pending && !f->requests) return 0; /* forwarding unused: nothing to say */
    int64_t now = lb_now_ms(), oldest = lb_forward_pending_oldest(f->pending);
    int stuck = pending && f->failing_since_ms && now - f->failing_since_ms >= STUCK_AFTER_MS;
    lb_buf_printf(out,
                  ",\"forward\":{\"status\":\"%s\",\"pending\":%zu,"
                  "\"oldest_pending_seconds\":%.3f",
                  stuck                 ? "stuck"
                  : f->failing_since_ms ? "retrying"
                                        : "ok",
                  pending, oldest ? (double)(now - oldest) / 1000.0 : 0.0);
    if (f->failing_since_ms) {
        char since[32];
        lb_format_time_iso(f->failing_since_ms, since);
        lb_buf_printf(out, ",\"failing_since\":\"%s\",\"last_error\":", since);
        lb_buf_json_string(out, f->last_error, strlen(f->last_error));
    }
    lb_buf_puts(out, ",\"credentials\":");
    const char *creds = lb_awscreds_describe(f->creds);
    lb_buf_json_string(out, creds, strlen(creds));
    lb_buf_puts(out, "}");
    return stuck;
}

/* ---- lifecycle ---- */

static void forward_stop(void *self)
{
    fwd_t *f = self;
    if (f->stopped) return;
    f->stopped = 1;
    for (size_t i = 0; i < f->n_held; i++)
        abort_item(&f->held[i]);
    f->n_held = 0;
    /* Batches in flight end with the transport: their entries come back aborted. */
    lb_awscreds_stop(f->creds);
}

static void forward_free(void *self)
{
    fwd_t *f = self;
    forward_stop(f);
    lb_awscreds_free(&f->creds);
    lb_forward_pending_free(&f->pending);
    free(f->held);
    free(f);
}

lb_adapter_t *lb_target_forward_new(const lb_adapter_env_t *env)
{
    fwd_t *f = lb_xcalloc(1, sizeof *f);
    f->env = *env;
    lb_awscreds_env_t cenv = {
        .loop = env->loop, .transport = env->transport, .log = env->log, .envp = NULL};
    lb_awscreds_new(&cenv, &f->creds);
    lb_forward_pending_new(&f->pending);
    f->adapter = (lb_adapter_t){.name = "forward",
                                .self = f,
                                .accepts = forward_accepts,
                                .send = forward_send,
                                .stop = forward_stop,
                                .free = forward_free,
                                .flush = forward_flush,
                                .settled = forward_settled,
                                .metrics = forward_metrics,
                                .health = forward_health};
    return &f->adapter;
}

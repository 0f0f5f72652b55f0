#include "lb_cockpit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_cockpit_internal.h"
#include "lb_store_cockpit.h"

#define TICK_MS 5000

static const char *const metric_names[METRICS_N] = {
    "Invocations",           "FailedInvocations",       "TriggeredRules", "MatchedEvents",
    "DeadLetterInvocations", "RetryInvocationAttempts", "ThrottledRules", "Events",
};

void lb_cockpit_respond(lb_http_request_t *req, int status, const char *json, size_t len)
{
    char id[37], headers[64];
    if (lb_uuid_v4(id)) snprintf(id, sizeof id, "unknown");
    snprintf(headers, sizeof headers, "x-amzn-RequestId: %s\r\n", id);
    lb_http_respond(req, status, "application/json", headers, json, len);
}

void lb_cockpit_error(lb_http_request_t *req, lb_aws_error_t err, const char *message)
{
    lb_buf_t body = {0};
    int status = lb_aws_error_body(&body, err, message);
    lb_cockpit_respond(req, status, body.data, body.len);
    lb_buf_free(&body);
}

void lb_cockpit_time(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

/* ---- metrics.json ---- */

static void totals(lb_cockpit_t *c, uint64_t out[METRICS_N])
{
    uint64_t rule[LB_M_RULE_COUNTERS], matched;
    lb_metrics_totals(c->env.metrics, rule, &matched);
    out[0] = rule[LB_M_INVOCATIONS];
    out[1] = rule[LB_M_FAILED_INVOCATIONS];
    out[2] = rule[LB_M_TRIGGERED_RULES];
    out[3] = matched;
    out[4] = rule[LB_M_DEAD_LETTER_INVOCATIONS];
    out[5] = rule[LB_M_RETRY_INVOCATION_ATTEMPTS];
    out[6] = rule[LB_M_THROTTLED_RULES];
    out[7] = c->events;
}

/* Records the totals as the first seen in the current minute. */
static void sample(lb_cockpit_t *c)
{
    int64_t m = lb_now_ms() / 60000;
    int slot = (int)(m % MINUTES);
    if (c->minute[slot] == m) return;
    c->minute[slot] = m;
    totals(c, c->snap[slot]);
}

static void on_tick(uv_timer_t *t)
{
    sample(t->data);
}

static void handle_metrics_json(lb_cockpit_t *c, lb_http_request_t *req)
{
    char v[32];
    long window = 600;
    if (lb_http_query_param(lb_http_request_query(req), "window", v, sizeof v) == 0) {
        char *end;
        window = strtol(v, &end, 10);
        if (*end || window < 60 || window > 60 * MINUTES) {
            lb_cockpit_error(req, LB_AWS_VALIDATION,
                             "window must be a number of seconds from 60 to 3600.");
            return;
        }
    }
    sample(c);
    int64_t now_m = lb_now_ms() / 60000;
    int n = (int)(window / 60);
    uint64_t now[METRICS_N];
    totals(c, now);
    lb_buf_t out = {0};
    lb_buf_printf(&out, "{\"step\":60,\"start\":%lld,\"series\":{",
                  (long long)((now_m - n + 1) * 60));
    for (int k = 0; k < METRICS_N; k++) {
        lb_buf_printf(&out, "%s\"%s\":[", k ? "," : "", metric_names[k]);
        for (int i = n - 1; i >= 0; i--) {
            int64_t m = now_m - i;
            int slot = (int)(m % MINUTES), next = (int)((m + 1) % MINUTES);
            uint64_t value = 0;
            if (c->minute[slot] == m) {
                const uint64_t *end = i == 0                     ? now
                                      : c->minute[next] == m + 1 ? c->snap[next]
                                                                 : NULL;
                if (end) value = end[k] - c->snap[slot][k];
            }
            lb_buf_printf(&out, "%s%llu", i == n - 1 ? "" : ",", (unsigned long long)value);
        }
        lb_buf_puts(&out, "]");
    }
    lb_buf_puts(&out, "}}");
    lb_cockpit_respond(req, 200, out.data, out.len);
    lb_buf_free(&out);
}

/* ---- status ---- */

typedef struct {
    lb_cockpit_t *c;
    lb_http_request_t *req;
    int64_t pending, oldest_ms, dead;
} status_job_t;

static int read_status(lb_store_t *store, void *arg)
{
    status_job_t *j = arg;
    return lb_store_delivery_counts(store, &j->pending, &j->oldest_ms, &j->dead);
}

static void status_done(void *data, int rc)
{
    status_job_t *j = data;
    lb_cockpit_t *c = j->c;
    if (rc) {
        lb_cockpit_error(j->req, LB_AWS_INTERNAL, "The store could not be read.");
        free(j);
        return;
    }
    lb_engine_t *e = c->env.engine;
    lb_rules_t *rules = lb_engine_rules(e);
    lb_archives_t *archives = lb_engine_archives(e);
    lb_buf_t out = {0};
    lb_buf_puts(&out, "{\"buses\":[");
    for (size_t i = 0; i < lb_engine_bus_count(e); i++) {
        const lb_bus_record_t *b = lb_engine_bus_at(e, i);
        lb_buf_puts(&out, i ? ",{\"name\":" : "{\"name\":");
        lb_buf_json_string(&out, b->name, strlen(b->name));
        lb_buf_puts(&out, ",\"region\":");
        lb_buf_json_string(&out, b->region, strlen(b->region));
        lb_buf_printf(&out, ",\"rules\":%zu,\"archives\":%zu}",
                      lb_rules_count_on_bus(rules, b->region, b->name),
                      lb_archives_count_on_bus(archives, b->region, b->name));
    }
    lb_replays_t *replays = lb_engine_replays(e);
    size_t running = 0;
    for (size_t i = 0; i < lb_replays_count(replays); i++)
        running += lb_replay_active(lb_replays_at(replays, i)) ? 1 : 0;
    int64_t now = lb_now_ms();
    double oldest = j->oldest_ms ? (double)(now - j->oldest_ms) / 1000.0 : 0.0;
    lb_buf_printf(&out,
                  "],\"rules\":%zu,\"pending_deliveries\":%lld,\"inflight\":%zu,"
                  "\"oldest_pending_age_seconds\":%.3f,\"dead_letters\":%lld,"
                  "\"replays_running\":%zu,\"stream_subscribers\":%zu,"
                  "\"uptime_seconds\":%.3f,\"version\":\"%s\"}",
                  lb_rules_count(rules), (long long)j->pending,
                  c->dispatch ? lb_dispatch_inflight(c->dispatch) : 0, oldest, (long long)j->dead,
                  running, c->stream ? lb_stream_subscribers(c->stream) : 0,
                  (double)(now - c->started_ms) / 1000.0, LB_VERSION);
    lb_cockpit_respond(j->req, 200, out.data, out.len);
    lb_buf_free(&out);
    free(j);
}

static void handle_status(lb_cockpit_t *c, lb_http_request_t *req)
{
    status_job_t *j = lb_xcalloc(1, sizeof *j);
    j->c = c;
    j->req = req;
    if (lb_reader_submit(c->env.reader, read_status, j, status_done, j)) {
        lb_cockpit_error(req, LB_AWS_SERVICE_UNAVAILABLE, "The daemon is stopping.");
        free(j);
    }
}

/* ---- reset ---- */

typedef struct {
    lb_cockpit_t *c;
    lb_http_request_t *req;
    int64_t max_seq;
    int64_t started_ms;
} reset_job_t;

static int reset_txn(lb_store_t *store, void *arg)
{
    reset_job_t *j = arg;
    return lb_store_reset(store, &j->max_seq);
}

static void reset_done(void *data, int rc)
{
    reset_job_t *j = data;
    lb_cockpit_t *c = j->c;
    if (rc) {
        lb_cockpit_error(j->req, LB_AWS_INTERNAL, "The store could not be wiped.");
        free(j);
        return;
    }
    /* Memory follows the store only once the wipe committed. */
    lb_engine_reset(c->env.engine);
    if (c->dispatch) lb_dispatch_reset(c->dispatch, j->max_seq);
    lb_logf_info(c->env.log, "state reset", LB_LOG_INT("ms", lb_now_ms() - j->started_ms));
    static const char ok[] = "{\"reset\":true}";
    lb_cockpit_respond(j->req, 200, ok, sizeof ok - 1);
    free(j);
}

static void handle_reset(lb_cockpit_t *c, lb_http_request_t *req)
{
    reset_job_t *j = lb_xcalloc(1, sizeof *j);
    j->c = c;
    j->req = req;
    j->started_ms = lb_now_ms();
    if (lb_writer_submit(c->env.writer, reset_txn, j, reset_done, j)) {
        lb_cockpit_error(req, LB_AWS_SERVICE_UNAVAILABLE, "The daemon is stopping.");
        free(j);
    }
}

/* ---- hooks and routing ---- */

static void on_event(void *ctx, const lb_event_committed_t *ev)
{
    lb_cockpit_t *c = ctx;
    c->events++;
    if (c->stream) lb_stream_on_event(c->stream, ev);
}

void lb_cockpit_on_attempt(void *ctx, const lb_attempt_rec_t *rec)
{
    lb_cockpit_t *c = ctx;
    if (c->stream) lb_stream_on_attempt(c->stream, rec);
    if (rec->status != LB_AS_RETRYING) lb_longpoll_wake(c, rec->target_arn);
}

int lb_cockpit_handle(lb_cockpit_t *c, lb_http_request_t *req, const char *region)
{
    const char *method = lb_http_request_method(req), *path = lb_http_request_path(req);
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    static const char events[] = "/_localbridge/events/";
    if (strcmp(path, "/_localbridge/stream") == 0 && get) {
        if (c->stopping)
            lb_cockpit_error(req, LB_AWS_SERVICE_UNAVAILABLE, "The daemon is stopping.");
        else
            lb_stream_subscribe(c->stream, req, region);
    } else if (strncmp(path, events, sizeof events - 1) == 0 && get) {
        lb_event_view_start(c, req, path + sizeof events - 1);
    } else if (strcmp(path, "/_localbridge/deliveries") == 0 && get) {
        lb_longpoll_start(c, req);
    } else if (strcmp(path, "/_localbridge/status") == 0 && get) {
        handle_status(c, req);
    } else if (strcmp(path, "/_localbridge/reset") == 0 && post) {
        handle_reset(c, req);
    } else if (strcmp(path, "/_localbridge/metrics.json") == 0 && get) {
        handle_metrics_json(c, req);
    } else {
        return 0;
    }
    return 1;
}

int lb_cockpit_new(const lb_cockpit_env_t *env, lb_cockpit_t **out)
{
    lb_cockpit_t *c = lb_xcalloc(1, sizeof *c);
    c->env = *env;
    c->started_ms = lb_now_ms();
    lb_stream_new(env->loop, env->log, &c->stream);
    lb_engine_set_event_hook(env->engine, on_event, c);
    uv_timer_init(env->loop, &c->tick);
    c->tick.data = c;
    uv_timer_start(&c->tick, on_tick, 0, TICK_MS);
    uv_unref((uv_handle_t *)&c->tick);
    *out = c;
    return 0;
}

void lb_cockpit_set_dispatch(lb_cockpit_t *c, lb_dispatch_t *d)
{
    c->dispatch = d;
}

size_t lb_cockpit_waiting(const lb_cockpit_t *c)
{
    return c ? c->n_waiters : 0;
}

void lb_cockpit_stop(lb_cockpit_t *c)
{
    if (!c || c->stopping) return;
    c->stopping = 1;
    lb_engine_set_event_hook(c->env.engine, NULL, NULL);
    lb_stream_free(&c->stream);
    lb_longpoll_stop(c);
    uv_timer_stop(&c->tick);
}

static void on_tick_closed(uv_handle_t *h)
{
    free(h->data);
}

void lb_cockpit_free(lb_cockpit_t **cp)
{
    lb_cockpit_t *c = *cp;
    if (!c) return;
    *cp = NULL;
    lb_cockpit_stop(c);
    uv_close((uv_handle_t *)&c->tick, on_tick_closed);
}

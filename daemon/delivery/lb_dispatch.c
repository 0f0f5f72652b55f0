#include "lb_dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lb_adapter.h"
#include "lb_dqueue.h"
#include "lb_outcomes.h"
#include "lb_retry.h"
#include "lb_targets.h"
#include "lb_transport.h"

struct lb_dispatch {
    lb_dispatch_env_t env;
    lb_dqueue_t *queue; /* scheduled, parked and in-flight accounting */
    lb_transport_t *transport;
    lb_adapter_t **adapters;
    size_t n_adapters;
    lb_outcomes_t *outcomes;
    /* The backlog beyond delivery_resident_max stays in the store. Every pending delivery with
     * seq <= paged_to is in memory or being recorded; while `spilled`, those above it are only
     * in the store and are paged in, in seq order, by the reader thread as memory frees up. */
    int64_t paged_to;
    int spilled;
    int paging;       /* a page is being read */
    uint64_t dropped; /* committed deliveries left in the store because of the spill */
    size_t paged_total;
    uv_timer_t wake_timer; /* the next due time */
    uv_check_t soon;       /* "pump before this loop turn ends" */
    int stopping;
    int64_t reset_seq; /* deliveries up to this seq were wiped by a reset */
    int handles_open, free_requested;
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

static void on_wake(uv_timer_t *timer)
{
    pump(timer->data);
}

static void on_soon(uv_check_t *check)
{
    uv_check_stop(check);
    pump(check->data);
}

/* One pump at the end of this loop turn, after its I/O: all the completions and commits of the
 * turn share it, and a finished attempt's slot is used again at once instead of a turn later
 * (under load, a turn is long: it reads every ingest connection). */
static void wake_soon(lb_dispatch_t *d)
{
    if (!d->stopping && !uv_is_active((uv_handle_t *)&d->soon)) uv_check_start(&d->soon, on_soon);
}

static size_t per_target_cap(const lb_dispatch_t *d)
{
    size_t cap = (size_t)settings(d)->delivery_concurrency / 2;
    return cap ? cap : 1;
}

/* ---- outcomes ---- */

static void rule_arn_of(const lb_dispatch_t *d, const lb_delivery_t *x, char *out, size_t n)
{
    lb_rule_arn(x->region, settings(d)->account_id, x->bus, x->rule, out, n);
}

static lb_adapter_t *adapter_for(const lb_dispatch_t *d, const char *arn)
{
    for (size_t i = 0; i < d->n_adapters; i++)
        if (d->adapters[i]->accepts(d->adapters[i]->self, arn)) return d->adapters[i];
    return NULL;
}

int lb_dispatch_routable(const lb_dispatch_t *d, const char *arn)
{
    return adapter_for(d, arn) != NULL;
}

/* A target that ran the event and failed it may have its own destination for failures (a Lambda
 * function's on-failure destination): the record goes to whichever adapter takes that ARN. */
static void send_failure_record(lb_dispatch_t *d, const lb_dead_letter_msg_t *m)
{
    const lb_delivery_t *x = m->delivery;
    lb_adapter_t *t = adapter_for(d, x->target_arn);
    char *dest = NULL;
    lb_buf_t record = {0};
    if (!t || !t->failure_destination || !t->failure_destination(t->self, m, &dest, &record))
        return;
    lb_adapter_t *a = adapter_for(d, dest);
    void (*send)(void *, const char *, const lb_dead_letter_msg_t *) = !a ? NULL
                                                                       : a->send_record
                                                                           ? a->send_record
                                                                           : a->send_dead_letter;
    if (!send) {
        lb_logf_warn(d->env.log,
                     "on-failure destination not reachable; kept in the dead-letter store",
                     LB_LOG_STR("destination", dest), LB_LOG_STR("event", x->event_id),
                     LB_LOG_STR("target", x->target_arn));
    } else {
        lb_delivery_t *copy = lb_delivery_new(x->event_id, x->region, x->bus, x->rule, x->target_id,
                                              x->target_arn, "{}", NULL);
        lb_text_t *body = lb_text_new(record.data ? record.data : "", record.len);
        lb_delivery_set_body(copy, body);
        lb_text_unref(&body);
        copy->fn = x->fn;
        lb_dead_letter_msg_t rm = *m;
        rm.delivery = copy;
        send(a->self, dest, &rm);
        lb_logf_info(d->env.log, "failure record sent to the on-failure destination",
                     LB_LOG_STR("destination", dest), LB_LOG_STR("event", x->event_id),
                     LB_LOG_STR("condition", m->exhausted));
        lb_delivery_free(&copy);
    }
    free(dest);
    lb_buf_free(&record);
}

/* A dead letter is durable: its target's dead-letter queue gets it too, when one is reachable. */
static void on_dead(void *ctx, const lb_outcome_t *o)
{
    lb_dispatch_t *d = ctx;
    const lb_delivery_t *x = o->delivery;
    if (!x) return;
    char rule_arn[2048];
    rule_arn_of(d, x, rule_arn, sizeof rule_arn);
    lb_dead_letter_msg_t m = {.delivery = x,
                              .error_code = o->error_code,
                              .error_message = o->error_message,
                              .exhausted = o->exhausted,
                              .retry_attempts = o->attempts > 0 ? o->attempts - 1 : 0,
                              .rule_arn = rule_arn};
    /* A function error is Lambda's, not EventBridge's: EventBridge's delivery succeeded, so the
     * rule's dead-letter queue never sees it; the function's on-failure destination does. */
    if (o->async) {
        send_failure_record(d, &m);
        return;
    }
    if (!x->dlq_arn) return;
    lb_adapter_t *a = adapter_for(d, x->dlq_arn);
    if (!a || !a->send_dead_letter) {
        lb_logf_warn(d->env.log, "dead-letter queue not reachable; kept in the dead-letter store",
                     LB_LOG_STR("dlq", x->dlq_arn), LB_LOG_STR("event", x->event_id));
        return;
    }
    a->send_dead_letter(a->self, x->dlq_arn, &m);
}

static void count_dead(lb_dispatch_t *d, const lb_delivery_t *x, const char *code,
                       const char *message, const char *exhausted)
{
    lb_metrics_t *m = d->env.metrics;
    lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_INVOCATIONS, 1);
    lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_FAILED_INVOCATIONS, 1);
    lb_metrics_rule_add(m, x->region, x->bus, x->rule, LB_M_DEAD_LETTER_INVOCATIONS, 1);
    lb_logf_warn(d->env.log, "delivery dead-lettered", LB_LOG_STR("event", x->event_id),
                 LB_LOG_STR("rule", x->rule), LB_LOG_STR("target", x->target_id),
                 LB_LOG_INT("attempts", x->attempts), LB_LOG_STR("error", code),
                 LB_LOG_STR("error_message", message),
                 LB_LOG_STR("exhausted", exhausted ? exhausted : "none"));
}

/* The adapter that sent x learns that x is settled (delivered or dead for good). */
static void settle(lb_dispatch_t *d, const lb_delivery_t *x, int delivered)
{
    lb_adapter_t *a = adapter_for(d, x->target_arn);
    if (a && a->settled) a->settled(a->self, x, delivered);
}

/* The target took x and ran it, and the run failed (or a retry of that run was refused): the
 * target's own retry policy decides, as Lambda's does for an asynchronous invocation. For
 * EventBridge the invocation itself succeeded. Takes ownership of x. */
static void finish_async(lb_dispatch_t *d, lb_delivery_t *x, const lb_send_result_t *r, int64_t now)
{
    lb_outcome_t o = {.seq = x->seq, .attempts = x->attempts, .now_ms = now, .async = 1};
    if (r->outcome == LB_ATTEMPT_FUNCTION_ERROR) {
        lb_metrics_rule_add(d->env.metrics, x->region, x->bus, x->rule, LB_M_INVOCATIONS, 1);
        x->fn.errors++;
    } else {
        x->fn.throttles++;
    }
    if (!x->fn.first_ms) x->fn.first_ms = now;
    lb_retry_decision_t dec;
    lb_retry_async_decide(r->async, x->fn.errors, x->fn.throttles, r->throttled, x->fn.first_ms,
                          now, &dec);
    o.fn = x->fn;
    o.error_code = lb_strdup(r->error_code);
    o.error_message = lb_strdup(r->error_message);
    int64_t latency = x->attempt_started_ms ? now - x->attempt_started_ms : 0;
    o.rec = lb_attempt_rec_new(x, dec.dead ? LB_AS_DEAD_LETTERED : LB_AS_RETRYING, r->http_status,
                               latency, now, r->error_code, r->error_message);
    if (!dec.dead) {
        lb_logf_info(d->env.log, "function failed; its own retry policy runs it again",
                     LB_LOG_STR("event", x->event_id), LB_LOG_STR("target", x->target_id),
                     LB_LOG_INT("function_errors", x->fn.errors),
                     LB_LOG_INT("in_ms", dec.next_ms - now), LB_LOG_STR("error", r->error_code),
                     LB_LOG_STR("error_message", r->error_message));
        o.kind = LB_OUTCOME_RESCHEDULED;
        o.next_ms = x->next_ms = dec.next_ms;
        lb_dqueue_push(d->queue, x);
        lb_outcomes_add(d->outcomes, &o);
        return;
    }
    lb_logf_warn(d->env.log, "function failed for good; dead-lettered",
                 LB_LOG_STR("event", x->event_id), LB_LOG_STR("rule", x->rule),
                 LB_LOG_STR("target", x->target_id), LB_LOG_INT("function_errors", x->fn.errors),
                 LB_LOG_STR("condition", dec.exhausted), LB_LOG_STR("error", r->error_code),
                 LB_LOG_STR("error_message", r->error_message));
    settle(d, x, 0);
    o.kind = LB_OUTCOME_DEAD;
    o.exhausted = dec.exhausted;
    o.delivery = x;
    lb_outcomes_add(d->outcomes, &o);
}

/* One attempt of delivery x ended. Takes ownership of x. */
static void finish_attempt(lb_dispatch_t *d, lb_delivery_t *x, const lb_send_result_t *r)
{
    const struct lb_settings *cfg = settings(d);
    lb_attempt_t result = r->outcome;
    const char *code = r->error_code, *message = r->error_message;
    long http_status = r->http_status;
    int64_t now = lb_now_ms();
    if (x->seq <= d->reset_seq) {
        lb_delivery_free(&x); /* wiped by a reset while its attempt was under way */
        return;
    }
    x->attempts++;
    if (r->async &&
        (result == LB_ATTEMPT_FUNCTION_ERROR || (result == LB_ATTEMPT_RETRYABLE && r->throttled &&
                                                 (x->fn.errors > 0 || r->async->give_up)))) {
        finish_async(d, x, r, now);
        return;
    }
    if (result == LB_ATTEMPT_FUNCTION_ERROR) result = LB_ATTEMPT_RETRYABLE; /* no policy given */
    lb_outcome_t o = {.seq = x->seq, .attempts = x->attempts, .now_ms = now};
    int64_t latency = x->attempt_started_ms ? now - x->attempt_started_ms : 0;
    if (result == LB_ATTEMPT_OK) {
        o.rec = lb_attempt_rec_new(x, LB_AS_SUCCEEDED, http_status, latency, now, NULL, NULL);
        lb_metrics_rule_add(d->env.metrics, x->region, x->bus, x->rule, LB_M_INVOCATIONS, 1);
        lb_metrics_latency(d->env.metrics, (double)(now - x->ingested_ms) / 1000.0);
        lb_logf_debug(d->env.log, "delivered", LB_LOG_STR("event", x->event_id),
                      LB_LOG_STR("rule", x->rule), LB_LOG_STR("target", x->target_id),
                      LB_LOG_INT("attempts", x->attempts));
        o.kind = LB_OUTCOME_DELIVERED;
        settle(d, x, 1);
        lb_delivery_free(&x);
        lb_outcomes_add(d->outcomes, &o);
        return;
    }
    lb_retry_decision_t dec;
    lb_retry_decide(result, x->attempts, x->max_retries, x->age_base_ms, x->max_age_s, now,
                    (int64_t)cfg->retry_base_delay_ms, (int64_t)cfg->retry_max_delay_ms, random32(),
                    &dec);
    o.error_code = lb_strdup(code);
    o.error_message = lb_strdup(message);
    if (!dec.dead) {
        lb_metrics_rule_add(d->env.metrics, x->region, x->bus, x->rule,
                            LB_M_RETRY_INVOCATION_ATTEMPTS, 1);
        lb_logf_debug(d->env.log, "delivery failed; will retry", LB_LOG_STR("event", x->event_id),
                      LB_LOG_STR("rule", x->rule), LB_LOG_STR("target", x->target_id),
                      LB_LOG_INT("attempts", x->attempts), LB_LOG_INT("in_ms", dec.next_ms - now),
                      LB_LOG_STR("error", code), LB_LOG_STR("error_message", message));
        o.kind = LB_OUTCOME_RESCHEDULED;
        o.rec = lb_attempt_rec_new(x, LB_AS_RETRYING, http_status, latency, now, code, message);
        o.next_ms = x->next_ms = dec.next_ms;
        lb_dqueue_push(d->queue, x);
        lb_outcomes_add(d->outcomes, &o);
        return;
    }
    count_dead(d, x, code, message, dec.exhausted);
    settle(d, x, 0);
    o.kind = LB_OUTCOME_DEAD;
    o.rec = lb_attempt_rec_new(x, LB_AS_DEAD_LETTERED, http_status, latency, now, code, message);
    o.exhausted = dec.exhausted;
    o.delivery = x;
    lb_outcomes_add(d->outcomes, &o);
}

/* ---- attempts ---- */

static void attempt_done(void *ctx, lb_delivery_t *x, const lb_send_result_t *r)
{
    lb_dispatch_t *d = ctx;
    lb_dqueue_finished(d->queue, x->target_arn);
    wake_soon(d);
    if (d->stopping || r->aborted) {
        lb_delivery_free(&x); /* still pending in the store: resent after the next start */
        return;
    }
    if (r->wait_ms > 0) {
        /* Held back (rate limit, credentials not ready): not an attempt. */
        lb_metrics_rule_add(d->env.metrics, x->region, x->bus, x->rule, LB_M_THROTTLED_RULES, 1);
        x->next_ms = lb_now_ms() + r->wait_ms;
        lb_dqueue_push(d->queue, x);
        return;
    }
    finish_attempt(d, x, r);
}

static void start_attempt(lb_dispatch_t *d, lb_delivery_t *x)
{
    lb_adapter_t *a = adapter_for(d, x->target_arn);
    if (!a) {
        char message[2200];
        snprintf(message, sizeof message,
                 "No local endpoint for target %.1600s: map it with `target_map = GLOB -> URL` in "
                 "the config (or a lambda_handler line or lambda_endpoint for Lambda functions).",
                 x->target_arn);
        lb_send_result_t r = {.outcome = LB_ATTEMPT_PERMANENT,
                              .error_code = "RESOURCE_NOT_FOUND",
                              .error_message = message};
        x->attempt_started_ms = lb_now_ms();
        finish_attempt(d, x, &r);
        return;
    }
    x->attempt_started_ms = lb_now_ms();
    lb_dqueue_started(d->queue, x);
    a->send(a->self, x, attempt_done, d);
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
        start_attempt(d, x);
    /* Adapters that batch send what this round gave them. */
    for (size_t i = 0; i < d->n_adapters; i++)
        if (d->adapters[i]->flush) d->adapters[i]->flush(d->adapters[i]->self);
    int64_t next = lb_dqueue_next_due(d->queue);
    if (next < 0 || !cfg->delivery_enabled) {
        uv_timer_stop(&d->wake_timer);
        return;
    }
    /* When the concurrency limit holds deliveries back, a finishing attempt pumps again. */
    if (lb_dqueue_inflight(d->queue) >= (size_t)cfg->delivery_concurrency) return;
    int64_t wait = next - now;
    uv_timer_start(&d->wake_timer, on_wake, wait > 0 ? (uint64_t)wait : 0, 0);
}

/* ---- memory bound and paging ---- */

static size_t resident(const lb_dispatch_t *d)
{
    return lb_dqueue_waiting(d->queue) + lb_dqueue_inflight(d->queue);
}

static size_t resident_max(const lb_dispatch_t *d)
{
    return (size_t)settings(d)->delivery_resident_max;
}

static void schedule(lb_dispatch_t *d, lb_delivery_t *x)
{
    lb_dqueue_push(d->queue, x);
    if (!uv_is_active((uv_handle_t *)&d->wake_timer) || lb_dqueue_next_due(d->queue) == x->next_ms)
        wake_soon(d);
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
        lb_logf_warn(d->env.log, "delivery backlog exceeds delivery_resident_max; paging it",
                     LB_LOG_UINT("resident", resident(d)));
    }
    if (d->spilled) {
        d->dropped++;
        lb_delivery_free(&x); /* it is in the store; paged in later */
        return;
    }
    schedule(d, x);
}

typedef struct {
    lb_dispatch_t *dispatch;
    int64_t after_seq;
    int limit;
    uint64_t dropped_at_submit;
    lb_delivery_t **got;
    size_t n;
} page_t;

static int collect_page(lb_delivery_t *x, void *ctx)
{
    page_t *p = ctx;
    p->got[p->n++] = x;
    return 0;
}

/* Reader thread. */
static int read_page(lb_store_t *store, void *arg)
{
    page_t *p = arg;
    size_t n;
    return lb_deliveries_pending_after(store, p->after_seq, p->limit, collect_page, p, &n);
}

static void page_read(void *data, int rc)
{
    page_t *p = data;
    lb_dispatch_t *d = p->dispatch;
    d->paging = 0;
    if (d->stopping) rc = -1;
    for (size_t i = 0; i < p->n; i++) {
        lb_delivery_t *x = p->got[i];
        if (rc || x->seq <= d->paged_to) {
            lb_delivery_free(&x);
            continue;
        }
        d->paged_to = x->seq;
        d->paged_total++;
        lb_dqueue_push(d->queue, x);
    }
    if (rc && !d->stopping) {
        lb_logf_error(d->env.log, "could not page in pending deliveries; will retry",
                      LB_LOG_INT("rc", rc));
    } else if (!d->stopping) {
        if (p->n)
            lb_logf_debug(d->env.log, "paged in pending deliveries", LB_LOG_UINT("count", p->n),
                          LB_LOG_INT("up_to_seq", d->paged_to));
        /* Caught up, unless deliveries committed while the page was read were left out. */
        if (p->n < (size_t)p->limit && d->dropped == p->dropped_at_submit) d->spilled = 0;
    }
    free(p->got);
    free(p);
    wake_soon(d);
}

/* Asks the reader for the next part of a spilled backlog once half of memory has room. */
static void page_in(lb_dispatch_t *d)
{
    size_t max = resident_max(d), now_resident = resident(d);
    if (!d->spilled || d->paging || d->stopping || now_resident > max / 2) return;
    page_t *p = lb_xcalloc(1, sizeof *p);
    p->dispatch = d;
    p->after_seq = d->paged_to;
    p->limit = (int)(max - now_resident);
    p->dropped_at_submit = d->dropped;
    p->got = lb_xcalloc((size_t)p->limit + 1, sizeof *p->got);
    if (lb_reader_submit(d->env.reader, read_page, p, page_read, p)) {
        free(p->got);
        free(p);
        return;
    }
    d->paging = 1;
}

/* ---- the engine's hook ---- */

/* Dead on arrival: it can never be delivered, and the store has it as a dead letter already. */
static void dead_on_arrival(lb_dispatch_t *d, lb_delivery_t *x)
{
    count_dead(d, x, x->dead_code, x->dead_message, NULL);
    lb_outcome_t o = {.kind = LB_OUTCOME_DEAD,
                      .seq = x->seq,
                      .delivery = x,
                      .error_code = x->dead_code,
                      .error_message = x->dead_message};
    on_dead(d, &o);
    lb_delivery_free(&x);
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
    for (size_t i = 0; i < n; i++) {
        if (d->stopping)
            lb_delivery_free(&ds[i]);
        else if (ds[i]->dead_code)
            dead_on_arrival(d, ds[i]);
        else
            admit(d, ds[i]);
    }
}

/* ---- lifecycle ---- */

int lb_dispatch_start(const lb_dispatch_env_t *env, lb_dispatch_t **out)
{
    lb_dispatch_t *d = lb_xcalloc(1, sizeof *d);
    d->env = *env;
    lb_dqueue_new(&d->queue);
    if (lb_transport_new(env->loop, &d->transport)) {
        lb_dqueue_free(&d->queue);
        free(d);
        return -1;
    }
    lb_adapter_env_t aenv = {.loop = env->loop,
                             .config = env->config,
                             .engine = env->engine,
                             .writer = env->writer,
                             .transport = d->transport,
                             .log = env->log,
                             .self_url = env->self_url,
                             .sqs = env->sqs};
    lb_targets_create(&aenv, &d->adapters, &d->n_adapters);
    lb_outcomes_new(env->loop, env->writer, env->log, on_dead, d, &d->outcomes);
    lb_outcomes_on_logged(d->outcomes, env->on_logged, env->on_logged_ctx);
    uv_timer_init(env->loop, &d->wake_timer);
    uv_check_init(env->loop, &d->soon);
    d->wake_timer.data = d->soon.data = d;
    d->handles_open = 2;
    /* Whatever the store holds pending (from before a restart) is a spilled backlog. */
    d->spilled = 1;
    d->paged_to = 0;
    wake_soon(d);
    *out = d;
    return 0;
}

void lb_dispatch_kick(lb_dispatch_t *d)
{
    wake_soon(d);
}

size_t lb_dispatch_pending(const lb_dispatch_t *d)
{
    return lb_dqueue_waiting(d->queue);
}

size_t lb_dispatch_due(const lb_dispatch_t *d, size_t limit)
{
    return lb_dqueue_due(d->queue, lb_now_ms(), limit);
}

size_t lb_dispatch_inflight(const lb_dispatch_t *d)
{
    return lb_dqueue_inflight(d->queue);
}

void lb_dispatch_metrics(const lb_dispatch_t *d, lb_buf_t *out)
{
    for (size_t i = 0; i < d->n_adapters; i++)
        if (d->adapters[i]->metrics) d->adapters[i]->metrics(d->adapters[i]->self, out);
}

int lb_dispatch_health(const lb_dispatch_t *d, lb_buf_t *out)
{
    int failing = 0;
    for (size_t i = 0; i < d->n_adapters; i++)
        if (d->adapters[i]->health) failing |= d->adapters[i]->health(d->adapters[i]->self, out);
    return failing;
}

static void release(lb_dispatch_t *d)
{
    for (size_t i = 0; i < d->n_adapters; i++)
        d->adapters[i]->free(d->adapters[i]->self);
    free(d->adapters);
    lb_dqueue_free(&d->queue);
    free(d);
}

static void on_handle_closed(uv_handle_t *h)
{
    lb_dispatch_t *d = h->data;
    if (--d->handles_open == 0 && d->free_requested) release(d);
}

void lb_dispatch_stop(lb_dispatch_t *d)
{
    if (d->stopping) return;
    d->stopping = 1;
    size_t inflight = lb_dqueue_inflight(d->queue);
    for (size_t i = 0; i < d->n_adapters; i++)
        d->adapters[i]->stop(d->adapters[i]->self);
    /* Abandons every HTTP attempt: their completions run now, with aborted set. */
    lb_transport_free(&d->transport);
    lb_outcomes_stop(d->outcomes);
    d->outcomes = NULL;
    uv_timer_stop(&d->wake_timer);
    uv_check_stop(&d->soon);
    uv_close((uv_handle_t *)&d->wake_timer, on_handle_closed);
    uv_close((uv_handle_t *)&d->soon, on_handle_closed);
    lb_logf_info(d->env.log, "dispatcher stopped", LB_LOG_UINT("aborted", inflight),
                 LB_LOG_UINT("pending", lb_dqueue_waiting(d->queue)));
}

void lb_dispatch_free(lb_dispatch_t **dp)
{
    lb_dispatch_t *d = *dp;
    if (!d) return;
    *dp = NULL;
    lb_dispatch_stop(d);
    d->free_requested = 1;
    if (d->handles_open == 0) release(d);
}

void lb_dispatch_reset(lb_dispatch_t *d, int64_t max_seq)
{
    if (max_seq > d->reset_seq) d->reset_seq = max_seq;
    lb_dqueue_drop_waiting(d->queue);
    /* Nothing is left in the store to page in. */
    d->spilled = 0;
    if (d->paged_to < max_seq) d->paged_to = max_seq;
}

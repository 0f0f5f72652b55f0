/* The delivery dispatcher: holds the pending deliveries (paged in from the store, oldest first, up
 * to delivery_resident_max at a time), hands each due one to the adapter of its target kind (see
 * lb_adapter.h; the dispatcher itself knows none), and decides what an attempt's result means:
 * delivered, retried after a backoff, or dead-lettered with the attributes AWS puts on DLQ
 * messages, which then go to the target's dead-letter queue when one is reachable. Outcomes are
 * made durable through lb_outcomes. Slow targets never block PutEvents or each other: at most
 * delivery_concurrency attempts run at once, at most half of them for one target. At least once:
 * an outcome is recorded only after the attempt, so a crash in between means a resend, never a
 * loss. */
#ifndef LB_DISPATCH_H
#define LB_DISPATCH_H

#include <uv.h>

#include "lb_config.h"
#include "lb_delivery.h"
#include "lb_engine.h"
#include "lb_log.h"
#include "lb_metrics.h"
#include "lb_outcomes.h"
#include "lb_reader.h"
#include "lb_writer.h"

typedef struct lb_dispatch lb_dispatch_t;

typedef struct {
    uv_loop_t *loop;
    const lb_config_t *config;
    lb_engine_t *engine;
    lb_writer_t *writer;
    lb_reader_t *reader; /* pages the backlog in, off the loop thread */
    lb_metrics_t *metrics;
    const lb_log_t *log;
    /* Told of each attempt once it is logged (may be NULL). */
    lb_outcome_logged_fn on_logged;
    void *on_logged_ctx;
    const char *self_url; /* filled once the server listens, before any delivery starts */
    struct lb_sqs *sqs;   /* the built-in queues (targets and dead-letter queues) */
} lb_dispatch_env_t;

/* 1 if some adapter takes arn (a target_map line, a built-in queue, a local bus, ...). */
int lb_dispatch_routable(const lb_dispatch_t *d, const char *arn);
/* Starts with the store's pending deliveries (paged in as room allows). */
int lb_dispatch_start(const lb_dispatch_env_t *env, lb_dispatch_t **out);
/* The engine's delivery hook (ctx is the dispatcher): committed deliveries, dead-on-arrival ones
 * included, and the rule hits behind them. Takes ownership of every delivery. */
void lb_dispatch_hook(void *ctx, lb_delivery_t **ds, size_t n, const lb_rule_hit_t *hits,
                      size_t n_hits);
/* Settings changed (SIGHUP): look at the queue again. */
void lb_dispatch_kick(lb_dispatch_t *d);
size_t lb_dispatch_pending(const lb_dispatch_t *d);
/* Deliveries due now and not yet sent, counted up to limit: how far behind delivery is (what a
 * replay waits on before adding more). */
size_t lb_dispatch_due(const lb_dispatch_t *d, size_t limit);
size_t lb_dispatch_inflight(const lb_dispatch_t *d);
/* What the adapters add to GET /metrics (Prometheus lines) and /health (JSON members); health
 * returns 1 when a target an adapter reaches is failing (forwarding's upstream stuck, say). */
void lb_dispatch_metrics(const lb_dispatch_t *d, lb_buf_t *out);
int lb_dispatch_health(const lb_dispatch_t *d, lb_buf_t *out);
/* Stops sending: attempts under way are abandoned (their deliveries stay pending in the store and
 * are resent after the next start), outcomes decided so far go to the writer. Free with
 * lb_dispatch_free once the writer has stopped. */
void lb_dispatch_stop(lb_dispatch_t *d);
/* The store was wiped (POST /_localbridge/reset): every delivery waiting in memory goes, and an
 * attempt under way for a delivery with seq <= max_seq ends without an outcome. */
void lb_dispatch_reset(lb_dispatch_t *d, int64_t max_seq);
void lb_dispatch_free(lb_dispatch_t **d);

#endif

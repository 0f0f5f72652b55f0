/* The delivery dispatcher: holds every pending delivery (reloaded from the store at start), sends
 * due ones through libcurl's multi interface driven by the libuv loop (uv_poll + uv_timer, with
 * connection reuse), and records each outcome through the writer: delivered (row deleted), retry
 * at a backoff time, or dead-lettered with the attributes AWS puts on DLQ messages. Slow targets
 * never block PutEvents or each other: at most delivery_concurrency sends are in flight, each
 * bounded by delivery_timeout. At least once: an outcome is recorded only after the send, so a
 * crash in between means a resend, never a loss. */
#ifndef LB_DISPATCH_H
#define LB_DISPATCH_H

#include <uv.h>

#include "lb_api.h"
#include "lb_config.h"
#include "lb_delivery.h"
#include "lb_engine.h"
#include "lb_log.h"
#include "lb_metrics.h"
#include "lb_writer.h"

typedef struct lb_dispatch lb_dispatch_t;

typedef struct {
    uv_loop_t *loop;
    const lb_config_t *config;
    lb_engine_t *engine;
    lb_api_t *api; /* event-bus targets put events through the API, as a client would */
    lb_writer_t *writer;
    lb_store_t *reader; /* read-only connection on the loop thread, for paging the backlog */
    lb_metrics_t *metrics;
    const lb_log_t *log;
} lb_dispatch_env_t;

/* Starts with the store's pending deliveries: they are paged in, oldest first, up to
 * delivery_resident_max at a time. */
int lb_dispatch_start(const lb_dispatch_env_t *env, lb_dispatch_t **out);
/* Schedules a delivery (takes ownership), whatever the memory bound (redrive). */
void lb_dispatch_add(lb_dispatch_t *d, lb_delivery_t *delivery);
/* The engine's delivery hook: ctx is the dispatcher. */
void lb_dispatch_hook(void *ctx, lb_delivery_t **ds, size_t n, const lb_rule_hit_t *hits,
                      size_t n_hits);
/* Settings changed (SIGHUP): look at the queue again. */
void lb_dispatch_kick(lb_dispatch_t *d);
size_t lb_dispatch_pending(const lb_dispatch_t *d);
size_t lb_dispatch_inflight(const lb_dispatch_t *d);
/* Stops sending: aborts transfers (they stay pending in the store and are resent after the next
 * start) and closes handles. Outcomes still being committed keep the dispatcher alive; free it
 * with lb_dispatch_free once the writer has stopped. */
void lb_dispatch_stop(lb_dispatch_t *d);
void lb_dispatch_free(lb_dispatch_t **d);

#endif

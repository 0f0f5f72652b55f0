/* The cockpit's admin endpoints (issue 13), the contract the CLI and the web console share:
 *   GET  /_localbridge/stream            the live tail (lb_stream)
 *   GET  /_localbridge/events/ID         an event and what happened to each of its deliveries
 *   GET  /_localbridge/deliveries?target=ARN&wait=5s&count=N   long-poll of final deliveries
 *   GET  /_localbridge/status            buses, rules, pending deliveries, oldest lag, ...
 *   POST /_localbridge/reset             wipes the state a test leaves behind
 *   GET  /_localbridge/metrics.json?window=600   per-minute series of the CloudWatch metrics
 * Reads run on the reader thread, the wipe on the writer; nothing waits on the loop thread: a
 * long-poll is woken by the dispatcher's "attempt logged" callback, never by a timer loop. */
#ifndef LB_COCKPIT_H
#define LB_COCKPIT_H

#include <uv.h>

#include "lb_attempts.h"
#include "lb_dispatch.h"
#include "lb_engine.h"
#include "lb_http.h"
#include "lb_log.h"
#include "lb_metrics.h"
#include "lb_reader.h"
#include "lb_writer.h"

typedef struct lb_cockpit lb_cockpit_t;

typedef struct {
    uv_loop_t *loop;
    lb_engine_t *engine;
    lb_reader_t *reader;
    lb_writer_t *writer;
    lb_metrics_t *metrics;
    const lb_log_t *log;
} lb_cockpit_env_t;

/* Sets itself as the engine's event hook. */
int lb_cockpit_new(const lb_cockpit_env_t *env, lb_cockpit_t **out);
/* The dispatcher, once started (status, reset). */
void lb_cockpit_set_dispatch(lb_cockpit_t *c, lb_dispatch_t *d);
/* The dispatcher's on_logged callback (ctx: the cockpit). */
void lb_cockpit_on_attempt(void *ctx, const lb_attempt_rec_t *rec);
/* 1 if it answers this request (method and path), answering it. region: the caller's. */
int lb_cockpit_handle(lb_cockpit_t *c, lb_http_request_t *req, const char *region);
/* Long-polls waiting: requests in flight that are not live work. */
size_t lb_cockpit_waiting(const lb_cockpit_t *c);
/* Shutdown: long-polls answer now with what they have; streams end. */
void lb_cockpit_stop(lb_cockpit_t *c);
void lb_cockpit_free(lb_cockpit_t **c);

#endif

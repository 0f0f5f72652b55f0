/* The live tail: GET /_localbridge/stream as server-sent events. Each committed event is pushed
 * (`event: event`) to every subscriber whose filters it passes (bus, rule it matched, an event
 * pattern), and with deliveries=1 each logged delivery attempt of such an event too
 * (`event: delivery`). Nothing polls: events come from the engine's event hook after the commit,
 * attempts from the dispatcher once their outcome is durable. A subscriber that does not read
 * (more than LB_STREAM_MAX_QUEUED bytes waiting) is dropped, never buffered without bound. A
 * comment line ": keepalive" goes out every LB_STREAM_KEEPALIVE_MS. Loop thread only. */
#ifndef LB_STREAM_H
#define LB_STREAM_H

#include <uv.h>

#include "lb_attempts.h"
#include "lb_engine.h"
#include "lb_http.h"
#include "lb_log.h"

#define LB_STREAM_MAX_QUEUED (1u << 20)
#define LB_STREAM_KEEPALIVE_MS 15000

typedef struct lb_stream lb_stream_t;

int lb_stream_new(uv_loop_t *loop, const lb_log_t *log, lb_stream_t **out);
/* Ends every subscriber's connection; frees itself once its timer is closed. */
void lb_stream_free(lb_stream_t **s);
/* GET /_localbridge/stream?bus=&rule=&pattern=&deliveries=1: a ValidationException (400) for a
 * pattern that does not compile, else the stream starts. region: the caller's. */
void lb_stream_subscribe(lb_stream_t *s, lb_http_request_t *req, const char *region);
/* The engine's event hook (ctx: the stream). */
void lb_stream_on_event(void *ctx, const lb_event_committed_t *ev);
void lb_stream_on_attempt(lb_stream_t *s, const lb_attempt_rec_t *rec);
size_t lb_stream_subscribers(const lb_stream_t *s);

#endif

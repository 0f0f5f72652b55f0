/* One HTTP attempt for a delivery, shared by the adapters whose targets speak HTTP (URL maps,
 * API destinations, Lambda): send the request, classify the answer as EventBridge does (429 and
 * 5xx, 401, 407 and 409, timeouts and connection errors are retried; other 4xx are not), and
 * report through the adapter contract. */
#ifndef LB_TARGET_HTTP_H
#define LB_TARGET_HTTP_H

#include "lb_adapter.h"

/* Sends req, whose strings it takes over (freed after the answer). The body sent is req->body
 * when set, else the delivery's own body, borrowed: no copy. done(ctx, d, result) follows. */
void lb_target_http_send(lb_transport_t *t, uint64_t timeout_ms, lb_http_call_t *req,
                         lb_delivery_t *d, lb_send_done_fn done, void *ctx);

/* An answer as a send result, as EventBridge classifies it; message (n bytes) holds the error
 * message the result points to. */
void lb_target_http_classify(const lb_http_result_t *r, lb_send_result_t *res, char *message,
                             size_t n);

/* The headers every delivery POST carries, then extra (may be NULL), NULL-terminated and
 * malloc'd (free with lb_http_call_clear through a call). */
char **lb_target_http_headers(const char *extra);

#endif

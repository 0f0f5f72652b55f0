/* A small HTTP/1.1 server on libuv + llhttp: keep-alive, pipelining (one request at a time per
 * connection, later ones wait in order), and limits on header size, body size, connection count,
 * idle time and how long a request may take to arrive (slowloris). The handler may answer at once
 * or later (after a store commit); the connection reads nothing more until it has. */
#ifndef LB_HTTP_H
#define LB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lb_log.h"

typedef struct lb_http_server lb_http_server_t;
typedef struct lb_http_request lb_http_request_t;

typedef void (*lb_http_handler_fn)(lb_http_request_t *req, void *ctx);

typedef struct {
    size_t max_body_size;
    size_t max_header_size;
    int max_connections;
    uint64_t idle_timeout_ms;
    uint64_t request_timeout_ms;
} lb_http_limits_t;

/* Binds host:port (port 0 picks a free one) and starts accepting. */
int lb_http_server_start(uv_loop_t *loop, const char *host, int port,
                         const lb_http_limits_t *limits, lb_http_handler_fn handler, void *ctx,
                         const lb_log_t *log, lb_http_server_t **out);
int lb_http_server_port(const lb_http_server_t *s);
void lb_http_server_set_limits(lb_http_server_t *s, const lb_http_limits_t *limits);
/* Stops accepting and closes idle connections; busy ones close after their response. */
void lb_http_server_drain(lb_http_server_t *s);
/* Requests handed to the handler and not yet answered. */
size_t lb_http_server_in_flight(const lb_http_server_t *s);
size_t lb_http_server_connections(const lb_http_server_t *s);
/* Closes everything; frees the server once every handle is closed (run the loop after). */
void lb_http_server_close(lb_http_server_t *s);

const char *lb_http_request_method(const lb_http_request_t *req);
/* The path without the query string, and the query string without '?' ("" if none). */
const char *lb_http_request_path(const lb_http_request_t *req);
const char *lb_http_request_query(const lb_http_request_t *req);
/* Case-insensitive lookup; NULL if absent. */
const char *lb_http_request_header(const lb_http_request_t *req, const char *name);
/* Every header in the order received (repeated ones included): what a signature covers. */
size_t lb_http_request_header_count(const lb_http_request_t *req);
void lb_http_request_header_at(const lb_http_request_t *req, size_t i, const char **name,
                               const char **value);
const char *lb_http_request_body(const lb_http_request_t *req, size_t *len);

/* Asks to be told (cb(ctx), once) if the client closes its connection while this request waits
 * for its answer: how a parked long poll is released. The request must still be answered (the
 * answer goes nowhere). Cleared by lb_http_respond. */
void lb_http_request_on_close(lb_http_request_t *req, void (*cb)(void *ctx), void *ctx);

/* Answers the request (exactly once). extra_headers is "Name: value\r\n..." or NULL. */
void lb_http_respond(lb_http_request_t *req, int status, const char *content_type,
                     const char *extra_headers, const char *body, size_t len);

/* Streaming answers (server-sent events). lb_http_stream_begin answers req with status and
 * headers, without a Content-Length and with "Connection: close": the body is whatever
 * lb_http_stream_write sends until lb_http_stream_end, or until the client goes, which calls
 * on_close(ctx) once (req must not be used after either). The request no longer counts as in
 * flight, and the connection takes no further request. */
typedef void (*lb_http_stream_close_fn)(void *ctx);
void lb_http_stream_begin(lb_http_request_t *req, int status, const char *content_type,
                          const char *extra_headers, lb_http_stream_close_fn on_close, void *ctx);
/* Queues data; -1 (nothing queued) when more than max_queued bytes already wait for a client
 * that does not read them, or the connection is gone. */
int lb_http_stream_write(lb_http_request_t *req, const char *data, size_t len, size_t max_queued);
/* Closes a streaming connection without calling its on_close. */
void lb_http_stream_end(lb_http_request_t *req);

/* Query parameter lookup into out; 0 if found, -1 otherwise. Percent-decodes. */
int lb_http_query_param(const char *query, const char *name, char *out, size_t outlen);

#endif

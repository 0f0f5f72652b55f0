/* lb_transport: outgoing HTTP for target adapters: deliveries to URLs, Lambda invokes, API
 * destinations, OAuth token requests, dead letters. Plain http:// goes through lb_hclient (a
 * small keep-alive client: most local targets, and the hot path); https:// through one libcurl
 * multi handle driven by the libuv loop (lb_curl). Connections are kept alive and reused.
 *
 * A send borrows its request (method, URL, headers, body) until its completion: no copy of the
 * body is made. The completion is called exactly once, on the loop thread, and never from inside
 * lb_transport_send. */
#ifndef LB_TRANSPORT_H
#define LB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lb_connections.h"

typedef struct lb_transport lb_transport_t;

/* Bytes of an answer kept for logs and dead letters. */
#define LB_TRANSPORT_KEEP 1024

typedef struct {
    int answered; /* an HTTP answer arrived (status is valid) */
    long status;
    int timed_out;    /* no answer within the timeout */
    int aborted;      /* the transport was stopped first */
    const char *body; /* the answer's first LB_TRANSPORT_KEEP bytes, NUL-terminated */
    size_t body_len;
    const char *error; /* why there was no answer */
    /* The value of the request's capture_header when the answer had it (its first 255 bytes),
     * else NULL. */
    const char *header;
} lb_http_result_t;

#define LB_TRANSPORT_HEADER_KEEP 256

typedef void (*lb_transport_done_fn)(void *ctx, const lb_http_result_t *r);

/* The answer's first bytes as the transport keeps them (for lb_transport and lb_hclient): up to
 * LB_TRANSPORT_KEEP in place, or up to a request's larger response_max on the heap (a PutEvents
 * answer lists every entry). Always NUL-terminated. */
typedef struct {
    char small[LB_TRANSPORT_KEEP + 1];
    char *big;
    size_t len, max;
} lb_response_buf_t;

void lb_response_init(lb_response_buf_t *r, size_t response_max);
void lb_response_add(lb_response_buf_t *r, const char *p, size_t n);
const char *lb_response_data(const lb_response_buf_t *r);
void lb_response_free(lb_response_buf_t *r);

int lb_transport_new(uv_loop_t *loop, lb_transport_t **out);
/* Stops every transfer (their completions run with aborted set) and frees the transport once
 * libuv has closed its handles. */
void lb_transport_free(lb_transport_t **t);

/* Sends req (borrowed, with its body, until done runs) with timeout_ms for the whole exchange.
 * Returns 0, or a negative error when nothing could be started (done is then never called). */
int lb_transport_send(lb_transport_t *t, const lb_http_call_t *req, uint64_t timeout_ms,
                      lb_transport_done_fn done, void *ctx);

#endif

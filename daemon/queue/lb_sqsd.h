/* The daemon side of the built-in queues: requests into proto/sqs, long polls parked until a
 * message may be receivable (a send, a visibility change, a redrive wakes them; a delayed or in
 * flight message becoming visible wakes them through a timer) or until their wait ends, and the
 * retention sweep in small writer jobs. No busy loop: a parked receive costs one timer. */
#ifndef LB_SQSD_H
#define LB_SQSD_H

#include <uv.h>

#include "lb_http.h"
#include "lb_log.h"
#include "lb_sqs.h"
#include "lb_writer.h"

typedef struct lb_sqsd lb_sqsd_t;

typedef struct {
    uv_loop_t *loop;
    lb_writer_t *writer;
    const lb_log_t *log;
    lb_sqs_t *sqs;
    /* Runs a handled call (answers it, or runs its deferred store work first); pending is the
     * caller's handle of the request, passed back as given. */
    void (*run)(void *ctx, void *pending);
    void *ctx;
} lb_sqsd_env_t;

/* Which SQS protocol a request speaks (LB_SQS_JSON, LB_SQS_QUERY), or -1 for none:
 * X-Amz-Target AmazonSQS.* is JSON 1.0; a form POST (application/x-www-form-urlencoded) or a GET
 * with Action= in its query string, on / or a queue's path, is the query protocol. */
int lb_sqsd_protocol(lb_http_request_t *req);
int lb_sqsd_start(const lb_sqsd_env_t *env, lb_sqsd_t **out);
/* Handles a request on call (context set); env.run is called once for it, now or after a park
 * (a parked receive whose client closes its connection is answered empty at once).
 * rq's strings must stay valid until then (they point into the HTTP request). */
void lb_sqsd_handle(lb_sqsd_t *d, lb_http_request_t *req, lb_call_t *call, void *pending,
                    const lb_sqs_req_t *rq);
/* Answers every parked receive (empty) and stops the sweep. */
void lb_sqsd_stop(lb_sqsd_t *d);
size_t lb_sqsd_parked(const lb_sqsd_t *d);
/* After the loop closed the handles lb_sqsd_stop closes. */
void lb_sqsd_free(lb_sqsd_t **d);

#endif

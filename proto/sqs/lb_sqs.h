/* The SQS API of the built-in queues (lib/queue), in both wire protocols real clients use: AWS
 * JSON 1.0 (`X-Amz-Target: AmazonSQS.<Op>`, current SDKs and AWS CLI v1) and the query protocol
 * (`Action=<Op>` form fields, XML answers; AWS CLI v2 2.9, older SDKs). Both are parsed into one
 * request tree (the JSON 1.0 shape) and handled by the same operations; answers and errors are
 * shaped for the protocol the request came in, through one SQS error table. No I/O: store work
 * is deferred to the daemon's writer thread as everywhere in proto/ (lb_call.h). */
#ifndef LB_SQS_H
#define LB_SQS_H

#include <stddef.h>
#include <stdint.h>

#include "lb_call.h"
#include "lb_queue.h"
#include "lb_sqs_md5.h"

typedef struct lb_sqs lb_sqs_t;

typedef enum { LB_SQS_JSON, LB_SQS_QUERY } lb_sqs_proto_t;

typedef struct {
    lb_sqs_proto_t proto;
    const char *target; /* JSON 1.0: the X-Amz-Target header */
    const char *path;   /* query: the request path ("/" or "/ACCOUNT/NAME": the queue's URL) */
    const char *host;   /* the Host header: queue URLs name it, as clients reach the daemon */
    const char *body;   /* JSON text, or the form (a POST body or a GET's query string) */
    size_t len;
    /* A long poll being retried: when it must answer (0 on the first try). */
    int64_t deadline_ms;
} lb_sqs_req_t;

/* A ReceiveMessage that found nothing and may wait: the daemon parks it until a message may have
 * become receivable in queue_id (lb_queues_set_hook) or until deadline_ms, then handles the same
 * request again with req.deadline_ms set. */
typedef struct {
    int64_t queue_id;
    int64_t deadline_ms;
} lb_sqs_park_t;

int lb_sqs_new(lb_sqs_t **out);
void lb_sqs_free(lb_sqs_t **sqs);
lb_queues_t *lb_sqs_queues(lb_sqs_t *sqs);

/* Handles one request. Returns 0 (the call is answered, or has store work deferred as any call)
 * or 1: park it (*park filled, the call untouched). The call's context must be set. */
int lb_sqs_handle(lb_sqs_t *sqs, lb_call_t *call, const lb_sqs_req_t *req, lb_sqs_park_t *park);

/* Answers a parked ReceiveMessage with no messages, without receiving: its client went away, and
 * a message taken for it would stay invisible for nothing. */
void lb_sqs_answer_empty(lb_call_t *call, const lb_sqs_req_t *req);
/* An AWS JSON error already on call (one raised before the request reached SQS, such as a
 * refused signature) rewritten as the query protocol's <ErrorResponse>, which query clients
 * parse; JSON 1.0 clients read the JSON one as it is. */
void lb_sqs_query_error_from_json(lb_call_t *call);

/* ---- sending from inside the daemon (EventBridge targets and dead-letter queues) ---- */

typedef struct lb_sqs_send lb_sqs_send_t;
/* Sends one message to q as SendMessage would: memory now, the row through lb_sqs_send_txn on
 * the writer, then lb_sqs_send_committed on the loop. attrs: String message attributes (may be
 * NULL). group/dedup: FIFO (dedup NULL: content-based, else the queue refuses: LB_EINVALID). */
int lb_sqs_send_prepare(lb_sqs_t *sqs, lb_queue_t *q, const char *body, size_t len,
                        const lb_sqs_attr_t *attrs, size_t n_attrs, const char *group,
                        const char *dedup, int64_t now_ms, lb_sqs_send_t **out);
int lb_sqs_send_txn(lb_store_t *store, void *job);
/* rc: the commit's result (a refused commit takes the message back out of memory). Frees job. */
void lb_sqs_send_committed(lb_sqs_t *sqs, lb_sqs_send_t *job, int rc);

/* Retention: removes from memory up to max messages past their queue's retention period and
 * returns a writer job deleting their rows (NULL when none). */
void *lb_sqs_expire(lb_sqs_t *sqs, int64_t now_ms, size_t max);
int lb_sqs_expire_txn(lb_store_t *store, void *job);
void lb_sqs_expire_free(void *job);

/* Prometheus gauges: each queue's visible, in-flight and delayed messages. */
void lb_sqs_metrics(lb_sqs_t *sqs, lb_buf_t *out, const char *account, int64_t now_ms);

#endif

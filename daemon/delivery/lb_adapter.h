/* Target adapters: how a delivery reaches one kind of target. The dispatcher schedules,
 * retries, records outcomes and dead-letters without knowing any target kind; it asks each
 * adapter in turn whether it takes a target ARN and hands the delivery to the first that does.
 * Adding a kind of target (forwarding to AWS, built-in queues, ...) is adding an adapter.
 *
 * Contract: send() makes one attempt and calls done exactly once, with the delivery handed back
 * (now or later, on the loop thread). A result with wait_ms > 0 means nothing was attempted
 * (rate limit, credentials not ready): the dispatcher tries again after that long without
 * counting an attempt. stop() ends every attempt under way: their done callbacks run with
 * `aborted` set before it returns, and none runs after.
 *
 * Batching: an adapter whose kind of target takes several events per request (forwarding to
 * EventBridge: up to 10 entries per PutEvents) may hold what send() gives it and send it all when
 * flush() is called. The dispatcher calls every adapter's flush() at the end of each round of
 * sends, before the loop waits again, so a batch holds exactly the deliveries that were due
 * together and never waits for a timer. Held deliveries are in flight for the dispatcher (its
 * concurrency limits count them) and each still gets its own done, so a partial failure retries
 * only the deliveries that failed.
 *
 * The optional hooks let an adapter keep its own state without the dispatcher knowing its kind:
 * settled() says the dispatcher is done with a delivery it sent through this adapter (delivered
 * set, or dead-lettered for good); metrics() and health() let it add to GET /metrics and /health.
 */
#ifndef LB_ADAPTER_H
#define LB_ADAPTER_H

#include <stdint.h>
#include <uv.h>

#include "lb_config.h"
#include "lb_delivery.h"
#include "lb_engine.h"
#include "lb_log.h"
#include "lb_retry.h"
#include "lb_transport.h"
#include "lb_writer.h"

/* How one attempt ended. The strings live at least until done returns. */
typedef struct {
    lb_attempt_t outcome;
    int64_t wait_ms;        /* > 0: not attempted; try again after this long */
    int aborted;            /* the daemon is stopping: nothing to record */
    const char *error_code; /* when not LB_ATTEMPT_OK: AWS's ERROR_CODE for a dead letter */
    const char *error_message;
    long http_status; /* the target's HTTP status when it answered one, else 0 */
    /* The target's own retry policy (a Lambda function's asynchronous invocation config): set
     * with LB_ATTEMPT_FUNCTION_ERROR, and with a refusal (LB_ATTEMPT_RETRYABLE, `throttled`) so
     * that a refused retry of an event the target already ran stays under that policy. */
    const lb_async_policy_t *async;
    int throttled;
} lb_send_result_t;

typedef void (*lb_send_done_fn)(void *ctx, lb_delivery_t *d, const lb_send_result_t *r);

/* What a dead-letter queue receives with a failed event: AWS's message attributes. */
typedef struct {
    const lb_delivery_t *delivery; /* its body is the message */
    const char *error_code, *error_message, *exhausted;
    int retry_attempts;
    const char *rule_arn;
} lb_dead_letter_msg_t;

typedef struct lb_adapter lb_adapter_t;
struct lb_adapter {
    const char *name; /* for logs: "url-map", "api-destination", ... */
    void *self;
    /* 1 if this adapter delivers to arn. */
    int (*accepts)(void *self, const char *arn);
    void (*send)(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx);
    /* Hands a dead letter to the queue named dlq_arn (one attempt; the local dead-letter store
     * keeps it anyway). NULL when this kind of target cannot be a dead-letter queue. */
    void (*send_dead_letter)(void *self, const char *dlq_arn, const lb_dead_letter_msg_t *m);
    /* Optional: hands a target's failure record (m->delivery's body, see failure_destination) to
     * dest, one attempt, for kinds that cannot be a rule's dead-letter queue (an event bus).
     * Without it, send_dead_letter is used. */
    void (*send_record)(void *self, const char *dest, const lb_dead_letter_msg_t *m);
    void (*stop)(void *self);
    void (*free)(void *self);
    /* Optional (NULL when the adapter has none); see "Batching" and the hooks above. */
    void (*flush)(void *self);
    void (*settled)(void *self, const lb_delivery_t *d, int delivered);
    /* Appends Prometheus text lines. */
    void (*metrics)(void *self, lb_buf_t *out);
    /* Appends JSON members (each starting with ',') to the /health object; 1 when what the
     * adapter reaches is failing (the daemon itself still accepts events). */
    int (*health)(void *self, lb_buf_t *out);
    /* A delivery sent through this adapter, which ran it and failed it (LB_ATTEMPT_FUNCTION_ERROR),
     * is now a durable dead letter (m->exhausted says why). When the target has its own
     * on-failure destination (a Lambda function's), returns 1 with *dest (malloc'd) and the
     * record it gets in *record: the dispatcher hands it to the send_dead_letter of whichever
     * adapter takes *dest. */
    int (*failure_destination)(void *self, const lb_dead_letter_msg_t *m, char **dest,
                               lb_buf_t *record);
};

/* What adapters may use. */
typedef struct {
    uv_loop_t *loop;
    const lb_config_t *config;
    lb_engine_t *engine;
    lb_writer_t *writer;
    lb_transport_t *transport;
    const lb_log_t *log;
    const char *self_url; /* this daemon's API as listening (http://127.0.0.1:PORT) */
    struct lb_sqs *sqs;   /* the built-in queues */
} lb_adapter_env_t;

#endif

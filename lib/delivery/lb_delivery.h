/* Deliveries: one per (event, matched rule, target), written in the same transaction as the
 * event, so an accepted event's deliveries are as durable as the event itself. A delivery is
 * pending (state 0) until it succeeds (row deleted) or is dead-lettered (state 2, with the
 * attributes AWS puts on DLQ messages). */
#ifndef LB_DELIVERY_H
#define LB_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "lb_store.h"
#include "lb_text.h"

/* A delivery's second retry budget (lb_async_policy_t in lb_retry.h), once its target ran it and
 * the run failed: the failed runs, the runs refused since (throttled), when the first run started
 * (the event's age for that policy counts from there) and the invocation's request id, which
 * every run of one event shares, as Lambda keeps it across its retries. All zero before. */
typedef struct {
    int errors, throttles;
    int64_t first_ms;
    char request_id[37];
} lb_async_state_t;

typedef struct {
    int64_t seq; /* store id; 0 until inserted */
    char event_id[37];
    /* Set by lb_delivery_new, in the same allocation as the struct; dlq_arn may be NULL. */
    const char *region, *bus, *rule, *target_id, *target_arn, *target_json, *dlq_arn;
    /* What the target receives, rendered at ingestion: the text of body_text, which the delivery
     * holds a reference to (the envelope itself, shared, when the target takes the event as is). */
    const char *body;
    size_t body_len;
    lb_text_t *body_text;
    int64_t ingested_ms, age_base_ms, next_ms;
    int attempts, max_retries, max_age_s;
    int64_t attempt_started_ms; /* when the attempt under way began (the attempt log's latency) */
    lb_async_state_t fn;
    /* Failed for good before any attempt (e.g. its rendered body is over the size limit): stored
     * as a dead letter with this error, never sent. */
    char *dead_code, *dead_message;
    /* The event's TraceHeader (PutEvents), malloc'd, or NULL: what forwarding passes on. */
    char *trace_header;
} lb_delivery_t;

/* A delivery with its names copied in (one allocation for all of them); the rest zeroed. */
lb_delivery_t *lb_delivery_new(const char *event_id, const char *region, const char *bus,
                               const char *rule, const char *target_id, const char *target_arn,
                               const char *target_json, const char *dlq_arn);
void lb_delivery_free(lb_delivery_t **d);
/* Sets the body: takes a reference to text. */
void lb_delivery_set_body(lb_delivery_t *d, lb_text_t *text);

/* Inserts a delivery (pending, or dead when dead_code is set) and fills d->seq. */
int lb_delivery_insert(lb_store_t *s, lb_delivery_t *d);
/* Delivered: the row goes. */
int lb_delivery_delete(lb_store_t *s, int64_t seq);
/* A failed attempt with a retry ahead. Like lb_delivery_kill, it changes a pending delivery only
 * when attempts is more than the store has: an outcome written again after a store failure can
 * never overwrite a newer one. */
int lb_delivery_reschedule(lb_store_t *s, int64_t seq, int attempts, int64_t next_ms,
                           const char *error_code, const char *error_message);
/* Retries exhausted or a permanent error. exhausted may be NULL. */
int lb_delivery_kill(lb_store_t *s, int64_t seq, int attempts, const char *error_code,
                     const char *error_message, const char *exhausted, int64_t now_ms);

/* The same two after a failed run (LB_ATTEMPT_FUNCTION_ERROR) or one refused after it: they
 * record the delivery's lb_async_state_t as well. */
int lb_delivery_reschedule_async(lb_store_t *s, int64_t seq, int attempts, int64_t next_ms,
                                 const lb_async_state_t *fn, const char *error_code,
                                 const char *error_message);
int lb_delivery_kill_async(lb_store_t *s, int64_t seq, int attempts, const lb_async_state_t *fn,
                           const char *error_code, const char *error_message, const char *exhausted,
                           int64_t now_ms);

/* Every pending delivery, oldest due first. cb takes ownership of d. */
typedef int (*lb_delivery_cb)(lb_delivery_t *d, void *ctx);
int lb_deliveries_pending(lb_store_t *s, lb_delivery_cb cb, void *ctx);
/* At most limit pending deliveries with seq > after_seq, in seq order: how the dispatcher pages
 * a backlog larger than it keeps in memory. Returns the count through *n. */
int lb_deliveries_pending_after(lb_store_t *s, int64_t after_seq, int limit, lb_delivery_cb cb,
                                void *ctx, size_t *n);

/* A dead letter as listed by the admin endpoint. */
typedef struct {
    const lb_delivery_t *delivery;
    const char *error_code, *error_message, *exhausted;
    int64_t dead_ms;
} lb_dead_letter_t;
typedef int (*lb_dead_letter_cb)(const lb_dead_letter_t *dl, void *ctx);
/* Newest first; bus/rule may be NULL (any). */
int lb_dead_letters_each(lb_store_t *s, const char *region, const char *bus, const char *rule,
                         int limit, lb_dead_letter_cb cb, void *ctx);
/* The same order (dead_ms, then seq, both descending), starting after the dead letter
 * (before_dead_ms, before_seq); INT64_MAX for both starts at the newest. How a listing pages. */
int lb_dead_letters_before(lb_store_t *s, const char *region, const char *bus, const char *rule,
                           int64_t before_dead_ms, int64_t before_seq, int limit,
                           lb_dead_letter_cb cb, void *ctx);
/* Makes dead letters pending again, due now with fresh retry budgets (both of them). seqs NULL =
 * every dead letter of region (bus/rule filters apply). The redriven deliveries are passed to cb
 * (which takes ownership) so the dispatcher can schedule them. Returns the count through *count. */
int lb_dead_letters_redrive(lb_store_t *s, const char *region, const char *bus, const char *rule,
                            const int64_t *seqs, size_t n_seqs, int64_t now_ms, lb_delivery_cb cb,
                            void *ctx, size_t *count);

#endif

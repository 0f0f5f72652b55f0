/* The attempt log: one row per delivery attempt (and its outcome), written in the same writer job
 * as the outcome itself, so "what happened to my event?" has an answer after the delivery row is
 * gone (a delivered row is deleted). The final attempt of a delivery (SUCCEEDED or
 * DEAD_LETTERED) keeps the body the target was sent: what the fixture's long-poll hands a test.
 * The log is bounded: rows older than the newest LB_ATTEMPTS_KEEP are pruned as new ones come, in
 * steps of LB_ATTEMPTS_PRUNE_EVERY (it never holds more than the sum of the two). */
#ifndef LB_ATTEMPTS_H
#define LB_ATTEMPTS_H

#include <stddef.h>
#include <stdint.h>

#include "lb_delivery.h"
#include "lb_store.h"
#include "lb_text.h"

#define LB_ATTEMPTS_KEEP 100000
#define LB_ATTEMPTS_PRUNE_EVERY 256

typedef enum {
    LB_AS_SUCCEEDED,
    LB_AS_RETRYING,
    LB_AS_FAILED, /* failed for good, no dead-letter row (not used by the dispatcher yet) */
    LB_AS_DEAD_LETTERED,
} lb_attempt_status_t;

const char *lb_attempt_status_name(lb_attempt_status_t s);

/* One attempt as logged. Strings live in the same allocation (lb_attempt_rec_new); body is a
 * reference to the delivery's body text, kept for final outcomes only. */
typedef struct {
    int64_t id; /* filled when read */
    char event_id[37];
    const char *region, *bus, *rule, *target_id, *target_arn, *error;
    int attempt;
    lb_attempt_status_t status;
    long http_status; /* 0: no HTTP answer (not an HTTP target, or none came) */
    int64_t latency_ms, at_ms;
    lb_text_t *body_text; /* owned reference, or NULL */
    const char *body;     /* when read back: the stored body, or NULL */
} lb_attempt_rec_t;

/* A record for delivery d's attempt; error may be NULL. Free with lb_attempt_rec_free. */
lb_attempt_rec_t *lb_attempt_rec_new(const lb_delivery_t *d, lb_attempt_status_t status,
                                     long http_status, int64_t latency_ms, int64_t at_ms,
                                     const char *error_code, const char *error_message);
void lb_attempt_rec_free(lb_attempt_rec_t **r);

/* Writer thread: appends r (prunes the oldest beyond LB_ATTEMPTS_KEEP). */
int lb_attempt_insert(lb_store_t *s, const lb_attempt_rec_t *r);

typedef int (*lb_attempt_cb)(const lb_attempt_rec_t *r, void *ctx);
/* Every attempt of a stored event's deliveries, oldest first (found through the event's row:
 * an attempt logged while its event was not in the store is not found). */
int lb_attempts_for_event(lb_store_t *s, const char *event_id, lb_attempt_cb cb, void *ctx);
/* Final attempts (SUCCEEDED, DEAD_LETTERED) to target_arn with id > after_id, oldest first, at
 * most limit. */
int lb_attempts_final_to(lb_store_t *s, const char *target_arn, int64_t after_id, int limit,
                         lb_attempt_cb cb, void *ctx);

#endif

/* lb_outcomes: how the dispatcher makes delivery outcomes durable. Outcomes decided during one
 * loop turn go to the writer together as one job (one savepoint, one pass), not one job each. A
 * job the store refuses (disk full, I/O error) is not dropped: its outcomes wait and are written
 * again with a growing delay until the store takes them, the newest outcome of a delivery
 * replacing an older one still waiting. So a delivery that failed for good while the disk was
 * full is dead-lettered as soon as there is room, without a restart; and until an outcome is
 * recorded the delivery stays pending in the store, so a crash meanwhile means a resend (at
 * least once), never a loss. */
#ifndef LB_OUTCOMES_H
#define LB_OUTCOMES_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lb_attempts.h"
#include "lb_delivery.h"
#include "lb_log.h"
#include "lb_writer.h"

typedef enum {
    LB_OUTCOME_DELIVERED,   /* the row goes */
    LB_OUTCOME_RESCHEDULED, /* a retry ahead at next_ms */
    LB_OUTCOME_DEAD,        /* retries exhausted or a permanent error: a dead letter */
} lb_outcome_kind_t;

typedef struct {
    lb_outcome_kind_t kind;
    int64_t seq;
    int attempts;
    int64_t next_ms; /* RESCHEDULED */
    int64_t now_ms;
    char *error_code, *error_message; /* owned */
    const char *exhausted;            /* DEAD: LB_EXHAUSTED_* or NULL */
    lb_delivery_t *delivery;          /* DEAD: the delivery, owned, for its dead-letter queue */
    lb_attempt_rec_t *rec;            /* the attempt log's row, owned, or NULL */
    int async;                        /* the target's own retry budget changed: record fn */
    lb_async_state_t fn;
} lb_outcome_t;

typedef struct lb_outcomes lb_outcomes_t;

/* Called on the loop thread once a DEAD outcome is durable (the outcome and its delivery are
 * the callee's to read, not to keep). */
typedef void (*lb_outcome_dead_fn)(void *ctx, const lb_outcome_t *o);

int lb_outcomes_new(uv_loop_t *loop, lb_writer_t *writer, const lb_log_t *log,
                    lb_outcome_dead_fn on_dead, void *ctx, lb_outcomes_t **out);
/* Told of every attempt once its outcome (and log row) is durable, on the loop thread: the live
 * stream and the fixture's long-poll. The record is borrowed for the call. */
typedef void (*lb_outcome_logged_fn)(void *ctx, const lb_attempt_rec_t *rec);
void lb_outcomes_on_logged(lb_outcomes_t *os, lb_outcome_logged_fn fn, void *ctx);
/* Takes ownership of o's strings and delivery; o itself is copied. */
void lb_outcomes_add(lb_outcomes_t *os, lb_outcome_t *o);
/* Outcomes not yet durable. */
size_t lb_outcomes_pending(const lb_outcomes_t *os);
/* Hands everything still waiting to the writer once more (shutdown), then stops; frees itself
 * once its timer is closed and its last job is back. */
void lb_outcomes_stop(lb_outcomes_t *os);

#endif

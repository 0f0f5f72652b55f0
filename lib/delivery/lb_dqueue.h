/* The dispatcher's queue of deliveries: a min-heap on due time (then seq), plus per-target
 * accounting of sends in flight. A target at its cap does not get more sends: its due deliveries
 * wait parked, in order, and return one by one as its sends finish, so one slow or hung target
 * never starves the others and never costs a re-sort of its whole backlog. Pure data structure:
 * the caller supplies "now". The queue owns the deliveries it holds. */
#ifndef LB_DQUEUE_H
#define LB_DQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "lb_delivery.h"

typedef struct lb_dqueue lb_dqueue_t;

int lb_dqueue_new(lb_dqueue_t **out);
/* Frees the queue and every delivery still waiting in it. */
void lb_dqueue_free(lb_dqueue_t **q);

/* Schedules x at x->next_ms (takes ownership). */
void lb_dqueue_push(lb_dqueue_t *q, lb_delivery_t *x);
/* The next delivery due at now whose target has fewer than cap sends in flight, or NULL.
 * Due deliveries of targets at their cap are parked on the way. The caller owns the result. */
lb_delivery_t *lb_dqueue_pop_due(lb_dqueue_t *q, int64_t now_ms, size_t cap);
/* Earliest next_ms of a scheduled (not parked) delivery; -1 if there is none. */
int64_t lb_dqueue_next_due(const lb_dqueue_t *q);

/* A send to x's target started / finished. A finish lets one parked delivery of that target
 * back into the schedule. */
void lb_dqueue_started(lb_dqueue_t *q, const lb_delivery_t *x);
void lb_dqueue_finished(lb_dqueue_t *q, const char *target_arn);

size_t lb_dqueue_waiting(const lb_dqueue_t *q); /* scheduled + parked */
/* Frees every scheduled and parked delivery; sends in flight stay counted. */
void lb_dqueue_drop_waiting(lb_dqueue_t *q);
/* Deliveries due at now (parked ones included: they wait for their target only), counted up to
 * limit: what a new delivery would queue behind. Visits at most limit heap entries. */
size_t lb_dqueue_due(const lb_dqueue_t *q, int64_t now_ms, size_t limit);
size_t lb_dqueue_parked(const lb_dqueue_t *q);
size_t lb_dqueue_inflight(const lb_dqueue_t *q);

#endif

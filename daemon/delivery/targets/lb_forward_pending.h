/* The forwards in flight or waiting for a retry: delivery seq -> ingested time, so /metrics and
 * /health can give the age of the oldest pending forward. An open-addressing hash table (linear
 * probing, deletion by backward shift): add and remove in O(1) on the hot path; the oldest is a
 * scan, done only when someone asks. */
#ifndef LB_FORWARD_PENDING_H
#define LB_FORWARD_PENDING_H

#include <stddef.h>
#include <stdint.h>

typedef struct lb_forward_pending lb_forward_pending_t;

void lb_forward_pending_new(lb_forward_pending_t **out);
void lb_forward_pending_free(lb_forward_pending_t **p);
/* Adds or refreshes seq (seq > 0). */
void lb_forward_pending_add(lb_forward_pending_t *p, int64_t seq, int64_t ingested_ms);
void lb_forward_pending_remove(lb_forward_pending_t *p, int64_t seq);
size_t lb_forward_pending_count(const lb_forward_pending_t *p);
/* The smallest ingested time held, or 0 when empty. */
int64_t lb_forward_pending_oldest(const lb_forward_pending_t *p);

#endif

/* Store reads and writes behind the cockpit's admin endpoints (GET /_localbridge/events/ID,
 * /status, POST /reset): one event by id, its deliveries still in the store, delivery counts,
 * and the wipe. */
#ifndef LB_STORE_COCKPIT_H
#define LB_STORE_COCKPIT_H

#include <stdint.h>

#include "lb_store.h"

/* The event with this id: cb once (0), or LB_ENOTFOUND. */
int lb_store_event_get(lb_store_t *s, const char *id, lb_store_event_cb cb, void *ctx);

/* As lb_store_events_before, keeping only events whose envelope's source is source (NULL: any)
 * received at or after since_ms (0: any). */
int lb_store_events_filtered(lb_store_t *s, const char *region, const char *bus, const char *source,
                             int64_t since_ms, int64_t before_seq, int limit, lb_store_event_cb cb,
                             void *ctx);

/* A delivery of an event still in the store: pending (dead 0) or dead-lettered. */
typedef struct {
    const char *rule, *target_id, *target_arn, *error_code, *error_message;
    int attempts, dead;
    int64_t next_ms;
} lb_store_event_delivery_t;
typedef int (*lb_store_event_delivery_cb)(const lb_store_event_delivery_t *d, void *ctx);
int lb_store_event_deliveries(lb_store_t *s, const char *event_id, lb_store_event_delivery_cb cb,
                              void *ctx);

/* Pending deliveries, the ingestion time of the oldest (0 if none), dead letters. */
int lb_store_delivery_counts(lb_store_t *s, int64_t *pending, int64_t *oldest_pending_ms,
                             int64_t *dead_letters);

/* Wipes events, deliveries, dead letters, the attempt log, rules and targets, archives and their
 * events, replays, and every bus but the default ones, in the caller's transaction. max_seq: the
 * largest delivery seq ever given (deliveries up to it are gone). */
int lb_store_reset(lb_store_t *s, int64_t *max_seq);

#endif

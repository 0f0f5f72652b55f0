/* The in-memory model the loop thread answers from: event buses (and, as they arrive, rules and
 * their compiled patterns). It mirrors the store: the daemon loads it at start and applies each
 * change only after the store has committed it, so memory never runs ahead of disk. */
#ifndef LB_ENGINE_H
#define LB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "lb_archive.h"
#include "lb_connections.h"
#include "lb_delivery.h"
#include "lb_docs.h"
#include "lb_functions.h"
#include "lb_replay.h"
#include "lb_rules.h"
#include "lb_store.h"

typedef struct lb_engine lb_engine_t;

int lb_engine_new(lb_engine_t **out);
void lb_engine_free(lb_engine_t **e);

/* Buses are kept sorted by (region, name). The engine owns its copies. */
const lb_bus_record_t *lb_engine_bus_find(const lb_engine_t *e, const char *region,
                                          const char *name);
/* Inserts or replaces (deep copy). */
int lb_engine_bus_put(lb_engine_t *e, const lb_bus_record_t *bus);
int lb_engine_bus_remove(lb_engine_t *e, const char *region, const char *name);
/* Replaces a bus's resource policy (NULL: none) and its modification time; LB_ENOTFOUND if the
 * bus is not there. */
int lb_engine_bus_set_policy(lb_engine_t *e, const char *region, const char *name,
                             const char *policy, int64_t modified_ms);
/* Index of the first bus of region whose name is >= name (name "" gives the region's first). */
size_t lb_engine_bus_lower_bound(const lb_engine_t *e, const char *region, const char *name);
size_t lb_engine_bus_count(const lb_engine_t *e);
const lb_bus_record_t *lb_engine_bus_at(const lb_engine_t *e, size_t i);
/* Loads every bus, rule, target, connection, archive and replay from the store (start-up).
 * Definitions that no longer compile are skipped and counted in *skipped (may be NULL). */
int lb_engine_load(lb_engine_t *e, lb_store_t *s, size_t *skipped);

/* The rules and targets of every bus. */
lb_rules_t *lb_engine_rules(lb_engine_t *e);
/* Connections and API destinations. */
lb_connections_t *lb_engine_connections(lb_engine_t *e);
/* Partner event sources and global endpoints. */
lb_docs_t *lb_engine_docs(lb_engine_t *e);
/* Archives, and replays from them. */
lb_archives_t *lb_engine_archives(lb_engine_t *e);
lb_replays_t *lb_engine_replays(lb_engine_t *e);
/* Local Lambda functions registered at run time. */
lb_functions_t *lb_engine_functions(lb_engine_t *e);

/* POST /_localbridge/reset, after the store was wiped: every rule (the rules hook hears each
 * go), archive and replay, and every bus but those named "default". */
void lb_engine_reset(lb_engine_t *e);

/* Who receives deliveries once their event is committed: the daemon's dispatcher. The hook takes
 * ownership of every delivery in ds (the array itself stays the caller's). hits lists every
 * (event, rule) match of the batch, for the TriggeredRules and MatchedEvents metrics. */
typedef struct {
    const char *region, *bus, *rule;
    int first_for_event; /* the event's first matching rule: counts one MatchedEvent */
} lb_rule_hit_t;
typedef void (*lb_delivery_hook_fn)(void *ctx, lb_delivery_t **ds, size_t n,
                                    const lb_rule_hit_t *hits, size_t n_hits);
void lb_engine_set_delivery_hook(lb_engine_t *e, lb_delivery_hook_fn fn, void *ctx);

/* Whether an ARN a target or dead-letter queue names has a route (the daemon asks its adapters):
 * called after PutTargets committed, for every target ARN and DeadLetterConfig ARN of the rule, so
 * a target nothing can deliver to is reported when it is accepted, not when an event fails. dlq:
 * arn is the target's dead-letter queue. */
typedef void (*lb_route_hook_fn)(void *ctx, const char *region, const char *bus, const char *rule,
                                 const char *target_id, const char *arn, int dlq);
void lb_engine_set_route_hook(lb_engine_t *e, lb_route_hook_fn fn, void *ctx);
void lb_engine_check_route(lb_engine_t *e, const char *region, const char *bus, const char *rule,
                           const char *target_id, const char *arn, int dlq);
/* Hands committed deliveries to the hook (or frees them when there is none). */
void lb_engine_deliveries_committed(lb_engine_t *e, lb_delivery_t **ds, size_t n,
                                    const lb_rule_hit_t *hits, size_t n_hits);

/* Who is told of every event once it is committed (before its deliveries reach the delivery
 * hook): the daemon's live stream. Everything is borrowed for the call. hits are the rules the
 * event matched. */
typedef struct {
    const char *id, *region, *bus;
    const char *envelope;
    size_t envelope_len;
    int64_t ingested_ms;
    const lb_rule_hit_t *hits;
    size_t n_hits;
    int replayed;
} lb_event_committed_t;
typedef void (*lb_event_hook_fn)(void *ctx, const lb_event_committed_t *ev);
void lb_engine_set_event_hook(lb_engine_t *e, lb_event_hook_fn fn, void *ctx);
/* 1 when an event hook is set: the caller need not build what it would be given. */
int lb_engine_has_event_hook(const lb_engine_t *e);
void lb_engine_event_committed(lb_engine_t *e, const lb_event_committed_t *ev);

#endif

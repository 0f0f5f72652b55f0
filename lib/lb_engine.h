/* The in-memory model the loop thread answers from: event buses (and, as they arrive, rules and
 * their compiled patterns). It mirrors the store: the daemon loads it at start and applies each
 * change only after the store has committed it, so memory never runs ahead of disk. */
#ifndef LB_ENGINE_H
#define LB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

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
/* Index of the first bus of region whose name is >= name (name "" gives the region's first). */
size_t lb_engine_bus_lower_bound(const lb_engine_t *e, const char *region, const char *name);
size_t lb_engine_bus_count(const lb_engine_t *e);
const lb_bus_record_t *lb_engine_bus_at(const lb_engine_t *e, size_t i);
/* Loads every bus, rule and target from the store (start-up). Rules or targets whose stored
 * definition no longer compiles are skipped and counted in *skipped (may be NULL). */
int lb_engine_load(lb_engine_t *e, lb_store_t *s, size_t *skipped);

/* The rules and targets of every bus. */
lb_rules_t *lb_engine_rules(lb_engine_t *e);

#endif

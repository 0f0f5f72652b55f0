/* The sidecar's forwards: each `forward = BUS -> ARN [PATTERN]` line becomes a rule on BUS with
 * one target, ARN, so every event accepted there (or matching PATTERN) is forwarded to Amazon
 * EventBridge through the same durable deliveries as any rule. The rules are managed
 * (ManagedBy "localbridge"): ListRules and DescribeRule show them, the API cannot change them,
 * and they live in memory only, made again from the configuration at every start. A BUS the
 * daemon does not have yet is created (and stored) in its region. */
#ifndef LB_FORWARDS_H
#define LB_FORWARDS_H

#include "lb_config.h"
#include "lb_engine.h"
#include "lb_log.h"
#include "lb_store.h"

/* ManagedBy of the rules forward lines make. */
#define LB_FORWARD_MANAGED_BY "localbridge"

/* Installs the managed rules of cfg's forward lines into engine (store: to create missing
 * buses, before the writer thread owns it). On error *err is a malloc'd message. */
int lb_forwards_install(const struct lb_settings *cfg, lb_engine_t *engine, lb_store_t *store,
                        const lb_log_t *log, char **err);

/* The managed rule name of a forward line: "LocalBridgeForward-<bus name>-<8 hex digits>" (the
 * bus name shortened to fit 64 characters; the digits hash bus, ARN and pattern). */
void lb_forwards_rule_name(const struct lb_forward *f, char *out /* [65] */);

#endif

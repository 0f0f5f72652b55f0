/* Event-bus targets (arn:aws:events:REGION:ACCOUNT:event-bus/NAME) on this daemon: the delivered
 * event goes onto that bus through the ingest road, as EventBridge forwards it (source,
 * detail-type, detail, resources and time kept; a new id; this account and the bus's region),
 * committed in one transaction before the delivery counts as done. Nothing goes back through
 * HTTP. */
#ifndef LB_TARGET_BUS_H
#define LB_TARGET_BUS_H

#include "lb_adapter.h"

lb_adapter_t *lb_target_bus_new(const lb_adapter_env_t *env);

#endif

/* Event bus operations: CreateEventBus, DescribeEventBus, ListEventBuses, UpdateEventBus,
 * DeleteEventBus. */
#ifndef LB_OPS_BUS_H
#define LB_OPS_BUS_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

void lb_op_create_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_event_buses(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_update_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_delete_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* The bus a request names (name or ARN, NULL = "default") in the call's region, or NULL with
 * ResourceNotFoundException set on the call. The default bus always exists. */
const lb_bus_record_t *lb_bus_resolve(lb_engine_t *engine, lb_call_t *call, const char *name);
/* Rewrites a bus with new tags and answers {} once committed. */
void lb_bus_defer_retag(lb_engine_t *engine, lb_call_t *call, const lb_bus_record_t *bus,
                        const char *tags_json);
/* Writes the bus ARN for the call's region/account into out. */
void lb_bus_arn(const lb_call_t *call, const char *name, char *out, size_t outlen);

#endif

/* TestEventPattern, and the explaining variant behind the admin endpoint
 * POST /_localbridge/test-event-pattern, which answers like TestEventPattern plus a "Reason"
 * naming the first pattern field that failed and what the event held there. */
#ifndef LB_OPS_PATTERN_H
#define LB_OPS_PATTERN_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

void lb_op_test_event_pattern(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_explain_event_pattern(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

#endif

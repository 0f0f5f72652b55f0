/* Event bus permissions: PutPermission (one statement from Action/Principal/StatementId/Condition,
 * or a whole Policy document) and RemovePermission (StatementId or RemoveAllPermissions). The
 * policy itself is built and checked by lib/engine/lb_policy; DescribeEventBus returns it. */
#ifndef LB_OPS_PERM_H
#define LB_OPS_PERM_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

void lb_op_put_permission(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_remove_permission(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

#endif

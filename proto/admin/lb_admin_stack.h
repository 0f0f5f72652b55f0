/* Stack records for `localbridge deploy` (admin endpoints /_localbridge/stacks/NAME): the client
 * reads the record before planning and writes it after applying, so a redeploy converges.
 *
 * GetStack {StackName, Region?}
 *   -> {"StackName", "Region", "LastUpdatedTime", "Resources": [...]}, or
 *      ResourceNotFoundException "Stack with id NAME does not exist".
 * PutStack {StackName, Region?, Resources: [{LogicalId, Type, PhysicalId, Hash,
 *           Attributes?: {name: string}, Properties?: any}, ...]}  (at most 500)  -> {}
 * DeleteStack {StackName, Region?} -> {} (the record only: resources are the client's to delete).
 *
 * StackName follows CloudFormation: a letter, then letters, digits and '-', 1 to 128. */
#ifndef LB_ADMIN_STACK_H
#define LB_ADMIN_STACK_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

#define LB_STACK_MAX_RESOURCES 500

void lb_admin_get_stack(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_put_stack(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_delete_stack(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

#endif

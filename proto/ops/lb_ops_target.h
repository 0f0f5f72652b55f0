/* Target and tag operations: PutTargets, RemoveTargets, ListTargetsByRule, TagResource,
 * UntagResource, ListTagsForResource. */
#ifndef LB_OPS_TARGET_H
#define LB_OPS_TARGET_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

void lb_op_put_targets(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_remove_targets(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_targets_by_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_tag_resource(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_untag_resource(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_tags_for_resource(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

#endif

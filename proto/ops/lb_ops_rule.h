/* Rule operations: PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule,
 * ListRuleNamesByTarget. */
#ifndef LB_OPS_RULE_H
#define LB_OPS_RULE_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"
#include "lb_validate.h"

void lb_op_put_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_rules(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_delete_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_enable_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_disable_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_rule_names_by_target(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* Resolves the request's EventBusName (name or ARN; default when absent) to a bus that exists,
 * or sets the error and returns NULL. */
const lb_bus_record_t *lb_rule_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
/* Finds the rule named by req[key] on the request's bus, or sets AWS's error and returns NULL. */
lb_rule_t *lb_rule_lookup(lb_engine_t *engine, const lb_json_t *req, const char *key,
                          lb_call_t *call);
/* Rewrites a rule with a new state and tags (everything else kept) and answers {} once
 * committed. */
void lb_rule_defer_replace(lb_engine_t *engine, lb_call_t *call, const lb_rule_t *rule,
                           const char *state, const char *tags_json);
/* A managed rule (ManagedBy set) is not the caller's to change: ManagedRuleException, as AWS
 * answers for a rule an AWS service manages. DeleteRule and RemoveTargets take Force in AWS; the
 * only managed rules here are LocalBridge's forward lines, which the configuration owns, so Force
 * is refused too, saying so. takes_force: the operation has a Force parameter. 0 when rule may be
 * changed; -1 with the error set. */
int lb_rule_managed_refused(const lb_rule_t *rule, int takes_force, int force, lb_call_t *call);
/* Validates a rule name of len bytes (NULL: absent) as AWS does; adds to v. */
void lb_check_rule_name(const char *name, size_t len, const char *member, lb_verrs_t *v);

#endif

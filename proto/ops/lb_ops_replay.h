/* Replay operations: StartReplay, DescribeReplay, ListReplays, CancelReplay. StartReplay and
 * CancelReplay commit the replay's new state and then tell the daemon's replayer (through the
 * replay registry's hook), which does the replaying in the background; Describe and List answer
 * from the registry, which the replayer keeps up to date as batches commit. */
#ifndef LB_OPS_REPLAY_H
#define LB_OPS_REPLAY_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

void lb_op_start_replay(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_replay(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_replays(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_cancel_replay(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

#endif

/* Local Lambda handlers: a Lambda function target whose name a registered function
 * (PUT /_localbridge/functions/NAME) or a `lambda_handler` glob covers runs a local command per
 * invocation (lb_lambda_proc.h), with Lambda's environment (lb_lambda_env.h). As EventBridge
 * invokes Lambda asynchronously, a run that fails (exit status not 0, a signal, the timeout) is a
 * function error under the function's own retry policy (retries, max event age), not the
 * target's RetryPolicy; a run refused by the function's concurrency limit, or a command that
 * cannot start, is a failure to invoke. Once Lambda's retries are over, the function's
 * on-failure destination gets Lambda's invocation record. Asked before lambda_endpoint. */
#ifndef LB_TARGET_LAMBDA_LOCAL_H
#define LB_TARGET_LAMBDA_LOCAL_H

#include "lb_adapter.h"

lb_adapter_t *lb_target_lambda_local_new(const lb_adapter_env_t *env);

#endif

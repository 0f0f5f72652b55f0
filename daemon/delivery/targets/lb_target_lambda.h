/* Lambda targets (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]): the Lambda Invoke API
 * (POST /2015-03-31/functions/NAME/invocations, invocation type Event) at the configured
 * lambda_endpoint, e.g. `sam local start-lambda` or the runtime interface emulator. Without a
 * lambda_endpoint this adapter takes no target. */
#ifndef LB_TARGET_LAMBDA_H
#define LB_TARGET_LAMBDA_H

#include "lb_adapter.h"

lb_adapter_t *lb_target_lambda_new(const lb_adapter_env_t *env);

#endif

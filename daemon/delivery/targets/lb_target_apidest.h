/* API destination targets (arn:aws:events:REGION:ACCOUNT:api-destination/NAME/ID): the HTTP call
 * the destination, its connection and the target's HttpParameters describe, at the destination's
 * InvocationRateLimitPerSecond. The adapter also keeps OAuth connections' access tokens fresh:
 * it requests one for each OAuth connection that has none or whose token is about to expire. */
#ifndef LB_TARGET_APIDEST_H
#define LB_TARGET_APIDEST_H

#include "lb_adapter.h"

lb_adapter_t *lb_target_apidest_new(const lb_adapter_env_t *env);

#endif

/* Every kind of target this daemon can deliver to, in the order the dispatcher asks them: a
 * target_map line first (it may stand in for any ARN), then API destinations, event buses on
 * Amazon EventBridge (forwarding), event buses on this daemon, local Lambda handlers, then
 * lambda_endpoint's Lambda functions (a handler is more specific). The one place
 * that names target kinds. */
#ifndef LB_TARGETS_H
#define LB_TARGETS_H

#include <stddef.h>

#include "lb_adapter.h"

/* Creates one adapter of each kind; *out is a malloc'd array of *n adapters (free each with its
 * free, then the array). */
void lb_targets_create(const lb_adapter_env_t *env, lb_adapter_t ***out, size_t *n);

#endif

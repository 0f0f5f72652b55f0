/* URL-map targets: any target ARN that matches a `target_map = GLOB -> URL` line of the config
 * is POSTed there with the (transformed) event as body, whatever its kind (SQS, SNS, Step
 * Functions, ...). A mapped DeadLetterConfig queue receives failed events the same way, with
 * AWS's dead-letter attributes as X-EventBridge-<NAME> headers. Checked before every other kind,
 * so a mapping can stand in for any target. */
#ifndef LB_TARGET_URLMAP_H
#define LB_TARGET_URLMAP_H

#include "lb_adapter.h"

lb_adapter_t *lb_target_urlmap_new(const lb_adapter_env_t *env);

#endif

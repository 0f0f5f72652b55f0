/* Built-in queues as targets and dead-letter queues: an SQS ARN naming a queue on this daemon
 * (arn:aws:sqs:REGION:ACCOUNT:NAME of the daemon's account) takes the event as SendMessage would,
 * committed before the delivery counts as done. A target_map line for the ARN wins (it is
 * checked first). */
#ifndef LB_TARGET_QUEUE_H
#define LB_TARGET_QUEUE_H

#include "lb_adapter.h"

lb_adapter_t *lb_target_queue_new(const lb_adapter_env_t *env);

#endif

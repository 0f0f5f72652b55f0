/* Forwarding to Amazon EventBridge: event-bus targets this daemon does not hold go to the real
 * service with PutEvents (AWS JSON 1.1, signed with lb_sigv4). An event-bus ARN is forwarded when
 * its account is not this daemon's account_id, or when its region is not this daemon's region
 * and the daemon holds no bus of that name there. `forward = BUS -> ARN` lines make such
 * targets through managed rules.
 *
 * Each upstream entry is rebuilt from the delivered envelope (lb_putevents: Source, DetailType,
 * the Detail bytes as accepted, Resources, Time, TraceHeader). Deliveries due together for one
 * bus go in one PutEvents of up to 10 entries and 256 KB as AWS counts them (the adapter holds
 * what send() gives it until flush()). With a partial failure only the failed entries fail:
 * ThrottlingException, InternalException and 5xx are retried with the dispatcher's backoff,
 * other entry errors are dead-lettered with the upstream's ErrorCode and ErrorMessage.
 *
 * Credentials come from lb_awscreds; the endpoint is forward_endpoint, AWS_ENDPOINT_URL_EVENTS,
 * AWS_ENDPOINT_URL or https://events.REGION.amazonaws.com. /metrics gets forwarded, retried and
 * failed entry counts and the age of the oldest pending forward; /health says when the upstream
 * is stuck. */
#ifndef LB_TARGET_FORWARD_H
#define LB_TARGET_FORWARD_H

#include "lb_adapter.h"

lb_adapter_t *lb_target_forward_new(const lb_adapter_env_t *env);

#endif

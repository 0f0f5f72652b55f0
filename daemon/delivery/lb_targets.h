/* Target adapters: how a delivery reaches its target on this machine.
 *   1. A `target_map` glob in the config matching the target ARN: POST the body to that URL
 *      (any kind of target: SQS, SNS, Step Functions, ... can land on a local service).
 *   2. An API destination (arn:aws:events:...:api-destination/NAME/ID): the HTTP call its
 *      connection and the target's HttpParameters describe.
 *   3. A Lambda function (arn:aws:lambda:...:function:NAME): the Lambda Invoke API, invocation
 *      type Event, at the configured lambda_endpoint (sam local start-lambda, the runtime
 *      interface emulator).
 *   4. An event bus on this daemon (arn:aws:events:REGION:ACCOUNT:event-bus/NAME): the event is
 *      put on that bus.
 * Anything else cannot be reached and fails permanently, with a message saying how to map it. */
#ifndef LB_TARGETS_H
#define LB_TARGETS_H

#include "lb_config.h"
#include "lb_connections.h"
#include "lb_delivery.h"

typedef enum {
    LB_ROUTE_HTTP,       /* send req */
    LB_ROUTE_BUS,        /* put the body as an event on bus_name in bus_region */
    LB_ROUTE_WAIT,       /* not now (rate limit, OAuth token pending): retry after wait_ms */
    LB_ROUTE_FAIL,       /* cannot be delivered: error_code/error_message, permanent */
} lb_route_kind_t;

typedef struct {
    lb_route_kind_t kind;
    lb_http_call_t req;
    char bus_region[32];
    char bus_name[512];
    int64_t wait_ms;
    char *oauth_connection; /* for WAIT on an OAuth token: the connection needing one */
    char error_code[48];
    char error_message[512];
} lb_route_t;

int lb_target_route(const lb_config_t *cfg, lb_connections_t *conns, const lb_delivery_t *d,
                    int64_t now_ms, lb_route_t *out);
void lb_route_clear(lb_route_t *r);

#endif

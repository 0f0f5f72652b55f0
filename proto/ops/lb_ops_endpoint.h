/* Global endpoints: CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
 * DeleteEndpoint, the route PutEvents takes with an EndpointId, and the admin switch that stands
 * in for the Route 53 health check (SetEndpointHealth, POST /_localbridge/endpoints/health).
 *
 * An endpoint is an lb_docs document in its home region (the region it was created in, which is
 * its primary) holding AWS's members: Name, Description?, Arn, RoutingConfig, ReplicationConfig,
 * EventBuses (the same bus name in the primary and the secondary region), RoleArn?, EndpointId,
 * EndpointUrl, State, CreationTime and LastModifiedTime (epoch ms). Its health is runtime state
 * (the lb_docs mark: 1 = unhealthy); every endpoint starts healthy, after a restart too. */
#ifndef LB_OPS_ENDPOINT_H
#define LB_OPS_ENDPOINT_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

void lb_op_create_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_endpoints(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_update_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_delete_endpoint(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* Admin: {Name, HomeRegion?, Healthy: bool} -> {Name, HomeRegion, Healthy}. */
void lb_admin_set_endpoint_health(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* Where PutEvents with an EndpointId puts its events: the bus `bus` in `region` (the primary
 * while it is healthy, else the secondary), and a copy into the same bus of replica_region
 * ("" for none) when replication is enabled and the primary takes the event. */
typedef struct {
    char region[32];
    char bus[257];
    char replica_region[32];
} lb_endpoint_route_t;

/* Fills route for the endpoint whose EndpointId is endpoint_id (any home region). -1 with the
 * error set on the call: ValidationException for a malformed id, ResourceNotFoundException for
 * an unknown one. */
int lb_endpoint_route(lb_engine_t *engine, lb_call_t *call, const char *endpoint_id,
                      lb_endpoint_route_t *route);

#endif

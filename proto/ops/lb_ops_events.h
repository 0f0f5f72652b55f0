/* PutEvents: validates entries as AWS does and hands each accepted one to the ingest road
 * (lib/ingest), which builds its envelope, matches it and renders its deliveries; the batch is
 * committed before the response goes out. */
#ifndef LB_OPS_EVENTS_H
#define LB_OPS_EVENTS_H

#include "lb_call.h"
#include "lb_json.h"
#include "lb_engine.h"

/* AWS's limit on the summed size of a PutEvents request's entries. */
#define LB_PUT_EVENTS_MAX_BYTES (256 * 1024)

void lb_op_put_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
/* PutPartnerEvents: a SaaS partner's events (up to 20), each onto the partner event bus of its
 * source (see lb_ops_source.h), built as PutEvents builds an event: source is the event source's
 * name, account and region the bus's. */
void lb_op_put_partner_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

#endif

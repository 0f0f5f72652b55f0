/* Partner event sources, both sides of them.
 *
 * The SaaS partner's side: CreatePartnerEventSource (a source offered to one account),
 * DescribePartnerEventSource, ListPartnerEventSources, ListPartnerEventSourceAccounts,
 * DeletePartnerEventSource, and PutPartnerEvents (in lb_ops_events.c).
 * The customer's side: ListEventSources, DescribeEventSource, ActivateEventSource,
 * DeactivateEventSource, and CreateEventBus with EventSourceName (a partner event bus).
 *
 * One daemon plays both: the partner side sees every source of the region; the customer side
 * sees the sources offered to the daemon's account (--account-id). A source is stored as an
 * lb_docs document {Name, Account, CreationTime (epoch ms), Deactivated, Deleted}; its State is
 * computed: DELETED once the partner deleted it while a partner bus still matched it, ACTIVE while
 * a bus of its name exists and it is not deactivated, PENDING otherwise. */
#ifndef LB_OPS_SOURCE_H
#define LB_OPS_SOURCE_H

#include <stddef.h>

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

#define LB_SOURCE_NAME_PATTERN "aws\\.partner(/[\\.\\-_A-Za-z0-9]+){2,}"

void lb_op_create_partner_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_delete_partner_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_partner_event_source(lb_engine_t *engine, const lb_json_t *req,
                                         lb_call_t *call);
void lb_op_list_partner_event_sources(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_list_partner_event_source_accounts(lb_engine_t *engine, const lb_json_t *req,
                                              lb_call_t *call);
void lb_op_list_event_sources(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_describe_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_activate_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_op_deactivate_event_source(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* 1 if the len bytes of s are an event source name (LB_SOURCE_NAME_PATTERN). */
int lb_source_name_ok(const char *s, size_t len);

/* The source a customer may match a partner bus to: offered to the call's account and not
 * deleted by its partner. NULL if there is none. */
const lb_json_t *lb_source_for_customer(lb_engine_t *engine, const lb_call_t *call,
                                        const char *name);

/* Where a partner event of source `name` goes: LB_SOURCE_DELIVER (the partner bus of the same
 * name exists and the source is active), LB_SOURCE_DROP (the source exists but no bus takes its
 * events now: AWS drops them), or LB_SOURCE_UNKNOWN (no such source, or deleted). */
enum { LB_SOURCE_DELIVER, LB_SOURCE_DROP, LB_SOURCE_UNKNOWN };
int lb_source_route(lb_engine_t *engine, const lb_call_t *call, const char *name);

/* 1 if deleting bus `name` must also forget its source: one its partner deleted already. */
int lb_source_gone_with_bus(lb_engine_t *engine, const lb_call_t *call, const char *name);

#endif

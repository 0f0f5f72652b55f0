/* LocalBridge's own admin operations, beside the AWS API: list stored events, list dead letters,
 * redrive dead letters, fire a scheduled rule now. They validate like AWS operations
 * (ValidationException with what was wrong and what is allowed), answer through the same error
 * table, and never touch the store on the caller's thread: listings defer their reads
 * (lb_call_defer_read, run on the daemon's reader thread), a redrive defers its write
 * (lb_call_defer, run on the writer).
 *
 * Requests are JSON objects. The daemon builds one from a GET's query string (bus ->
 * EventBusName, rule -> RuleName, region -> Region, limit -> Limit, next_token -> NextToken; every
 * value a string) or parses a POST's body. Limit may be a JSON integer or its decimal text.
 *
 * ListEvents {EventBusName?, Source?, Since? (ISO 8601: received at or after), Region?,
 *   Limit? (1..1000000, default 100), NextToken?}
 *   -> {"Events": [<envelope>, ...], "NextToken"?: "..."}  newest first.
 * ListDeadLetters {EventBusName?, RuleName?, Region?, Limit?, NextToken?}
 *   -> {"DeadLetters": [{Id, EventId, EventBusName, RuleName, TargetId, TargetArn, ERROR_CODE,
 *       ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS, DeadAt, Body}, ...],
 *       "NextToken"?: "..."}  most recently dead first.
 * RedriveDeadLetters {Ids?: [Id, ...] (integers from 1), EventBusName?, RuleName?, Region?}
 *   -> {"Redriven": n}  Ids absent: every dead letter the filters select.
 *
 * FireScheduledRule {Name, EventBusName?, Region?}
 *   -> {"EventId": "...", "Time": "...:00Z"}  the rule's firing, now: the very event a scheduled
 *      firing sends (its time the current minute), to that rule's targets alone. The rule must
 *      have a ScheduleExpression and be enabled. An extra firing: the schedule is unchanged.
 *
 * Local Lambda functions registered at run time (lb_functions.h; the daemon routes
 * PUT/GET/DELETE /_localbridge/functions[/NAME] here, NAME as FunctionName):
 * PutFunction {FunctionName, Definition: {command: [argv...], timeout?: 1..900 (s),
 *   environment?: {NAME: "value"}, maximum_retry_attempts?: 0..2, maximum_event_age_seconds?:
 *   60..21600, reserved_concurrency?: 0..1000, on_failure_arn?: "arn:..."}}
 *   -> the function: {"name", <the definition>, "last_modified"}  creates or replaces it.
 * ListFunctions {} -> {"Functions": [<function>, ...]}  by name.
 * DeleteFunction {FunctionName} -> {}  NotFoundException (404) when there is none.
 *
 * Paging: a page ends at Limit items or once it holds LB_ADMIN_PAGE_BYTES of JSON, whichever
 * comes first (always at least one item), so no listing holds more than about that much memory
 * however large Limit is. NextToken is present exactly when more items follow; pass it back
 * (with the same filters) for the next page. Tokens are opaque. */
#ifndef LB_ADMIN_H
#define LB_ADMIN_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

/* The byte budget of one listing page. */
#define LB_ADMIN_PAGE_BYTES (4u << 20)
/* Largest Limit a listing accepts, and most Ids one redrive takes. */
#define LB_ADMIN_MAX_LIMIT 1000000
#define LB_ADMIN_MAX_IDS 10000

void lb_admin_list_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_list_dead_letters(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_redrive_dead_letters(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_fire_scheduled_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_put_function(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_list_functions(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);
void lb_admin_delete_function(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

#endif

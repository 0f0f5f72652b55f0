/* The EventBridge API surface: AWS JSON 1.1 requests (`X-Amz-Target: AWSEvents.<Operation>`)
 * turned into engine calls and AWS-shaped responses. No I/O: the daemon hands in the request and
 * runs whatever store work the call defers (see lb_call.h). */
#ifndef LB_API_H
#define LB_API_H

#include <stddef.h>

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

typedef struct lb_api lb_api_t;

int lb_api_new(lb_engine_t *engine, lb_api_t **out);
void lb_api_free(lb_api_t **api);

/* Handles one request. target is the X-Amz-Target header (may be NULL), content_type the
 * Content-Type header (may be NULL); body must be NUL-terminated at len. The call's context
 * (region, account, request id, now) must be set. On return either the response is complete
 * (call->txn == NULL) or the daemon must run call->txn in a store transaction and then call
 * lb_call_complete(). */
void lb_api_handle(lb_api_t *api, lb_call_t *call, const char *target, const char *content_type,
                   const char *body, size_t len);

/* The region named by a SigV4 Authorization header's credential scope
 * ("Credential=AKID/20240101/eu-west-1/events/aws4_request"). 0 and out filled, or -1. */
int lb_api_region_from_auth(const char *authorization, char *out, size_t outlen);

/* With auth = sigv4: 1 (and AccessDeniedException on call) when the caller's account is not the
 * daemon's and operation is not one such a caller may call (PutEvents, TestEventPattern). */
int lb_api_foreign_caller_denied(lb_call_t *call, const char *operation);

/* ---- LocalBridge admin operations on lb_json requests (proto/admin/lb_admin.h) ---- */

/* Handles admin operation name (ListEvents, ListDeadLetters, RedriveDeadLetters,
 * FireScheduledRule) with a request object the daemon built (from a GET's query string). The
 * call's context must be set. On return the response is complete, or the daemon must run
 * call->read on its reader thread or call->txn on its writer, then call lb_call_complete(). */
void lb_api_handle_admin(lb_api_t *api, lb_call_t *call, const char *name, const lb_json_t *req);
/* The same with a POST's JSON body (empty means {}): invalid JSON is a SerializationException. */
void lb_api_handle_admin_body(lb_api_t *api, lb_call_t *call, const char *name, const char *body,
                              size_t len);

/* Number of operations in the table and the i-th name (for docs and tests). */
size_t lb_api_operation_count(void);
const char *lb_api_operation_name(size_t i);

#endif

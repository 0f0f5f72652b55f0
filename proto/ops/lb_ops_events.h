/* PutEvents: validates entries as AWS does, builds each event's envelope exactly as EventBridge
 * delivers it, and defers the durable insert; the response goes out only after the commit. */
#ifndef LB_OPS_EVENTS_H
#define LB_OPS_EVENTS_H

#include "lb_call.h"
#include "lb_engine.h"
#include "lb_json.h"

/* AWS's limit on the summed size of a PutEvents request's entries. */
#define LB_PUT_EVENTS_MAX_BYTES (256 * 1024)

void lb_op_put_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call);

/* Builds the envelope {"version":"0","id",...,"detail"} into out. detail_json must be the text
 * of a JSON object (inserted as is); resources a JSON array of strings (or NULL for []). */
void lb_envelope_build(lb_buf_t *out, const char *id, const char *detail_type, const char *source,
                       const char *account, int64_t time_ms, const char *region,
                       const lb_json_t *resources, const char *detail_json);

#endif

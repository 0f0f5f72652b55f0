/* The PutEvents request and answer as forwarding to Amazon EventBridge writes and reads them:
 * an upstream entry rebuilt from a delivered envelope (Source, DetailType, the Detail text exactly
 * as the envelope holds it, Resources, Time, TraceHeader, the target bus's ARN), its size as AWS
 * counts it, the per-entry results of an answer, and which errors AWS says to retry. Pure
 * functions, no I/O. */
#ifndef LB_PUTEVENTS_H
#define LB_PUTEVENTS_H

#include <stddef.h>

#include "lb_json.h"
#include "lb_util.h"

/* PutEvents takes at most 10 entries, whose sizes add up to at most 256 KB. */
#define LB_PUTEVENTS_MAX_ENTRIES 10
#define LB_PUTEVENTS_MAX_BYTES (256 * 1024)

/* Appends to out the JSON object of one request entry for the event envelope (as delivered),
 * bound for bus_arn, with trace_header (NULL: none), and sets *size to the entry's size as AWS
 * counts it: 14 for Time, plus the UTF-8 bytes of Source, DetailType, Detail and each resource.
 * -EINVAL (out unchanged) if envelope is not an event (an object with source, detail-type and an
 * object detail). */
int lb_putevents_entry(const char *envelope, size_t len, const char *bus_arn,
                       const char *trace_header, lb_buf_t *out, size_t *size);

/* One entry of a PutEvents answer: an EventId, or an ErrorCode and ErrorMessage (pointers into
 * the parsed answer, valid while its document lives). */
typedef struct {
    const char *event_id;
    const char *error_code, *error_message;
} lb_putevents_result_t;

/* Reads the n entry results of a 200 answer into out[n]; *doc holds the parsed answer (free it
 * with lb_json_doc_free). -EINVAL when the answer is not JSON or does not list n entries. */
int lb_putevents_results(const char *json, size_t len, size_t n, lb_putevents_result_t *out,
                         lb_json_doc_t **doc);

/* The error of a non-200 answer: its __type without a "namespace#" prefix (or the x-amzn error
 * type's absence: "" when the body says nothing) and its message, copied into type and message. */
void lb_putevents_error(const char *json, size_t len, char *type, size_t type_n, char *message,
                        size_t message_n);

/* 1 if an entry error or a whole-request error is one AWS says to retry: ThrottlingException,
 * InternalException, InternalFailure and ServiceUnavailable. */
int lb_putevents_retryable(const char *code);

/* 1 if a whole-request error says the credentials are not good (now): expired, unknown, a bad
 * signature or a clock too far off. Fresh credentials may fix it, so it is retried. */
int lb_putevents_auth_error(const char *code);

#endif

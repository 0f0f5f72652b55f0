/* What a local Lambda run gets besides its event: the environment Lambda gives a function
 * (reserved variables, region, credentials placeholders, AWS_ENDPOINT_URL at this daemon), the
 * runner's context variables, and the invocation record Lambda sends to an on-failure
 * destination. */
#ifndef LB_LAMBDA_ENV_H
#define LB_LAMBDA_ENV_H

#include <stdint.h>

#include "lb_delivery.h"
#include "lb_util.h"

typedef struct {
    const char *function, *function_arn, *request_id, *region;
    const char *endpoint_url; /* this daemon, as listening; NULL = none */
    int64_t timeout_ms;
    char *const *function_env; /* "K=V" of a registered function, or NULL */
    const char *runner;        /* path of the Python runner, for a leading "@python-runner" */
} lb_lambda_env_t;

/* A malloc'd copy of a NULL-terminated string vector (NULL gives NULL). */
char **lb_lambda_env_copy(char *const *v);
/* The whole environment of a run: the daemon's own, then AWS_ENDPOINT_URL, the function's
 * variables, then Lambda's reserved ones (which win, as in Lambda). Rewrites "@python-runner"
 * as argv[0] or argv[1] (after an interpreter) to the runner's path. Malloc'd,
 * NULL-terminated. */
char **lb_lambda_env_build(const lb_lambda_env_t *e, char **argv);

/* Lambda's invocation record for an on-failure destination: version 1.0, timestamp,
 * requestContext {requestId, functionArn, condition, approximateInvokeCount}, requestPayload (the
 * event), responseContext {statusCode, executedVersion, functionError} and responsePayload (the
 * error object in error_json, or a string when it is not JSON). */
void lb_lambda_failure_record(const lb_delivery_t *d, const char *region, const char *account,
                              const char *function, const char *condition, const char *error_json,
                              int64_t now_ms, lb_buf_t *out);

#endif

/* Local Lambda functions as the config and the functions admin endpoint describe them: which
 * command runs a function, and its settings (a SAM function's Timeout, ReservedConcurrentExecutions
 * and EventInvokeConfig, one to one). Pure parsing and lookup; no I/O.
 *
 *     lambda_handler  = GLOB -> COMMAND ARG...
 *     lambda_function = GLOB [timeout=DURATION] [concurrency=N] [retries=0..2]
 *                            [max_event_age=DURATION] [on_failure=ARN]
 *
 * GLOB matches the function's name ('*' and '?'). The command is split on spaces, no shell; an
 * argument holding spaces is wrapped in double quotes ("a b"), and \" and \\ escape inside quotes.
 * "@python-runner" as the command (or as its first argument, after a Python interpreter) stands for
 * the Python runner installed beside the daemon. */
#ifndef LB_LAMBDA_CONF_H
#define LB_LAMBDA_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_config.h"

/* Lambda's own defaults: 3 s (the Lambda API's and SAM's default Timeout), 2 retries, 6 h. */
#define LB_LAMBDA_DEFAULT_TIMEOUT_MS 3000
#define LB_LAMBDA_DEFAULT_RETRIES 2
#define LB_LAMBDA_DEFAULT_MAX_AGE_S 21600
#define LB_LAMBDA_RUNNER_TOKEN "@python-runner"

/* A function's settings; -1 (NULL for on_failure) = not set here. */
typedef struct {
    int64_t timeout_ms;
    int concurrency; /* 0 = none may run (ZeroReservedConcurrency) */
    int retries;
    int max_event_age_s;
    char *on_failure;
} lb_lambda_settings_t;

void lb_lambda_settings_unset(lb_lambda_settings_t *s);
void lb_lambda_settings_clear(lb_lambda_settings_t *s);

/* "GLOB -> COMMAND ARG...": 0 with *glob and a NULL-terminated *argv (all malloc'd; free with
 * lb_lambda_argv_free), or -1 with msg saying what is wrong. */
int lb_lambda_parse_handler(const char *line, char **glob, char ***argv, char *msg, size_t n);
void lb_lambda_argv_free(char **argv);
/* "GLOB key=value...": 0 with *glob and *out filled (fields not given stay unset). */
int lb_lambda_parse_function(const char *line, char **glob, lb_lambda_settings_t *out, char *msg,
                             size_t n);

/* The config's validators for the two lines. */
bool lb_lambda_handler_valid(const char *line);
bool lb_lambda_function_valid(const char *line);

/* The first lambda_handler line whose glob matches name: 0 with a malloc'd argv, or -1. */
int lb_lambda_find_handler(const struct lb_lines *handlers, const char *name, char ***argv);
/* Fills what is still unset in *out from the lambda_function lines matching name, in order (the
 * first line that sets a field wins), then from Lambda's defaults. */
void lb_lambda_resolve_settings(const struct lb_lines *functions, const char *name,
                                lb_lambda_settings_t *out);

#endif

/* Local Lambda functions registered at run time (PUT /_localbridge/functions/NAME, what
 * `localbridge deploy` does for a SAM template's functions): the command that runs each one, its
 * environment and its asynchronous-invocation settings. Kept in the store (lambda_functions) so
 * they survive a restart, and in memory for the delivery adapter. A registered function wins over
 * a config lambda_handler glob for its exact name. */
#ifndef LB_FUNCTIONS_H
#define LB_FUNCTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "lb_json.h"
#include "lb_store.h"

#define LB_FUNCTION_NAME_MAX 64

typedef struct {
    char *name;
    char **argv;        /* NULL-terminated, at least one word */
    char **env;         /* "KEY=VALUE", NULL-terminated (may be empty) */
    int64_t timeout_ms; /* -1 when not given: the config's lambda_function lines, then 3 s */
    int retries;        /* -1 when not given; else 0..2 */
    int max_age_s;      /* -1 when not given; else 60..21600 */
    int concurrency;    /* -1 when not given */
    char *on_failure;   /* an ARN, or NULL */
    char *spec;         /* the definition as JSON, as GET lists it */
    int64_t updated_ms;
} lb_function_t;

typedef struct lb_functions lb_functions_t;

void lb_functions_new(lb_functions_t **out);
void lb_functions_free(lb_functions_t **r);

/* Reads a definition: {"command":[...], "timeout":S, "environment":{...},
 * "maximum_retry_attempts":0..2, "maximum_event_age_seconds":60..21600,
 * "reserved_concurrency":N, "on_failure_arn":"arn:..."}. 0 with *out filled, or LB_EINVAL with
 * msg saying what is wrong (an AWS-style validation message). */
int lb_function_parse(const char *name, const lb_json_t *def, int64_t now_ms, lb_function_t *out,
                      char *msg, size_t n);
void lb_function_clear(lb_function_t *f);
/* 1 if name is a Lambda function name: [a-zA-Z0-9-_]{1,64}. */
int lb_function_name_valid(const char *name);

const lb_function_t *lb_functions_find(const lb_functions_t *r, const char *name);
size_t lb_functions_count(const lb_functions_t *r);
const lb_function_t *lb_functions_at(const lb_functions_t *r, size_t i);
/* Takes f's contents (f is left cleared), replacing a function of the same name. */
void lb_functions_put(lb_functions_t *r, lb_function_t *f);
int lb_functions_remove(lb_functions_t *r, const char *name); /* LB_ENOTFOUND */

/* The store side (writer thread), and loading at start. */
int lb_functions_store_put(lb_store_t *s, const lb_function_t *f);
int lb_functions_store_delete(lb_store_t *s, const char *name);
int lb_functions_load(lb_functions_t *r, lb_store_t *s, size_t *skipped);

#endif

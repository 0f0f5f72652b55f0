/* One run of a local Lambda handler: a command started without a shell in its own process group,
 * the payload written to its stdin, its stdout and stderr read line by line into the daemon's log
 * (tagged function=NAME request_id=ID), stdout also kept as the run's response, and the whole group
 * killed when the timeout passes or when the run ends (no stray children hold the pipes). */
#ifndef LB_LAMBDA_PROC_H
#define LB_LAMBDA_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lb_log.h"

/* What a run keeps of stdout: Lambda's response payload limit for synchronous invocations. */
#define LB_PROC_STDOUT_MAX (6 * 1024 * 1024)

typedef struct {
    char *const *argv; /* argv[0] is the program (looked up in PATH when it has no '/') */
    char *const *env;  /* the whole environment, "K=V" */
    const char *input;
    size_t input_len;
    int64_t timeout_ms;
    const lb_log_t *log;
    const char *function, *request_id; /* for the log lines */
} lb_proc_spec_t;

typedef struct {
    int spawn_error; /* a uv error: the command could not be started (nothing ran) */
    int timed_out;   /* killed at the timeout */
    int aborted;     /* lb_proc_abort */
    int64_t exit_status;
    int term_signal;
    const char *out; /* what it wrote to stdout (at most LB_PROC_STDOUT_MAX bytes), NUL-ended */
    size_t out_len;
    int64_t duration_ms;
} lb_proc_result_t;

typedef void (*lb_proc_done_fn)(void *ctx, const lb_proc_result_t *r);
typedef struct lb_proc lb_proc_t;

/* Starts a run; done is called exactly once on the loop thread, never from within this call. */
void lb_proc_start(uv_loop_t *loop, const lb_proc_spec_t *spec, lb_proc_done_fn done, void *ctx,
                   lb_proc_t **out);
/* Kills the run and calls its done now, with aborted set; it frees itself once closed. */
void lb_proc_abort(lb_proc_t *p);

#endif

#include "lb_target_lambda_local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_functions.h"
#include "lb_json.h"
#include "lb_lambda_conf.h"
#include "lb_lambda_env.h"
#include "lb_lambda_proc.h"
#include "lb_util.h"

#define RUNNER_NAME "localbridge-lambda-python"

/* Counters of one function, for /metrics, and how many of its runs are under way. */
typedef struct {
    char name[LB_FUNCTION_NAME_MAX + 1];
    int running;
    uint64_t invocations, errors, throttles, timeouts, duration_count;
    double duration_sum_s;
} fn_stats_t;

typedef struct run run_t;

typedef struct {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
    fn_stats_t *fns;
    size_t n_fns;
    run_t *runs; /* under way, for stop() */
    char runner[4096];
    int stopping;
} local_t;

struct run {
    local_t *owner;
    run_t *prev, *next;
    lb_delivery_t *d;
    lb_send_done_fn done;
    void *ctx;
    size_t fn; /* index in owner->fns */
    lb_proc_t *proc;
    lb_async_policy_t policy;
    int64_t timeout_ms;
};

/* The function name of a Lambda function ARN (without its qualifier), or -1. */
static int function_name(const char *arn, char out[LB_FUNCTION_NAME_MAX + 1])
{
    lb_arn_t a;
    if (lb_arn_parse(arn, &a) || strcmp(a.service, "lambda") != 0 ||
        strncmp(a.resource, "function:", 9) != 0)
        return -1;
    const char *name = a.resource + 9;
    size_t n = strcspn(name, ":");
    if (!n || n > LB_FUNCTION_NAME_MAX) return -1;
    memcpy(out, name, n);
    out[n] = '\0';
    return 0;
}

static const struct lb_settings *cfg(const local_t *l)
{
    return lb_config_settings(l->env.config);
}

/* The command of function name (a registered function first, then the first lambda_handler glob)
 * and its settings; 0 with *argv (malloc'd), -1 when this adapter does not run it. */
static int resolve(const local_t *l, const char *name, char ***argv, char ***fenv,
                   lb_lambda_settings_t *s)
{
    lb_lambda_settings_unset(s);
    const lb_function_t *f = lb_functions_find(lb_engine_functions(l->env.engine), name);
    if (f) {
        *argv = lb_lambda_env_copy(f->argv);
        *fenv = lb_lambda_env_copy(f->env);
        s->timeout_ms = f->timeout_ms;
        s->retries = f->retries;
        s->max_event_age_s = f->max_age_s;
        s->concurrency = f->concurrency;
        s->on_failure = f->on_failure ? lb_strdup(f->on_failure) : NULL;
    } else if (lb_lambda_find_handler(&cfg(l)->lambda_handlers, name, argv) == 0) {
        *fenv = NULL;
    } else {
        return -1;
    }
    lb_lambda_resolve_settings(&cfg(l)->lambda_functions, name, s);
    return 0;
}

static int local_accepts(void *self, const char *arn)
{
    local_t *l = self;
    char name[LB_FUNCTION_NAME_MAX + 1], **argv = NULL, **fenv = NULL;
    lb_lambda_settings_t s;
    if (function_name(arn, name) || resolve(l, name, &argv, &fenv, &s)) return 0;
    lb_lambda_argv_free(argv);
    lb_lambda_argv_free(fenv);
    lb_lambda_settings_clear(&s);
    return 1;
}

static fn_stats_t *stats(local_t *l, const char *name, size_t *index)
{
    for (size_t i = 0; i < l->n_fns; i++)
        if (strcmp(l->fns[i].name, name) == 0) return *index = i, &l->fns[i];
    l->fns = lb_xrealloc(l->fns, (l->n_fns + 1) * sizeof *l->fns);
    fn_stats_t *f = &l->fns[l->n_fns];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    *index = l->n_fns++;
    return f;
}

/* Lambda's async policy for one function: its retries and event age. lambda_retry_delay (1 min,
 * as AWS) scales Lambda's whole clock: the retry delays, throttles' 1 s to 5 min backoff and the
 * maximum event age, so a test can see every path of the 6-hour policy in seconds. */
static void policy_of(const local_t *l, const lb_lambda_settings_t *s, lb_async_policy_t *p)
{
    int64_t delay = (int64_t)cfg(l)->lambda_retry_delay_ms;
    *p = (lb_async_policy_t){.max_retries = s->retries,
                             .max_age_ms = (int64_t)s->max_event_age_s * delay / 60,
                             .retry_delay_ms = delay,
                             .throttle_min_ms = delay / 60 > 0 ? delay / 60 : 1,
                             .throttle_max_ms = delay * 5};
}

static void unlink_run(run_t *r)
{
    local_t *l = r->owner;
    if (!l) return;
    if (r->prev)
        r->prev->next = r->next;
    else
        l->runs = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

/* The error object Lambda returns for a failed run: what the runner printed last on stdout
 * when it is one, else one made like Lambda's for a crash or a timeout. */
static void error_object(const run_t *r, const lb_proc_result_t *pr, lb_buf_t *out)
{
    const char *end = pr->out + pr->out_len, *line = end;
    while (line > pr->out && (line[-1] == '\n' || line[-1] == '\r' || line[-1] == ' '))
        line--, end--;
    while (line > pr->out && line[-1] != '\n')
        line--;
    lb_json_doc_t *doc = NULL;
    if (!pr->timed_out && end > line &&
        lb_json_parse(line, (size_t)(end - line), 64, &doc, NULL) == 0 &&
        lb_json_get_str(lb_json_doc_root(doc), "errorMessage")) {
        lb_json_write(out, lb_json_doc_root(doc));
        lb_json_doc_free(&doc);
        return;
    }
    lb_json_doc_free(&doc);
    char msg[400];
    if (pr->timed_out)
        snprintf(msg, sizeof msg, "RequestId: %s Error: Task timed out after %.2f seconds",
                 r->d->fn.request_id, (double)r->timeout_ms / 1000.0);
    else if (pr->term_signal)
        snprintf(msg, sizeof msg, "RequestId: %s Error: Runtime exited with error: signal: %d",
                 r->d->fn.request_id, pr->term_signal);
    else
        snprintf(msg, sizeof msg,
                 "RequestId: %s Error: Runtime exited with error: exit status %lld",
                 r->d->fn.request_id, (long long)pr->exit_status);
    lb_buf_puts(out, "{\"errorType\":");
    const char *type = pr->timed_out ? "Sandbox.Timedout" : "Runtime.ExitError";
    lb_buf_json_string(out, type, strlen(type));
    lb_buf_puts(out, ",\"errorMessage\":");
    lb_buf_json_string(out, msg, strlen(msg));
    lb_buf_puts(out, "}");
}

static void run_done(void *ctx, const lb_proc_result_t *pr)
{
    run_t *r = ctx;
    local_t *l = r->owner;
    lb_send_result_t res = {.outcome = LB_ATTEMPT_OK, .async = &r->policy};
    lb_buf_t err = {0};
    char message[600];
    if (pr->aborted || !l) {
        res = (lb_send_result_t){.aborted = 1};
    } else {
        fn_stats_t *f = &l->fns[r->fn];
        f->running--;
        if (pr->spawn_error) {
            /* Nothing ran: a failure to invoke, under the target's RetryPolicy. */
            snprintf(message, sizeof message,
                     "The handler of function %s could not be started: %s: %s.", f->name,
                     uv_strerror(pr->spawn_error), "check its lambda_handler command");
            res.outcome = LB_ATTEMPT_RETRYABLE;
            res.error_code = "NO_RESOURCE";
            res.error_message = message;
        } else {
            f->invocations++;
            f->duration_count++;
            f->duration_sum_s += (double)pr->duration_ms / 1000.0;
            if (pr->timed_out || pr->exit_status || pr->term_signal) {
                f->errors++;
                if (pr->timed_out) f->timeouts++;
                error_object(r, pr, &err);
                res.outcome = LB_ATTEMPT_FUNCTION_ERROR;
                res.error_code = "LAMBDA_FUNCTION_ERROR";
                res.error_message = err.data;
            }
        }
    }
    unlink_run(r);
    r->done(r->ctx, r->d, &res);
    lb_buf_free(&err);
    free(r);
}

static void throttle(local_t *l, fn_stats_t *f, lb_delivery_t *d, lb_send_done_fn done, void *ctx,
                     const lb_async_policy_t *p)
{
    f->throttles++;
    lb_send_result_t r = {.outcome = LB_ATTEMPT_RETRYABLE,
                          .throttled = 1,
                          .async = p,
                          .error_code = "THROTTLING",
                          .error_message = "Rate Exceeded."};
    (void)l;
    done(ctx, d, &r);
}

static void local_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    local_t *l = self;
    char name[LB_FUNCTION_NAME_MAX + 1], **argv = NULL, **fenv = NULL;
    lb_lambda_settings_t s;
    if (function_name(d->target_arn, name) || resolve(l, name, &argv, &fenv, &s)) {
        lb_send_result_t r = {.outcome = LB_ATTEMPT_PERMANENT,
                              .error_code = "NO_RESOURCE",
                              .error_message = "No lambda_handler runs this function any more."};
        done(ctx, d, &r);
        return;
    }
    run_t *r = lb_xcalloc(1, sizeof *r);
    r->owner = l;
    r->d = d;
    r->done = done;
    r->ctx = ctx;
    r->timeout_ms = s.timeout_ms;
    policy_of(l, &s, &r->policy);
    fn_stats_t *f = stats(l, name, &r->fn);
    if (s.concurrency >= 0 && f->running >= s.concurrency) {
        lb_async_policy_t p = r->policy;
        /* Reserved concurrency 0: Lambda sends new events to the on-failure destination (or
         * DLQ) without retries. */
        if (s.concurrency == 0) p.give_up = "ZeroReservedConcurrency";
        free(r);
        lb_lambda_argv_free(argv);
        lb_lambda_argv_free(fenv);
        lb_lambda_settings_clear(&s);
        throttle(l, f, d, done, ctx, &p);
        return;
    }
    /* Every run of one event shares its request id, as Lambda's retries do. */
    if (!d->fn.request_id[0] && lb_uuid_v4(d->fn.request_id))
        snprintf(d->fn.request_id, sizeof d->fn.request_id, "00000000-0000-4000-8000-000000000000");
    lb_lambda_env_t e = {.function = name,
                         .function_arn = d->target_arn,
                         .request_id = d->fn.request_id,
                         .region = cfg(l)->region,
                         .endpoint_url = l->env.self_url,
                         .timeout_ms = s.timeout_ms,
                         .function_env = fenv,
                         .runner = l->runner};
    char **env = lb_lambda_env_build(&e, argv);
    f->running++;
    r->next = l->runs;
    if (l->runs) l->runs->prev = r;
    l->runs = r;
    lb_proc_spec_t spec = {.argv = argv,
                           .env = env,
                           .input = d->body,
                           .input_len = d->body_len,
                           .timeout_ms = s.timeout_ms,
                           .log = l->env.log,
                           .function = name,
                           .request_id = d->fn.request_id};
    lb_proc_start(l->env.loop, &spec, run_done, r, &r->proc);
    lb_lambda_argv_free(argv);
    lb_lambda_argv_free(fenv);
    lb_lambda_argv_free(env);
    lb_lambda_settings_clear(&s);
}

/* ---- on-failure destination ---- */

static int local_failure_destination(void *self, const lb_dead_letter_msg_t *m, char **dest,
                                     lb_buf_t *out)
{
    local_t *l = self;
    const lb_delivery_t *d = m->delivery;
    char name[LB_FUNCTION_NAME_MAX + 1], **argv = NULL, **fenv = NULL;
    lb_lambda_settings_t s;
    if (function_name(d->target_arn, name) || resolve(l, name, &argv, &fenv, &s)) return 0;
    lb_lambda_argv_free(argv);
    lb_lambda_argv_free(fenv);
    if (!s.on_failure) {
        lb_lambda_settings_clear(&s);
        return 0;
    }
    lb_buf_t rec = {0};
    lb_lambda_failure_record(d, cfg(l)->region, cfg(l)->account_id, name, m->exhausted,
                             m->error_message, lb_now_ms(), &rec);
    lb_arn_t a;
    if (lb_arn_parse(s.on_failure, &a) == 0 && strcmp(a.service, "events") == 0 &&
        strncmp(a.resource, "event-bus/", 10) == 0) {
        /* An event bus gets the record as an event's detail, as Lambda sends it. */
        char fn_arn[512];
        snprintf(fn_arn, sizeof fn_arn, "arn:aws:lambda:%s:%s:function:%s:$LATEST", cfg(l)->region,
                 cfg(l)->account_id, name);
        lb_buf_puts(out, "{\"version\":\"0\",\"source\":\"lambda\",\"detail-type\":\"Lambda "
                         "Function Invocation Result - Failure\",\"resources\":[");
        lb_buf_json_string(out, fn_arn, strlen(fn_arn));
        lb_buf_puts(out, "],\"detail\":");
        lb_buf_append(out, rec.data, rec.len);
        lb_buf_puts(out, "}");
    } else {
        lb_buf_append(out, rec.data, rec.len);
    }
    lb_buf_free(&rec);
    *dest = s.on_failure;
    s.on_failure = NULL;
    lb_lambda_settings_clear(&s);
    return 1;
}

/* ---- metrics and lifecycle ---- */

static void local_metrics(void *self, lb_buf_t *out)
{
    local_t *l = self;
    if (!l->n_fns) return;
    static const char *const names[] = {"invocations", "errors", "throttles", "timeouts"};
    static const char *const help[] = {
        "Runs of a local Lambda function.", "Runs that failed (raised, crashed or timed out).",
        "Runs refused for the function's concurrency limit.", "Runs killed at their timeout."};
    for (int k = 0; k < 4; k++) {
        lb_buf_printf(out,
                      "# HELP localbridge_lambda_%s_total %s\n"
                      "# TYPE localbridge_lambda_%s_total counter\n",
                      names[k], help[k], names[k]);
        for (size_t i = 0; i < l->n_fns; i++) {
            const fn_stats_t *f = &l->fns[i];
            uint64_t v = k == 0   ? f->invocations
                         : k == 1 ? f->errors
                         : k == 2 ? f->throttles
                                  : f->timeouts;
            lb_buf_printf(out, "localbridge_lambda_%s_total{function=\"%s\"} %llu\n", names[k],
                          f->name, (unsigned long long)v);
        }
    }
    lb_buf_puts(out, "# HELP localbridge_lambda_duration_seconds Time local Lambda runs took.\n"
                     "# TYPE localbridge_lambda_duration_seconds summary\n");
    for (size_t i = 0; i < l->n_fns; i++)
        lb_buf_printf(out,
                      "localbridge_lambda_duration_seconds_sum{function=\"%s\"} %.3f\n"
                      "localbridge_lambda_duration_seconds_count{function=\"%s\"} %llu\n",
                      l->fns[i].name, l->fns[i].duration_sum_s, l->fns[i].name,
                      (unsigned long long)l->fns[i].duration_count);
}

static void local_stop(void *self)
{
    local_t *l = self;
    l->stopping = 1;
    while (l->runs) {
        run_t *r = l->runs;
        unlink_run(r);
        r->owner = NULL;
        lb_proc_abort(r->proc); /* calls run_done, which frees r */
    }
}

static void free_local(void *self)
{
    local_t *l = self;
    free(l->fns);
    free(l);
}

lb_adapter_t *lb_target_lambda_local_new(const lb_adapter_env_t *env)
{
    local_t *l = lb_xcalloc(1, sizeof *l);
    l->env = *env;
    size_t n = sizeof l->runner;
    if (uv_exepath(l->runner, &n) == 0) {
        char *slash = strrchr(l->runner, '/');
        if (slash)
            snprintf(slash + 1, sizeof l->runner - (size_t)(slash + 1 - l->runner), "%s",
                     RUNNER_NAME);
    } else {
        snprintf(l->runner, sizeof l->runner, "%s", RUNNER_NAME);
    }
    l->adapter = (lb_adapter_t){.name = "lambda-local",
                                .self = l,
                                .accepts = local_accepts,
                                .send = local_send,
                                .stop = local_stop,
                                .free = free_local,
                                .metrics = local_metrics,
                                .failure_destination = local_failure_destination};
    return &l->adapter;
}

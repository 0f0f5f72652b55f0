/* Queues and functions: AWS::SQS::Queue and QueuePolicy on the daemon's built-in SQS API
 * (AWS JSON 1.0), AWS::Lambda::Function and AWS::Serverless::Function as local Python handlers
 * registered at /_localbridge/functions/NAME, and a SAM function's Events (EventBridgeRule,
 * CloudWatchEvent, Schedule) as rules that target it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_deploy_internal.h"

void lb_drule_delete(const char *bus, const char *name, const lb_json_t *targets, lb_dcalls_t *out);

static lb_json_t *obj(lb_json_doc_t *doc)
{
    return lb_json_new(doc, LB_JSON_OBJECT);
}

/* ---- AWS::SQS::Queue ---- */

/* The properties CloudFormation maps one to one onto SQS queue attributes. */
static const char *const queue_attrs[] = {
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "RedrivePolicy",
    "RedriveAllowPolicy",
};

static int is_true(const lb_json_t *v)
{
    return v &&
           (v->type == LB_JSON_TRUE || (v->type == LB_JSON_STRING && strcmp(v->str, "true") == 0));
}

static void queue_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    char q[600], url[1200], a[700];
    int fifo = is_true(lb_json_get(r->props, "FifoQueue"));
    if (!lb_dprop(r->props, "QueueName") && fifo) {
        /* A FIFO queue's generated name still ends in .fifo. */
        lb_dgen_name(ctx, r->logical_id, 75, q, sizeof q);
        strcat(q, ".fifo");
    } else {
        snprintf(q, sizeof q, "%s", name);
    }
    snprintf(url, sizeof url, "%s/%s/%s", ctx->endpoint ? ctx->endpoint : "", ctx->account_id, q);
    snprintf(a, sizeof a, "arn:aws:sqs:%s:%s:%s", ctx->region, ctx->account_id, q);
    r->physical_id = lb_strdup(q);
    lb_dattr(r, "Ref", url);
    lb_dattr(r, "QueueUrl", url);
    lb_dattr(r, "QueueName", q);
    lb_dattr(r, "Arn", a);
}

/* SQS attribute values are strings: scalars as their text, objects (RedrivePolicy) as JSON. */
static lb_json_t *queue_attributes(lb_json_doc_t *doc, const lb_json_t *props, int create)
{
    lb_json_t *attrs = obj(doc);
    for (size_t i = 0; i < sizeof queue_attrs / sizeof *queue_attrs; i++) {
        const lb_json_t *v = lb_json_get(props, queue_attrs[i]);
        if (!v || v->type == LB_JSON_NULL) continue;
        if (!create && strcmp(queue_attrs[i], "FifoQueue") == 0) continue;
        char *text = v->type == LB_JSON_OBJECT || v->type == LB_JSON_ARRAY
                         ? lb_json_print(v, NULL)
                         : lb_strdup(v->type == LB_JSON_TRUE    ? "true"
                                     : v->type == LB_JSON_FALSE ? "false"
                                                                : v->str);
        lb_json_add(doc, attrs, queue_attrs[i], lb_json_new_str(doc, text));
        free(text);
    }
    return attrs;
}

static int queue_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                        const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)ctx;
    (void)old_attrs;
    (void)err;
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    if (old) {
        lb_json_add_str(doc, req, "QueueUrl", lb_json_get_str(r->attrs, "QueueUrl"));
        lb_json_add(doc, req, "Attributes", queue_attributes(doc, r->props, 0));
        lb_dcall_add(out, LB_DCALL_SQS, "SetQueueAttributes", req);
    } else {
        lb_json_add_str(doc, req, "QueueName", r->physical_id);
        lb_json_add(doc, req, "Attributes", queue_attributes(doc, r->props, 1));
        lb_json_t *tags = obj(doc);
        lb_json_each(t, lb_json_get(r->props, "Tags"))
        {
            const char *k = lb_dprop(t, "Key"), *v = lb_dprop(t, "Value");
            if (k && v) lb_json_add(doc, tags, k, lb_json_new_str(doc, v));
        }
        if (tags->n_children) lb_json_add(doc, req, "tags", tags);
        lb_dcall_add(out, LB_DCALL_SQS, "CreateQueue", req)->capture = NULL;
    }
    lb_json_doc_free(&doc);
    return 0;
}

static void queue_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                         const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)props;
    (void)physical;
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "QueueUrl", lb_json_get_str(attrs, "QueueUrl"));
    lb_dcall_add(out, LB_DCALL_SQS, "DeleteQueue", req)->missing_ok = 1;
    lb_json_doc_free(&doc);
}

static const char *const queue_replace[] = {"FifoQueue", NULL};
const lb_dtype_t lb_dtype_queue = {"AWS::SQS::Queue", "QueueName",  80,           queue_identify,
                                   queue_upsert,      queue_remove, queue_replace};

/* ---- AWS::SQS::QueuePolicy: the Policy attribute of each listed queue ---- */

static void qpolicy_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    (void)ctx;
    r->physical_id = lb_strdup(name);
    lb_dattr(r, "Ref", name);
}

static void set_policy(lb_json_doc_t *doc, const char *url, const char *policy, int missing_ok,
                       lb_dcalls_t *out)
{
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "QueueUrl", url);
    lb_json_t *a = lb_json_add(doc, req, "Attributes", obj(doc));
    lb_json_add_str(doc, a, "Policy", policy);
    lb_dcall_add(out, LB_DCALL_SQS, "SetQueueAttributes", req)->missing_ok = missing_ok;
}

static int qpolicy_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                          const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)ctx;
    (void)old_attrs;
    const lb_json_t *doc_node = lb_json_get(r->props, "PolicyDocument");
    if (!doc_node || !lb_json_get(r->props, "Queues")) {
        *err = lb_strdup("PolicyDocument and Queues are required");
        return -EINVAL;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    char *policy =
        doc_node->type == LB_JSON_STRING ? lb_strdup(doc_node->str) : lb_json_print(doc_node, NULL);
    lb_json_each(q, lb_json_get(old, "Queues"))
    {
        int kept = 0;
        lb_json_each(n, lb_json_get(r->props, "Queues")) kept |= lb_json_equal(q, n);
        if (!kept && q->type == LB_JSON_STRING) set_policy(doc, q->str, "", 1, out);
    }
    lb_json_each(q, lb_json_get(r->props, "Queues")) if (q->type == LB_JSON_STRING)
        set_policy(doc, q->str, policy, 0, out);
    free(policy);
    lb_json_doc_free(&doc);
    return 0;
}

static void qpolicy_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                           const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)physical;
    (void)attrs;
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_each(q, lb_json_get(props, "Queues")) if (q->type == LB_JSON_STRING)
        set_policy(doc, q->str, "", 1, out);
    lb_json_doc_free(&doc);
}

const lb_dtype_t lb_dtype_queue_policy = {
    "AWS::SQS::QueuePolicy", NULL, 64, qpolicy_identify, qpolicy_upsert, qpolicy_remove, NULL};

/* ---- functions ---- */

/* A SAM event's rule: "BUS|NAME|TARGETID". SAM names the rule's logical id FUNCTION+EVENT, so
 * CloudFormation generates STACK-FUNCTIONEVENT-SUFFIX unless RuleName / Name gives one, and the
 * target's Id defaults to FUNCTIONEVENTLambdaTarget. */
static int event_rule(const lb_deploy_ctx_t *ctx, const char *fn_id, const lb_json_t *ev, char *out,
                      size_t outlen)
{
    const char *type = lb_dprop(ev, "Type");
    const lb_json_t *p = lb_json_get(ev, "Properties");
    int rule_kind =
        type && (strcmp(type, "EventBridgeRule") == 0 || strcmp(type, "CloudWatchEvent") == 0);
    if (!type || (!rule_kind && strcmp(type, "Schedule") != 0)) return 0;
    char logical[300], name[300];
    snprintf(logical, sizeof logical, "%s%s", fn_id, ev->key);
    const char *given = lb_dprop(p, rule_kind ? "RuleName" : "Name");
    if (given)
        snprintf(name, sizeof name, "%s", given);
    else
        lb_dgen_name(ctx, logical, 64, name, sizeof name);
    const char *bus = rule_kind ? lb_dprop(p, "EventBusName") : NULL;
    const char *slash = bus ? strstr(bus, ":event-bus/") : NULL;
    const char *tid = lb_dprop(lb_json_get(p, "Target"), "Id");
    snprintf(out, outlen, "%s|%s|", slash ? slash + 11 : bus ? bus : "default", name);
    if (tid)
        snprintf(out + strlen(out), outlen - strlen(out), "%s", tid);
    else
        snprintf(out + strlen(out), outlen - strlen(out), "%sLambdaTarget", logical);
    return 1;
}

static void fn_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    char a[600];
    snprintf(a, sizeof a, "arn:aws:lambda:%s:%s:function:%s", ctx->region, ctx->account_id, name);
    r->physical_id = lb_strdup(name);
    lb_dattr(r, "Ref", name);
    lb_dattr(r, "Arn", a);
    lb_buf_t rules = {0};
    lb_buf_puts(&rules, "");
    lb_json_each(ev, lb_json_get(r->props, "Events"))
    {
        char one[800];
        if (event_rule(ctx, r->logical_id, ev, one, sizeof one))
            lb_buf_printf(&rules, "%s%s", rules.len ? ";" : "", one);
    }
    if (rules.len) lb_dattr(r, "EventRules", rules.data);
    lb_buf_free(&rules);
}

static void put_number(lb_json_doc_t *doc, lb_json_t *o, const char *key, const lb_json_t *v)
{
    if (!v || (v->type != LB_JSON_NUMBER && v->type != LB_JSON_STRING)) return;
    lb_json_add(doc, o, key, lb_json_new_int(doc, strtoll(v->str, NULL, 10)));
}

/* The function's registration: the runner command and Lambda's settings. */
static int fn_register(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, lb_json_doc_t *doc,
                       lb_dcalls_t *out, char **err)
{
    const char *runtime = lb_dprop(r->props, "Runtime"), *handler = lb_dprop(r->props, "Handler");
    const lb_json_t *code = lb_json_get(r->props, "CodeUri");
    if (!code) code = lb_json_get(r->props, "Code");
    if (!runtime || strncmp(runtime, "python3", 7) != 0 || !handler) {
        *err = lb_strdup("local functions need Runtime python3.* and Handler module.function");
        return -EINVAL;
    }
    if (code && code->type != LB_JSON_STRING) {
        *err = lb_strdup("CodeUri (or Code) must be a local directory to run the function here");
        return -EINVAL;
    }
    char dir[4096];
    const char *rel = code ? code->str : ".";
    if (rel[0] == '/')
        snprintf(dir, sizeof dir, "%s", rel);
    else
        snprintf(dir, sizeof dir, "%s/%s", ctx->template_dir ? ctx->template_dir : ".", rel);
    /* "functions/" and "functions" are the same directory. */
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
        dir[n - 1] = '\0';
    lb_json_t *req = obj(doc);
    lb_json_t *cmd = lb_json_add(doc, req, "command", lb_json_new(doc, LB_JSON_ARRAY));
    const char *argv[] = {ctx->lambda_runner ? ctx->lambda_runner : "localbridge-lambda-python",
                          "--code-dir", dir, handler};
    for (size_t i = 0; i < 4; i++)
        lb_json_add(doc, cmd, NULL, lb_json_new_str(doc, argv[i]));
    const lb_json_t *timeout = lb_json_get(r->props, "Timeout");
    lb_json_add(
        doc, req, "timeout",
        lb_json_new_int(doc, timeout ? strtoll(timeout->str ? timeout->str : "3", NULL, 10) : 3));
    lb_json_t *env = lb_json_add(doc, req, "environment", obj(doc));
    lb_json_each(v, lb_json_get(lb_json_get(r->props, "Environment"), "Variables"))
    {
        const char *s = v->type == LB_JSON_TRUE    ? "true"
                        : v->type == LB_JSON_FALSE ? "false"
                                                   : v->str;
        if (s) lb_json_add(doc, env, v->key, lb_json_new_str(doc, s));
    }
    const lb_json_t *inv = lb_json_get(r->props, "EventInvokeConfig");
    put_number(doc, req, "maximum_retry_attempts", lb_json_get(inv, "MaximumRetryAttempts"));
    put_number(doc, req, "maximum_event_age_seconds", lb_json_get(inv, "MaximumEventAgeInSeconds"));
    const char *on_failure =
        lb_dprop(lb_json_get(lb_json_get(inv, "DestinationConfig"), "OnFailure"), "Destination");
    if (!on_failure) on_failure = lb_dprop(lb_json_get(r->props, "DeadLetterQueue"), "TargetArn");
    if (on_failure) lb_json_add_str(doc, req, "on_failure_arn", on_failure);
    char path[400];
    snprintf(path, sizeof path, "/_localbridge/functions/%s", r->physical_id);
    lb_dcall_add(out, LB_DCALL_PUT, path, req);
    return 0;
}

/* The rule of one SAM event, targeting the function. */
static void event_calls(const lb_dres_t *r, const lb_json_t *ev, const char *spec,
                        lb_json_doc_t *doc, lb_dcalls_t *out)
{
    char bus[300], name[300], tid[300];
    sscanf(spec, "%299[^|]|%299[^|]|%299[^;]", bus, name, tid);
    const lb_json_t *p = lb_json_get(ev, "Properties");
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "Name", name);
    lb_json_add_str(doc, req, "EventBusName", bus);
    lb_dpattern(doc, req, "EventPattern", lb_json_get(p, "Pattern"));
    lb_dcopy(doc, req, p, "Schedule", "ScheduleExpression");
    lb_dcopy(doc, req, p, "Description", NULL);
    const lb_json_t *enabled = lb_json_get(p, "Enabled");
    if (lb_json_get(p, "State"))
        lb_dcopy(doc, req, p, "State", NULL);
    else if (enabled && enabled->type == LB_JSON_FALSE)
        lb_json_add_str(doc, req, "State", "DISABLED");
    lb_json_t *targets = lb_json_new(doc, LB_JSON_ARRAY);
    lb_json_t *t = lb_json_add(doc, targets, NULL, obj(doc));
    lb_json_add_str(doc, t, "Id", tid);
    lb_json_add_str(doc, t, "Arn", lb_json_get_str(r->attrs, "Arn"));
    lb_dcopy(doc, t, p, "Input", NULL);
    lb_dcopy(doc, t, p, "InputPath", NULL);
    lb_dcopy(doc, t, p, "InputTransformer", NULL);
    lb_dcopy(doc, t, p, "RetryPolicy", NULL);
    const char *dlq = lb_dprop(lb_json_get(p, "DeadLetterConfig"), "Arn");
    if (dlq) {
        lb_json_t *d = lb_json_add(doc, t, "DeadLetterConfig", obj(doc));
        lb_json_add_str(doc, d, "Arn", dlq);
    }
    lb_drule_calls(doc, bus, req, targets, out);
}

/* 1 if spec is one of the ';'-separated items of list. */
static int listed(const char *list, const char *spec)
{
    size_t n = strlen(spec);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ";");
        if (len == n && strncmp(p, spec, n) == 0) return 1;
        p += len + (p[len] == ';');
    }
    return 0;
}

/* Deletes the event rules of spec_list ("A;B;...") that keep does not list. */
static void delete_event_rules(const char *spec_list, const char *keep, lb_dcalls_t *out)
{
    if (!spec_list) return;
    char *copy = lb_strdup(spec_list), *save = NULL;
    for (char *s = strtok_r(copy, ";", &save); s; s = strtok_r(NULL, ";", &save)) {
        if (listed(keep, s)) continue;
        char bus[300], name[300], tid[300];
        if (sscanf(s, "%299[^|]|%299[^|]|%299s", bus, name, tid) != 3) continue;
        lb_json_doc_t *doc = lb_json_doc_new();
        lb_json_t *targets = lb_json_new(doc, LB_JSON_ARRAY);
        lb_json_add_str(doc, lb_json_add(doc, targets, NULL, obj(doc)), "Id", tid);
        lb_drule_delete(bus, name, targets, out);
        lb_json_doc_free(&doc);
    }
    free(copy);
}

static int fn_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                     const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    int rc = fn_register(ctx, r, doc, out, err);
    const char *specs = lb_json_get_str(r->attrs, "EventRules");
    if (rc == 0 && old) delete_event_rules(lb_json_get_str(old_attrs, "EventRules"), specs, out);
    lb_json_each(ev, rc ? NULL : lb_json_get(r->props, "Events"))
    {
        char spec[800];
        if (event_rule(ctx, r->logical_id, ev, spec, sizeof spec))
            event_calls(r, ev, spec, doc, out);
    }
    lb_json_doc_free(&doc);
    return rc;
}

static void fn_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                      const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)props;
    delete_event_rules(lb_json_get_str(attrs, "EventRules"), NULL, out);
    char path[400];
    snprintf(path, sizeof path, "/_localbridge/functions/%s", physical);
    lb_dcall_add(out, LB_DCALL_DELETE, path, NULL)->missing_ok = 1;
}

const lb_dtype_t lb_dtype_function = {
    "AWS::Lambda::Function", "FunctionName", 64, fn_identify, fn_upsert, fn_remove, NULL};
const lb_dtype_t lb_dtype_sam_function = {
    "AWS::Serverless::Function", "FunctionName", 64, fn_identify, fn_upsert, fn_remove, NULL};

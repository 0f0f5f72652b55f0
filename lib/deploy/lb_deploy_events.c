/* The EventBridge resource types: AWS::Events::EventBus, EventBusPolicy, Rule, Archive,
 * Connection and ApiDestination, each mapped onto the API calls that create, update and delete
 * it. Property names are CloudFormation's, which mostly are the API's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_deploy_internal.h"

static void arn(const lb_deploy_ctx_t *ctx, const char *kind, const char *name, char *out,
                size_t outlen)
{
    snprintf(out, outlen, "arn:aws:events:%s:%s:%s/%s", ctx->region, ctx->account_id, kind, name);
}

/* A bus given by name or ARN, as its name ("default" when absent). */
static const char *bus_name(const lb_json_t *props, const char *key)
{
    const char *b = lb_dprop(props, key);
    if (!b || !*b) return "default";
    const char *slash = strstr(b, ":event-bus/");
    return slash ? slash + strlen(":event-bus/") : b;
}

static lb_json_t *obj(lb_json_doc_t *doc)
{
    return lb_json_new(doc, LB_JSON_OBJECT);
}

/* ---- AWS::Events::EventBus ---- */

static void bus_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    char a[512];
    arn(ctx, "event-bus", name, a, sizeof a);
    r->physical_id = lb_strdup(name);
    lb_dattr(r, "Ref", name);
    lb_dattr(r, "Name", name);
    lb_dattr(r, "Arn", a);
}

/* Tags as the API takes them ([{Key, Value}]), from CloudFormation's list of the same shape. */
static const lb_json_t *tags_of(const lb_json_t *props)
{
    const lb_json_t *t = lb_json_get(props, "Tags");
    return t && t->type == LB_JSON_ARRAY ? t : NULL;
}

static int bus_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                      const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)old_attrs;
    (void)err;
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "Name", r->physical_id);
    lb_dcopy(doc, req, r->props, "Description", NULL);
    lb_dcopy(doc, req, r->props, "KmsKeyIdentifier", NULL);
    lb_dcopy(doc, req, r->props, "DeadLetterConfig", NULL);
    if (!old) lb_dcopy(doc, req, r->props, "EventSourceName", NULL);
    if (strcmp(r->physical_id, "default") != 0)
        lb_dcall_add(out, LB_DCALL_EVENTS, old ? "UpdateEventBus" : "CreateEventBus", req);
    char a[512];
    arn(ctx, "event-bus", r->physical_id, a, sizeof a);
    /* Tags that went away first, then the template's (TagResource overwrites values). */
    lb_json_t *gone = lb_json_new(doc, LB_JSON_ARRAY);
    lb_json_each(ot, tags_of(old))
    {
        const char *k = lb_json_get_str(ot, "Key");
        int kept = 0;
        lb_json_each(nt, tags_of(r->props)) kept |=
            k && lb_json_get_str(nt, "Key") && strcmp(k, lb_json_get_str(nt, "Key")) == 0;
        if (k && !kept) lb_json_add(doc, gone, NULL, lb_json_new_str(doc, k));
    }
    if (gone->n_children) {
        lb_json_t *u = obj(doc);
        lb_json_add_str(doc, u, "ResourceARN", a);
        lb_json_add(doc, u, "TagKeys", gone);
        lb_dcall_add(out, LB_DCALL_EVENTS, "UntagResource", u);
    }
    if (tags_of(r->props) && tags_of(r->props)->n_children) {
        lb_json_t *tr = obj(doc);
        lb_json_add_str(doc, tr, "ResourceARN", a);
        lb_dcopy(doc, tr, r->props, "Tags", NULL);
        lb_dcall_add(out, LB_DCALL_EVENTS, "TagResource", tr);
    }
    lb_json_doc_free(&doc);
    return 0;
}

static void bus_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                       const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)props;
    (void)attrs;
    if (strcmp(physical, "default") == 0) return;
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "Name", physical);
    lb_dcall_add(out, LB_DCALL_EVENTS, "DeleteEventBus", req)->missing_ok = 1;
    lb_json_doc_free(&doc);
}

static const char *const bus_replace[] = {"EventSourceName", NULL};
const lb_dtype_t lb_dtype_bus = {
    "AWS::Events::EventBus", "Name", 256, bus_identify, bus_upsert, bus_remove, bus_replace};

/* ---- AWS::Events::EventBusPolicy ---- */

static void policy_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    (void)ctx;
    char id[600];
    snprintf(id, sizeof id, "%s|%s", bus_name(r->props, "EventBusName"), name);
    r->physical_id = lb_strdup(id);
    lb_dattr(r, "Ref", name);
}

static int policy_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                         const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)ctx;
    (void)old;
    (void)old_attrs;
    const char *sid = lb_dprop(r->props, "StatementId");
    const char *bus = bus_name(r->props, "EventBusName");
    const lb_json_t *st = lb_json_get(r->props, "Statement");
    if (!sid) {
        *err = lb_strdup("StatementId is required");
        return -EINVAL;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    if (st && st->type == LB_JSON_OBJECT) {
        lb_json_t *s = lb_dapi_copy(doc, st);
        lb_json_remove(s, "Sid");
        /* Sid first, as AWS writes statements. */
        lb_json_t *with_sid = obj(doc);
        lb_json_add_str(doc, with_sid, "Sid", sid);
        lb_json_each(m, s) lb_json_add(doc, with_sid, m->key, lb_json_copy(doc, m));
        lb_dcall_add(out, LB_DCALL_MERGE_POLICY, bus, with_sid);
    } else {
        lb_json_t *req = obj(doc);
        lb_json_add_str(doc, req, "EventBusName", bus);
        lb_json_add_str(doc, req, "StatementId", sid);
        lb_dcopy(doc, req, r->props, "Action", NULL);
        lb_dcopy(doc, req, r->props, "Principal", NULL);
        lb_dcopy(doc, req, r->props, "Condition", NULL);
        lb_dcall_add(out, LB_DCALL_EVENTS, "PutPermission", req);
    }
    lb_json_doc_free(&doc);
    return 0;
}

static void policy_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                          const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)attrs;
    const char *bar = strchr(physical, '|');
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "EventBusName", bus_name(props, "EventBusName"));
    lb_json_add_str(doc, req, "StatementId", bar ? bar + 1 : physical);
    lb_dcall_add(out, LB_DCALL_EVENTS, "RemovePermission", req)->missing_ok = 1;
    lb_json_doc_free(&doc);
}

const lb_dtype_t lb_dtype_bus_policy = {"AWS::Events::EventBusPolicy",
                                        "StatementId",
                                        64,
                                        policy_identify,
                                        policy_upsert,
                                        policy_remove,
                                        NULL};

/* ---- AWS::Events::Rule ---- */

static void rule_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    const char *bus = bus_name(r->props, "EventBusName");
    char a[700], id[600];
    if (strcmp(bus, "default") == 0) {
        snprintf(id, sizeof id, "%s", name);
        arn(ctx, "rule", name, a, sizeof a);
    } else {
        /* CloudFormation's physical id of a rule on another bus is "BUS|NAME". */
        snprintf(id, sizeof id, "%s|%s", bus, name);
        char path[600];
        snprintf(path, sizeof path, "%s/%s", bus, name);
        arn(ctx, "rule", path, a, sizeof a);
    }
    r->physical_id = lb_strdup(id);
    lb_dattr(r, "Ref", id);
    lb_dattr(r, "Arn", a);
}

/* The rule's name and bus from its physical id. */
static void split_rule_id(const char *physical, char *bus, size_t blen, const char **name)
{
    const char *bar = strchr(physical, '|');
    snprintf(bus, blen, "%.*s", bar ? (int)(bar - physical) : 7, bar ? physical : "default");
    *name = bar ? bar + 1 : physical;
}

void lb_drule_calls(lb_json_doc_t *doc, const char *bus, lb_json_t *put_rule,
                    const lb_json_t *targets, lb_dcalls_t *out)
{
    lb_dcall_add(out, LB_DCALL_EVENTS, "PutRule", put_rule);
    const char *rule = lb_json_get_str(put_rule, "Name");
    /* PutTargets takes ten targets a call. */
    const lb_json_t *t = targets ? targets->child : NULL;
    while (t) {
        lb_json_t *req = obj(doc);
        lb_json_add_str(doc, req, "Rule", rule);
        lb_json_add_str(doc, req, "EventBusName", bus);
        lb_json_t *list = lb_json_add(doc, req, "Targets", lb_json_new(doc, LB_JSON_ARRAY));
        for (int k = 0; t && k < 10; k++, t = t->next)
            lb_json_add(doc, list, NULL, lb_dapi_copy(doc, t));
        lb_dcall_add(out, LB_DCALL_EVENTS, "PutTargets", req);
    }
}

/* RemoveTargets of the listed ids (each target's Id) that keep does not list. */
static void remove_targets(lb_json_doc_t *doc, const char *bus, const char *rule,
                           const lb_json_t *old_targets, const lb_json_t *keep, lb_dcalls_t *out)
{
    lb_json_t *ids = lb_json_new(doc, LB_JSON_ARRAY);
    lb_json_each(t, old_targets)
    {
        const char *id = lb_dprop(t, "Id");
        int kept = 0;
        lb_json_each(k, keep) kept |= id && lb_dprop(k, "Id") && strcmp(id, lb_dprop(k, "Id")) == 0;
        if (id && !kept) lb_json_add(doc, ids, NULL, lb_json_new_str(doc, id));
    }
    if (!ids->n_children) return;
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "Rule", rule);
    lb_json_add_str(doc, req, "EventBusName", bus);
    lb_json_add(doc, req, "Ids", ids);
    lb_dcall_add(out, LB_DCALL_EVENTS, "RemoveTargets", req)->missing_ok = 1;
}

static int rule_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                       const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)ctx;
    (void)old_attrs;
    char bus[300];
    const char *name;
    split_rule_id(r->physical_id, bus, sizeof bus, &name);
    const lb_json_t *pattern = lb_json_get(r->props, "EventPattern");
    if (!pattern && !lb_dprop(r->props, "ScheduleExpression")) {
        *err = lb_strdup("a rule needs an EventPattern or a ScheduleExpression");
        return -EINVAL;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "Name", name);
    lb_json_add_str(doc, req, "EventBusName", bus);
    lb_dpattern(doc, req, "EventPattern", pattern);
    lb_dcopy(doc, req, r->props, "ScheduleExpression", NULL);
    lb_dcopy(doc, req, r->props, "State", NULL);
    lb_dcopy(doc, req, r->props, "Description", NULL);
    lb_dcopy(doc, req, r->props, "RoleArn", NULL);
    const lb_json_t *targets = lb_json_get(r->props, "Targets");
    if (old) remove_targets(doc, bus, name, lb_json_get(old, "Targets"), targets, out);
    lb_drule_calls(doc, bus, req, targets, out);
    lb_json_doc_free(&doc);
    return 0;
}

/* Exported for SAM events: a rule's deletion, its targets first (DeleteRule refuses a rule that
 * still has targets). */
void lb_drule_delete(const char *bus, const char *name, const lb_json_t *targets, lb_dcalls_t *out);

void lb_drule_delete(const char *bus, const char *name, const lb_json_t *targets, lb_dcalls_t *out)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    remove_targets(doc, bus, name, targets, NULL, out);
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "Name", name);
    lb_json_add_str(doc, req, "EventBusName", bus);
    lb_dcall_add(out, LB_DCALL_EVENTS, "DeleteRule", req)->missing_ok = 1;
    lb_json_doc_free(&doc);
}

static void rule_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                        const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)attrs;
    char bus[300];
    const char *name;
    split_rule_id(physical, bus, sizeof bus, &name);
    lb_drule_delete(bus, name, lb_json_get(props, "Targets"), out);
}

const lb_dtype_t lb_dtype_rule = {"AWS::Events::Rule", "Name",      64,  rule_identify,
                                  rule_upsert,         rule_remove, NULL};

/* ---- AWS::Events::Archive ---- */

static void archive_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    char a[512];
    arn(ctx, "archive", name, a, sizeof a);
    r->physical_id = lb_strdup(name);
    lb_dattr(r, "Ref", name);
    lb_dattr(r, "ArchiveName", name);
    lb_dattr(r, "Arn", a);
}

static int archive_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                          const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)ctx;
    (void)old_attrs;
    if (!old && !lb_dprop(r->props, "SourceArn")) {
        *err = lb_strdup("SourceArn is required");
        return -EINVAL;
    }
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "ArchiveName", r->physical_id);
    if (!old) lb_dcopy(doc, req, r->props, "SourceArn", "EventSourceArn");
    lb_dcopy(doc, req, r->props, "Description", NULL);
    lb_dpattern(doc, req, "EventPattern", lb_json_get(r->props, "EventPattern"));
    lb_dcopy(doc, req, r->props, "RetentionDays", NULL);
    if (!old) lb_dcopy(doc, req, r->props, "KmsKeyIdentifier", NULL);
    lb_dcall_add(out, LB_DCALL_EVENTS, old ? "UpdateArchive" : "CreateArchive", req);
    lb_json_doc_free(&doc);
    return 0;
}

static void named_delete(const char *op, const char *key, const char *name, lb_dcalls_t *out)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, key, name);
    lb_dcall_add(out, LB_DCALL_EVENTS, op, req)->missing_ok = 1;
    lb_json_doc_free(&doc);
}

static void archive_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                           const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)props;
    (void)attrs;
    named_delete("DeleteArchive", "ArchiveName", physical, out);
}

static const char *const archive_replace[] = {"SourceArn", "KmsKeyIdentifier", NULL};
const lb_dtype_t lb_dtype_archive = {"AWS::Events::Archive", "ArchiveName",  48,
                                     archive_identify,       archive_upsert, archive_remove,
                                     archive_replace};

/* ---- AWS::Events::Connection and ApiDestination: their ARNs end in an id the daemon picks,
 * so Arn is captured from the create call's answer. ---- */

/* Both are named by their Name; Arn comes back from the create or update call. */
static void late_arn_identify(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name)
{
    (void)ctx;
    r->physical_id = lb_strdup(name);
    lb_dattr(r, "Ref", name);
    lb_dattr(r, "Name", name);
    lb_dattr(r, "Arn", LB_DEPLOY_UNKNOWN);
}

/* The create (or update) call of a late-ARN resource: its Name and the listed properties as
 * they are, capturing the ARN the answer's `capture` member carries. */
static void late_arn_upsert(const lb_dres_t *r, const char *const props[], const char *op,
                            const char *capture, lb_dcalls_t *out)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *req = obj(doc);
    lb_json_add_str(doc, req, "Name", r->physical_id);
    for (size_t i = 0; props[i]; i++)
        lb_dcopy(doc, req, r->props, props[i], NULL);
    lb_dcall_t *c = lb_dcall_add(out, LB_DCALL_EVENTS, op, req);
    c->capture = capture;
    c->capture_attr = "Arn";
    lb_json_doc_free(&doc);
}

static int connection_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                             const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)ctx;
    (void)old_attrs;
    (void)err;
    static const char *const props[] = {"Description", "AuthorizationType", "AuthParameters",
                                        "InvocationConnectivityParameters", NULL};
    late_arn_upsert(r, props, old ? "UpdateConnection" : "CreateConnection", "ConnectionArn", out);
    return 0;
}

static void connection_remove(const lb_deploy_ctx_t *ctx, const char *physical,
                              const lb_json_t *props, const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)props;
    (void)attrs;
    named_delete("DeleteConnection", "Name", physical, out);
}

const lb_dtype_t lb_dtype_connection = {
    "AWS::Events::Connection", "Name", 64, late_arn_identify, connection_upsert,
    connection_remove,         NULL};

static int apidest_upsert(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old,
                          const lb_json_t *old_attrs, lb_dcalls_t *out, char **err)
{
    (void)ctx;
    (void)old_attrs;
    (void)err;
    static const char *const props[] = {"Description",
                                        "ConnectionArn",
                                        "InvocationEndpoint",
                                        "HttpMethod",
                                        "InvocationRateLimitPerSecond",
                                        NULL};
    late_arn_upsert(r, props, old ? "UpdateApiDestination" : "CreateApiDestination",
                    "ApiDestinationArn", out);
    return 0;
}

static void apidest_remove(const lb_deploy_ctx_t *ctx, const char *physical, const lb_json_t *props,
                           const lb_json_t *attrs, lb_dcalls_t *out)
{
    (void)ctx;
    (void)props;
    (void)attrs;
    named_delete("DeleteApiDestination", "Name", physical, out);
}

const lb_dtype_t lb_dtype_apidest = {"AWS::Events::ApiDestination",
                                     "Name",
                                     64,
                                     late_arn_identify,
                                     apidest_upsert,
                                     apidest_remove,
                                     NULL};

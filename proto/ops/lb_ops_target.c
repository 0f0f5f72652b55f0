#include "lb_ops_target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_ops_bus.h"
#include "lb_ops_rule.h"
#include "lb_validate.h"

#define TARGET_ID_PATTERN "[\\.\\-_A-Za-z0-9]+"

typedef struct {
    lb_engine_t *engine;
    lb_rule_t key; /* region, bus, name only */
    lb_target_t *targets;
    size_t n;
    const char *response; /* rendered after commit */
    lb_buf_t failed;      /* FailedEntries members */
    int failed_count;
} targets_job_t;

static void targets_job_free(void *arg)
{
    targets_job_t *job = arg;
    lb_rule_clear(&job->key);
    for (size_t i = 0; i < job->n; i++)
        lb_target_clear(&job->targets[i]);
    free(job->targets);
    lb_buf_free(&job->failed);
    free(job);
}

static int targets_job_txn(lb_store_t *store, void *arg)
{
    targets_job_t *job = arg;
    return lb_store_targets_replace(store, &job->key, job->targets, job->n);
}

static void targets_job_finish(lb_call_t *call, int rc)
{
    targets_job_t *job = call->arg;
    lb_rule_t *rule =
        lb_rules_find(lb_engine_rules(job->engine), job->key.region, job->key.bus, job->key.name);
    if (rule) rule->targets_busy = 0;
    if (rc) {
        lb_call_error_code(call, rc, "Targets");
        return;
    }
    for (size_t i = 0; i < job->n; i++) {
        const lb_target_t *t = &job->targets[i];
        lb_engine_check_route(job->engine, job->key.region, job->key.bus, job->key.name, t->id,
                              t->arn, 0);
        lb_engine_check_route(job->engine, job->key.region, job->key.bus, job->key.name, t->id,
                              t->dlq_arn, 1);
    }
    if (rule) lb_rules_set_targets(lb_engine_rules(job->engine), rule, job->targets, job->n);
    job->n = 0;
    call->status = 200;
    call->body.len = 0;
    lb_buf_printf(&call->body, "{\"FailedEntryCount\":%d,\"FailedEntries\":[%s]}",
                  job->failed_count, job->failed.data ? job->failed.data : "");
}

static targets_job_t *targets_job_new(lb_engine_t *engine, const lb_rule_t *rule)
{
    targets_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->key.region = lb_strdup(rule->region);
    job->key.bus = lb_strdup(rule->bus);
    job->key.name = lb_strdup(rule->name);
    return job;
}

static void copy_target(lb_target_t *dst, const lb_target_t *src)
{
    /* Re-initialising from the JSON recompiles the input; targets are few and small. */
    lb_target_init(dst, src->json, NULL);
}

static int busy_rule(const lb_rule_t *rule, lb_call_t *call)
{
    if (!rule->targets_busy) return 0;
    lb_call_error(call, LB_AWS_CONCURRENT_MODIFICATION,
                  "Targets of rule %s are being modified by another request; retry.", rule->name);
    return 1;
}

/* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE with an AWS partition (aws, aws-cn, ...), a
 * service and a resource, the shape EventBridge checks before it looks at what the ARN names.
 * *service (not NUL-terminated) and *service_len say which service it is. */
static int arn_shape_ok(const char *arn, const char **service, size_t *service_len)
{
    if (strncmp(arn, "arn:aws", 7) != 0) return 0;
    const char *p = arn + 7;
    while ((*p >= 'a' && *p <= 'z') || *p == '-')
        p++;
    if (*p++ != ':') return 0;
    *service = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
        p++;
    *service_len = (size_t)(p - *service);
    if (!*service_len || *p++ != ':') return 0;
    for (int field = 0; field < 2; field++) { /* region, account: may be empty */
        p = strchr(p, ':');
        if (!p) return 0;
        p++;
    }
    return *p != '\0';
}

/* What EventBridge checks of a target beyond its model, once the model is satisfied: an ARN of
 * the right shape, SqsParameters (the message group) for a FIFO queue. -1 with AWS's error. */
static int check_target_arn(const lb_json_t *item, const char *id, const char *arn, lb_call_t *call)
{
    const char *service;
    size_t service_len;
    if (!arn_shape_ok(arn, &service, &service_len)) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Parameter %s is not valid. Reason: Provided Arn is not in correct format.",
                      arn);
        return -1;
    }
    const lb_json_t *sqs;
    if (lb_get_object(item, "SqsParameters", &sqs, call)) return -1;
    size_t len = strlen(arn);
    if (service_len == 3 && strncmp(service, "sqs", 3) == 0 && len > 5 &&
        strcmp(arn + len - 5, ".fifo") == 0 && !sqs) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Parameter(s) SqsParameters must be specified for target: %s.", id);
        return -1;
    }
    return 0;
}

/* Validates one Target as AWS's model does; fills t on success. index is 1-based for AWS's
 * member paths ("targets.1.member.id"). */
static int read_target(const lb_json_t *item, int index, lb_verrs_t *v, lb_call_t *call,
                       lb_target_t *t, int *compiled)
{
    char member[96];
    const char *id, *arn;
    size_t id_len, arn_len;
    const lb_json_t *retry;
    *compiled = 0;
    if (item->type != LB_JSON_OBJECT) {
        lb_call_error(call, LB_AWS_SERIALIZATION, "Targets must be a list of Target structures.");
        return -1;
    }
    if (lb_get_string_n(item, "Id", &id, &id_len, call) ||
        lb_get_string_n(item, "Arn", &arn, &arn_len, call) ||
        lb_get_object(item, "RetryPolicy", &retry, call))
        return -1;
    /* lb_target_init reads the target's strings (Arn, Input, InputTransformer, HttpParameters,
     * ...) as C strings: none may hold U+0000. The Id fails its pattern instead. */
    snprintf(member, sizeof member, "targets.%d.member", index);
    lb_verr_nul(v, item, member, "Id");
    snprintf(member, sizeof member, "targets.%d.member.id", index);
    if (!id) {
        lb_verr_add(v, NULL, member, "Member must not be null");
    } else {
        size_t len = lb_utf8_length(id);
        if (id_len < 1)
            lb_verr_add(v, id, member, "Member must have length greater than or equal to 1");
        else if (len > 64)
            lb_verr_add_n(v, id, id_len, member,
                          "Member must have length less than or equal to 64");
        else if (!lb_chars_only(id, id_len, ".-_"))
            lb_verr_add_n(v, id, id_len, member,
                          "Member must satisfy regular expression pattern: " TARGET_ID_PATTERN);
    }
    snprintf(member, sizeof member, "targets.%d.member.arn", index);
    if (!arn)
        lb_verr_add(v, NULL, member, "Member must not be null");
    else if (!lb_json_has_nul(arn, arn_len) &&
             (lb_utf8_length(arn) < 1 || lb_utf8_length(arn) > 1600))
        lb_verr_add(v, arn, member, "Member must have length less than or equal to 1600");
    if (retry) {
        int64_t attempts, age;
        int has_attempts, has_age;
        if (lb_get_int(retry, "MaximumRetryAttempts", &attempts, &has_attempts, call) ||
            lb_get_int(retry, "MaximumEventAgeInSeconds", &age, &has_age, call))
            return -1;
        char text[32];
        if (has_attempts && (attempts < 0 || attempts > 185)) {
            snprintf(text, sizeof text, "%lld", (long long)attempts);
            snprintf(member, sizeof member, "targets.%d.member.retryPolicy.maximumRetryAttempts",
                     index);
            lb_verr_add(v, text, member,
                        attempts < 0 ? "Member must have value greater than or equal to 0"
                                     : "Member must have value less than or equal to 185");
        }
        if (has_age && (age < 60 || age > 86400)) {
            snprintf(text, sizeof text, "%lld", (long long)age);
            snprintf(member, sizeof member,
                     "targets.%d.member.retryPolicy.maximumEventAgeInSeconds", index);
            lb_verr_add(v, text, member,
                        age < 60 ? "Member must have value greater than or equal to 60"
                                 : "Member must have value less than or equal to 86400");
        }
    }
    if (v->count) return 0;
    if (check_target_arn(item, id, arn, call)) return -1;
    char *json = lb_json_print(item, NULL), *err = NULL;
    int rc = lb_target_init(t, json, &err);
    free(json);
    if (rc) {
        lb_call_error(call, LB_AWS_VALIDATION, "%s", err ? err : "Target input is not valid.");
        free(err);
        return -1;
    }
    *compiled = 1;
    return 0;
}

/* One request may not give two targets the same Id: which of them would the rule keep? (AWS's
 * wording for this error is not on record; the message follows its "Parameter X is not valid"
 * form.) -1 with the error set. */
static int repeated_id(const lb_target_t *targets, int n, lb_call_t *call)
{
    for (int i = 1; i < n; i++)
        for (int k = 0; k < i; k++)
            if (strcmp(targets[i].id, targets[k].id) == 0) {
                lb_call_error(call, LB_AWS_VALIDATION,
                              "Parameter Targets is not valid. Reason: the target Id %s is given "
                              "more than once; each target of a request needs an Id of its own.",
                              targets[i].id);
                return -1;
            }
    return 0;
}

void lb_op_put_targets(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *list;
    lb_verrs_t v = {0};
    if (lb_get_array(req, "Targets", &list, call)) return;
    int n = list ? (int)list->n_children : 0;
    if (!list)
        lb_verr_add(&v, NULL, "targets", "Member must not be null");
    else if (n < 1 || n > 10)
        lb_verr_add(&v, "[...]", "targets",
                    n < 1 ? "Member must have length greater than or equal to 1"
                          : "Member must have length less than or equal to 10");
    if (lb_verr_emit(&v, call)) return;
    lb_rule_t *rule = lb_rule_lookup(engine, req, "Rule", call);
    if (!rule || lb_rule_managed_refused(rule, 0, 0, call) || busy_rule(rule, call)) return;

    lb_target_t *incoming = lb_xcalloc((size_t)n, sizeof *incoming);
    int index = 0, ok = 1;
    lb_json_each(item, list)
    {
        int compiled;
        if (read_target(item, index + 1, &v, call, &incoming[index], &compiled)) {
            ok = 0;
            break;
        }
        if (compiled) index++;
    }
    if (ok && lb_verr_emit(&v, call)) ok = 0;
    lb_buf_free(&v.text);
    if (ok && repeated_id(incoming, n, call)) ok = 0;
    if (!ok) {
        for (int i = 0; i < index; i++)
            lb_target_clear(&incoming[i]);
        free(incoming);
        return;
    }
    /* The new set: existing targets, each replaced by an incoming one with its Id, then the
     * incoming ones that are new. */
    targets_job_t *job = targets_job_new(engine, rule);
    job->targets = lb_xcalloc(rule->n_targets + (size_t)n, sizeof *job->targets);
    for (size_t i = 0; i < rule->n_targets; i++)
        copy_target(&job->targets[job->n++], &rule->targets[i]);
    for (int i = 0; i < n; i++) {
        size_t k = 0;
        while (k < job->n && strcmp(job->targets[k].id, incoming[i].id) != 0)
            k++;
        if (k < job->n)
            lb_target_clear(&job->targets[k]);
        else
            job->n++;
        job->targets[k] = incoming[i];
    }
    free(incoming);
    if (job->n > LB_TARGETS_PER_RULE) {
        targets_job_free(job);
        lb_call_error(call, LB_AWS_LIMIT_EXCEEDED,
                      "The requested resource exceeds the maximum number allowed.");
        return;
    }
    rule->targets_busy = 1;
    lb_call_defer(call, targets_job_txn, targets_job_finish, job, targets_job_free);
}

/* A target Id holding U+0000 breaks the Id pattern; compared as a C string it would name
 * another target. AWS reports a list member's constraint at the list. */
static int ids_hold_nul(const lb_json_t *ids, lb_verrs_t *v)
{
    int nul = 0;
    lb_json_each(id, ids) nul |= lb_json_has_nul(id->str, id->len);
    if (!nul) return 0;
    lb_buf_t list = {0};
    lb_buf_puts(&list, "[");
    lb_json_each(id, ids)
    {
        if (id != ids->child) lb_buf_puts(&list, ", ");
        lb_buf_append(&list, id->str, id->len);
    }
    lb_buf_puts(&list, "]");
    lb_verr_add_n(v, list.data, list.len, "ids",
                  "Member must satisfy constraint: [Member must satisfy regular expression "
                  "pattern: " TARGET_ID_PATTERN "]");
    lb_buf_free(&list);
    return 1;
}

void lb_op_remove_targets(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *ids;
    int force = 0;
    lb_verrs_t v = {0};
    if (lb_get_array(req, "Ids", &ids, call) || lb_get_bool(req, "Force", &force, NULL, call))
        return;
    int n = ids ? (int)ids->n_children : 0;
    if (!ids)
        lb_verr_add(&v, NULL, "ids", "Member must not be null");
    else if (n < 1 || n > 100)
        lb_verr_add(&v, "[...]", "ids",
                    n < 1 ? "Member must have length greater than or equal to 1"
                          : "Member must have length less than or equal to 100");
    if (lb_verr_emit(&v, call)) return;
    lb_json_each(id, ids) if (id->type != LB_JSON_STRING)
    {
        lb_call_error(call, LB_AWS_SERIALIZATION, "Ids must be a list of strings.");
        return;
    }
    if (ids_hold_nul(ids, &v)) {
        lb_verr_emit(&v, call);
        return;
    }
    lb_rule_t *rule = lb_rule_lookup(engine, req, "Rule", call);
    if (!rule || lb_rule_managed_refused(rule, 1, force, call) || busy_rule(rule, call)) return;
    targets_job_t *job = targets_job_new(engine, rule);
    job->targets = lb_xcalloc(rule->n_targets + 1, sizeof *job->targets);
    for (size_t i = 0; i < rule->n_targets; i++) {
        int removed = 0;
        lb_json_each(id, ids) removed |= strcmp(id->str, rule->targets[i].id) == 0;
        if (!removed) copy_target(&job->targets[job->n++], &rule->targets[i]);
    }
    rule->targets_busy = 1;
    lb_call_defer(call, targets_job_txn, targets_job_finish, job, targets_job_free);
}

void lb_op_list_targets_by_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *token;
    int64_t limit;
    if (lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit)) return;
    lb_rule_t *rule = lb_rule_lookup(engine, req, "Rule", call);
    if (!rule) return;
    char start[128];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"Targets\":[");
    size_t i = 0;
    if (start[0])
        while (i < rule->n_targets && strcmp(rule->targets[i].id, start) != 0)
            i++;
    for (int64_t n = 0; i < rule->n_targets; i++, n++) {
        if (n == limit) {
            lb_json_close_page(b, rule->targets[i].id);
            return;
        }
        if (n) lb_buf_puts(b, ",");
        lb_buf_puts(b, rule->targets[i].json);
    }
    lb_buf_puts(b, "]}");
}

/* ---- tags ---- */

/* What a ResourceARN names: a bus, or a rule on a bus. Returns -1 with the error set. */
static int resolve_resource(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                            const lb_bus_record_t **bus, lb_rule_t **rule)
{
    const char *arn;
    *bus = NULL;
    *rule = NULL;
    if (lb_get_string(req, "ResourceARN", &arn, call)) return -1;
    if (!arn) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "1 validation error detected: Value null at 'resourceARN' failed to "
                      "satisfy constraint: Member must not be null");
        return -1;
    }
    /* arn:aws:events:REGION:ACCOUNT:(event-bus/NAME | rule/NAME | rule/BUS/NAME) */
    const char *p = arn;
    for (int colons = 0; *p && colons < 5; p++)
        colons += *p == ':';
    if (strncmp(arn, "arn:aws", 7) != 0 || !*p) {
        lb_call_error(call, LB_AWS_VALIDATION, "Parameter ResourceARN is not valid.");
        return -1;
    }
    if (strncmp(p, "event-bus/", 10) == 0) {
        *bus = lb_engine_bus_find(engine, call->region, p + 10);
        if (!*bus && strcmp(p + 10, "default") == 0) *bus = lb_bus_resolve(engine, call, NULL);
        if (!*bus) {
            lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.", p + 10);
            return -1;
        }
        return 0;
    }
    if (strncmp(p, "rule/", 5) == 0) {
        char bus_name[512] = "default";
        const char *name = p + 5, *slash = strrchr(name, '/');
        if (slash) {
            snprintf(bus_name, sizeof bus_name, "%.*s", (int)(slash - name), name);
            name = slash + 1;
        }
        *rule = lb_rules_find(lb_engine_rules(engine), call->region, bus_name, name);
        if (!*rule) {
            lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Rule %s does not exist on EventBus %s.",
                          name, bus_name);
            return -1;
        }
        return 0;
    }
    lb_call_error(call, LB_AWS_VALIDATION, "Parameter ResourceARN is not valid.");
    return -1;
}

static void apply_tags(lb_engine_t *engine, lb_call_t *call, const lb_bus_record_t *bus,
                       lb_rule_t *rule, const lb_json_t *tags)
{
    char *json = lb_json_print(tags, NULL);
    if (bus)
        lb_bus_defer_retag(engine, call, bus, json);
    else
        lb_rule_defer_replace(engine, call, rule, rule->state, json);
    free(json);
}

/* The resource's tags as stored: a document whose root is an array (empty if there are none, or
 * if what is stored is not an array). */
static lb_json_doc_t *current_tags(const lb_bus_record_t *bus, const lb_rule_t *rule)
{
    const char *text = bus ? bus->tags_json : rule->tags_json;
    lb_json_doc_t *doc = NULL;
    if (text && lb_json_parse(text, strlen(text), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) == 0 &&
        lb_json_doc_root(doc)->type == LB_JSON_ARRAY)
        return doc;
    lb_json_doc_free(&doc);
    doc = lb_json_doc_new();
    lb_json_doc_set_root(doc, lb_json_new(doc, LB_JSON_ARRAY));
    return doc;
}

/* 1 if one of the tags from first on (or, with keys_only, one of the strings of a TagKeys
 * list) names key. */
static int names_key(const lb_json_t *first, const char *key, int keys_only)
{
    if (!key) return 0;
    for (const lb_json_t *t = first; t; t = t->next) {
        const char *k =
            keys_only ? (t->type == LB_JSON_STRING ? t->str : NULL) : lb_json_get_str(t, "Key");
        if (k && strcmp(k, key) == 0) return 1;
    }
    return 0;
}

void lb_op_tag_resource(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_bus_record_t *bus;
    lb_rule_t *rule;
    char *incoming_json;
    if (resolve_resource(engine, req, call, &bus, &rule)) return;
    if (lb_rule_managed_refused(rule, 0, 0, call)) return;
    if (lb_read_tags(req, "Tags", &incoming_json, call)) return;
    if (!incoming_json) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "1 validation error detected: Value null at 'tags' failed to satisfy "
                      "constraint: Member must not be null");
        return;
    }
    lb_json_doc_t *incoming_doc;
    if (lb_json_parse(incoming_json, strlen(incoming_json), LB_JSON_REQUEST_MAX_DEPTH,
                      &incoming_doc, NULL)) {
        free(incoming_json);
        lb_call_error_code(call, -EINVAL, "TagResource");
        return;
    }
    free(incoming_json);
    /* A tag given again replaces the one of that key: the kept tags in their order, then the
     * incoming ones (the last of a repeated key). */
    lb_json_doc_t *current = current_tags(bus, rule);
    const lb_json_t *incoming = lb_json_doc_root(incoming_doc);
    lb_json_t *tags = lb_json_new(current, LB_JSON_ARRAY);
    lb_json_each(
        t, lb_json_doc_root(current)) if (!names_key(incoming->child, lb_json_get_str(t, "Key"), 0))
        lb_json_add(current, tags, NULL, lb_json_copy(current, t));
    lb_json_each(t, incoming) if (!names_key(t->next, lb_json_get_str(t, "Key"), 0))
        lb_json_add(current, tags, NULL, lb_json_copy(current, t));
    lb_json_doc_free(&incoming_doc);
    if (tags->n_children > 50)
        lb_call_error(call, LB_AWS_LIMIT_EXCEEDED,
                      "The requested resource exceeds the maximum number allowed.");
    else
        apply_tags(engine, call, bus, rule, tags);
    lb_json_doc_free(&current);
}

void lb_op_untag_resource(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_bus_record_t *bus;
    lb_rule_t *rule;
    const lb_json_t *keys;
    if (resolve_resource(engine, req, call, &bus, &rule)) return;
    if (lb_rule_managed_refused(rule, 0, 0, call)) return;
    if (lb_get_array(req, "TagKeys", &keys, call)) return;
    if (!keys) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                      "constraint: Member must not be null");
        return;
    }
    lb_verrs_t v = {0};
    lb_verr_nul(&v, keys, "tagKeys", NULL);
    if (lb_verr_emit(&v, call)) return;
    lb_json_doc_t *current = current_tags(bus, rule);
    lb_json_t *tags = lb_json_new(current, LB_JSON_ARRAY);
    lb_json_each(
        t, lb_json_doc_root(current)) if (!names_key(keys->child, lb_json_get_str(t, "Key"), 1))
        lb_json_add(current, tags, NULL, lb_json_copy(current, t));
    apply_tags(engine, call, bus, rule, tags);
    lb_json_doc_free(&current);
}

void lb_op_list_tags_for_resource(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_bus_record_t *bus;
    lb_rule_t *rule;
    if (resolve_resource(engine, req, call, &bus, &rule)) return;
    const char *tags = bus ? bus->tags_json : rule->tags_json;
    call->status = 200;
    call->body.len = 0;
    lb_buf_printf(&call->body, "{\"Tags\":%s}", tags ? tags : "[]");
}

#include "lb_ops_rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_ops_bus.h"
#include "lb_pattern.h"
#include "lb_schedule.h"

#define RULE_NAME_PATTERN "[\\.\\-_A-Za-z0-9]+"

void lb_check_rule_name(const char *name, size_t bytes, const char *member, lb_verrs_t *v)
{
    if (!name) {
        lb_verr_add(v, NULL, member, "Member must not be null");
        return;
    }
    size_t len = lb_utf8_length(name);
    if (bytes < 1)
        lb_verr_add_n(v, name, bytes, member, "Member must have length greater than or equal to 1");
    else if (len > 64)
        lb_verr_add_n(v, name, bytes, member, "Member must have length less than or equal to 64");
    if (!lb_chars_only(name, bytes, ".-_"))
        lb_verr_add_n(v, name, bytes, member,
                      "Member must satisfy regular expression pattern: " RULE_NAME_PATTERN);
}

const lb_bus_record_t *lb_rule_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *given, *name = NULL;
    size_t given_len;
    if (lb_get_string_n(req, "EventBusName", &given, &given_len, call)) return NULL;
    if (given) {
        lb_verrs_t v = {0};
        if (lb_check_bus_name_or_arn(given, given_len, "eventBusName", &v, &name)) {
            lb_verr_emit(&v, call);
            return NULL;
        }
        lb_buf_free(&v.text);
    }
    return lb_bus_resolve(engine, call, name);
}

lb_rule_t *lb_rule_lookup(lb_engine_t *engine, const lb_json_t *req, const char *key,
                          lb_call_t *call)
{
    const char *name;
    size_t name_len;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, key, &name, &name_len, call)) return NULL;
    lb_check_rule_name(name, name_len, strcmp(key, "Rule") == 0 ? "rule" : "name", &v);
    if (lb_verr_emit(&v, call)) return NULL;
    const lb_bus_record_t *bus = lb_rule_bus(engine, req, call);
    if (!bus) return NULL;
    lb_rule_t *rule = lb_rules_find(lb_engine_rules(engine), call->region, bus->name, name);
    if (!rule)
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Rule %s does not exist on EventBus %s.",
                      name, bus->name);
    return rule;
}

/* rate(N unit) or cron(6 fields), as AWS accepts them (lb_schedule has the grammar). */
static int schedule_valid(const char *s)
{
    lb_schedule_t *compiled;
    if (lb_schedule_parse(s, strlen(s), &compiled, NULL)) return 0;
    lb_schedule_free(&compiled);
    return 1;
}

int lb_rule_managed_refused(const lb_rule_t *rule, int takes_force, int force, lb_call_t *call)
{
    if (!rule || !rule->managed_by) return 0;
    if (takes_force && !force)
        lb_call_error(call, LB_AWS_MANAGED_RULE,
                      "%s is a managed rule. Set 'force' parameter to true to override.",
                      rule->name);
    else if (takes_force)
        lb_call_error(call, LB_AWS_MANAGED_RULE,
                      "%s is managed by a forward line of the LocalBridge configuration; remove "
                      "that line and restart LocalBridge to remove the rule.",
                      rule->name);
    else
        lb_call_error(call, LB_AWS_MANAGED_RULE,
                      "%s is a managed rule and cannot be modified. It is managed by %s.",
                      rule->name, rule->managed_by);
    return -1;
}

/* RULE_PUT answers with the RuleArn; RULE_REPLACE (state, tags) with an empty object. */
typedef enum { RULE_PUT, RULE_DELETE, RULE_REPLACE } rule_change_t;

typedef struct {
    lb_engine_t *engine;
    rule_change_t change;
    lb_rule_t rule; /* the new definition (PUT/STATE), or just the key (DELETE) */
    char arn[2048];
} rule_job_t;

static void rule_job_free(void *arg)
{
    rule_job_t *job = arg;
    lb_rule_clear(&job->rule);
    free(job);
}

static int rule_job_txn(lb_store_t *store, void *arg)
{
    rule_job_t *job = arg;
    if (job->change == RULE_DELETE)
        return lb_store_rule_delete(store, job->rule.region, job->rule.bus, job->rule.name);
    return lb_store_rule_put(store, &job->rule);
}

static void rule_job_finish(lb_call_t *call, int rc)
{
    rule_job_t *job = call->arg;
    lb_rules_t *rules = lb_engine_rules(job->engine);
    if (rc) {
        char what[512];
        snprintf(what, sizeof what, "Rule %s", job->rule.name);
        lb_call_error_code(call, rc, what);
        return;
    }
    lb_rule_t *old = lb_rules_find(rules, job->rule.region, job->rule.bus, job->rule.name);
    if (job->change == RULE_DELETE) {
        if (old) lb_rules_remove(rules, job->rule.region, job->rule.bus, job->rule.name);
        lb_call_ok_json(call, "{}");
        return;
    }
    /* An update keeps the rule's targets, creation time and pending target writes. */
    if (old) {
        job->rule.targets = old->targets;
        job->rule.n_targets = old->n_targets;
        job->rule.created_ms = old->created_ms;
        job->rule.last_fired_ms = old->last_fired_ms;
        job->rule.targets_busy = old->targets_busy;
        old->targets = NULL;
        old->n_targets = 0;
    }
    lb_rules_put(rules, &job->rule);
    if (job->change == RULE_REPLACE) {
        lb_call_ok_json(call, "{}");
        return;
    }
    call->status = 200;
    call->body.len = 0;
    lb_buf_puts(&call->body, "{\"RuleArn\":");
    lb_buf_json_string(&call->body, job->arn, strlen(job->arn));
    lb_buf_puts(&call->body, "}");
}

void lb_op_put_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *pattern, *schedule, *state, *desc, *role;
    size_t name_len;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "Name", &name, &name_len, call) ||
        lb_get_string(req, "EventPattern", &pattern, call) ||
        lb_get_string(req, "ScheduleExpression", &schedule, call) ||
        lb_get_string(req, "State", &state, call) ||
        lb_get_string(req, "Description", &desc, call) ||
        lb_get_string(req, "RoleArn", &role, call))
        return;
    lb_check_rule_name(name, name_len, "name", &v);
    if (pattern && lb_utf8_length(pattern) > LB_PATTERN_MAX_LEN)
        lb_verr_add(&v, pattern, "eventPattern",
                    "Member must have length less than or equal to 4096");
    if (schedule && lb_utf8_length(schedule) > 256)
        lb_verr_add(&v, schedule, "scheduleExpression",
                    "Member must have length less than or equal to 256");
    if (state && strcmp(state, "ENABLED") && strcmp(state, "DISABLED") &&
        strcmp(state, "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"))
        lb_verr_add(&v, state, "state",
                    "Member must satisfy enum value set: [ENABLED, DISABLED, "
                    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]");
    if (desc && lb_utf8_length(desc) > 512)
        lb_verr_add(&v, desc, "description", "Member must have length less than or equal to 512");
    if (role && lb_utf8_length(role) > 1600)
        lb_verr_add(&v, role, "roleArn", "Member must have length less than or equal to 1600");
    if (lb_verr_emit(&v, call)) return;
    const lb_bus_record_t *bus = lb_rule_bus(engine, req, call);
    if (!bus) return;
    if (!pattern && !schedule) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Parameter(s) EventPattern or ScheduleExpression must be specified.");
        return;
    }
    if (schedule && !schedule_valid(schedule)) {
        lb_call_error(call, LB_AWS_VALIDATION, "Parameter ScheduleExpression is not valid.");
        return;
    }
    if (schedule && strcmp(bus->name, "default") != 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "ScheduleExpression is supported only on the default event bus.");
        return;
    }
    char *tags = NULL;
    if (lb_read_tags(req, "Tags", &tags, call)) return;
    lb_rule_t *existing = lb_rules_find(lb_engine_rules(engine), call->region, bus->name, name);
    if (lb_rule_managed_refused(existing, 0, 0, call)) {
        free(tags);
        return;
    }
    if (existing && !tags) tags = lb_strdup(existing->tags_json);
    rule_job_t *job = lb_xcalloc(1, sizeof *job);
    char *err = NULL;
    int rc = lb_rule_init(&job->rule, call->region, bus->name, name, pattern, schedule, state, desc,
                          role, existing ? existing->managed_by : NULL, tags, call->now_ms, &err);
    free(tags);
    if (rc) {
        lb_call_error(call, LB_AWS_INVALID_EVENT_PATTERN, "%s",
                      err ? err : "Event pattern is not valid.");
        free(err);
        rule_job_free(job);
        return;
    }
    /* A rate counts from when the rule got this schedule: kept while it stays the same. */
    job->rule.schedule_since_ms =
        existing && existing->schedule && schedule && strcmp(existing->schedule, schedule) == 0
            ? existing->schedule_since_ms
            : call->now_ms;
    job->engine = engine;
    job->change = RULE_PUT;
    lb_rule_arn(call->region, call->account_id, bus->name, name, job->arn, sizeof job->arn);
    lb_call_defer(call, rule_job_txn, rule_job_finish, job, rule_job_free);
}

/* The members DescribeRule and ListRules share. */
static void put_rule_fields(lb_buf_t *b, const lb_rule_t *rule, const char *account)
{
    char arn[2048];
    lb_rule_arn(rule->region, account, rule->bus, rule->name, arn, sizeof arn);
    lb_buf_puts(b, "{\"Name\":");
    lb_buf_json_string(b, rule->name, strlen(rule->name));
    lb_json_put_str(b, "Arn", arn);
    if (rule->event_pattern) lb_json_put_str(b, "EventPattern", rule->event_pattern);
    if (rule->schedule) lb_json_put_str(b, "ScheduleExpression", rule->schedule);
    lb_json_put_str(b, "State", rule->state);
    if (rule->description) lb_json_put_str(b, "Description", rule->description);
    if (rule->role_arn) lb_json_put_str(b, "RoleArn", rule->role_arn);
    if (rule->managed_by) lb_json_put_str(b, "ManagedBy", rule->managed_by);
    lb_json_put_str(b, "EventBusName", rule->bus);
}

void lb_op_describe_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    lb_rule_t *rule = lb_rule_lookup(engine, req, "Name", call);
    if (!rule) return;
    call->status = 200;
    call->body.len = 0;
    put_rule_fields(&call->body, rule, call->account_id);
    lb_json_put_str(&call->body, "CreatedBy", call->account_id);
    lb_buf_puts(&call->body, "}");
}

void lb_op_list_rules(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *prefix, *token;
    int64_t limit;
    if (lb_get_string(req, "NamePrefix", &prefix, call) ||
        lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit))
        return;
    const lb_bus_record_t *bus = lb_rule_bus(engine, req, call);
    if (!bus) return;
    char start[256];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    lb_rules_t *rules = lb_engine_rules(engine);
    const char *from = start[0] ? start : (prefix ? prefix : "");
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"Rules\":[");
    int64_t n = 0;
    lb_rule_t *rule;
    for (size_t i = lb_rules_lower_bound(rules, call->region, bus->name, from);
         (rule = lb_rules_at(rules, i)) != NULL; i++) {
        if (strcmp(rule->region, call->region) || strcmp(rule->bus, bus->name)) break;
        if (prefix && strncmp(rule->name, prefix, strlen(prefix)) != 0) break;
        if (n == limit) {
            lb_json_close_page(b, rule->name);
            return;
        }
        if (n++) lb_buf_puts(b, ",");
        put_rule_fields(b, rule, call->account_id);
        lb_buf_puts(b, "}");
    }
    lb_buf_puts(b, "]}");
}

void lb_op_delete_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    size_t name_len;
    int force = 0;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "Name", &name, &name_len, call) ||
        lb_get_bool(req, "Force", &force, NULL, call))
        return;
    lb_check_rule_name(name, name_len, "name", &v);
    if (lb_verr_emit(&v, call)) return;
    const lb_bus_record_t *bus = lb_rule_bus(engine, req, call);
    if (!bus) return;
    lb_rule_t *rule = lb_rules_find(lb_engine_rules(engine), call->region, bus->name, name);
    /* AWS answers 200 for a rule that does not exist. */
    if (!rule) {
        lb_call_ok_json(call, "{}");
        return;
    }
    if (lb_rule_managed_refused(rule, 1, force, call)) return;
    if (rule->targets_busy) {
        lb_call_error(call, LB_AWS_CONCURRENT_MODIFICATION,
                      "Rule %s is being modified by another request; retry.", name);
        return;
    }
    if (rule->n_targets && !force) {
        lb_call_error(call, LB_AWS_VALIDATION, "Rule can't be deleted since it has targets.");
        return;
    }
    rule_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->change = RULE_DELETE;
    job->rule.region = lb_strdup(call->region);
    job->rule.bus = lb_strdup(bus->name);
    job->rule.name = lb_strdup(name);
    lb_call_defer(call, rule_job_txn, rule_job_finish, job, rule_job_free);
}

void lb_rule_defer_replace(lb_engine_t *engine, lb_call_t *call, const lb_rule_t *rule,
                           const char *state, const char *tags_json)
{
    rule_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->change = RULE_REPLACE;
    if (lb_rule_init(&job->rule, rule->region, rule->bus, rule->name, rule->event_pattern,
                     rule->schedule, state, rule->description, rule->role_arn, rule->managed_by,
                     tags_json, rule->created_ms, NULL)) {
        rule_job_free(job);
        lb_call_error(call, LB_AWS_INTERNAL, "The stored pattern of rule %s no longer compiles.",
                      rule->name);
        return;
    }
    job->rule.schedule_since_ms = rule->schedule_since_ms;
    lb_call_defer(call, rule_job_txn, rule_job_finish, job, rule_job_free);
}

static void set_rule_state(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                           const char *state)
{
    lb_rule_t *rule = lb_rule_lookup(engine, req, "Name", call);
    if (rule && !lb_rule_managed_refused(rule, 0, 0, call))
        lb_rule_defer_replace(engine, call, rule, state, rule->tags_json);
}

void lb_op_enable_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    set_rule_state(engine, req, call, "ENABLED");
}

void lb_op_disable_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    set_rule_state(engine, req, call, "DISABLED");
}

void lb_op_list_rule_names_by_target(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *target_arn, *token;
    int64_t limit;
    lb_verrs_t v = {0};
    if (lb_get_string(req, "TargetArn", &target_arn, call) ||
        lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit))
        return;
    if (!target_arn)
        lb_verr_add(&v, NULL, "targetArn", "Member must not be null");
    else if (lb_utf8_length(target_arn) < 1 || lb_utf8_length(target_arn) > 1600)
        lb_verr_add(&v, target_arn, "targetArn",
                    "Member must have length less than or equal to 1600");
    if (lb_verr_emit(&v, call)) return;
    const lb_bus_record_t *bus = lb_rule_bus(engine, req, call);
    if (!bus) return;
    char start[256];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    lb_rules_t *rules = lb_engine_rules(engine);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"RuleNames\":[");
    int64_t n = 0;
    lb_rule_t *rule;
    for (size_t i = lb_rules_lower_bound(rules, call->region, bus->name, start);
         (rule = lb_rules_at(rules, i)) != NULL; i++) {
        if (strcmp(rule->region, call->region) || strcmp(rule->bus, bus->name)) break;
        int hit = 0;
        for (size_t t = 0; t < rule->n_targets && !hit; t++)
            hit = strcmp(rule->targets[t].arn, target_arn) == 0;
        if (!hit) continue;
        if (n == limit) {
            lb_json_close_page(b, rule->name);
            return;
        }
        if (n++) lb_buf_puts(b, ",");
        lb_buf_json_string(b, rule->name, strlen(rule->name));
    }
    lb_buf_puts(b, "]}");
}

#include "lb_ops_perm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_ops_bus.h"
#include "lb_policy.h"
#include "lb_validate.h"

#define NON_PARTNER_BUS_PATTERN "[\\.\\-_A-Za-z0-9]+"
#define STATEMENT_ID_PATTERN "[a-zA-Z0-9-_]+"

/* Raised in the store job when the bus row vanished (a DeleteEventBus committed first). */
#define PERM_ENOBUS (-ENOENT)

typedef enum { PERM_PUT, PERM_REPLACE, PERM_REMOVE, PERM_REMOVE_ALL } perm_change_t;

/* One policy change. The writer recomputes it from the policy the store holds, so two changes
 * of one bus in flight at once both land (neither works from a stale copy). */
typedef struct {
    lb_engine_t *engine;
    perm_change_t change;
    lb_bus_record_t bus; /* a copy, inserted when the bus has no row yet (a region's default) */
    char *sid, *principal, *action, *resource;
    char *cond_type, *cond_key, *cond_value;
    char *policy; /* PERM_REPLACE: the new document; after the job: the resulting policy */
    int64_t now_ms;
} perm_job_t;

static void perm_job_free(void *arg)
{
    perm_job_t *job = arg;
    lb_bus_record_clear(&job->bus);
    free(job->sid);
    free(job->principal);
    free(job->action);
    free(job->resource);
    free(job->cond_type);
    free(job->cond_key);
    free(job->cond_value);
    free(job->policy);
    free(job);
}

/* The policy after the change, from the current one. */
static int perm_apply(perm_job_t *job, const char *current, char **next)
{
    *next = NULL;
    switch (job->change) {
    case PERM_PUT: {
        lb_policy_condition_t cond = {job->cond_type, job->cond_key, job->cond_value};
        lb_policy_statement_t st = {.sid = job->sid,
                                    .principal = job->principal,
                                    .action = job->action,
                                    .resource = job->resource,
                                    .condition = job->cond_type ? &cond : NULL};
        int rc = lb_policy_put_statement(current, &st, next);
        if (rc == 0 && lb_policy_chars(*next) > LB_POLICY_MAX_CHARS) {
            free(*next);
            *next = NULL;
            return LB_ELIMIT;
        }
        return rc;
    }
    case PERM_REPLACE:
        *next = lb_strdup(job->policy);
        return 0;
    case PERM_REMOVE:
        return lb_policy_remove_statement(current, job->sid, next);
    case PERM_REMOVE_ALL:
        return current ? 0 : LB_ENOTFOUND;
    }
    return -EINVAL;
}

static int perm_job_txn(lb_store_t *store, void *arg)
{
    perm_job_t *job = arg;
    char *current = NULL, *next = NULL;
    int rc = lb_store_bus_get_policy(store, job->bus.region, job->bus.name, &current);
    int no_row = rc == LB_ENOTFOUND;
    if (rc && !no_row) return rc;
    /* Only a region's default bus lives in memory alone; any other bus without a row was
     * deleted after this request was read. */
    if (no_row && strcmp(job->bus.name, "default") != 0) return PERM_ENOBUS;
    rc = perm_apply(job, current, &next);
    free(current);
    if (rc) return rc;
    if (no_row) {
        job->bus.policy = lb_strdup(next);
        job->bus.modified_ms = job->now_ms;
        rc = lb_store_bus_insert(store, &job->bus);
    } else {
        rc = lb_store_bus_set_policy(store, job->bus.region, job->bus.name, next, job->now_ms);
    }
    free(job->policy);
    job->policy = next;
    return rc;
}

static void perm_job_finish(lb_call_t *call, int rc)
{
    perm_job_t *job = call->arg;
    if (rc == PERM_ENOBUS) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.",
                      job->bus.name);
    } else if (rc == LB_ENOTFOUND && job->change == PERM_REMOVE) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND,
                      "Statement with the provided id does not exist.");
    } else if (rc == LB_ENOTFOUND && job->change == PERM_REMOVE_ALL) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "EventBus does not have a policy.");
    } else if (rc == LB_ELIMIT) {
        lb_call_error(call, LB_AWS_POLICY_LENGTH_EXCEEDED,
                      "The event bus policy would be longer than %d characters, the event bus "
                      "policy size quota.",
                      LB_POLICY_MAX_CHARS);
    } else if (rc) {
        lb_call_error_code(call, rc, "Event bus policy");
    } else {
        lb_engine_bus_set_policy(job->engine, job->bus.region, job->bus.name, job->policy,
                                 job->now_ms);
        lb_call_ok_json(call, "{}");
    }
}

static perm_job_t *new_job(lb_engine_t *engine, lb_call_t *call, const lb_bus_record_t *bus,
                           perm_change_t change)
{
    perm_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->change = change;
    job->now_ms = call->now_ms;
    job->bus = (lb_bus_record_t){.region = lb_strdup(bus->region),
                                 .name = lb_strdup(bus->name),
                                 .description = lb_strdup(bus->description),
                                 .kms_key = lb_strdup(bus->kms_key),
                                 .dlq_arn = lb_strdup(bus->dlq_arn),
                                 .tags_json = lb_strdup(bus->tags_json),
                                 .created_ms = bus->created_ms,
                                 .modified_ms = bus->modified_ms};
    return job;
}

/* A string member checked against AWS's length bounds and a character set. */
static void check_member(lb_verrs_t *v, const char *s, size_t len, const char *member, size_t min,
                         size_t max, int (*ok)(const char *, size_t), const char *pattern)
{
    if (!s) return;
    size_t chars = lb_utf8_length(s);
    if (len < min || chars < min)
        lb_verr_add_n(v, s, len, member, "Member must have length greater than or equal to 1");
    else if (chars > max) {
        char constraint[96];
        snprintf(constraint, sizeof constraint, "Member must have length less than or equal to %zu",
                 max);
        lb_verr_add_n(v, s, len, member, constraint);
    }
    if (!ok(s, len)) {
        char constraint[160];
        snprintf(constraint, sizeof constraint,
                 "Member must satisfy regular expression pattern: %s", pattern);
        lb_verr_add_n(v, s, len, member, constraint);
    }
}

static int bus_name_ok(const char *s, size_t len)
{
    return lb_chars_only(s, len, ".-_");
}

static int sid_ok(const char *s, size_t len)
{
    return lb_chars_only(s, len, "-_");
}

static int action_ok(const char *s, size_t len)
{
    return len > 7 && strncmp(s, "events:", 7) == 0 &&
           strspn(s + 7, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == len - 7;
}

static int principal_ok(const char *s, size_t len)
{
    return (len == 1 && s[0] == '*') || (len == 12 && strspn(s, "0123456789") == 12);
}

/* The bus named by EventBusName (a NonPartnerEventBusName: no ARN, no '/'), default when
 * absent. NULL with the error set on the call. */
static const lb_bus_record_t *read_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                                       lb_verrs_t *v)
{
    const char *name;
    size_t len;
    if (lb_get_string_n(req, "EventBusName", &name, &len, call)) return NULL;
    check_member(v, name, len, "eventBusName", 1, 256, bus_name_ok, NON_PARTNER_BUS_PATTERN);
    if (lb_verr_emit(v, call)) return NULL;
    return lb_bus_resolve(engine, call, name);
}

/* PutPermission with a whole Policy document: it replaces the bus's policy. */
static void put_policy_document(lb_engine_t *engine, lb_call_t *call, const lb_bus_record_t *bus,
                                const char *text, size_t len)
{
    char *doc, *why;
    if (lb_policy_check_document(text, len, &doc, &why)) {
        lb_call_error(call, LB_AWS_VALIDATION, "%s", why);
        free(why);
        return;
    }
    if (lb_policy_chars(doc) > LB_POLICY_MAX_CHARS) {
        free(doc);
        lb_call_error(call, LB_AWS_POLICY_LENGTH_EXCEEDED,
                      "The event bus policy would be longer than %d characters, the event bus "
                      "policy size quota.",
                      LB_POLICY_MAX_CHARS);
        return;
    }
    perm_job_t *job = new_job(engine, call, bus, PERM_REPLACE);
    job->policy = doc;
    lb_call_defer(call, perm_job_txn, perm_job_finish, job, perm_job_free);
}

/* Condition: {Type, Key, Value}, all required; EventBridge supports one kind of condition. */
static int read_condition(const lb_json_t *cond, lb_call_t *call, lb_verrs_t *v, const char *out[3])
{
    static const char *const keys[3] = {"Type", "Key", "Value"};
    static const char *const members[3] = {"condition.type", "condition.key", "condition.value"};
    for (int i = 0; i < 3; i++) {
        if (lb_get_string(cond, keys[i], &out[i], call)) return -1;
        if (!out[i]) lb_verr_add(v, NULL, members[i], "Member must not be null");
    }
    return 0;
}

void lb_op_put_permission(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *action, *principal, *sid, *policy, *cond[3] = {0};
    size_t action_len, principal_len, sid_len, policy_len;
    const lb_json_t *condition;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "Action", &action, &action_len, call) ||
        lb_get_string_n(req, "Principal", &principal, &principal_len, call) ||
        lb_get_string_n(req, "StatementId", &sid, &sid_len, call) ||
        lb_get_string_n(req, "Policy", &policy, &policy_len, call) ||
        lb_get_object(req, "Condition", &condition, call) ||
        (condition && read_condition(condition, call, &v, cond)))
        goto out;
    check_member(&v, action, action_len, "action", 1, 64, action_ok, "events:[a-zA-Z]+");
    check_member(&v, principal, principal_len, "principal", 1, 12, principal_ok, "(\\d{12}|\\*)");
    check_member(&v, sid, sid_len, "statementId", 1, 64, sid_ok, STATEMENT_ID_PATTERN);
    const lb_bus_record_t *bus = read_bus(engine, req, call, &v);
    if (!bus) goto out;
    if (policy) {
        if (action || principal || sid || condition)
            lb_call_error(call, LB_AWS_VALIDATION,
                          "Policy cannot be combined with Action, Principal, StatementId or "
                          "Condition.");
        else
            put_policy_document(engine, call, bus, policy, policy_len);
        goto out;
    }
    const char *missing = !principal ? "Principal" : !sid ? "StatementId" : !action ? "Action" : 0;
    if (missing) {
        lb_call_error(call, LB_AWS_VALIDATION, "Parameter %s must be specified.", missing);
        goto out;
    }
    if (strcmp(action, "events:PutEvents") != 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Provided value in parameter 'action' is not supported.");
        goto out;
    }
    if (condition && strcmp(principal, "*") != 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Value of the parameter 'principal' must be '*' when the parameter "
                      "'condition' is set.");
        goto out;
    }
    if (condition &&
        (strcmp(cond[0], "StringEquals") != 0 || strcmp(cond[1], "aws:PrincipalOrgID") != 0)) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Provided value in parameter 'condition' is not supported: Type must be "
                      "StringEquals and Key aws:PrincipalOrgID.");
        goto out;
    }
    char arn[2048];
    lb_bus_arn(call, bus->name, arn, sizeof arn);
    perm_job_t *job = new_job(engine, call, bus, PERM_PUT);
    job->sid = lb_strdup(sid);
    job->principal = lb_strdup(principal);
    job->action = lb_strdup(action);
    job->resource = lb_strdup(arn);
    if (condition) {
        job->cond_type = lb_strdup(cond[0]);
        job->cond_key = lb_strdup(cond[1]);
        job->cond_value = lb_strdup(cond[2]);
    }
    lb_call_defer(call, perm_job_txn, perm_job_finish, job, perm_job_free);
out:
    lb_buf_free(&v.text);
}

void lb_op_remove_permission(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *sid;
    size_t sid_len;
    int all = 0, all_present;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "StatementId", &sid, &sid_len, call) ||
        lb_get_bool(req, "RemoveAllPermissions", &all, &all_present, call))
        return;
    check_member(&v, sid, sid_len, "statementId", 1, 64, sid_ok, STATEMENT_ID_PATTERN);
    const lb_bus_record_t *bus = read_bus(engine, req, call, &v);
    lb_buf_free(&v.text);
    if (!bus) return;
    if (!all && !sid) {
        lb_call_error(call, LB_AWS_VALIDATION, "Parameter StatementId is required.");
        return;
    }
    /* Answered at once when memory already says no; the store job checks again. */
    if (!all && !lb_policy_has_statement(bus->policy, sid)) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND,
                      "Statement with the provided id does not exist.");
        return;
    }
    if (all && !bus->policy) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "EventBus does not have a policy.");
        return;
    }
    perm_job_t *job = new_job(engine, call, bus, all ? PERM_REMOVE_ALL : PERM_REMOVE);
    job->sid = lb_strdup(sid);
    lb_call_defer(call, perm_job_txn, perm_job_finish, job, perm_job_free);
}

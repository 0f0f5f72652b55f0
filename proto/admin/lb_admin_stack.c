/* Stack records: see lb_admin_stack.h. Reads run on the reader thread, writes on the writer. */
#include "lb_admin_stack.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_stack_store.h"

typedef struct {
    char region[32];
    char name[129];
    char *json;
    int64_t modified_ms;
} stack_job_t;

static void job_free(void *arg)
{
    stack_job_t *j = arg;
    free(j->json);
    free(j);
}

/* CloudFormation's stack name rule and its validation message. */
static stack_job_t *read_job(const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *n = lb_json_get(req, "StackName");
    int ok = n && n->type == LB_JSON_STRING && n->len >= 1 && n->len <= 128 &&
             isalpha((unsigned char)n->str[0]);
    for (size_t i = 0; ok && i < n->len; i++)
        ok = isalnum((unsigned char)n->str[i]) || n->str[i] == '-';
    if (!ok) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "1 validation error detected: Value '%.128s' at 'stackName' failed to "
                      "satisfy constraint: Member must satisfy regular expression pattern: "
                      "[a-zA-Z][-a-zA-Z0-9]*",
                      n && n->type == LB_JSON_STRING ? n->str : "");
        return NULL;
    }
    const char *region = lb_json_get_str(req, "Region");
    int region_ok = !region || (*region && strlen(region) < 32);
    for (const char *p = region; region_ok && p && *p; p++)
        region_ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-';
    if (!region_ok || (lb_json_get(req, "Region") && !region)) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Region must be 1 to 31 lower-case letters, digits and '-'.");
        return NULL;
    }
    stack_job_t *j = lb_xcalloc(1, sizeof *j);
    snprintf(j->region, sizeof j->region, "%s", region && *region ? region : call->region);
    snprintf(j->name, sizeof j->name, "%s", n->str);
    return j;
}

static int get_txn(lb_store_t *store, void *arg)
{
    stack_job_t *j = arg;
    return lb_store_stack_get(store, j->region, j->name, &j->json, &j->modified_ms);
}

static void finish_get(lb_call_t *call, int rc)
{
    stack_job_t *j = call->arg;
    if (rc == LB_ENOTFOUND) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Stack with id %s does not exist", j->name);
        return;
    }
    if (rc) {
        lb_call_error_code(call, rc, "the stack record");
        return;
    }
    lb_buf_t b = {0};
    char when[32];
    lb_format_time_iso(j->modified_ms, when);
    lb_buf_puts(&b, "{\"StackName\":");
    lb_buf_json_string(&b, j->name, strlen(j->name));
    lb_buf_puts(&b, ",\"Region\":");
    lb_buf_json_string(&b, j->region, strlen(j->region));
    lb_buf_printf(&b, ",\"LastUpdatedTime\":\"%s\",\"Resources\":%s}", when, j->json);
    lb_call_ok_json(call, b.data);
    lb_buf_free(&b);
}

void lb_admin_get_stack(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)engine;
    stack_job_t *j = read_job(req, call);
    if (j) lb_call_defer_read(call, get_txn, finish_get, j, job_free);
}

/* Each resource entry: the four strings, optional Attributes of strings. */
static int valid_resources(const lb_json_t *list, lb_call_t *call)
{
    static const char *const keys[] = {"LogicalId", "Type", "PhysicalId", "Hash"};
    if (!list || list->type != LB_JSON_ARRAY) {
        lb_call_error(call, LB_AWS_VALIDATION, "Resources must be a list of resources.");
        return -1;
    }
    if (list->n_children > LB_STACK_MAX_RESOURCES) {
        lb_call_error(call, LB_AWS_VALIDATION, "A stack has at most %d resources; got %zu.",
                      LB_STACK_MAX_RESOURCES, list->n_children);
        return -1;
    }
    size_t i = 0;
    lb_json_each(r, list)
    {
        for (size_t k = 0; k < 4; k++) {
            const lb_json_t *v = lb_json_get(r, keys[k]);
            if (!v || v->type != LB_JSON_STRING || v->len == 0 || v->len > 2048) {
                lb_call_error(call, LB_AWS_VALIDATION,
                              "Resources[%zu].%s must be a string of 1 to 2048 characters.", i,
                              keys[k]);
                return -1;
            }
        }
        const lb_json_t *a = lb_json_get(r, "Attributes");
        int ok = !a || a->type == LB_JSON_OBJECT;
        lb_json_each(v, a) ok &= v->type == LB_JSON_STRING;
        if (!ok) {
            lb_call_error(call, LB_AWS_VALIDATION,
                          "Resources[%zu].Attributes must map names to strings.", i);
            return -1;
        }
        i++;
    }
    return 0;
}

static int put_txn(lb_store_t *store, void *arg)
{
    stack_job_t *j = arg;
    return lb_store_stack_put(store, j->region, j->name, j->json, j->modified_ms);
}

static int delete_txn(lb_store_t *store, void *arg)
{
    stack_job_t *j = arg;
    return lb_store_stack_delete(store, j->region, j->name);
}

static void finish_write(lb_call_t *call, int rc)
{
    stack_job_t *j = call->arg;
    if (rc == LB_ENOTFOUND)
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Stack with id %s does not exist", j->name);
    else if (rc)
        lb_call_error_code(call, rc, "the stack record");
    else
        lb_call_ok_json(call, "{}");
}

void lb_admin_put_stack(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)engine;
    const lb_json_t *res = lb_json_get(req, "Resources");
    stack_job_t *j = read_job(req, call);
    if (!j) return;
    if (valid_resources(res, call)) {
        job_free(j);
        return;
    }
    j->json = lb_json_print(res, NULL);
    j->modified_ms = call->now_ms;
    lb_call_defer(call, put_txn, finish_write, j, job_free);
}

void lb_admin_delete_stack(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)engine;
    stack_job_t *j = read_job(req, call);
    if (j) lb_call_defer(call, delete_txn, finish_write, j, job_free);
}

/* lb_deploy: resolving a template's resources into named resources, hashes and API calls. The
 * handlers of each type are in lb_deploy_events.c (EventBridge) and lb_deploy_compute.c (queues,
 * functions). */
#include "lb_deploy.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_deploy_internal.h"

static const lb_dtype_t *const dtypes[] = {
    &lb_dtype_bus,        &lb_dtype_bus_policy,   &lb_dtype_rule,  &lb_dtype_archive,
    &lb_dtype_connection, &lb_dtype_apidest,      &lb_dtype_queue, &lb_dtype_queue_policy,
    &lb_dtype_function,   &lb_dtype_sam_function,
};

static const lb_dtype_t *find_type(const char *type)
{
    for (size_t i = 0; type && i < sizeof dtypes / sizeof *dtypes; i++)
        if (strcmp(dtypes[i]->type, type) == 0) return dtypes[i];
    return NULL;
}

int lb_deploy_supported(const char *type)
{
    return find_type(type) != NULL;
}

/* ---- shared helpers ---- */

lb_dcall_t *lb_dcall_add(lb_dcalls_t *out, lb_dcall_kind_t kind, const char *op,
                         const lb_json_t *body)
{
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 8;
        out->v = lb_xrealloc(out->v, out->cap * sizeof *out->v);
    }
    lb_dcall_t *c = &out->v[out->n++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->op = lb_strdup(op);
    c->body = body ? lb_json_print(body, NULL) : NULL;
    return c;
}

void lb_dcalls_free(lb_dcalls_t *calls)
{
    for (size_t i = 0; i < calls->n; i++) {
        free(calls->v[i].op);
        free(calls->v[i].body);
    }
    free(calls->v);
    memset(calls, 0, sizeof *calls);
}

const char *lb_dprop(const lb_json_t *props, const char *key)
{
    const lb_json_t *v = lb_json_get(props, key);
    if (!v || (v->type != LB_JSON_STRING && v->type != LB_JSON_NUMBER)) return NULL;
    return v->str;
}

/* Members the EventBridge and SQS APIs type as numbers (CloudFormation accepts them as strings). */
static const char *const numeric_keys[] = {
    "MaximumRetryAttempts",
    "MaximumEventAgeInSeconds",
    "RetentionDays",
    "TaskCount",
    "InvocationRateLimitPerSecond",
    "ArraySize",
    "Attempts",
    "Weight",
    "Base",
};

static int is_numeric_key(const char *key)
{
    for (size_t i = 0; key && i < sizeof numeric_keys / sizeof *numeric_keys; i++)
        if (strcmp(key, numeric_keys[i]) == 0) return 1;
    return 0;
}

lb_json_t *lb_dapi_copy(lb_json_doc_t *doc, const lb_json_t *v)
{
    if (v->type == LB_JSON_STRING && is_numeric_key(v->key)) {
        lb_json_doc_t *probe = NULL;
        int num = lb_json_parse(v->str, v->len, 1, &probe, NULL) == 0 &&
                  lb_json_doc_root(probe)->type == LB_JSON_NUMBER;
        lb_json_doc_free(&probe);
        if (num) {
            lb_json_t *n = lb_json_new_string(doc, v->str, v->len);
            n->type = LB_JSON_NUMBER;
            n->num = strtod(v->str, NULL);
            return n;
        }
    }
    if (v->type != LB_JSON_OBJECT && v->type != LB_JSON_ARRAY) return lb_json_copy(doc, v);
    lb_json_t *c = lb_json_new(doc, v->type);
    lb_json_each(m, v) lb_json_add(doc, c, m->key, lb_dapi_copy(doc, m));
    return c;
}

void lb_dcopy(lb_json_doc_t *doc, lb_json_t *obj, const lb_json_t *props, const char *key,
              const char *as)
{
    const lb_json_t *v = lb_json_get(props, key);
    if (v && v->type != LB_JSON_NULL) lb_json_add(doc, obj, as ? as : key, lb_dapi_copy(doc, v));
}

void lb_dpattern(lb_json_doc_t *doc, lb_json_t *obj, const char *key, const lb_json_t *v)
{
    if (!v || v->type == LB_JSON_NULL) return;
    if (v->type == LB_JSON_STRING) {
        lb_json_add(doc, obj, key, lb_json_new_string(doc, v->str, v->len));
        return;
    }
    char *text = lb_json_print(v, NULL);
    lb_json_add(doc, obj, key, lb_json_new_str(doc, text));
    free(text);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void lb_dgen_name(const lb_deploy_ctx_t *ctx, const char *logical_id, size_t max, char *out,
                  size_t outlen)
{
    char key[600], hex[65], suffix[13];
    snprintf(key, sizeof key, "%s/%s", ctx->stack_name, logical_id);
    sha256_hex(key, strlen(key), hex);
    /* Twelve upper-case letters and digits, as CloudFormation's suffixes look. */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int i = 0; i < 12; i++) {
        unsigned v = (unsigned)strtoul((char[]){hex[2 * i], hex[2 * i + 1], 0}, NULL, 16);
        suffix[i] = alphabet[v % 36];
    }
    suffix[12] = '\0';
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s-%s", ctx->stack_name, logical_id);
    size_t room = max > 13 ? max - 13 : 0;
    if (strlen(prefix) > room) prefix[room] = '\0';
    snprintf(out, outlen, "%s-%s", prefix, suffix);
}

void lb_dattr(lb_dres_t *r, const char *name, const char *value)
{
    lb_json_remove(r->attrs, name);
    lb_json_add(r->doc, r->attrs, name, lb_json_new_str(r->doc, value));
}

/* ---- resolving ---- */

void lb_dres_clear(lb_dres_t *r)
{
    free(r->physical_id);
    lb_json_doc_free(&r->doc);
    memset(r, 0, sizeof *r);
}

static void publish(lb_template_t *t, const lb_dres_t *r)
{
    lb_json_each(a, r->attrs)
    {
        if (strcmp(a->key, "Ref") == 0)
            lb_template_set_ref(t, r->logical_id, a);
        else
            lb_template_set_attr(t, r->logical_id, a->key, a->str);
    }
}

void lb_deploy_set_attr(lb_template_t *t, lb_dres_t *r, const char *attr, const char *value)
{
    lb_dattr(r, attr, value);
    publish(t, r);
}

/* A skipped type still answers Ref (a generated name) and Arn, so the resources that mention
 * it (a target's RoleArn) resolve. */
static void identify_skipped(const lb_deploy_ctx_t *ctx, lb_dres_t *r)
{
    char name[256], arn[512], service[64] = "cloudformation";
    lb_dgen_name(ctx, r->logical_id, 64, name, sizeof name);
    r->physical_id = lb_strdup(name);
    const char *p = strstr(r->type, "::");
    if (p) {
        size_t n = strcspn(p + 2, ":");
        snprintf(service, sizeof service, "%.*s", (int)n, p + 2);
        for (char *c = service; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    }
    if (strcmp(r->type, "AWS::IAM::Role") == 0)
        snprintf(arn, sizeof arn, "arn:aws:iam::%s:role/%s", ctx->account_id, name);
    else
        snprintf(arn, sizeof arn, "arn:aws:%s:%s:%s:%s", service, ctx->region, ctx->account_id,
                 name);
    lb_dattr(r, "Ref", name);
    lb_dattr(r, "Arn", arn);
}

/* Attributes only an answer tells (a connection's ARN) come from the record while the
 * physical resource is the same one, and are unknown until created otherwise. */
static void keep_recorded(lb_dres_t *r, const lb_json_t *old_attrs, const char *old_physical)
{
    lb_json_each(a, r->attrs)
    {
        if (a->type != LB_JSON_STRING || strcmp(a->str, LB_DEPLOY_UNKNOWN) != 0) continue;
        const char *old = lb_json_get_str(old_attrs, a->key);
        if (old && old_physical && strcmp(old_physical, r->physical_id) == 0)
            lb_dattr(r, a->key, old);
    }
}

/* SAM's Globals.Function: each property the function does not set, and environment variables
 * merged (the function's win). */
static int sam_globals(lb_template_t *t, lb_dres_t *r, char **err)
{
    const lb_json_t *g = lb_json_get(lb_template_section(t, "Globals"), "Function");
    lb_json_t *gv;
    if (!g) return 0;
    if (lb_template_resolve(t, g, r->logical_id, r->doc, &gv, err)) return -EINVAL;
    lb_json_each(m, gv)
    {
        const lb_json_t *mine = lb_json_get(r->props, m->key);
        if (!mine) {
            lb_json_add(r->doc, r->props, m->key, lb_json_copy(r->doc, m));
        } else if (strcmp(m->key, "Environment") == 0) {
            lb_json_t *vars = (lb_json_t *)lb_json_get(mine, "Variables");
            if (!vars)
                vars = lb_json_add(r->doc, (lb_json_t *)mine, "Variables",
                                   lb_json_new(r->doc, LB_JSON_OBJECT));
            lb_json_each(v, lb_json_get(m, "Variables")) if (!lb_json_get(vars, v->key))
                lb_json_add(r->doc, vars, v->key, lb_json_copy(r->doc, v));
        }
    }
    return 0;
}

int lb_deploy_resolve(lb_template_t *t, size_t i, const lb_deploy_ctx_t *ctx,
                      const lb_json_t *old_attrs, lb_dres_t *out, char **err)
{
    lb_tpl_resource_t res;
    lb_template_resource(t, i, &res);
    memset(out, 0, sizeof *out);
    out->logical_id = res.logical_id;
    out->type = res.type;
    out->line = res.line;
    out->doc = lb_json_doc_new();
    out->attrs = lb_json_new(out->doc, LB_JSON_OBJECT);
    const lb_dtype_t *dt = find_type(res.type);
    if (!dt) {
        out->skipped = 1;
        out->why = "not deployed locally";
        identify_skipped(ctx, out);
        publish(t, out);
        return 0;
    }
    if (lb_template_resolve(t, lb_json_get(res.node, "Properties"), res.logical_id, out->doc,
                            &out->props, err))
        return -EINVAL;
    if (!out->props) out->props = lb_json_new(out->doc, LB_JSON_OBJECT);
    if (out->props->type != LB_JSON_OBJECT) {
        *err = lb_template_error(t, res.node, res.logical_id, "Properties must be a mapping");
        return -EINVAL;
    }
    if (strcmp(res.type, "AWS::Serverless::Function") == 0 && sam_globals(t, out, err))
        return -EINVAL;
    char name[512];
    const char *given = dt->name_prop ? lb_dprop(out->props, dt->name_prop) : NULL;
    if (given)
        snprintf(name, sizeof name, "%s", given);
    else
        lb_dgen_name(ctx, res.logical_id, dt->max_name, name, sizeof name);
    dt->identify(ctx, out, name);
    keep_recorded(out, old_attrs, lb_json_get_str(old_attrs, "PhysicalId"));
    lb_dattr(out, "PhysicalId", out->physical_id);
    lb_buf_t b = {0};
    lb_buf_printf(&b, "%s\n", out->type);
    lb_json_write(&b, out->props);
    /* A function's registration also holds the runner and the code directory's absolute path:
     * either changing re-registers it. */
    if (strstr(out->type, "Function"))
        lb_buf_printf(&b, "\n%s\n%s", ctx->lambda_runner ? ctx->lambda_runner : "",
                      ctx->template_dir ? ctx->template_dir : "");
    sha256_hex(b.data, b.len, out->hash);
    lb_buf_free(&b);
    publish(t, out);
    return 0;
}

int lb_deploy_needs_replace(const lb_dres_t *r, const char *old_type, const char *old_physical,
                            const lb_json_t *old_props)
{
    if (strcmp(r->type, old_type) != 0 || strcmp(r->physical_id, old_physical) != 0) return 1;
    const lb_dtype_t *dt = find_type(r->type);
    for (const char *const *p = dt && dt->replace_props ? dt->replace_props : NULL; p && *p; p++) {
        const lb_json_t *a = lb_json_get(r->props, *p), *b = lb_json_get(old_props, *p);
        if ((a == NULL) != (b == NULL) || (a && !lb_json_equal(a, b))) return 1;
    }
    return 0;
}

int lb_deploy_upsert_calls(const lb_deploy_ctx_t *ctx, const lb_dres_t *r,
                           const lb_json_t *old_props, const lb_json_t *old_attrs, lb_dcalls_t *out,
                           char **err)
{
    const lb_dtype_t *dt = find_type(r->type);
    *err = NULL;
    if (!dt || r->skipped) return 0;
    return dt->upsert(ctx, r, old_props, old_attrs, out, err);
}

void lb_deploy_delete_calls(const lb_deploy_ctx_t *ctx, const char *type, const char *physical_id,
                            const lb_json_t *props, const lb_json_t *attrs, lb_dcalls_t *out)
{
    const lb_dtype_t *dt = find_type(type);
    if (dt) dt->remove(ctx, physical_id, props, attrs, out);
}

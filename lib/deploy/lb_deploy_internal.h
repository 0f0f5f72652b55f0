/* Private to lib/deploy: the per-type handlers and the helpers they share. */
#ifndef LB_DEPLOY_INTERNAL_H
#define LB_DEPLOY_INTERNAL_H
#ifndef LB_FOLDER_DEPLOY
#error "lb_deploy_internal.h is private to lib/deploy"
#endif

#include "lb_deploy.h"

typedef struct {
    const char *type;
    const char *name_prop; /* the property that names it; absent: a generated name */
    size_t max_name;
    /* Fills r->physical_id (from name, the chosen name) and r->attrs. */
    void (*identify)(const lb_deploy_ctx_t *ctx, lb_dres_t *r, const char *name);
    int (*upsert)(const lb_deploy_ctx_t *ctx, const lb_dres_t *r, const lb_json_t *old_props,
                  const lb_json_t *old_attrs, lb_dcalls_t *out, char **err);
    void (*remove)(const lb_deploy_ctx_t *ctx, const char *physical_id, const lb_json_t *props,
                   const lb_json_t *attrs, lb_dcalls_t *out);
    const char *const *replace_props; /* a change of any of these means a new resource */
} lb_dtype_t;

extern const lb_dtype_t lb_dtype_bus, lb_dtype_bus_policy, lb_dtype_rule, lb_dtype_archive,
    lb_dtype_connection, lb_dtype_apidest, lb_dtype_queue, lb_dtype_queue_policy, lb_dtype_function,
    lb_dtype_sam_function;

/* Appends a call; body (may be NULL) is printed now, so its document may be freed after. */
lb_dcall_t *lb_dcall_add(lb_dcalls_t *out, lb_dcall_kind_t kind, const char *op,
                         const lb_json_t *body);
/* A string property's text (strings and numbers), or NULL. */
const char *lb_dprop(const lb_json_t *props, const char *key);
/* A copy of v for an API request: numbers written as strings by YAML ("3") become numbers
 * under the keys the API types as numbers. */
lb_json_t *lb_dapi_copy(lb_json_doc_t *doc, const lb_json_t *v);
/* Copies key from props into obj, for the API, when present. */
void lb_dcopy(lb_json_doc_t *doc, lb_json_t *obj, const lb_json_t *props, const char *key,
              const char *as);
/* An EventPattern as the API takes it: a string, or an object's JSON text. */
void lb_dpattern(lb_json_doc_t *doc, lb_json_t *obj, const char *key, const lb_json_t *v);
/* CloudFormation's generated name, deterministic: STACK-ID-SUFFIX within max characters. */
void lb_dgen_name(const lb_deploy_ctx_t *ctx, const char *logical_id, size_t max, char *out,
                  size_t outlen);
void lb_dattr(lb_dres_t *r, const char *name, const char *value);
/* The rule calls of one SAM event (or a rule resource): PutRule then PutTargets. */
void lb_drule_calls(lb_json_doc_t *doc, const char *bus, lb_json_t *put_rule,
                    const lb_json_t *targets, lb_dcalls_t *out);

#endif

/* lb_template: a CloudFormation / SAM template, read from YAML (libyaml) or JSON (lb_json), its
 * parameters, conditions and mappings applied, its resources ordered by their dependencies and
 * their properties resolved with every intrinsic function evaluated. No I/O: the caller reads the
 * file and passes its bytes.
 *
 * The model is an lb_json tree whose every node keeps the byte offset where it starts in the
 * template text (src_off), so any node can be named by its line and column
 * (lb_template_where). YAML's short tags become the long forms as the tree is built: `!Ref X` is
 * {"Ref": X}, `!GetAtt A.B` is {"Fn::GetAtt": ["A", "B"]}, `!Sub`, `!Join`... are {"Fn::Sub": ...},
 * and `!Condition C` is {"Condition": C}. Any other tag is a syntax error naming its line.
 *
 * What a resource's Ref and Fn::GetAtt give is not the template's business: the caller, which
 * knows resource types and what the daemon answered, sets them (lb_template_set_ref,
 * lb_template_set_attr) before resolving the resources that use them, in the order
 * lb_template_resource gives (dependencies first).
 *
 * Errors are malloc'd texts "FILE:LINE: Resource ID: what", or "FILE:LINE: what" outside a
 * resource; the caller frees them. */
#ifndef LB_TEMPLATE_H
#define LB_TEMPLATE_H

#include <stddef.h>

#include "lb_json.h"

typedef struct lb_template lb_template_t;

/* Where a template's pseudo parameters come from. Every field is required but partition and
 * url_suffix ("aws", "amazonaws.com" when NULL). */
typedef struct {
    const char *stack_name;
    const char *region;
    const char *account_id;
    const char *partition;
    const char *url_suffix;
} lb_tpl_context_t;

/* Parses the template text (YAML, or JSON when its first non-blank character is '{'). file names
 * the template in messages. 0, or -EINVAL with *err. */
int lb_template_parse(const char *file, const char *text, size_t len, lb_template_t **out,
                      char **err);
void lb_template_free(lb_template_t **t);

/* Applies parameter values (overrides "Key=Value", each naming a declared parameter), evaluates
 * every condition, and orders the resources whose condition holds by their dependencies (Ref,
 * Fn::GetAtt, Fn::Sub names and DependsOn); a cycle is an error naming the resources in it.
 * 0, or -EINVAL with *err. Call once, before the functions below. */
int lb_template_prepare(lb_template_t *t, const lb_tpl_context_t *ctx, const char *const *overrides,
                        size_t n_overrides, char **err);

/* One resource, in dependency order (index 0 has no dependency on a later one). The strings and
 * the node belong to the template. */
typedef struct {
    const char *logical_id;
    const char *type;
    const lb_json_t *node; /* the whole resource definition, unresolved */
    int line;
} lb_tpl_resource_t;

size_t lb_template_resource_count(const lb_template_t *t);
void lb_template_resource(const lb_template_t *t, size_t i, lb_tpl_resource_t *out);
/* Resources whose Condition is false: not deployed, but listed so a plan can say so. */
size_t lb_template_excluded_count(const lb_template_t *t);
void lb_template_excluded(const lb_template_t *t, size_t i, lb_tpl_resource_t *out);

/* What Ref and Fn::GetAtt of a resource give. value is copied into the template. */
void lb_template_set_ref(lb_template_t *t, const char *logical_id, const lb_json_t *value);
void lb_template_set_attr(lb_template_t *t, const char *logical_id, const char *attr,
                          const char *value);

/* Evaluates every intrinsic function in node (any node of the template, typically a resource's
 * Properties) into a new tree in doc. *out is NULL when the whole value is AWS::NoValue.
 * resource names the resource in messages (may be NULL). 0, or -EINVAL with *err. */
int lb_template_resolve(lb_template_t *t, const lb_json_t *node, const char *resource,
                        lb_json_doc_t *doc, lb_json_t **out, char **err);

/* Whether condition name (of the Conditions section) holds. 0, or -EINVAL with *err. */
int lb_template_condition(lb_template_t *t, const char *name, int *truth, char **err);

/* The line and column (from 1) where node starts; 0 for a node built by the caller. */
void lb_template_where(const lb_template_t *t, const lb_json_t *node, int *line, int *col);

/* A malloc'd "FILE:LINE: Resource ID: message" naming node's line (and resource when not NULL). */
char *lb_template_error(const lb_template_t *t, const lb_json_t *node, const char *resource,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The template's top-level section (Resources, Globals...) or NULL. */
const lb_json_t *lb_template_section(const lb_template_t *t, const char *name);

#endif

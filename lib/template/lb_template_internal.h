/* Private to lib/template: the template's state shared by its parser, its preparation and its
 * evaluator. */
#ifndef LB_TEMPLATE_INTERNAL_H
#define LB_TEMPLATE_INTERNAL_H
#ifndef LB_FOLDER_TEMPLATE
#error "lb_template_internal.h is private to lib/template"
#endif

#include "lb_template.h"

/* One named value: a parameter's, a condition's, a resource's Ref or one of its attributes. */
typedef struct tpl_value {
    char *name; /* parameter, condition or logical id; "Id.Attr" for an attribute */
    lb_json_t *value;
    int state; /* conditions: 0 not evaluated, 1 being evaluated, 2 done */
    int truth;
    struct tpl_value *next;
} tpl_value_t;

typedef struct {
    const char *id;
    const lb_json_t *node;
    int enabled;
    int mark; /* ordering: 0 new, 1 on the path, 2 placed */
} tpl_res_t;

struct lb_template {
    char *file;
    char *text; /* the template's bytes, for line numbers */
    size_t len;
    size_t *line_starts; /* offset where each line starts, for lb_template_where */
    size_t n_lines;
    lb_json_doc_t *doc; /* the parsed tree, and every value set later */
    const lb_json_t *root;
    lb_tpl_context_t ctx;
    char *ctx_strings[5];
    tpl_value_t *params, *conditions, *refs;
    tpl_res_t *res;
    size_t n_res;
    size_t *order; /* indices of enabled resources, dependencies first */
    size_t n_order;
    size_t *excluded;
    size_t n_excluded;
};

/* YAML text -> tree in doc (lb_template_yaml.c). 0, or -EINVAL with *err. */
int lb_tpl_yaml_parse(lb_template_t *t, lb_json_t **root, char **err);

tpl_value_t *lb_tpl_find(tpl_value_t *list, const char *name);
tpl_value_t *lb_tpl_put(tpl_value_t **list, const char *name);
/* The resource record named id, or NULL. */
tpl_res_t *lb_tpl_resource(lb_template_t *t, const char *id);
/* Evaluates condition name (memoised). 0 with *truth, or -EINVAL with *err. */
int lb_tpl_condition(lb_template_t *t, const char *name, const lb_json_t *at, const char *resource,
                     int *truth, char **err);

#endif

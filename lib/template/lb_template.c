/* The template: parsing, parameters, conditions and the dependency order of its resources. The
 * evaluation of intrinsic functions is in lb_template_eval.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_template_internal.h"

tpl_value_t *lb_tpl_find(tpl_value_t *list, const char *name)
{
    for (; list; list = list->next)
        if (strcmp(list->name, name) == 0) return list;
    return NULL;
}

tpl_value_t *lb_tpl_put(tpl_value_t **list, const char *name)
{
    tpl_value_t *v = lb_tpl_find(*list, name);
    if (v) return v;
    v = lb_xcalloc(1, sizeof *v);
    v->name = lb_strdup(name);
    v->next = *list;
    *list = v;
    return v;
}

static void free_values(tpl_value_t **list)
{
    while (*list) {
        tpl_value_t *v = *list;
        *list = v->next;
        free(v->name);
        free(v);
    }
}

void lb_template_where(const lb_template_t *t, const lb_json_t *node, int *line, int *col)
{
    *line = *col = 0;
    if (!node || (node->src_off == 0 && node != t->root) || node->src_off > t->len) return;
    /* The last line starting at or before the offset. */
    size_t lo = 0, hi = t->n_lines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->line_starts[mid] <= node->src_off)
            lo = mid;
        else
            hi = mid;
    }
    *line = (int)lo + 1;
    *col = (int)(node->src_off - t->line_starts[lo]) + 1;
}

static char *verror(const lb_template_t *t, const lb_json_t *node, const char *resource,
                    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static char *verror(const lb_template_t *t, const lb_json_t *node, const char *resource,
                    const char *fmt, va_list ap)
{
    lb_buf_t b = {0};
    int line, col;
    lb_template_where(t, node, &line, &col);
    lb_buf_puts(&b, t->file);
    if (line) lb_buf_printf(&b, ":%d", line);
    lb_buf_puts(&b, ": ");
    if (resource) lb_buf_printf(&b, "Resource %s: ", resource);
    lb_buf_vprintf(&b, fmt, ap);
    return lb_buf_steal(&b, NULL);
}

char *lb_template_error(const lb_template_t *t, const lb_json_t *node, const char *resource,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *e = verror(t, node, resource, fmt, ap);
    va_end(ap);
    return e;
}

int lb_template_parse(const char *file, const char *text, size_t len, lb_template_t **out,
                      char **err)
{
    lb_template_t *t = lb_xcalloc(1, sizeof *t);
    t->file = lb_strdup(file);
    t->text = lb_xmalloc(len + 1);
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    t->len = len;
    size_t newlines = 0;
    for (size_t k = 0; k < len; k++)
        newlines += text[k] == '\n';
    t->line_starts = lb_xmalloc((newlines + 1) * sizeof *t->line_starts);
    t->line_starts[t->n_lines++] = 0;
    for (size_t k = 0; k < len; k++)
        if (text[k] == '\n') t->line_starts[t->n_lines++] = k + 1;
    t->doc = lb_json_doc_new();
    *out = NULL;
    *err = NULL;
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    lb_json_t *root = NULL;
    int rc;
    if (i < len && text[i] == '{') {
        char *why = NULL;
        size_t off = 0;
        rc = lb_json_parse_into_at(t->doc, t->text, len, 200, &root, &why, &off);
        if (rc) {
            /* A stand-in node at the offset where the parser stopped names the line. */
            lb_json_t at = {.src_off = off > len ? len : off};
            *err = lb_template_error(t, &at, NULL, "JSON syntax error: %s", why ? why : "");
            free(why);
        }
    } else {
        rc = lb_tpl_yaml_parse(t, &root, err);
    }
    t->root = root;
    const lb_json_t *resources = rc ? NULL : lb_json_get(root, "Resources");
    if (rc == 0 && (!resources || resources->type != LB_JSON_OBJECT || !resources->n_children)) {
        *err = lb_template_error(t, resources ? resources : root, NULL,
                                 "the template must have a Resources section with at least one "
                                 "resource");
        rc = -EINVAL;
    }
    for (const lb_json_t *r = resources ? resources->child : NULL; rc == 0 && r; r = r->next) {
        const char *type = lb_json_get_str(r, "Type");
        if (r->type != LB_JSON_OBJECT || !type) {
            *err = lb_template_error(t, r, r->key, "a resource must be a mapping with a Type");
            rc = -EINVAL;
        }
    }
    if (rc) {
        lb_template_free(&t);
        return -EINVAL;
    }
    t->n_res = resources->n_children;
    t->res = lb_xcalloc(t->n_res, sizeof *t->res);
    size_t k = 0;
    lb_json_each(r, resources)
    {
        t->res[k].id = r->key;
        t->res[k].node = r;
        t->res[k++].enabled = 1;
    }
    *out = t;
    return 0;
}

void lb_template_free(lb_template_t **tp)
{
    lb_template_t *t = *tp;
    if (!t) return;
    free_values(&t->params);
    free_values(&t->conditions);
    free_values(&t->refs);
    for (size_t i = 0; i < 5; i++)
        free(t->ctx_strings[i]);
    free(t->res);
    free(t->order);
    free(t->excluded);
    lb_json_doc_free(&t->doc);
    free(t->file);
    free(t->text);
    free(t->line_starts);
    free(t);
    *tp = NULL;
}

const lb_json_t *lb_template_section(const lb_template_t *t, const char *name)
{
    return lb_json_get(t->root, name);
}

tpl_res_t *lb_tpl_resource(lb_template_t *t, const char *id)
{
    for (size_t i = 0; i < t->n_res; i++)
        if (strcmp(t->res[i].id, id) == 0) return &t->res[i];
    return NULL;
}

/* ---- parameters ---- */

/* The text of a scalar (string, number, boolean), or NULL. */
static const char *scalar_text(const lb_json_t *v)
{
    if (!v) return NULL;
    if (v->type == LB_JSON_STRING || v->type == LB_JSON_NUMBER) return v->str;
    if (v->type == LB_JSON_TRUE) return "true";
    if (v->type == LB_JSON_FALSE) return "false";
    return NULL;
}

static const char *find_override(const char *const *ov, size_t n, const char *key)
{
    size_t klen = strlen(key);
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(ov[i], key, klen) == 0 && ov[i][klen] == '=') found = ov[i] + klen + 1;
    return found;
}

/* A parameter's value as Ref gives it: a string, or a list for the List<...> and
 * CommaDelimitedList types. */
static int set_param(lb_template_t *t, const lb_json_t *decl, const char *value, char **err)
{
    const char *type = lb_json_get_str(decl, "Type");
    if (!type) type = "String";
    const lb_json_t *allowed = lb_json_get(decl, "AllowedValues");
    if (allowed && allowed->type == LB_JSON_ARRAY) {
        int ok = 0;
        lb_json_each(a, allowed) ok |= scalar_text(a) && strcmp(scalar_text(a), value) == 0;
        if (!ok) {
            *err = lb_template_error(t, decl, NULL,
                                     "Parameter '%s' must be one of AllowedValues; got '%s'",
                                     decl->key, value);
            return -EINVAL;
        }
    }
    if (strcmp(type, "Number") == 0) {
        char *end;
        strtod(value, &end);
        if (!*value || *end) {
            *err = lb_template_error(t, decl, NULL, "Parameter '%s' must be a number; got '%s'",
                                     decl->key, value);
            return -EINVAL;
        }
    }
    lb_json_t *v;
    if (strncmp(type, "List<", 5) == 0 || strcmp(type, "CommaDelimitedList") == 0) {
        v = lb_json_new(t->doc, LB_JSON_ARRAY);
        for (const char *p = value;;) {
            size_t n = strcspn(p, ",");
            lb_json_add(t->doc, v, NULL, lb_json_new_string(t->doc, p, n));
            if (!p[n]) break;
            p += n + 1;
        }
    } else {
        v = lb_json_new_str(t->doc, value);
    }
    lb_tpl_put(&t->params, decl->key)->value = v;
    return 0;
}

static int apply_parameters(lb_template_t *t, const char *const *ov, size_t n, char **err)
{
    const lb_json_t *params = lb_json_get(t->root, "Parameters");
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(ov[i], '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - ov[i]) : (int)strlen(ov[i]), ov[i]);
        if (!eq || !params || !lb_json_get(params, key)) {
            *err = lb_template_error(t, NULL, NULL,
                                     eq ? "Parameters: [%s] do not exist in the template"
                                        : "parameter override '%s' is not Key=Value",
                                     key);
            return -EINVAL;
        }
    }
    lb_json_each(decl, params)
    {
        const char *value = find_override(ov, n, decl->key);
        if (!value) value = scalar_text(lb_json_get(decl, "Default"));
        if (!value) {
            *err = lb_template_error(t, decl, NULL, "Parameters: [%s] must have values", decl->key);
            return -EINVAL;
        }
        if (set_param(t, decl, value, err)) return -EINVAL;
    }
    return 0;
}

/* ---- dependency order ---- */

typedef struct {
    lb_template_t *t;
    const char **deps;
    const lb_json_t **where;
    size_t n, cap;
} deps_t;

static void add_dep(deps_t *d, const char *name, size_t len, const lb_json_t *at)
{
    char id[256];
    snprintf(id, sizeof id, "%.*s", (int)len, name);
    tpl_res_t *r = lb_tpl_resource(d->t, id);
    if (!r) return; /* a parameter or pseudo parameter */
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->deps = lb_xrealloc(d->deps, d->cap * sizeof *d->deps);
        d->where = lb_xrealloc(d->where, d->cap * sizeof *d->where);
    }
    d->where[d->n] = at;
    d->deps[d->n++] = r->id;
}

static void sub_deps(deps_t *d, const lb_json_t *s)
{
    if (!s || s->type != LB_JSON_STRING) return;
    for (const char *p = s->str; (p = strstr(p, "${")) != NULL;) {
        p += 2;
        if (*p == '!') continue;
        size_t n = strcspn(p, ".}");
        add_dep(d, p, n, s);
    }
}

static void collect_deps(deps_t *d, const lb_json_t *n)
{
    if (!n || (n->type != LB_JSON_OBJECT && n->type != LB_JSON_ARRAY)) return;
    if (n->type == LB_JSON_OBJECT && n->n_children == 1) {
        const lb_json_t *arg = n->child;
        if (strcmp(arg->key, "Ref") == 0 && arg->type == LB_JSON_STRING)
            add_dep(d, arg->str, arg->len, n);
        else if (strcmp(arg->key, "Fn::GetAtt") == 0 && arg->type == LB_JSON_ARRAY && arg->child &&
                 arg->child->type == LB_JSON_STRING)
            add_dep(d, arg->child->str, arg->child->len, n);
        else if (strcmp(arg->key, "Fn::GetAtt") == 0 && arg->type == LB_JSON_STRING)
            add_dep(d, arg->str, strcspn(arg->str, "."), n);
        else if (strcmp(arg->key, "Fn::Sub") == 0)
            sub_deps(d, arg->type == LB_JSON_ARRAY ? arg->child : arg);
    }
    lb_json_each(c, n) collect_deps(d, c);
}

static int visit(lb_template_t *t, tpl_res_t *r, const char **path, size_t depth, char **err)
{
    if (r->mark == 2) return 0;
    path[depth] = r->id;
    if (r->mark == 1) {
        lb_buf_t b = {0};
        size_t first = 0;
        while (strcmp(path[first], r->id) != 0)
            first++;
        for (size_t i = first; i <= depth; i++)
            lb_buf_printf(&b, "%s%s", i > first ? " -> " : "", path[i]);
        *err = lb_template_error(t, r->node, r->id, "circular dependency: %s", b.data);
        lb_buf_free(&b);
        return -EINVAL;
    }
    r->mark = 1;
    deps_t d = {.t = t};
    collect_deps(&d, r->node);
    const lb_json_t *dep_on = lb_json_get(r->node, "DependsOn");
    int rc = 0;
    for (const lb_json_t *x = dep_on && dep_on->type == LB_JSON_ARRAY ? dep_on->child : dep_on;
         x && rc == 0; x = dep_on->type == LB_JSON_ARRAY ? x->next : NULL) {
        if (x->type != LB_JSON_STRING || !lb_tpl_resource(t, x->str)) {
            *err = lb_template_error(t, x, r->id,
                                     "Template format error: Unresolved resource dependencies "
                                     "[%s] in the Resources block of the template",
                                     x->type == LB_JSON_STRING ? x->str : "?");
            rc = -EINVAL;
        } else {
            add_dep(&d, x->str, x->len, x);
        }
    }
    for (size_t i = 0; rc == 0 && i < d.n; i++) {
        tpl_res_t *dep = lb_tpl_resource(t, d.deps[i]);
        if (!dep->enabled) {
            *err = lb_template_error(t, d.where[i], r->id,
                                     "depends on %s, which its Condition leaves out", dep->id);
            rc = -EINVAL;
        } else {
            rc = visit(t, dep, path, depth + 1, err);
        }
    }
    free(d.deps);
    free(d.where);
    if (rc) return rc;
    r->mark = 2;
    t->order[t->n_order++] = (size_t)(r - t->res);
    return 0;
}

static int order_resources(lb_template_t *t, char **err)
{
    t->order = lb_xcalloc(t->n_res, sizeof *t->order);
    t->excluded = lb_xcalloc(t->n_res, sizeof *t->excluded);
    const char **path = lb_xcalloc(t->n_res + 1, sizeof *path);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < t->n_res; i++) {
        if (t->res[i].enabled)
            rc = visit(t, &t->res[i], path, 0, err);
        else
            t->excluded[t->n_excluded++] = i;
    }
    free(path);
    return rc;
}

static void keep_ctx(lb_template_t *t, const lb_tpl_context_t *ctx)
{
    const char *v[5] = {ctx->stack_name, ctx->region, ctx->account_id,
                        ctx->partition ? ctx->partition : "aws",
                        ctx->url_suffix ? ctx->url_suffix : "amazonaws.com"};
    for (size_t i = 0; i < 5; i++)
        t->ctx_strings[i] = lb_strdup(v[i] ? v[i] : "");
    t->ctx = (lb_tpl_context_t){t->ctx_strings[0], t->ctx_strings[1], t->ctx_strings[2],
                                t->ctx_strings[3], t->ctx_strings[4]};
}

int lb_template_prepare(lb_template_t *t, const lb_tpl_context_t *ctx, const char *const *overrides,
                        size_t n_overrides, char **err)
{
    *err = NULL;
    keep_ctx(t, ctx);
    if (apply_parameters(t, overrides, n_overrides, err)) return -EINVAL;
    lb_json_each(c, lb_json_get(t->root, "Conditions"))
    {
        int truth;
        if (lb_tpl_condition(t, c->key, c, NULL, &truth, err)) return -EINVAL;
    }
    for (size_t i = 0; i < t->n_res; i++) {
        const lb_json_t *cond = lb_json_get(t->res[i].node, "Condition");
        if (!cond) continue;
        int truth;
        if (cond->type != LB_JSON_STRING) {
            *err = lb_template_error(t, cond, t->res[i].id, "Condition must name a condition");
            return -EINVAL;
        }
        if (lb_tpl_condition(t, cond->str, cond, t->res[i].id, &truth, err)) return -EINVAL;
        t->res[i].enabled = truth;
    }
    return order_resources(t, err);
}

int lb_template_condition(lb_template_t *t, const char *name, int *truth, char **err)
{
    *err = NULL;
    return lb_tpl_condition(t, name, NULL, NULL, truth, err);
}

size_t lb_template_resource_count(const lb_template_t *t)
{
    return t->n_order;
}

static void describe(const lb_template_t *t, size_t idx, lb_tpl_resource_t *out)
{
    const tpl_res_t *r = &t->res[idx];
    int col;
    out->logical_id = r->id;
    out->type = lb_json_get_str(r->node, "Type");
    out->node = r->node;
    lb_template_where(t, r->node, &out->line, &col);
}

void lb_template_resource(const lb_template_t *t, size_t i, lb_tpl_resource_t *out)
{
    describe(t, t->order[i], out);
}

size_t lb_template_excluded_count(const lb_template_t *t)
{
    return t->n_excluded;
}

void lb_template_excluded(const lb_template_t *t, size_t i, lb_tpl_resource_t *out)
{
    describe(t, t->excluded[i], out);
}

void lb_template_set_ref(lb_template_t *t, const char *logical_id, const lb_json_t *value)
{
    lb_tpl_put(&t->refs, logical_id)->value = lb_json_copy(t->doc, value);
}

void lb_template_set_attr(lb_template_t *t, const char *logical_id, const char *attr,
                          const char *value)
{
    char name[512];
    snprintf(name, sizeof name, "%s.%s", logical_id, attr);
    lb_tpl_put(&t->refs, name)->value = lb_json_new_str(t->doc, value);
}

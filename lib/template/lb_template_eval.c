/* Evaluating a template's intrinsic functions: Ref (parameters, pseudo parameters, resources),
 * Fn::GetAtt, Fn::Sub (both forms), Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::Equals,
 * Fn::Not, Fn::And, Fn::Or, Fn::FindInMap, Fn::GetAZs and Condition. Messages follow
 * CloudFormation's where it has them ("Unresolved resource dependencies [X] in the Resources
 * block of the template"). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_template_internal.h"

typedef struct {
    lb_template_t *t;
    const char *resource;
    lb_json_doc_t *doc;
    char **err;
    int in_condition; /* {"Condition": name} is an intrinsic only inside Conditions */
} eval_t;

static int eval(eval_t *e, const lb_json_t *n, lb_json_t **out);

static int fail(eval_t *e, const lb_json_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(eval_t *e, const lb_json_t *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!*e->err) *e->err = lb_template_error(e->t, at, e->resource, "%s", msg);
    return -EINVAL;
}

/* A scalar's text (strings, numbers, booleans), or NULL. */
static const char *text_of(const lb_json_t *v)
{
    if (!v) return NULL;
    if (v->type == LB_JSON_STRING || v->type == LB_JSON_NUMBER) return v->str;
    if (v->type == LB_JSON_TRUE) return "true";
    if (v->type == LB_JSON_FALSE) return "false";
    return NULL;
}

/* Evaluates n and requires a value (not AWS::NoValue). */
static int eval_value(eval_t *e, const lb_json_t *n, const char *fn, lb_json_t **out)
{
    if (eval(e, n, out)) return -EINVAL;
    if (!*out) return fail(e, n, "%s: AWS::NoValue is not allowed here", fn);
    return 0;
}

static int eval_string(eval_t *e, const lb_json_t *n, const char *fn, const char **out)
{
    lb_json_t *v;
    if (eval_value(e, n, fn, &v)) return -EINVAL;
    *out = text_of(v);
    if (!*out) return fail(e, n, "%s: expected a string", fn);
    return 0;
}

/* The arguments of fn as a list of exactly min..max items. */
static int args(eval_t *e, const lb_json_t *arg, const char *fn, size_t min, size_t max)
{
    if (arg->type != LB_JSON_ARRAY || arg->n_children < min || arg->n_children > max) {
        if (min == max) return fail(e, arg, "%s takes a list of %zu arguments", fn, min);
        return fail(e, arg, "%s takes a list of %zu to %zu arguments", fn, min, max);
    }
    return 0;
}

/* ---- Ref, Fn::GetAtt ---- */

static lb_json_t *pseudo(eval_t *e, const char *name)
{
    const lb_tpl_context_t *c = &e->t->ctx;
    const char *v = NULL;
    char buf[512];
    if (strcmp(name, "AWS::AccountId") == 0) v = c->account_id;
    if (strcmp(name, "AWS::Region") == 0) v = c->region;
    if (strcmp(name, "AWS::StackName") == 0) v = c->stack_name;
    if (strcmp(name, "AWS::Partition") == 0) v = c->partition;
    if (strcmp(name, "AWS::URLSuffix") == 0) v = c->url_suffix;
    if (strcmp(name, "AWS::StackId") == 0) {
        snprintf(buf, sizeof buf, "arn:%s:cloudformation:%s:%s:stack/%s/localbridge", c->partition,
                 c->region, c->account_id, c->stack_name);
        v = buf;
    }
    if (strcmp(name, "AWS::NotificationARNs") == 0) return lb_json_new(e->doc, LB_JSON_ARRAY);
    return v ? lb_json_new_str(e->doc, v) : NULL;
}

/* Ref name: 0 with *out (NULL for AWS::NoValue). */
static int ref(eval_t *e, const char *name, const lb_json_t *at, lb_json_t **out)
{
    *out = NULL;
    if (strcmp(name, "AWS::NoValue") == 0) return 0;
    if ((*out = pseudo(e, name)) != NULL) return 0;
    tpl_value_t *v = lb_tpl_find(e->t->params, name);
    if (!v) {
        tpl_res_t *r = lb_tpl_resource(e->t, name);
        if (r && !r->enabled)
            return fail(e, at, "Ref %s: that resource's Condition leaves it out", name);
        v = r ? lb_tpl_find(e->t->refs, name) : NULL;
        if (r && !v) return fail(e, at, "Ref %s: its value is not known yet", name);
    }
    if (!v)
        return fail(e, at,
                    "Unresolved resource dependencies [%s] in the Resources block of the "
                    "template",
                    name);
    *out = lb_json_copy(e->doc, v->value);
    return 0;
}

static int get_att(eval_t *e, const char *id, const char *attr, const lb_json_t *at,
                   lb_json_t **out)
{
    tpl_res_t *r = lb_tpl_resource(e->t, id);
    if (!r)
        return fail(e, at,
                    "Template error: instance of Fn::GetAtt references undefined "
                    "resource %s",
                    id);
    char name[512];
    snprintf(name, sizeof name, "%s.%s", id, attr);
    tpl_value_t *v = lb_tpl_find(e->t->refs, name);
    if (!v)
        return fail(e, at,
                    "Template error: resource %s does not support attribute type %s in "
                    "Fn::GetAtt",
                    id, attr);
    *out = lb_json_copy(e->doc, v->value);
    return 0;
}

static int fn_ref(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    if (arg->type != LB_JSON_STRING)
        return fail(e, arg, "Ref takes the name of a resource or parameter");
    return ref(e, arg->str, arg, out);
}

static int fn_get_att(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    const char *id, *attr;
    if (arg->type == LB_JSON_STRING) {
        /* The JSON form "Id.Attr" as a single string. */
        const char *dot = strchr(arg->str, '.');
        if (!dot) return fail(e, arg, "Fn::GetAtt takes [LogicalId, Attribute]");
        char idbuf[256];
        snprintf(idbuf, sizeof idbuf, "%.*s", (int)(dot - arg->str), arg->str);
        return get_att(e, idbuf, dot + 1, arg, out);
    }
    if (args(e, arg, "Fn::GetAtt", 2, 2)) return -EINVAL;
    if (arg->child->type != LB_JSON_STRING)
        return fail(e, arg, "Fn::GetAtt takes [LogicalId, Attribute]");
    id = arg->child->str;
    if (eval_string(e, arg->child->next, "Fn::GetAtt", &attr)) return -EINVAL;
    return get_att(e, id, attr, arg, out);
}

/* ---- Fn::Sub ---- */

static int sub_var(eval_t *e, const char *name, const lb_json_t *vars, const lb_json_t *at,
                   lb_buf_t *b)
{
    lb_json_t *v = NULL;
    const lb_json_t *local = vars ? lb_json_get(vars, name) : NULL;
    const char *dot = strchr(name, '.');
    int rc;
    if (local) {
        rc = eval_value(e, local, "Fn::Sub", &v);
    } else if (dot && strncmp(name, "AWS::", 5) != 0) {
        char id[256];
        snprintf(id, sizeof id, "%.*s", (int)(dot - name), name);
        rc = get_att(e, id, dot + 1, at, &v);
    } else {
        rc = ref(e, name, at, &v);
    }
    if (rc) return rc;
    const char *s = text_of(v);
    if (!s) return fail(e, at, "Fn::Sub: ${%s} is not a string", name);
    lb_buf_puts(b, s);
    return 0;
}

static int fn_sub(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    const lb_json_t *str = arg, *vars = NULL;
    if (arg->type == LB_JSON_ARRAY) {
        if (args(e, arg, "Fn::Sub", 2, 2)) return -EINVAL;
        str = arg->child;
        vars = arg->child->next;
        if (vars->type != LB_JSON_OBJECT)
            return fail(e, vars, "Fn::Sub: the second argument must be a map of variables");
    }
    if (str->type != LB_JSON_STRING) return fail(e, str, "Fn::Sub takes a string");
    lb_buf_t b = {0};
    lb_buf_puts(&b, "");
    int rc = 0;
    for (const char *p = str->str; rc == 0 && *p;) {
        const char *open = strstr(p, "${");
        if (!open) {
            lb_buf_puts(&b, p);
            break;
        }
        lb_buf_append(&b, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        if (open[2] == '!') { /* ${!Literal} writes ${Literal} */
            lb_buf_puts(&b, "${");
            p = open + 3;
            continue;
        }
        if (!close) {
            rc = fail(e, str, "Fn::Sub: unterminated ${ in '%s'", str->str);
            break;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(close - open - 2), open + 2);
        rc = sub_var(e, name, vars, str, &b);
        p = close + 1;
    }
    if (rc == 0) *out = lb_json_new_string(e->doc, b.data, b.len);
    lb_buf_free(&b);
    return rc;
}

/* ---- lists and strings ---- */

static int fn_join(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    const char *delim;
    lb_json_t *list;
    if (args(e, arg, "Fn::Join", 2, 2) || eval_string(e, arg->child, "Fn::Join", &delim) ||
        eval_value(e, arg->child->next, "Fn::Join", &list))
        return -EINVAL;
    if (list->type != LB_JSON_ARRAY)
        return fail(e, arg, "Fn::Join: the second argument must be a list");
    lb_buf_t b = {0};
    lb_buf_puts(&b, "");
    int i = 0;
    lb_json_each(v, list)
    {
        const char *s = text_of(v);
        if (!s) {
            lb_buf_free(&b);
            return fail(e, arg, "Fn::Join: every item of the list must be a string");
        }
        lb_buf_printf(&b, "%s%s", i++ ? delim : "", s);
    }
    *out = lb_json_new_string(e->doc, b.data, b.len);
    lb_buf_free(&b);
    return 0;
}

static int fn_select(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    const char *idx;
    lb_json_t *list;
    if (args(e, arg, "Fn::Select", 2, 2) || eval_string(e, arg->child, "Fn::Select", &idx) ||
        eval_value(e, arg->child->next, "Fn::Select", &list))
        return -EINVAL;
    char *end;
    long i = strtol(idx, &end, 10);
    if (list->type != LB_JSON_ARRAY)
        return fail(e, arg, "Fn::Select: the second argument must be a list");
    if (!*idx || *end || i < 0 || (size_t)i >= list->n_children)
        return fail(e, arg, "Fn::Select: index %s is out of bounds of a list of %zu", idx,
                    list->n_children);
    *out = (lb_json_t *)lb_json_at(list, (size_t)i);
    return 0;
}

static int fn_split(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    const char *delim, *s;
    if (args(e, arg, "Fn::Split", 2, 2) || eval_string(e, arg->child, "Fn::Split", &delim) ||
        eval_string(e, arg->child->next, "Fn::Split", &s))
        return -EINVAL;
    if (!*delim) return fail(e, arg, "Fn::Split: the delimiter must not be empty");
    *out = lb_json_new(e->doc, LB_JSON_ARRAY);
    size_t dl = strlen(delim);
    for (const char *p = s;;) {
        const char *q = strstr(p, delim);
        lb_json_add(e->doc, *out, NULL,
                    lb_json_new_string(e->doc, p, q ? (size_t)(q - p) : strlen(p)));
        if (!q) break;
        p = q + dl;
    }
    return 0;
}

static int fn_find_in_map(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    const char *k[3];
    if (args(e, arg, "Fn::FindInMap", 3, 3)) return -EINVAL;
    const lb_json_t *a = arg->child;
    for (int i = 0; i < 3; i++, a = a->next)
        if (eval_string(e, a, "Fn::FindInMap", &k[i])) return -EINVAL;
    const lb_json_t *m = lb_json_get(lb_template_section(e->t, "Mappings"), k[0]);
    if (!m)
        return fail(e, arg,
                    "Fn::FindInMap: Mapping named '%s' is not present in the 'Mappings' section of "
                    "template",
                    k[0]);
    const lb_json_t *top = lb_json_get(m, k[1]);
    const lb_json_t *v = top ? lb_json_get(top, k[2]) : NULL;
    if (!v)
        return fail(e, arg,
                    "Fn::FindInMap: mapping '%s' has no key '%s' with second-level key '%s'", k[0],
                    k[1], k[2]);
    return eval_value(e, v, "Fn::FindInMap", out);
}

static int fn_get_azs(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    const char *region;
    if (eval_string(e, arg, "Fn::GetAZs", &region)) return -EINVAL;
    if (!*region) region = e->t->ctx.region;
    *out = lb_json_new(e->doc, LB_JSON_ARRAY);
    for (char z = 'a'; z <= 'c'; z++) {
        char az[64];
        snprintf(az, sizeof az, "%s%c", region, z);
        lb_json_add(e->doc, *out, NULL, lb_json_new_str(e->doc, az));
    }
    return 0;
}

/* ---- conditions ---- */

static int truth_of(eval_t *e, const lb_json_t *n, const char *fn, int *truth)
{
    lb_json_t *v;
    if (eval_value(e, n, fn, &v)) return -EINVAL;
    const char *s = text_of(v);
    if (!s || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
        return fail(e, n, "%s: expected a condition (true or false)", fn);
    *truth = strcmp(s, "true") == 0;
    return 0;
}

static int fn_if(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    int truth;
    if (args(e, arg, "Fn::If", 3, 3)) return -EINVAL;
    if (arg->child->type != LB_JSON_STRING)
        return fail(e, arg, "Fn::If: the first argument must name a condition");
    if (lb_tpl_condition(e->t, arg->child->str, arg, e->resource, &truth, e->err)) return -EINVAL;
    return eval(e, truth ? arg->child->next : arg->child->next->next, out);
}

static int fn_equals(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    lb_json_t *a, *b;
    if (args(e, arg, "Fn::Equals", 2, 2) || eval_value(e, arg->child, "Fn::Equals", &a) ||
        eval_value(e, arg->child->next, "Fn::Equals", &b))
        return -EINVAL;
    const char *sa = text_of(a), *sb = text_of(b);
    int eq = sa && sb ? strcmp(sa, sb) == 0 : lb_json_equal(a, b);
    *out = lb_json_new_bool(e->doc, eq);
    return 0;
}

static int fn_logic(eval_t *e, const lb_json_t *arg, const char *fn, lb_json_t **out)
{
    int is_not = strcmp(fn, "Fn::Not") == 0, is_and = strcmp(fn, "Fn::And") == 0;
    if (args(e, arg, fn, is_not ? 1 : 2, is_not ? 1 : 10)) return -EINVAL;
    int acc = is_and;
    lb_json_each(c, arg)
    {
        int truth;
        if (truth_of(e, c, fn, &truth)) return -EINVAL;
        acc = is_not ? !truth : is_and ? (acc && truth) : (acc || truth);
    }
    *out = lb_json_new_bool(e->doc, acc);
    return 0;
}

static int fn_condition(eval_t *e, const lb_json_t *arg, lb_json_t **out)
{
    int truth;
    if (arg->type != LB_JSON_STRING) return fail(e, arg, "Condition must name a condition");
    if (lb_tpl_condition(e->t, arg->str, arg, e->resource, &truth, e->err)) return -EINVAL;
    *out = lb_json_new_bool(e->doc, truth);
    return 0;
}

int lb_tpl_condition(lb_template_t *t, const char *name, const lb_json_t *at, const char *resource,
                     int *truth, char **err)
{
    const lb_json_t *def = lb_json_get(lb_template_section(t, "Conditions"), name);
    if (!def) {
        if (!*err)
            *err = lb_template_error(t, at, resource, "Condition %s is not defined in Conditions",
                                     name);
        return -EINVAL;
    }
    tpl_value_t *c = lb_tpl_put(&t->conditions, name);
    if (c->state == 1) {
        if (!*err) *err = lb_template_error(t, def, NULL, "Condition %s refers to itself", name);
        return -EINVAL;
    }
    if (c->state == 0) {
        c->state = 1;
        eval_t e = {.t = t, .resource = NULL, .doc = t->doc, .err = err, .in_condition = 1};
        char what[300];
        snprintf(what, sizeof what, "Condition %s", name);
        if (truth_of(&e, def, what, &c->truth)) return -EINVAL;
        c->state = 2;
    }
    *truth = c->truth;
    return 0;
}

/* ---- the walk ---- */

typedef int (*intrinsic_fn)(eval_t *, const lb_json_t *, lb_json_t **);

static const struct {
    const char *name;
    intrinsic_fn fn;
} intrinsics[] = {
    {"Ref", fn_ref},
    {"Condition", fn_condition},
    {"Fn::GetAtt", fn_get_att},
    {"Fn::Sub", fn_sub},
    {"Fn::Join", fn_join},
    {"Fn::Select", fn_select},
    {"Fn::Split", fn_split},
    {"Fn::If", fn_if},
    {"Fn::Equals", fn_equals},
    {"Fn::FindInMap", fn_find_in_map},
    {"Fn::GetAZs", fn_get_azs},
};

static int call_intrinsic(eval_t *e, const lb_json_t *n, lb_json_t **out)
{
    const lb_json_t *arg = n->child;
    for (size_t i = 0; i < sizeof intrinsics / sizeof *intrinsics; i++)
        if (strcmp(arg->key, intrinsics[i].name) == 0) return intrinsics[i].fn(e, arg, out);
    if (strcmp(arg->key, "Fn::Not") == 0 || strcmp(arg->key, "Fn::And") == 0 ||
        strcmp(arg->key, "Fn::Or") == 0)
        return fn_logic(e, arg, arg->key, out);
    return fail(e, n, "unsupported intrinsic %s", arg->key);
}

static int eval(eval_t *e, const lb_json_t *n, lb_json_t **out)
{
    *out = NULL;
    if (n->type == LB_JSON_OBJECT && n->n_children == 1 &&
        (strcmp(n->child->key, "Ref") == 0 || strncmp(n->child->key, "Fn::", 4) == 0 ||
         (strcmp(n->child->key, "Condition") == 0 && n->child->type == LB_JSON_STRING &&
          e->in_condition)))
        return call_intrinsic(e, n, out);
    if (n->type != LB_JSON_OBJECT && n->type != LB_JSON_ARRAY) {
        *out = lb_json_copy(e->doc, n);
        return 0;
    }
    lb_json_t *c = lb_json_new(e->doc, n->type);
    c->src_off = n->src_off;
    lb_json_each(m, n)
    {
        lb_json_t *v;
        if (eval(e, m, &v)) return -EINVAL;
        if (v) lb_json_add(e->doc, c, m->key, v); /* AWS::NoValue removes the member */
    }
    *out = c;
    return 0;
}

int lb_template_resolve(lb_template_t *t, const lb_json_t *node, const char *resource,
                        lb_json_doc_t *doc, lb_json_t **out, char **err)
{
    *err = NULL;
    *out = NULL;
    if (!node) return 0;
    eval_t e = {.t = t, .resource = resource, .doc = doc, .err = err};
    return eval(&e, node, out);
}

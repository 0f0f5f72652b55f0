/* Pattern compiler: validates an EventBridge event pattern with AWS's error messages and turns it
 * into branches (one per $or combination) of fields (a dot-joined path plus its alternatives).
 * Error texts come from AWS itself where the conformance data recorded them, else from
 * aws/event-ruler's JsonRuleCompiler, whose wording AWS returns. */
#include "lb_pattern_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_PREFIX "Event pattern is not valid. Reason: "
/* Deep enough for any real pattern, shallow enough that recursion cannot exhaust the stack. */
#define PATTERN_MAX_DEPTH 128
/* AWS rejects a wildcard with six stars ("*:*:*:*:*:event-bus" plus a trailing star) as too
 * complex and accepts one star followed by long repeated sequences; event-ruler's exact measure
 * depends on the whole rule machine, so we count stars, which agrees with every recorded AWS
 * answer. */
#define WILDCARD_MAX_STARS 5

typedef struct {
    lb_pattern_t *p;
    size_t fields_cap;
    char *err; /* reason, without the prefix */
} compiler_t;

typedef struct {
    size_t *idx; /* indices into p->fields */
    size_t n, cap;
} fvec_t;

typedef struct {
    fvec_t *v;
    size_t n, cap;
} bvec_t;

static int fail(compiler_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(compiler_t *c, const char *fmt, ...)
{
    if (!c->err) {
        char tmp[600];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        c->err = lb_strdup(tmp);
    }
    return -EINVAL;
}

static void cond_free(lb_cond_t *cd)
{
    free(cd->s);
    for (size_t i = 0; i < cd->n_strs; i++)
        free(cd->strs[i].s);
    free(cd->strs);
    free(cd->nums);
}

void lb_pattern_free(lb_pattern_t **pp)
{
    if (!pp || !*pp) return;
    lb_pattern_t *p = *pp;
    for (size_t i = 0; i < p->n_fields; i++) {
        lb_field_t *f = &p->fields[i];
        for (size_t j = 0; j < f->n_conds; j++)
            cond_free(&f->conds[j]);
        free(f->conds);
        free(f->path);
        free(f->wants);
    }
    free(p->fields);
    for (size_t i = 0; i < p->n_branches; i++)
        free(p->branches[i].fields);
    free(p->branches);
    free(p->source);
    free(p);
    *pp = NULL;
}

static char *dup_mem(const char *s, size_t len)
{
    char *d = lb_xmalloc(len + 1);
    if (len) memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* ---- one match expression ---- */

static int validate_wildcard(compiler_t *c, const char *s, size_t len)
{
    int stars = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            if (i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '\\')) {
                i++;
                continue;
            }
            return fail(c, "Invalid escape character at pos %zu", i);
        }
        if (s[i] == '*') {
            if (i + 1 < len && s[i + 1] == '*')
                return fail(c, "Consecutive wildcard characters at pos %zu", i + 1);
            stars++;
        }
    }
    if (stars > WILDCARD_MAX_STARS)
        return fail(c, "Rule is too complex - try using fewer wildcard characters or fewer "
                       "repeating character sequences after a wildcard character");
    return 0;
}

static void set_string(lb_cond_t *cd, const lb_json_t *v, int fold)
{
    if (fold)
        cd->s = lb_fold_case(v->str, v->len, &cd->len);
    else {
        cd->s = dup_mem(v->str, v->len);
        cd->len = v->len;
    }
}

static void add_str(lb_cond_t *cd, const lb_json_t *v, int fold)
{
    cd->strs = lb_xrealloc(cd->strs, (cd->n_strs + 1) * sizeof *cd->strs);
    lb_str_t *s = &cd->strs[cd->n_strs++];
    if (fold)
        s->s = lb_fold_case(v->str, v->len, &s->len);
    else {
        s->s = dup_mem(v->str, v->len);
        s->len = v->len;
    }
}

static void add_num(lb_cond_t *cd, double d)
{
    cd->nums = lb_xrealloc(cd->nums, (cd->n_nums + 1) * sizeof *cd->nums);
    cd->nums[cd->n_nums++] = d;
}

/* prefix/suffix: a string, or {"equals-ignore-case": string}. */
static int compile_affix(compiler_t *c, lb_cond_t *cd, const lb_json_t *v, int is_prefix)
{
    const char *op = is_prefix ? "prefix" : "suffix";
    if (v->type == LB_JSON_STRING) {
        cd->kind = is_prefix ? LB_C_PREFIX : LB_C_SUFFIX;
        set_string(cd, v, 0);
        return 0;
    }
    if (v->type == LB_JSON_OBJECT && v->child) {
        const lb_json_t *in = v->child;
        if (strcmp(in->key, "equals-ignore-case") != 0)
            return fail(c, "Unsupported %s pattern: %s", op, in->key);
        if (in->type != LB_JSON_STRING)
            return fail(c, "equals-ignore-case match pattern must be a string");
        if (in->next) return fail(c, "Only one key allowed in match expression");
        cd->kind = is_prefix ? LB_C_PREFIX_EIC : LB_C_SUFFIX_EIC;
        set_string(cd, in, 1);
        return 0;
    }
    return fail(c, "%s match pattern must be a string", op);
}

static int compile_anything_but(compiler_t *c, lb_cond_t *cd, const lb_json_t *v)
{
    switch (v->type) {
    case LB_JSON_STRING:
        cd->kind = LB_C_AB_VALUES;
        add_str(cd, v, 0);
        return 0;
    case LB_JSON_NUMBER:
        cd->kind = LB_C_AB_VALUES;
        add_num(cd, v->num);
        return 0;
    case LB_JSON_ARRAY:
        if (!v->child) return fail(c, "Empty arrays are not allowed");
        cd->kind = LB_C_AB_VALUES;
        for (const lb_json_t *e = v->child; e; e = e->next) {
            if (e->type == LB_JSON_STRING)
                add_str(cd, e, 0);
            else if (e->type == LB_JSON_NUMBER)
                add_num(cd, e->num);
            else
                return fail(c, "Inside anything but list, start|null|boolean is not supported.");
        }
        return 0;
    case LB_JSON_OBJECT: {
        const lb_json_t *in = v->child;
        if (!in) return fail(c, "Empty objects are not allowed");
        const char *op = in->key;
        int affix = !strcmp(op, "prefix") || !strcmp(op, "suffix");
        if (affix) {
            cd->kind = !strcmp(op, "prefix") ? LB_C_AB_PREFIX : LB_C_AB_SUFFIX;
            if (in->type == LB_JSON_OBJECT)
                return fail(c, "Value of anything-but must be an array or single string/number "
                               "value.");
            if (in->type == LB_JSON_STRING) {
                if (in->len == 0) return fail(c, "Null prefix/suffix not allowed");
                add_str(cd, in, 0);
            } else if (in->type == LB_JSON_ARRAY && in->child) {
                for (const lb_json_t *e = in->child; e; e = e->next) {
                    if (e->type != LB_JSON_STRING)
                        return fail(c, "prefix/suffix match pattern must be a string");
                    if (e->len == 0) return fail(c, "Null prefix/suffix not allowed");
                    add_str(cd, e, 0);
                }
            } else {
                return fail(c, "prefix/suffix match pattern must be a string");
            }
        } else if (!strcmp(op, "equals-ignore-case")) {
            cd->kind = LB_C_AB_EIC;
            if (in->type == LB_JSON_STRING) {
                add_str(cd, in, 1);
            } else if (in->type == LB_JSON_ARRAY && in->child) {
                for (const lb_json_t *e = in->child; e; e = e->next) {
                    if (e->type != LB_JSON_STRING)
                        return fail(c, "Inside anything-but/equals-ignore-case list, "
                                       "number|start|null|boolean is not supported.");
                    add_str(cd, e, 1);
                }
            } else {
                return fail(c, "Inside anything-but/equals-ignore-case list, "
                               "number|start|null|boolean is not supported.");
            }
        } else if (!strcmp(op, "wildcard")) {
            cd->kind = LB_C_AB_WILDCARD;
            if (in->type == LB_JSON_STRING) {
                if (validate_wildcard(c, in->str, in->len)) return -EINVAL;
                add_str(cd, in, 0);
            } else if (in->type == LB_JSON_ARRAY && in->child) {
                for (const lb_json_t *e = in->child; e; e = e->next) {
                    if (e->type != LB_JSON_STRING)
                        return fail(c, "wildcard match pattern must be a string");
                    if (validate_wildcard(c, e->str, e->len)) return -EINVAL;
                    add_str(cd, e, 0);
                }
            } else {
                return fail(c, "wildcard match pattern must be a string");
            }
        } else {
            return fail(c, "Unsupported anything-but pattern: %s", op);
        }
        if (in->next) return fail(c, "Only one key allowed in match expression");
        return 0;
    }
    default:
        return fail(c, "Value of anything-but must be an array or single string/number value.");
    }
}

static int range_op(const char *s)
{
    if (!strcmp(s, "<")) return 1;
    if (!strcmp(s, "<=")) return 2;
    if (!strcmp(s, ">")) return 3;
    if (!strcmp(s, ">=")) return 4;
    if (!strcmp(s, "=")) return 5;
    return 0;
}

static int numeric_value(compiler_t *c, const lb_json_t *v, const char *op, double *out)
{
    if (!v || v->type != LB_JSON_NUMBER)
        return fail(c, "Value of %s must be numeric", !strcmp(op, "=") ? "equals" : op);
    *out = v->num;
    return 0;
}

static void node_text(const lb_json_t *v, char *out, size_t n)
{
    lb_buf_t b = {0};
    lb_json_write(&b, v);
    snprintf(out, n, "%s", v->type == LB_JSON_STRING ? v->str : b.data);
    lb_buf_free(&b);
}

static int compile_numeric(compiler_t *c, lb_cond_t *cd, const lb_json_t *v)
{
    if (v->type != LB_JSON_ARRAY) return fail(c, "Value of numeric must be an array.");
    const lb_json_t *e = v->child;
    char t[128];
    if (!e) return fail(c, "Invalid member in numeric match: ]");
    if (e->type != LB_JSON_STRING) {
        node_text(e, t, sizeof t);
        return fail(c, "Invalid member in numeric match: %s", t);
    }
    int op = range_op(e->str);
    if (!op) return fail(c, "Unrecognized numeric range operator: %s", e->str);
    double x = 0;
    if (numeric_value(c, e->next, e->str, &x)) return -EINVAL;
    const lb_json_t *rest = e->next->next;
    if (op == 5) {
        if (rest) return fail(c, "Too many elements in numeric expression");
        cd->kind = LB_C_NUMBER;
        cd->num = x;
        return 0;
    }
    cd->kind = LB_C_RANGE;
    if (op <= 2) {
        cd->has_hi = true;
        cd->hi = x;
        cd->hi_incl = op == 2;
        if (rest) return fail(c, "Too many elements in numeric expression");
        return 0;
    }
    cd->has_lo = true;
    cd->lo = x;
    cd->lo_incl = op == 4;
    if (!rest) return 0;
    if (rest->type != LB_JSON_STRING) {
        node_text(rest, t, sizeof t);
        return fail(c, "Bad value in numeric range: %s", t);
    }
    int op2 = range_op(rest->str);
    if (op2 != 1 && op2 != 2) return fail(c, "Bad numeric range operator: %s", rest->str);
    double y = 0;
    if (numeric_value(c, rest->next, rest->str, &y)) return -EINVAL;
    if (!(y > x)) return fail(c, "Bottom must be less than top");
    if (rest->next->next) return fail(c, "Too many terms in numeric range expression");
    cd->has_hi = true;
    cd->hi = y;
    cd->hi_incl = op2 == 2;
    return 0;
}

static int compile_cidr(compiler_t *c, lb_cond_t *cd, const lb_json_t *v)
{
    if (v->type != LB_JSON_STRING) return fail(c, "prefix match pattern must be a string");
    const char *slash = memchr(v->str, '/', v->len);
    if (!slash || memchr(slash + 1, '/', v->len - (size_t)(slash + 1 - v->str)))
        return fail(c, "Malformed CIDR, one '/' required");
    const char *m = slash + 1, *end = v->str + v->len;
    long bits = 0;
    if (m == end) return fail(c, "Malformed CIDR, mask bits must be an integer");
    for (const char *q = m; q < end; q++) {
        if (*q < '0' || *q > '9' || bits > 1000)
            return fail(c, "Malformed CIDR, mask bits must be an integer");
        bits = bits * 10 + (*q - '0');
    }
    size_t ip_len = (size_t)(slash - v->str);
    cd->addr_len = lb_parse_ip(v->str, ip_len, cd->addr);
    if (!cd->addr_len) return fail(c, "Nonstandard IP address: %.*s", (int)ip_len, v->str);
    if (bits > cd->addr_len * 8)
        return fail(c, "Malformed CIDR, mask bits must be between 0 and %d", cd->addr_len * 8);
    cd->kind = LB_C_CIDR;
    cd->mask_bits = (int)bits;
    for (int i = 0; i < cd->addr_len; i++) {
        int keep = (int)bits - i * 8;
        uint8_t mask = keep >= 8 ? 0xFF : keep <= 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
        cd->addr[i] &= mask;
    }
    return 0;
}

static int compile_expression(compiler_t *c, lb_cond_t *cd, const lb_json_t *obj)
{
    const lb_json_t *m = obj->child;
    if (!m) return fail(c, "Empty objects are not allowed");
    const char *op = m->key;
    int rc;
    if (!strcmp(op, "prefix") || !strcmp(op, "suffix")) {
        rc = compile_affix(c, cd, m, op[0] == 'p');
    } else if (!strcmp(op, "equals-ignore-case")) {
        if (m->type != LB_JSON_STRING)
            return fail(c, "equals-ignore-case match pattern must be a string");
        cd->kind = LB_C_EIC;
        set_string(cd, m, 1);
        rc = 0;
    } else if (!strcmp(op, "wildcard")) {
        if (m->type != LB_JSON_STRING) return fail(c, "wildcard match pattern must be a string");
        rc = validate_wildcard(c, m->str, m->len);
        if (!rc) {
            cd->kind = LB_C_WILDCARD;
            set_string(cd, m, 0);
        }
    } else if (!strcmp(op, "anything-but")) {
        rc = compile_anything_but(c, cd, m);
    } else if (!strcmp(op, "numeric")) {
        rc = compile_numeric(c, cd, m);
    } else if (!strcmp(op, "cidr")) {
        rc = compile_cidr(c, cd, m);
    } else if (!strcmp(op, "exists")) {
        if (m->type != LB_JSON_TRUE && m->type != LB_JSON_FALSE)
            return fail(c, "exists match pattern must be either true or false.");
        cd->kind = m->type == LB_JSON_TRUE ? LB_C_EXISTS : LB_C_NOT_EXISTS;
        rc = 0;
    } else {
        return fail(c, "Unrecognized match type %s", op);
    }
    if (rc) return rc;
    if (m->next) return fail(c, "Only one key allowed in match expression");
    return 0;
}

/* Compiles one leaf array into a new field of the pattern; returns its index via *idx. */
static int compile_field(compiler_t *c, const char *path, size_t path_len, const lb_json_t *arr,
                         size_t *idx)
{
    lb_pattern_t *p = c->p;
    if (p->n_fields == c->fields_cap) {
        c->fields_cap = c->fields_cap ? c->fields_cap * 2 : 8;
        p->fields = lb_xrealloc(p->fields, c->fields_cap * sizeof *p->fields);
    }
    lb_field_t *f = &p->fields[p->n_fields++];
    memset(f, 0, sizeof *f);
    f->path = dup_mem(path, path_len);
    f->path_len = path_len;
    f->conds = lb_xcalloc(arr->n_children, sizeof *f->conds);
    for (const lb_json_t *e = arr->child; e; e = e->next) {
        lb_cond_t *cd = &f->conds[f->n_conds++];
        switch (e->type) {
        case LB_JSON_STRING:
            cd->kind = LB_C_STRING;
            set_string(cd, e, 0);
            break;
        case LB_JSON_NUMBER:
            cd->kind = LB_C_NUMBER;
            cd->num = e->num;
            break;
        case LB_JSON_TRUE:
            cd->kind = LB_C_TRUE;
            break;
        case LB_JSON_FALSE:
            cd->kind = LB_C_FALSE;
            break;
        case LB_JSON_NULL:
            cd->kind = LB_C_NULL;
            break;
        case LB_JSON_OBJECT:
            if (compile_expression(c, cd, e)) return -EINVAL;
            break;
        case LB_JSON_ARRAY:
            return fail(c, "Match value must be String, number, true, false, or null");
        }
        if (cd->kind == LB_C_NOT_EXISTS)
            f->absent_ok = true;
        else
            f->needs_leaf = true;
    }
    lb_buf_t b = {0};
    lb_json_write(&b, arr);
    f->wants = lb_buf_steal(&b, NULL);
    *idx = p->n_fields - 1;
    return 0;
}

/* ---- $or expansion ---- */

static void fvec_set(lb_pattern_t *p, fvec_t *v, size_t idx)
{
    /* A later key for the same path replaces the earlier one, as AWS does with repeated keys. */
    for (size_t i = 0; i < v->n; i++) {
        const lb_field_t *f = &p->fields[v->idx[i]];
        if (f->path_len == p->fields[idx].path_len &&
            !memcmp(f->path, p->fields[idx].path, f->path_len)) {
            v->idx[i] = idx;
            return;
        }
    }
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->idx = lb_xrealloc(v->idx, v->cap * sizeof *v->idx);
    }
    v->idx[v->n++] = idx;
}

static void bvec_free(bvec_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i].idx);
    free(b->v);
    b->v = NULL;
    b->n = b->cap = 0;
}

static void bvec_push(bvec_t *b, const fvec_t *src)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->v = lb_xrealloc(b->v, b->cap * sizeof *b->v);
    }
    fvec_t *d = &b->v[b->n++];
    d->n = d->cap = src->n;
    d->idx = lb_xmalloc((src->n ? src->n : 1) * sizeof *d->idx);
    if (src->n) memcpy(d->idx, src->idx, src->n * sizeof *d->idx);
}

static int all_objects(const lb_json_t *arr)
{
    for (const lb_json_t *e = arr->child; e; e = e->next)
        if (e->type != LB_JSON_OBJECT) return 0;
    return arr->child != NULL;
}

static int expand_object(compiler_t *c, const lb_json_t *obj, const char *prefix, size_t plen,
                         bvec_t *cur)
{
    if (!obj->child) return fail(c, "Empty objects are not allowed");
    for (const lb_json_t *m = obj->child; m; m = m->next) {
        if (!strcmp(m->key, "$or") && m->type == LB_JSON_ARRAY && all_objects(m)) {
            bvec_t result = {0};
            for (const lb_json_t *alt = m->child; alt; alt = alt->next) {
                bvec_t copy = {0};
                for (size_t i = 0; i < cur->n; i++)
                    bvec_push(&copy, &cur->v[i]);
                int rc = expand_object(c, alt, prefix, plen, &copy);
                if (!rc && result.n + copy.n > LB_PATTERN_MAX_BRANCHES)
                    rc = fail(c, "Rule is too complex - too many $or combinations (maximum %d)",
                              LB_PATTERN_MAX_BRANCHES);
                if (rc) {
                    bvec_free(&copy);
                    bvec_free(&result);
                    return rc;
                }
                for (size_t i = 0; i < copy.n; i++)
                    bvec_push(&result, &copy.v[i]);
                bvec_free(&copy);
            }
            bvec_free(cur);
            *cur = result;
            continue;
        }
        size_t klen = m->key_len, nlen = plen ? plen + 1 + klen : klen;
        char *path = lb_xmalloc(nlen + 1);
        if (plen) {
            memcpy(path, prefix, plen);
            path[plen] = '.';
            memcpy(path + plen + 1, m->key, klen);
        } else {
            memcpy(path, m->key, klen);
        }
        path[nlen] = '\0';
        int rc = 0;
        if (m->type == LB_JSON_OBJECT) {
            rc = expand_object(c, m, path, nlen, cur);
        } else if (m->type == LB_JSON_ARRAY) {
            size_t idx = 0;
            if (!m->child)
                rc = fail(c, "Empty arrays are not allowed");
            else
                rc = compile_field(c, path, nlen, m, &idx);
            for (size_t i = 0; !rc && i < cur->n; i++)
                fvec_set(c->p, &cur->v[i], idx);
        } else {
            rc = fail(c, "\"%s\" must be an object or an array", m->key);
        }
        free(path);
        if (rc) return rc;
    }
    return 0;
}

static int field_ptr_cmp(const void *a, const void *b)
{
    const lb_field_t *x = *(const lb_field_t *const *)a, *y = *(const lb_field_t *const *)b;
    size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
    int r = memcmp(x->path, y->path, n);
    if (r) return r;
    return x->path_len < y->path_len ? -1 : x->path_len > y->path_len;
}

int lb_pattern_compile(const char *json, size_t len, lb_pattern_t **out, char **errmsg)
{
    *out = NULL;
    if (errmsg) *errmsg = NULL;
    compiler_t c = {0};
    lb_json_doc_t *doc = NULL;
    const lb_json_t *root;
    char *jerr = NULL;
    bvec_t br = {0};
    if (lb_json_parse(json, len, PATTERN_MAX_DEPTH, &doc, &jerr)) {
        c.err = jerr;
        goto fail;
    }
    root = lb_json_doc_root(doc);
    if (root->type != LB_JSON_OBJECT) {
        fail(&c, "Filter is not an object");
        goto fail;
    }
    c.p = lb_xcalloc(1, sizeof *c.p);
    fvec_t empty = {0};
    bvec_push(&br, &empty);
    if (expand_object(&c, root, "", 0, &br)) goto fail;

    lb_pattern_t *p = c.p;
    p->branches = lb_xcalloc(br.n, sizeof *p->branches);
    p->n_branches = br.n;
    for (size_t i = 0; i < br.n; i++) {
        lb_branch_t *b = &p->branches[i];
        b->n_fields = br.v[i].n;
        b->fields = lb_xmalloc((b->n_fields ? b->n_fields : 1) * sizeof *b->fields);
        for (size_t j = 0; j < b->n_fields; j++)
            b->fields[j] = &p->fields[br.v[i].idx[j]];
        qsort(b->fields, b->n_fields, sizeof *b->fields, field_ptr_cmp);
    }
    bvec_free(&br);
    p->source = dup_mem(json, len);
    p->source_len = len;
    lb_json_doc_free(&doc);
    *out = p;
    return 0;
fail:
    bvec_free(&br);
    lb_json_doc_free(&doc);
    lb_pattern_free(&c.p);
    if (errmsg) {
        lb_buf_t b = {0};
        lb_buf_puts(&b, ERR_PREFIX);
        lb_buf_puts(&b, c.err ? c.err : "invalid pattern");
        *errmsg = lb_buf_steal(&b, NULL);
    }
    free(c.err);
    return -EINVAL;
}

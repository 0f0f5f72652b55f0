/* lb_jsonpath: compile and evaluate EventBridge's JSONPath subset. See lb_jsonpath.h. */
#include "lb_jsonpath.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    STEP_MEMBER,   /* .name */
    STEP_INDEX,    /* [n] */
    STEP_WILDCARD, /* .* or [*]: every child of an object or array */
} step_kind_t;

typedef struct {
    step_kind_t kind;
    char *name;   /* STEP_MEMBER only */
    size_t index; /* STEP_INDEX only */
} step_t;

struct lb_jsonpath {
    step_t *steps;
    size_t nsteps;
    int indefinite;
};

void lb_jsonpath_free(lb_jsonpath_t **path)
{
    if (path == NULL || *path == NULL) return;
    for (size_t i = 0; i < (*path)->nsteps; i++)
        free((*path)->steps[i].name);
    free((*path)->steps);
    free(*path);
    *path = NULL;
}

int lb_jsonpath_is_indefinite(const lb_jsonpath_t *path)
{
    return path->indefinite;
}

/* Member names end at the next '.' or '['. Whitespace and brackets are refused so that a typo
 * such as "$.detail .x" fails at PutTargets time instead of silently matching nothing. */
static int is_name_char(char c)
{
    return c != '\0' && c != '.' && c != '[' && c != ']' && c != ' ' && c != '\t' && c != '\n' &&
           c != '\r';
}

static int push_step(lb_jsonpath_t *p, size_t *cap, step_t step)
{
    if (p->nsteps == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        step_t *n = realloc(p->steps, ncap * sizeof(*n));
        if (n == NULL) return -ENOMEM;
        p->steps = n;
        *cap = ncap;
    }
    p->steps[p->nsteps++] = step;
    return 0;
}

int lb_jsonpath_compile(const char *text, lb_jsonpath_t **out, const char **why)
{
    const char *dummy;
    if (why == NULL) why = &dummy;
    *out = NULL;
    if (text == NULL || text[0] != '$') {
        *why = "must start with '$'";
        return -EINVAL;
    }
    if (strlen(text) > LB_JSONPATH_MAX_LEN) {
        *why = "must be at most 256 characters";
        return -EINVAL;
    }
    lb_jsonpath_t *p = calloc(1, sizeof(*p));
    if (p == NULL) return -ENOMEM;
    size_t cap = 0;
    const char *s = text + 1;
    int rc = 0;
    while (*s != '\0' && rc == 0) {
        step_t step = {0};
        if (*s == '.') {
            s++;
            size_t n = 0;
            while (is_name_char(s[n]))
                n++;
            if (n == 0) {
                *why = "has an empty member name after '.'";
                rc = -EINVAL;
                break;
            }
            if (n == 1 && s[0] == '*') {
                step.kind = STEP_WILDCARD;
                p->indefinite = 1;
            } else {
                step.kind = STEP_MEMBER;
                step.name = strndup(s, n);
                if (step.name == NULL) {
                    rc = -ENOMEM;
                    break;
                }
            }
            s += n;
        } else if (*s == '[') {
            s++;
            if (s[0] == '*' && s[1] == ']') {
                step.kind = STEP_WILDCARD;
                p->indefinite = 1;
                s += 2;
            } else {
                size_t idx = 0, n = 0;
                while (s[n] >= '0' && s[n] <= '9') {
                    if (idx > (SIZE_MAX - 9) / 10 || idx > INT_MAX) {
                        *why = "has an array index that is too large";
                        rc = -EINVAL;
                        break;
                    }
                    idx = idx * 10 + (size_t)(s[n] - '0');
                    n++;
                }
                if (rc != 0) break;
                if (n == 0 || s[n] != ']') {
                    *why = "has a bracket that is not an array index [n] or [*]";
                    rc = -EINVAL;
                    break;
                }
                step.kind = STEP_INDEX;
                step.index = idx;
                s += n + 1;
            }
        } else {
            *why = "must continue with '.name' or '[index]'";
            rc = -EINVAL;
            break;
        }
        rc = push_step(p, &cap, step);
        if (rc != 0) free(step.name);
    }
    if (rc != 0) {
        lb_jsonpath_free(&p);
        return rc;
    }
    *out = p;
    return 0;
}

/* Members are matched case-sensitively: JSON keys are case-sensitive and so are AWS paths. */
static const lb_json_t *child_of(const lb_json_t *node, const step_t *step)
{
    if (step->kind == STEP_MEMBER) return lb_json_get(node, step->name);
    return lb_json_at(node, step->index);
}

/* Collect a copy of every match of steps[i..] below `node` into the array `acc`. */
static void collect(const lb_jsonpath_t *p, size_t i, const lb_json_t *node, lb_json_doc_t *scratch,
                    lb_json_t *acc)
{
    if (i == p->nsteps) {
        lb_json_add(scratch, acc, NULL, lb_json_copy(scratch, node));
        return;
    }
    const step_t *step = &p->steps[i];
    if (step->kind == STEP_WILDCARD) {
        if (node->type == LB_JSON_OBJECT || node->type == LB_JSON_ARRAY)
            for (const lb_json_t *c = node->child; c; c = c->next)
                collect(p, i + 1, c, scratch, acc);
        return;
    }
    const lb_json_t *c = child_of(node, step);
    if (c) collect(p, i + 1, c, scratch, acc);
}

int lb_jsonpath_eval(const lb_jsonpath_t *path, const lb_json_t *root, lb_json_doc_t *scratch,
                     const lb_json_t **out)
{
    *out = NULL;
    if (path->indefinite) {
        lb_json_t *acc = lb_json_new(scratch, LB_JSON_ARRAY);
        collect(path, 0, root, scratch, acc);
        *out = acc;
        return 0;
    }
    const lb_json_t *node = root;
    for (size_t i = 0; i < path->nsteps && node != NULL; i++)
        node = child_of(node, &path->steps[i]);
    if (node == NULL) return -ENOENT;
    *out = node;
    return 0;
}

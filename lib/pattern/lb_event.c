/* Events parsed once and flattened for matching: every scalar becomes a leaf (dot-joined path,
 * typed value, and the array elements it sits in), sorted by path so a pattern field finds its
 * values with one binary search. Objects and empty arrays produce no leaf, which is why a pattern
 * cannot match (or "exist") on an object-valued field. */
#include "lb_pattern_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An envelope is one level above its Detail. */
#define EVENT_MAX_DEPTH (LB_JSON_EVENT_MAX_DEPTH + 1)

typedef struct {
    lb_event_t *e;
    size_t leaves_cap, memb_cap;
    uint32_t next_array_id;
    uint32_t *stack; /* (array id, index) pairs of the arrays we are inside */
    size_t stack_n, stack_cap;
    size_t *path_off; /* per leaf: offset of its path in e->text, fixed up at the end */
} flattener_t;

/* Leaf values point into the JSON tree. An event made by lb_event_parse owns its document; one
 * made by lb_event_from_json borrows the caller's. */
typedef struct {
    lb_event_t pub;
    lb_json_doc_t *doc;
} event_impl_t;

static void push_leaf(flattener_t *f, const lb_json_t *n, size_t path_off, size_t path_len)
{
    lb_event_t *e = f->e;
    if (e->n_leaves == f->leaves_cap) {
        f->leaves_cap = f->leaves_cap ? f->leaves_cap * 2 : 32;
        e->leaves = lb_xrealloc(e->leaves, f->leaves_cap * sizeof *e->leaves);
        f->path_off = lb_xrealloc(f->path_off, f->leaves_cap * sizeof *f->path_off);
    }
    lb_leaf_t *l = &e->leaves[e->n_leaves];
    memset(l, 0, sizeof *l);
    f->path_off[e->n_leaves] = path_off;
    l->path_len = path_len;
    l->order = (uint32_t)e->n_leaves;
    switch (n->type) {
    case LB_JSON_STRING:
        l->type = LB_V_STRING;
        break;
    case LB_JSON_NUMBER:
        l->type = LB_V_NUMBER;
        break;
    case LB_JSON_TRUE:
        l->type = LB_V_TRUE;
        break;
    case LB_JSON_FALSE:
        l->type = LB_V_FALSE;
        break;
    default:
        l->type = LB_V_NULL;
        break;
    }
    l->s = n->str ? n->str : "";
    l->len = n->str ? n->len : 0;
    l->num = n->num;
    if (f->stack_n) {
        if (e->n_memb + f->stack_n > f->memb_cap) {
            while (e->n_memb + f->stack_n > f->memb_cap)
                f->memb_cap = f->memb_cap ? f->memb_cap * 2 : 64;
            e->memb = lb_xrealloc(e->memb, f->memb_cap * sizeof *e->memb);
        }
        l->memb_off = (uint32_t)e->n_memb;
        l->memb_n = (uint32_t)(f->stack_n / 2);
        memcpy(e->memb + e->n_memb, f->stack, f->stack_n * sizeof *f->stack);
        e->n_memb += f->stack_n;
    }
    e->n_leaves++;
}

static void push_stack(flattener_t *f, uint32_t id, uint32_t idx)
{
    if (f->stack_n + 2 > f->stack_cap) {
        f->stack_cap = f->stack_cap ? f->stack_cap * 2 : 16;
        f->stack = lb_xrealloc(f->stack, f->stack_cap * sizeof *f->stack);
    }
    f->stack[f->stack_n++] = id;
    f->stack[f->stack_n++] = idx;
}

/* Makes room so that appending from the buffer's own bytes cannot read freed memory. */
static void text_reserve(lb_buf_t *t, size_t extra)
{
    if (t->len + extra + 1 <= t->cap) return;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + extra + 1)
        cap *= 2;
    t->data = lb_xrealloc(t->data, cap);
    t->cap = cap;
}

/* The path of a value is stored once in e->text at path_off; children append ".key". */
static void flatten(flattener_t *f, const lb_json_t *n, size_t path_off, size_t path_len)
{
    lb_buf_t *t = &f->e->text;
    if (n->type == LB_JSON_OBJECT) {
        for (const lb_json_t *c = n->child; c; c = c->next) {
            size_t off = t->len;
            text_reserve(t, path_len + 1 + c->key_len + 1);
            if (path_len) {
                lb_buf_append(t, t->data + path_off, path_len);
                lb_buf_append(t, ".", 1);
            }
            lb_buf_append(t, c->key, c->key_len);
            lb_buf_append(t, "", 1); /* keep every path NUL-terminated */
            flatten(f, c, off, t->len - off - 1);
        }
    } else if (n->type == LB_JSON_ARRAY) {
        uint32_t id = f->next_array_id++;
        uint32_t idx = 0;
        for (const lb_json_t *c = n->child; c; c = c->next, idx++) {
            push_stack(f, id, idx);
            flatten(f, c, path_off, path_len);
            f->stack_n -= 2;
        }
    } else {
        push_leaf(f, n, path_off, path_len);
    }
}

static int leaf_cmp(const void *a, const void *b)
{
    const lb_leaf_t *x = a, *y = b;
    size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
    int r = memcmp(x->path, y->path, n);
    if (r) return r;
    if (x->path_len != y->path_len) return x->path_len < y->path_len ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static lb_event_t *flatten_root(const lb_json_t *root, lb_json_doc_t *owned)
{
    event_impl_t *impl = lb_xcalloc(1, sizeof *impl);
    impl->doc = owned;
    lb_event_t *e = &impl->pub;
    flattener_t f = {.e = e};
    lb_buf_append(&e->text, "", 1); /* offset 0: the empty path */
    flatten(&f, root, 0, 0);
    for (size_t i = 0; i < e->n_leaves; i++)
        e->leaves[i].path = e->text.data + f.path_off[i];
    free(f.path_off);
    free(f.stack);
    if (e->n_leaves) qsort(e->leaves, e->n_leaves, sizeof *e->leaves, leaf_cmp);
    e->paths = lb_xmalloc((e->n_leaves ? e->n_leaves : 1) * sizeof *e->paths);
    for (size_t i = 0; i < e->n_leaves; i++) {
        const lb_leaf_t *l = &e->leaves[i];
        lb_epath_t *last = e->n_paths ? &e->paths[e->n_paths - 1] : NULL;
        if (last && last->path_len == l->path_len && !memcmp(last->path, l->path, l->path_len)) {
            last->count++;
            continue;
        }
        lb_epath_t *p = &e->paths[e->n_paths++];
        p->path = l->path;
        p->path_len = l->path_len;
        p->first = (uint32_t)i;
        p->count = 1;
    }
    return e;
}

int lb_event_from_json(const lb_json_t *root, lb_event_t **out)
{
    *out = NULL;
    if (!root || root->type != LB_JSON_OBJECT) return -EINVAL;
    *out = flatten_root(root, NULL);
    return 0;
}

int lb_event_parse(const char *json, size_t len, lb_event_t **out)
{
    *out = NULL;
    lb_json_doc_t *doc;
    if (lb_json_parse(json, len, EVENT_MAX_DEPTH, &doc, NULL)) return -EINVAL;
    const lb_json_t *root = lb_json_doc_root(doc);
    if (root->type != LB_JSON_OBJECT) {
        lb_json_doc_free(&doc);
        return -EINVAL;
    }
    *out = flatten_root(root, doc);
    return 0;
}

void lb_event_free(lb_event_t **ep)
{
    if (!ep || !*ep) return;
    event_impl_t *impl = (event_impl_t *)*ep;
    lb_event_t *e = &impl->pub;
    free(e->leaves);
    free(e->paths);
    free(e->memb);
    lb_buf_free(&e->text);
    lb_json_doc_free(&impl->doc);
    free(impl);
    *ep = NULL;
}

long lb_event_find_path(const lb_event_t *e, const char *path, size_t len)
{
    size_t lo = 0, hi = e->n_paths;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const lb_epath_t *p = &e->paths[mid];
        size_t n = p->path_len < len ? p->path_len : len;
        int r = memcmp(p->path, path, n);
        if (!r) r = p->path_len < len ? -1 : p->path_len > len;
        if (!r) return (long)mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

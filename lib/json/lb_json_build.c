/* lb_json: building trees and writing them out. See lb_json.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_json_internal.h"

/* ---- building ---- */

lb_json_t *lb_json_new(lb_json_doc_t *doc, lb_json_type_t type)
{
    lb_json_t *n = lb_json_arena_alloc(doc, sizeof *n);
    memset(n, 0, sizeof *n);
    n->type = type;
    return n;
}

lb_json_t *lb_json_new_string(lb_json_doc_t *doc, const char *s, size_t len)
{
    lb_json_t *n = lb_json_new(doc, LB_JSON_STRING);
    n->str = lb_json_arena_strdup(doc, s ? s : "", s ? len : 0);
    n->len = s ? len : 0;
    return n;
}

lb_json_t *lb_json_new_str(lb_json_doc_t *doc, const char *s)
{
    return lb_json_new_string(doc, s, s ? strlen(s) : 0);
}

static lb_json_t *number_from_text(lb_json_doc_t *doc, const char *text, double v)
{
    lb_json_t *n = lb_json_new(doc, LB_JSON_NUMBER);
    n->len = strlen(text);
    n->str = lb_json_arena_strdup(doc, text, n->len);
    n->num = v;
    return n;
}

lb_json_t *lb_json_new_int(lb_json_doc_t *doc, int64_t v)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)v);
    return number_from_text(doc, text, (double)v);
}

lb_json_t *lb_json_new_double(lb_json_doc_t *doc, double v)
{
    char text[40];
    if (!isfinite(v)) return lb_json_new(doc, LB_JSON_NULL); /* JSON has no Infinity or NaN */
    /* The range test comes first: converting a double beyond int64's range is undefined. */
    if (fabs(v) < 1e15 && v == (double)(int64_t)v)
        snprintf(text, sizeof text, "%lld", (long long)v);
    else {
        /* The shortest of %.15g and %.17g that reads back as the same double. */
        snprintf(text, sizeof text, "%.15g", v);
        if (strtod(text, NULL) != v) snprintf(text, sizeof text, "%.17g", v);
    }
    return number_from_text(doc, text, v);
}

lb_json_t *lb_json_new_bool(lb_json_doc_t *doc, int v)
{
    return lb_json_new(doc, v ? LB_JSON_TRUE : LB_JSON_FALSE);
}

lb_json_t *lb_json_add(lb_json_doc_t *doc, lb_json_t *parent, const char *key, lb_json_t *child)
{
    if (parent->type == LB_JSON_OBJECT) {
        child->key_len = key ? strlen(key) : 0;
        child->key = lb_json_arena_strdup(doc, key ? key : "", child->key_len);
    }
    child->next = NULL;
    lb_json_link_child(parent, child);
    return child;
}

void lb_json_add_str(lb_json_doc_t *doc, lb_json_t *obj, const char *key, const char *s)
{
    if (s) lb_json_add(doc, obj, key, lb_json_new_str(doc, s));
}

void lb_json_remove(lb_json_t *obj, const char *key)
{
    if (!obj || obj->type != LB_JSON_OBJECT) return;
    size_t klen = strlen(key);
    lb_json_t **link = &obj->child, *prev = NULL;
    while (*link) {
        lb_json_t *c = *link;
        if (c->key_len == klen && memcmp(c->key, key, klen) == 0) {
            *link = c->next;
            obj->n_children--;
            continue;
        }
        prev = c;
        link = &c->next;
    }
    obj->last = prev;
}

lb_json_t *lb_json_copy(lb_json_doc_t *doc, const lb_json_t *src)
{
    lb_json_t *n = lb_json_new(doc, src->type);
    n->num = src->num;
    if (src->str) {
        n->str = lb_json_arena_strdup(doc, src->str, src->len);
        n->len = src->len;
    }
    for (const lb_json_t *c = src->child; c; c = c->next) {
        lb_json_t *cc = lb_json_copy(doc, c);
        if (src->type == LB_JSON_OBJECT) {
            cc->key = lb_json_arena_strdup(doc, c->key, c->key_len);
            cc->key_len = c->key_len;
        }
        lb_json_link_child(n, cc);
    }
    return n;
}

/* ---- writing ---- */

void lb_json_write(lb_buf_t *b, const lb_json_t *n)
{
    switch (n->type) {
    case LB_JSON_NULL:
        lb_buf_append(b, "null", 4);
        break;
    case LB_JSON_TRUE:
        lb_buf_append(b, "true", 4);
        break;
    case LB_JSON_FALSE:
        lb_buf_append(b, "false", 5);
        break;
    case LB_JSON_NUMBER:
        lb_buf_append(b, n->str, n->len);
        break;
    case LB_JSON_STRING:
        lb_buf_json_string(b, n->str, n->len);
        break;
    case LB_JSON_ARRAY:
    case LB_JSON_OBJECT: {
        lb_buf_append(b, n->type == LB_JSON_ARRAY ? "[" : "{", 1);
        for (const lb_json_t *c = n->child; c; c = c->next) {
            if (c != n->child) lb_buf_append(b, ",", 1);
            if (n->type == LB_JSON_OBJECT) {
                lb_buf_json_string(b, c->key, c->key_len);
                lb_buf_append(b, ":", 1);
            }
            lb_json_write(b, c);
        }
        lb_buf_append(b, n->type == LB_JSON_ARRAY ? "]" : "}", 1);
        break;
    }
    }
}

char *lb_json_print(const lb_json_t *n, size_t *len)
{
    lb_buf_t b = {0};
    lb_json_write(&b, n);
    return lb_buf_steal(&b, len);
}

void lb_json_minify(lb_buf_t *b, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        size_t start = i;
        if (c == '"') {
            /* A string token, escapes and all: up to the unescaped closing quote. */
            for (i++; i < len && text[i] != '"'; i++)
                if (text[i] == '\\') i++;
            i++;
        } else {
            while (i < len && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
                   text[i] != '\r' && text[i] != '"')
                i++;
        }
        lb_buf_append(b, text + start, (i <= len ? i : len) - start);
    }
}

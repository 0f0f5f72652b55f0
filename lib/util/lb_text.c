#include "lb_text.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

struct lb_text {
    atomic_size_t refs;
    size_t len;
    char *data; /* points at inline or at an adopted buffer */
    char owned; /* 1: data was adopted and is freed separately */
    char inline_data[];
};

lb_text_t *lb_text_new(const char *s, size_t len)
{
    lb_text_t *t = lb_xmalloc(sizeof *t + len + 1);
    atomic_init(&t->refs, 1);
    t->len = len;
    t->data = t->inline_data;
    t->owned = 0;
    if (len) memcpy(t->data, s, len);
    t->data[len] = '\0';
    return t;
}

lb_text_t *lb_text_adopt(char *data, size_t len)
{
    lb_text_t *t = lb_xmalloc(sizeof *t);
    atomic_init(&t->refs, 1);
    t->len = len;
    t->data = data;
    t->owned = 1;
    return t;
}

lb_text_t *lb_text_ref(lb_text_t *t)
{
    if (t) atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void lb_text_unref(lb_text_t **tp)
{
    lb_text_t *t = *tp;
    if (!t) return;
    *tp = NULL;
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) return;
    if (t->owned) free(t->data);
    free(t);
}

const char *lb_text_data(const lb_text_t *t)
{
    return t->data;
}

size_t lb_text_len(const lb_text_t *t)
{
    return t->len;
}

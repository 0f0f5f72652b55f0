#include "lb_qheap.h"

#include <stdlib.h>

#include "lb_util.h"

void lb_qheap_init(lb_qheap_t *h, int (*less)(const void *, const void *), size_t *(*pos)(void *))
{
    *h = (lb_qheap_t){.less = less, .pos = pos};
}

void lb_qheap_free(lb_qheap_t *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

static void place(lb_qheap_t *h, size_t i, void *item)
{
    h->v[i] = item;
    *h->pos(item) = i;
}

static void sift_up(lb_qheap_t *h, size_t i)
{
    void *item = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!h->less(item, h->v[parent])) break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, item);
}

static void sift_down(lb_qheap_t *h, size_t i)
{
    void *item = h->v[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        void *best = item;
        if (l < h->n && h->less(h->v[l], best)) {
            m = l;
            best = h->v[l];
        }
        if (r < h->n && h->less(h->v[r], best)) m = r;
        if (m == i) break;
        place(h, i, h->v[m]);
        i = m;
    }
    place(h, i, item);
}

void lb_qheap_push(lb_qheap_t *h, void *item)
{
    if (*h->pos(item) != LB_QHEAP_NONE) return;
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->v = lb_xrealloc(h->v, h->cap * sizeof *h->v);
    }
    h->v[h->n] = item;
    *h->pos(item) = h->n;
    sift_up(h, h->n++);
}

void *lb_qheap_top(const lb_qheap_t *h)
{
    return h->n ? h->v[0] : NULL;
}

void lb_qheap_remove(lb_qheap_t *h, void *item)
{
    size_t i = *h->pos(item);
    if (i == LB_QHEAP_NONE || i >= h->n || h->v[i] != item) return;
    *h->pos(item) = LB_QHEAP_NONE;
    void *last = h->v[--h->n];
    if (i == h->n) return;
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, *h->pos(last));
}

void *lb_qheap_pop(lb_qheap_t *h)
{
    void *top = lb_qheap_top(h);
    if (top) lb_qheap_remove(h, top);
    return top;
}

void lb_qheap_update(lb_qheap_t *h, void *item)
{
    size_t i = *h->pos(item);
    if (i == LB_QHEAP_NONE) return;
    sift_down(h, i);
    sift_up(h, *h->pos(item));
}

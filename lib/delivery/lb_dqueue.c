#include "lb_dqueue.h"

#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

typedef struct {
    char *arn;
    size_t inflight;
    lb_delivery_t **parked; /* FIFO: [head, n) */
    size_t head, n, cap;
} target_load_t;

struct lb_dqueue {
    lb_delivery_t **heap; /* min-heap on (next_ms, seq) */
    size_t n, cap;
    target_load_t *loads;
    size_t n_loads;
    size_t n_parked;
    size_t inflight;
};

int lb_dqueue_new(lb_dqueue_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    return 0;
}

void lb_dqueue_free(lb_dqueue_t **qp)
{
    lb_dqueue_t *q = *qp;
    if (!q) return;
    for (size_t i = 0; i < q->n; i++)
        lb_delivery_free(&q->heap[i]);
    free(q->heap);
    for (size_t i = 0; i < q->n_loads; i++) {
        target_load_t *l = &q->loads[i];
        for (size_t k = l->head; k < l->n; k++)
            lb_delivery_free(&l->parked[k]);
        free(l->parked);
        free(l->arn);
    }
    free(q->loads);
    free(q);
    *qp = NULL;
}

static int before(const lb_delivery_t *a, const lb_delivery_t *b)
{
    return a->next_ms < b->next_ms || (a->next_ms == b->next_ms && a->seq < b->seq);
}

void lb_dqueue_push(lb_dqueue_t *q, lb_delivery_t *x)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 256;
        q->heap = lb_xrealloc(q->heap, q->cap * sizeof *q->heap);
    }
    size_t i = q->n++;
    while (i > 0 && before(x, q->heap[(i - 1) / 2])) {
        q->heap[i] = q->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->heap[i] = x;
}

static lb_delivery_t *heap_pop(lb_dqueue_t *q)
{
    lb_delivery_t *top = q->heap[0], *last = q->heap[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && before(q->heap[c + 1], q->heap[c])) c++;
        if (!before(q->heap[c], last)) break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (q->n) q->heap[i] = last;
    return top;
}

static target_load_t *find_load(const lb_dqueue_t *q, const char *arn)
{
    for (size_t i = 0; i < q->n_loads; i++)
        if (strcmp(q->loads[i].arn, arn) == 0) return &q->loads[i];
    return NULL;
}

static target_load_t *target_load(lb_dqueue_t *q, const char *arn)
{
    target_load_t *l = find_load(q, arn);
    if (l) return l;
    q->loads = lb_xrealloc(q->loads, (q->n_loads + 1) * sizeof *q->loads);
    q->loads[q->n_loads] = (target_load_t){.arn = lb_strdup(arn)};
    return &q->loads[q->n_loads++];
}

static void park(lb_dqueue_t *q, target_load_t *l, lb_delivery_t *x)
{
    if (l->n == l->cap) {
        /* Compact before growing: the FIFO's head moves forward as deliveries leave. */
        if (l->head) memmove(l->parked, l->parked + l->head, (l->n - l->head) * sizeof *l->parked);
        l->n -= l->head;
        l->head = 0;
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 64;
            l->parked = lb_xrealloc(l->parked, l->cap * sizeof *l->parked);
        }
    }
    l->parked[l->n++] = x;
    q->n_parked++;
}

lb_delivery_t *lb_dqueue_pop_due(lb_dqueue_t *q, int64_t now_ms, size_t cap)
{
    while (q->n && q->heap[0]->next_ms <= now_ms) {
        lb_delivery_t *x = heap_pop(q);
        target_load_t *l = find_load(q, x->target_arn);
        if (!l || l->inflight < cap) return x;
        park(q, l, x);
    }
    return NULL;
}

int64_t lb_dqueue_next_due(const lb_dqueue_t *q)
{
    return q->n ? q->heap[0]->next_ms : -1;
}

void lb_dqueue_started(lb_dqueue_t *q, const lb_delivery_t *x)
{
    target_load(q, x->target_arn)->inflight++;
    q->inflight++;
}

void lb_dqueue_finished(lb_dqueue_t *q, const char *target_arn)
{
    target_load_t *l = find_load(q, target_arn);
    if (!l || l->inflight == 0) return;
    l->inflight--;
    q->inflight--;
    if (l->head < l->n) {
        lb_dqueue_push(q, l->parked[l->head++]);
        q->n_parked--;
    }
    /* A target with nothing in flight or parked is forgotten. */
    if (l->inflight == 0 && l->head == l->n) {
        free(l->arn);
        free(l->parked);
        *l = q->loads[--q->n_loads];
    }
}

size_t lb_dqueue_waiting(const lb_dqueue_t *q)
{
    return q->n + q->n_parked;
}

/* Due entries in the subtree at i, at most limit: a heap's subtree is later than its root, so a
 * root not due prunes its subtree. */
static size_t due_below(const lb_dqueue_t *q, size_t i, int64_t now_ms, size_t limit)
{
    if (i >= q->n || limit == 0 || q->heap[i]->next_ms > now_ms) return 0;
    size_t n = 1;
    n += due_below(q, 2 * i + 1, now_ms, limit - n);
    if (n < limit) n += due_below(q, 2 * i + 2, now_ms, limit - n);
    return n;
}

size_t lb_dqueue_due(const lb_dqueue_t *q, int64_t now_ms, size_t limit)
{
    if (q->n_parked >= limit) return limit;
    return q->n_parked + due_below(q, 0, now_ms, limit - q->n_parked);
}

size_t lb_dqueue_parked(const lb_dqueue_t *q)
{
    return q->n_parked;
}

size_t lb_dqueue_inflight(const lb_dqueue_t *q)
{
    return q->inflight;
}

void lb_dqueue_drop_waiting(lb_dqueue_t *q)
{
    for (size_t i = 0; i < q->n; i++)
        lb_delivery_free(&q->heap[i]);
    q->n = 0;
    for (size_t i = 0; i < q->n_loads; i++) {
        target_load_t *l = &q->loads[i];
        for (size_t k = l->head; k < l->n; k++)
            lb_delivery_free(&l->parked[k]);
        l->head = l->n = 0;
    }
    q->n_parked = 0;
}

/* An indexed binary min-heap of pointers: each item remembers its position (through the pos
 * function), so it can be removed or re-keyed in O(log n) wherever it is. The queue index keeps
 * three of these per queue (ready messages by order, waiting messages by visibility time,
 * messages by age) and one of FIFO message groups. The heap owns its array, not its items. */
#ifndef LB_QHEAP_H
#define LB_QHEAP_H

#include <stddef.h>
#include <stdint.h>

#define LB_QHEAP_NONE SIZE_MAX

typedef struct {
    void **v;
    size_t n, cap;
    /* a before b */
    int (*less)(const void *a, const void *b);
    /* The item's position slot (LB_QHEAP_NONE while not in this heap). */
    size_t *(*pos)(void *item);
} lb_qheap_t;

void lb_qheap_init(lb_qheap_t *h, int (*less)(const void *, const void *), size_t *(*pos)(void *));
void lb_qheap_free(lb_qheap_t *h);
void lb_qheap_push(lb_qheap_t *h, void *item);
void *lb_qheap_top(const lb_qheap_t *h);
void *lb_qheap_pop(lb_qheap_t *h);
/* Removes item if it is in the heap. */
void lb_qheap_remove(lb_qheap_t *h, void *item);
/* The item's key changed: restore the order. */
void lb_qheap_update(lb_qheap_t *h, void *item);
static inline int lb_qheap_contains(lb_qheap_t *h, void *item)
{
    return *h->pos(item) != LB_QHEAP_NONE;
}

#endif

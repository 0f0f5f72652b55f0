/* Pending forwards. See lb_forward_pending.h. */
#include "lb_forward_pending.h"

#include <stdlib.h>

#include "lb_util.h"

typedef struct {
    int64_t seq; /* 0: empty */
    int64_t ingested_ms;
} slot_t;

struct lb_forward_pending {
    slot_t *slots;
    size_t cap, n; /* cap is a power of two */
};

static size_t home(const lb_forward_pending_t *p, int64_t seq)
{
    uint64_t h = (uint64_t)seq * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 16) & (p->cap - 1);
}

void lb_forward_pending_new(lb_forward_pending_t **out)
{
    lb_forward_pending_t *p = lb_xcalloc(1, sizeof *p);
    p->cap = 64;
    p->slots = lb_xcalloc(p->cap, sizeof *p->slots);
    *out = p;
}

void lb_forward_pending_free(lb_forward_pending_t **pp)
{
    if (!*pp) return;
    free((*pp)->slots);
    free(*pp);
    *pp = NULL;
}

static void grow(lb_forward_pending_t *p)
{
    slot_t *old = p->slots;
    size_t old_cap = p->cap;
    p->cap *= 2;
    p->slots = lb_xcalloc(p->cap, sizeof *p->slots);
    p->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].seq) lb_forward_pending_add(p, old[i].seq, old[i].ingested_ms);
    free(old);
}

void lb_forward_pending_add(lb_forward_pending_t *p, int64_t seq, int64_t ingested_ms)
{
    if (seq <= 0) return;
    if (2 * (p->n + 1) > p->cap) grow(p);
    size_t i = home(p, seq);
    while (p->slots[i].seq && p->slots[i].seq != seq)
        i = (i + 1) & (p->cap - 1);
    if (!p->slots[i].seq) p->n++;
    p->slots[i] = (slot_t){seq, ingested_ms};
}

void lb_forward_pending_remove(lb_forward_pending_t *p, int64_t seq)
{
    size_t i = home(p, seq);
    while (p->slots[i].seq && p->slots[i].seq != seq)
        i = (i + 1) & (p->cap - 1);
    if (!p->slots[i].seq) return;
    p->slots[i].seq = 0;
    p->n--;
    /* Backward shift: move later members of the probe run into the hole when their home allows. */
    size_t hole = i;
    for (size_t j = (i + 1) & (p->cap - 1); p->slots[j].seq; j = (j + 1) & (p->cap - 1)) {
        size_t h = home(p, p->slots[j].seq);
        int movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
        if (movable) {
            p->slots[hole] = p->slots[j];
            p->slots[j].seq = 0;
            hole = j;
        }
    }
}

size_t lb_forward_pending_count(const lb_forward_pending_t *p)
{
    return p->n;
}

int64_t lb_forward_pending_oldest(const lb_forward_pending_t *p)
{
    int64_t oldest = 0;
    for (size_t i = 0; i < p->cap; i++)
        if (p->slots[i].seq && (!oldest || p->slots[i].ingested_ms < oldest))
            oldest = p->slots[i].ingested_ms;
    return oldest;
}

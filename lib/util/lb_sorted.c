#include "lb_sorted.h"

#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

size_t lb_sorted_lower_bound(const lb_sorted_t *s, size_t size, const void *key,
                             lb_sorted_cmp_fn cmp)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(lb_sorted_at(s, size, mid), key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void *lb_sorted_find(const lb_sorted_t *s, size_t size, const void *key, lb_sorted_cmp_fn cmp)
{
    size_t i = lb_sorted_lower_bound(s, size, key, cmp);
    if (i < s->n && cmp(lb_sorted_at(s, size, i), key) == 0) return lb_sorted_at(s, size, i);
    return NULL;
}

void *lb_sorted_insert_at(lb_sorted_t *s, size_t size, size_t i)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->items = lb_xrealloc(s->items, s->cap * size);
    }
    char *base = s->items;
    memmove(base + (i + 1) * size, base + i * size, (s->n - i) * size);
    s->n++;
    return base + i * size;
}

void lb_sorted_erase_at(lb_sorted_t *s, size_t size, size_t i)
{
    char *base = s->items;
    memmove(base + i * size, base + (i + 1) * size, (s->n - i - 1) * size);
    s->n--;
}

void lb_sorted_free(lb_sorted_t *s)
{
    free(s->items);
    *s = (lb_sorted_t){0};
}

int lb_region_name_cmp(const char *region, const char *name, const lb_region_name_t *key)
{
    int c = strcmp(region, key->region);
    return c ? c : strcmp(name, key->name);
}

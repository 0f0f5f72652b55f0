/* A sorted array, the shape of every in-memory registry (buses, rules, connections, archives,
 * ...): binary search on a key, insert at the found slot, erase. The caller owns the array and
 * its elements (values or pointers, `size` bytes each) and says how an element compares with a
 * key; this module only moves bytes. */
#ifndef LB_SORTED_H
#define LB_SORTED_H

#include <stddef.h>

typedef struct {
    void *items;
    size_t n, cap;
} lb_sorted_t;

/* < 0, 0 or > 0 as the element sorts before, with or after the key. */
typedef int (*lb_sorted_cmp_fn)(const void *elem, const void *key);

/* The first slot whose element does not sort before key (n when every element does). */
size_t lb_sorted_lower_bound(const lb_sorted_t *s, size_t size, const void *key,
                             lb_sorted_cmp_fn cmp);

/* The element equal to key, or NULL. */
void *lb_sorted_find(const lb_sorted_t *s, size_t size, const void *key, lb_sorted_cmp_fn cmp);

/* Opens slot i (elements from i on move up one) and returns it, uninitialised. */
void *lb_sorted_insert_at(lb_sorted_t *s, size_t size, size_t i);

/* Closes slot i; what the element owned is the caller's to release first. */
void lb_sorted_erase_at(lb_sorted_t *s, size_t size, size_t i);

/* Element i (no bounds check: i < s->n). */
static inline void *lb_sorted_at(const lb_sorted_t *s, size_t size, size_t i)
{
    return (char *)s->items + i * size;
}

/* Frees the array itself (not what elements own) and empties s. */
void lb_sorted_free(lb_sorted_t *s);

/* The key most registries use, and its comparison for elements that start with the same two
 * strings (struct { char *region; char *name; ... }). */
typedef struct {
    const char *region, *name;
} lb_region_name_t;

int lb_region_name_cmp(const char *region, const char *name, const lb_region_name_t *key);

#endif

/* lb_archive: archives in memory. See lb_archive.h. */
#include "lb_archive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

struct lb_archives {
    lb_archive_t **items; /* sorted by (region, name) */
    size_t n, cap;
};

int lb_archive_init(lb_archive_t *a, const char *region, const char *name, const char *bus,
                    const char *description, const char *event_pattern, const char *kms_key,
                    int64_t retention_days, int64_t created_ms, char **errmsg)
{
    memset(a, 0, sizeof *a);
    if (event_pattern) {
        int rc = lb_pattern_compile(event_pattern, strlen(event_pattern), &a->pattern, errmsg);
        if (rc) return rc;
    }
    a->region = lb_strdup(region);
    a->name = lb_strdup(name);
    a->bus = lb_strdup(bus);
    a->description = lb_strdup(description);
    a->event_pattern = lb_strdup(event_pattern);
    a->kms_key = lb_strdup(kms_key);
    a->retention_days = retention_days;
    a->state = lb_strdup("ENABLED");
    a->created_ms = a->modified_ms = created_ms;
    return 0;
}

void lb_archive_clear(lb_archive_t *a)
{
    free(a->region);
    free(a->name);
    free(a->bus);
    free(a->description);
    free(a->event_pattern);
    free(a->kms_key);
    free(a->state);
    free(a->state_reason);
    lb_pattern_free(&a->pattern);
    memset(a, 0, sizeof *a);
}

int lb_archive_needs_event(const lb_archive_t *a)
{
    return a->pattern != NULL;
}

int lb_archive_wants(const lb_archive_t *a, const lb_event_t *flat)
{
    if (strcmp(a->state, "ENABLED") != 0) return 0;
    if (!a->pattern) return 1;
    return flat && lb_pattern_matches(a->pattern, flat);
}

void lb_archive_arn(const char *region, const char *account, const char *name, char *out,
                    size_t outlen)
{
    snprintf(out, outlen, "arn:aws:events:%s:%s:archive/%s", region, account, name);
}

/* ---- registry ---- */

int lb_archives_new(lb_archives_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    return 0;
}

void lb_archives_free(lb_archives_t **rp)
{
    lb_archives_t *r = *rp;
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        lb_archive_clear(r->items[i]);
        free(r->items[i]);
    }
    free(r->items);
    free(r);
    *rp = NULL;
}

static int key_cmp(const lb_archive_t *a, const char *region, const char *name)
{
    int c = strcmp(a->region, region);
    return c ? c : strcmp(a->name, name);
}

size_t lb_archives_lower_bound(const lb_archives_t *r, const char *region, const char *name)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(r->items[mid], region, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

lb_archive_t *lb_archives_find(const lb_archives_t *r, const char *region, const char *name)
{
    size_t i = lb_archives_lower_bound(r, region, name);
    return i < r->n && key_cmp(r->items[i], region, name) == 0 ? r->items[i] : NULL;
}

lb_archive_t *lb_archives_find_id(const lb_archives_t *r, int64_t id)
{
    /* Archives are few (AWS allows 200 per region): a scan is cheaper than another index. */
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i]->id == id) return r->items[i];
    return NULL;
}

int lb_archives_put(lb_archives_t *r, lb_archive_t *a)
{
    if (!a->region || !a->name) return -EINVAL;
    size_t i = lb_archives_lower_bound(r, a->region, a->name);
    if (i < r->n && key_cmp(r->items[i], a->region, a->name) == 0) {
        lb_archive_t *old = r->items[i];
        if (old->id == a->id) {
            a->event_count = old->event_count;
            a->size_bytes = old->size_bytes;
            a->archived_total = old->archived_total;
        }
        lb_archive_clear(old);
        *old = *a;
        memset(a, 0, sizeof *a);
        return 0;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->items = lb_xrealloc(r->items, r->cap * sizeof *r->items);
    }
    memmove(&r->items[i + 1], &r->items[i], (r->n - i) * sizeof *r->items);
    r->items[i] = lb_xmalloc(sizeof **r->items);
    *r->items[i] = *a;
    memset(a, 0, sizeof *a);
    r->n++;
    return 0;
}

int lb_archives_remove(lb_archives_t *r, const char *region, const char *name)
{
    size_t i = lb_archives_lower_bound(r, region, name);
    if (i >= r->n || key_cmp(r->items[i], region, name) != 0) return LB_ENOTFOUND;
    lb_archive_clear(r->items[i]);
    free(r->items[i]);
    memmove(&r->items[i], &r->items[i + 1], (r->n - i - 1) * sizeof *r->items);
    r->n--;
    return 0;
}

lb_archive_t *lb_archives_at(const lb_archives_t *r, size_t i)
{
    return i < r->n ? r->items[i] : NULL;
}

size_t lb_archives_count(const lb_archives_t *r)
{
    return r->n;
}

size_t lb_archives_count_on_bus(const lb_archives_t *r, const char *region, const char *bus)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += strcmp(r->items[i]->region, region) == 0 && strcmp(r->items[i]->bus, bus) == 0;
    return n;
}

void lb_archives_add_counts(lb_archives_t *r, int64_t id, int64_t events, int64_t bytes,
                            int archived)
{
    lb_archive_t *a = lb_archives_find_id(r, id);
    if (!a) return;
    a->event_count += events;
    a->size_bytes += bytes;
    /* A sweep racing a batch never takes a counter below zero. */
    if (a->event_count < 0) a->event_count = 0;
    if (a->size_bytes < 0) a->size_bytes = 0;
    if (archived && events > 0) a->archived_total += (uint64_t)events;
}

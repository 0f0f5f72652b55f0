/* lb_archive: archives in memory. See lb_archive.h. */
#include "lb_archive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_sorted.h"
#include "lb_util.h"

struct lb_archives {
    lb_sorted_t s; /* lb_archive_t *, by (region, name) */
};

#define ITEM(r, i) (((lb_archive_t **)(r)->s.items)[i])

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
    for (size_t i = 0; i < r->s.n; i++) {
        lb_archive_clear(ITEM(r, i));
        free(ITEM(r, i));
    }
    lb_sorted_free(&r->s);
    free(r);
    *rp = NULL;
}

static int key_cmp(const void *elem, const void *key)
{
    const lb_archive_t *a = *(lb_archive_t *const *)elem;
    return lb_region_name_cmp(a->region, a->name, key);
}

size_t lb_archives_lower_bound(const lb_archives_t *r, const char *region, const char *name)
{
    return lb_sorted_lower_bound(&r->s, sizeof(lb_archive_t *), &(lb_region_name_t){region, name},
                                 key_cmp);
}

lb_archive_t *lb_archives_find(const lb_archives_t *r, const char *region, const char *name)
{
    lb_archive_t **a = lb_sorted_find(&r->s, sizeof *a, &(lb_region_name_t){region, name}, key_cmp);
    return a ? *a : NULL;
}

lb_archive_t *lb_archives_find_id(const lb_archives_t *r, int64_t id)
{
    /* Archives are few (AWS allows 200 per region): a scan is cheaper than another index. */
    for (size_t i = 0; i < r->s.n; i++)
        if (ITEM(r, i)->id == id) return ITEM(r, i);
    return NULL;
}

int lb_archives_put(lb_archives_t *r, lb_archive_t *a)
{
    if (!a->region || !a->name) return -EINVAL;
    lb_archive_t *old = lb_archives_find(r, a->region, a->name);
    if (old) {
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
    lb_archive_t **slot =
        lb_sorted_insert_at(&r->s, sizeof *slot, lb_archives_lower_bound(r, a->region, a->name));
    *slot = lb_xmalloc(sizeof **slot);
    **slot = *a;
    memset(a, 0, sizeof *a);
    return 0;
}

int lb_archives_remove(lb_archives_t *r, const char *region, const char *name)
{
    lb_archive_t *a = lb_archives_find(r, region, name);
    if (!a) return LB_ENOTFOUND;
    lb_sorted_erase_at(&r->s, sizeof a, lb_archives_lower_bound(r, region, name));
    lb_archive_clear(a);
    free(a);
    return 0;
}

lb_archive_t *lb_archives_at(const lb_archives_t *r, size_t i)
{
    return i < r->s.n ? ITEM(r, i) : NULL;
}

size_t lb_archives_count(const lb_archives_t *r)
{
    return r->s.n;
}

size_t lb_archives_count_on_bus(const lb_archives_t *r, const char *region, const char *bus)
{
    size_t n = 0;
    for (size_t i = 0; i < r->s.n; i++)
        n += strcmp(ITEM(r, i)->region, region) == 0 && strcmp(ITEM(r, i)->bus, bus) == 0;
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

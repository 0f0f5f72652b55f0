#include "lb_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

struct lb_engine {
    lb_rules_t *rules;
    lb_connections_t *connections;
    lb_delivery_hook_fn delivery_hook;
    void *delivery_hook_ctx;
    lb_bus_record_t *buses;
    size_t n_buses, cap_buses;
};

int lb_engine_new(lb_engine_t **out)
{
    lb_engine_t *e = lb_xcalloc(1, sizeof *e);
    lb_rules_new(&e->rules);
    lb_connections_new(&e->connections);
    *out = e;
    return 0;
}

void lb_engine_free(lb_engine_t **ep)
{
    lb_engine_t *e = *ep;
    if (!e) return;
    for (size_t i = 0; i < e->n_buses; i++)
        lb_bus_record_clear(&e->buses[i]);
    free(e->buses);
    lb_rules_free(&e->rules);
    lb_connections_free(&e->connections);
    free(e);
    *ep = NULL;
}

static int bus_cmp(const lb_bus_record_t *b, const char *region, const char *name)
{
    int c = strcmp(b->region, region);
    return c ? c : strcmp(b->name, name);
}

size_t lb_engine_bus_lower_bound(const lb_engine_t *e, const char *region, const char *name)
{
    size_t lo = 0, hi = e->n_buses;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bus_cmp(&e->buses[mid], region, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const lb_bus_record_t *lb_engine_bus_find(const lb_engine_t *e, const char *region,
                                          const char *name)
{
    size_t i = lb_engine_bus_lower_bound(e, region, name);
    if (i < e->n_buses && bus_cmp(&e->buses[i], region, name) == 0) return &e->buses[i];
    return NULL;
}

static void bus_copy(lb_bus_record_t *dst, const lb_bus_record_t *src)
{
    dst->region = lb_strdup(src->region);
    dst->name = lb_strdup(src->name);
    dst->description = lb_strdup(src->description);
    dst->kms_key = lb_strdup(src->kms_key);
    dst->dlq_arn = lb_strdup(src->dlq_arn);
    dst->tags_json = lb_strdup(src->tags_json);
    dst->policy = lb_strdup(src->policy);
    dst->created_ms = src->created_ms;
    dst->modified_ms = src->modified_ms;
}

int lb_engine_bus_put(lb_engine_t *e, const lb_bus_record_t *bus)
{
    if (!bus->region || !bus->name) return -EINVAL;
    size_t i = lb_engine_bus_lower_bound(e, bus->region, bus->name);
    if (i < e->n_buses && bus_cmp(&e->buses[i], bus->region, bus->name) == 0) {
        lb_bus_record_t copy;
        bus_copy(&copy, bus);
        lb_bus_record_clear(&e->buses[i]);
        e->buses[i] = copy;
        return 0;
    }
    if (e->n_buses == e->cap_buses) {
        e->cap_buses = e->cap_buses ? e->cap_buses * 2 : 16;
        e->buses = lb_xrealloc(e->buses, e->cap_buses * sizeof *e->buses);
    }
    memmove(&e->buses[i + 1], &e->buses[i], (e->n_buses - i) * sizeof *e->buses);
    bus_copy(&e->buses[i], bus);
    e->n_buses++;
    return 0;
}

int lb_engine_bus_remove(lb_engine_t *e, const char *region, const char *name)
{
    size_t i = lb_engine_bus_lower_bound(e, region, name);
    if (i >= e->n_buses || bus_cmp(&e->buses[i], region, name) != 0) return LB_ENOTFOUND;
    lb_bus_record_clear(&e->buses[i]);
    memmove(&e->buses[i], &e->buses[i + 1], (e->n_buses - i - 1) * sizeof *e->buses);
    e->n_buses--;
    return 0;
}

size_t lb_engine_bus_count(const lb_engine_t *e)
{
    return e->n_buses;
}

const lb_bus_record_t *lb_engine_bus_at(const lb_engine_t *e, size_t i)
{
    return i < e->n_buses ? &e->buses[i] : NULL;
}

static int load_bus(const lb_bus_record_t *bus, void *ctx)
{
    return lb_engine_bus_put(ctx, bus);
}

int lb_engine_load(lb_engine_t *e, lb_store_t *s, size_t *skipped)
{
    size_t ignored;
    int rc = lb_store_buses_each(s, load_bus, e);
    if (rc) return rc;
    size_t *count = skipped ? skipped : &ignored, more = 0;
    rc = lb_rules_load(e->rules, s, count);
    if (rc) return rc;
    rc = lb_connections_load(e->connections, s, &more);
    *count += more;
    return rc;
}

lb_connections_t *lb_engine_connections(lb_engine_t *e)
{
    return e->connections;
}

lb_rules_t *lb_engine_rules(lb_engine_t *e)
{
    return e->rules;
}

void lb_engine_set_delivery_hook(lb_engine_t *e, lb_delivery_hook_fn fn, void *ctx)
{
    e->delivery_hook = fn;
    e->delivery_hook_ctx = ctx;
}

void lb_engine_deliveries_committed(lb_engine_t *e, lb_delivery_t **ds, size_t n,
                                    const lb_rule_hit_t *hits, size_t n_hits)
{
    if (e->delivery_hook) {
        e->delivery_hook(e->delivery_hook_ctx, ds, n, hits, n_hits);
        return;
    }
    for (size_t i = 0; i < n; i++)
        lb_delivery_free(&ds[i]);
}

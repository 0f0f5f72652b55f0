#include "lb_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_archive_store.h"
#include "lb_replay_store.h"
#include "lb_sorted.h"
#include "lb_util.h"

struct lb_engine {
    lb_rules_t *rules;
    lb_connections_t *connections;
    lb_docs_t *docs;
    lb_archives_t *archives;
    lb_replays_t *replays;
    lb_functions_t *functions;
    lb_delivery_hook_fn delivery_hook;
    void *delivery_hook_ctx;
    lb_event_hook_fn event_hook;
    void *event_hook_ctx;
    lb_route_hook_fn route_hook;
    void *route_hook_ctx;
    lb_sorted_t buses; /* lb_bus_record_t, by (region, name) */
};

int lb_engine_new(lb_engine_t **out)
{
    lb_engine_t *e = lb_xcalloc(1, sizeof *e);
    lb_rules_new(&e->rules);
    lb_connections_new(&e->connections);
    lb_docs_new(&e->docs);
    lb_archives_new(&e->archives);
    lb_replays_new(&e->replays);
    lb_functions_new(&e->functions);
    *out = e;
    return 0;
}

void lb_engine_free(lb_engine_t **ep)
{
    lb_engine_t *e = *ep;
    if (!e) return;
    for (size_t i = 0; i < e->buses.n; i++)
        lb_bus_record_clear(lb_sorted_at(&e->buses, sizeof(lb_bus_record_t), i));
    lb_sorted_free(&e->buses);
    lb_rules_free(&e->rules);
    lb_connections_free(&e->connections);
    lb_docs_free(&e->docs);
    lb_archives_free(&e->archives);
    lb_replays_free(&e->replays);
    lb_functions_free(&e->functions);
    free(e);
    *ep = NULL;
}

static int bus_cmp(const void *elem, const void *key)
{
    const lb_bus_record_t *b = elem;
    return lb_region_name_cmp(b->region, b->name, key);
}

size_t lb_engine_bus_lower_bound(const lb_engine_t *e, const char *region, const char *name)
{
    return lb_sorted_lower_bound(&e->buses, sizeof(lb_bus_record_t),
                                 &(lb_region_name_t){region, name}, bus_cmp);
}

static lb_bus_record_t *bus_find(const lb_engine_t *e, const char *region, const char *name)
{
    return lb_sorted_find(&e->buses, sizeof(lb_bus_record_t), &(lb_region_name_t){region, name},
                          bus_cmp);
}

const lb_bus_record_t *lb_engine_bus_find(const lb_engine_t *e, const char *region,
                                          const char *name)
{
    return bus_find(e, region, name);
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
    lb_bus_record_t copy;
    bus_copy(&copy, bus);
    lb_bus_record_t *b = bus_find(e, bus->region, bus->name);
    if (b)
        lb_bus_record_clear(b);
    else
        b = lb_sorted_insert_at(&e->buses, sizeof *b,
                                lb_engine_bus_lower_bound(e, bus->region, bus->name));
    *b = copy;
    return 0;
}

int lb_engine_bus_remove(lb_engine_t *e, const char *region, const char *name)
{
    size_t i = lb_engine_bus_lower_bound(e, region, name);
    if (!bus_find(e, region, name)) return LB_ENOTFOUND;
    lb_bus_record_clear(lb_sorted_at(&e->buses, sizeof(lb_bus_record_t), i));
    lb_sorted_erase_at(&e->buses, sizeof(lb_bus_record_t), i);
    return 0;
}

int lb_engine_bus_set_policy(lb_engine_t *e, const char *region, const char *name,
                             const char *policy, int64_t modified_ms)
{
    lb_bus_record_t *b = bus_find(e, region, name);
    if (!b) return LB_ENOTFOUND;
    free(b->policy);
    b->policy = lb_strdup(policy);
    b->modified_ms = modified_ms;
    return 0;
}

size_t lb_engine_bus_count(const lb_engine_t *e)
{
    return e->buses.n;
}

const lb_bus_record_t *lb_engine_bus_at(const lb_engine_t *e, size_t i)
{
    return i < e->buses.n ? lb_sorted_at(&e->buses, sizeof(lb_bus_record_t), i) : NULL;
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
    /* Every region has a default bus: one made in memory on demand (first touched in a region
     * that was never configured) comes back with the rules it holds, so they keep matching and
     * their schedules keep firing after a restart. */
    for (size_t i = 0; i < lb_rules_count(e->rules); i++) {
        const lb_rule_t *r = lb_rules_at(e->rules, i);
        if (strcmp(r->bus, "default") || lb_engine_bus_find(e, r->region, "default")) continue;
        lb_bus_record_t rec = {.region = r->region,
                               .name = "default",
                               .created_ms = r->created_ms,
                               .modified_ms = r->created_ms};
        lb_engine_bus_put(e, &rec);
    }
    rc = lb_connections_load(e->connections, s, &more);
    *count += more;
    if (rc) return rc;
    more = 0;
    rc = lb_docs_load(e->docs, s, &more);
    *count += more;
    if (rc) return rc;
    more = 0;
    rc = lb_archives_load(e->archives, s, &more);
    *count += more;
    if (rc) return rc;
    more = 0;
    rc = lb_replays_load(e->replays, s, &more);
    *count += more;
    if (rc) return rc;
    more = 0;
    rc = lb_functions_load(e->functions, s, &more);
    *count += more;
    return rc;
}

lb_docs_t *lb_engine_docs(lb_engine_t *e)
{
    return e->docs;
}

lb_connections_t *lb_engine_connections(lb_engine_t *e)
{
    return e->connections;
}

lb_archives_t *lb_engine_archives(lb_engine_t *e)
{
    return e->archives;
}

lb_replays_t *lb_engine_replays(lb_engine_t *e)
{
    return e->replays;
}

lb_functions_t *lb_engine_functions(lb_engine_t *e)
{
    return e->functions;
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

void lb_engine_set_route_hook(lb_engine_t *e, lb_route_hook_fn fn, void *ctx)
{
    e->route_hook = fn;
    e->route_hook_ctx = ctx;
}

void lb_engine_check_route(lb_engine_t *e, const char *region, const char *bus, const char *rule,
                           const char *target_id, const char *arn, int dlq)
{
    if (e->route_hook && arn)
        e->route_hook(e->route_hook_ctx, region, bus, rule, target_id, arn, dlq);
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

void lb_engine_set_event_hook(lb_engine_t *e, lb_event_hook_fn fn, void *ctx)
{
    e->event_hook = fn;
    e->event_hook_ctx = ctx;
}

int lb_engine_has_event_hook(const lb_engine_t *e)
{
    return e->event_hook != NULL;
}

void lb_engine_event_committed(lb_engine_t *e, const lb_event_committed_t *ev)
{
    if (e->event_hook) e->event_hook(e->event_hook_ctx, ev);
}

void lb_engine_reset(lb_engine_t *e)
{
    for (size_t n = lb_rules_count(e->rules); n > 0; n--) {
        const lb_rule_t *r = lb_rules_at(e->rules, n - 1);
        char *region = lb_strdup(r->region), *bus = lb_strdup(r->bus), *name = lb_strdup(r->name);
        lb_rules_remove(e->rules, region, bus, name);
        free(region);
        free(bus);
        free(name);
    }
    for (size_t n = lb_archives_count(e->archives); n > 0; n--) {
        const lb_archive_t *a = lb_archives_at(e->archives, n - 1);
        char *region = lb_strdup(a->region), *name = lb_strdup(a->name);
        lb_archives_remove(e->archives, region, name);
        free(region);
        free(name);
    }
    for (size_t n = lb_replays_count(e->replays); n > 0; n--) {
        const lb_replay_t *rp = lb_replays_at(e->replays, n - 1);
        char *region = lb_strdup(rp->region), *name = lb_strdup(rp->name);
        lb_replays_remove(e->replays, region, name);
        free(region);
        free(name);
    }
    for (size_t n = e->buses.n; n > 0; n--) {
        lb_bus_record_t *b = lb_sorted_at(&e->buses, sizeof(lb_bus_record_t), n - 1);
        if (strcmp(b->name, "default") == 0) continue;
        lb_bus_record_clear(b);
        lb_sorted_erase_at(&e->buses, sizeof(lb_bus_record_t), n - 1);
    }
}

/* lb_replay: replays in memory. See lb_replay.h. */
#include "lb_replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_sorted.h"
#include "lb_util.h"

static const char *const state_names[LB_REPLAY_N_STATES] = {"STARTING",  "RUNNING",   "CANCELLING",
                                                            "COMPLETED", "CANCELLED", "FAILED"};

typedef struct {
    char *region;
    size_t n;
} reservation_t;

struct lb_replays {
    lb_sorted_t s; /* lb_replay_t *, by (region, name) */
    reservation_t *reserved;
    size_t n_reserved;
    lb_replays_hook_fn hook;
    void *hook_ctx;
};

#define ITEM(r, i) (((lb_replay_t **)(r)->s.items)[i])

const char *lb_replay_state_name(lb_replay_state_t s)
{
    return (unsigned)s < LB_REPLAY_N_STATES ? state_names[s] : "FAILED";
}

int lb_replay_state_parse(const char *name, lb_replay_state_t *out)
{
    for (int i = 0; i < LB_REPLAY_N_STATES; i++)
        if (name && strcmp(name, state_names[i]) == 0) {
            *out = (lb_replay_state_t)i;
            return 0;
        }
    return -EINVAL;
}

int lb_replay_rule_from_arn(const char *arn, char *bus, size_t buslen, char *rule, size_t rulelen)
{
    lb_arn_t p;
    if (lb_arn_parse(arn, &p) || strcmp(p.service, "events") != 0 ||
        strncmp(p.resource, "rule/", 5) != 0)
        return -EINVAL;
    const char *rest = p.resource + 5;
    /* Rule names never hold '/', bus names may (partner buses): the name is the last part. */
    const char *slash = strrchr(rest, '/');
    const char *name = slash ? slash + 1 : rest;
    size_t bus_len = slash ? (size_t)(slash - rest) : strlen("default");
    if (!*name || strlen(name) >= rulelen || bus_len == 0 || bus_len >= buslen) return -EINVAL;
    memcpy(bus, slash ? rest : "default", bus_len);
    bus[bus_len] = '\0';
    snprintf(rule, rulelen, "%s", name);
    return 0;
}

int lb_replay_init(lb_replay_t *r, const char *region, const char *name, const char *description,
                   int64_t archive_id, const char *archive_name, const char *bus,
                   const char *const *filter_arns, size_t n_filters, int64_t event_start_ms,
                   int64_t event_end_ms, int64_t now_ms)
{
    memset(r, 0, sizeof *r);
    if (n_filters) {
        r->filter_arns = lb_xcalloc(n_filters, sizeof *r->filter_arns);
        r->rule_names = lb_xcalloc(n_filters, sizeof *r->rule_names);
        r->n_filters = n_filters;
        for (size_t i = 0; i < n_filters; i++) {
            char rbus[1024], rule[256];
            if (lb_replay_rule_from_arn(filter_arns[i], rbus, sizeof rbus, rule, sizeof rule)) {
                lb_replay_clear(r);
                return -EINVAL;
            }
            r->filter_arns[i] = lb_strdup(filter_arns[i]);
            r->rule_names[i] = lb_strdup(rule);
        }
    }
    r->region = lb_strdup(region);
    r->name = lb_strdup(name);
    r->description = lb_strdup(description);
    r->archive_id = archive_id;
    r->archive_name = lb_strdup(archive_name);
    r->bus = lb_strdup(bus);
    r->event_start_ms = event_start_ms;
    r->event_end_ms = event_end_ms;
    r->replay_start_ms = now_ms;
    r->p.state = LB_REPLAY_STARTING;
    /* (start, 0) sorts before every archived event of the window's first second: seqs start
     * at 1. */
    r->p.cursor_time_ms = event_start_ms;
    r->p.cursor_seq = 0;
    r->p.total = -1;
    return 0;
}

void lb_replay_clear(lb_replay_t *r)
{
    free(r->region);
    free(r->name);
    free(r->description);
    free(r->archive_name);
    free(r->bus);
    for (size_t i = 0; i < r->n_filters; i++) {
        free(r->filter_arns ? r->filter_arns[i] : NULL);
        free(r->rule_names ? r->rule_names[i] : NULL);
    }
    free(r->filter_arns);
    free(r->rule_names);
    memset(r, 0, sizeof *r);
}

int lb_replay_active(const lb_replay_t *r)
{
    return r->p.state == LB_REPLAY_STARTING || r->p.state == LB_REPLAY_RUNNING;
}

int lb_replay_pending(const lb_replay_t *r)
{
    return lb_replay_active(r) || r->p.state == LB_REPLAY_CANCELLING;
}

void lb_replay_arn(const char *region, const char *account, const char *name, char *out,
                   size_t outlen)
{
    snprintf(out, outlen, "arn:aws:events:%s:%s:replay/%s", region, account, name);
}

void lb_replay_end_for_archive(lb_replay_progress_t *p, const char *reason, int64_t now_ms)
{
    if (p->state == LB_REPLAY_CANCELLING) {
        p->state = LB_REPLAY_CANCELLED;
    } else {
        p->state = LB_REPLAY_FAILED;
        snprintf(p->state_reason, sizeof p->state_reason, "%s", reason);
    }
    p->replay_end_ms = now_ms;
}

/* ---- registry ---- */

int lb_replays_new(lb_replays_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    return 0;
}

void lb_replays_free(lb_replays_t **rp)
{
    lb_replays_t *r = *rp;
    if (!r) return;
    for (size_t i = 0; i < r->s.n; i++) {
        lb_replay_clear(ITEM(r, i));
        free(ITEM(r, i));
    }
    for (size_t i = 0; i < r->n_reserved; i++)
        free(r->reserved[i].region);
    free(r->reserved);
    lb_sorted_free(&r->s);
    free(r);
    *rp = NULL;
}

static int key_cmp(const void *elem, const void *key)
{
    const lb_replay_t *a = *(lb_replay_t *const *)elem;
    return lb_region_name_cmp(a->region, a->name, key);
}

size_t lb_replays_lower_bound(const lb_replays_t *r, const char *region, const char *name)
{
    return lb_sorted_lower_bound(&r->s, sizeof(lb_replay_t *), &(lb_region_name_t){region, name},
                                 key_cmp);
}

lb_replay_t *lb_replays_find(const lb_replays_t *r, const char *region, const char *name)
{
    lb_replay_t **p = lb_sorted_find(&r->s, sizeof *p, &(lb_region_name_t){region, name}, key_cmp);
    return p ? *p : NULL;
}

int lb_replays_put(lb_replays_t *r, lb_replay_t *rp)
{
    if (!rp->region || !rp->name) return -EINVAL;
    lb_replay_t *old = lb_replays_find(r, rp->region, rp->name);
    if (old) {
        lb_replay_clear(old);
    } else {
        lb_replay_t **slot = lb_sorted_insert_at(&r->s, sizeof *slot,
                                                 lb_replays_lower_bound(r, rp->region, rp->name));
        old = *slot = lb_xmalloc(sizeof **slot);
    }
    *old = *rp;
    memset(rp, 0, sizeof *rp);
    return 0;
}

int lb_replays_remove(lb_replays_t *r, const char *region, const char *name)
{
    lb_replay_t *rp = lb_replays_find(r, region, name);
    if (!rp) return LB_ENOTFOUND;
    lb_sorted_erase_at(&r->s, sizeof rp, lb_replays_lower_bound(r, region, name));
    lb_replay_clear(rp);
    free(rp);
    return 0;
}

lb_replay_t *lb_replays_at(const lb_replays_t *r, size_t i)
{
    return i < r->s.n ? ITEM(r, i) : NULL;
}

size_t lb_replays_count(const lb_replays_t *r)
{
    return r->s.n;
}

static reservation_t *reservation(lb_replays_t *r, const char *region, int create)
{
    for (size_t i = 0; i < r->n_reserved; i++)
        if (strcmp(r->reserved[i].region, region) == 0) return &r->reserved[i];
    if (!create) return NULL;
    r->reserved = lb_xrealloc(r->reserved, (r->n_reserved + 1) * sizeof *r->reserved);
    r->reserved[r->n_reserved] = (reservation_t){.region = lb_strdup(region)};
    return &r->reserved[r->n_reserved++];
}

size_t lb_replays_active(const lb_replays_t *r, const char *region)
{
    size_t n = 0;
    for (size_t i = lb_replays_lower_bound(r, region, ""); i < r->s.n; i++) {
        if (strcmp(ITEM(r, i)->region, region) != 0) break;
        n += lb_replay_active(ITEM(r, i));
    }
    reservation_t *res = reservation((lb_replays_t *)r, region, 0);
    return n + (res ? res->n : 0);
}

int lb_replays_reserve(lb_replays_t *r, const char *region)
{
    if (lb_replays_active(r, region) >= LB_REPLAY_MAX_ACTIVE) return LB_ELIMIT;
    reservation(r, region, 1)->n++;
    return 0;
}

void lb_replays_release(lb_replays_t *r, const char *region)
{
    reservation_t *res = reservation(r, region, 0);
    if (res && res->n) res->n--;
}

size_t lb_replays_archive_gone(lb_replays_t *r, int64_t archive_id, const char *reason,
                               int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < r->s.n; i++) {
        lb_replay_t *rp = ITEM(r, i);
        if (rp->archive_id != archive_id || !lb_replay_pending(rp)) continue;
        lb_replay_end_for_archive(&rp->p, reason, now_ms);
        n++;
    }
    return n;
}

void lb_replays_set_hook(lb_replays_t *r, lb_replays_hook_fn fn, void *ctx)
{
    r->hook = fn;
    r->hook_ctx = ctx;
}

void lb_replays_changed(lb_replays_t *r)
{
    if (r->hook) r->hook(r->hook_ctx);
}

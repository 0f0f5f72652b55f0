/* lb_scheduler: one timer for every scheduled rule. See lb_scheduler.h. */
#include "lb_scheduler.h"

#include <stdlib.h>
#include <string.h>

#include "lb_ingest.h"
#include "lb_rules.h"
#include "lb_schedule.h"
#include "lb_util.h"

/* The longest the timer sleeps before looking at the wall clock again: a clock stepped by NTP,
 * or a machine resumed from suspend, is noticed within this. */
#define MAX_SLEEP_MS 10000

typedef struct {
    char *region, *bus, *name;
    int64_t next_ms;
    int64_t last_fired_ms; /* the last minute fired, committed or being committed */
    size_t heap_pos;
} entry_t;

struct lb_scheduler {
    lb_scheduler_env_t env;
    uv_timer_t timer;
    entry_t **heap; /* min-heap by next_ms */
    size_t n, cap;
    entry_t **keys; /* the same entries sorted by (region, bus, name) */
    size_t cap_keys;
    int loading; /* the start-up scan: the current minute may still fire */
    int stopping, timer_open, free_requested;
    size_t firing; /* firings the writer has not completed */
};

/* A firing on its way through the writer. */
typedef struct {
    lb_scheduler_t *s;
    lb_ingest_batch_t *batch;
    char *region, *bus, *name;
    int64_t fire_ms;
} firing_t;

static int64_t now_ms(const lb_scheduler_t *s)
{
    return s->env.now ? s->env.now(s->env.now_ctx) : lb_now_ms();
}

/* ---- the heap ---- */

static int earlier(const entry_t *a, const entry_t *b)
{
    return a->next_ms < b->next_ms;
}

static void heap_set(lb_scheduler_t *s, size_t i, entry_t *e)
{
    s->heap[i] = e;
    e->heap_pos = i;
}

static void sift_up(lb_scheduler_t *s, size_t i)
{
    entry_t *e = s->heap[i];
    while (i > 0 && earlier(e, s->heap[(i - 1) / 2])) {
        heap_set(s, i, s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(s, i, e);
}

static void sift_down(lb_scheduler_t *s, size_t i)
{
    entry_t *e = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n) break;
        if (c + 1 < s->n && earlier(s->heap[c + 1], s->heap[c])) c++;
        if (!earlier(s->heap[c], e)) break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, e);
}

static void heap_fix(lb_scheduler_t *s, entry_t *e)
{
    sift_up(s, e->heap_pos);
    sift_down(s, e->heap_pos);
}

/* ---- the key index ---- */

static int key_cmp(const entry_t *e, const lb_rule_t *r)
{
    int c = strcmp(e->region, r->region);
    if (!c) c = strcmp(e->bus, r->bus);
    if (!c) c = strcmp(e->name, r->name);
    return c;
}

static size_t key_lower_bound(const lb_scheduler_t *s, const lb_rule_t *r)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(s->keys[mid], r) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static entry_t *find_entry(const lb_scheduler_t *s, const lb_rule_t *r, size_t *at)
{
    *at = key_lower_bound(s, r);
    return *at < s->n && key_cmp(s->keys[*at], r) == 0 ? s->keys[*at] : NULL;
}

static void entry_free(entry_t *e)
{
    free(e->region);
    free(e->bus);
    free(e->name);
    free(e);
}

static void add_entry(lb_scheduler_t *s, const lb_rule_t *r, size_t at, int64_t next_ms,
                      int64_t last_fired_ms)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->heap = lb_xrealloc(s->heap, s->cap * sizeof *s->heap);
        s->keys = lb_xrealloc(s->keys, s->cap * sizeof *s->keys);
    }
    entry_t *e = lb_xcalloc(1, sizeof *e);
    e->region = lb_strdup(r->region);
    e->bus = lb_strdup(r->bus);
    e->name = lb_strdup(r->name);
    e->next_ms = next_ms;
    e->last_fired_ms = last_fired_ms;
    memmove(&s->keys[at + 1], &s->keys[at], (s->n - at) * sizeof *s->keys);
    s->keys[at] = e;
    heap_set(s, s->n++, e);
    sift_up(s, s->n - 1);
}

static void remove_entry(lb_scheduler_t *s, entry_t *e)
{
    size_t at;
    lb_rule_t key = {.region = e->region, .bus = e->bus, .name = e->name};
    find_entry(s, &key, &at);
    memmove(&s->keys[at], &s->keys[at + 1], (s->n - at - 1) * sizeof *s->keys);
    size_t pos = e->heap_pos;
    entry_t *last = s->heap[--s->n];
    if (pos < s->n) {
        heap_set(s, pos, last);
        heap_fix(s, last);
    }
    entry_free(e);
}

/* ---- the timer ---- */

static void on_timer(uv_timer_t *t);

static void arm(lb_scheduler_t *s)
{
    if (s->stopping) return;
    if (s->n == 0) {
        uv_timer_stop(&s->timer);
        return;
    }
    /* libuv's clock may trail the wall clock by a millisecond: a wake-up found early sleeps 1 ms
     * more rather than firing before the minute. */
    int64_t wait = s->heap[0]->next_ms - now_ms(s);
    if (wait < 0) wait = 0;
    if (wait > MAX_SLEEP_MS) wait = MAX_SLEEP_MS;
    uv_update_time(s->env.loop);
    uv_timer_start(&s->timer, on_timer, (uint64_t)wait, 0);
}

/* The next firing strictly after `after`: 0, or -ENOENT when the schedule is over. */
static int next_firing(const lb_rule_t *r, int64_t after, int64_t *next)
{
    return lb_schedule_next(r->sched, r->schedule_since_ms, after, next);
}

static void firing_free(firing_t *f)
{
    lb_ingest_batch_free(&f->batch);
    free(f->region);
    free(f->bus);
    free(f->name);
    free(f);
}

static void release(lb_scheduler_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        entry_free(s->heap[i]);
    free(s->heap);
    free(s->keys);
    free(s);
}

static void maybe_release(lb_scheduler_t *s)
{
    if (s->free_requested && !s->timer_open && s->firing == 0) release(s);
}

/* Writer thread: the minute first (a minute recorded already rolls the firing back), then the
 * event and its deliveries, in one transaction. */
static int firing_txn(lb_store_t *store, void *arg)
{
    firing_t *f = arg;
    int rc = lb_store_rule_fired(store, f->region, f->bus, f->name, f->fire_ms);
    return rc ? rc : lb_ingest_batch_write(store, f->batch);
}

static void firing_done(void *data, int rc)
{
    firing_t *f = data;
    lb_scheduler_t *s = f->s;
    char when[32];
    lb_format_time_iso(f->fire_ms, when);
    if (rc == 0) {
        lb_ingest_batch_committed(s->env.engine, f->batch);
        lb_rule_t *r = lb_rules_find(lb_engine_rules(s->env.engine), f->region, f->bus, f->name);
        if (r && r->last_fired_ms < f->fire_ms) r->last_fired_ms = f->fire_ms;
        lb_logf_debug(s->env.log, "scheduled rule fired", LB_LOG_STR("rule", f->name),
                      LB_LOG_STR("time", when));
    } else if (rc == LB_ECONFLICT) {
        lb_logf_info(s->env.log, "scheduled minute fired already; not fired again",
                     LB_LOG_STR("rule", f->name), LB_LOG_STR("time", when));
    } else if (rc != LB_ENOTFOUND) { /* a rule deleted meanwhile simply does not fire */
        lb_logf_error(s->env.log, "scheduled firing could not be stored; this minute is lost",
                      LB_LOG_STR("rule", f->name), LB_LOG_STR("time", when),
                      LB_LOG_INT("code", rc));
    }
    firing_free(f);
    s->firing--;
    maybe_release(s);
}

/* Builds rule r's event for minute fire_ms and hands it to the writer. */
static void fire(lb_scheduler_t *s, entry_t *e, const lb_rule_t *r, int64_t fire_ms, int64_t now)
{
    lb_ingest_ctx_t ctx = {.account = lb_config_settings(s->env.config)->account_id, .now_ms = now};
    firing_t *f = lb_xcalloc(1, sizeof *f);
    f->s = s;
    f->batch = lb_ingest_batch_new();
    f->fire_ms = fire_ms;
    char id[37];
    int rc = lb_ingest_schedule(s->env.engine, &ctx, r, fire_ms, f->batch, id);
    if (rc) {
        lb_logf_error(s->env.log, "scheduled event could not be built", LB_LOG_STR("rule", e->name),
                      LB_LOG_INT("code", rc));
        firing_free(f);
        return;
    }
    f->region = lb_strdup(e->region);
    f->bus = lb_strdup(e->bus);
    f->name = lb_strdup(e->name);
    e->last_fired_ms = fire_ms;
    if (lb_writer_submit(s->env.writer, firing_txn, f, firing_done, f)) {
        firing_free(f); /* the writer is stopping */
        return;
    }
    s->firing++;
}

static void on_timer(uv_timer_t *t)
{
    lb_scheduler_t *s = t->data;
    lb_rules_t *rules = lb_engine_rules(s->env.engine);
    int64_t now = now_ms(s), minute = lb_minute_floor(now);
    while (s->n && s->heap[0]->next_ms <= now && !s->stopping) {
        entry_t *e = s->heap[0];
        lb_rule_t *r = lb_rules_find(rules, e->region, e->bus, e->name);
        int64_t due = e->next_ms, next;
        if (!r || !r->sched) { /* cannot happen: the hook removes such entries */
            remove_entry(s, e);
            continue;
        }
        if (due >= minute) {
            fire(s, e, r, due, now);
        } else {
            char when[32];
            lb_format_time_iso(due, when);
            lb_logf_warn(s->env.log, "scheduled minute missed (the daemon was not running it)",
                         LB_LOG_STR("rule", e->name), LB_LOG_STR("time", when));
        }
        /* Minutes before the current one are not back-filled. */
        if (next_firing(r, due > minute - 1 ? due : minute - 1, &next)) {
            remove_entry(s, e);
            continue;
        }
        e->next_ms = next;
        heap_fix(s, e);
    }
    arm(s);
}

/* ---- following the rules ---- */

static void on_rule(void *ctx, const lb_rule_t *r, int removed)
{
    lb_scheduler_t *s = ctx;
    size_t at;
    entry_t *e = find_entry(s, r, &at);
    int64_t now = now_ms(s), next;
    int wanted = !removed && r->sched && lb_rule_enabled(r);
    int64_t last = e && e->last_fired_ms > r->last_fired_ms ? e->last_fired_ms : r->last_fired_ms;
    /* At start-up the current minute may still fire; a firing due that the timer has not run
     * yet stays due (an EnableRule or TagResource at the boundary must not skip it); otherwise a
     * rule put while running starts from now. */
    int64_t from = s->loading ? lb_minute_floor(now) - 1 : now;
    if (!s->loading && e && e->next_ms <= now) from = e->next_ms - 1;
    if (last > from) from = last;
    /* Nor does a rule fire a minute from before it got its schedule. */
    if (r->schedule_since_ms > from) from = r->schedule_since_ms;
    if (wanted && next_firing(r, from, &next)) wanted = 0; /* its schedule is over */
    if (!wanted) {
        if (e) remove_entry(s, e);
    } else if (e) {
        e->next_ms = next;
        e->last_fired_ms = last;
        heap_fix(s, e);
    } else {
        add_entry(s, r, at, next, last);
    }
    if (!s->loading) arm(s);
}

int lb_scheduler_start(const lb_scheduler_env_t *env, lb_scheduler_t **out)
{
    lb_scheduler_t *s = lb_xcalloc(1, sizeof *s);
    s->env = *env;
    int rc = uv_timer_init(env->loop, &s->timer);
    if (rc) {
        free(s);
        return rc;
    }
    s->timer.data = s;
    s->timer_open = 1;
    lb_rules_t *rules = lb_engine_rules(env->engine);
    s->loading = 1;
    for (size_t i = 0; i < lb_rules_count(rules); i++)
        on_rule(s, lb_rules_at(rules, i), 0);
    s->loading = 0;
    lb_rules_set_hook(rules, on_rule, s);
    arm(s);
    *out = s;
    return 0;
}

size_t lb_scheduler_count(const lb_scheduler_t *s)
{
    return s->n;
}

int64_t lb_scheduler_next_ms(const lb_scheduler_t *s)
{
    return s->n ? s->heap[0]->next_ms : -1;
}

static void on_timer_closed(uv_handle_t *h)
{
    lb_scheduler_t *s = h->data;
    s->timer_open = 0;
    maybe_release(s);
}

void lb_scheduler_stop(lb_scheduler_t *s)
{
    if (s->stopping) return;
    s->stopping = 1;
    lb_rules_set_hook(lb_engine_rules(s->env.engine), NULL, NULL);
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

void lb_scheduler_free(lb_scheduler_t **sp)
{
    lb_scheduler_t *s = *sp;
    if (!s) return;
    *sp = NULL;
    lb_scheduler_stop(s);
    s->free_requested = 1;
    maybe_release(s);
}

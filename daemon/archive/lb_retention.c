/* lb_retention: the archive retention sweep. See lb_retention.h. */
#include "lb_retention.h"

#include <stdlib.h>

#include "lb_archive_store.h"

/* Rows one step deletes at most: a step is one writer job, so it must stay short. */
#define STEP_ROWS 500
/* A step waits while more writer jobs than this are queued, looking again after RETRY_MS. */
#define WRITER_BACKLOG 1
#define RETRY_MS 5
/* ...but not for ever: a step starts anyway after this long. */
#define MAX_YIELD_MS 1000

struct lb_retention {
    lb_retention_env_t env;
    uv_timer_t timer;
    int busy, stopping, timer_closed, free_requested;
    uint64_t yielding_since; /* loop time the current wait began; 0: none */
};

typedef struct {
    lb_retention_t *owner;
    int64_t now_ms, day_ms;
    lb_archive_sweep_t result;
} step_t;

static void on_tick(uv_timer_t *t);

static void schedule(lb_retention_t *r, uint64_t delay_ms)
{
    if (!r->stopping) uv_timer_start(&r->timer, on_tick, delay_ms, 0);
}

static uint64_t interval(const lb_retention_t *r)
{
    return lb_config_settings(r->env.config)->archive_sweep_interval_ms;
}

static int step_txn(lb_store_t *store, void *arg)
{
    step_t *s = arg;
    return lb_store_archive_sweep(store, s->now_ms, s->day_ms, STEP_ROWS, &s->result);
}

static void step_done(void *data, int rc)
{
    step_t *s = data;
    lb_retention_t *r = s->owner;
    r->busy = 0;
    if (rc == 0) {
        lb_archives_t *archives = lb_engine_archives(r->env.engine);
        for (size_t i = 0; i < s->result.n_changes; i++) {
            const lb_archive_change_t *c = &s->result.changes[i];
            lb_archives_add_counts(archives, c->archive_id, -c->events, -c->bytes, 0);
        }
        if (s->result.deleted)
            lb_logf_debug(r->env.log, "archived events expired or dropped",
                          LB_LOG_UINT("events", s->result.deleted));
    } else {
        lb_logf_warn(r->env.log, "archive retention sweep step failed; will try again",
                     LB_LOG_INT("rc", rc));
    }
    /* More due at once: the next step right after, still behind live work. */
    schedule(r, rc == 0 && s->result.more ? 0 : interval(r));
    lb_archive_sweep_clear(&s->result);
    free(s);
}

static void on_tick(uv_timer_t *t)
{
    lb_retention_t *r = t->data;
    if (r->stopping || r->busy) return;
    uint64_t now = uv_now(r->env.loop);
    if (lb_writer_pending(r->env.writer) > WRITER_BACKLOG) {
        if (!r->yielding_since) r->yielding_since = now;
        if (now - r->yielding_since < MAX_YIELD_MS) {
            schedule(r, RETRY_MS);
            return;
        }
    }
    r->yielding_since = 0;
    step_t *s = lb_xcalloc(1, sizeof *s);
    s->owner = r;
    s->now_ms = lb_now_ms();
    s->day_ms = (int64_t)lb_config_settings(r->env.config)->archive_retention_day_ms;
    r->busy = 1;
    if (lb_writer_submit(r->env.writer, step_txn, s, step_done, s)) {
        r->busy = 0;
        free(s);
    }
}

int lb_retention_start(const lb_retention_env_t *env, lb_retention_t **out)
{
    lb_retention_t *r = lb_xcalloc(1, sizeof *r);
    r->env = *env;
    uv_timer_init(env->loop, &r->timer);
    r->timer.data = r;
    /* A first step soon after start: whatever expired while the daemon was down. */
    schedule(r, 100);
    *out = r;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    lb_retention_t *r = h->data;
    r->timer_closed = 1;
    if (r->free_requested) free(r);
}

void lb_retention_stop(lb_retention_t *r)
{
    if (!r || r->stopping) return;
    r->stopping = 1;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_closed);
}

void lb_retention_free(lb_retention_t **rp)
{
    lb_retention_t *r = *rp;
    if (!r) return;
    *rp = NULL;
    lb_retention_stop(r);
    r->free_requested = 1;
    if (r->timer_closed) free(r);
}

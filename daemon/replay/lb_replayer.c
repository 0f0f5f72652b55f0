/* lb_replayer: replays in the background. See lb_replayer.h. */
#include "lb_replayer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_ingest.h"
#include "lb_replay_store.h"

/* A step waits while the writer has more than this many jobs queued (live requests go first). */
#define WRITER_BACKLOG 0
/* How long to wait before looking again when live work comes first, and after a failure. */
#define BUSY_RETRY_MS 2
#define FAILURE_RETRY_MS 1000
/* Live work first, but not for ever: under traffic that never pauses a replay still takes a
 * batch this often. */
#define MAX_YIELD_MS 100

struct lb_replayer {
    lb_replayer_env_t env;
    uv_timer_t timer;
    int busy;     /* a step is in flight */
    int stopping; /* no new step */
    int timer_closed, free_requested;
    size_t next;             /* round-robin position among the registry's replays */
    uint64_t yielding_since; /* loop time the current wait for live work began; 0: none */
};

/* Which replay a job is for: looked up again when the job comes back, since a replay may have
 * been cancelled or have failed meanwhile. */
typedef struct {
    char region[32];
    char name[80];
} replay_key_t;

typedef struct {
    int64_t seq, time_ms;
    size_t off, len;
} row_t;

typedef struct {
    lb_replayer_t *owner;
    replay_key_t key;
    lb_replay_window_t window;
    int64_t cursor_time_ms, cursor_seq;
    size_t limit;
    int count_only;
    int64_t total;
    row_t *rows;
    size_t n_rows, cap_rows;
    lb_buf_t data; /* the rows' envelopes, back to back */
} read_job_t;

typedef struct {
    lb_replayer_t *owner;
    replay_key_t key;
    lb_ingest_batch_t *batch; /* NULL: a state change only (set_state) */
    lb_replay_progress_t p;   /* the progress to commit (batch) or the new state */
    unsigned from_mask;       /* states the stored replay must be in */
} write_job_t;

static const struct lb_settings *settings(const lb_replayer_t *r)
{
    return lb_config_settings(r->env.config);
}

static lb_replays_t *replays(const lb_replayer_t *r)
{
    return lb_engine_replays(r->env.engine);
}

static void on_tick(uv_timer_t *t);

static void schedule(lb_replayer_t *r, uint64_t delay_ms)
{
    if (r->stopping || r->busy) return;
    uv_timer_start(&r->timer, on_tick, delay_ms, 0);
}

static void on_hook(void *ctx)
{
    schedule(ctx, 0);
}

static replay_key_t key_of(const lb_replay_t *rp)
{
    replay_key_t k;
    snprintf(k.region, sizeof k.region, "%s", rp->region);
    snprintf(k.name, sizeof k.name, "%s", rp->name);
    return k;
}

static lb_replay_t *find(lb_replayer_t *r, const replay_key_t *k)
{
    return lb_replays_find(replays(r), k->region, k->name);
}

/* The next replay with work left, round robin so several replays share the pace. */
static lb_replay_t *next_pending(lb_replayer_t *r)
{
    size_t n = lb_replays_count(replays(r));
    for (size_t i = 0; i < n; i++) {
        lb_replay_t *rp = lb_replays_at(replays(r), (r->next + i) % n);
        if (lb_replay_pending(rp)) {
            r->next = (r->next + i + 1) % n;
            return rp;
        }
    }
    return NULL;
}

/* ---- writes ---- */

static int write_txn(lb_store_t *store, void *arg)
{
    write_job_t *job = arg;
    if (!job->batch)
        return lb_store_replay_set_state(store, job->key.region, job->key.name, job->p.state, NULL,
                                         job->p.replay_end_ms, job->from_mask);
    /* The replayed events' deliveries and the position that says they were sent: one
     * transaction, and only while the replay is still running (a CancelReplay committed first
     * makes this roll back). */
    int rc = lb_ingest_batch_write(store, job->batch);
    if (rc == 0)
        rc = lb_store_replay_update(store, job->key.region, job->key.name, &job->p, job->from_mask);
    return rc;
}

static void log_end(lb_replayer_t *r, const lb_replay_t *rp)
{
    lb_logf_info(r->env.log, "replay ended", LB_LOG_STR("replay", rp->name),
                 LB_LOG_STR("state", lb_replay_state_name(rp->p.state)),
                 LB_LOG_INT("replayed", rp->p.replayed), LB_LOG_STR("reason", rp->p.state_reason));
}

static void write_done(void *data, int rc)
{
    write_job_t *job = data;
    lb_replayer_t *r = job->owner;
    uint64_t next_ms = 0;
    if (rc == 0) {
        if (job->batch) lb_ingest_batch_committed(r->env.engine, job->batch);
        lb_replay_t *rp = find(r, &job->key);
        if (rp) {
            if (job->batch) {
                rp->p = job->p;
            } else {
                rp->p.state = job->p.state;
                rp->p.replay_end_ms = job->p.replay_end_ms;
            }
            if (!lb_replay_pending(rp))
                log_end(r, rp);
            else
                next_ms = settings(r)->replay_interval_ms;
        }
    } else if (rc != LB_ECONFLICT && rc != LB_ENOTFOUND) {
        /* The store refused (disk full, say): the position in memory did not move, so the same
         * batch is read and sent again later. */
        lb_logf_error(r->env.log, "replay step could not be committed; retrying",
                      LB_LOG_STR("replay", job->key.name), LB_LOG_INT("rc", rc));
        next_ms = FAILURE_RETRY_MS;
    }
    lb_ingest_batch_free(&job->batch);
    free(job);
    r->busy = 0;
    schedule(r, next_ms);
}

static void submit_write(lb_replayer_t *r, write_job_t *job)
{
    if (lb_writer_submit(r->env.writer, write_txn, job, write_done, job) == 0) return;
    lb_ingest_batch_free(&job->batch); /* the writer is stopping */
    free(job);
    r->busy = 0;
}

/* A state change without events: CANCELLING -> CANCELLED, or an end with a reason. */
static void write_state(lb_replayer_t *r, const lb_replay_t *rp, lb_replay_state_t state,
                        const char *reason)
{
    write_job_t *job = lb_xcalloc(1, sizeof *job);
    job->owner = r;
    job->key = key_of(rp);
    job->p = rp->p;
    job->p.state = state;
    job->p.replay_end_ms = lb_now_ms();
    job->from_mask = LB_REPLAY_MASK(rp->p.state);
    if (reason) {
        /* An end with a reason goes through the full update, which writes the reason. */
        snprintf(job->p.state_reason, sizeof job->p.state_reason, "%s", reason);
        job->batch = lb_ingest_batch_new();
        job->from_mask = LB_REPLAY_MASK_ACTIVE;
    }
    r->busy = 1;
    submit_write(r, job);
}

/* ---- reads ---- */

static int keep_row(void *ctx, int64_t seq, int64_t time_ms, const char *envelope, size_t len)
{
    read_job_t *job = ctx;
    if (job->n_rows == job->cap_rows) {
        job->cap_rows = job->cap_rows ? 2 * job->cap_rows : 64;
        job->rows = lb_xrealloc(job->rows, job->cap_rows * sizeof *job->rows);
    }
    job->rows[job->n_rows++] = (row_t){seq, time_ms, job->data.len, len};
    lb_buf_append(&job->data, envelope, len);
    return 0;
}

static int read_fn(lb_store_t *store, void *arg)
{
    read_job_t *job = arg;
    if (job->count_only) return lb_store_replay_count(store, &job->window, &job->total);
    return lb_store_replay_read(store, &job->window, job->cursor_time_ms, job->cursor_seq,
                                job->limit, keep_row, job);
}

static void read_job_free(read_job_t *job)
{
    free(job->rows);
    lb_buf_free(&job->data);
    free(job);
}

/* The batch read turned into replayed events and their commit. */
static void send_batch(lb_replayer_t *r, lb_replay_t *rp, read_job_t *job)
{
    lb_ingest_ctx_t ctx = {.region = rp->region,
                           .account = settings(r)->account_id,
                           .now_ms = lb_now_ms(),
                           .origin = {.kind = LB_ORIGIN_REPLAY,
                                      .replay_name = rp->name,
                                      .rule_names = (const char *const *)rp->rule_names,
                                      .n_rule_names = rp->n_filters}};
    if (!rp->n_filters) ctx.origin.rule_names = NULL; /* every rule of the bus */
    write_job_t *w = lb_xcalloc(1, sizeof *w);
    w->owner = r;
    w->key = job->key;
    w->batch = lb_ingest_batch_new();
    w->p = rp->p;
    w->from_mask = LB_REPLAY_MASK_ACTIVE;
    for (size_t i = 0; i < job->n_rows; i++) {
        const row_t *row = &job->rows[i];
        char id[37];
        int rc = lb_ingest_envelope(r->env.engine, &ctx, rp->bus, job->data.data + row->off,
                                    row->len, w->batch, id);
        if (rc == LB_INGEST_ENOBUS) {
            char reason[600];
            snprintf(reason, sizeof reason, "Event bus %.512s does not exist.", rp->bus);
            lb_ingest_batch_free(&w->batch);
            free(w);
            r->busy = 0;
            write_state(r, rp, LB_REPLAY_FAILED, reason);
            return;
        }
        if (rc)
            lb_logf_warn(r->env.log, "archived event could not be replayed; skipped",
                         LB_LOG_STR("replay", rp->name), LB_LOG_INT("seq", row->seq),
                         LB_LOG_INT("rc", rc));
        w->p.cursor_time_ms = row->time_ms;
        w->p.cursor_seq = row->seq;
        w->p.last_replayed_ms = row->time_ms;
        w->p.replayed++;
    }
    w->p.state = LB_REPLAY_RUNNING;
    if (job->n_rows < job->limit) {
        w->p.state = LB_REPLAY_COMPLETED;
        w->p.replay_end_ms = lb_now_ms();
    }
    submit_write(r, w);
}

static void read_done(void *data, int rc)
{
    read_job_t *job = data;
    lb_replayer_t *r = job->owner;
    lb_replay_t *rp = find(r, &job->key);
    r->busy = 0;
    if (r->stopping || !rp || !lb_replay_active(rp)) {
        read_job_free(job);
        schedule(r, 0); /* cancelled or ended meanwhile: look at the others */
        return;
    }
    if (rc) {
        lb_logf_error(r->env.log, "replay read failed; retrying", LB_LOG_STR("replay", rp->name),
                      LB_LOG_INT("rc", rc));
        read_job_free(job);
        schedule(r, FAILURE_RETRY_MS);
        return;
    }
    if (job->count_only) {
        rp->p.total = job->total; /* made durable with the first batch */
        read_job_free(job);
        schedule(r, settings(r)->replay_interval_ms); /* the pause comes before every batch */
        return;
    }
    r->busy = 1;
    send_batch(r, rp, job);
    read_job_free(job);
}

static void submit_read(lb_replayer_t *r, const lb_replay_t *rp, int count_only)
{
    read_job_t *job = lb_xcalloc(1, sizeof *job);
    job->owner = r;
    job->key = key_of(rp);
    job->window = (lb_replay_window_t){.archive_id = rp->archive_id,
                                       .start_ms = rp->event_start_ms,
                                       .end_ms = rp->event_end_ms,
                                       .cap_ms = rp->replay_start_ms};
    job->cursor_time_ms = rp->p.cursor_time_ms;
    job->cursor_seq = rp->p.cursor_seq;
    job->limit = (size_t)settings(r)->replay_batch_size;
    job->count_only = count_only;
    r->busy = 1;
    if (lb_reader_submit(r->env.reader, read_fn, job, read_done, job) == 0) return;
    read_job_free(job);
    r->busy = 0;
}

/* ---- steps ---- */

/* Live work first: no live request being handled, the writer's queue empty, and no delivery
 * due and unsent (the previous batch's deliveries on their way, so a new batch never queues
 * ahead of live deliveries). A step then runs in the gaps of live traffic. */
static int live_work_waiting(lb_replayer_t *r)
{
    if (r->env.live_requests && r->env.live_requests(r->env.live_requests_ctx)) return 1;
    return lb_writer_pending(r->env.writer) > WRITER_BACKLOG ||
           lb_dispatch_due(r->env.dispatch, 1) > 0;
}

static void on_tick(uv_timer_t *t)
{
    lb_replayer_t *r = t->data;
    if (r->stopping || r->busy) return;
    lb_replay_t *rp = next_pending(r);
    if (!rp) return; /* idle until StartReplay wakes us */
    if (rp->p.state == LB_REPLAY_CANCELLING) {
        write_state(r, rp, LB_REPLAY_CANCELLED, NULL);
        return;
    }
    if (rp->p.total < 0) {
        submit_read(r, rp, 1);
        return;
    }
    uint64_t now = uv_now(r->env.loop);
    if (live_work_waiting(r)) {
        if (!r->yielding_since) r->yielding_since = now;
        if (now - r->yielding_since < MAX_YIELD_MS) {
            schedule(r, BUSY_RETRY_MS);
            return;
        }
    }
    r->yielding_since = 0;
    submit_read(r, rp, 0);
}

/* ---- lifecycle ---- */

int lb_replayer_start(const lb_replayer_env_t *env, lb_replayer_t **out)
{
    lb_replayer_t *r = lb_xcalloc(1, sizeof *r);
    r->env = *env;
    uv_timer_init(env->loop, &r->timer);
    r->timer.data = r;
    lb_replays_set_hook(replays(r), on_hook, r);
    size_t pending = 0;
    for (size_t i = 0; i < lb_replays_count(replays(r)); i++)
        pending += lb_replay_pending(lb_replays_at(replays(r), i));
    if (pending) lb_logf_info(env->log, "resuming replays", LB_LOG_UINT("replays", pending));
    schedule(r, 0);
    *out = r;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    lb_replayer_t *r = h->data;
    r->timer_closed = 1;
    if (r->free_requested) free(r);
}

void lb_replayer_stop(lb_replayer_t *r)
{
    if (!r || r->stopping) return;
    r->stopping = 1;
    lb_replays_set_hook(replays(r), NULL, NULL);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

void lb_replayer_free(lb_replayer_t **rp)
{
    lb_replayer_t *r = *rp;
    if (!r) return;
    *rp = NULL;
    lb_replayer_stop(r);
    r->free_requested = 1;
    if (r->timer_closed) free(r);
}

#include "lb_outcomes.h"

#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

/* Delay before writing refused outcomes again: doubles from the first to the last. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000

typedef struct {
    lb_outcome_t *v;
    size_t n, cap;
} list_t;

struct lb_outcomes {
    uv_loop_t *loop;
    lb_writer_t *writer;
    const lb_log_t *log;
    lb_outcome_dead_fn on_dead;
    void *ctx;
    lb_outcome_logged_fn on_logged;
    void *logged_ctx;
    list_t retry;      /* refused by the store, to be written again first */
    list_t waiting;    /* decided since, not yet handed to the writer */
    size_t in_flight;  /* outcomes in jobs the writer has not answered yet */
    size_t jobs;       /* those jobs */
    uint64_t retry_ms; /* 0 while the store takes what it is given */
    uv_timer_t timer;
    int stopping, timer_closed;
};

typedef struct {
    lb_outcomes_t *owner;
    list_t batch;
} job_t;

static void outcome_clear(lb_outcome_t *o)
{
    free(o->error_code);
    free(o->error_message);
    lb_delivery_free(&o->delivery);
    lb_attempt_rec_free(&o->rec);
}

static void list_free(list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        outcome_clear(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Appends o. Outcomes are written in list order, so a delivery's newer outcome, later in the
 * list, is the one that stays. */
static void list_push(list_t *l, lb_outcome_t *o)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = lb_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = *o;
}

static int has_seq(const list_t *l, int64_t seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].seq == seq) return 1;
    return 0;
}

static int job_txn(lb_store_t *store, void *arg)
{
    job_t *j = arg;
    for (size_t i = 0; i < j->batch.n; i++) {
        const lb_outcome_t *o = &j->batch.v[i];
        int rc = 0;
        if (o->kind == LB_OUTCOME_DELIVERED)
            rc = lb_delivery_delete(store, o->seq);
        else if (o->kind == LB_OUTCOME_RESCHEDULED && o->async)
            rc = lb_delivery_reschedule_async(store, o->seq, o->attempts, o->next_ms, &o->fn,
                                              o->error_code, o->error_message);
        else if (o->kind == LB_OUTCOME_RESCHEDULED)
            rc = lb_delivery_reschedule(store, o->seq, o->attempts, o->next_ms, o->error_code,
                                        o->error_message);
        else if (o->async)
            rc = lb_delivery_kill_async(store, o->seq, o->attempts, &o->fn, o->error_code,
                                        o->error_message, o->exhausted, o->now_ms);
        else
            rc = lb_delivery_kill(store, o->seq, o->attempts, o->error_code, o->error_message,
                                  o->exhausted, o->now_ms);
        if (rc == 0 && o->rec) rc = lb_attempt_insert(store, o->rec);
        if (rc) return rc;
    }
    return 0;
}

static void flush(lb_outcomes_t *os);

static void on_timer(uv_timer_t *t)
{
    flush(t->data);
}

static void arm(lb_outcomes_t *os, uint64_t ms)
{
    if (!os->timer_closed && !uv_is_closing((uv_handle_t *)&os->timer))
        uv_timer_start(&os->timer, on_timer, ms, 0);
}

static void maybe_release(lb_outcomes_t *os)
{
    if (os->stopping && os->timer_closed && os->jobs == 0) {
        list_free(&os->retry);
        list_free(&os->waiting);
        free(os);
    }
}

static void job_done(void *data, int rc)
{
    job_t *j = data;
    lb_outcomes_t *os = j->owner;
    os->jobs--;
    os->in_flight -= j->batch.n;
    if (rc == 0) {
        os->retry_ms = 0;
        for (size_t i = 0; i < j->batch.n; i++) {
            if (j->batch.v[i].kind == LB_OUTCOME_DEAD && !os->stopping)
                os->on_dead(os->ctx, &j->batch.v[i]);
            if (j->batch.v[i].rec && os->on_logged && !os->stopping)
                os->on_logged(os->logged_ctx, j->batch.v[i].rec);
        }
        list_free(&j->batch);
    } else {
        os->retry_ms = os->retry_ms ? os->retry_ms * 2 : RETRY_FIRST_MS;
        if (os->retry_ms > RETRY_MAX_MS) os->retry_ms = RETRY_MAX_MS;
        lb_logf_error(os->log, "could not record delivery outcomes; writing them again",
                      LB_LOG_UINT("outcomes", j->batch.n), LB_LOG_UINT("in_ms", os->retry_ms));
        /* Back in line, in the order they were decided, ahead of what was decided since; one
         * that a newer outcome of the same delivery already replaces is dropped. */
        for (size_t i = 0; i < j->batch.n; i++) {
            if (has_seq(&os->waiting, j->batch.v[i].seq))
                outcome_clear(&j->batch.v[i]);
            else
                list_push(&os->retry, &j->batch.v[i]);
        }
        free(j->batch.v);
        if (!os->stopping) arm(os, os->retry_ms);
    }
    free(j);
    maybe_release(os);
}

static void flush(lb_outcomes_t *os)
{
    if (!os->retry.n && !os->waiting.n) return;
    job_t *j = lb_xcalloc(1, sizeof *j);
    j->owner = os;
    j->batch = os->retry;
    for (size_t i = 0; i < os->waiting.n; i++)
        list_push(&j->batch, &os->waiting.v[i]);
    free(os->waiting.v);
    memset(&os->retry, 0, sizeof os->retry);
    memset(&os->waiting, 0, sizeof os->waiting);
    os->jobs++;
    os->in_flight += j->batch.n;
    if (lb_writer_submit(os->writer, job_txn, j, job_done, j)) {
        /* The writer is stopping: these deliveries stay pending in the store. */
        os->jobs--;
        os->in_flight -= j->batch.n;
        list_free(&j->batch);
        free(j);
    }
}

int lb_outcomes_new(uv_loop_t *loop, lb_writer_t *writer, const lb_log_t *log,
                    lb_outcome_dead_fn on_dead, void *ctx, lb_outcomes_t **out)
{
    lb_outcomes_t *os = lb_xcalloc(1, sizeof *os);
    os->loop = loop;
    os->writer = writer;
    os->log = log;
    os->on_dead = on_dead;
    os->ctx = ctx;
    uv_timer_init(loop, &os->timer);
    os->timer.data = os;
    *out = os;
    return 0;
}

void lb_outcomes_add(lb_outcomes_t *os, lb_outcome_t *o)
{
    list_push(&os->waiting, o);
    memset(o, 0, sizeof *o);
    /* One writer job per loop turn; while the store refuses, the retry timer decides. */
    if (!os->retry_ms && !uv_is_active((uv_handle_t *)&os->timer)) arm(os, 0);
}

size_t lb_outcomes_pending(const lb_outcomes_t *os)
{
    return os->retry.n + os->waiting.n + os->in_flight;
}

static void on_timer_closed(uv_handle_t *h)
{
    lb_outcomes_t *os = h->data;
    os->timer_closed = 1;
    maybe_release(os);
}

void lb_outcomes_stop(lb_outcomes_t *os)
{
    if (os->stopping) return;
    os->stopping = 1;
    flush(os);
    list_free(&os->retry);
    list_free(&os->waiting);
    uv_timer_stop(&os->timer);
    uv_close((uv_handle_t *)&os->timer, on_timer_closed);
}

void lb_outcomes_on_logged(lb_outcomes_t *os, lb_outcome_logged_fn fn, void *ctx)
{
    os->on_logged = fn;
    os->logged_ctx = ctx;
}

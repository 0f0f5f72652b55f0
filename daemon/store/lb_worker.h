/* lb_worker: a thread that owns a store connection and runs jobs submitted from the loop thread,
 * the shape both the writer and the reader share. The loop thread queues jobs; the worker thread
 * takes up to max_batch of them at a time and hands the batch to its owner's run function (the
 * writer commits a batch as one transaction; the reader runs them one after another); each job's
 * completion comes back on the loop thread, in submission order.
 *
 * A job may only touch the store it is given and its own arg: it runs on the worker thread while
 * the loop goes on. Completions are never called from inside lb_worker_submit. */
#ifndef LB_WORKER_H
#define LB_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lb_store.h"

typedef struct lb_worker lb_worker_t;

/* Runs on the worker thread; its return value is handed to the completion as rc. */
typedef int (*lb_worker_fn)(lb_store_t *store, void *arg);
/* Runs on the loop thread. */
typedef void (*lb_worker_done_fn)(void *data, int rc);

typedef struct lb_worker_job {
    struct lb_worker_job *next;
    lb_worker_fn fn;
    void *arg;
    lb_worker_done_fn done;
    void *data;
    int rc; /* set by the owner's run */
} lb_worker_job_t;

typedef struct {
    /* Worker thread: run the batch (a list of n jobs), setting every job's rc. */
    void (*run)(void *owner, lb_store_t *store, lb_worker_job_t *batch, size_t n);
    /* Worker thread, may be NULL: called after idle_ms without jobs, and when poked. */
    void (*idle)(void *owner, lb_store_t *store);
    uint64_t idle_ms; /* 0: only when poked */
    /* Loop thread, may be NULL: called before each round of completions is delivered. */
    void (*before_completions)(void *owner);
    size_t max_batch;
} lb_worker_ops_t;

/* Starts the thread. Takes ownership of store (closed when the worker stops), even on failure.
 * ops is copied. */
int lb_worker_start(uv_loop_t *loop, lb_store_t *store, const lb_worker_ops_t *ops, void *owner,
                    lb_worker_t **out);
/* Queues fn(store, arg); done(data, rc) follows on the loop thread. -ESHUTDOWN (and done is never
 * called) when the worker is stopping. */
int lb_worker_submit(lb_worker_t *w, lb_worker_fn fn, void *arg, lb_worker_done_fn done,
                     void *data);
/* Jobs submitted whose completion has not been delivered yet. */
size_t lb_worker_pending(const lb_worker_t *w);
/* Wakes the worker thread to run ops.idle before its next batch. */
void lb_worker_poke(lb_worker_t *w);
/* Wakes the loop thread to run ops.before_completions (from the worker thread). */
void lb_worker_notify(lb_worker_t *w);
/* Runs what is queued, stops the thread, delivers the last completions, closes the store and
 * frees the worker once its handle is closed (run the loop after). */
void lb_worker_stop(lb_worker_t *w);

#endif

#include "lb_worker.h"

#include <errno.h>
#include <stdlib.h>

#include "lb_util.h"

typedef struct {
    lb_worker_job_t *head, *tail;
} job_queue_t;

struct lb_worker {
    uv_loop_t *loop;
    lb_store_t *store; /* worker thread only (and stop, after the join) */
    lb_worker_ops_t ops;
    void *owner;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    uv_async_t async;
    job_queue_t todo; /* guarded by lock */
    job_queue_t done; /* guarded by lock */
    int stopping;     /* guarded by lock */
    int poked;        /* guarded by lock */
    size_t pending;   /* loop thread only */
};

static void queue_append(job_queue_t *q, lb_worker_job_t *head, lb_worker_job_t *tail)
{
    if (!head) return;
    if (q->tail)
        q->tail->next = head;
    else
        q->head = head;
    q->tail = tail;
}

/* Takes up to max jobs off the front of q; their count in *n. */
static lb_worker_job_t *take(job_queue_t *q, size_t max, lb_worker_job_t **tail, size_t *n)
{
    lb_worker_job_t *head = q->head, *t = head;
    *n = 1;
    while (t->next && *n < max) {
        t = t->next;
        (*n)++;
    }
    q->head = t->next;
    if (!q->head) q->tail = NULL;
    t->next = NULL;
    *tail = t;
    return head;
}

static void worker_thread(void *arg)
{
    lb_worker_t *w = arg;
    uv_mutex_lock(&w->lock);
    for (;;) {
        while (!w->todo.head && !w->stopping && !w->poked) {
            int timed_out = w->ops.idle_ms
                                ? uv_cond_timedwait(&w->wake, &w->lock,
                                                    w->ops.idle_ms * 1000 * 1000) == UV_ETIMEDOUT
                                : (uv_cond_wait(&w->wake, &w->lock), 0);
            if (timed_out && !w->todo.head && !w->stopping) w->poked = 1;
        }
        if (w->poked && w->ops.idle) {
            w->poked = 0;
            uv_mutex_unlock(&w->lock);
            w->ops.idle(w->owner, w->store);
            uv_mutex_lock(&w->lock);
            continue;
        }
        w->poked = 0;
        if (!w->todo.head) {
            if (w->stopping) break;
            continue;
        }
        lb_worker_job_t *tail;
        size_t n;
        lb_worker_job_t *batch = take(&w->todo, w->ops.max_batch, &tail, &n);
        uv_mutex_unlock(&w->lock);

        w->ops.run(w->owner, w->store, batch, n);

        uv_mutex_lock(&w->lock);
        queue_append(&w->done, batch, tail);
        uv_async_send(&w->async);
    }
    uv_mutex_unlock(&w->lock);
}

static void deliver_completions(uv_async_t *handle)
{
    lb_worker_t *w = handle->data;
    uv_mutex_lock(&w->lock);
    lb_worker_job_t *j = w->done.head;
    w->done.head = w->done.tail = NULL;
    uv_mutex_unlock(&w->lock);
    if (w->ops.before_completions) w->ops.before_completions(w->owner);
    while (j) {
        lb_worker_job_t *next = j->next;
        w->pending--;
        j->done(j->data, j->rc);
        free(j);
        j = next;
    }
}

static void free_worker(uv_handle_t *handle)
{
    lb_worker_t *w = handle->data;
    uv_cond_destroy(&w->wake);
    uv_mutex_destroy(&w->lock);
    free(w);
}

int lb_worker_start(uv_loop_t *loop, lb_store_t *store, const lb_worker_ops_t *ops, void *owner,
                    lb_worker_t **out)
{
    lb_worker_t *w = lb_xcalloc(1, sizeof *w);
    w->loop = loop;
    w->store = store;
    w->ops = *ops;
    if (!w->ops.max_batch) w->ops.max_batch = 1;
    w->owner = owner;
    int rc;
    if ((rc = uv_mutex_init(&w->lock))) goto fail_mutex;
    if ((rc = uv_cond_init(&w->wake))) goto fail_cond;
    if ((rc = uv_async_init(loop, &w->async, deliver_completions))) goto fail_async;
    w->async.data = w;
    if ((rc = uv_thread_create(&w->thread, worker_thread, w))) {
        lb_store_close(&w->store);
        uv_close((uv_handle_t *)&w->async, free_worker); /* frees w once the loop runs */
        return rc;
    }
    *out = w;
    return 0;
fail_async:
    uv_cond_destroy(&w->wake);
fail_cond:
    uv_mutex_destroy(&w->lock);
fail_mutex:
    lb_store_close(&w->store);
    free(w);
    return rc;
}

int lb_worker_submit(lb_worker_t *w, lb_worker_fn fn, void *arg, lb_worker_done_fn done, void *data)
{
    lb_worker_job_t *j = lb_xcalloc(1, sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->done = done;
    j->data = data;
    uv_mutex_lock(&w->lock);
    if (w->stopping) {
        uv_mutex_unlock(&w->lock);
        free(j);
        return -ESHUTDOWN;
    }
    queue_append(&w->todo, j, j);
    uv_cond_signal(&w->wake);
    uv_mutex_unlock(&w->lock);
    w->pending++;
    return 0;
}

size_t lb_worker_pending(const lb_worker_t *w)
{
    return w->pending;
}

void lb_worker_poke(lb_worker_t *w)
{
    uv_mutex_lock(&w->lock);
    w->poked = 1;
    uv_cond_signal(&w->wake);
    uv_mutex_unlock(&w->lock);
}

void lb_worker_notify(lb_worker_t *w)
{
    uv_async_send(&w->async);
}

void lb_worker_stop(lb_worker_t *w)
{
    uv_mutex_lock(&w->lock);
    w->stopping = 1;
    uv_cond_signal(&w->wake);
    uv_mutex_unlock(&w->lock);
    uv_thread_join(&w->thread);
    deliver_completions(&w->async);
    lb_store_close(&w->store);
    uv_close((uv_handle_t *)&w->async, free_worker);
}

#include "lb_reader.h"

#include <errno.h>
#include <stdlib.h>

#include "lb_util.h"

typedef struct job {
    struct job *next;
    lb_reader_fn fn;
    void *arg;
    lb_reader_done_fn done;
    void *data;
    int rc;
} job_t;

typedef struct {
    job_t *head, *tail;
} job_queue_t;

struct lb_reader {
    uv_loop_t *loop;
    lb_store_t *store; /* reader thread only */
    const lb_log_t *log;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    uv_async_t async;
    job_queue_t todo; /* guarded by lock */
    job_queue_t done; /* guarded by lock */
    int stopping;     /* guarded by lock */
    int reopen;       /* guarded by lock */
    size_t pending;   /* loop thread only */
};

static void queue_push(job_queue_t *q, job_t *j)
{
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static job_t *queue_pop(job_queue_t *q)
{
    job_t *j = q->head;
    if (!j) return NULL;
    q->head = j->next;
    if (!q->head) q->tail = NULL;
    j->next = NULL;
    return j;
}

static void reopen_store(lb_reader_t *r)
{
    int rc = lb_store_reopen(r->store);
    if (rc)
        lb_logf_error(r->log, "reader could not reopen the store; reads use the old file",
                      LB_LOG_STR("error", lb_store_errmsg(r->store)), LB_LOG_INT("rc", rc));
    else
        lb_logf_info(r->log, "reader reopened the store",
                     LB_LOG_STR("path", lb_store_path(r->store)));
}

static void reader_thread(void *arg)
{
    lb_reader_t *r = arg;
    uv_mutex_lock(&r->lock);
    for (;;) {
        while (!r->todo.head && !r->reopen && !r->stopping)
            uv_cond_wait(&r->wake, &r->lock);
        int reopen = r->reopen;
        r->reopen = 0;
        job_t *j = queue_pop(&r->todo);
        if (!j && !reopen) break; /* stopping with nothing left */
        uv_mutex_unlock(&r->lock);

        if (reopen) reopen_store(r);
        if (j) j->rc = j->fn(r->store, j->arg);

        uv_mutex_lock(&r->lock);
        if (j) {
            queue_push(&r->done, j);
            uv_async_send(&r->async);
        }
    }
    uv_mutex_unlock(&r->lock);
}

static void deliver_completions(uv_async_t *handle)
{
    lb_reader_t *r = handle->data;
    uv_mutex_lock(&r->lock);
    job_t *j = r->done.head;
    r->done.head = r->done.tail = NULL;
    uv_mutex_unlock(&r->lock);
    while (j) {
        job_t *next = j->next;
        r->pending--;
        j->done(j->data, j->rc);
        free(j);
        j = next;
    }
}

static void free_reader(uv_handle_t *handle)
{
    lb_reader_t *r = handle->data;
    uv_cond_destroy(&r->wake);
    uv_mutex_destroy(&r->lock);
    free(r);
}

int lb_reader_start(uv_loop_t *loop, lb_store_t *store, const lb_log_t *log, lb_reader_t **out)
{
    lb_reader_t *r = lb_xcalloc(1, sizeof *r);
    r->loop = loop;
    r->store = store;
    r->log = log;
    int rc;
    if ((rc = uv_mutex_init(&r->lock))) goto fail_mutex;
    if ((rc = uv_cond_init(&r->wake))) goto fail_cond;
    if ((rc = uv_async_init(loop, &r->async, deliver_completions))) goto fail_async;
    r->async.data = r;
    if ((rc = uv_thread_create(&r->thread, reader_thread, r))) {
        lb_store_close(&r->store);
        uv_close((uv_handle_t *)&r->async, free_reader); /* frees r once the loop runs */
        return rc;
    }
    *out = r;
    return 0;
fail_async:
    uv_cond_destroy(&r->wake);
fail_cond:
    uv_mutex_destroy(&r->lock);
fail_mutex:
    lb_store_close(&r->store);
    free(r);
    return rc;
}

int lb_reader_submit(lb_reader_t *r, lb_reader_fn fn, void *arg, lb_reader_done_fn done, void *data)
{
    job_t *j = lb_xcalloc(1, sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->done = done;
    j->data = data;
    uv_mutex_lock(&r->lock);
    if (r->stopping) {
        uv_mutex_unlock(&r->lock);
        free(j);
        return -ESHUTDOWN;
    }
    queue_push(&r->todo, j);
    uv_cond_signal(&r->wake);
    uv_mutex_unlock(&r->lock);
    r->pending++;
    return 0;
}

size_t lb_reader_pending(const lb_reader_t *r)
{
    return r->pending;
}

void lb_reader_reopen(lb_reader_t *r)
{
    uv_mutex_lock(&r->lock);
    r->reopen = 1;
    uv_cond_signal(&r->wake);
    uv_mutex_unlock(&r->lock);
}

void lb_reader_stop(lb_reader_t *r)
{
    uv_mutex_lock(&r->lock);
    r->stopping = 1;
    uv_cond_signal(&r->wake);
    uv_mutex_unlock(&r->lock);
    uv_thread_join(&r->thread);
    deliver_completions(&r->async);
    lb_store_close(&r->store);
    uv_close((uv_handle_t *)&r->async, free_reader);
}

#include "lb_writer.h"

#include <errno.h>
#include <stdlib.h>

#include "lb_util.h"

/* Bound one transaction so a flood cannot hold the write lock (and its completions) forever. */
#define MAX_JOBS_PER_COMMIT 4096
/* How often an idle writer checks that its database file is still there. */
#define IDLE_CHECK_NS (1000ull * 1000 * 1000)

typedef struct job {
    struct job *next;
    lb_call_txn_fn txn;
    void *arg;
    lb_writer_done_fn done;
    void *data;
    int rc;
} job_t;

typedef struct {
    job_t *head, *tail;
} job_queue_t;

struct lb_writer {
    uv_loop_t *loop;
    lb_store_t *store;
    const lb_log_t *log;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    uv_async_t async;
    job_queue_t todo; /* guarded by lock */
    job_queue_t done; /* guarded by lock */
    int stopping;     /* guarded by lock */
    int restored;     /* guarded by lock: a restore result waits for the loop thread */
    int restore_rc;   /* guarded by lock */
    int lost;         /* writer thread only: the database is gone for good, refuse jobs */
    lb_writer_restore_fn on_restore; /* loop thread only */
    void *restore_ctx;
    size_t pending;   /* loop thread only */
    uint64_t commits; /* writer thread writes, read racily for stats */
    uint64_t jobs_committed;
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

static void queue_append(job_queue_t *q, job_queue_t *more)
{
    if (!more->head) return;
    if (q->tail)
        q->tail->next = more->head;
    else
        q->head = more->head;
    q->tail = more->tail;
    more->head = more->tail = NULL;
}

/* The database file was deleted (or replaced) behind the writer's back: SQLite goes on working
 * through its open descriptors, so every commit would be acknowledged and then lost at the next
 * start. Write the database as this connection sees it back to its path and go on there.
 * Returns 0 if restored; otherwise the writer refuses every job from now on. Writer thread, no
 * lock held. */
static int restore_database(lb_writer_t *w)
{
    const char *path = lb_store_path(w->store);
    lb_logf_error(w->log, "database file deleted or replaced while running; writing it back",
                  LB_LOG_STR("path", path));
    int rc = lb_store_restore(w->store);
    if (rc == 0) {
        lb_logf_error(w->log,
                      "database file restored from the open connection; nothing "
                      "acknowledged was lost",
                      LB_LOG_STR("path", path));
    } else {
        w->lost = 1;
        lb_logf_error(w->log,
                      "could not restore the deleted database file; refusing writes "
                      "until restart",
                      LB_LOG_STR("path", path), LB_LOG_INT("rc", rc),
                      LB_LOG_STR("error", lb_store_errmsg(w->store)));
    }
    uv_mutex_lock(&w->lock);
    w->restored = 1;
    w->restore_rc = rc ? rc : 0;
    uv_async_send(&w->async);
    uv_mutex_unlock(&w->lock);
    return rc;
}

/* 1 if the database file is no longer at its path. A stat() failure other than "gone" is not
 * taken as deletion. */
static int database_gone(lb_writer_t *w)
{
    return lb_store_file_changed(w->store) > 0;
}

static void run_batch(lb_writer_t *w, job_t *batch)
{
    size_t n = 0, failed = 0;
    char first_error[256] = "";
    if (w->lost) {
        for (job_t *j = batch; j; j = j->next)
            j->rc = LB_ESTORELOST;
        return;
    }
    int rc = lb_store_begin(w->store);
    for (job_t *j = batch; j; j = j->next) {
        n++;
        if (rc) {
            j->rc = LB_ESTORE;
            continue;
        }
        if (lb_store_savepoint(w->store)) {
            j->rc = LB_ESTORE;
            if (failed++ == 0)
                snprintf(first_error, sizeof first_error, "%s", lb_store_errmsg(w->store));
            continue;
        }
        j->rc = j->txn(w->store, j->arg);
        /* A job the store refused (read-only database, disk full, I/O error) is answered with
         * an error even when the batch commits: say why, once per batch. */
        if (j->rc == LB_ESTORE && failed++ == 0)
            snprintf(first_error, sizeof first_error, "%s", lb_store_errmsg(w->store));
        if (j->rc == 0)
            j->rc = lb_store_savepoint_release(w->store);
        else if (lb_store_savepoint_rollback(w->store))
            rc = LB_ESTORE;
    }
    /* Checked before each commit (two stat() calls): the commit still goes to the open file,
     * which the restore then copies back to the path before anyone is answered. */
    int gone = rc == 0 && database_gone(w);
    if (rc == 0) rc = lb_store_commit(w->store);
    if (rc == 0 && gone && restore_database(w)) {
        for (job_t *j = batch; j; j = j->next)
            j->rc = LB_ESTORELOST;
        return;
    }
    if (rc) {
        lb_logf_error(w->log, "store commit failed; requests answered with errors",
                      LB_LOG_UINT("jobs", n), LB_LOG_STR("error", lb_store_errmsg(w->store)));
        lb_store_rollback(w->store);
        for (job_t *j = batch; j; j = j->next)
            j->rc = LB_ESTORE;
    } else {
        if (failed)
            lb_logf_error(w->log, "store refused a write; requests answered with errors",
                          LB_LOG_UINT("jobs", n), LB_LOG_UINT("failed", failed),
                          LB_LOG_STR("error", first_error));
        w->commits++;
        w->jobs_committed += n;
    }
}

static void writer_thread(void *arg)
{
    lb_writer_t *w = arg;
    uv_mutex_lock(&w->lock);
    for (;;) {
        while (!w->todo.head && !w->stopping) {
            /* Idle: look for a deleted database now and then, so it is written back even when
             * nothing is being committed. */
            if (uv_cond_timedwait(&w->wake, &w->lock, IDLE_CHECK_NS) == UV_ETIMEDOUT &&
                !w->todo.head && !w->stopping && !w->lost) {
                uv_mutex_unlock(&w->lock);
                if (database_gone(w)) restore_database(w);
                uv_mutex_lock(&w->lock);
            }
        }
        if (!w->todo.head && w->stopping) break;
        /* Take up to MAX_JOBS_PER_COMMIT jobs. */
        job_queue_t batch = {w->todo.head, w->todo.head};
        size_t n = 1;
        while (batch.tail->next && n < MAX_JOBS_PER_COMMIT) {
            batch.tail = batch.tail->next;
            n++;
        }
        w->todo.head = batch.tail->next;
        if (!w->todo.head) w->todo.tail = NULL;
        batch.tail->next = NULL;
        uv_mutex_unlock(&w->lock);

        run_batch(w, batch.head);

        uv_mutex_lock(&w->lock);
        queue_append(&w->done, &batch);
        uv_async_send(&w->async);
    }
    uv_mutex_unlock(&w->lock);
}

static void deliver_completions(uv_async_t *handle)
{
    lb_writer_t *w = handle->data;
    uv_mutex_lock(&w->lock);
    job_t *j = w->done.head;
    w->done.head = w->done.tail = NULL;
    int restored = w->restored, restore_rc = w->restore_rc;
    w->restored = 0;
    uv_mutex_unlock(&w->lock);
    if (restored && w->on_restore) w->on_restore(w->restore_ctx, restore_rc);
    while (j) {
        job_t *next = j->next;
        w->pending--;
        j->done(j->data, j->rc);
        free(j);
        j = next;
    }
}

int lb_writer_start(uv_loop_t *loop, lb_store_t *store, const lb_log_t *log, lb_writer_t **out)
{
    lb_writer_t *w = lb_xcalloc(1, sizeof *w);
    w->loop = loop;
    w->store = store;
    w->log = log;
    int rc;
    if ((rc = uv_mutex_init(&w->lock))) goto fail_mutex;
    if ((rc = uv_cond_init(&w->wake))) goto fail_cond;
    if ((rc = uv_async_init(loop, &w->async, deliver_completions))) goto fail_async;
    w->async.data = w;
    if ((rc = uv_thread_create(&w->thread, writer_thread, w))) {
        uv_close((uv_handle_t *)&w->async, NULL);
        goto fail_async;
    }
    *out = w;
    return 0;
fail_async:
    uv_cond_destroy(&w->wake);
fail_cond:
    uv_mutex_destroy(&w->lock);
fail_mutex:
    free(w);
    return rc;
}

int lb_writer_submit(lb_writer_t *w, lb_call_txn_fn txn, void *arg, lb_writer_done_fn done,
                     void *data)
{
    job_t *j = lb_xcalloc(1, sizeof *j);
    j->txn = txn;
    j->arg = arg;
    j->done = done;
    j->data = data;
    uv_mutex_lock(&w->lock);
    if (w->stopping) {
        uv_mutex_unlock(&w->lock);
        free(j);
        return -ESHUTDOWN;
    }
    queue_push(&w->todo, j);
    uv_cond_signal(&w->wake);
    uv_mutex_unlock(&w->lock);
    w->pending++;
    return 0;
}

size_t lb_writer_pending(const lb_writer_t *w)
{
    return w->pending;
}

void lb_writer_stats(const lb_writer_t *w, uint64_t *commits, uint64_t *jobs)
{
    *commits = w->commits;
    *jobs = w->jobs_committed;
}

static void free_writer(uv_handle_t *handle)
{
    lb_writer_t *w = handle->data;
    uv_cond_destroy(&w->wake);
    uv_mutex_destroy(&w->lock);
    free(w);
}

void lb_writer_stop(lb_writer_t *w)
{
    uv_mutex_lock(&w->lock);
    w->stopping = 1;
    uv_cond_signal(&w->wake);
    uv_mutex_unlock(&w->lock);
    uv_thread_join(&w->thread);
    deliver_completions(&w->async);
    lb_store_close(&w->store);
    uv_close((uv_handle_t *)&w->async, free_writer);
}

void lb_writer_on_restore(lb_writer_t *w, lb_writer_restore_fn fn, void *ctx)
{
    w->on_restore = fn;
    w->restore_ctx = ctx;
}

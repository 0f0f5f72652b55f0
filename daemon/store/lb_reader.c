#include "lb_reader.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "lb_util.h"
#include "lb_worker.h"

struct lb_reader {
    lb_worker_t *worker;
    const lb_log_t *log;
    atomic_int reopen; /* set on the loop thread, taken on the reader thread */
};

/* Before the next read: the database file was restored to its path, and this connection still
 * reads the deleted one. */
static void reopen_if_asked(void *owner, lb_store_t *store)
{
    lb_reader_t *r = owner;
    if (!atomic_exchange(&r->reopen, 0)) return;
    int rc = lb_store_reopen(store);
    if (rc)
        lb_logf_error(r->log, "reader could not reopen the store; reads use the old file",
                      LB_LOG_STR("error", lb_store_errmsg(store)), LB_LOG_INT("rc", rc));
    else
        lb_logf_info(r->log, "reader reopened the store", LB_LOG_STR("path", lb_store_path(store)));
}

/* One job after the other, each on its own: a listing is one job. */
static void run_jobs(void *owner, lb_store_t *store, lb_worker_job_t *batch, size_t n)
{
    (void)n;
    reopen_if_asked(owner, store);
    for (lb_worker_job_t *j = batch; j; j = j->next)
        j->rc = j->fn(store, j->arg);
}

int lb_reader_start(uv_loop_t *loop, lb_store_t *store, const lb_log_t *log, lb_reader_t **out)
{
    lb_reader_t *r = lb_xcalloc(1, sizeof *r);
    r->log = log;
    lb_worker_ops_t ops = {.run = run_jobs, .idle = reopen_if_asked, .max_batch = 1};
    int rc = lb_worker_start(loop, store, &ops, r, &r->worker);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int lb_reader_submit(lb_reader_t *r, lb_reader_fn fn, void *arg, lb_reader_done_fn done, void *data)
{
    return lb_worker_submit(r->worker, fn, arg, done, data);
}

size_t lb_reader_pending(const lb_reader_t *r)
{
    return lb_worker_pending(r->worker);
}

void lb_reader_reopen(lb_reader_t *r)
{
    atomic_store(&r->reopen, 1);
    lb_worker_poke(r->worker);
}

void lb_reader_stop(lb_reader_t *r)
{
    lb_worker_stop(r->worker);
    free(r);
}

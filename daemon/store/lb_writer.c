#include "lb_writer.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "lb_util.h"
#include "lb_worker.h"

/* Bound one transaction so a flood cannot hold the write lock (and its completions) forever. */
#define MAX_JOBS_PER_COMMIT 4096
/* How often the writer checks that its database file is still there when nothing told it to
 * (lb_writer_check_files): idle, and before a commit. */
#define IDLE_CHECK_MS 1000
#define PERIODIC_CHECK_NS (1000ull * 1000 * 1000)

struct lb_writer {
    lb_worker_t *worker;
    const lb_log_t *log;
    /* A restore's result waiting for the loop thread: written by the writer thread, read and
     * cleared by the loop thread. */
    atomic_int restored, restore_rc;
    int lost;               /* writer thread only: the database is gone for good, refuse jobs */
    atomic_int suspect;     /* a database file went from the directory: check before committing */
    uint64_t next_check_ns; /* writer thread only: the periodic check's next time */
    lb_writer_restore_fn on_restore; /* loop thread only */
    void *restore_ctx;
    /* Written by the writer thread, read by the loop thread for metrics. */
    atomic_uint_least64_t commits, jobs_committed;
};

/* The database file was deleted (or replaced) behind the writer's back: SQLite goes on working
 * through its open descriptors, so every commit would be acknowledged and then lost at the next
 * start. Write the database as this connection sees it back to its path and go on there.
 * Returns 0 if restored; otherwise the writer refuses every job from now on. Writer thread, no
 * lock held. */
static int restore_database(lb_writer_t *w, lb_store_t *store)
{
    const char *path = lb_store_path(store);
    lb_logf_error(w->log, "database file deleted or replaced while running; writing it back",
                  LB_LOG_STR("path", path));
    int rc = lb_store_restore(store);
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
                      LB_LOG_STR("error", lb_store_errmsg(store)));
    }
    atomic_store(&w->restore_rc, rc);
    atomic_store(&w->restored, 1);
    lb_worker_notify(w->worker);
    return rc;
}

/* 1 if the database file is no longer at its path. A stat() failure other than "gone" is not
 * taken as deletion. */
static int database_gone(lb_store_t *store)
{
    return lb_store_file_changed(store) > 0;
}

static void run_batch(void *owner, lb_store_t *store, lb_worker_job_t *batch, size_t n_jobs)
{
    lb_writer_t *w = owner;
    (void)n_jobs;
    size_t n = 0, failed = 0;
    char first_error[256] = "";
    if (w->lost) {
        for (lb_worker_job_t *j = batch; j; j = j->next)
            j->rc = LB_ESTORELOST;
        return;
    }
    int rc = lb_store_begin(store);
    for (lb_worker_job_t *j = batch; j; j = j->next) {
        n++;
        if (rc) {
            j->rc = LB_ESTORE;
            continue;
        }
        if (lb_store_savepoint(store)) {
            j->rc = LB_ESTORE;
            if (failed++ == 0)
                snprintf(first_error, sizeof first_error, "%s", lb_store_errmsg(store));
            continue;
        }
        j->rc = j->fn(store, j->arg);
        /* A job the store refused (read-only database, disk full, I/O error) is answered with
         * an error even when the batch commits: say why, once per batch. */
        if (j->rc == LB_ESTORE && failed++ == 0)
            snprintf(first_error, sizeof first_error, "%s", lb_store_errmsg(store));
        if (j->rc == 0)
            j->rc = lb_store_savepoint_release(store);
        else if (lb_store_savepoint_rollback(store))
            rc = LB_ESTORE;
    }
    /* Checked before a commit when the directory watch saw a database file go, and once a
     * second anyway: the commit still goes to the open file, which the restore then copies back
     * to the path before anyone is answered. */
    int check = atomic_exchange(&w->suspect, 0) || uv_hrtime() >= w->next_check_ns;
    if (check) w->next_check_ns = uv_hrtime() + PERIODIC_CHECK_NS;
    int gone = rc == 0 && check && database_gone(store);
    if (rc == 0) rc = lb_store_commit(store);
    if (rc == 0 && gone && restore_database(w, store)) {
        for (lb_worker_job_t *j = batch; j; j = j->next)
            j->rc = LB_ESTORELOST;
        return;
    }
    if (rc) {
        lb_logf_error(w->log, "store commit failed; requests answered with errors",
                      LB_LOG_UINT("jobs", n), LB_LOG_STR("error", lb_store_errmsg(store)));
        lb_store_rollback(store);
        for (lb_worker_job_t *j = batch; j; j = j->next)
            j->rc = LB_ESTORE;
    } else {
        if (failed)
            lb_logf_error(w->log, "store refused a write; requests answered with errors",
                          LB_LOG_UINT("jobs", n), LB_LOG_UINT("failed", failed),
                          LB_LOG_STR("error", first_error));
        atomic_fetch_add_explicit(&w->commits, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->jobs_committed, n, memory_order_relaxed);
    }
}

/* Idle: look for a deleted database now and then, so it is written back even when nothing is
 * being committed. */
static void idle_check(void *owner, lb_store_t *store)
{
    lb_writer_t *w = owner;
    if (!w->lost && database_gone(store)) restore_database(w, store);
}

/* Loop thread: a restore's result first, so read-only connections move before anyone hears
 * about the commits that followed it. */
static void report_restore(void *owner)
{
    lb_writer_t *w = owner;
    if (atomic_exchange(&w->restored, 0) && w->on_restore)
        w->on_restore(w->restore_ctx, atomic_load(&w->restore_rc));
}

int lb_writer_start(uv_loop_t *loop, lb_store_t *store, const lb_log_t *log, lb_writer_t **out)
{
    lb_writer_t *w = lb_xcalloc(1, sizeof *w);
    w->log = log;
    lb_worker_ops_t ops = {.run = run_batch,
                           .idle = idle_check,
                           .idle_ms = IDLE_CHECK_MS,
                           .before_completions = report_restore,
                           .max_batch = MAX_JOBS_PER_COMMIT};
    int rc = lb_worker_start(loop, store, &ops, w, &w->worker);
    if (rc) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int lb_writer_submit(lb_writer_t *w, lb_call_txn_fn txn, void *arg, lb_writer_done_fn done,
                     void *data)
{
    return lb_worker_submit(w->worker, txn, arg, done, data);
}

size_t lb_writer_pending(const lb_writer_t *w)
{
    return lb_worker_pending(w->worker);
}

void lb_writer_stats(const lb_writer_t *w, uint64_t *commits, uint64_t *jobs)
{
    *commits = atomic_load_explicit(&w->commits, memory_order_relaxed);
    *jobs = atomic_load_explicit(&w->jobs_committed, memory_order_relaxed);
}

void lb_writer_stop(lb_writer_t *w)
{
    lb_worker_stop(w->worker);
    free(w);
}

void lb_writer_check_files(lb_writer_t *w)
{
    atomic_store(&w->suspect, 1);
    lb_worker_poke(w->worker);
}

void lb_writer_on_restore(lb_writer_t *w, lb_writer_restore_fn fn, void *ctx)
{
    w->on_restore = fn;
    w->restore_ctx = ctx;
}

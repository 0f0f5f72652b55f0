/* The single writer: a dedicated thread owning the read-write store connection. Jobs submitted
 * from the loop thread queue up; the thread takes everything queued, runs each job inside its own
 * savepoint of one transaction, and commits once (group commit: one fsync serves every request
 * that arrived while the previous commit was running). Completions come back on the loop thread,
 * in submission order, only after the commit is durable. */
#ifndef LB_WRITER_H
#define LB_WRITER_H

#include <uv.h>

#include "lb_call.h"
#include "lb_log.h"
#include "lb_store.h"

typedef struct lb_writer lb_writer_t;

/* Called on the loop thread: rc is the job's own result, or LB_ESTORE if the commit failed. */
typedef void (*lb_writer_done_fn)(void *data, int rc);

/* Takes ownership of store (closed when the writer stops). */
int lb_writer_start(uv_loop_t *loop, lb_store_t *store, const lb_log_t *log, lb_writer_t **out);
/* Queues txn(store, arg); done(data, rc) follows on the loop thread. Fails only when stopping. */
int lb_writer_submit(lb_writer_t *w, lb_call_txn_fn txn, void *arg, lb_writer_done_fn done,
                     void *data);
/* Jobs queued but not yet completed. */
size_t lb_writer_pending(const lb_writer_t *w);
/* Commits what is queued, stops the thread, delivers the last completions, closes the store and
 * frees the writer once its handle is closed. */
void lb_writer_stop(lb_writer_t *w);
/* The database file deleted (or replaced) while running is noticed before the next commit once
 * lb_writer_check_files says so, and within a second otherwise; the writer then writes the database
 * back to its path from its open connection (lb_store_restore) and goes on. fn(ctx, rc) follows on
 * the loop thread: rc 0 when restored (read-only connections should reopen), negative when
 * restoring failed, after which every job is answered LB_ESTORELOST. */
typedef void (*lb_writer_restore_fn)(void *ctx, int rc);
/* A database file went from its directory (the loop's directory watch saw it): check before the
 * next commit, or now if idle. Without such a notice the check runs once a second. */
void lb_writer_check_files(lb_writer_t *w);
void lb_writer_on_restore(lb_writer_t *w, lb_writer_restore_fn fn, void *ctx);
/* Commits so far and jobs they carried (for metrics and logs). */
void lb_writer_stats(const lb_writer_t *w, uint64_t *commits, uint64_t *jobs);

#endif

/* The reader: a dedicated thread owning a read-only store connection, so the loop thread never
 * waits on SQLite to answer a listing. Jobs submitted from the loop thread run one at a time, in
 * submission order; each job's completion comes back on the loop thread, in the same order.
 *
 * A job may only read through the store it is given and touch its own arg: it runs on the
 * reader thread while the loop goes on. The writer's lb_writer_t has the same shape. */
#ifndef LB_READER_H
#define LB_READER_H

#include <stddef.h>
#include <uv.h>

#include "lb_log.h"
#include "lb_store.h"

typedef struct lb_reader lb_reader_t;

/* Runs on the reader thread; its return value is handed to the completion. */
typedef int (*lb_reader_fn)(lb_store_t *store, void *arg);
/* Called on the loop thread with the job's result. */
typedef void (*lb_reader_done_fn)(void *data, int rc);

/* Starts the thread. Takes ownership of store (closed when the reader stops), even on failure. */
int lb_reader_start(uv_loop_t *loop, lb_store_t *store, const lb_log_t *log, lb_reader_t **out);
/* Queues fn(store, arg); done(data, rc) follows on the loop thread. Fails (and done is never
 * called) only when the reader is stopping: -ESHUTDOWN. */
int lb_reader_submit(lb_reader_t *r, lb_reader_fn fn, void *arg, lb_reader_done_fn done,
                     void *data);
/* Jobs queued or running whose completion has not been delivered yet. */
size_t lb_reader_pending(const lb_reader_t *r);
/* Asks the thread to close its connection and open it again on the same path before the next
 * job: after the database file was restored to its path (see lb_store_restore). */
void lb_reader_reopen(lb_reader_t *r);
/* Runs what is queued, stops the thread, delivers the last completions, closes the store and
 * frees the reader once its handle is closed. */
void lb_reader_stop(lb_reader_t *r);

#endif

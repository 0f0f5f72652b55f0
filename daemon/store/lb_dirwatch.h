/* lb_dirwatch: tells the loop when a file of the data directory whose name starts with a given
 * prefix is deleted or renamed away, or the directory itself goes (Linux inotify, on the loop).
 * The writer checks its database file only when told so, or once a second: checking before
 * every commit (two stat() calls in the commit's critical path) cost 7% of ingest at low
 * concurrency. Where no notice can come (inotify unavailable), the periodic check remains. */
#ifndef LB_DIRWATCH_H
#define LB_DIRWATCH_H

#include <uv.h>

typedef struct lb_dirwatch lb_dirwatch_t;

typedef void (*lb_dirwatch_fn)(void *ctx);

/* 0, or a negative errno when the directory cannot be watched (the caller goes on without). */
int lb_dirwatch_start(uv_loop_t *loop, const char *dir, const char *prefix, lb_dirwatch_fn fn,
                      void *ctx, lb_dirwatch_t **out);
/* Stops watching; the memory goes once libuv has closed the handle. */
void lb_dirwatch_stop(lb_dirwatch_t **w);

#endif

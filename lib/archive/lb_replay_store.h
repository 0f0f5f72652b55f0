/* Replays in the store: their definitions and durable progress (written on the writer thread),
 * and the reads of a replay's window of archived events (run on the reader thread). Every
 * function runs on the thread that owns the store it is given. */
#ifndef LB_REPLAY_STORE_H
#define LB_REPLAY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lb_replay.h"
#include "lb_store.h"

/* LB_EEXISTS if a replay of that name exists in the region. */
int lb_store_replay_insert(lb_store_t *s, const lb_replay_t *r);
/* Writes p as the replay's state and position, but only while its stored state is one of
 * from_mask (LB_REPLAY_MASK bits): LB_ECONFLICT when it is not (cancelled or ended meanwhile, so
 * the caller's transaction must not go on as if it were running), LB_ENOTFOUND if absent. */
int lb_store_replay_update(lb_store_t *s, const char *region, const char *name,
                           const lb_replay_progress_t *p, unsigned from_mask);
/* Sets only the state, its reason (NULL: none) and the end time (0: none), while the stored
 * state is one of from_mask; LB_ECONFLICT / LB_ENOTFOUND as lb_store_replay_update. The position
 * stays: only the replayer writes it. */
int lb_store_replay_set_state(lb_store_t *s, const char *region, const char *name,
                              lb_replay_state_t state, const char *reason, int64_t end_ms,
                              unsigned from_mask);
/* The archive was deleted: its pending replays end as lb_replay_end_for_archive says. */
int lb_store_replays_archive_gone(lb_store_t *s, int64_t archive_id, const char *reason,
                                  int64_t now_ms);
/* Loads every replay; rows that cannot be read back are skipped and counted in *skipped. */
int lb_replays_load(lb_replays_t *r, lb_store_t *s, size_t *skipped);

/* A replay's window, copied out of the replay so the reader thread never touches it. */
typedef struct {
    int64_t archive_id;
    int64_t start_ms, end_ms; /* event time: start <= t < end */
    int64_t cap_ms;           /* archived at or before this (the replay's start) */
} lb_replay_window_t;

/* Archived events in the window. */
int lb_store_replay_count(lb_store_t *s, const lb_replay_window_t *w, int64_t *n);

/* Called for each archived event read, in (event time, seq) order; a non-zero return stops the
 * read and is returned. envelope is valid during the call only. */
typedef int (*lb_replay_row_fn)(void *ctx, int64_t seq, int64_t event_time_ms, const char *envelope,
                                size_t len);
/* The next at most limit archived events of the window after position (cursor_time_ms,
 * cursor_seq), each through fn. Two index seeks, whatever the window's size or how many events
 * share one second. */
int lb_store_replay_read(lb_store_t *s, const lb_replay_window_t *w, int64_t cursor_time_ms,
                         int64_t cursor_seq, size_t limit, lb_replay_row_fn fn, void *ctx);

#endif

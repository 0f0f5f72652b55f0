/* The replayer: runs replays in the background on the loop thread, driven by a uv timer. A step
 * of a replay reads its next batch of archived events on the reader thread, puts them through
 * the ingest road (origin REPLAY: id and time kept, "replay-name" added, only the FilterArns
 * rules) on the loop thread, and commits their deliveries together with the replay's new
 * position on the writer thread: after kill -9 a replay resumes from its last commit, and every
 * event of its window is delivered at least once.
 *
 * Pacing: one step in flight at a time, at most replay_batch_size events per step (so per loop
 * turn), replay_interval before each step, and a step starts only in a gap of live traffic (no
 * API request being handled, the writer idle, no delivery due), so live traffic keeps its
 * latency; under traffic without gaps, a step still starts after 100 ms of waiting. A cancelled
 * replay stops before its next step: within one step, well under a second.
 *
 * Ownership: the replayer reads the engine's replay registry and writes each replay's progress
 * into it after commits; it owns its timer and its jobs in flight. */
#ifndef LB_REPLAYER_H
#define LB_REPLAYER_H

#include <uv.h>

#include "lb_config.h"
#include "lb_dispatch.h"
#include "lb_engine.h"
#include "lb_log.h"
#include "lb_reader.h"
#include "lb_writer.h"

typedef struct lb_replayer lb_replayer_t;

typedef struct {
    uv_loop_t *loop;
    const lb_config_t *config;
    lb_engine_t *engine;
    lb_writer_t *writer;
    lb_reader_t *reader;
    lb_dispatch_t *dispatch; /* how much delivery is behind */
    const lb_log_t *log;
    /* May be NULL: 1 while live requests are being handled, so a step waits for them. */
    int (*live_requests)(void *ctx);
    void *live_requests_ctx;
} lb_replayer_env_t;

/* Starts, resuming the replays the store left pending (STARTING, RUNNING, CANCELLING), and
 * hooks itself to the registry so StartReplay and CancelReplay wake it. */
int lb_replayer_start(const lb_replayer_env_t *env, lb_replayer_t **out);
/* No new step; the one in flight completes when the writer or reader delivers it. */
void lb_replayer_stop(lb_replayer_t *r);
/* After the writer and the reader stopped (every completion delivered). */
void lb_replayer_free(lb_replayer_t **r);

#endif

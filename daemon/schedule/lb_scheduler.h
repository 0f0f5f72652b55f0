/* lb_scheduler: fires scheduled rules on time. Every enabled rule with a ScheduleExpression has
 * one entry in a min-heap keyed by its next firing time; one libuv timer, set to the earliest, is
 * all the scheduler costs however many rules there are. The engine's rule hook keeps the heap in
 * step: PutRule, EnableRule, DisableRule and DeleteRule take effect as soon as they commit.
 *
 * A firing is the event AWS sends (lb_ingest_schedule) for the scheduled minute, sent down the
 * ingest road to that rule's targets alone, and written by the writer in one transaction with the
 * rule's last fired minute (lb_store_rule_fired): a firing is stored whole or not at all, and a
 * minute recorded already is never fired again, across restarts and kill -9 included.
 *
 * Missed minutes are not back-filled, as in AWS: a firing still happens late within its own
 * minute (AWS promises no more than the minute), so a daemon starting at 12:00:30 fires its
 * 12:00 rules (unless they fired before it stopped); minutes before the current one are skipped,
 * after a stop or a stalled loop alike. A rule put, enabled or re-scheduled while running fires
 * from its next firing time after that moment. */
#ifndef LB_SCHEDULER_H
#define LB_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lb_config.h"
#include "lb_engine.h"
#include "lb_log.h"
#include "lb_writer.h"

typedef struct lb_scheduler lb_scheduler_t;

typedef struct {
    uv_loop_t *loop;
    const lb_config_t *config; /* the account in the events */
    lb_engine_t *engine;       /* its rules; the scheduler sets their hook */
    lb_writer_t *writer;
    const lb_log_t *log;
    /* The wall clock in epoch milliseconds; NULL is lb_now_ms (tests move time). */
    int64_t (*now)(void *ctx);
    void *now_ctx;
} lb_scheduler_env_t;

/* Schedules every enabled scheduled rule of the engine (loaded from the store) and follows rule
 * changes from then on. */
int lb_scheduler_start(const lb_scheduler_env_t *env, lb_scheduler_t **out);
/* Rules scheduled now, and the earliest next firing (-1 when none). */
size_t lb_scheduler_count(const lb_scheduler_t *s);
int64_t lb_scheduler_next_ms(const lb_scheduler_t *s);
/* No more firings; firings being committed still complete through the writer. */
void lb_scheduler_stop(lb_scheduler_t *s);
/* Frees once its timer has closed and its firings have completed: call it after the writer has
 * stopped (which completes them) and let the loop run. */
void lb_scheduler_free(lb_scheduler_t **s);

#endif

/* The retention sweep: removes archived events older than their archive's RetentionDays, and the
 * events of deleted archives, in small steps on the writer thread (at most a few hundred rows a
 * step, each step one writer job that waits while live requests are queued), so it never stalls
 * ingest however much has expired. Runs every archive_sweep_interval, and step after step while
 * a step finds more. EventCount and SizeBytes go down in the same transaction as the rows. */
#ifndef LB_RETENTION_H
#define LB_RETENTION_H

#include <uv.h>

#include "lb_config.h"
#include "lb_engine.h"
#include "lb_log.h"
#include "lb_writer.h"

typedef struct lb_retention lb_retention_t;

typedef struct {
    uv_loop_t *loop;
    const lb_config_t *config;
    lb_engine_t *engine;
    lb_writer_t *writer;
    const lb_log_t *log;
} lb_retention_env_t;

int lb_retention_start(const lb_retention_env_t *env, lb_retention_t **out);
/* No new step; a step in flight completes when the writer delivers it. */
void lb_retention_stop(lb_retention_t *r);
/* After the writer stopped. */
void lb_retention_free(lb_retention_t **r);

#endif

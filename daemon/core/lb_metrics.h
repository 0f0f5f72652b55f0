/* Counters named after EventBridge's CloudWatch metrics, per bus and rule, and a histogram of
 * ingestion-to-invocation latency, rendered in Prometheus text format for GET /metrics. Loop
 * thread only. */
#ifndef LB_METRICS_H
#define LB_METRICS_H

#include <stdint.h>

#include "lb_engine.h"
#include "lb_util.h"

typedef struct lb_metrics lb_metrics_t;

typedef enum {
    LB_M_INVOCATIONS,             /* target invocations that succeeded or failed for good */
    LB_M_FAILED_INVOCATIONS,      /* invocations that failed permanently (retries exhausted too) */
    LB_M_TRIGGERED_RULES,         /* (event, rule) matches */
    LB_M_DEAD_LETTER_INVOCATIONS, /* deliveries moved to the dead-letter store */
    LB_M_RETRY_INVOCATION_ATTEMPTS, /* retries scheduled */
    LB_M_THROTTLED_RULES,           /* sends held back by an API destination's rate limit */
    LB_M_RULE_COUNTERS
} lb_rule_metric_t;

int lb_metrics_new(lb_metrics_t **out);
void lb_metrics_free(lb_metrics_t **m);
/* Per-rule counter. */
void lb_metrics_rule_add(lb_metrics_t *m, const char *region, const char *bus, const char *rule,
                         lb_rule_metric_t which, uint64_t n);
/* Per bus: events that matched at least one rule. */
void lb_metrics_bus_matched(lb_metrics_t *m, const char *region, const char *bus, uint64_t matched);
void lb_metrics_latency(lb_metrics_t *m, double seconds);
/* Every counter summed over all rules, and MatchedEvents over all buses (since start). */
void lb_metrics_totals(const lb_metrics_t *m, uint64_t out[LB_M_RULE_COUNTERS], uint64_t *matched);
/* Renders everything, plus the gauges given, in Prometheus text format. */
void lb_metrics_render(const lb_metrics_t *m, lb_buf_t *out, uint64_t pending_deliveries,
                       uint64_t inflight_deliveries, uint64_t commits, uint64_t committed_jobs);

/* Archives and replays, from the engine's registries: events archived since start, EventCount and
 * SizeBytes per archive; per replay its state, events replayed and events in its window. */
void lb_metrics_render_archives(lb_buf_t *out, lb_engine_t *engine);

#endif

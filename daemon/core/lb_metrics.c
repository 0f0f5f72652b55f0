#include "lb_metrics.h"

#include <stdlib.h>
#include <string.h>

static const char *const rule_metric_names[LB_M_RULE_COUNTERS] = {
    "localbridge_invocations_total",
    "localbridge_failed_invocations_total",
    "localbridge_triggered_rules_total",
    "localbridge_dead_letter_invocations_total",
    "localbridge_retry_invocation_attempts_total",
    "localbridge_throttled_rules_total",
};

static const char *const rule_metric_help[LB_M_RULE_COUNTERS] = {
    "Invocations: target invocations (EventBridge's Invocations metric)",
    "FailedInvocations: invocations that failed permanently",
    "TriggeredRules: rules that matched an event",
    "DeadLetterInvocations: deliveries moved to the dead-letter store",
    "RetryInvocationAttempts: retries of failed invocations",
    "ThrottledRules: sends delayed by an API destination's invocation rate limit",
};

/* Latency buckets in seconds, as Prometheus cumulative "le" bounds. */
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5,   1,      2.5,   5,    10,    30,   60,  300};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

typedef struct {
    char *region, *bus, *rule; /* rule NULL for bus series */
    uint64_t counters[LB_M_RULE_COUNTERS];
    uint64_t matched;
} series_t;

struct lb_metrics {
    series_t *series;
    size_t n, cap;
    uint64_t latency_counts[N_BUCKETS + 1];
    double latency_sum;
    uint64_t latency_count;
};

int lb_metrics_new(lb_metrics_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    return 0;
}

void lb_metrics_free(lb_metrics_t **mp)
{
    lb_metrics_t *m = *mp;
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->series[i].region);
        free(m->series[i].bus);
        free(m->series[i].rule);
    }
    free(m->series);
    free(m);
    *mp = NULL;
}

/* Linear search: the number of series is the number of rules, and updates happen per delivery
 * outcome, not per request byte. */
static series_t *find(lb_metrics_t *m, const char *region, const char *bus, const char *rule)
{
    for (size_t i = 0; i < m->n; i++) {
        series_t *s = &m->series[i];
        if (strcmp(s->region, region) == 0 && strcmp(s->bus, bus) == 0 &&
            ((!rule && !s->rule) || (rule && s->rule && strcmp(s->rule, rule) == 0)))
            return s;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 32;
        m->series = lb_xrealloc(m->series, m->cap * sizeof *m->series);
    }
    series_t *s = &m->series[m->n++];
    memset(s, 0, sizeof *s);
    s->region = lb_strdup(region);
    s->bus = lb_strdup(bus);
    s->rule = lb_strdup(rule);
    return s;
}

void lb_metrics_rule_add(lb_metrics_t *m, const char *region, const char *bus, const char *rule,
                         lb_rule_metric_t which, uint64_t n)
{
    find(m, region, bus, rule)->counters[which] += n;
}

void lb_metrics_bus_matched(lb_metrics_t *m, const char *region, const char *bus, uint64_t matched)
{
    find(m, region, bus, NULL)->matched += matched;
}

void lb_metrics_latency(lb_metrics_t *m, double seconds)
{
    size_t i = 0;
    while (i < N_BUCKETS && seconds > buckets[i])
        i++;
    m->latency_counts[i]++;
    m->latency_sum += seconds;
    m->latency_count++;
}

static void labels(lb_buf_t *out, const series_t *s)
{
    lb_buf_printf(out, "{region=\"%s\",event_bus_name=\"%s\"", s->region, s->bus);
    if (s->rule) lb_buf_printf(out, ",rule_name=\"%s\"", s->rule);
    lb_buf_puts(out, "}");
}

void lb_metrics_render(const lb_metrics_t *m, lb_buf_t *out, uint64_t pending_deliveries,
                       uint64_t inflight_deliveries, uint64_t commits, uint64_t committed_jobs)
{
    for (int k = 0; k < LB_M_RULE_COUNTERS; k++) {
        lb_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", rule_metric_names[k],
                      rule_metric_help[k], rule_metric_names[k]);
        for (size_t i = 0; i < m->n; i++) {
            if (!m->series[i].rule) continue;
            lb_buf_puts(out, rule_metric_names[k]);
            labels(out, &m->series[i]);
            lb_buf_printf(out, " %llu\n", (unsigned long long)m->series[i].counters[k]);
        }
    }
    lb_buf_puts(out, "# HELP localbridge_matched_events_total MatchedEvents: events that matched "
                     "at least one rule\n# TYPE localbridge_matched_events_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        if (m->series[i].rule) continue;
        lb_buf_puts(out, "localbridge_matched_events_total");
        labels(out, &m->series[i]);
        lb_buf_printf(out, " %llu\n", (unsigned long long)m->series[i].matched);
    }
    lb_buf_puts(out, "# HELP localbridge_ingestion_to_invocation_seconds Time from PutEvents "
                     "acceptance to a successful target invocation\n"
                     "# TYPE localbridge_ingestion_to_invocation_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cumulative += m->latency_counts[i];
        lb_buf_printf(out, "localbridge_ingestion_to_invocation_seconds_bucket{le=\"%g\"} %llu\n",
                      buckets[i], (unsigned long long)cumulative);
    }
    cumulative += m->latency_counts[N_BUCKETS];
    lb_buf_printf(out,
                  "localbridge_ingestion_to_invocation_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "localbridge_ingestion_to_invocation_seconds_sum %.6f\n"
                  "localbridge_ingestion_to_invocation_seconds_count %llu\n",
                  (unsigned long long)cumulative, m->latency_sum,
                  (unsigned long long)m->latency_count);
    lb_buf_printf(
        out,
        "# TYPE localbridge_deliveries_pending gauge\nlocalbridge_deliveries_pending %llu\n"
        "# TYPE localbridge_deliveries_inflight gauge\n"
        "localbridge_deliveries_inflight %llu\n"
        "# TYPE localbridge_store_commits_total counter\n"
        "localbridge_store_commits_total %llu\n"
        "# TYPE localbridge_store_committed_jobs_total counter\n"
        "localbridge_store_committed_jobs_total %llu\n",
        (unsigned long long)pending_deliveries, (unsigned long long)inflight_deliveries,
        (unsigned long long)commits, (unsigned long long)committed_jobs);
}

/* ---- archives and replays ---- */

static void archive_labels(lb_buf_t *out, const char *name, const lb_archive_t *a)
{
    lb_buf_printf(out, "%s{region=\"%s\",archive_name=\"%s\",event_bus_name=\"%s\"}", name,
                  a->region, a->name, a->bus);
}

static void render_archives(lb_buf_t *out, lb_archives_t *archives)
{
    static const char *const names[] = {"localbridge_archive_events_archived_total",
                                        "localbridge_archive_event_count",
                                        "localbridge_archive_size_bytes"};
    static const char *const help[] = {
        "counter Events archived since LocalBridge started",
        "gauge Events in the archive now (DescribeArchive's EventCount)",
        "gauge Size of the archive (DescribeArchive's SizeBytes)"};
    for (int k = 0; k < 3; k++) {
        const char *type_end = strchr(help[k], ' ');
        lb_buf_printf(out, "# HELP %s %s\n# TYPE %s %.*s\n", names[k], type_end + 1, names[k],
                      (int)(type_end - help[k]), help[k]);
        for (size_t i = 0; i < lb_archives_count(archives); i++) {
            const lb_archive_t *a = lb_archives_at(archives, i);
            archive_labels(out, names[k], a);
            long long v = k == 0   ? (long long)a->archived_total
                          : k == 1 ? (long long)a->event_count
                                   : (long long)a->size_bytes;
            lb_buf_printf(out, " %lld\n", v);
        }
    }
}

static void render_replays(lb_buf_t *out, lb_replays_t *replays)
{
    lb_buf_puts(out, "# HELP localbridge_replay_state Replay state (1 for the current one)\n"
                     "# TYPE localbridge_replay_state gauge\n");
    for (size_t i = 0; i < lb_replays_count(replays); i++) {
        const lb_replay_t *r = lb_replays_at(replays, i);
        for (int st = 0; st < LB_REPLAY_N_STATES; st++)
            lb_buf_printf(out,
                          "localbridge_replay_state{region=\"%s\",replay_name=\"%s\","
                          "state=\"%s\"} %d\n",
                          r->region, r->name, lb_replay_state_name((lb_replay_state_t)st),
                          (int)r->p.state == st);
    }
    lb_buf_puts(out, "# HELP localbridge_replay_events_replayed Events of the window replayed so "
                     "far\n# TYPE localbridge_replay_events_replayed gauge\n");
    for (size_t i = 0; i < lb_replays_count(replays); i++) {
        const lb_replay_t *r = lb_replays_at(replays, i);
        lb_buf_printf(out,
                      "localbridge_replay_events_replayed{region=\"%s\",replay_name=\"%s\"} "
                      "%lld\n",
                      r->region, r->name, (long long)r->p.replayed);
    }
    lb_buf_puts(out, "# HELP localbridge_replay_events_total Archived events in the replay's "
                     "window (absent until counted)\n# TYPE localbridge_replay_events_total "
                     "gauge\n");
    for (size_t i = 0; i < lb_replays_count(replays); i++) {
        const lb_replay_t *r = lb_replays_at(replays, i);
        if (r->p.total < 0) continue;
        lb_buf_printf(out,
                      "localbridge_replay_events_total{region=\"%s\",replay_name=\"%s\"} "
                      "%lld\n",
                      r->region, r->name, (long long)r->p.total);
    }
}

void lb_metrics_render_archives(lb_buf_t *out, lb_engine_t *engine)
{
    render_archives(out, lb_engine_archives(engine));
    render_replays(out, lb_engine_replays(engine));
}

void lb_metrics_totals(const lb_metrics_t *m, uint64_t out[LB_M_RULE_COUNTERS], uint64_t *matched)
{
    memset(out, 0, LB_M_RULE_COUNTERS * sizeof *out);
    *matched = 0;
    for (size_t i = 0; i < m->n; i++) {
        for (int k = 0; k < LB_M_RULE_COUNTERS; k++)
            out[k] += m->series[i].counters[k];
        *matched += m->series[i].matched;
    }
}

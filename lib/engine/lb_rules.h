/* Rules and their targets, in memory and in the store. Each bus's enabled rules with an event
 * pattern are indexed in one lb_matcher, so matching an event costs the same with 10 rules as
 * with 10,000; patterns and target inputs are compiled when a rule or target is written, never
 * per event. Like the engine, memory changes only after the store committed. */
#ifndef LB_RULES_H
#define LB_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "lb_connections.h"
#include "lb_pattern.h"
#include "lb_schedule.h"
#include "lb_store.h"
#include "lb_transform.h"

/* EventBridge's RetryPolicy defaults and bounds. */
#define LB_RETRY_MAX_ATTEMPTS_DEFAULT 185
#define LB_RETRY_MAX_AGE_S_DEFAULT 86400
/* Targets per rule, as AWS limits them. */
#define LB_TARGETS_PER_RULE 5

typedef struct {
    char *id;
    char *arn;
    char *json;    /* the Target object as accepted, normalized JSON text */
    char *dlq_arn; /* DeadLetterConfig.Arn or NULL */
    int max_attempts;
    int max_age_s;
    lb_input_t *input;             /* compiled Input / InputPath / InputTransformer */
    lb_http_params_t *http_params; /* compiled HttpParameters, or NULL */
} lb_target_t;

typedef struct {
    uint64_t uid; /* process-local identity, the matcher's rule id */
    char *region, *bus, *name;
    char *event_pattern; /* as given, or NULL */
    char *schedule;      /* ScheduleExpression or NULL */
    char *state;         /* ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS */
    char *description, *role_arn, *managed_by, *tags_json;
    int64_t created_ms;
    lb_pattern_t *pattern; /* compiled event_pattern */
    /* compiled schedule, or NULL (none, or a stored one this build no longer accepts) */
    lb_schedule_t *sched;
    int64_t schedule_since_ms; /* when the rule got its schedule: a rate counts from here */
    int64_t last_fired_ms;     /* the last scheduled minute fired (as loaded), 0 if none */
    lb_target_t *targets;
    size_t n_targets;
    /* A PutTargets/RemoveTargets is committing; a second one meanwhile would be computed from
     * stale targets, so it is refused as AWS refuses concurrent modifications. */
    int targets_busy;
} lb_rule_t;

typedef struct lb_rules lb_rules_t;

int lb_rules_new(lb_rules_t **out);
void lb_rules_free(lb_rules_t **r);

/* Builds a rule from its definition (copying strings, compiling the pattern and the schedule). A
 * pattern that does not compile gives -EINVAL and *errmsg (AWS's InvalidEventPatternException
 * message). A schedule is validated by the caller (lb_schedule_parse); one that does not parse
 * leaves rule->sched NULL: the rule is kept and never fires. schedule_since_ms starts at
 * created_ms. */
int lb_rule_init(lb_rule_t *rule, const char *region, const char *bus, const char *name,
                 const char *event_pattern, const char *schedule, const char *state,
                 const char *description, const char *role_arn, const char *managed_by,
                 const char *tags_json, int64_t created_ms, char **errmsg);
void lb_rule_clear(lb_rule_t *rule);
int lb_rule_enabled(const lb_rule_t *rule);

/* Builds a target from a Target JSON object; compiles its input and HttpParameters. Invalid
 * input: -EINVAL and *errmsg as AWS words it. */
int lb_target_init(lb_target_t *t, const char *target_json, char **errmsg);
void lb_target_clear(lb_target_t *t);

/* Told of every rule put (created or replaced) or removed, after the store committed it: how the
 * daemon's scheduler follows scheduled rules. removed: the rule is about to be freed. */
typedef void (*lb_rules_hook_fn)(void *ctx, const lb_rule_t *rule, int removed);
void lb_rules_set_hook(lb_rules_t *r, lb_rules_hook_fn fn, void *ctx);

/* Registry. put takes ownership of *rule's contents (targets included) and replaces a rule of
 * the same key, keeping nothing of it. */
int lb_rules_put(lb_rules_t *r, lb_rule_t *rule);
int lb_rules_remove(lb_rules_t *r, const char *region, const char *bus, const char *name);
lb_rule_t *lb_rules_find(const lb_rules_t *r, const char *region, const char *bus,
                         const char *name);
/* Replaces the rule's targets: the first n of targets (ownership taken). */
int lb_rules_set_targets(lb_rules_t *r, lb_rule_t *rule, lb_target_t *targets, size_t n);
/* Sorted iteration: the index of the first rule >= (region, bus, name). */
size_t lb_rules_lower_bound(const lb_rules_t *r, const char *region, const char *bus,
                            const char *name);
lb_rule_t *lb_rules_at(const lb_rules_t *r, size_t i);
size_t lb_rules_count(const lb_rules_t *r);
size_t lb_rules_count_on_bus(const lb_rules_t *r, const char *region, const char *bus);

/* 1 if the bus has at least one enabled rule with a pattern: events of other buses need not be
 * parsed for matching at all. */
int lb_rules_bus_has_patterns(const lb_rules_t *r, const char *region, const char *bus);
/* The enabled rules of a bus whose pattern matches the event; *out malloc'd (caller frees the
 * array, not the rules). */
int lb_rules_match(const lb_rules_t *r, const char *region, const char *bus,
                   const lb_event_t *event, lb_rule_t ***out, size_t *n);

/* ARN of a rule: arn:aws:events:REGION:ACCOUNT:rule/NAME on the default bus,
 * .../rule/BUS/NAME elsewhere. */
void lb_rule_arn(const char *region, const char *account, const char *bus, const char *name,
                 char *out, size_t outlen);

/* Store. The rule's own row holds its definition; targets are rows of their own. */
int lb_store_rule_put(lb_store_t *s, const lb_rule_t *rule);
int lb_store_rule_delete(lb_store_t *s, const char *region, const char *bus, const char *name);
/* Records that the rule fired its scheduled minute fire_ms, in the firing's own transaction.
 * LB_ECONFLICT if that minute (or a later one) is recorded already, LB_ENOTFOUND if the rule is
 * gone: the caller rolls the firing back, so no minute is ever fired twice. */
int lb_store_rule_fired(lb_store_t *s, const char *region, const char *bus, const char *name,
                        int64_t fire_ms);
int lb_store_targets_replace(lb_store_t *s, const lb_rule_t *rule, const lb_target_t *targets,
                             size_t n);
/* Loads every rule with its targets; definitions that no longer compile are skipped and counted
 * in *skipped. */
int lb_rules_load(lb_rules_t *r, lb_store_t *s, size_t *skipped);

#endif

/* Replays: archived events sent again to their bus. A replay starts STARTING, becomes RUNNING
 * with its first batch and ends COMPLETED; CancelReplay makes it CANCELLING and the replayer then
 * CANCELLED; a replay that cannot go on (its archive or bus deleted) ends FAILED with a reason.
 *
 * Its durable position is the last archived event replayed, as (event time, archive seq): a
 * replay reads its window in that order (AWS replays "based on the time in the event") and each
 * batch commits the replayed events' deliveries together with the new position, so a restart
 * resumes exactly where the last commit left it. Events archived after StartReplay are not part
 * of it.
 *
 * The registry mirrors the store (loaded at start, changed after commits) and tells the daemon's
 * replayer, through a hook, when a replay was started or cancelled. Ownership: the registry owns
 * its replays; lb_replays_put takes the contents of the replay it is given. No I/O, no clock. */
#ifndef LB_REPLAY_H
#define LB_REPLAY_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LB_REPLAY_STARTING,
    LB_REPLAY_RUNNING,
    LB_REPLAY_CANCELLING,
    LB_REPLAY_COMPLETED,
    LB_REPLAY_CANCELLED,
    LB_REPLAY_FAILED,
    LB_REPLAY_N_STATES
} lb_replay_state_t;

#define LB_REPLAY_STATES "STARTING, RUNNING, CANCELLING, COMPLETED, CANCELLED, FAILED"
/* AWS: "a maximum of 10 active concurrent replays per account per Region". */
#define LB_REPLAY_MAX_ACTIVE 10
/* A bit per state, for "only while in one of these states". */
#define LB_REPLAY_MASK(s) (1u << (s))
#define LB_REPLAY_MASK_ACTIVE                                                                      \
    (LB_REPLAY_MASK(LB_REPLAY_STARTING) | LB_REPLAY_MASK(LB_REPLAY_RUNNING))

const char *lb_replay_state_name(lb_replay_state_t s);
/* 0 and *out, or -EINVAL for a name that is not a state. */
int lb_replay_state_parse(const char *name, lb_replay_state_t *out);

/* What changes as a replay runs: written to the store and then applied to memory as one. */
typedef struct {
    lb_replay_state_t state;
    char state_reason[512]; /* "" = none */
    int64_t replay_end_ms;  /* 0 until it ends */
    int64_t last_replayed_ms;
    int64_t cursor_time_ms, cursor_seq; /* the last archived event replayed */
    int64_t replayed;                   /* events replayed so far */
    int64_t total;                      /* events in the window, -1 until counted */
} lb_replay_progress_t;

typedef struct {
    char *region, *name, *description;
    int64_t archive_id;
    char *archive_name;
    char *bus;          /* the destination: always the archive's source bus */
    char **filter_arns; /* Destination.FilterArns as given, NULL when absent */
    char **rule_names;  /* the rule each filter ARN names, same order */
    size_t n_filters;
    int64_t event_start_ms, event_end_ms; /* start <= event time < end */
    int64_t replay_start_ms;              /* also the cut-off: events archived later are out */
    lb_replay_progress_t p;
} lb_replay_t;

/* Builds a STARTING replay whose position is just before event_start_ms. filter_arns must be rule
 * ARNs (lb_replay_rule_from_arn); -EINVAL otherwise. */
int lb_replay_init(lb_replay_t *r, const char *region, const char *name, const char *description,
                   int64_t archive_id, const char *archive_name, const char *bus,
                   const char *const *filter_arns, size_t n_filters, int64_t event_start_ms,
                   int64_t event_end_ms, int64_t now_ms);
void lb_replay_clear(lb_replay_t *r);
/* STARTING or RUNNING: counts toward the limit and can be cancelled. */
int lb_replay_active(const lb_replay_t *r);
/* STARTING, RUNNING or CANCELLING: the replayer still has work for it. */
int lb_replay_pending(const lb_replay_t *r);

/* arn:aws:events:REGION:ACCOUNT:replay/NAME */
void lb_replay_arn(const char *region, const char *account, const char *name, char *out,
                   size_t outlen);
/* The bus and rule a rule ARN names (arn:...:events:R:A:rule/NAME on the default bus,
 * rule/BUS/NAME elsewhere). 0, or -EINVAL when arn is not a rule ARN or a part does not fit. */
int lb_replay_rule_from_arn(const char *arn, char *bus, size_t buslen, char *rule, size_t rulelen);

/* ---- the registry, sorted by (region, name) ---- */

typedef struct lb_replays lb_replays_t;

int lb_replays_new(lb_replays_t **out);
void lb_replays_free(lb_replays_t **r);
/* Inserts or replaces by (region, name), taking *rp's contents (rp is cleared). */
int lb_replays_put(lb_replays_t *r, lb_replay_t *rp);
int lb_replays_remove(lb_replays_t *r, const char *region, const char *name);
lb_replay_t *lb_replays_find(const lb_replays_t *r, const char *region, const char *name);
size_t lb_replays_lower_bound(const lb_replays_t *r, const char *region, const char *name);
lb_replay_t *lb_replays_at(const lb_replays_t *r, size_t i);
size_t lb_replays_count(const lb_replays_t *r);
/* Active replays of a region, plus starts accepted but not yet committed (lb_replays_reserve). */
size_t lb_replays_active(const lb_replays_t *r, const char *region);
/* Holds one of the region's LB_REPLAY_MAX_ACTIVE places while a StartReplay commits: 0, or
 * LB_ELIMIT when they are all taken. lb_replays_release gives it back once the start committed
 * (the replay itself then counts) or failed. */
int lb_replays_reserve(lb_replays_t *r, const char *region);
void lb_replays_release(lb_replays_t *r, const char *region);

/* The archive was deleted: its pending replays end (FAILED, or CANCELLED if they were being
 * cancelled) with reason, at now_ms. Returns how many changed. */
size_t lb_replays_archive_gone(lb_replays_t *r, int64_t archive_id, const char *reason,
                               int64_t now_ms);
/* The same change, for the store in the same transaction as the delete. */
void lb_replay_end_for_archive(lb_replay_progress_t *p, const char *reason, int64_t now_ms);

/* Who is told when a replay was started, cancelled or ended by an API call: the replayer. */
typedef void (*lb_replays_hook_fn)(void *ctx);
void lb_replays_set_hook(lb_replays_t *r, lb_replays_hook_fn fn, void *ctx);
void lb_replays_changed(lb_replays_t *r);

#endif

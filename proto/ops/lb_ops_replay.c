#include "lb_ops_replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_ops_archive.h"
#include "lb_ops_bus.h"
#include "lb_replay_store.h"
#include "lb_validate.h"

#define MAX_ARN 1600

/* A timestamp member: epoch seconds (what botocore and the AWS CLI send) or ISO-8601 text. */
static int read_time(const lb_json_t *req, const char *key, int64_t *ms, int *present,
                     lb_call_t *call)
{
    const lb_json_t *f = lb_json_get(req, key);
    *present = 0;
    if (!f || f->type == LB_JSON_NULL) return 0;
    if (f->type == LB_JSON_NUMBER && isfinite(f->num) && fabs(f->num) <= 253402300799.0) {
        *ms = (int64_t)llround(f->num * 1000.0);
        *present = 1;
        return 0;
    }
    if (f->type == LB_JSON_STRING && !lb_json_has_nul(f->str, f->len) &&
        lb_parse_time_iso(f->str, ms) == 0) {
        *present = 1;
        return 0;
    }
    lb_call_error(call, LB_AWS_SERIALIZATION, "Field '%s' must be a timestamp.", key);
    return -1;
}

/* "Parameter X is not valid. Reason: ...", AWS's wording for a value it refuses as a whole. */
static void invalid(lb_call_t *call, const char *member, const char *reason)
{
    lb_call_error(call, LB_AWS_VALIDATION, "Parameter %s is not valid. Reason: %s", member, reason);
}

static void put_time_if(lb_buf_t *b, const char *key, int64_t ms, int present)
{
    if (present) lb_json_put_time(b, key, ms);
}

/* ---- StartReplay ---- */

typedef struct {
    const char *name, *description, *source, *dest;
    size_t name_len, source_len, dest_len;
    int64_t start_ms, end_ms;
    int has_start, has_end;
    const lb_json_t *destination, *filters;
} start_req_t;

/* Types and AWS's member constraints; -1 with the error set. */
static int read_start(const lb_json_t *req, lb_call_t *call, start_req_t *r,
                      const char **source_resource)
{
    lb_verrs_t v = {0};
    memset(r, 0, sizeof *r);
    if (lb_get_string_n(req, "ReplayName", &r->name, &r->name_len, call) ||
        lb_get_string(req, "Description", &r->description, call) ||
        lb_get_string_n(req, "EventSourceArn", &r->source, &r->source_len, call) ||
        read_time(req, "EventStartTime", &r->start_ms, &r->has_start, call) ||
        read_time(req, "EventEndTime", &r->end_ms, &r->has_end, call) ||
        lb_get_object(req, "Destination", &r->destination, call) ||
        (r->destination && (lb_get_string_n(r->destination, "Arn", &r->dest, &r->dest_len, call) ||
                            lb_get_array(r->destination, "FilterArns", &r->filters, call))))
        return -1;
    lb_json_each(f, r->filters) if (f->type != LB_JSON_STRING)
    {
        lb_call_error(call, LB_AWS_SERIALIZATION, "FilterArns must be a list of strings.");
        return -1;
    }
    lb_check_resource_name(&v, r->name, r->name_len, "replayName", 64, 1);
    if (r->description && lb_utf8_length(r->description) > 512)
        lb_verr_add(&v, r->description, "description",
                    "Member must have length less than or equal to 512");
    *source_resource = lb_check_events_arn(&v, r->source, r->source_len, "eventSourceArn", 1);
    if (!r->has_start) lb_verr_add(&v, NULL, "eventStartTime", "Member must not be null");
    if (!r->has_end) lb_verr_add(&v, NULL, "eventEndTime", "Member must not be null");
    if (!r->destination) {
        lb_verr_add(&v, NULL, "destination", "Member must not be null");
    } else if (!r->dest) {
        lb_verr_add(&v, NULL, "destination.arn", "Member must not be null");
    } else if (r->dest_len < 1 || lb_utf8_length(r->dest) > MAX_ARN ||
               lb_json_has_nul(r->dest, r->dest_len)) {
        lb_verr_add_n(&v, r->dest, r->dest_len, "destination.arn",
                      r->dest_len < 1 ? "Member must have length greater than or equal to 1"
                      : lb_json_has_nul(r->dest, r->dest_len)
                          ? LB_VERR_NO_NUL
                          : "Member must have length less than or equal to 1600");
    }
    size_t i = 0;
    lb_json_each(f, r->filters)
    {
        char member[64];
        snprintf(member, sizeof member, "destination.filterArns.%zu.member", ++i);
        if (f->len < 1 || lb_utf8_length(f->str) > MAX_ARN || lb_json_has_nul(f->str, f->len))
            lb_verr_add_n(&v, f->str, f->len, member,
                          f->len < 1 ? "Member must have length greater than or equal to 1"
                          : lb_json_has_nul(f->str, f->len)
                              ? LB_VERR_NO_NUL
                              : "Member must have length less than or equal to 1600");
    }
    return lb_verr_emit(&v, call) ? -1 : 0;
}

/* The destination bus: it must exist and be the archive's source. NULL with the error set. */
static const lb_bus_record_t *destination_bus(lb_engine_t *engine, lb_call_t *call,
                                              const start_req_t *r, const lb_archive_t *archive)
{
    lb_arn_t arn;
    if (lb_arn_parse(r->dest, &arn) || strcmp(arn.service, "events") != 0 ||
        strncmp(arn.resource, "event-bus/", 10) != 0 || !arn.resource[10]) {
        invalid(call, "Destination.Arn", "Must contain an event bus ARN.");
        return NULL;
    }
    /* Another region's or account's bus is another bus. */
    if (strcmp(arn.region, call->region) != 0 || strcmp(arn.account, call->account_id) != 0) {
        invalid(call, "Destination.Arn", "Cross event bus replay is not permitted.");
        return NULL;
    }
    const lb_bus_record_t *bus = lb_bus_resolve(engine, call, arn.resource + 10);
    if (!bus) return NULL;
    if (strcmp(bus->name, archive->bus) != 0) {
        invalid(call, "Destination.Arn", "Cross event bus replay is not permitted.");
        return NULL;
    }
    return bus;
}

/* FilterArns: rule ARNs of the destination bus. The rules need not exist yet: a replay reaches
 * the rules of those names that exist when each event is replayed. */
static int check_filters(lb_call_t *call, const start_req_t *r, const char *bus, const char ***out,
                         size_t *n)
{
    *out = lb_xcalloc(r->filters ? r->filters->n_children + 1 : 1, sizeof **out);
    *n = 0;
    lb_json_each(f, r->filters)
    {
        char rbus[1024], rule[256], why[1400];
        if (lb_replay_rule_from_arn(f->str, rbus, sizeof rbus, rule, sizeof rule)) {
            snprintf(why, sizeof why, "%.1200s is not a rule ARN.", f->str);
            invalid(call, "Destination.FilterArns", why);
            return -1;
        }
        if (strcmp(rbus, bus) != 0) {
            snprintf(why, sizeof why, "Rule %.256s is not on event bus %.512s.", rule, bus);
            invalid(call, "Destination.FilterArns", why);
            return -1;
        }
        (*out)[(*n)++] = f->str;
    }
    return 0;
}

typedef struct {
    lb_engine_t *engine;
    lb_replay_t replay;
    char region[32];
} start_job_t;

static void start_job_free(void *arg)
{
    start_job_t *job = arg;
    lb_replay_clear(&job->replay);
    free(job);
}

static int start_job_txn(lb_store_t *store, void *arg)
{
    start_job_t *job = arg;
    return lb_store_replay_insert(store, &job->replay);
}

static void start_job_finish(lb_call_t *call, int rc)
{
    start_job_t *job = call->arg;
    lb_replays_t *replays = lb_engine_replays(job->engine);
    lb_replays_release(replays, job->region);
    if (rc) {
        char what[128];
        snprintf(what, sizeof what, "Replay %s", job->replay.name);
        lb_call_error_code(call, rc, what);
        return;
    }
    char arn[2048];
    lb_replay_arn(job->replay.region, call->account_id, job->replay.name, arn, sizeof arn);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"ReplayArn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    lb_json_put_str(b, "State", lb_replay_state_name(job->replay.p.state));
    lb_json_put_time(b, "ReplayStartTime", job->replay.replay_start_ms);
    lb_buf_puts(b, "}");
    lb_replays_put(replays, &job->replay);
    lb_replays_changed(replays);
}

void lb_op_start_replay(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    start_req_t r;
    const char *source_resource;
    if (read_start(req, call, &r, &source_resource)) return;
    if (r.start_ms >= r.end_ms) {
        invalid(call, "EventEndTime", "EventStartTime must be before EventEndTime.");
        return;
    }
    /* Where AWS is silent: a window that has not begun holds no archived event yet. */
    if (r.start_ms > call->now_ms) {
        invalid(call, "EventStartTime", "EventStartTime must be in the past.");
        return;
    }
    const char *archive_name = lb_arn_resource_name(source_resource);
    lb_archive_t *archive =
        strncmp(source_resource, "archive/", 8) == 0
            ? lb_archives_find(lb_engine_archives(engine), call->region, archive_name)
            : NULL;
    if (!archive) {
        char why[200];
        snprintf(why, sizeof why, "Archive %.64s does not exist.", archive_name);
        invalid(call, "EventSourceArn", why);
        return;
    }
    const lb_bus_record_t *bus = destination_bus(engine, call, &r, archive);
    if (!bus) return;
    const char **filters;
    size_t n_filters;
    if (check_filters(call, &r, bus->name, &filters, &n_filters)) {
        free(filters);
        return;
    }
    lb_replays_t *replays = lb_engine_replays(engine);
    if (lb_replays_find(replays, call->region, r.name)) {
        free(filters);
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "Replay %s already exists.", r.name);
        return;
    }
    if (lb_replays_reserve(replays, call->region)) {
        free(filters);
        lb_call_error_code(call, LB_ELIMIT, "StartReplay");
        return;
    }
    start_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    snprintf(job->region, sizeof job->region, "%s", call->region);
    lb_replay_init(&job->replay, call->region, r.name, r.description, archive->id, archive->name,
                   bus->name, filters, n_filters, r.start_ms, r.end_ms, call->now_ms);
    free(filters);
    lb_call_defer(call, start_job_txn, start_job_finish, job, start_job_free);
}

/* ---- Describe, List ---- */

static lb_replay_t *lookup(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    size_t len;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "ReplayName", &name, &len, call)) return NULL;
    lb_check_resource_name(&v, name, len, "replayName", 64, 1);
    if (lb_verr_emit(&v, call)) return NULL;
    lb_replay_t *r = lb_replays_find(lb_engine_replays(engine), call->region, name);
    if (!r) lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Replay %s does not exist.", name);
    return r;
}

/* The members Describe and List share after the source ARN: state and times. */
static void put_state_and_times(lb_buf_t *b, const lb_replay_t *r)
{
    lb_json_put_time(b, "EventStartTime", r->event_start_ms);
    lb_json_put_time(b, "EventEndTime", r->event_end_ms);
    put_time_if(b, "EventLastReplayedTime", r->p.last_replayed_ms, r->p.replayed > 0);
    lb_json_put_time(b, "ReplayStartTime", r->replay_start_ms);
    put_time_if(b, "ReplayEndTime", r->p.replay_end_ms, r->p.replay_end_ms != 0);
}

static void put_source(lb_buf_t *b, const lb_replay_t *r, const char *account)
{
    char arn[2048];
    lb_archive_arn(r->region, account, r->archive_name, arn, sizeof arn);
    lb_json_put_str(b, "EventSourceArn", arn);
}

static void put_state(lb_buf_t *b, const lb_replay_t *r)
{
    lb_json_put_str(b, "State", lb_replay_state_name(r->p.state));
    if (r->p.state_reason[0]) lb_json_put_str(b, "StateReason", r->p.state_reason);
}

void lb_op_describe_replay(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    lb_replay_t *r = lookup(engine, req, call);
    if (!r) return;
    char arn[2048];
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"ReplayName\":");
    lb_buf_json_string(b, r->name, strlen(r->name));
    lb_replay_arn(r->region, call->account_id, r->name, arn, sizeof arn);
    lb_json_put_str(b, "ReplayArn", arn);
    if (r->description) lb_json_put_str(b, "Description", r->description);
    put_state(b, r);
    put_source(b, r, call->account_id);
    snprintf(arn, sizeof arn, "arn:aws:events:%s:%s:event-bus/%s", r->region, call->account_id,
             r->bus);
    lb_buf_puts(b, ",\"Destination\":{\"Arn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    if (r->n_filters) {
        lb_buf_puts(b, ",\"FilterArns\":[");
        for (size_t i = 0; i < r->n_filters; i++) {
            if (i) lb_buf_puts(b, ",");
            lb_buf_json_string(b, r->filter_arns[i], strlen(r->filter_arns[i]));
        }
        lb_buf_puts(b, "]");
    }
    lb_buf_puts(b, "}");
    put_state_and_times(b, r);
    lb_buf_puts(b, "}");
}

typedef struct {
    const char *prefix, *archive, *state;
} replay_filter_t;

static int read_filter(const lb_json_t *req, lb_call_t *call, replay_filter_t *f)
{
    const char *resource;
    memset(f, 0, sizeof *f);
    if (lb_read_list_filter(req, call, "ListReplays", 64, LB_REPLAY_STATES, &f->prefix, &resource,
                            &f->state))
        return -1;
    /* An ARN that names no archive of this region lists nothing. */
    if (resource) f->archive = strncmp(resource, "archive/", 8) == 0 ? resource + 8 : "";
    return 0;
}

void lb_op_list_replays(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *token;
    int64_t limit;
    replay_filter_t f;
    if (lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit) ||
        read_filter(req, call, &f))
        return;
    char start[256];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    lb_replays_t *replays = lb_engine_replays(engine);
    const char *from = start[0] ? start : (f.prefix ? f.prefix : "");
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"Replays\":[");
    int64_t n = 0;
    lb_replay_t *r;
    for (size_t i = lb_replays_lower_bound(replays, call->region, from);
         (r = lb_replays_at(replays, i)) != NULL; i++) {
        if (strcmp(r->region, call->region) != 0) break;
        if (f.prefix && strncmp(r->name, f.prefix, strlen(f.prefix)) != 0) break;
        if (f.archive && strcmp(r->archive_name, f.archive) != 0) continue;
        if (f.state && strcmp(lb_replay_state_name(r->p.state), f.state) != 0) continue;
        if (n == limit) {
            lb_json_close_page(b, r->name);
            return;
        }
        lb_buf_puts(b, n++ ? ",{\"ReplayName\":" : "{\"ReplayName\":");
        lb_buf_json_string(b, r->name, strlen(r->name));
        put_source(b, r, call->account_id);
        put_state(b, r);
        put_state_and_times(b, r);
        lb_buf_puts(b, "}");
    }
    lb_buf_puts(b, "]}");
}

/* ---- CancelReplay ---- */

typedef struct {
    lb_engine_t *engine;
    char region[32];
    char name[80];
} cancel_job_t;

static int cancel_job_txn(lb_store_t *store, void *arg)
{
    cancel_job_t *job = arg;
    return lb_store_replay_set_state(store, job->region, job->name, LB_REPLAY_CANCELLING, NULL, 0,
                                     LB_REPLAY_MASK_ACTIVE);
}

static void not_cancellable(lb_call_t *call, const char *name)
{
    lb_call_error(call, LB_AWS_ILLEGAL_STATUS,
                  "Replay %s is not in a valid state for this operation.", name);
}

static void cancel_job_finish(lb_call_t *call, int rc)
{
    cancel_job_t *job = call->arg;
    if (rc == LB_ECONFLICT) {
        not_cancellable(call, job->name); /* it ended while the cancel was committing */
        return;
    }
    if (rc) {
        char what[128];
        snprintf(what, sizeof what, "Replay %s", job->name);
        lb_call_error_code(call, rc, what);
        return;
    }
    lb_replays_t *replays = lb_engine_replays(job->engine);
    lb_replay_t *r = lb_replays_find(replays, job->region, job->name);
    if (r) r->p.state = LB_REPLAY_CANCELLING;
    char arn[2048];
    lb_replay_arn(job->region, call->account_id, job->name, arn, sizeof arn);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"ReplayArn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    lb_json_put_str(b, "State", "CANCELLING");
    lb_buf_puts(b, "}");
    lb_replays_changed(replays);
}

void lb_op_cancel_replay(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    lb_replay_t *r = lookup(engine, req, call);
    if (!r) return;
    if (!lb_replay_active(r)) {
        not_cancellable(call, r->name);
        return;
    }
    cancel_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    snprintf(job->region, sizeof job->region, "%s", r->region);
    snprintf(job->name, sizeof job->name, "%s", r->name);
    lb_call_defer(call, cancel_job_txn, cancel_job_finish, job, free);
}

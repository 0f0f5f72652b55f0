#include "lb_ops_events.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_ops_bus.h"
#include "lb_pattern.h"
#include "lb_validate.h"

#define MAX_ENTRIES 10

void lb_envelope_build(lb_buf_t *b, const char *id, const char *detail_type, const char *source,
                       const char *account, int64_t time_ms, const char *region,
                       const lb_json_t *resources, const char *detail_json)
{
    char when[32];
    lb_format_time_iso(time_ms, when);
    lb_buf_puts(b, "{\"version\":\"0\",\"id\":");
    lb_buf_json_string(b, id, strlen(id));
    lb_json_put_str(b, "detail-type", detail_type);
    lb_json_put_str(b, "source", source);
    lb_json_put_str(b, "account", account);
    lb_json_put_str(b, "time", when);
    lb_json_put_str(b, "region", region);
    lb_buf_puts(b, ",\"resources\":[");
    int first = 1;
    lb_json_each(r, resources)
    {
        if (!first) lb_buf_puts(b, ",");
        lb_buf_json_string(b, r->str, r->len);
        first = 0;
    }
    lb_buf_puts(b, "],\"detail\":");
    lb_buf_puts(b, detail_json);
    lb_buf_puts(b, "}");
}

/* One entry's outcome: an accepted event or a per-entry error. */
typedef struct {
    char id[37];
    char *bus;
    char *envelope;
    size_t envelope_len;
    const char *error_code;
    char *error_message;
} entry_result_t;

typedef struct {
    lb_engine_t *engine;
    char region[32];
    int64_t ingested_ms;
    size_t n;
    entry_result_t entries[MAX_ENTRIES];
    /* What the accepted events matched: one delivery per (event, rule, target), committed
     * with the events; rule hits and matched events feed the metrics. */
    lb_delivery_t **deliveries;
    size_t n_deliveries;
    lb_rule_hit_t *hits;
    size_t n_hits;
} put_events_job_t;

static void put_events_job_free(void *arg)
{
    put_events_job_t *job = arg;
    for (size_t i = 0; i < job->n; i++) {
        free(job->entries[i].bus);
        free(job->entries[i].envelope);
        free(job->entries[i].error_message);
    }
    for (size_t i = 0; i < job->n_deliveries; i++) lb_delivery_free(&job->deliveries[i]);
    free(job->deliveries);
    for (size_t i = 0; i < job->n_hits; i++) {
        free((char *)job->hits[i].bus);
        free((char *)job->hits[i].rule);
    }
    free(job->hits);
    free(job);
}

/* Matches one accepted event against its bus's rules and renders what each target receives.
 * Runs on the loop thread at ingestion, so the writer only has rows to insert. */
static void collect_deliveries(put_events_job_t *job, const lb_call_t *call,
                               const entry_result_t *e)
{
    lb_event_t *event;
    if (!lb_rules_bus_has_patterns(lb_engine_rules(job->engine), job->region, e->bus)) return;
    if (lb_event_parse(e->envelope, e->envelope_len, &event)) return;
    lb_rule_t **rules;
    size_t n_rules;
    if (lb_rules_match(lb_engine_rules(job->engine), job->region, e->bus, event, &rules,
                       &n_rules)) {
        lb_event_free(&event);
        return;
    }
    lb_event_free(&event);
    char ingestion[32];
    lb_format_time_iso(job->ingested_ms, ingestion);
    for (size_t r = 0; r < n_rules; r++) {
        lb_rule_t *rule = rules[r];
        char arn[2048];
        lb_rule_arn(rule->region, call->account_id, rule->bus, rule->name, arn, sizeof arn);
        job->hits = lb_xrealloc(job->hits, (job->n_hits + 1) * sizeof *job->hits);
        job->hits[job->n_hits++] = (lb_rule_hit_t){
            .region = job->region, .bus = lb_strdup(rule->bus), .rule = lb_strdup(rule->name),
            .first_for_event = r == 0};
        lb_input_ctx_t ctx = {.rule_arn = arn, .rule_name = rule->name,
                              .ingestion_time = ingestion};
        for (size_t t = 0; t < rule->n_targets; t++) {
            const lb_target_t *target = &rule->targets[t];
            char *body;
            size_t body_len;
            /* -ENOENT: an InputPath that names nothing in this event delivers nothing. */
            if (lb_input_render(target->input, e->envelope, e->envelope_len, &ctx, &body,
                                &body_len))
                continue;
            lb_delivery_t *d = lb_xcalloc(1, sizeof *d);
            memcpy(d->event_id, e->id, sizeof d->event_id);
            d->region = lb_strdup(job->region);
            d->bus = lb_strdup(rule->bus);
            d->rule = lb_strdup(rule->name);
            d->target_id = lb_strdup(target->id);
            d->target_arn = lb_strdup(target->arn);
            d->target_json = lb_strdup(target->json);
            d->dlq_arn = lb_strdup(target->dlq_arn);
            d->body = body;
            d->body_len = body_len;
            d->ingested_ms = d->age_base_ms = d->next_ms = job->ingested_ms;
            d->max_retries = target->max_attempts;
            d->max_age_s = target->max_age_s;
            job->deliveries =
                lb_xrealloc(job->deliveries, (job->n_deliveries + 1) * sizeof *job->deliveries);
            job->deliveries[job->n_deliveries++] = d;
        }
    }
    free(rules);
}

static int put_events_txn(lb_store_t *store, void *arg)
{
    put_events_job_t *job = arg;
    for (size_t i = 0; i < job->n; i++) {
        entry_result_t *e = &job->entries[i];
        if (e->error_code) continue;
        lb_event_record_t rec = {.id = e->id,
                                 .region = job->region,
                                 .bus = e->bus,
                                 .ingested_ms = job->ingested_ms,
                                 .envelope = e->envelope,
                                 .envelope_len = e->envelope_len};
        int rc = lb_store_event_insert(store, &rec);
        if (rc) return rc;
    }
    for (size_t i = 0; i < job->n_deliveries; i++) {
        int rc = lb_delivery_insert(store, job->deliveries[i]);
        if (rc) return rc;
    }
    return 0;
}

static void put_events_render(lb_call_t *call, put_events_job_t *job)
{
    lb_buf_t *b = &call->body;
    int failed = 0;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"Entries\":[");
    for (size_t i = 0; i < job->n; i++) {
        entry_result_t *e = &job->entries[i];
        if (i) lb_buf_puts(b, ",");
        if (e->error_code) {
            failed++;
            lb_buf_puts(b, "{\"ErrorCode\":");
            lb_buf_json_string(b, e->error_code, strlen(e->error_code));
            lb_json_put_str(b, "ErrorMessage", e->error_message);
            lb_buf_puts(b, "}");
        } else {
            lb_buf_printf(b, "{\"EventId\":\"%s\"}", e->id);
        }
    }
    lb_buf_printf(b, "],\"FailedEntryCount\":%d}", failed);
}

static void put_events_finish(lb_call_t *call, int rc)
{
    put_events_job_t *job = call->arg;
    if (rc) {
        lb_call_error_code(call, rc, "PutEvents");
        return;
    }
    lb_engine_deliveries_committed(job->engine, job->deliveries, job->n_deliveries, job->hits,
                                   job->n_hits);
    job->n_deliveries = 0; /* the hook owns them now */
    put_events_render(call, job);
}

static void entry_fail(entry_result_t *e, const char *code, const char *message)
{
    e->error_code = code;
    e->error_message = lb_strdup(message);
}

/* AWS's rendering of a request entry inside its "Value '[...]'" validation messages. */
static void describe_entries(lb_buf_t *b, const lb_json_t *entries)
{
    int first = 1;
    lb_buf_puts(b, "[");
    lb_json_each(e, entries)
    {
        const char *keys[] = {"Source", "DetailType", "Detail", "EventBusName", "TraceHeader"};
        const char *vals[5];
        for (int i = 0; i < 5; i++) {
            const lb_json_t *f = lb_json_get(e, keys[i]);
            vals[i] = f && f->type == LB_JSON_STRING ? f->str : "null";
        }
        lb_buf_printf(b,
                      "%sPutEventsRequestEntry(time=null, source=%s, resources=null, "
                      "detailType=%s, detail=%s, eventBusName=%s, traceHeader=%s, "
                      "kmsKeyIdentifier=null, internalMetadata=null)",
                      first ? "" : ", ", vals[0], vals[1], vals[2], vals[3], vals[4]);
        first = 0;
    }
    lb_buf_puts(b, "]");
}

static int hex4(const char *s, size_t len, size_t i, unsigned *out)
{
    unsigned v = 0;
    if (len - i < 4) return -1;
    for (size_t k = i; k < i + 4; k++) {
        char c = s[k];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15) return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* 1 if valid JSON text holds a \u escape of a surrogate that is not half of a pair. That is
 * JSON but no Unicode text: lb_json reads it as U+FFFD while the envelope would keep the escape
 * as written, so such a Detail is refused as malformed (as it always was). */
static int has_lone_surrogate(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\') continue;
        unsigned cp, lo;
        if (s[++i] != 'u' || hex4(s, len, i + 1, &cp)) continue;
        i += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) return 1;
        if (cp < 0xd800 || cp > 0xdbff) continue;
        if (i + 2 >= len || s[i + 1] != '\\' || s[i + 2] != 'u' || hex4(s, len, i + 3, &lo) ||
            lo < 0xdc00 || lo > 0xdfff)
            return 1;
        i += 6;
    }
    return 0;
}

/* Time: epoch seconds (what botocore sends) or an ISO-8601 string. */
static int entry_time(const lb_json_t *t, int64_t *ms)
{
    if (t->type == LB_JSON_NUMBER) {
        if (!isfinite(t->num) || fabs(t->num) > 253402300799.0) return -1;
        *ms = (int64_t)llround(t->num * 1000.0);
        return 0;
    }
    if (t->type == LB_JSON_STRING)
        return lb_json_has_nul(t->str, t->len) || lb_parse_time_iso(t->str, ms) ? -1 : 0;
    return -1;
}

/* Validates one entry and, if good, builds its envelope. Whole-request errors (wrong JSON types,
 * unknown bus) are set on the call and return -1; per-entry problems are recorded in e. */
static int prepare_entry(lb_engine_t *engine, lb_call_t *call, const lb_json_t *entry,
                         entry_result_t *e, int64_t *size)
{
    const char *source, *detail_type, *detail_text, *bus_name, *trace;
    size_t source_len, detail_type_len, detail_len, bus_name_len;
    const lb_json_t *resources, *time_field;
    if (entry->type != LB_JSON_OBJECT) {
        lb_call_error(call, LB_AWS_SERIALIZATION, "Entries must be a list of structures.");
        return -1;
    }
    if (lb_get_string_n(entry, "Source", &source, &source_len, call) ||
        lb_get_string_n(entry, "DetailType", &detail_type, &detail_type_len, call) ||
        lb_get_string_n(entry, "Detail", &detail_text, &detail_len, call) ||
        lb_get_string_n(entry, "EventBusName", &bus_name, &bus_name_len, call) ||
        lb_get_string(entry, "TraceHeader", &trace, call) ||
        lb_get_array(entry, "Resources", &resources, call))
        return -1;
    lb_json_each(r, resources)
    {
        if (r->type != LB_JSON_STRING) {
            lb_call_error(call, LB_AWS_SERIALIZATION, "Resources must be a list of strings.");
            return -1;
        }
        *size += (int64_t)r->len;
    }
    time_field = lb_json_get(entry, "Time");
    if (time_field && time_field->type == LB_JSON_NULL) time_field = NULL;
    if (time_field) *size += 14;
    *size += (int64_t)(source_len + detail_type_len + detail_len);

    const char *name = NULL;
    if (bus_name) {
        lb_verrs_t v = {0};
        if (lb_check_bus_name_or_arn(bus_name, bus_name_len, "entries.member.eventBusName", &v,
                                     &name)) {
            lb_verr_emit(&v, call);
            return -1;
        }
        lb_buf_free(&v.text);
    }
    const lb_bus_record_t *bus = lb_bus_resolve(engine, call, name);
    if (!bus) return -1;
    e->bus = lb_strdup(bus->name);

    if (!source || !source_len) {
        entry_fail(e, "InvalidArgument",
                   "Parameter Source is not valid. Reason: Source is a required argument.");
        return 0;
    }
    /* Read as a C string it would end at the U+0000 and name another source. */
    if (lb_json_has_nul(source, source_len)) {
        entry_fail(e, "InvalidArgument",
                   "Parameter Source is not valid. Reason: Source must not contain U+0000.");
        return 0;
    }
    if (!detail_type || !detail_type_len) {
        entry_fail(e, "InvalidArgument",
                   "Parameter DetailType is not valid. Reason: DetailType is a required "
                   "argument.");
        return 0;
    }
    if (lb_json_has_nul(detail_type, detail_type_len)) {
        entry_fail(e, "InvalidArgument",
                   "Parameter DetailType is not valid. Reason: DetailType must not contain "
                   "U+0000.");
        return 0;
    }
    if (!detail_text || !detail_len) {
        entry_fail(e, "InvalidArgument",
                   "Parameter Detail is not valid. Reason: Detail is a required argument.");
        return 0;
    }
    if (trace && lb_utf8_length(trace) > 500) {
        entry_fail(e, "InvalidArgument",
                   "Parameter TraceHeader is not valid. Reason: TraceHeader must be at most 500 "
                   "characters.");
        return 0;
    }
    int64_t time_ms = call->now_ms;
    if (time_field && entry_time(time_field, &time_ms)) {
        entry_fail(e, "InvalidArgument", "Parameter Time is not valid.");
        return 0;
    }
    lb_json_doc_t *detail;
    int is_object =
        lb_json_parse(detail_text, detail_len, LB_JSON_EVENT_MAX_DEPTH, &detail, NULL) == 0 &&
        lb_json_doc_root(detail)->type == LB_JSON_OBJECT &&
        !has_lone_surrogate(detail_text, detail_len);
    if (detail) lb_json_doc_free(&detail);
    if (!is_object) {
        entry_fail(e, "MalformedDetail", "Detail is malformed.");
        return 0;
    }
    if (lb_uuid_v4(e->id)) {
        lb_call_error(call, LB_AWS_INTERNAL, "Could not generate an event id.");
        return -1;
    }
    /* The detail goes into the envelope as the client wrote it, whitespace removed: numbers
     * beyond a double's range or precision keep every digit instead of becoming null or
     * rounded. */
    lb_buf_t minified = {0};
    lb_json_minify(&minified, detail_text, detail_len);
    lb_buf_t env = {0};
    lb_envelope_build(&env, e->id, detail_type, source, call->account_id, time_ms, call->region,
                      resources, minified.data);
    lb_buf_free(&minified);
    e->envelope = lb_buf_steal(&env, &e->envelope_len);
    return 0;
}

void lb_op_put_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *entries;
    if (lb_get_array(req, "Entries", &entries, call)) return;
    int n = entries ? (int)entries->n_children : 0;
    if (!entries || n < 1 || n > MAX_ENTRIES) {
        lb_verrs_t v = {0};
        if (!entries) {
            lb_verr_add(&v, NULL, "entries", "Member must not be null");
        } else {
            lb_buf_t desc = {0};
            describe_entries(&desc, entries);
            lb_verr_add(&v, desc.data, "entries",
                        n < 1 ? "Member must have length greater than or equal to 1"
                              : "Member must have length less than or equal to 10");
            lb_buf_free(&desc);
        }
        lb_verr_emit(&v, call);
        return;
    }
    put_events_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    snprintf(job->region, sizeof job->region, "%s", call->region);
    job->ingested_ms = call->now_ms;
    int64_t size = 0;
    lb_json_each(entry, entries)
    {
        if (prepare_entry(engine, call, entry, &job->entries[job->n++], &size)) {
            put_events_job_free(job);
            return;
        }
    }
    if (size > LB_PUT_EVENTS_MAX_BYTES) {
        put_events_job_free(job);
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Total size of the entries in the request is over the limit.");
        return;
    }
    int accepted = 0;
    for (size_t i = 0; i < job->n; i++) {
        if (job->entries[i].error_code) continue;
        accepted++;
        collect_deliveries(job, call, &job->entries[i]);
    }
    if (!accepted) {
        /* Nothing to store: answer now. */
        put_events_render(call, job);
        put_events_job_free(job);
        return;
    }
    lb_call_defer(call, put_events_txn, put_events_finish, job, put_events_job_free);
}

#include "lb_ops_events.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_ingest.h"
#include "lb_ops_bus.h"
#include "lb_ops_endpoint.h"
#include "lb_ops_source.h"
#include "lb_policy.h"
#include "lb_validate.h"

#define MAX_ENTRIES 10
/* PutPartnerEvents takes twice as many. */
#define MAX_PARTNER_ENTRIES 20

/* One entry's outcome: an accepted event's id or a per-entry error. */
typedef struct {
    char id[37];
    const char *error_code;
    char *error_message;
} entry_result_t;

typedef struct {
    lb_engine_t *engine;
    size_t n;
    entry_result_t entries[MAX_PARTNER_ENTRIES];
    lb_ingest_batch_t *batch; /* the accepted events, their deliveries and rule hits */
} put_events_job_t;

static void put_events_job_free(void *arg)
{
    put_events_job_t *job = arg;
    for (size_t i = 0; i < job->n; i++)
        free(job->entries[i].error_message);
    lb_ingest_batch_free(&job->batch);
    free(job);
}

static int put_events_txn(lb_store_t *store, void *arg)
{
    put_events_job_t *job = arg;
    return lb_ingest_batch_write(store, job->batch);
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
    lb_ingest_batch_committed(job->engine, job->batch);
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

/* The bus an entry reaches through a global endpoint: the endpoint's bus in the region its route
 * chose. An entry may name that bus (by name or ARN, of either Region) or none. */
static const lb_bus_record_t *route_bus(lb_engine_t *engine, lb_call_t *call,
                                        const lb_endpoint_route_t *route, const char *named)
{
    if (named && strcmp(named, route->bus) != 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Event bus %s is not the event bus of this endpoint, %s.", named, route->bus);
        return NULL;
    }
    /* A Region's default bus may not have been touched yet: resolve it in that Region. */
    char saved[sizeof call->region];
    memcpy(saved, call->region, sizeof saved);
    snprintf(call->region, sizeof call->region, "%s", route->region);
    const lb_bus_record_t *bus = lb_bus_resolve(engine, call, route->bus);
    memcpy(call->region, saved, sizeof saved);
    return bus;
}

/* Event replication: a copy of the entry for the endpoint's secondary Region, through the same
 * ingest road (its own id: every stored event's id is unique). A secondary bus that does not exist
 * takes nothing, as AWS's asynchronous replication would fail without failing the PutEvents. */
static int replicate(lb_engine_t *engine, const lb_endpoint_route_t *route,
                     const lb_ingest_ctx_t *primary, const lb_entry_t *in, put_events_job_t *job)
{
    lb_ingest_ctx_t ctx = *primary;
    ctx.region = route->replica_region;
    if (!lb_engine_bus_find(engine, ctx.region, route->bus)) return 0;
    char id[37];
    return lb_ingest_entry(engine, &ctx, route->bus, in, job->batch, id);
}

/* With auth = sigv4 a caller of another account may put events on this daemon's buses (named by
 * ARN) only where the bus's policy lets it; a bus of an account this daemon does not hold does
 * not exist here. 0: go on; 1: this entry is refused (e filled); -1: the call fails. */
static int foreign_caller_refused(lb_call_t *call, const char *bus_name, const lb_bus_record_t *bus,
                                  entry_result_t *e)
{
    const char *caller = call->caller_account;
    if (!caller || strcmp(caller, call->account_id) == 0) return 0;
    lb_arn_t arn;
    /* A plain name is a bus of the caller's own account. */
    const char *owner = bus_name && lb_arn_parse(bus_name, &arn) == 0 ? arn.account : caller;
    if (strcmp(owner, call->account_id) != 0) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.", bus->name);
        return -1;
    }
    char bus_arn[2048];
    lb_bus_arn(call, bus->name, bus_arn, sizeof bus_arn);
    if (lb_policy_allows_put_events(bus->policy, bus_arn, call->account_id, caller, NULL)) return 0;
    lb_buf_t msg = {0};
    lb_buf_printf(&msg,
                  "User: arn:aws:iam::%s:root is not authorized to perform: events:PutEvents on "
                  "resource: %s because no resource-based policy allows the events:PutEvents "
                  "action",
                  caller, bus_arn);
    e->error_code = "AccessDeniedException";
    e->error_message = lb_buf_steal(&msg, NULL);
    return 1;
}

/* Validates one entry and, if good, sends it down the ingest road into job->batch. Whole-request
 * errors (wrong JSON types, unknown bus) are set on the call and return -1; per-entry problems are
 * recorded in e. */
static int prepare_entry(lb_engine_t *engine, lb_call_t *call, const lb_json_t *entry,
                         const lb_endpoint_route_t *route, put_events_job_t *job, entry_result_t *e,
                         int64_t *size)
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
    const lb_bus_record_t *bus =
        route ? route_bus(engine, call, route, name) : lb_bus_resolve(engine, call, name);
    if (!bus) return -1;
    int refused = foreign_caller_refused(call, bus_name, bus, e);
    if (refused) return refused < 0 ? -1 : 0;

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
    /* Sources beginning with "aws." belong to AWS services: nobody else may put them. */
    if (strncmp(source, "aws.", 4) == 0) {
        entry_fail(e, "NotAuthorizedForSourceException", "Not authorized for the source.");
        return 0;
    }
    lb_entry_t in = {.source = source,
                     .detail_type = detail_type,
                     .detail = detail_text,
                     .detail_len = detail_len,
                     .time_ms = call->now_ms,
                     .trace_header = trace && *trace ? trace : NULL};
    if (time_field && entry_time(time_field, &in.time_ms)) {
        entry_fail(e, "InvalidArgument", "Parameter Time is not valid.");
        return 0;
    }
    const char **res = lb_xcalloc((resources ? resources->n_children : 0) + 1, sizeof *res);
    size_t n_res = 0;
    lb_json_each(r, resources) res[n_res++] = r->str;
    in.resources = res;
    in.n_resources = n_res;
    /* The event's account is the account that put it (another one, across accounts). */
    lb_ingest_ctx_t ctx = {.region = route ? route->region : call->region,
                           .account =
                               call->caller_account ? call->caller_account : call->account_id,
                           .now_ms = call->now_ms,
                           .origin = {.kind = LB_ORIGIN_API}};
    int rc = lb_ingest_entry(engine, &ctx, bus->name, &in, job->batch, e->id);
    if (rc == 0 && route && route->replica_region[0]) rc = replicate(engine, route, &ctx, &in, job);
    free(res);
    if (rc == LB_INGEST_EMALFORMED) {
        entry_fail(e, "MalformedDetail", "Detail is malformed.");
    } else if (rc) {
        lb_call_error_code(call, rc, "PutEvents");
        return -1;
    }
    return 0;
}

/* The entries are prepared: refuses a request over the size limit (counted as AWS counts it),
 * answers at once when nothing is to be stored, else stores the batch and answers after. */
static void put_events_submit(lb_call_t *call, put_events_job_t *job, int64_t size)
{
    if (size > LB_PUT_EVENTS_MAX_BYTES) {
        put_events_job_free(job);
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Total size of the entries in the request is over the limit.");
        return;
    }
    if (lb_ingest_batch_events(job->batch) == 0) {
        put_events_render(call, job);
        put_events_job_free(job);
        return;
    }
    lb_call_defer(call, put_events_txn, put_events_finish, job, put_events_job_free);
}

void lb_op_put_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *entries;
    const char *endpoint_id;
    lb_endpoint_route_t route;
    if (lb_get_array(req, "Entries", &entries, call) ||
        lb_get_string(req, "EndpointId", &endpoint_id, call))
        return;
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
    if (endpoint_id && lb_endpoint_route(engine, call, endpoint_id, &route)) return;
    put_events_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->batch = lb_ingest_batch_new();
    int64_t size = 0;
    lb_json_each(entry, entries)
    {
        if (prepare_entry(engine, call, entry, endpoint_id ? &route : NULL, job,
                          &job->entries[job->n++], &size)) {
            put_events_job_free(job);
            return;
        }
    }
    put_events_submit(call, job, size);
}

/* ---- PutPartnerEvents ---- */

/* The request-level checks AWS's model makes on partner entries: Source's pattern and length, the
 * length of each resource. */
static void check_partner_entries(const lb_json_t *entries, lb_verrs_t *v)
{
    size_t i = 0;
    lb_json_each(entry, entries)
    {
        char member[64];
        i++;
        const lb_json_t *src = lb_json_get(entry, "Source");
        if (lb_json_is(src, LB_JSON_STRING) && (src->len < 1 || lb_utf8_length(src->str) > 256 ||
                                                !lb_source_name_ok(src->str, src->len))) {
            snprintf(member, sizeof member, "entries.%zu.member.source", i);
            lb_verr_add_n(
                v, src->str, src->len, member,
                "Member must satisfy regular expression pattern: " LB_SOURCE_NAME_PATTERN);
        }
        lb_json_each(r, lb_json_get(entry, "Resources"))
        {
            if (r->type == LB_JSON_STRING && lb_utf8_length(r->str) > 2048) {
                snprintf(member, sizeof member, "entries.%zu.member.resources", i);
                lb_verr_add_n(v, r->str, r->len, member,
                              "Member must have length less than or equal to 2048");
            }
        }
    }
}

/* One partner entry: onto the partner bus named after its source, dropped (with an id, as AWS
 * drops them) when no active bus takes that source's events, refused when the source is not
 * there. Whole-request errors return -1 with the error set on the call. */
static int prepare_partner_entry(lb_engine_t *engine, lb_call_t *call, const lb_json_t *entry,
                                 put_events_job_t *job, entry_result_t *e, int64_t *size)
{
    const char *source, *detail_type, *detail_text;
    size_t source_len, detail_type_len, detail_len;
    const lb_json_t *resources;
    if (entry->type != LB_JSON_OBJECT) {
        lb_call_error(call, LB_AWS_SERIALIZATION, "Entries must be a list of structures.");
        return -1;
    }
    if (lb_get_string_n(entry, "Source", &source, &source_len, call) ||
        lb_get_string_n(entry, "DetailType", &detail_type, &detail_type_len, call) ||
        lb_get_string_n(entry, "Detail", &detail_text, &detail_len, call) ||
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
    const lb_json_t *time_field = lb_json_get(entry, "Time");
    if (time_field && time_field->type == LB_JSON_NULL) time_field = NULL;
    if (time_field) *size += 14;
    *size += (int64_t)(source_len + detail_type_len + detail_len);
    if (!source || !source_len) {
        entry_fail(e, "InvalidArgument",
                   "Parameter Source is not valid. Reason: Source is a required argument.");
        return 0;
    }
    if (!detail_type || !detail_type_len || lb_json_has_nul(detail_type, detail_type_len)) {
        entry_fail(e, "InvalidArgument",
                   "Parameter DetailType is not valid. Reason: DetailType is a required "
                   "argument.");
        return 0;
    }
    if (!detail_text || !detail_len) {
        entry_fail(e, "InvalidArgument",
                   "Parameter Detail is not valid. Reason: Detail is a required argument.");
        return 0;
    }
    lb_entry_t in = {.source = source,
                     .detail_type = detail_type,
                     .detail = detail_text,
                     .detail_len = detail_len,
                     .time_ms = call->now_ms};
    if (time_field && entry_time(time_field, &in.time_ms)) {
        entry_fail(e, "InvalidArgument", "Parameter Time is not valid.");
        return 0;
    }
    int route = lb_source_route(engine, call, source);
    if (route == LB_SOURCE_UNKNOWN) {
        entry_fail(e, "NotAuthorizedForSourceException", "Not authorized for the source.");
        return 0;
    }
    if (route == LB_SOURCE_DROP) {
        lb_json_doc_t *doc = NULL;
        int bad = lb_json_parse(detail_text, detail_len, LB_JSON_EVENT_MAX_DEPTH, &doc, NULL) ||
                  lb_json_doc_root(doc)->type != LB_JSON_OBJECT;
        lb_json_doc_free(&doc);
        if (bad)
            entry_fail(e, "MalformedDetail", "Detail is malformed.");
        else
            lb_uuid_v4(e->id);
        return 0;
    }
    const char **res = lb_xcalloc((resources ? resources->n_children : 0) + 1, sizeof *res);
    size_t n_res = 0;
    lb_json_each(r, resources) res[n_res++] = r->str;
    in.resources = res;
    in.n_resources = n_res;
    /* The partner bus lives in the customer's account: this daemon's. */
    lb_ingest_ctx_t ctx = {.region = call->region,
                           .account = call->account_id,
                           .now_ms = call->now_ms,
                           .origin = {.kind = LB_ORIGIN_API}};
    int rc = lb_ingest_entry(engine, &ctx, source, &in, job->batch, e->id);
    free(res);
    if (rc == LB_INGEST_EMALFORMED) {
        entry_fail(e, "MalformedDetail", "Detail is malformed.");
    } else if (rc) {
        lb_call_error_code(call, rc, "PutPartnerEvents");
        return -1;
    }
    return 0;
}

void lb_op_put_partner_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const lb_json_t *entries;
    lb_verrs_t v = {0};
    if (lb_get_array(req, "Entries", &entries, call)) return;
    int n = entries ? (int)entries->n_children : 0;
    if (!entries) {
        lb_verr_add(&v, NULL, "entries", "Member must not be null");
    } else if (n < 1 || n > MAX_PARTNER_ENTRIES) {
        char *text = lb_json_print(entries, NULL);
        lb_verr_add(&v, text, "entries",
                    n < 1 ? "Member must have length greater than or equal to 1"
                          : "Member must have length less than or equal to 20");
        free(text);
    } else {
        check_partner_entries(entries, &v);
    }
    if (lb_verr_emit(&v, call)) return;
    put_events_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->batch = lb_ingest_batch_new();
    int64_t size = 0;
    lb_json_each(entry, entries)
    {
        if (prepare_partner_entry(engine, call, entry, job, &job->entries[job->n++], &size)) {
            put_events_job_free(job);
            return;
        }
    }
    put_events_submit(call, job, size);
}

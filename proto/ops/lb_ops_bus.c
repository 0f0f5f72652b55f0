#include "lb_ops_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_ops_source.h"
#include "lb_validate.h"

void lb_bus_arn(const lb_call_t *call, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "arn:aws:events:%s:%s:event-bus/%s", call->region, call->account_id,
             name);
}

const lb_bus_record_t *lb_bus_resolve(lb_engine_t *engine, lb_call_t *call, const char *name)
{
    if (!name) name = "default";
    const lb_bus_record_t *bus = lb_engine_bus_find(engine, call->region, name);
    if (bus) return bus;
    if (strcmp(name, "default") == 0) {
        /* Every region has a default bus; one first touched in a region that was never
         * configured is created in memory on demand, and persisted when it is updated. */
        lb_bus_record_t rec = {.region = call->region,
                               .name = "default",
                               .created_ms = call->now_ms,
                               .modified_ms = call->now_ms};
        lb_engine_bus_put(engine, &rec);
        return lb_engine_bus_find(engine, call->region, name);
    }
    lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.", name);
    return NULL;
}

/* BUS_RETAG rewrites the bus like BUS_UPDATE but answers with an empty object. */
typedef enum { BUS_CREATE, BUS_UPDATE, BUS_DELETE, BUS_RETAG } bus_change_t;

typedef struct {
    lb_engine_t *engine;
    bus_change_t change;
    lb_bus_record_t rec;
    int drop_source; /* BUS_DELETE: also forget the source its partner deleted */
} bus_job_t;

static void bus_job_free(void *arg)
{
    bus_job_t *job = arg;
    lb_bus_record_clear(&job->rec);
    free(job);
}

static int bus_job_txn(lb_store_t *store, void *arg)
{
    bus_job_t *job = arg;
    switch (job->change) {
    case BUS_CREATE:
        return lb_store_bus_insert(store, &job->rec);
    case BUS_DELETE: {
        int rc = lb_store_bus_delete(store, job->rec.region, job->rec.name);
        if (rc == 0 && job->drop_source) {
            rc = lb_docs_store_delete(store, LB_DOC_EVENT_SOURCE, job->rec.region, job->rec.name);
            if (rc == LB_ENOTFOUND) rc = 0;
        }
        return rc;
    }
    case BUS_RETAG:
    case BUS_UPDATE: {
        int rc = lb_store_bus_update(store, &job->rec);
        /* The default bus of a region may live only in memory until its first update. */
        if (rc == LB_ENOTFOUND && strcmp(job->rec.name, "default") == 0)
            rc = lb_store_bus_insert(store, &job->rec);
        return rc;
    }
    }
    return -1;
}

static void put_dlq(lb_buf_t *b, const char *dlq_arn)
{
    if (!dlq_arn) return;
    lb_buf_puts(b, ",\"DeadLetterConfig\":{\"Arn\":");
    lb_buf_json_string(b, dlq_arn, strlen(dlq_arn));
    lb_buf_puts(b, "}");
}

/* The optional fields every bus response shares, after the caller's first member. */
static void put_bus_details(lb_buf_t *b, const lb_bus_record_t *bus)
{
    if (bus->description) lb_json_put_str(b, "Description", bus->description);
    if (bus->kms_key) lb_json_put_str(b, "KmsKeyIdentifier", bus->kms_key);
    put_dlq(b, bus->dlq_arn);
}

/* Describe and List add the resource policy, as a JSON text in a string (AWS's shape). */
static void put_policy(lb_buf_t *b, const lb_bus_record_t *bus)
{
    if (bus->policy) lb_json_put_str(b, "Policy", bus->policy);
}

/* Puts an updated bus in memory with the policy memory has now: a policy change may have
 * committed after this job copied the bus, and the store row kept it (update leaves it). */
static void put_keeping_policy(lb_engine_t *engine, lb_bus_record_t *bus)
{
    const lb_bus_record_t *now = lb_engine_bus_find(engine, bus->region, bus->name);
    char *policy = lb_strdup(now ? now->policy : NULL);
    free(bus->policy);
    bus->policy = policy;
    lb_engine_bus_put(engine, bus);
}

static void bus_job_finish(lb_call_t *call, int rc)
{
    bus_job_t *job = call->arg;
    lb_bus_record_t *bus = &job->rec;
    char arn[2048];
    if (rc) {
        char what[512];
        snprintf(what, sizeof what, "Event bus %s", bus->name);
        lb_call_error_code(call, rc, what);
        return;
    }
    lb_bus_arn(call, bus->name, arn, sizeof arn);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    switch (job->change) {
    case BUS_CREATE:
        lb_engine_bus_put(job->engine, bus);
        lb_buf_puts(b, "{\"EventBusArn\":");
        lb_buf_json_string(b, arn, strlen(arn));
        put_bus_details(b, bus);
        break;
    case BUS_UPDATE:
        put_keeping_policy(job->engine, bus);
        lb_buf_puts(b, "{\"Arn\":");
        lb_buf_json_string(b, arn, strlen(arn));
        lb_json_put_str(b, "Name", bus->name);
        put_bus_details(b, bus);
        break;
    case BUS_DELETE:
        lb_engine_bus_remove(job->engine, bus->region, bus->name);
        if (job->drop_source)
            lb_docs_remove(lb_engine_docs(job->engine), LB_DOC_EVENT_SOURCE, bus->region,
                           bus->name);
        lb_buf_puts(b, "{");
        break;
    case BUS_RETAG:
        put_keeping_policy(job->engine, bus);
        lb_buf_puts(b, "{");
        break;
    }
    lb_buf_puts(b, "}");
}

static void defer_bus_job(lb_engine_t *engine, lb_call_t *call, bus_change_t change,
                          lb_bus_record_t *rec)
{
    bus_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->change = change;
    job->drop_source = change == BUS_DELETE && lb_source_gone_with_bus(engine, call, rec->name);
    job->rec = *rec; /* takes ownership of the strings */
    memset(rec, 0, sizeof *rec);
    lb_call_defer(call, bus_job_txn, bus_job_finish, job, bus_job_free);
}

void lb_bus_defer_retag(lb_engine_t *engine, lb_call_t *call, const lb_bus_record_t *bus,
                        const char *tags_json)
{
    lb_bus_record_t rec = {
        .region = lb_strdup(bus->region),
        .name = lb_strdup(bus->name),
        .description = lb_strdup(bus->description),
        .kms_key = lb_strdup(bus->kms_key),
        .dlq_arn = lb_strdup(bus->dlq_arn),
        .tags_json = lb_strdup(tags_json),
        .created_ms = bus->created_ms,
        .modified_ms = bus->modified_ms,
    };
    defer_bus_job(engine, call, BUS_RETAG, &rec);
}

/* Description, KmsKeyIdentifier and DeadLetterConfig, shared by Create and Update. */
static int read_bus_settings(const lb_json_t *req, lb_call_t *call, lb_verrs_t *v,
                             lb_bus_record_t *rec)
{
    const char *desc, *kms, *dlq_arn = NULL;
    size_t dlq_arn_len = 0;
    const lb_json_t *dlq;
    if (lb_get_string(req, "Description", &desc, call) ||
        lb_get_string(req, "KmsKeyIdentifier", &kms, call) ||
        lb_get_object(req, "DeadLetterConfig", &dlq, call) ||
        (dlq && lb_get_string_n(dlq, "Arn", &dlq_arn, &dlq_arn_len, call)))
        return -1;
    if (lb_json_has_nul(dlq_arn, dlq_arn_len)) {
        lb_verr_add_n(v, dlq_arn, dlq_arn_len, "deadLetterConfig.arn", LB_VERR_NO_NUL);
        dlq_arn = NULL;
    }
    if (desc && lb_utf8_length(desc) > 512)
        lb_verr_add(v, desc, "description", "Member must have length less than or equal to 512");
    if (kms && lb_utf8_length(kms) > 2048)
        lb_verr_add(v, kms, "kmsKeyIdentifier",
                    "Member must have length less than or equal to 2048");
    if (dlq_arn && (lb_utf8_length(dlq_arn) < 1 || lb_utf8_length(dlq_arn) > 1600))
        lb_verr_add(v, dlq_arn, "deadLetterConfig.arn",
                    "Member must have length less than or equal to 1600");
    rec->description = lb_strdup(desc);
    rec->kms_key = lb_strdup(kms);
    rec->dlq_arn = lb_strdup(dlq_arn);
    return 0;
}

void lb_op_create_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *source;
    size_t name_len, source_len;
    lb_verrs_t v = {0};
    lb_bus_record_t rec = {0};
    if (lb_get_string_n(req, "Name", &name, &name_len, call) ||
        lb_get_string_n(req, "EventSourceName", &source, &source_len, call))
        return;
    if (source && (lb_utf8_length(source) > 256 || !lb_source_name_ok(source, source_len)))
        lb_verr_add_n(&v, source, source_len, "eventSourceName",
                      "Member must satisfy regular expression pattern: " LB_SOURCE_NAME_PATTERN);
    if (!name) {
        lb_verr_add(&v, NULL, "name", "Member must not be null");
    } else {
        size_t len = lb_utf8_length(name);
        if (name_len < 1 || len > 256)
            lb_verr_add_n(&v, name, name_len, "name",
                          name_len < 1 ? "Member must have length greater than or equal to 1"
                                       : "Member must have length less than or equal to 256");
        /* U+0000 is outside the pattern like any other character: "bus\u0000evil" is not
         * the bus "bus". */
        if (!lb_chars_only(name, name_len, "/.-_"))
            lb_verr_add_n(&v, name, name_len, "name",
                          "Member must satisfy regular expression pattern: " LB_BUS_NAME_PATTERN);
    }
    if (read_bus_settings(req, call, &v, &rec)) goto out;
    if (lb_verr_emit(&v, call)) goto out;
    if (strcmp(name, "default") == 0 || lb_engine_bus_find(engine, call->region, name)) {
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "Event bus %s already exists.", name);
        goto out;
    }
    if (strncmp(name, "aws.", 4) == 0 && !source) {
        lb_call_error(call, LB_AWS_VALIDATION, "EventBus name starting with 'aws.' is not valid.");
        goto out;
    }
    if (strchr(name, '/') && !source) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Event bus name must not contain '/' unless it is a partner event source "
                      "name.");
        goto out;
    }
    /* A partner bus is named after its source, which must have been offered to this account. */
    if (source && strcmp(name, source) != 0) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "The name of a partner event bus must be the name of its event source, %s.",
                      source);
        goto out;
    }
    if (source && !lb_source_for_customer(engine, call, source)) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event source %s does not exist.", source);
        goto out;
    }
    if (lb_read_tags(req, "Tags", &rec.tags_json, call)) goto out;
    rec.region = lb_strdup(call->region);
    rec.name = lb_strdup(name);
    rec.created_ms = rec.modified_ms = call->now_ms;
    defer_bus_job(engine, call, BUS_CREATE, &rec);
out:
    lb_buf_free(&v.text);
    lb_bus_record_clear(&rec);
}

/* Reads the optional Name (name or ARN) of Describe/Update; NULL means the default bus. */
static int read_bus_name(const lb_json_t *req, lb_call_t *call, const char **name)
{
    const char *given;
    size_t given_len;
    lb_verrs_t v = {0};
    *name = NULL;
    if (lb_get_string_n(req, "Name", &given, &given_len, call)) return -1;
    if (given && lb_check_bus_name_or_arn(given, given_len, "name", &v, name)) {
        lb_verr_emit(&v, call);
        return -1;
    }
    lb_buf_free(&v.text);
    return 0;
}

void lb_op_describe_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    if (read_bus_name(req, call, &name)) return;
    const lb_bus_record_t *bus = lb_bus_resolve(engine, call, name);
    if (!bus) return;
    char arn[2048];
    lb_bus_arn(call, bus->name, arn, sizeof arn);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"Name\":");
    lb_buf_json_string(b, bus->name, strlen(bus->name));
    lb_json_put_str(b, "Arn", arn);
    put_bus_details(b, bus);
    put_policy(b, bus);
    lb_json_put_time(b, "CreationTime", bus->created_ms);
    lb_json_put_time(b, "LastModifiedTime", bus->modified_ms);
    lb_buf_puts(b, "}");
}

void lb_op_update_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    lb_verrs_t v = {0};
    lb_bus_record_t rec = {0};
    if (read_bus_name(req, call, &name)) return;
    const lb_bus_record_t *bus = lb_bus_resolve(engine, call, name);
    if (!bus) return;
    if (read_bus_settings(req, call, &v, &rec) || lb_verr_emit(&v, call)) {
        lb_bus_record_clear(&rec);
        lb_buf_free(&v.text);
        return;
    }
    rec.region = lb_strdup(bus->region);
    rec.name = lb_strdup(bus->name);
    rec.tags_json = lb_strdup(bus->tags_json);
    rec.created_ms = bus->created_ms;
    rec.modified_ms = call->now_ms;
    defer_bus_job(engine, call, BUS_UPDATE, &rec);
}

void lb_op_delete_event_bus(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *given, *name;
    size_t given_len;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "Name", &given, &given_len, call)) return;
    if (!given) {
        lb_verr_add(&v, NULL, "name", "Member must not be null");
        lb_verr_emit(&v, call);
        return;
    }
    if (lb_check_bus_name_or_arn(given, given_len, "name", &v, &name)) {
        lb_verr_emit(&v, call);
        return;
    }
    lb_buf_free(&v.text);
    if (strcmp(name, "default") == 0) {
        lb_call_error(call, LB_AWS_VALIDATION, "Cannot delete event bus default.");
        return;
    }
    if (!lb_engine_bus_find(engine, call->region, name)) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.", name);
        return;
    }
    /* An archive is a managed rule on its bus in AWS, and AWS refuses to delete a bus that has
     * rules: the archives go first (DeleteArchive). */
    if (lb_archives_count_on_bus(lb_engine_archives(engine), call->region, name)) {
        lb_call_error(call, LB_AWS_VALIDATION, "EventBus can't be deleted since it has rules.");
        return;
    }
    lb_bus_record_t rec = {.region = lb_strdup(call->region), .name = lb_strdup(name)};
    defer_bus_job(engine, call, BUS_DELETE, &rec);
}

void lb_op_list_event_buses(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *prefix, *token;
    size_t prefix_len;
    int64_t limit;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "NamePrefix", &prefix, &prefix_len, call) ||
        lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit))
        return;
    if (prefix && (prefix_len < 1 || lb_utf8_length(prefix) > 256 ||
                   !lb_chars_only(prefix, prefix_len, "/.-_")))
        lb_verr_add_n(&v, prefix, prefix_len, "namePrefix",
                      "Member must satisfy regular expression pattern: " LB_BUS_NAME_PATTERN);
    if (lb_verr_emit(&v, call)) return;
    char start[1024];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    lb_bus_resolve(engine, call, NULL); /* make sure the region's default bus is listed */
    const char *from = start[0] ? start : (prefix ? prefix : "");
    size_t i = lb_engine_bus_lower_bound(engine, call->region, from);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"EventBuses\":[");
    int64_t n = 0;
    const lb_bus_record_t *bus;
    for (; (bus = lb_engine_bus_at(engine, i)) != NULL; i++) {
        if (strcmp(bus->region, call->region) != 0) break;
        if (prefix && strncmp(bus->name, prefix, strlen(prefix)) != 0) break;
        if (n == limit) {
            lb_json_close_page(b, bus->name);
            return;
        }
        char arn[2048];
        lb_bus_arn(call, bus->name, arn, sizeof arn);
        lb_buf_puts(b, n ? ",{\"Name\":" : "{\"Name\":");
        lb_buf_json_string(b, bus->name, strlen(bus->name));
        lb_json_put_str(b, "Arn", arn);
        put_bus_details(b, bus);
        put_policy(b, bus);
        lb_json_put_time(b, "CreationTime", bus->created_ms);
        lb_json_put_time(b, "LastModifiedTime", bus->modified_ms);
        lb_buf_puts(b, "}");
        n++;
    }
    lb_buf_puts(b, "]}");
}

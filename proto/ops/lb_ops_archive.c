#include "lb_ops_archive.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_archive_store.h"
#include "lb_ops_bus.h"
#include "lb_pattern.h"
#include "lb_replay_store.h"

#define MAX_ARN 1600
#define MAX_DESCRIPTION 512
#define MAX_KMS_KEY 2048

/* ---- shared checks ---- */

void lb_check_resource_name(lb_verrs_t *v, const char *name, size_t len, const char *member,
                            size_t max, int required)
{
    if (!name) {
        if (required) lb_verr_add(v, NULL, member, "Member must not be null");
        return;
    }
    char constraint[96];
    if (len < 1) {
        lb_verr_add_n(v, name, len, member, "Member must have length greater than or equal to 1");
    } else if (lb_utf8_length(name) > max) {
        snprintf(constraint, sizeof constraint, "Member must have length less than or equal to %zu",
                 max);
        lb_verr_add_n(v, name, len, member, constraint);
    }
    if (!lb_chars_only(name, len, ".-_"))
        lb_verr_add_n(v, name, len, member,
                      "Member must satisfy regular expression pattern: " LB_ARCHIVE_NAME_PATTERN);
}

/* The resource of an ARN matching LB_EVENTS_ARN_PATTERN, or NULL. */
static const char *events_arn_resource(const char *s, size_t len)
{
    size_t i = 7;
    if (len < 7 || memcmp(s, "arn:aws", 7) != 0) return NULL;
    while (i < len && (islower((unsigned char)s[i]) || s[i] == '-'))
        i++;
    if (len - i < 8 || memcmp(s + i, ":events:", 8) != 0) return NULL;
    i += 8;
    while (i < len && (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
        i++;
    if (i >= len || s[i++] != ':') return NULL;
    size_t digits = i;
    while (i < len && isdigit((unsigned char)s[i]))
        i++;
    if ((i - digits != 0 && i - digits != 12) || i >= len || s[i++] != ':') return NULL;
    /* ".+\/.+": a '/' with something on both sides; '.' matches no line break (nor U+0000). */
    const char *rest = s + i;
    size_t rlen = len - i;
    int slash = 0;
    for (size_t k = 0; k < rlen; k++) {
        if (rest[k] == '\n' || rest[k] == '\r' || rest[k] == '\0') return NULL;
        if (rest[k] == '/' && k > 0 && k + 1 < rlen) slash = 1;
    }
    return slash ? rest : NULL;
}

const char *lb_check_events_arn(lb_verrs_t *v, const char *arn, size_t len, const char *member,
                                int required)
{
    if (!arn) {
        if (required) lb_verr_add(v, NULL, member, "Member must not be null");
        return NULL;
    }
    if (len < 1) {
        lb_verr_add_n(v, arn, len, member, "Member must have length greater than or equal to 1");
    } else if (lb_utf8_length(arn) > MAX_ARN) {
        lb_verr_add_n(v, arn, len, member, "Member must have length less than or equal to 1600");
        return NULL;
    }
    const char *resource = events_arn_resource(arn, len);
    if (!resource)
        lb_verr_add_n(v, arn, len, member,
                      "Member must satisfy regular expression pattern: " LB_EVENTS_ARN_PATTERN);
    return resource;
}

int lb_enum_member(const char *value, const char *list)
{
    size_t n = strlen(value);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && memcmp(p, value, n) == 0) return 1;
        p += k;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

const char *lb_arn_resource_name(const char *resource)
{
    const char *slash = strchr(resource, '/');
    return slash ? slash + 1 : resource;
}

/* Description (at most 512 characters), as both Create and Update read it. */
static void check_description(lb_verrs_t *v, const char *desc, const char *member)
{
    if (desc && lb_utf8_length(desc) > MAX_DESCRIPTION)
        lb_verr_add(v, desc, member, "Member must have length less than or equal to 512");
}

/* The fields Create and Update share. Returns -1 with an error on the call. */
typedef struct {
    const char *description, *pattern, *kms_key;
    int64_t retention_days;
    int has_retention;
} archive_fields_t;

static int read_fields(const lb_json_t *req, lb_call_t *call, lb_verrs_t *v, archive_fields_t *f)
{
    memset(f, 0, sizeof *f);
    if (lb_get_string(req, "Description", &f->description, call) ||
        lb_get_string(req, "EventPattern", &f->pattern, call) ||
        lb_get_string(req, "KmsKeyIdentifier", &f->kms_key, call) ||
        lb_get_int(req, "RetentionDays", &f->retention_days, &f->has_retention, call))
        return -1;
    check_description(v, f->description, "description");
    if (f->pattern && lb_utf8_length(f->pattern) > LB_PATTERN_MAX_LEN)
        lb_verr_add(v, f->pattern, "eventPattern",
                    "Member must have length less than or equal to 4096");
    if (f->has_retention && (f->retention_days < 0 || f->retention_days > 2147483647)) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)f->retention_days);
        lb_verr_add(v, text, "retentionDays",
                    f->retention_days < 0 ? "Member must have value greater than or equal to 0"
                                          : "Member must have value less than or equal to "
                                            "2147483647");
    }
    if (f->kms_key && lb_utf8_length(f->kms_key) > MAX_KMS_KEY)
        lb_verr_add(v, f->kms_key, "kmsKeyIdentifier",
                    "Member must have length less than or equal to 2048");
    else if (f->kms_key && !lb_chars_only(f->kms_key, strlen(f->kms_key), "_-/:"))
        lb_verr_add(v, f->kms_key, "kmsKeyIdentifier",
                    "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-/:]*$");
    return 0;
}

/* ---- jobs ---- */

typedef enum { ARCHIVE_CREATE, ARCHIVE_UPDATE, ARCHIVE_DELETE } archive_change_t;

typedef struct {
    lb_engine_t *engine;
    archive_change_t change;
    lb_archive_t archive; /* the new definition, or (DELETE) the key and id */
    int64_t now_ms;
    char reason[160]; /* DELETE: why its replays end */
} archive_job_t;

static void archive_job_free(void *arg)
{
    archive_job_t *job = arg;
    lb_archive_clear(&job->archive);
    free(job);
}

static int archive_job_txn(lb_store_t *store, void *arg)
{
    archive_job_t *job = arg;
    switch (job->change) {
    case ARCHIVE_CREATE:
        return lb_store_archive_insert(store, &job->archive);
    case ARCHIVE_UPDATE:
        return lb_store_archive_update(store, &job->archive);
    case ARCHIVE_DELETE: {
        int rc = lb_store_archive_delete(store, job->archive.id);
        if (rc == 0)
            rc = lb_store_replays_archive_gone(store, job->archive.id, job->reason, job->now_ms);
        return rc;
    }
    }
    return -1;
}

/* {"ArchiveArn", "State", "StateReason"?, "CreationTime"}: what Create and Update answer. */
static void put_archive_state(lb_call_t *call, const lb_archive_t *a)
{
    char arn[2048];
    lb_archive_arn(a->region, call->account_id, a->name, arn, sizeof arn);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"ArchiveArn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    lb_json_put_str(b, "State", a->state);
    if (a->state_reason) lb_json_put_str(b, "StateReason", a->state_reason);
    lb_json_put_time(b, "CreationTime", a->created_ms);
    lb_buf_puts(b, "}");
}

static void archive_job_finish(lb_call_t *call, int rc)
{
    archive_job_t *job = call->arg;
    if (rc) {
        char what[128];
        snprintf(what, sizeof what, "Archive %s", job->archive.name);
        lb_call_error_code(call, rc, what);
        return;
    }
    lb_archives_t *archives = lb_engine_archives(job->engine);
    if (job->change == ARCHIVE_DELETE) {
        lb_archives_remove(archives, job->archive.region, job->archive.name);
        lb_replays_t *replays = lb_engine_replays(job->engine);
        if (lb_replays_archive_gone(replays, job->archive.id, job->reason, job->now_ms))
            lb_replays_changed(replays);
        lb_call_ok_json(call, "{}");
        return;
    }
    put_archive_state(call, &job->archive);
    lb_archives_put(archives, &job->archive);
}

static void defer_job(lb_engine_t *engine, lb_call_t *call, archive_change_t change,
                      lb_archive_t *a)
{
    archive_job_t *job = lb_xcalloc(1, sizeof *job);
    job->engine = engine;
    job->change = change;
    job->archive = *a; /* takes the contents */
    job->now_ms = call->now_ms;
    memset(a, 0, sizeof *a);
    snprintf(job->reason, sizeof job->reason, "Archive %s was deleted.", job->archive.name);
    lb_call_defer(call, archive_job_txn, archive_job_finish, job, archive_job_free);
}

/* ---- operations ---- */

/* The archive a request's ArchiveName names, or NULL with the error set. */
static lb_archive_t *lookup(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    size_t len;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "ArchiveName", &name, &len, call)) return NULL;
    lb_check_resource_name(&v, name, len, "archiveName", 48, 1);
    if (lb_verr_emit(&v, call)) return NULL;
    lb_archive_t *a = lb_archives_find(lb_engine_archives(engine), call->region, name);
    if (!a) lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Archive %s does not exist.", name);
    return a;
}

void lb_op_create_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name, *source;
    size_t name_len, source_len;
    archive_fields_t f;
    lb_verrs_t v = {0};
    if (lb_get_string_n(req, "ArchiveName", &name, &name_len, call) ||
        lb_get_string_n(req, "EventSourceArn", &source, &source_len, call))
        return;
    lb_check_resource_name(&v, name, name_len, "archiveName", 48, 1);
    const char *resource = lb_check_events_arn(&v, source, source_len, "eventSourceArn", 1);
    if (read_fields(req, call, &v, &f)) {
        lb_buf_free(&v.text);
        return;
    }
    if (lb_verr_emit(&v, call)) return;
    const lb_bus_record_t *bus = lb_bus_resolve(engine, call, lb_arn_resource_name(resource));
    if (!bus) return;
    if (lb_archives_find(lb_engine_archives(engine), call->region, name)) {
        lb_call_error(call, LB_AWS_RESOURCE_EXISTS, "Archive %s already exists.", name);
        return;
    }
    lb_archive_t a;
    char *err = NULL;
    if (lb_archive_init(&a, call->region, name, bus->name, f.description, f.pattern, f.kms_key,
                        f.has_retention ? f.retention_days : 0, call->now_ms, &err)) {
        lb_call_error(call, LB_AWS_INVALID_EVENT_PATTERN, "%s",
                      err ? err : "Event pattern is not valid.");
        free(err);
        return;
    }
    defer_job(engine, call, ARCHIVE_CREATE, &a);
}

/* The members DescribeArchive and ListArchives share, after the first. */
static void put_archive_details(lb_buf_t *b, const lb_archive_t *a, const char *account)
{
    char arn[2048];
    snprintf(arn, sizeof arn, "arn:aws:events:%s:%s:event-bus/%s", a->region, account, a->bus);
    lb_json_put_str(b, "EventSourceArn", arn);
    lb_json_put_str(b, "State", a->state);
    if (a->state_reason) lb_json_put_str(b, "StateReason", a->state_reason);
    lb_buf_printf(b, ",\"RetentionDays\":%lld,\"SizeBytes\":%lld,\"EventCount\":%lld",
                  (long long)a->retention_days, (long long)a->size_bytes,
                  (long long)a->event_count);
    lb_json_put_time(b, "CreationTime", a->created_ms);
}

void lb_op_describe_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    lb_archive_t *a = lookup(engine, req, call);
    if (!a) return;
    char arn[2048];
    lb_archive_arn(a->region, call->account_id, a->name, arn, sizeof arn);
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"ArchiveArn\":");
    lb_buf_json_string(b, arn, strlen(arn));
    lb_json_put_str(b, "ArchiveName", a->name);
    if (a->description) lb_json_put_str(b, "Description", a->description);
    if (a->event_pattern) lb_json_put_str(b, "EventPattern", a->event_pattern);
    if (a->kms_key) lb_json_put_str(b, "KmsKeyIdentifier", a->kms_key);
    put_archive_details(b, a, call->account_id);
    lb_buf_puts(b, "}");
}

/* ListArchives' filters: at most one of them. */
typedef struct {
    const char *prefix, *bus, *state;
} list_filter_t;

static int archive_listed(const lb_archive_t *a, const list_filter_t *f)
{
    if (f->prefix && strncmp(a->name, f->prefix, strlen(f->prefix)) != 0) return 0;
    if (f->bus && strcmp(a->bus, f->bus) != 0) return 0;
    return !f->state || strcmp(a->state, f->state) == 0;
}

int lb_read_list_filter(const lb_json_t *req, lb_call_t *call, const char *op, size_t prefix_max,
                        const char *states, const char **prefix, const char **resource,
                        const char **state)
{
    const char *source;
    size_t prefix_len, source_len;
    lb_verrs_t v = {0};
    *resource = NULL;
    if (lb_get_string_n(req, "NamePrefix", prefix, &prefix_len, call) ||
        lb_get_string_n(req, "EventSourceArn", &source, &source_len, call) ||
        lb_get_string(req, "State", state, call))
        return -1;
    lb_check_resource_name(&v, *prefix, prefix_len, "namePrefix", prefix_max, 0);
    *resource = lb_check_events_arn(&v, source, source_len, "eventSourceArn", 0);
    if (*state && !lb_enum_member(*state, states)) {
        char msg[256];
        snprintf(msg, sizeof msg, "Member must satisfy enum value set: [%s]", states);
        lb_verr_add(&v, *state, "state", msg);
    }
    if (lb_verr_emit(&v, call)) return -1;
    if (!!*prefix + !!source + !!*state > 1) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "At most one filter is allowed for %s. Use either : State, EventSourceArn, "
                      "or NamePrefix.",
                      op);
        return -1;
    }
    return 0;
}

/* Reads and checks ListArchives' filters; -1 with the error set. */
static int read_list_filter(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call,
                            list_filter_t *f)
{
    const char *resource;
    memset(f, 0, sizeof *f);
    if (lb_read_list_filter(req, call, "ListArchives", 48, LB_ARCHIVE_STATES, &f->prefix, &resource,
                            &f->state))
        return -1;
    if (resource) {
        const lb_bus_record_t *bus = lb_bus_resolve(engine, call, lb_arn_resource_name(resource));
        if (!bus) return -1;
        f->bus = bus->name;
    }
    return 0;
}

void lb_op_list_archives(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *token;
    int64_t limit;
    list_filter_t f;
    if (lb_get_string(req, "NextToken", &token, call) || lb_read_limit(req, call, &limit) ||
        read_list_filter(engine, req, call, &f))
        return;
    char start[256];
    if (lb_read_next_token(token, call, start, sizeof start)) return;
    lb_archives_t *archives = lb_engine_archives(engine);
    const char *from = start[0] ? start : (f.prefix ? f.prefix : "");
    lb_buf_t *b = &call->body;
    call->status = 200;
    b->len = 0;
    lb_buf_puts(b, "{\"Archives\":[");
    int64_t n = 0;
    lb_archive_t *a;
    for (size_t i = lb_archives_lower_bound(archives, call->region, from);
         (a = lb_archives_at(archives, i)) != NULL; i++) {
        if (strcmp(a->region, call->region) != 0) break;
        if (f.prefix && strncmp(a->name, f.prefix, strlen(f.prefix)) != 0) break;
        if (!archive_listed(a, &f)) continue;
        if (n == limit) {
            lb_json_close_page(b, a->name);
            return;
        }
        lb_buf_puts(b, n++ ? ",{\"ArchiveName\":" : "{\"ArchiveName\":");
        lb_buf_json_string(b, a->name, strlen(a->name));
        put_archive_details(b, a, call->account_id);
        lb_buf_puts(b, "}");
    }
    lb_buf_puts(b, "]}");
}

void lb_op_update_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    const char *name;
    size_t len;
    lb_verrs_t v = {0};
    archive_fields_t f;
    if (lb_get_string_n(req, "ArchiveName", &name, &len, call)) return;
    lb_check_resource_name(&v, name, len, "archiveName", 48, 1);
    if (read_fields(req, call, &v, &f)) {
        lb_buf_free(&v.text);
        return;
    }
    if (lb_verr_emit(&v, call)) return;
    if (!f.description && !f.pattern && !f.has_retention && !f.kms_key) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "At least one of EventPattern, RetentionDays or Description must be "
                      "provided.");
        return;
    }
    lb_archive_t *old = lb_archives_find(lb_engine_archives(engine), call->region, name);
    if (!old) {
        lb_call_error(call, LB_AWS_RESOURCE_NOT_FOUND, "Archive %s does not exist.", name);
        return;
    }
    lb_archive_t a;
    char *err = NULL;
    /* What the request leaves out stays as it was. */
    if (lb_archive_init(
            &a, old->region, old->name, old->bus, f.description ? f.description : old->description,
            f.pattern ? f.pattern : old->event_pattern, f.kms_key ? f.kms_key : old->kms_key,
            f.has_retention ? f.retention_days : old->retention_days, old->created_ms, &err)) {
        lb_call_error(call, LB_AWS_INVALID_EVENT_PATTERN, "%s",
                      err ? err : "Event pattern is not valid.");
        free(err);
        return;
    }
    a.id = old->id;
    a.modified_ms = call->now_ms;
    defer_job(engine, call, ARCHIVE_UPDATE, &a);
}

void lb_op_delete_archive(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    lb_archive_t *old = lookup(engine, req, call);
    if (!old) return;
    lb_archive_t key = {.id = old->id,
                        .region = lb_strdup(old->region),
                        .name = lb_strdup(old->name),
                        .state = lb_strdup(old->state)};
    defer_job(engine, call, ARCHIVE_DELETE, &key);
}

/* lb_ingest: the one road into an event bus. See lb_ingest.h. */
#include "lb_ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_archive_store.h"
#include "lb_delivery.h"
#include "lb_json.h"
#include "lb_pattern.h"
#include "lb_rules.h"
#include "lb_text.h"
#include "lb_transform.h"
#include "lb_util.h"

/* One accepted event, as the store keeps it. */
typedef struct {
    char id[37];
    char *region, *bus;
    int64_t ingested_ms;
    lb_text_t *envelope;
    /* A replayed event is already stored under its id (it keeps it): no second row. */
    int replayed;
    char *trace_header;
    size_t first_hit, n_hits; /* its rule hits in the batch's hits */
} ingested_t;

/* One archived copy of an accepted event. */
typedef struct {
    int64_t archive_id;
    int64_t event_time_ms, archived_ms, size;
    lb_text_t *envelope; /* the event's own envelope text, shared */
} archived_t;

struct lb_ingest_batch {
    ingested_t *events;
    size_t n_events, cap_events;
    archived_t *archived;
    size_t n_archived, cap_archived;
    lb_delivery_t **deliveries;
    size_t n_deliveries, cap_deliveries;
    lb_rule_hit_t *hits;
    size_t n_hits, cap_hits;
};

/* The event being built: its envelope as text and as a tree, both from one parse. */
typedef struct {
    lb_json_doc_t *doc;
    lb_json_t *tree;
    lb_buf_t text;
    char id[37];
    int64_t time_ms;          /* the envelope's "time" (whole seconds) */
    int64_t size;             /* what it adds to an archive's SizeBytes */
    const char *trace_header; /* borrowed from the entry or the context */
} building_t;

lb_ingest_batch_t *lb_ingest_batch_new(void)
{
    return lb_xcalloc(1, sizeof(lb_ingest_batch_t));
}

void lb_ingest_batch_free(lb_ingest_batch_t **bp)
{
    lb_ingest_batch_t *b = *bp;
    if (!b) return;
    for (size_t i = 0; i < b->n_events; i++) {
        free(b->events[i].region);
        free(b->events[i].bus);
        free(b->events[i].trace_header);
        lb_text_unref(&b->events[i].envelope);
    }
    free(b->events);
    for (size_t i = 0; i < b->n_archived; i++)
        lb_text_unref(&b->archived[i].envelope);
    free(b->archived);
    for (size_t i = 0; i < b->n_deliveries; i++)
        lb_delivery_free(&b->deliveries[i]);
    free(b->deliveries);
    for (size_t i = 0; i < b->n_hits; i++) {
        free((char *)b->hits[i].region);
        free((char *)b->hits[i].bus);
        free((char *)b->hits[i].rule);
    }
    free(b->hits);
    free(b);
    *bp = NULL;
}

size_t lb_ingest_batch_events(const lb_ingest_batch_t *b)
{
    return b->n_events;
}

static int new_id(const lb_ingest_ctx_t *ctx, char out[37])
{
    return ctx->new_id ? ctx->new_id(ctx->id_ctx, out) : lb_uuid_v4(out);
}

/* ---- envelopes ---- */

static void put_member(building_t *ev, const char *key, const char *value)
{
    lb_buf_append(&ev->text, ",\"", 2);
    lb_buf_puts(&ev->text, key);
    lb_buf_append(&ev->text, "\":", 2);
    lb_buf_json_string(&ev->text, value, strlen(value));
    lb_json_add_str(ev->doc, ev->tree, key, value);
}

/* The envelope EventBridge delivers, in its key order, around a Detail parsed already (detail,
 * owned by ev->doc) whose exact text is detail_text. */
static void build_envelope(building_t *ev, const lb_ingest_ctx_t *ctx, const char *source,
                           const char *detail_type, int64_t time_ms, const char *const *resources,
                           size_t n_resources, lb_json_t *detail, const char *detail_text,
                           size_t detail_len)
{
    char when[32];
    lb_format_time_iso(time_ms, when);
    ev->time_ms = time_ms - ((time_ms % 1000) + 1000) % 1000;
    /* SizeBytes as AWS counts it for an archive: the entry's Source, DetailType, Detail (as the
     * client wrote it) and Resources, plus the event's time as text. This reproduces the 159
     * bytes AWS recorded for each event of LocalStack's test_list_archive_with_events. */
    ev->size = (int64_t)(strlen(source) + strlen(detail_type) + detail_len + strlen(when));
    for (size_t i = 0; i < n_resources; i++)
        ev->size += (int64_t)strlen(resources[i]);
    ev->tree = lb_json_new(ev->doc, LB_JSON_OBJECT);
    lb_buf_puts(&ev->text, "{\"version\":\"0\"");
    lb_json_add_str(ev->doc, ev->tree, "version", "0");
    put_member(ev, "id", ev->id);
    put_member(ev, "detail-type", detail_type);
    put_member(ev, "source", source);
    put_member(ev, "account", ctx->account);
    put_member(ev, "time", when);
    put_member(ev, "region", ctx->region);
    lb_buf_puts(&ev->text, ",\"resources\":[");
    lb_json_t *list =
        lb_json_add(ev->doc, ev->tree, "resources", lb_json_new(ev->doc, LB_JSON_ARRAY));
    for (size_t i = 0; i < n_resources; i++) {
        if (i) lb_buf_append(&ev->text, ",", 1);
        lb_buf_json_string(&ev->text, resources[i], strlen(resources[i]));
        lb_json_add(ev->doc, list, NULL, lb_json_new_str(ev->doc, resources[i]));
    }
    /* The Detail goes in as the client wrote it, whitespace removed: every escape and every
     * digit of every number kept. */
    lb_buf_puts(&ev->text, "],\"detail\":");
    lb_json_minify(&ev->text, detail_text, detail_len);
    lb_buf_append(&ev->text, "}", 1);
    lb_json_add(ev->doc, ev->tree, "detail", detail);
}

static void building_clear(building_t *ev)
{
    lb_json_doc_free(&ev->doc);
    lb_buf_free(&ev->text);
}

/* ---- matching and deliveries ---- */

static int rule_allowed(const lb_origin_t *o, const lb_rule_t *rule)
{
    if (!o->rule_names) return 1;
    for (size_t i = 0; i < o->n_rule_names; i++)
        if (strcmp(o->rule_names[i], rule->name) == 0) return 1;
    return 0;
}

/* The event flattened for matching, made from the tree the first time a rule or an archive
 * needs it (never re-parsed), or NULL with an error. */
static int flat_event(const lb_json_t *tree, lb_event_t **flat)
{
    return *flat ? 0 : lb_event_from_json(tree, flat);
}

/* The rules the event reaches: a schedule's firing goes to its own rules; anything else is
 * matched against the bus's patterns. *out is malloc'd. */
static int reached_rules(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus,
                         const lb_json_t *tree, lb_event_t **flat, lb_rule_t ***out, size_t *n)
{
    lb_rules_t *rules = lb_engine_rules(e);
    *out = NULL;
    *n = 0;
    if (ctx->origin.kind == LB_ORIGIN_SCHEDULE) {
        *out = lb_xcalloc(ctx->origin.n_rule_names + 1, sizeof **out);
        for (size_t i = 0; i < ctx->origin.n_rule_names; i++) {
            lb_rule_t *r = lb_rules_find(rules, ctx->region, bus, ctx->origin.rule_names[i]);
            if (r && lb_rule_enabled(r)) (*out)[(*n)++] = r;
        }
        return 0;
    }
    if (!lb_rules_bus_has_patterns(rules, ctx->region, bus)) return 0;
    int rc = flat_event(tree, flat);
    if (rc) return rc;
    rc = lb_rules_match(rules, ctx->region, bus, *flat, out, n);
    if (rc) return rc;
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++)
        if (rule_allowed(&ctx->origin, (*out)[i])) (*out)[kept++] = (*out)[i];
    *n = kept;
    return 0;
}

/* The archives of the bus that keep this event, by id, into ids (room for every archive). A
 * replayed event is never archived. */
static int reached_archives(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus,
                            const lb_json_t *tree, lb_event_t **flat, int64_t *ids, size_t *n)
{
    lb_archives_t *archives = lb_engine_archives(e);
    *n = 0;
    if (ctx->origin.kind == LB_ORIGIN_REPLAY) return 0;
    for (size_t i = 0; i < lb_archives_count(archives); i++) {
        const lb_archive_t *a = lb_archives_at(archives, i);
        if (strcmp(a->region, ctx->region) != 0 || strcmp(a->bus, bus) != 0) continue;
        if (lb_archive_needs_event(a)) {
            int rc = flat_event(tree, flat);
            if (rc) return rc;
        }
        if (lb_archive_wants(a, *flat)) ids[(*n)++] = a->id;
    }
    return 0;
}

static void push_archived(lb_ingest_batch_t *b, int64_t archive_id, const building_t *ev,
                          int64_t now_ms, lb_text_t *envelope)
{
    if (b->n_archived == b->cap_archived) {
        b->cap_archived = b->cap_archived ? 2 * b->cap_archived : 8;
        b->archived = lb_xrealloc(b->archived, b->cap_archived * sizeof *b->archived);
    }
    b->archived[b->n_archived++] = (archived_t){.archive_id = archive_id,
                                                .event_time_ms = ev->time_ms,
                                                .archived_ms = now_ms,
                                                .size = ev->size,
                                                .envelope = lb_text_ref(envelope)};
}

static void push_delivery(lb_ingest_batch_t *b, lb_delivery_t *d)
{
    if (b->n_deliveries == b->cap_deliveries) {
        b->cap_deliveries = b->cap_deliveries ? 2 * b->cap_deliveries : 8;
        b->deliveries = lb_xrealloc(b->deliveries, b->cap_deliveries * sizeof *b->deliveries);
    }
    b->deliveries[b->n_deliveries++] = d;
}

static void push_hit(lb_ingest_batch_t *b, const lb_rule_t *rule, int first)
{
    if (b->n_hits == b->cap_hits) {
        b->cap_hits = b->cap_hits ? 2 * b->cap_hits : 8;
        b->hits = lb_xrealloc(b->hits, b->cap_hits * sizeof *b->hits);
    }
    b->hits[b->n_hits++] = (lb_rule_hit_t){.region = lb_strdup(rule->region),
                                           .bus = lb_strdup(rule->bus),
                                           .rule = lb_strdup(rule->name),
                                           .first_for_event = first};
}

static lb_delivery_t *new_delivery(int64_t now_ms, const building_t *ev, const lb_rule_t *rule,
                                   const lb_target_t *t)
{
    lb_delivery_t *d = lb_delivery_new(ev->id, rule->region, rule->bus, rule->name, t->id, t->arn,
                                       t->json, t->dlq_arn);
    d->trace_header = lb_strdup(ev->trace_header);
    d->ingested_ms = d->age_base_ms = d->next_ms = now_ms;
    d->max_retries = t->max_attempts;
    d->max_age_s = t->max_age_s;
    return d;
}

/* One delivery per target of the rule, each body rendered from the event's tree. */
static void add_rule_deliveries(lb_ingest_batch_t *b, const lb_ingest_ctx_t *ctx,
                                const lb_rule_t *rule, const building_t *ev, lb_text_t *envelope)
{
    char arn[2048], ingestion[32];
    lb_input_ctx_t ictx = {.rule_arn = NULL};
    for (size_t t = 0; t < rule->n_targets; t++) {
        const lb_target_t *target = &rule->targets[t];
        if (lb_input_is_whole_event(target->input)) {
            lb_delivery_t *d = new_delivery(ctx->now_ms, ev, rule, target);
            lb_delivery_set_body(d, envelope);
            push_delivery(b, d);
            continue;
        }
        if (!ictx.rule_arn) { /* the <aws.events.*> values, once per rule that needs them */
            lb_rule_arn(rule->region, ctx->account, rule->bus, rule->name, arn, sizeof arn);
            lb_format_time_iso(ctx->now_ms, ingestion);
            ictx = (lb_input_ctx_t){
                .rule_arn = arn, .rule_name = rule->name, .ingestion_time = ingestion};
        }
        char *body;
        size_t len;
        int rc = lb_input_render_tree(target->input, ev->tree, lb_text_data(envelope),
                                      lb_text_len(envelope), &ictx, LB_INPUT_MAX_BODY, &body, &len);
        if (rc == -ENOENT) continue; /* an InputPath that names nothing delivers nothing */
        lb_delivery_t *d = new_delivery(ctx->now_ms, ev, rule, target);
        if (rc == 0) {
            lb_text_t *text = lb_text_adopt(body, len);
            lb_delivery_set_body(d, text);
            lb_text_unref(&text);
        } else {
            /* It can never be delivered: a dead letter at once, holding the event itself. */
            lb_delivery_set_body(d, envelope);
            d->dead_code = lb_strdup("INVALID_PARAMETER");
            char msg[256];
            snprintf(msg, sizeof msg,
                     rc == -E2BIG ? "The target input rendered for this event is larger than "
                                    "%d bytes (256 KB), the most a target can receive."
                                  : "The target input could not be rendered for this event.",
                     LB_INPUT_MAX_BODY);
            d->dead_message = lb_strdup(msg);
        }
        push_delivery(b, d);
    }
}

/* Matches a built event, renders its deliveries, picks its archives and adds it all to the
 * batch. */
static int admit(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus, building_t *ev,
                 lb_ingest_batch_t *b, char id_out[37])
{
    lb_rule_t **rules;
    size_t n_rules, n_archives = 0;
    lb_event_t *flat = NULL;
    int64_t *archive_ids =
        lb_xcalloc(lb_archives_count(lb_engine_archives(e)) + 1, sizeof(int64_t));
    int rc = reached_rules(e, ctx, bus, ev->tree, &flat, &rules, &n_rules);
    if (rc == 0) rc = reached_archives(e, ctx, bus, ev->tree, &flat, archive_ids, &n_archives);
    lb_event_free(&flat);
    if (rc) {
        free(rules);
        free(archive_ids);
        return rc;
    }
    size_t len;
    char *text = lb_buf_steal(&ev->text, &len);
    lb_text_t *envelope = lb_text_adopt(text, len);
    size_t first_hit = b->n_hits;
    for (size_t r = 0; r < n_rules; r++) {
        push_hit(b, rules[r], r == 0);
        add_rule_deliveries(b, ctx, rules[r], ev, envelope);
    }
    free(rules);
    for (size_t i = 0; i < n_archives; i++)
        push_archived(b, archive_ids[i], ev, ctx->now_ms, envelope);
    free(archive_ids);
    if (b->n_events == b->cap_events) {
        b->cap_events = b->cap_events ? 2 * b->cap_events : 4;
        b->events = lb_xrealloc(b->events, b->cap_events * sizeof *b->events);
    }
    ingested_t *row = &b->events[b->n_events++];
    memcpy(row->id, ev->id, sizeof row->id);
    row->region = lb_strdup(ctx->region);
    row->bus = lb_strdup(bus);
    row->ingested_ms = ctx->now_ms;
    row->envelope = envelope; /* the batch's reference */
    row->replayed = ctx->origin.kind == LB_ORIGIN_REPLAY;
    row->trace_header = lb_strdup(ev->trace_header);
    row->first_hit = first_hit;
    row->n_hits = n_rules;
    memcpy(id_out, ev->id, 37);
    return 0;
}

static int check_bus(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus)
{
    return lb_engine_bus_find(e, ctx->region, bus) ? 0 : LB_INGEST_ENOBUS;
}

int lb_ingest_entry(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus,
                    const lb_entry_t *entry, lb_ingest_batch_t *b, char id_out[37])
{
    int rc = check_bus(e, ctx, bus);
    if (rc) return rc;
    building_t ev = {.doc = lb_json_doc_new(), .trace_header = entry->trace_header};
    lb_json_t *detail;
    if (lb_json_parse_into(ev.doc, entry->detail, entry->detail_len, LB_JSON_EVENT_MAX_DEPTH,
                           &detail, NULL) ||
        detail->type != LB_JSON_OBJECT) {
        building_clear(&ev);
        return LB_INGEST_EMALFORMED;
    }
    if ((rc = new_id(ctx, ev.id))) {
        building_clear(&ev);
        return rc;
    }
    build_envelope(&ev, ctx, entry->source, entry->detail_type, entry->time_ms, entry->resources,
                   entry->n_resources, detail, entry->detail, entry->detail_len);
    rc = admit(e, ctx, bus, &ev, b, id_out);
    building_clear(&ev);
    return rc;
}

int lb_ingest_schedule(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const lb_rule_t *rule,
                       int64_t fire_ms, lb_ingest_batch_t *b, char id_out[37])
{
    char arn[2048];
    lb_rule_arn(rule->region, ctx->account, rule->bus, rule->name, arn, sizeof arn);
    const char *resources[] = {arn};
    const char *only[] = {rule->name};
    lb_entry_t entry = {.source = "aws.events",
                        .detail_type = "Scheduled Event",
                        .detail = "{}",
                        .detail_len = 2,
                        .resources = resources,
                        .n_resources = 1,
                        .time_ms = fire_ms};
    lb_ingest_ctx_t c = *ctx;
    c.region = rule->region;
    c.origin = (lb_origin_t){.kind = LB_ORIGIN_SCHEDULE, .rule_names = only, .n_rule_names = 1};
    return lb_ingest_entry(e, &c, rule->bus, &entry, b, id_out);
}

/* An event-bus target's body: its source, detail-type, detail, resources and time make a new
 * event on this bus (a new id, this account and region). */
static int rebuild_forwarded(const lb_ingest_ctx_t *ctx, const char *text, building_t *ev,
                             lb_json_t *root)
{
    const char *source = lb_json_get_str(root, "source");
    const char *detail_type = lb_json_get_str(root, "detail-type");
    lb_json_t *detail = (lb_json_t *)lb_json_get(root, "detail");
    const lb_json_t *res = lb_json_get(root, "resources");
    if (!source || !*source || !detail_type || !*detail_type ||
        !lb_json_is(detail, LB_JSON_OBJECT) || (res && res->type != LB_JSON_ARRAY))
        return LB_INGEST_EMALFORMED;
    int64_t time_ms = ctx->now_ms;
    const char *when = lb_json_get_str(root, "time");
    if (when && lb_parse_time_iso(when, &time_ms)) time_ms = ctx->now_ms;
    const char **resources = lb_xcalloc(res ? res->n_children + 1 : 1, sizeof *resources);
    size_t n = 0;
    lb_json_each(r, res)
    {
        if (r->type != LB_JSON_STRING || lb_json_has_nul(r->str, r->len)) {
            free(resources);
            return LB_INGEST_EMALFORMED;
        }
        resources[n++] = r->str;
    }
    int rc = new_id(ctx, ev->id);
    if (rc == 0)
        build_envelope(ev, ctx, source, detail_type, time_ms, resources, n, detail,
                       text + detail->src_off, detail->src_len);
    free(resources);
    return rc;
}

/* An archived envelope replayed: kept byte for byte, with "replay-name" where AWS puts it (in
 * the bodies AWS delivered for a replay: right after "region"), or last when there is no
 * region. */
static int rebuild_replayed(const lb_ingest_ctx_t *ctx, const char *text, size_t len,
                            building_t *ev, lb_json_t *root)
{
    const char *id = lb_json_get_str(root, "id");
    if (!id || strlen(id) >= sizeof ev->id || lb_json_get(root, "replay-name"))
        return LB_INGEST_EMALFORMED;
    memcpy(ev->id, id, strlen(id) + 1);
    ev->tree = root;
    const lb_json_t *region = lb_json_get(root, "region");
    /* Offsets are into text, which the root object spans from src_off. */
    size_t at = region ? region->src_off + region->src_len : root->src_off + root->src_len - 1;
    if (at > len) return LB_INGEST_EMALFORMED;
    lb_buf_append(&ev->text, text, at);
    if (region || root->n_children > 0) lb_buf_append(&ev->text, ",", 1);
    lb_buf_puts(&ev->text, "\"replay-name\":");
    lb_buf_json_string(&ev->text, ctx->origin.replay_name, strlen(ctx->origin.replay_name));
    lb_buf_append(&ev->text, text + at, len - at);
    lb_json_add_str(ev->doc, root, "replay-name", ctx->origin.replay_name);
    return 0;
}

int lb_ingest_envelope(lb_engine_t *e, const lb_ingest_ctx_t *ctx, const char *bus,
                       const char *envelope, size_t len, lb_ingest_batch_t *b, char id_out[37])
{
    int rc = check_bus(e, ctx, bus);
    if (rc) return rc;
    building_t ev = {.doc = lb_json_doc_new(), .trace_header = ctx->trace_header};
    lb_json_t *root;
    if (lb_json_parse_into(ev.doc, envelope, len, LB_JSON_EVENT_MAX_DEPTH + 1, &root, NULL) ||
        root->type != LB_JSON_OBJECT) {
        building_clear(&ev);
        return LB_INGEST_EMALFORMED;
    }
    if (ctx->origin.kind == LB_ORIGIN_REPLAY && ctx->origin.replay_name)
        rc = rebuild_replayed(ctx, envelope, len, &ev, root);
    else
        rc = rebuild_forwarded(ctx, envelope, &ev, root);
    if (rc == 0) rc = admit(e, ctx, bus, &ev, b, id_out);
    building_clear(&ev);
    return rc;
}

/* ---- store ---- */

int lb_ingest_batch_write(lb_store_t *s, lb_ingest_batch_t *b)
{
    for (size_t i = 0; i < b->n_events; i++) {
        const ingested_t *ev = &b->events[i];
        if (ev->replayed) continue;
        lb_event_record_t rec = {.id = ev->id,
                                 .region = ev->region,
                                 .bus = ev->bus,
                                 .ingested_ms = ev->ingested_ms,
                                 .envelope = lb_text_data(ev->envelope),
                                 .envelope_len = lb_text_len(ev->envelope),
                                 .trace_header = ev->trace_header};
        int rc = lb_store_event_insert(s, &rec);
        if (rc) return rc;
    }
    for (size_t i = 0; i < b->n_deliveries; i++) {
        int rc = lb_delivery_insert(s, b->deliveries[i]);
        if (rc) return rc;
    }
    if (!b->n_archived) return 0;
    lb_archive_row_t *rows = lb_xcalloc(b->n_archived, sizeof *rows);
    for (size_t i = 0; i < b->n_archived; i++) {
        const archived_t *a = &b->archived[i];
        rows[i] = (lb_archive_row_t){.archive_id = a->archive_id,
                                     .event_time_ms = a->event_time_ms,
                                     .archived_ms = a->archived_ms,
                                     .size = a->size,
                                     .envelope = lb_text_data(a->envelope),
                                     .envelope_len = lb_text_len(a->envelope)};
    }
    int rc = lb_store_archive_rows_write(s, rows, b->n_archived);
    free(rows);
    return rc;
}

void lb_ingest_batch_committed(lb_engine_t *e, lb_ingest_batch_t *b)
{
    for (size_t i = 0; lb_engine_has_event_hook(e) && i < b->n_events; i++) {
        const ingested_t *row = &b->events[i];
        lb_event_committed_t ev = {.id = row->id,
                                   .region = row->region,
                                   .bus = row->bus,
                                   .envelope = lb_text_data(row->envelope),
                                   .envelope_len = lb_text_len(row->envelope),
                                   .ingested_ms = row->ingested_ms,
                                   /* no rule matched anything in the batch: no hits array */
                                   .hits = b->hits ? b->hits + row->first_hit : NULL,
                                   .n_hits = row->n_hits,
                                   .replayed = row->replayed};
        lb_engine_event_committed(e, &ev);
    }
    lb_engine_deliveries_committed(e, b->deliveries, b->n_deliveries, b->hits, b->n_hits);
    b->n_deliveries = 0; /* the hook owns them now */
    lb_archives_t *archives = lb_engine_archives(e);
    for (size_t i = 0; i < b->n_archived; i++)
        lb_archives_add_counts(archives, b->archived[i].archive_id, 1, b->archived[i].size, 1);
}

size_t lb_ingest_batch_archived(const lb_ingest_batch_t *b)
{
    return b->n_archived;
}

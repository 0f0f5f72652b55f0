#include "lb_rules.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_sorted.h"
#include "lb_util.h"

typedef struct {
    char *region, *bus;
    lb_matcher_t *matcher;
} bus_index_t;

struct lb_rules {
    lb_sorted_t rules;  /* lb_rule_t *, by (region, bus, name) */
    lb_rule_t **by_uid; /* uid -> rule, NULL for a free uid */
    size_t n_uid;
    uint64_t *free_uids; /* of removed rules, reused so by_uid never outgrows the rule count */
    size_t n_free_uids;
    lb_rules_hook_fn hook;
    void *hook_ctx;
    bus_index_t *buses;
    size_t n_buses;
};

#define RULE(r, i) (((lb_rule_t **)(r)->rules.items)[i])

int lb_rules_new(lb_rules_t **out)
{
    lb_rules_t *r = lb_xcalloc(1, sizeof *r);
    r->n_uid = 1; /* uid 0 means "none" */
    r->by_uid = lb_xcalloc(1, sizeof *r->by_uid);
    *out = r;
    return 0;
}

void lb_target_clear(lb_target_t *t)
{
    free(t->id);
    free(t->arn);
    free(t->json);
    free(t->dlq_arn);
    lb_input_free(&t->input);
    lb_http_params_free(&t->http_params);
    memset(t, 0, sizeof *t);
}

void lb_rule_clear(lb_rule_t *rule)
{
    free(rule->region);
    free(rule->bus);
    free(rule->name);
    free(rule->event_pattern);
    free(rule->schedule);
    free(rule->state);
    free(rule->description);
    free(rule->role_arn);
    free(rule->managed_by);
    free(rule->tags_json);
    lb_pattern_free(&rule->pattern);
    lb_schedule_free(&rule->sched);
    for (size_t i = 0; i < rule->n_targets; i++)
        lb_target_clear(&rule->targets[i]);
    free(rule->targets);
    memset(rule, 0, sizeof *rule);
}

void lb_rules_free(lb_rules_t **rp)
{
    lb_rules_t *r = *rp;
    if (!r) return;
    for (size_t i = 0; i < r->rules.n; i++) {
        lb_rule_clear(RULE(r, i));
        free(RULE(r, i));
    }
    for (size_t i = 0; i < r->n_buses; i++) {
        free(r->buses[i].region);
        free(r->buses[i].bus);
        lb_matcher_free(&r->buses[i].matcher);
    }
    free(r->buses);
    lb_sorted_free(&r->rules);
    free(r->by_uid);
    free(r->free_uids);
    free(r);
    *rp = NULL;
}

int lb_rule_init(lb_rule_t *rule, const char *region, const char *bus, const char *name,
                 const char *event_pattern, const char *schedule, const char *state,
                 const char *description, const char *role_arn, const char *managed_by,
                 const char *tags_json, int64_t created_ms, char **errmsg)
{
    memset(rule, 0, sizeof *rule);
    if (event_pattern) {
        int rc = lb_pattern_compile(event_pattern, strlen(event_pattern), &rule->pattern, errmsg);
        if (rc) return rc;
    }
    rule->region = lb_strdup(region);
    rule->bus = lb_strdup(bus);
    rule->name = lb_strdup(name);
    rule->event_pattern = lb_strdup(event_pattern);
    rule->schedule = lb_strdup(schedule);
    rule->state = lb_strdup(state ? state : "ENABLED");
    rule->description = lb_strdup(description);
    rule->role_arn = lb_strdup(role_arn);
    rule->managed_by = lb_strdup(managed_by);
    rule->tags_json = lb_strdup(tags_json);
    rule->created_ms = rule->schedule_since_ms = created_ms;
    if (schedule) lb_schedule_parse(schedule, strlen(schedule), &rule->sched, NULL);
    return 0;
}

int lb_rule_enabled(const lb_rule_t *rule)
{
    return strncmp(rule->state, "ENABLED", 7) == 0;
}

static const char *json_str(const lb_json_t *o, const char *key)
{
    return lb_json_get_str(o, key);
}

/* A RetryPolicy number as an int: PutTargets keeps them in range, but a stored definition is
 * read back too, and converting a double outside int's range is undefined behaviour. */
static int json_int(const lb_json_t *o, const char *key, int dflt)
{
    int64_t v = lb_json_get_int(o, key, dflt);
    return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

int lb_target_init(lb_target_t *t, const char *target_json, char **errmsg)
{
    memset(t, 0, sizeof *t);
    lb_json_doc_t *doc = NULL;
    if (lb_json_parse(target_json, strlen(target_json), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) ||
        lb_json_doc_root(doc)->type != LB_JSON_OBJECT) {
        lb_json_doc_free(&doc);
        if (errmsg) *errmsg = lb_strdup("Target is not a JSON object.");
        return -EINVAL;
    }
    const lb_json_t *o = lb_json_doc_root(doc);
    const char *id = json_str(o, "Id"), *arn = json_str(o, "Arn");
    const lb_json_t *xf = lb_json_get(o, "InputTransformer");
    char *paths = NULL;
    const char *tmpl = NULL;
    if (lb_json_is(xf, LB_JSON_OBJECT)) {
        const lb_json_t *map = lb_json_get(xf, "InputPathsMap");
        if (map) paths = lb_json_print(map, NULL);
        tmpl = json_str(xf, "InputTemplate");
        if (!tmpl) tmpl = "";
    }
    int rc = lb_input_compile_for_target(id ? id : "", json_str(o, "Input"),
                                         json_str(o, "InputPath"), paths, tmpl, &t->input, errmsg);
    free(paths);
    if (rc) {
        lb_json_doc_free(&doc);
        return rc;
    }
    t->id = lb_strdup(id ? id : "");
    t->arn = lb_strdup(arn ? arn : "");
    t->json = lb_json_print(o, NULL);
    t->dlq_arn = lb_strdup(json_str(lb_json_get(o, "DeadLetterConfig"), "Arn"));
    const lb_json_t *retry = lb_json_get(o, "RetryPolicy");
    t->max_attempts = json_int(retry, "MaximumRetryAttempts", LB_RETRY_MAX_ATTEMPTS_DEFAULT);
    t->max_age_s = json_int(retry, "MaximumEventAgeInSeconds", LB_RETRY_MAX_AGE_S_DEFAULT);
    lb_http_params_compile(lb_json_get(o, "HttpParameters"), &t->http_params);
    lb_json_doc_free(&doc);
    return 0;
}

typedef struct {
    const char *region, *bus, *name;
} rule_key_t;

static int key_cmp(const void *elem, const void *key)
{
    const lb_rule_t *a = *(lb_rule_t *const *)elem;
    const rule_key_t *k = key;
    int c = strcmp(a->region, k->region);
    if (!c) c = strcmp(a->bus, k->bus);
    if (!c) c = strcmp(a->name, k->name);
    return c;
}

size_t lb_rules_lower_bound(const lb_rules_t *r, const char *region, const char *bus,
                            const char *name)
{
    return lb_sorted_lower_bound(&r->rules, sizeof(lb_rule_t *), &(rule_key_t){region, bus, name},
                                 key_cmp);
}

lb_rule_t *lb_rules_find(const lb_rules_t *r, const char *region, const char *bus, const char *name)
{
    lb_rule_t **p = lb_sorted_find(&r->rules, sizeof *p, &(rule_key_t){region, bus, name}, key_cmp);
    return p ? *p : NULL;
}

lb_rule_t *lb_rules_at(const lb_rules_t *r, size_t i)
{
    return i < r->rules.n ? RULE(r, i) : NULL;
}

size_t lb_rules_count(const lb_rules_t *r)
{
    return r->rules.n;
}

size_t lb_rules_count_on_bus(const lb_rules_t *r, const char *region, const char *bus)
{
    size_t n = 0;
    for (size_t i = lb_rules_lower_bound(r, region, bus, ""); i < r->rules.n; i++) {
        if (strcmp(RULE(r, i)->region, region) || strcmp(RULE(r, i)->bus, bus)) break;
        n++;
    }
    return n;
}

static bus_index_t *bus_index(lb_rules_t *r, const char *region, const char *bus, int create)
{
    for (size_t i = 0; i < r->n_buses; i++)
        if (strcmp(r->buses[i].region, region) == 0 && strcmp(r->buses[i].bus, bus) == 0)
            return &r->buses[i];
    if (!create) return NULL;
    r->buses = lb_xrealloc(r->buses, (r->n_buses + 1) * sizeof *r->buses);
    bus_index_t *b = &r->buses[r->n_buses++];
    b->region = lb_strdup(region);
    b->bus = lb_strdup(bus);
    lb_matcher_new(&b->matcher);
    return b;
}

/* Keeps the bus's matcher in step with one rule: indexed iff enabled with a pattern. */
static void index_rule(lb_rules_t *r, lb_rule_t *rule)
{
    bus_index_t *b = bus_index(r, rule->region, rule->bus, 1);
    if (rule->pattern && lb_rule_enabled(rule))
        lb_matcher_add(b->matcher, rule->uid, rule->pattern);
    else
        lb_matcher_remove(b->matcher, rule->uid);
}

/* A bus's index goes with its last rule, so buses created and deleted by the thousand (a test
 * suite's unique names) leave nothing behind and the per-event lookup stays short. */
static void drop_bus_index_if_unused(lb_rules_t *r, const char *region, const char *bus)
{
    if (lb_rules_count_on_bus(r, region, bus)) return;
    for (size_t i = 0; i < r->n_buses; i++) {
        bus_index_t *b = &r->buses[i];
        if (strcmp(b->region, region) || strcmp(b->bus, bus)) continue;
        free(b->region);
        free(b->bus);
        lb_matcher_free(&b->matcher);
        r->buses[i] = r->buses[--r->n_buses];
        return;
    }
}

static void unindex_rule(lb_rules_t *r, lb_rule_t *rule)
{
    bus_index_t *b = bus_index(r, rule->region, rule->bus, 0);
    if (b) lb_matcher_remove(b->matcher, rule->uid);
    r->by_uid[rule->uid] = NULL;
}

void lb_rules_set_hook(lb_rules_t *r, lb_rules_hook_fn fn, void *ctx)
{
    r->hook = fn;
    r->hook_ctx = ctx;
}

static uint64_t take_uid(lb_rules_t *r)
{
    if (r->n_free_uids) return r->free_uids[--r->n_free_uids];
    r->by_uid = lb_xrealloc(r->by_uid, (r->n_uid + 1) * sizeof *r->by_uid);
    return r->n_uid++;
}

int lb_rules_put(lb_rules_t *r, lb_rule_t *rule)
{
    lb_rule_t *slot = lb_rules_find(r, rule->region, rule->bus, rule->name);
    uint64_t uid;
    if (slot) {
        /* A replaced rule keeps its uid: the matcher entry is rebuilt under the same id. */
        uid = slot->uid;
        unindex_rule(r, slot);
        lb_rule_clear(slot);
    } else {
        lb_rule_t **p = lb_sorted_insert_at(
            &r->rules, sizeof *p, lb_rules_lower_bound(r, rule->region, rule->bus, rule->name));
        slot = *p = lb_xcalloc(1, sizeof *slot);
        uid = take_uid(r);
    }
    *slot = *rule;
    memset(rule, 0, sizeof *rule);
    slot->uid = uid;
    r->by_uid[uid] = slot;
    index_rule(r, slot);
    if (r->hook) r->hook(r->hook_ctx, slot, 0);
    return 0;
}

int lb_rules_remove(lb_rules_t *r, const char *region, const char *bus, const char *name)
{
    lb_rule_t *rule = lb_rules_find(r, region, bus, name);
    if (!rule) return LB_ENOTFOUND;
    if (r->hook) r->hook(r->hook_ctx, rule, 1);
    lb_sorted_erase_at(&r->rules, sizeof rule, lb_rules_lower_bound(r, region, bus, name));
    unindex_rule(r, rule);
    drop_bus_index_if_unused(r, rule->region, rule->bus);
    /* At most one free uid per uid ever taken: grows with the peak rule count only. */
    r->free_uids = lb_xrealloc(r->free_uids, (r->n_free_uids + 1) * sizeof *r->free_uids);
    r->free_uids[r->n_free_uids++] = rule->uid;
    lb_rule_clear(rule);
    free(rule);
    return 0;
}

int lb_rules_set_targets(lb_rules_t *r, lb_rule_t *rule, lb_target_t *targets, size_t n)
{
    (void)r;
    for (size_t i = 0; i < rule->n_targets; i++)
        lb_target_clear(&rule->targets[i]);
    free(rule->targets);
    rule->targets = NULL;
    if (n) { /* memcpy/memset with a NULL pointer are undefined even for 0 bytes */
        rule->targets = lb_xcalloc(n, sizeof *rule->targets);
        memcpy(rule->targets, targets, n * sizeof *targets);
        memset(targets, 0, n * sizeof *targets);
    }
    rule->n_targets = n;
    return 0;
}

int lb_rules_bus_has_patterns(const lb_rules_t *r, const char *region, const char *bus)
{
    bus_index_t *b = bus_index((lb_rules_t *)r, region, bus, 0);
    return b && lb_matcher_count(b->matcher) > 0;
}

int lb_rules_match(const lb_rules_t *r, const char *region, const char *bus,
                   const lb_event_t *event, lb_rule_t ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    bus_index_t *b = bus_index((lb_rules_t *)r, region, bus, 0);
    if (!b) return 0;
    uint64_t *ids;
    size_t count;
    int rc = lb_matcher_match(b->matcher, event, &ids, &count);
    if (rc) return rc;
    if (count) *out = lb_xcalloc(count, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        lb_rule_t *rule = ids[i] < r->n_uid ? r->by_uid[ids[i]] : NULL;
        if (rule) (*out)[(*n)++] = rule;
    }
    free(ids);
    return 0;
}

void lb_rule_arn(const char *region, const char *account, const char *bus, const char *name,
                 char *out, size_t outlen)
{
    if (strcmp(bus, "default") == 0)
        snprintf(out, outlen, "arn:aws:events:%s:%s:rule/%s", region, account, name);
    else
        snprintf(out, outlen, "arn:aws:events:%s:%s:rule/%s/%s", region, account, bus, name);
}

/* ---- store ---- */

int lb_store_rule_put(lb_store_t *s, const lb_rule_t *rule)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *o = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_add_str(doc, o, "EventPattern", rule->event_pattern);
    lb_json_add_str(doc, o, "ScheduleExpression", rule->schedule);
    lb_json_add_str(doc, o, "State", rule->state);
    lb_json_add_str(doc, o, "Description", rule->description);
    lb_json_add_str(doc, o, "RoleArn", rule->role_arn);
    lb_json_add_str(doc, o, "ManagedBy", rule->managed_by);
    lb_json_add_str(doc, o, "Tags", rule->tags_json);
    char *json = lb_json_print(o, NULL);
    lb_json_doc_free(&doc);
    sqlite3_stmt *st;
    int rc = LB_ESTORE;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "INSERT INTO rules (region, bus, name, json, created_ms,"
                           " schedule_since_ms) VALUES (?,?,?,?,?,?) ON CONFLICT (region, bus,"
                           " name) DO UPDATE SET json = excluded.json, schedule_since_ms ="
                           " excluded.schedule_since_ms",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, rule->region, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rule->bus, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, rule->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, rule->created_ms);
        sqlite3_bind_int64(st, 6, rule->schedule_since_ms);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : LB_ESTORE;
        sqlite3_finalize(st);
    }
    free(json);
    return rc;
}

static int exec_bound(lb_store_t *s, const char *sql, const char *a, const char *b, const char *c)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s), sql, -1, &st, NULL) != SQLITE_OK) return LB_ESTORE;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : LB_ESTORE;
    sqlite3_finalize(st);
    return rc;
}

int lb_store_rule_delete(lb_store_t *s, const char *region, const char *bus, const char *name)
{
    int rc = exec_bound(s, "DELETE FROM targets WHERE region = ? AND bus = ? AND rule = ?", region,
                        bus, name);
    if (rc) return rc;
    rc = exec_bound(s, "DELETE FROM rules WHERE region = ? AND bus = ? AND name = ?", region, bus,
                    name);
    if (rc == 0 && sqlite3_changes(lb_store_db(s)) == 0) return LB_ENOTFOUND;
    return rc;
}

int lb_store_rule_fired(lb_store_t *s, const char *region, const char *bus, const char *name,
                        int64_t fire_ms)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "UPDATE rules SET last_fired_ms = ?4 WHERE region = ?1 AND bus = ?2"
                           " AND name = ?3 AND (last_fired_ms IS NULL OR last_fired_ms < ?4)",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, fire_ms);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : LB_ESTORE;
    sqlite3_finalize(st);
    if (rc || sqlite3_changes(lb_store_db(s)) == 1) return rc;
    /* Nothing changed: the minute was recorded already, or the rule went meanwhile. */
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT 1 FROM rules WHERE region = ? AND bus = ? AND name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return LB_ESTORE;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? LB_ECONFLICT : step == SQLITE_DONE ? LB_ENOTFOUND : LB_ESTORE;
}

int lb_store_targets_replace(lb_store_t *s, const lb_rule_t *rule, const lb_target_t *targets,
                             size_t n)
{
    int rc = exec_bound(s, "DELETE FROM targets WHERE region = ? AND bus = ? AND rule = ?",
                        rule->region, rule->bus, rule->name);
    if (rc) return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "INSERT INTO targets (region, bus, rule, id, json) VALUES (?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_bind_text(st, 1, rule->region, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rule->bus, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, rule->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, targets[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, targets[i].json, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = LB_ESTORE;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_targets(lb_rules_t *r, lb_store_t *s, size_t *skipped)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT region, bus, rule, json FROM targets ORDER BY region, bus,"
                           " rule, rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_rule_t *rule = lb_rules_find(r, (const char *)sqlite3_column_text(st, 0),
                                        (const char *)sqlite3_column_text(st, 1),
                                        (const char *)sqlite3_column_text(st, 2));
        lb_target_t t;
        if (!rule || lb_target_init(&t, (const char *)sqlite3_column_text(st, 3), NULL)) {
            (*skipped)++;
            continue;
        }
        rule->targets = lb_xrealloc(rule->targets, (rule->n_targets + 1) * sizeof t);
        rule->targets[rule->n_targets++] = t;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_rules_load(lb_rules_t *r, lb_store_t *s, size_t *skipped)
{
    sqlite3_stmt *st;
    *skipped = 0;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT region, bus, name, json, created_ms, schedule_since_ms,"
                           " last_fired_ms FROM rules",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *json = (const char *)sqlite3_column_text(st, 3);
        lb_json_doc_t *doc = NULL;
        if (json)
            lb_json_parse(json, (size_t)sqlite3_column_bytes(st, 3), LB_JSON_REQUEST_MAX_DEPTH,
                          &doc, NULL);
        const lb_json_t *o = lb_json_doc_root(doc);
        lb_rule_t rule;
        if (!lb_json_is(o, LB_JSON_OBJECT) ||
            lb_rule_init(
                &rule, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
                json_str(o, "EventPattern"), json_str(o, "ScheduleExpression"),
                json_str(o, "State"), json_str(o, "Description"), json_str(o, "RoleArn"),
                json_str(o, "ManagedBy"), json_str(o, "Tags"), sqlite3_column_int64(st, 4), NULL)) {
            (*skipped)++;
            lb_json_doc_free(&doc);
            continue;
        }
        lb_json_doc_free(&doc);
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            rule.schedule_since_ms = sqlite3_column_int64(st, 5);
        rule.last_fired_ms = sqlite3_column_int64(st, 6);
        lb_rules_put(r, &rule);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return LB_ESTORE;
    return load_targets(r, s, skipped);
}

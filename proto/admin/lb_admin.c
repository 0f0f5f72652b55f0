#include "lb_admin.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_delivery.h"
#include "lb_ingest.h"
#include "lb_ops_rule.h"
#include "lb_schedule.h"
#include "lb_store.h"
#include "lb_store_cockpit.h"

/* Longest EventBusName (a name or ARN), RuleName and Region a filter may carry. */
#define MAX_FILTER_LEN 1600
#define REGION_LEN 32

/* ---- request fields ---- */

/* An optional string member: absent or null gives NULL. 0, or -1 with a ValidationException. */
static int opt_string(const lb_json_t *req, const char *key, size_t max_len, lb_call_t *call,
                      const char **out)
{
    const lb_json_t *v = lb_json_get(req, key);
    *out = NULL;
    if (!v || v->type == LB_JSON_NULL) return 0;
    if (v->type != LB_JSON_STRING || lb_json_has_nul(v->str, v->len)) {
        lb_call_error(call, LB_AWS_VALIDATION, "%s must be a string.", key);
        return -1;
    }
    if (v->len == 0 || v->len > max_len) {
        lb_call_error(call, LB_AWS_VALIDATION, "%s must be 1 to %zu characters long.", key,
                      max_len);
        return -1;
    }
    *out = v->str;
    return 0;
}

/* The decimal integer spelled by text (optional '-', then digits, nothing else), or -1. */
static int parse_integer(const char *text, size_t len, long long *out)
{
    size_t i = text[0] == '-' ? 1 : 0;
    if (len <= i || len > 20) return -1;
    for (size_t k = i; k < len; k++)
        if (!isdigit((unsigned char)text[k])) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno || (size_t)(end - text) != len) return -1;
    *out = v;
    return 0;
}

/* How a value is shown in a message: its JSON text, shortened. */
static void describe(const lb_json_t *v, char *out, size_t outlen)
{
    char *text = lb_json_print(v, NULL);
    snprintf(out, outlen, "%.60s%s", text, strlen(text) > 60 ? "..." : "");
    free(text);
}

/* Region: the call's unless the request names one. */
static int read_region(const lb_json_t *req, lb_call_t *call, char region[REGION_LEN])
{
    const char *r;
    if (opt_string(req, "Region", REGION_LEN - 1, call, &r)) return -1;
    if (!r) {
        snprintf(region, REGION_LEN, "%s", call->region);
        return 0;
    }
    for (const char *p = r; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-') {
            lb_call_error(call, LB_AWS_VALIDATION,
                          "Region '%s' must consist of lower-case letters, digits and '-'.", r);
            return -1;
        }
    snprintf(region, REGION_LEN, "%s", r);
    return 0;
}

/* Limit: 1..LB_ADMIN_MAX_LIMIT, default 100; an integer or its decimal text. */
static int read_limit(const lb_json_t *req, lb_call_t *call, int *limit)
{
    const lb_json_t *v = lb_json_get(req, "Limit");
    long long n = 0;
    *limit = 100;
    if (!v || v->type == LB_JSON_NULL) return 0;
    if ((v->type != LB_JSON_NUMBER && v->type != LB_JSON_STRING) ||
        parse_integer(v->str, v->len, &n) || n < 1 || n > LB_ADMIN_MAX_LIMIT) {
        char shown[80];
        describe(v, shown, sizeof shown);
        lb_call_error(call, LB_AWS_VALIDATION, "Limit must be an integer from 1 to %d; got %s.",
                      LB_ADMIN_MAX_LIMIT, shown);
        return -1;
    }
    *limit = (int)n;
    return 0;
}

/* NextToken: "<tag>.<n>[.<n>]" as this file writes it; fills up to two numbers. Absent: both
 * INT64_MAX (start at the newest). */
static int read_next_token(const lb_json_t *req, lb_call_t *call, char tag, int parts,
                           int64_t out[2])
{
    const char *token;
    out[0] = out[1] = INT64_MAX;
    if (opt_string(req, "NextToken", 128, call, &token)) return -1;
    if (!token) return 0;
    const char *p = token;
    int ok = p[0] == tag && p[1] == '.';
    p += 2;
    for (int i = 0; ok && i < parts; i++) {
        size_t n = strcspn(p, ".");
        long long v;
        ok =
            parse_integer(p, n, &v) == 0 && v >= 0 && (i == parts - 1 ? p[n] == '\0' : p[n] == '.');
        if (ok) out[i] = v;
        p += n + (p[n] == '.');
    }
    if (!ok) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "NextToken '%.100s' is not one this endpoint returned; pass back the "
                      "NextToken of the previous page unchanged.",
                      token);
        return -1;
    }
    return 0;
}

/* ---- listings (read on the reader thread) ---- */

typedef struct {
    char region[REGION_LEN];
    char *bus, *rule;
    char *source;     /* ListEvents: only events with this source */
    int64_t since_ms; /* ListEvents: only events received at or after this (0: any) */
    int limit;
    int64_t before[2]; /* cursor: events (seq); dead letters (dead_ms, seq) */
    lb_buf_t body;     /* the whole response, built on the reader thread */
    int count;
    int more;
    int64_t last[2];
} listing_t;

static void listing_free(void *arg)
{
    listing_t *l = arg;
    free(l->bus);
    free(l->rule);
    free(l->source);
    lb_buf_free(&l->body);
    free(l);
}

/* 1 when the page is full: the item at hand is the first of the next page. */
static int page_full(const listing_t *l)
{
    return l->count >= l->limit || (l->count > 0 && l->body.len >= LB_ADMIN_PAGE_BYTES);
}

static int add_event(const lb_event_record_t *ev, void *ctx)
{
    listing_t *l = ctx;
    if (page_full(l)) {
        l->more = 1;
        return 1;
    }
    lb_buf_puts(&l->body, l->count++ ? "," : "");
    lb_buf_append(&l->body, ev->envelope, ev->envelope_len);
    l->last[0] = ev->seq;
    return 0;
}

/* Ends the page: closes the list and adds NextToken when another item follows. */
static void close_page(listing_t *l, char tag, int parts)
{
    lb_buf_puts(&l->body, "]");
    if (l->more) {
        lb_buf_printf(&l->body, ",\"NextToken\":\"%c.%lld", tag, (long long)l->last[0]);
        if (parts > 1) lb_buf_printf(&l->body, ".%lld", (long long)l->last[1]);
        lb_buf_puts(&l->body, "\"");
    }
    lb_buf_puts(&l->body, "}");
}

static int read_events(lb_store_t *store, void *arg)
{
    listing_t *l = arg;
    lb_buf_puts(&l->body, "{\"Events\":[");
    /* One row beyond the limit tells whether another page follows. */
    int rc = l->source || l->since_ms
                 ? lb_store_events_filtered(store, l->region, l->bus, l->source, l->since_ms,
                                            l->before[0], l->limit + 1, add_event, l)
                 : lb_store_events_before(store, l->region, l->bus, l->before[0], l->limit + 1,
                                          add_event, l);
    if (rc < 0) return rc;
    close_page(l, 'e', 1);
    return 0;
}

static void finish_listing(lb_call_t *call, int rc, const char *what)
{
    listing_t *l = call->arg;
    if (rc) {
        /* The store's error codes speak of writes; a read failure says what it could not read. */
        lb_call_error(call, LB_AWS_INTERNAL, "Could not read %s from the store (code %d).", what,
                      rc);
        return;
    }
    lb_buf_free(&call->body);
    call->body = l->body;
    memset(&l->body, 0, sizeof l->body);
    call->status = 200;
}

static void finish_events(lb_call_t *call, int rc)
{
    finish_listing(call, rc, "events");
}

/* The filters and paging every listing shares. NULL with an error set on the call. */
static listing_t *read_listing(const lb_json_t *req, lb_call_t *call, char tag, int parts,
                               int with_rule)
{
    listing_t *l = lb_xcalloc(1, sizeof *l);
    const char *bus = NULL, *rule = NULL;
    if (read_region(req, call, l->region) ||
        opt_string(req, "EventBusName", MAX_FILTER_LEN, call, &bus) ||
        (with_rule && opt_string(req, "RuleName", MAX_FILTER_LEN, call, &rule)) ||
        read_limit(req, call, &l->limit) || read_next_token(req, call, tag, parts, l->before)) {
        listing_free(l);
        return NULL;
    }
    l->bus = bus ? lb_strdup(bus) : NULL;
    l->rule = rule ? lb_strdup(rule) : NULL;
    return l;
}

void lb_admin_list_events(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)engine;
    listing_t *l = read_listing(req, call, 'e', 1, 0);
    if (!l) return;
    const char *source = NULL, *since = NULL;
    if (opt_string(req, "Source", 256, call, &source) ||
        opt_string(req, "Since", 64, call, &since)) {
        listing_free(l);
        return;
    }
    if (since && lb_parse_time_iso(since, &l->since_ms)) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Since '%s' must be an ISO 8601 time such as 2024-01-31T12:00:00Z.", since);
        listing_free(l);
        return;
    }
    l->source = source ? lb_strdup(source) : NULL;
    lb_call_defer_read(call, read_events, finish_events, l, listing_free);
}

static void put_str(lb_buf_t *b, const char *key, const char *value)
{
    if (!value) return;
    lb_buf_printf(b, ",\"%s\":", key);
    lb_buf_json_string(b, value, strlen(value));
}

static int add_dead_letter(const lb_dead_letter_t *dl, void *ctx)
{
    listing_t *l = ctx;
    const lb_delivery_t *d = dl->delivery;
    if (page_full(l)) {
        l->more = 1;
        return 1;
    }
    lb_buf_t *b = &l->body;
    lb_buf_puts(b, l->count++ ? "," : "");
    lb_buf_printf(b, "{\"Id\":%lld,\"EventId\":\"%s\"", (long long)d->seq, d->event_id);
    put_str(b, "EventBusName", d->bus);
    put_str(b, "RuleName", d->rule);
    put_str(b, "TargetId", d->target_id);
    put_str(b, "TargetArn", d->target_arn);
    put_str(b, "ERROR_CODE", dl->error_code);
    put_str(b, "ERROR_MESSAGE", dl->error_message);
    put_str(b, "EXHAUSTED_RETRY_CONDITION", dl->exhausted);
    lb_buf_printf(b, ",\"RETRY_ATTEMPTS\":%d", d->attempts > 0 ? d->attempts - 1 : 0);
    lb_buf_printf(b, ",\"DeadAt\":%.3f,\"Body\":", (double)dl->dead_ms / 1000.0);
    lb_buf_json_string(b, d->body, d->body_len);
    lb_buf_puts(b, "}");
    l->last[0] = dl->dead_ms;
    l->last[1] = d->seq;
    return 0;
}

static int read_dead_letters(lb_store_t *store, void *arg)
{
    listing_t *l = arg;
    lb_buf_puts(&l->body, "{\"DeadLetters\":[");
    int rc = lb_dead_letters_before(store, l->region, l->bus, l->rule, l->before[0], l->before[1],
                                    l->limit + 1, add_dead_letter, l);
    if (rc < 0) return rc;
    close_page(l, 'd', 2);
    return 0;
}

static void finish_dead_letters(lb_call_t *call, int rc)
{
    finish_listing(call, rc, "dead letters");
}

void lb_admin_list_dead_letters(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    (void)engine;
    listing_t *l = read_listing(req, call, 'd', 2, 1);
    if (l) lb_call_defer_read(call, read_dead_letters, finish_dead_letters, l, listing_free);
}

/* ---- redrive (written on the writer thread) ---- */

typedef struct {
    lb_engine_t *engine;
    char region[REGION_LEN];
    char *bus, *rule;
    int64_t *ids; /* NULL: every dead letter the filters select */
    size_t n_ids;
    int64_t now_ms;
    lb_delivery_t **redriven;
    size_t n_redriven;
    size_t count;
} redrive_t;

static void redrive_free(void *arg)
{
    redrive_t *r = arg;
    for (size_t i = 0; i < r->n_redriven; i++)
        lb_delivery_free(&r->redriven[i]);
    free(r->redriven);
    free(r->ids);
    free(r->bus);
    free(r->rule);
    free(r);
}

static int collect_redriven(lb_delivery_t *d, void *ctx)
{
    redrive_t *r = ctx;
    r->redriven = lb_xrealloc(r->redriven, (r->n_redriven + 1) * sizeof *r->redriven);
    r->redriven[r->n_redriven++] = d;
    return 0;
}

static int redrive_txn(lb_store_t *store, void *arg)
{
    redrive_t *r = arg;
    return lb_dead_letters_redrive(store, r->region, r->bus, r->rule, r->ids, r->n_ids, r->now_ms,
                                   collect_redriven, r, &r->count);
}

static void finish_redrive(lb_call_t *call, int rc)
{
    redrive_t *r = call->arg;
    if (rc) {
        lb_call_error_code(call, rc, "the redrive");
        return;
    }
    /* Committed: the dispatcher schedules them (and owns them from here). */
    lb_engine_deliveries_committed(r->engine, r->redriven, r->n_redriven, NULL, 0);
    r->n_redriven = 0;
    call->status = 200;
    call->body.len = 0;
    lb_buf_printf(&call->body, "{\"Redriven\":%zu}", r->count);
}

/* Ids: every element an integer from 1 (a dead letter's Id). Anything else, 1e400 or 2.5 or
 * "3", is refused: it would otherwise be a float-to-integer conversion out of range. */
static int read_ids(const lb_json_t *req, lb_call_t *call, redrive_t *r)
{
    const lb_json_t *ids = lb_json_get(req, "Ids");
    if (!ids || ids->type == LB_JSON_NULL) return 0;
    if (ids->type != LB_JSON_ARRAY) {
        lb_call_error(call, LB_AWS_VALIDATION, "Ids must be a list of dead-letter Ids.");
        return -1;
    }
    if (ids->n_children > LB_ADMIN_MAX_IDS) {
        lb_call_error(call, LB_AWS_VALIDATION, "Ids may list at most %d dead letters; got %zu.",
                      LB_ADMIN_MAX_IDS, ids->n_children);
        return -1;
    }
    r->ids = lb_xcalloc(ids->n_children + 1, sizeof *r->ids);
    size_t i = 0;
    lb_json_each(id, ids)
    {
        long long v;
        if (id->type != LB_JSON_NUMBER || parse_integer(id->str, id->len, &v) || v < 1) {
            char shown[80];
            describe(id, shown, sizeof shown);
            lb_call_error(call, LB_AWS_VALIDATION,
                          "Ids[%zu] must be a dead-letter Id, an integer from 1 to %lld; got %s.",
                          i, (long long)INT64_MAX, shown);
            return -1;
        }
        r->ids[r->n_ids++] = v;
        i++;
    }
    return 0;
}

void lb_admin_redrive_dead_letters(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    redrive_t *r = lb_xcalloc(1, sizeof *r);
    r->engine = engine;
    r->now_ms = call->now_ms;
    const char *bus = NULL, *rule = NULL;
    if (read_region(req, call, r->region) ||
        opt_string(req, "EventBusName", MAX_FILTER_LEN, call, &bus) ||
        opt_string(req, "RuleName", MAX_FILTER_LEN, call, &rule) || read_ids(req, call, r)) {
        redrive_free(r);
        return;
    }
    if (r->ids && r->n_ids == 0) { /* an empty list selects nothing */
        redrive_free(r);
        lb_call_ok_json(call, "{\"Redriven\":0}");
        return;
    }
    r->bus = bus ? lb_strdup(bus) : NULL;
    r->rule = rule ? lb_strdup(rule) : NULL;
    lb_call_defer(call, redrive_txn, finish_redrive, r, redrive_free);
}

/* ---- firing a scheduled rule now (written on the writer thread) ---- */

typedef struct {
    lb_engine_t *engine;
    lb_ingest_batch_t *batch;
    char id[37];
    int64_t fire_ms;
} fire_t;

static void fire_free(void *arg)
{
    fire_t *f = arg;
    lb_ingest_batch_free(&f->batch);
    free(f);
}

/* The event alone: a firing asked for is an extra one, so the rule's last scheduled minute is
 * left as it is and its own firing of this minute still happens. */
static int fire_txn(lb_store_t *store, void *arg)
{
    fire_t *f = arg;
    return lb_ingest_batch_write(store, f->batch);
}

static void finish_fire(lb_call_t *call, int rc)
{
    fire_t *f = call->arg;
    if (rc) {
        lb_call_error_code(call, rc, "the firing");
        return;
    }
    lb_ingest_batch_committed(f->engine, f->batch);
    char when[32];
    lb_format_time_iso(f->fire_ms, when);
    call->status = 200;
    call->body.len = 0;
    lb_buf_printf(&call->body, "{\"EventId\":\"%s\",\"Time\":\"%s\"}", f->id, when);
}

void lb_admin_fire_scheduled_rule(lb_engine_t *engine, const lb_json_t *req, lb_call_t *call)
{
    char region[REGION_LEN];
    if (read_region(req, call, region)) return;
    snprintf(call->region, sizeof call->region, "%s", region);
    lb_rule_t *rule = lb_rule_lookup(engine, req, "Name", call);
    if (!rule) return;
    if (!rule->schedule) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Rule %s has no ScheduleExpression; only a scheduled rule can be fired.",
                      rule->name);
        return;
    }
    if (!lb_rule_enabled(rule)) {
        lb_call_error(call, LB_AWS_VALIDATION,
                      "Rule %s is %s; a disabled rule does not fire. Enable it first.", rule->name,
                      rule->state);
        return;
    }
    fire_t *f = lb_xcalloc(1, sizeof *f);
    f->engine = engine;
    f->batch = lb_ingest_batch_new();
    f->fire_ms = lb_minute_floor(call->now_ms);
    lb_ingest_ctx_t ctx = {.account = call->account_id, .now_ms = call->now_ms};
    int rc = lb_ingest_schedule(engine, &ctx, rule, f->fire_ms, f->batch, f->id);
    if (rc) {
        fire_free(f);
        lb_call_error_code(call, rc, "the firing");
        return;
    }
    lb_call_defer(call, fire_txn, finish_fire, f, fire_free);
}

/* lb_ingest, the one road into a bus: envelopes exactly as EventBridge builds them, one strict
 * parse per event (issue 8 B1: every Detail cJSON accepted and strict JSON refuses was stored and
 * never delivered), matching and rendering from that parse, event-bus targets, replays and
 * schedules, dead-on-arrival deliveries, and the write batch. */
#include <check.h>
#include <sqlite3.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_archive_store.h"
#include "lb_delivery.h"
#include "lb_engine.h"
#include "lb_ingest.h"
#include "lb_rules.h"
#include "lb_test.h"
#include "lb_util.h"

typedef struct {
    lb_delivery_t **ds;
    size_t n;
    size_t hits, first_hits;
} sink_t;

static void hook(void *ctx, lb_delivery_t **ds, size_t n, const lb_rule_hit_t *hits, size_t n_hits)
{
    sink_t *s = ctx;
    s->ds = lb_xrealloc(s->ds, (s->n + n + 1) * sizeof *s->ds);
    if (n > 0) /* a batch with no deliveries passes ds == NULL */
        memcpy(s->ds + s->n, ds, n * sizeof *ds);
    s->n += n;
    s->hits += n_hits;
    for (size_t i = 0; i < n_hits; i++)
        s->first_hits += hits[i].first_for_event != 0;
}

static void sink_clear(sink_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        lb_delivery_free(&s->ds[i]);
    free(s->ds);
    memset(s, 0, sizeof *s);
}

static int counter_id(void *ctx, char out[37])
{
    int *n = ctx;
    snprintf(out, 37, "00000000-0000-4000-8000-%012d", ++*n);
    return 0;
}

static lb_engine_t *engine;
static sink_t sink;
static int ids;

static void add_bus(const char *name)
{
    lb_bus_record_t b = {.region = "us-east-1", .name = (char *)name};
    ck_assert_int_eq(lb_engine_bus_put(engine, &b), 0);
}

static void add_rule(const char *bus, const char *name, const char *pattern,
                     const char *const *targets)
{
    lb_rule_t rule;
    ck_assert_int_eq(lb_rule_init(&rule, "us-east-1", bus, name, pattern,
                                  pattern ? NULL : "rate(1 minute)", NULL, NULL, NULL, NULL, NULL,
                                  1, NULL),
                     0);
    size_t n = 0;
    while (targets && targets[n])
        n++;
    lb_target_t *ts = lb_xcalloc(n + 1, sizeof *ts);
    for (size_t i = 0; i < n; i++) {
        char *err = NULL;
        ck_assert_msg(lb_target_init(&ts[i], targets[i], &err) == 0, "%s", err ? err : "");
    }
    lb_rules_t *rules = lb_engine_rules(engine);
    ck_assert_int_eq(lb_rules_put(rules, &rule), 0);
    lb_rule_t *stored = lb_rules_find(rules, "us-east-1", bus, name);
    lb_rules_set_targets(rules, stored, ts, n);
    free(ts);
}

static void setup(void)
{
    lb_engine_new(&engine);
    lb_engine_set_delivery_hook(engine, hook, &sink);
    add_bus("default");
    add_bus("other");
    ids = 0;
}

static void teardown(void)
{
    sink_clear(&sink);
    lb_engine_free(&engine);
}

static lb_ingest_ctx_t api_ctx(void)
{
    lb_ingest_ctx_t c = {.region = "us-east-1",
                         .account = "123456789012",
                         .now_ms = 1715000000123,
                         .origin = {.kind = LB_ORIGIN_API},
                         .new_id = counter_id,
                         .id_ctx = &ids};
    return c;
}

static int put(lb_ingest_batch_t *b, const char *bus, const char *source, const char *detail,
               char id[37])
{
    lb_ingest_ctx_t c = api_ctx();
    lb_entry_t e = {.source = source,
                    .detail_type = "T",
                    .detail = detail,
                    .detail_len = strlen(detail),
                    .time_ms = 1715000000000};
    return lb_ingest_entry(engine, &c, bus, &e, b, id);
}

/* Commits the batch (without a store) and returns the deliveries the hook received. */
static void commit(lb_ingest_batch_t **b)
{
    lb_ingest_batch_committed(engine, *b);
    lb_ingest_batch_free(b);
}

START_TEST(envelope_is_exact)
{
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          NULL};
    add_rule("default", "all", "{\"source\":[\"S\"]}", targets);
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    lb_ingest_ctx_t c = api_ctx();
    const char *res[] = {"arn:1", "arn:\"2\""};
    const char *detail = " { \"x\" : [1, 2.50, \"\\u00e9\"], \"n\": 12345678901234567890123 } ";
    lb_entry_t e = {.source = "S",
                    .detail_type = "T",
                    .detail = detail,
                    .detail_len = strlen(detail),
                    .resources = res,
                    .n_resources = 2,
                    .time_ms = 1715000000000};
    char id[37];
    ck_assert_int_eq(lb_ingest_entry(engine, &c, "default", &e, b, id), 0);
    ck_assert_str_eq(id, "00000000-0000-4000-8000-000000000001");
    commit(&b);
    ck_assert_uint_eq(sink.n, 1);
    ck_assert_str_eq(sink.ds[0]->body,
                     "{\"version\":\"0\",\"id\":\"00000000-0000-4000-8000-000000000001\","
                     "\"detail-type\":\"T\",\"source\":\"S\",\"account\":\"123456789012\","
                     "\"time\":\"2024-05-06T12:53:20Z\",\"region\":\"us-east-1\",\"resources\":"
                     "[\"arn:1\",\"arn:\\\"2\\\"\"],\"detail\":{\"x\":[1,2.50,\"\\u00e9\"],"
                     "\"n\":12345678901234567890123}}");
    ck_assert_int_eq(sink.ds[0]->ingested_ms, 1715000000123);
    ck_assert_str_eq(sink.ds[0]->rule, "all");
    ck_assert_uint_eq(sink.hits, 1);
}
END_TEST

/* B1: what cJSON accepted and strict JSON refuses is MalformedDetail at PutEvents time. */
START_TEST(malformed_details_are_refused)
{
    static const char *const bad[] = {
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":1.e5}",
        "{\"a\":\"x\ty\"}",
        "{\"a\":\"x\ny\"}",
        "\x0b{}",
        "{}\x0c",
        "\x01{}",
        "[1]",
        "\"s\"",
        "{}x",
        "{\"a\":1,}",
        "",
    };
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    char id[37];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(put(b, "default", "S", bad[i], id) == LB_INGEST_EMALFORMED, "accepted %s",
                      bad[i]);
    ck_assert_uint_eq(lb_ingest_batch_events(b), 0);
    /* A Detail nested 1000 deep is AWS's limit: accepted and matched; 1001 is refused. */
    char deep[8000];
    size_t n = (size_t)sprintf(deep, "{\"z\":1,\"a\":");
    for (int i = 1; i < 999; i++)
        n += (size_t)sprintf(deep + n, "{\"a\":");
    n += (size_t)sprintf(deep + n, "{}");
    for (int i = 0; i < 999; i++)
        deep[n++] = '}';
    deep[n] = 0;
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          NULL};
    add_rule("default", "deep", "{\"detail\":{\"z\":[1]}}", targets);
    ck_assert_int_eq(put(b, "default", "S", deep, id), 0);
    memmove(deep + 5, deep, n + 1);
    memcpy(deep, "{\"a\":", 5);
    strcat(deep, "}");
    ck_assert_int_eq(put(b, "default", "S", deep, id), LB_INGEST_EMALFORMED);
    ck_assert_uint_eq(lb_ingest_batch_events(b), 1);
    commit(&b);
    ck_assert_uint_eq(sink.n, 1);
}
END_TEST

START_TEST(unknown_bus)
{
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    char id[37];
    ck_assert_int_eq(put(b, "ghost", "S", "{}", id), LB_INGEST_ENOBUS);
    lb_ingest_batch_free(&b);
}
END_TEST

START_TEST(targets_render_from_the_one_parse)
{
    static const char *const targets[] = {
        "{\"Id\":\"whole\",\"Arn\":\"arn:aws:sqs:us-east-1:1:a\"}",
        "{\"Id\":\"path\",\"Arn\":\"arn:aws:sqs:us-east-1:1:b\",\"InputPath\":\"$.detail.n\"}",
        "{\"Id\":\"none\",\"Arn\":\"arn:aws:sqs:us-east-1:1:c\",\"InputPath\":\"$.detail.zz\"}",
        "{\"Id\":\"xf\",\"Arn\":\"arn:aws:sqs:us-east-1:1:d\",\"InputTransformer\":{"
        "\"InputPathsMap\":{\"n\":\"$.detail.n\"},\"InputTemplate\":\"{\\\"v\\\":<n>,"
        "\\\"r\\\":\\\"<aws.events.rule-name>\\\"}\"}}",
        NULL};
    add_rule("default", "r1", "{\"detail\":{\"n\":[{\"numeric\":[\">\",1]}]}}", targets);
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    char id[37];
    ck_assert_int_eq(put(b, "default", "S", "{\"n\":12345678901234567890123}", id), 0);
    ck_assert_int_eq(put(b, "default", "S", "{\"n\":0}", id), 0);
    commit(&b);
    ck_assert_uint_eq(sink.n, 3); /* "none" names nothing in this event: no delivery */
    ck_assert_str_eq(sink.ds[0]->target_id, "whole");
    ck_assert_str_eq(sink.ds[1]->target_id, "path");
    ck_assert_str_eq(sink.ds[1]->body, "12345678901234567890123");
    ck_assert_str_eq(sink.ds[2]->body, "{\"v\":12345678901234567890123,\"r\":\"r1\"}");
    ck_assert_uint_eq(sink.hits, 1);
}
END_TEST

/* B8: a body over 256 KB is a dead letter at once, never sent, never built whole. */
START_TEST(oversized_body_is_dead_on_arrival)
{
    static const char *const targets[] = {
        "{\"Id\":\"big\",\"Arn\":\"arn:aws:sqs:us-east-1:1:a\",\"InputTransformer\":{"
        "\"InputPathsMap\":{\"b\":\"$.detail.b\"},\"InputTemplate\":\"<b><b><b><b>\"}}",
        NULL};
    add_rule("default", "r", "{\"source\":[\"S\"]}", targets);
    size_t n = 100 * 1024;
    char *detail = malloc(n + 16);
    strcpy(detail, "{\"b\":\"");
    memset(detail + 6, 'x', n);
    strcpy(detail + 6 + n, "\"}");
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    char id[37];
    ck_assert_int_eq(put(b, "default", "S", detail, id), 0);
    commit(&b);
    ck_assert_uint_eq(sink.n, 1);
    ck_assert_str_eq(sink.ds[0]->dead_code, "INVALID_PARAMETER");
    ck_assert_ptr_nonnull(strstr(sink.ds[0]->dead_message, "256 KB"));
    free(detail);
}
END_TEST

START_TEST(bus_target_keeps_content_with_a_new_id)
{
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          NULL};
    add_rule("other", "fwd", "{\"source\":[\"S\"]}", targets);
    const char *body = "{\"version\":\"0\",\"id\":\"old\",\"detail-type\":\"T\",\"source\":\"S\","
                       "\"account\":\"999999999999\",\"time\":\"2020-01-02T03:04:05Z\","
                       "\"region\":\"eu-west-1\",\"resources\":[\"r\"],"
                       "\"detail\":{ \"e\":\"\\u00e9\",\"n\":1.50 }}";
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    lb_ingest_ctx_t c = api_ctx();
    c.origin.kind = LB_ORIGIN_BUS_TARGET;
    char id[37];
    ck_assert_int_eq(lb_ingest_envelope(engine, &c, "other", body, strlen(body), b, id), 0);
    ck_assert_str_ne(id, "old");
    ck_assert_int_eq(lb_ingest_envelope(engine, &c, "other", "{\"source\":\"S\"}", 14, b, id),
                     LB_INGEST_EMALFORMED);
    commit(&b);
    ck_assert_uint_eq(sink.n, 1);
    ck_assert_str_eq(sink.ds[0]->body,
                     "{\"version\":\"0\",\"id\":\"00000000-0000-4000-8000-000000000001\","
                     "\"detail-type\":\"T\",\"source\":\"S\",\"account\":\"123456789012\","
                     "\"time\":\"2020-01-02T03:04:05Z\",\"region\":\"us-east-1\","
                     "\"resources\":[\"r\"],\"detail\":{\"e\":\"\\u00e9\",\"n\":1.50}}");
}
END_TEST

/* An entry's TraceHeader goes with every delivery of the event, and an event-bus target passes
 * its own on to the event it puts on the next bus. */
START_TEST(trace_header_goes_with_the_event)
{
    static const char *const targets[] = {"{\"Id\":\"a\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          "{\"Id\":\"b\",\"Arn\":\"arn:aws:sqs:us-east-1:1:r\"}",
                                          NULL};
    add_rule("default", "traced", "{\"source\":[\"S\"]}", targets);
    add_rule("other", "next", "{\"source\":[\"S\"]}", targets);
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    lb_ingest_ctx_t c = api_ctx();
    lb_entry_t e = {.source = "S",
                    .detail_type = "T",
                    .detail = "{}",
                    .detail_len = 2,
                    .time_ms = 1,
                    .trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"};
    char id[37];
    ck_assert_int_eq(lb_ingest_entry(engine, &c, "default", &e, b, id), 0);
    e.trace_header = NULL;
    ck_assert_int_eq(lb_ingest_entry(engine, &c, "default", &e, b, id), 0);
    c.origin.kind = LB_ORIGIN_BUS_TARGET;
    c.trace_header = "Root=1-hop";
    const char *env = "{\"source\":\"S\",\"detail-type\":\"T\",\"detail\":{}}";
    ck_assert_int_eq(lb_ingest_envelope(engine, &c, "other", env, strlen(env), b, id), 0);
    commit(&b);
    ck_assert_uint_eq(sink.n, 6);
    ck_assert_str_eq(sink.ds[0]->trace_header,
                     "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
    ck_assert_str_eq(sink.ds[1]->trace_header, sink.ds[0]->trace_header);
    ck_assert_ptr_null(sink.ds[2]->trace_header);
    ck_assert_ptr_null(sink.ds[3]->trace_header);
    ck_assert_str_eq(sink.ds[4]->trace_header, "Root=1-hop");
    ck_assert_str_eq(sink.ds[5]->trace_header, "Root=1-hop");
}
END_TEST

START_TEST(replay_keeps_id_and_adds_its_name)
{
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          NULL};
    add_rule("default", "a", "{\"source\":[\"S\"]}", targets);
    add_rule("default", "b", "{\"source\":[\"S\"]}", targets);
    const char *env = "{\"version\":\"0\",\"id\":\"e-1\",\"source\":\"S\",\"detail\":{}}";
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    lb_ingest_ctx_t c = api_ctx();
    const char *only[] = {"b"};
    c.origin = (lb_origin_t){
        .kind = LB_ORIGIN_REPLAY, .replay_name = "r1", .rule_names = only, .n_rule_names = 1};
    char id[37];
    ck_assert_int_eq(lb_ingest_envelope(engine, &c, "default", env, strlen(env), b, id), 0);
    ck_assert_str_eq(id, "e-1");
    commit(&b);
    ck_assert_uint_eq(sink.n, 1);
    ck_assert_str_eq(sink.ds[0]->rule, "b");
    ck_assert_str_eq(sink.ds[0]->body, "{\"version\":\"0\",\"id\":\"e-1\",\"source\":\"S\","
                                       "\"detail\":{},\"replay-name\":\"r1\"}");
}
END_TEST

START_TEST(schedule_reaches_only_its_rule)
{
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          NULL};
    add_rule("default", "tick", NULL, targets);
    add_rule("default", "all", "{\"source\":[\"aws.events\"]}", targets);
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    lb_ingest_ctx_t c = api_ctx();
    const char *only[] = {"tick"};
    c.origin = (lb_origin_t){.kind = LB_ORIGIN_SCHEDULE, .rule_names = only, .n_rule_names = 1};
    lb_entry_t e = {.source = "aws.events",
                    .detail_type = "Scheduled Event",
                    .detail = "{}",
                    .detail_len = 2,
                    .time_ms = 1715000040000};
    char id[37];
    ck_assert_int_eq(lb_ingest_entry(engine, &c, "default", &e, b, id), 0);
    commit(&b);
    ck_assert_uint_eq(sink.n, 1);
    ck_assert_str_eq(sink.ds[0]->rule, "tick");
}
END_TEST

/* The event AWS sends for a firing, byte for byte and in AWS's key order, to that rule alone
 * (another rule of the bus whose pattern would match it gets nothing; a custom input applies). */
START_TEST(scheduled_event_is_exact)
{
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          "{\"Id\":\"c\",\"Arn\":\"arn:aws:sqs:us-east-1:1:c\","
                                          "\"Input\":\"{\\\"custom-value\\\":1}\"}",
                                          NULL};
    add_rule("default", "tick", NULL, targets);
    add_rule("default", "all", "{\"source\":[\"aws.events\"]}", targets);
    lb_rule_t *rule = lb_rules_find(lb_engine_rules(engine), "us-east-1", "default", "tick");
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    lb_ingest_ctx_t c = api_ctx();
    c.region = "elsewhere"; /* the rule's region counts */
    char id[37];
    ck_assert_int_eq(lb_ingest_schedule(engine, &c, rule, 1715000040000, b, id), 0);
    ck_assert_uint_eq(lb_ingest_batch_events(b), 1);
    commit(&b);
    ck_assert_uint_eq(sink.n, 2);
    ck_assert_str_eq(sink.ds[0]->rule, "tick");
    ck_assert_str_eq(sink.ds[0]->body,
                     "{\"version\":\"0\",\"id\":\"00000000-0000-4000-8000-000000000001\","
                     "\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\","
                     "\"account\":\"123456789012\",\"time\":\"2024-05-06T12:54:00Z\","
                     "\"region\":\"us-east-1\",\"resources\":[\"arn:aws:events:us-east-1:"
                     "123456789012:rule/tick\"],\"detail\":{}}");
    ck_assert_str_eq(sink.ds[1]->body, "{\"custom-value\":1}");
    ck_assert_uint_eq(sink.first_hits, 1);
}
END_TEST

START_TEST(batch_is_written_in_one_go)
{
    lb_test_db_setup_named("ingest");
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          NULL};
    add_rule("default", "r", "{\"source\":[\"S\"]}", targets);
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    char id[37];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(put(b, "default", "S", "{}", id), 0);
    ck_assert_int_eq(lb_store_begin(s), 0);
    ck_assert_int_eq(lb_ingest_batch_write(s, b), 0);
    ck_assert_int_eq(lb_store_commit(s), 0);
    commit(&b);
    int64_t n;
    ck_assert_int_eq(lb_store_event_count(s, &n), 0);
    ck_assert_int_eq(n, 3);
    for (size_t i = 0; i < sink.n; i++)
        ck_assert_int_gt(sink.ds[i]->seq, 0);
    lb_store_close(&s);
    lb_test_db_remove();
}
END_TEST

START_TEST(replay_name_goes_after_region)
{
    /* Where AWS put it in the bodies it delivered for a replay (LocalStack's
     * test_start_list_describe_canceled_replay): after "region", before "resources". */
    const char *env = "{\"version\":\"0\",\"id\":\"e-2\",\"detail-type\":\"T\",\"source\":\"S\","
                      "\"account\":\"1\",\"time\":\"2024-05-06T12:53:20Z\",\"region\":\"r\","
                      "\"resources\":[],\"detail\":{\"a\":1}}";
    static const char *const targets[] = {"{\"Id\":\"t\",\"Arn\":\"arn:aws:sqs:us-east-1:1:q\"}",
                                          NULL};
    add_rule("default", "all", "{\"source\":[\"S\"]}", targets);
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    lb_ingest_ctx_t c = api_ctx();
    c.origin = (lb_origin_t){.kind = LB_ORIGIN_REPLAY, .replay_name = "rp"};
    char id[37];
    ck_assert_int_eq(lb_ingest_envelope(engine, &c, "default", env, strlen(env), b, id), 0);
    commit(&b);
    ck_assert_uint_eq(sink.n, 1);
    ck_assert_str_eq(sink.ds[0]->body,
                     "{\"version\":\"0\",\"id\":\"e-2\",\"detail-type\":\"T\",\"source\":\"S\","
                     "\"account\":\"1\",\"time\":\"2024-05-06T12:53:20Z\",\"region\":\"r\","
                     "\"replay-name\":\"rp\",\"resources\":[],\"detail\":{\"a\":1}}");
    /* An envelope with no member at all still becomes valid JSON. */
    b = lb_ingest_batch_new();
    const char *empty = "{\"id\":\"e-3\"}";
    ck_assert_int_eq(lb_ingest_envelope(engine, &c, "default", empty, strlen(empty), b, id), 0);
    lb_ingest_batch_free(&b);
}
END_TEST

static void add_archive(int64_t id, const char *name, const char *bus, const char *pattern)
{
    lb_archive_t a;
    ck_assert_int_eq(lb_archive_init(&a, "us-east-1", name, bus, NULL, pattern, NULL, 0, 1, NULL),
                     0);
    a.id = id;
    ck_assert_int_eq(lb_archives_put(lb_engine_archives(engine), &a), 0);
}

static int64_t archived_rows(lb_store_t *s, const char *where)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM archive_events WHERE %s", where);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(lb_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

START_TEST(archives_keep_their_events_in_the_same_batch)
{
    lb_test_db_setup_named("ingest-archive");
    lb_store_t *s;
    ck_assert_int_eq(lb_store_open(lb_test_db, NULL, &s), 0);
    /* The archives as the store knows them, so their rows and counters can be written. */
    const char *names[] = {"all", "some", "elsewhere"}, *buses[] = {"default", "default", "other"};
    const char *patterns[] = {NULL, "{\"source\":[\"core.update-account-command\"]}", NULL};
    for (int i = 0; i < 3; i++) {
        lb_archive_t a;
        ck_assert_int_eq(lb_archive_init(&a, "us-east-1", names[i], buses[i], NULL, patterns[i],
                                         NULL, 0, 1, NULL),
                         0);
        ck_assert_int_eq(lb_store_archive_insert(s, &a), 0);
        ck_assert_int_eq(a.id, i + 1);
        ck_assert_int_eq(lb_archives_put(lb_engine_archives(engine), &a), 0);
    }
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    /* LocalStack's TEST_EVENT_DETAIL as json.dumps writes it: 159 bytes of SizeBytes each, as
     * AWS recorded (1590 for ten). */
    const char *detail = "{\"command\": \"update-account\", \"payload\": {\"acc_id\": "
                         "\"0a787ecb-4015\", \"sf_id\": \"baz\"}}";
    lb_ingest_ctx_t c = api_ctx();
    lb_entry_t e = {.source = "core.update-account-command",
                    .detail_type = "core.update-account-command",
                    .detail = detail,
                    .detail_len = strlen(detail),
                    .time_ms = 1715000000999};
    char id[37];
    ck_assert_int_eq(lb_ingest_entry(engine, &c, "default", &e, b, id), 0);
    ck_assert_int_eq(put(b, "default", "other-source", "{}", id), 0);
    ck_assert_uint_eq(lb_ingest_batch_archived(b), 3); /* all x2, some x1 */
    /* A replayed event is never archived, nor stored again under its id. */
    lb_ingest_ctx_t rc = api_ctx();
    rc.origin = (lb_origin_t){.kind = LB_ORIGIN_REPLAY, .replay_name = "rp"};
    const char *env = "{\"id\":\"00000000-0000-4000-8000-000000000001\",\"source\":\"x\"}";
    ck_assert_int_eq(lb_ingest_envelope(engine, &rc, "default", env, strlen(env), b, id), 0);
    ck_assert_uint_eq(lb_ingest_batch_archived(b), 3);
    ck_assert_int_eq(lb_store_begin(s), 0);
    ck_assert_int_eq(lb_ingest_batch_write(s, b), 0);
    ck_assert_int_eq(lb_store_commit(s), 0);
    commit(&b);
    int64_t n;
    ck_assert_int_eq(lb_store_event_count(s, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(archived_rows(s, "archive_id = 1"), 2);
    ck_assert_int_eq(archived_rows(s, "archive_id = 2 AND size = 159 AND archived_ms ="
                                      " 1715000000123 AND event_time_ms = 1715000000000"),
                     1);
    ck_assert_int_eq(archived_rows(s, "archive_id = 3"), 0);
    /* Byte for byte the envelope the event was delivered with. */
    ck_assert_int_eq(archived_rows(s, "envelope = (SELECT envelope FROM events WHERE id ="
                                      " '00000000-0000-4000-8000-000000000001')"),
                     2);
    lb_archive_t *some = lb_archives_find(lb_engine_archives(engine), "us-east-1", "some");
    ck_assert_int_eq(some->event_count, 1);
    ck_assert_int_eq(some->size_bytes, 159);
    ck_assert_uint_eq(some->archived_total, 1);
    ck_assert_int_eq(lb_archives_find(lb_engine_archives(engine), "us-east-1", "all")->event_count,
                     2);
    lb_store_close(&s);
    lb_test_db_remove();
}
END_TEST

START_TEST(archive_pattern_change_applies_from_then_on)
{
    add_archive(1, "a", "default", "{\"source\":[\"A\"]}");
    lb_ingest_batch_t *b = lb_ingest_batch_new();
    char id[37];
    ck_assert_int_eq(put(b, "default", "B", "{}", id), 0);
    ck_assert_uint_eq(lb_ingest_batch_archived(b), 0);
    add_archive(1, "a", "default", "{\"source\":[\"B\"]}");
    ck_assert_int_eq(put(b, "default", "B", "{}", id), 0);
    ck_assert_uint_eq(lb_ingest_batch_archived(b), 1);
    lb_ingest_batch_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("ingest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, envelope_is_exact);
    tcase_add_test(tc, malformed_details_are_refused);
    tcase_add_test(tc, unknown_bus);
    tcase_add_test(tc, targets_render_from_the_one_parse);
    tcase_add_test(tc, oversized_body_is_dead_on_arrival);
    tcase_add_test(tc, bus_target_keeps_content_with_a_new_id);
    tcase_add_test(tc, trace_header_goes_with_the_event);
    tcase_add_test(tc, replay_keeps_id_and_adds_its_name);
    tcase_add_test(tc, schedule_reaches_only_its_rule);
    tcase_add_test(tc, scheduled_event_is_exact);
    tcase_add_test(tc, batch_is_written_in_one_go);
    tcase_add_test(tc, replay_name_goes_after_region);
    tcase_add_test(tc, archives_keep_their_events_in_the_same_batch);
    tcase_add_test(tc, archive_pattern_change_applies_from_then_on);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

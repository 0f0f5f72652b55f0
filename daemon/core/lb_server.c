#include "lb_server.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lb_api.h"
#include "lb_dispatch.h"
#include "lb_metrics.h"
#include "lb_engine.h"
#include "lb_http.h"
#include "lb_json.h"
#include "lb_log.h"
#include "lb_notify.h"
#include "lb_store.h"
#include "lb_validate.h"
#include "lb_writer.h"

#define JSON_TYPE "application/x-amz-json-1.1"

struct lb_server {
    uv_loop_t *loop;
    lb_config_t *config;
    lb_log_t log;
    lb_store_t *reader;
    lb_writer_t *writer;
    lb_engine_t *engine;
    lb_api_t *api;
    lb_http_server_t *http;
    lb_dispatch_t *dispatch;
    lb_metrics_t *metrics;
    uv_timer_t drain_timer;
    int drain_timer_open;
    int shutting_down;
    char url[128];
    char db_path[4096];
};

/* One API request waiting for its commit. */
typedef struct {
    lb_server_t *server;
    lb_http_request_t *req;
    lb_call_t call;
} pending_call_t;

static void respond_call(pending_call_t *pc)
{
    char headers[128];
    snprintf(headers, sizeof headers, "x-amzn-RequestId: %s\r\n", pc->call.request_id);
    lb_http_respond(pc->req, pc->call.status, JSON_TYPE, headers, pc->call.body.data,
                    pc->call.body.len);
    lb_call_clear(&pc->call);
    free(pc);
}

static void on_committed(void *data, int rc)
{
    pending_call_t *pc = data;
    lb_call_complete(&pc->call, rc);
    respond_call(pc);
}

/* admin_target: NULL for the AWS API (the X-Amz-Target header decides), or the LocalBridge
 * operation an admin endpoint maps to. */
static void handle_api(lb_server_t *s, lb_http_request_t *req, const char *admin_target)
{
    const struct lb_settings *cfg = lb_config_settings(s->config);
    pending_call_t *pc = lb_xcalloc(1, sizeof *pc);
    pc->server = s;
    pc->req = req;
    lb_call_t *call = &pc->call;
    if (lb_api_region_from_auth(lb_http_request_header(req, "Authorization"), call->region,
                                sizeof call->region))
        snprintf(call->region, sizeof call->region, "%s", cfg->region);
    call->account_id = cfg->account_id;
    call->now_ms = lb_now_ms();
    if (lb_uuid_v4(call->request_id)) snprintf(call->request_id, 37, "unknown");
    size_t len;
    const char *body = lb_http_request_body(req, &len);
    call->admin = admin_target != NULL;
    lb_api_handle(s->api, call,
                  admin_target ? admin_target : lb_http_request_header(req, "X-Amz-Target"),
                  admin_target ? NULL : lb_http_request_header(req, "Content-Type"), body, len);
    if (!call->txn) {
        respond_call(pc);
        return;
    }
    if (lb_writer_submit(s->writer, call->txn, call->arg, on_committed, pc)) {
        lb_call_complete(call, LB_ESTORE);
        respond_call(pc);
    }
}

/* Every response carries a request id, as AWS's do, admin endpoints included. */
static void respond_json(lb_http_request_t *req, int status, const char *json)
{
    char id[37], headers[64];
    if (lb_uuid_v4(id)) snprintf(id, sizeof id, "unknown");
    snprintf(headers, sizeof headers, "x-amzn-RequestId: %s\r\n", id);
    lb_http_respond(req, status, "application/json", headers, json, strlen(json));
}

static void handle_health(lb_server_t *s, lb_http_request_t *req)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"status\":\"ok\",\"version\":\"%s\",\"schema\":%d,\"pending_writes\":%zu}",
             LB_VERSION, lb_store_latest_schema_version(), lb_writer_pending(s->writer));
    respond_json(req, 200, body);
}

typedef struct {
    lb_buf_t out;
    int n;
} event_list_t;

static int append_event(const lb_event_record_t *ev, void *ctx)
{
    event_list_t *l = ctx;
    lb_buf_puts(&l->out, l->n++ ? "," : "");
    lb_buf_append(&l->out, ev->envelope, ev->envelope_len);
    return 0;
}

static void handle_list_events(lb_server_t *s, lb_http_request_t *req)
{
    const struct lb_settings *cfg = lb_config_settings(s->config);
    const char *query = lb_http_request_query(req);
    char bus[512], limit_text[32], region[32];
    int has_bus = lb_http_query_param(query, "bus", bus, sizeof bus) == 0;
    int limit = 100;
    if (lb_http_query_param(query, "limit", limit_text, sizeof limit_text) == 0) {
        char *end;
        long v = strtol(limit_text, &end, 10);
        if (*end || v < 1 || v > 1000000) {
            respond_json(req, 400,
                         "{\"__type\":\"ValidationException\",\"message\":\"limit must be an "
                         "integer from 1 to 1000000\"}");
            return;
        }
        limit = (int)v;
    }
    if (lb_http_query_param(query, "region", region, sizeof region))
        snprintf(region, sizeof region, "%s", cfg->region);
    event_list_t l = {0};
    lb_buf_puts(&l.out, "{\"Events\":[");
    if (lb_store_events_each(s->reader, region, has_bus ? bus : NULL, limit, append_event, &l)) {
        lb_buf_free(&l.out);
        respond_json(req, 500,
                     "{\"__type\":\"InternalException\",\"message\":\"could not read events\"}");
        return;
    }
    lb_buf_puts(&l.out, "]}");
    respond_json(req, 200, l.out.data);
    lb_buf_free(&l.out);
}

static void handle_metrics(lb_server_t *s, lb_http_request_t *req)
{
    lb_buf_t out = {0};
    uint64_t commits, jobs;
    lb_writer_stats(s->writer, &commits, &jobs);
    lb_metrics_render(s->metrics, &out, lb_dispatch_pending(s->dispatch),
                      lb_dispatch_inflight(s->dispatch), commits, jobs);
    lb_http_respond(req, 200, "text/plain; version=0.0.4", NULL, out.data, out.len);
    lb_buf_free(&out);
}

/* ---- dead letters ---- */

static int append_dead_letter(const lb_dead_letter_t *dl, void *ctx)
{
    lb_buf_t *b = ctx;
    const lb_delivery_t *d = dl->delivery;
    if (b->data[b->len - 1] != '[') lb_buf_puts(b, ",");
    lb_buf_printf(b, "{\"Id\":%lld,\"EventId\":\"%s\"", (long long)d->seq, d->event_id);
    const char *fields[][2] = {{"EventBusName", d->bus},        {"RuleName", d->rule},
                               {"TargetId", d->target_id},      {"TargetArn", d->target_arn},
                               {"ERROR_CODE", dl->error_code},  {"ERROR_MESSAGE", dl->error_message},
                               {"EXHAUSTED_RETRY_CONDITION", dl->exhausted}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (fields[i][1]) lb_json_put_str(b, fields[i][0], fields[i][1]);
    lb_buf_printf(b, ",\"RETRY_ATTEMPTS\":%d", d->attempts > 0 ? d->attempts - 1 : 0);
    lb_buf_printf(b, ",\"DeadAt\":%.3f,\"Body\":", (double)dl->dead_ms / 1000.0);
    lb_buf_json_string(b, d->body, d->body_len);
    lb_buf_puts(b, "}");
    return 0;
}

static void handle_dead_letters(lb_server_t *s, lb_http_request_t *req)
{
    const struct lb_settings *cfg = lb_config_settings(s->config);
    const char *query = lb_http_request_query(req);
    char bus[512], rule[128], region[32], limit_text[32];
    int has_bus = lb_http_query_param(query, "bus", bus, sizeof bus) == 0;
    int has_rule = lb_http_query_param(query, "rule", rule, sizeof rule) == 0;
    int limit = 100;
    if (lb_http_query_param(query, "limit", limit_text, sizeof limit_text) == 0)
        limit = atoi(limit_text) > 0 ? atoi(limit_text) : 100;
    if (lb_http_query_param(query, "region", region, sizeof region))
        snprintf(region, sizeof region, "%s", cfg->region);
    lb_buf_t out = {0};
    lb_buf_puts(&out, "{\"DeadLetters\":[");
    if (lb_dead_letters_each(s->reader, region, has_bus ? bus : NULL, has_rule ? rule : NULL,
                             limit, append_dead_letter, &out)) {
        lb_buf_free(&out);
        respond_json(req, 500, "{\"__type\":\"InternalException\",\"message\":\"could not "
                               "read dead letters\"}");
        return;
    }
    lb_buf_puts(&out, "]}");
    respond_json(req, 200, out.data);
    lb_buf_free(&out);
}

typedef struct {
    lb_server_t *server;
    lb_http_request_t *req;
    char region[32];
    char *bus, *rule;
    int64_t *ids;
    size_t n_ids;
    lb_delivery_t **redriven;
    size_t n_redriven;
    size_t count;
    int64_t now_ms;
} redrive_t;

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
    return lb_dead_letters_redrive(store, r->region, r->bus, r->rule, r->ids, r->n_ids,
                                   r->now_ms, collect_redriven, r, &r->count);
}

static void redrive_done(void *data, int rc)
{
    redrive_t *r = data;
    char body[128];
    if (rc) {
        for (size_t i = 0; i < r->n_redriven; i++) lb_delivery_free(&r->redriven[i]);
        respond_json(r->req, 500, "{\"__type\":\"InternalException\",\"message\":\"redrive "
                                  "could not be stored; nothing changed\"}");
    } else {
        for (size_t i = 0; i < r->n_redriven; i++) lb_dispatch_add(r->server->dispatch, r->redriven[i]);
        snprintf(body, sizeof body, "{\"Redriven\":%zu}", r->count);
        respond_json(r->req, 200, body);
    }
    free(r->redriven);
    free(r->bus);
    free(r->rule);
    free(r->ids);
    free(r);
}

/* Body: {} for every dead letter, {"Ids": [..]} for some, optionally "EventBusName",
 * "RuleName" and "Region" to narrow "every". */
static void handle_redrive(lb_server_t *s, lb_http_request_t *req)
{
    size_t len;
    const char *body = lb_http_request_body(req, &len);
    lb_json_doc_t *doc = NULL;
    if (len) {
        lb_json_parse(body, len, LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL);
    } else {
        doc = lb_json_doc_new();
        lb_json_doc_set_root(doc, lb_json_new(doc, LB_JSON_OBJECT));
    }
    const lb_json_t *json = lb_json_doc_root(doc);
    const lb_json_t *ids = lb_json_get(json, "Ids");
    if (!lb_json_is(json, LB_JSON_OBJECT) || (ids && !lb_json_is(ids, LB_JSON_ARRAY))) {
        lb_json_doc_free(&doc);
        respond_json(req, 400, "{\"__type\":\"ValidationException\",\"message\":\"Body must "
                               "be a JSON object; Ids a list of dead-letter ids\"}");
        return;
    }
    redrive_t *r = lb_xcalloc(1, sizeof *r);
    r->server = s;
    r->req = req;
    r->now_ms = lb_now_ms();
    const char *region = lb_json_get_str(json, "Region");
    snprintf(r->region, sizeof r->region, "%s",
             region ? region : lb_config_settings(s->config)->region);
    r->bus = lb_strdup(lb_json_get_str(json, "EventBusName"));
    r->rule = lb_strdup(lb_json_get_str(json, "RuleName"));
    if (ids) {
        r->ids = lb_xcalloc(ids->n_children + 1, sizeof *r->ids);
        /* Dead-letter ids are integers; a number outside int64_t's range names none (and
         * converting it would be undefined behaviour). */
        lb_json_each(id, ids) if (lb_json_is(id, LB_JSON_NUMBER) && fabs(id->num) < 9.2e18)
            r->ids[r->n_ids++] = (int64_t)id->num;
        if (!r->n_ids) r->ids[r->n_ids++] = -1; /* none valid: match nothing */
    }
    lb_json_doc_free(&doc);
    if (lb_writer_submit(s->writer, redrive_txn, r, redrive_done, r)) redrive_done(r, LB_ESTORE);
}

static void handle_request(lb_http_request_t *req, void *ctx)
{
    lb_server_t *s = ctx;
    const char *method = lb_http_request_method(req);
    const char *path = lb_http_request_path(req);
    if (strcmp(path, "/") == 0 && strcmp(method, "POST") == 0) {
        handle_api(s, req, NULL);
    } else if (strcmp(path, "/_localbridge/test-event-pattern") == 0 &&
               strcmp(method, "POST") == 0) {
        handle_api(s, req, "AWSEvents.ExplainEventPattern");
    } else if (strcmp(path, "/health") == 0 && strcmp(method, "GET") == 0) {
        handle_health(s, req);
    } else if (strcmp(path, "/_localbridge/events") == 0 && strcmp(method, "GET") == 0) {
        handle_list_events(s, req);
    } else if (strcmp(path, "/metrics") == 0 && strcmp(method, "GET") == 0) {
        handle_metrics(s, req);
    } else if (strcmp(path, "/_localbridge/dead-letters") == 0 && strcmp(method, "GET") == 0) {
        handle_dead_letters(s, req);
    } else if (strcmp(path, "/_localbridge/dead-letters/redrive") == 0 &&
               strcmp(method, "POST") == 0) {
        handle_redrive(s, req);
    } else if (strcmp(path, "/") == 0) {
        respond_json(req, 405,
                     "{\"__type\":\"MethodNotAllowedException\",\"message\":\"The AWS API takes "
                     "POST / with an X-Amz-Target header.\"}");
    } else {
        respond_json(req, 404,
                     "{\"__type\":\"NotFoundException\",\"message\":\"No such endpoint.\"}");
    }
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0750) && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) && errno != EEXIST) return -errno;
    return 0;
}

static char *format_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format_error(const char *fmt, ...)
{
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lb_strdup(msg);
}

/* The configured region's default bus is persisted at first start so its creation time is
 * stable across restarts. */
static int ensure_default_bus(lb_store_t *store, lb_engine_t *engine, const char *region)
{
    if (lb_engine_bus_find(engine, region, "default")) return 0;
    int64_t now = lb_now_ms();
    lb_bus_record_t rec = {.region = (char *)region, .name = "default", .created_ms = now,
                           .modified_ms = now};
    int rc = lb_store_bus_insert(store, &rec);
    if (rc) return rc;
    return lb_engine_bus_put(engine, &rec);
}

static lb_http_limits_t http_limits(const struct lb_settings *cfg)
{
    lb_http_limits_t l = {
        .max_body_size = cfg->max_body_size,
        .max_header_size = cfg->max_header_size,
        .max_connections = cfg->max_connections,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .request_timeout_ms = cfg->request_timeout_ms,
    };
    return l;
}

int lb_server_start(uv_loop_t *loop, lb_config_t *config, lb_server_t **out, char **err)
{
    const struct lb_settings *cfg = lb_config_settings(config);
    lb_server_t *s = lb_xcalloc(1, sizeof *s);
    s->loop = loop;
    s->config = config;
    s->log.level = cfg->log_level;
    lb_store_t *store = NULL;
    int rc;
    *err = NULL;
    if ((rc = mkdir_p(cfg->data_dir))) {
        *err = format_error("cannot create data dir %s: %s", cfg->data_dir, strerror(-rc));
        goto fail;
    }
    snprintf(s->db_path, sizeof s->db_path, "%s/localbridge.db", cfg->data_dir);
    lb_store_options_t opts = {.read_only = 0, .synchronous = (lb_sync_mode_t)cfg->sqlite_synchronous};
    if ((rc = lb_store_open(s->db_path, &opts, &store))) {
        *err = format_error("cannot open store %s%s", s->db_path,
                            rc == -EPROTO ? ": written by a newer LocalBridge" : "");
        goto fail;
    }
    lb_engine_new(&s->engine);
    size_t skipped = 0;
    if (lb_store_read_only(store))
        lb_log_warn(&s->log, "store is read-only; every write will fail until it is writable",
                    "path=%s", s->db_path);
    if ((rc = lb_engine_load(s->engine, store, &skipped)) ||
        (rc = ensure_default_bus(store, s->engine, cfg->region))) {
        *err = format_error("cannot load store %s: %s", s->db_path, lb_store_errmsg(store));
        goto fail;
    }
    if (skipped)
        lb_log_warn(&s->log, "stored rules or targets no longer valid; skipped", "count=%zu",
                    skipped);
    opts.read_only = 1;
    if ((rc = lb_store_open(s->db_path, &opts, &s->reader))) {
        *err = format_error("cannot open store %s for reading", s->db_path);
        goto fail;
    }
    lb_api_new(s->engine, &s->api);
    if ((rc = lb_writer_start(loop, store, &s->log, &s->writer))) {
        *err = format_error("cannot start the writer thread: %s", uv_strerror(rc));
        goto fail;
    }
    store = NULL; /* the writer owns it now */
    lb_metrics_new(&s->metrics);
    lb_dispatch_env_t env = {.loop = loop, .config = config, .engine = s->engine, .api = s->api,
                             .writer = s->writer, .reader = s->reader, .metrics = s->metrics,
                             .log = &s->log};
    if ((rc = lb_dispatch_start(&env, &s->dispatch))) {
        *err = format_error("cannot start the delivery dispatcher");
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    lb_engine_set_delivery_hook(s->engine, lb_dispatch_hook, s->dispatch);
    lb_http_limits_t limits = http_limits(cfg);
    if ((rc = lb_http_server_start(loop, cfg->listen.host, cfg->listen.port, &limits,
                                   handle_request, s, &s->log, &s->http))) {
        char where[128];
        snprintf(where, sizeof where, "%s%s%s:%u", cfg->listen.ipv6 ? "[" : "", cfg->listen.host,
                 cfg->listen.ipv6 ? "]" : "", cfg->listen.port);
        *err = format_error("cannot listen on %s: %s", where, uv_strerror(rc));
        lb_dispatch_stop(s->dispatch);
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    snprintf(s->url, sizeof s->url, "http://%s%s%s:%d", cfg->listen.ipv6 ? "[" : "",
             cfg->listen.host, cfg->listen.ipv6 ? "]" : "", lb_http_server_port(s->http));
    lb_log_info(&s->log, "listening", "url=%s data_dir=%s region=%s account=%s", s->url,
                cfg->data_dir, cfg->region, cfg->account_id);
    *out = s;
    return 0;
fail:
    lb_store_close(&store);
    lb_server_free(&s);
    return rc ? rc : -EINVAL;
}

const char *lb_server_url(const lb_server_t *s)
{
    return s->url;
}

static void drain_check(uv_timer_t *t)
{
    lb_server_t *s = t->data;
    if (lb_http_server_in_flight(s->http) > 0 || lb_writer_pending(s->writer) > 0) return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    /* The read-only connection closes first so the writer's, closing last, can checkpoint and
     * remove the WAL: a clean stop leaves just the database file. */
    lb_store_close(&s->reader);
    lb_writer_stop(s->writer);
    s->writer = NULL;
    lb_dispatch_free(&s->dispatch);
    lb_http_server_close(s->http);
    s->http = NULL;
    lb_log_info(&s->log, "stopped", NULL);
}

void lb_server_shutdown(lb_server_t *s)
{
    if (s->shutting_down) return;
    s->shutting_down = 1;
    lb_notify("STOPPING=1");
    lb_log_info(&s->log, "shutting down", "in_flight=%zu pending_writes=%zu",
                lb_http_server_in_flight(s->http), lb_writer_pending(s->writer));
    lb_http_server_drain(s->http);
    /* Sends under way are abandoned: their deliveries stay pending and go out after restart. */
    lb_dispatch_stop(s->dispatch);
    uv_timer_init(s->loop, &s->drain_timer);
    s->drain_timer.data = s;
    uv_timer_start(&s->drain_timer, drain_check, 0, 10);
}

void lb_server_reload(lb_server_t *s)
{
    char *restart = NULL, *err = NULL;
    lb_notify("RELOADING=1");
    if (lb_config_reload(s->config, &restart, &err)) {
        lb_log_error(&s->log, "reload failed; keeping the current configuration", "error=\"%s\"",
                     err ? err : "unknown");
    } else {
        const struct lb_settings *cfg = lb_config_settings(s->config);
        s->log.level = cfg->log_level;
        lb_dispatch_kick(s->dispatch);
        lb_log_info(&s->log, "configuration reloaded", "log_level=%s",
                    lb_log_level_name(cfg->log_level));
        if (restart)
            lb_log_warn(&s->log, "changed options take effect only after a restart",
                        "options=\"%s\"", restart);
    }
    free(restart);
    free(err);
    lb_notify("READY=1");
}

void lb_server_free(lb_server_t **sp)
{
    lb_server_t *s = *sp;
    if (!s) return;
    lb_store_close(&s->reader);
    lb_dispatch_free(&s->dispatch);
    lb_metrics_free(&s->metrics);
    lb_api_free(&s->api);
    lb_engine_free(&s->engine);
    lb_config_free(&s->config);
    free(s);
    *sp = NULL;
}

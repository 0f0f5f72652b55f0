#include "lb_server_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "lb_api.h"
#include "lb_auth.h"
#include "lb_cockpit.h"
#include "lb_console.h"
#include "lb_dirwatch.h"
#include "lb_dispatch.h"
#include "lb_metrics.h"
#include "lb_engine.h"
#include "lb_forwards.h"
#include "lb_http.h"
#include "lb_json.h"
#include "lb_keyfile.h"
#include "lb_keys.h"
#include "lb_log.h"
#include "lb_notify.h"
#include "lb_origin.h"
#include "lb_pidlock.h"
#include "lb_reader.h"
#include "lb_scheduler.h"
#include "lb_sqs.h"
#include "lb_sqsd.h"
#include "lb_queue_store.h"
#include "lb_replayer.h"
#include "lb_retention.h"
#include "lb_store.h"
#include "lb_writer.h"

static void on_route_check(void *ctx, const char *region, const char *bus, const char *rule,
                           const char *target_id, const char *arn, int dlq)
{
    lb_server_t *s = ctx;
    if (!s->dispatch || lb_dispatch_routable(s->dispatch, arn)) return;
    s->unroutable++;
    lb_logf_warn(&s->log,
                 dlq ? "dead-letter queue has no route: its dead letters stay in the dead-letter "
                       "store"
                     : "target has no route: its deliveries will be dead-lettered",
                 LB_LOG_STR("region", region), LB_LOG_STR("bus", bus), LB_LOG_STR("rule", rule),
                 LB_LOG_STR("target", target_id), LB_LOG_STR("arn", arn));
}

/* Reads credentials_file into s->keys (auth = sigv4). On failure *err says why and the keys held
 * so far stay. */
static int load_keys(lb_server_t *s, char **err)
{
    const char *path = lb_config_settings(s->config)->credentials_file;
    if (!*path) {
        *err = lb_strdup("auth = sigv4 needs credentials_file (a file of 'ACCESS_KEY_ID "
                         "SECRET_ACCESS_KEY ACCOUNT_ID' lines)");
        return -EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        lb_buf_t m = {0};
        lb_buf_printf(&m, "cannot read credentials_file %s: %s", path, strerror(errno));
        *err = lb_buf_steal(&m, NULL);
        return -errno;
    }
    lb_buf_t text = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < (1u << 24))
        lb_buf_append(&text, chunk, got);
    fclose(f);
    lb_keys_t *keys = NULL;
    int rc = lb_keys_parse(path, text.data ? text.data : "", text.len, &keys, err);
    if (text.data) OPENSSL_cleanse(text.data, text.len);
    lb_buf_free(&text);
    if (rc) return rc;
    lb_keys_free(&s->keys);
    s->keys = keys;
    lb_logf_info(&s->log, "caller keys loaded", LB_LOG_STR("credentials_file", path),
                 LB_LOG_UINT("keys", lb_keys_count(keys)));
    return 0;
}

/* Directories the daemon creates are its own: 0700, so the database, its key and its lock are
 * nobody else's to read. An existing directory keeps its mode (it may be /tmp). */
static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST) return -errno;
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
    lb_bus_record_t rec = {
        .region = (char *)region, .name = "default", .created_ms = now, .modified_ms = now};
    int rc = lb_store_bus_insert(store, &rec);
    if (rc) return rc;
    return lb_engine_bus_put(engine, &rec);
}

static void on_data_dir_change(void *ctx)
{
    lb_writer_check_files(ctx);
}

/* The writer found the database file deleted (or replaced) under it and wrote it back (rc 0),
 * or could not (writes are refused from now on). Runs on the loop thread. */
static void on_store_restored(void *ctx, int rc)
{
    lb_server_t *s = ctx;
    if (rc == 0) {
        /* The read-only connection still reads the deleted file: move it to the restored one. */
        lb_reader_reopen(s->reader);
        return;
    }
    s->store_lost = 1;
    snprintf(s->store_lost_reason, sizeof s->store_lost_reason,
             "database %s was deleted while running and could not be restored; writes are "
             "refused until restart",
             s->db_path);
}

/* Connection secrets are sealed with the key file's key; rows an older build stored in plain are
 * sealed now, and the WAL is checkpointed so no page holds them in plain afterwards. */
static int open_secrets(lb_server_t *s, lb_store_t *store, char **err)
{
    unsigned char key[LB_SEAL_KEY_BYTES];
    const struct lb_settings *cfg = lb_config_settings(s->config);
    int rc = lb_keyfile_load(cfg, &s->log, key, err);
    if ((rc == -EACCES || rc == -EROFS || rc == -EPERM) && !*cfg->secrets_key_file) {
        /* A read-only data directory: nothing can be written to the store either. */
        lb_logf_warn(&s->log, "no secrets key: connection secrets cannot be read or written",
                     LB_LOG_STR("error", *err));
        free(*err);
        *err = NULL;
        return 0;
    }
    if (rc) return rc;
    lb_store_set_secret_key(store, key);
    OPENSSL_cleanse(key, sizeof key);
    size_t sealed = 0;
    if (lb_store_read_only(store)) return 0;
    if ((rc = lb_conn_store_seal_all(store, &sealed)) ||
        (sealed && (rc = lb_store_checkpoint(store)))) {
        *err = format_error("cannot encrypt the stored connection secrets in %s: %s", s->db_path,
                            lb_store_errmsg(store));
        return rc;
    }
    if (sealed)
        lb_logf_info(&s->log, "connection secrets stored in plain were encrypted",
                     LB_LOG_UINT("connections", sealed));
    return 0;
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
    s->log.format = lb_log_resolve_format(cfg->log_format);
    lb_store_t *store = NULL;
    int rc;
    *err = NULL;
    if ((rc = mkdir_p(cfg->data_dir))) {
        *err = format_error("cannot create data dir %s: %s", cfg->data_dir, strerror(-rc));
        goto fail;
    }
    pid_t holder = 0;
    rc = lb_pidlock_acquire(cfg->data_dir, &s->pidlock, &holder);
    if (rc == -EBUSY) {
        *err = holder ? format_error("data dir %s is in use by another LocalBridge (pid %ld holds "
                                     "%s/" LB_PIDLOCK_NAME "); stop it or choose another "
                                     "--data-dir",
                                     cfg->data_dir, (long)holder, cfg->data_dir)
                      : format_error("data dir %s is in use by another LocalBridge (it holds "
                                     "%s/" LB_PIDLOCK_NAME "); stop it or choose another "
                                     "--data-dir",
                                     cfg->data_dir, cfg->data_dir);
        goto fail;
    } else if (rc == -EROFS) {
        /* Nothing can be written there, so a second daemon could not diverge either. */
        lb_logf_warn(&s->log, "data dir is not writable; running without its lock file",
                     LB_LOG_STR("data_dir", cfg->data_dir));
    } else if (rc) {
        *err = format_error("cannot lock data dir %s: %s", cfg->data_dir, strerror(-rc));
        goto fail;
    }
    snprintf(s->db_path, sizeof s->db_path, "%s/localbridge.db", cfg->data_dir);
    lb_store_options_t opts = {.read_only = 0,
                               .synchronous = (lb_sync_mode_t)cfg->sqlite_synchronous,
                               .cache_bytes = cfg->sqlite_cache_size};
    if ((rc = lb_store_open(s->db_path, &opts, &store))) {
        *err = format_error("cannot open store %s%s", s->db_path,
                            rc == -EPROTO ? ": written by a newer LocalBridge" : "");
        goto fail;
    }
    if ((rc = open_secrets(s, store, err))) goto fail;
    lb_engine_new(&s->engine);
    size_t skipped = 0;
    if (lb_store_read_only(store))
        lb_logf_warn(&s->log, "store is read-only; every write will fail until it is writable",
                     LB_LOG_STR("path", s->db_path));
    if ((rc = lb_engine_load(s->engine, store, &skipped)) ||
        (rc = ensure_default_bus(store, s->engine, cfg->region))) {
        *err = format_error("cannot load store %s: %s", s->db_path, lb_store_errmsg(store));
        goto fail;
    }
    lb_sqs_new(&s->sqs);
    if ((rc = lb_queues_load(lb_sqs_queues(s->sqs), store, lb_now_ms()))) {
        *err = format_error("cannot load the queues of %s: %s", s->db_path, lb_store_errmsg(store));
        goto fail;
    }
    if (skipped)
        lb_logf_warn(&s->log, "stored rules or targets no longer valid; skipped",
                     LB_LOG_UINT("count", skipped));
    if ((rc = lb_forwards_install(cfg, s->engine, store, &s->log, err))) goto fail;
    /* The reader thread's read-only connection: listings and the dispatcher's paging. */
    opts.read_only = 1;
    lb_store_t *reader_db = NULL;
    if ((rc = lb_store_open(s->db_path, &opts, &reader_db))) {
        *err = format_error("cannot open store %s for reading", s->db_path);
        goto fail;
    }
    if ((rc = lb_reader_start(loop, reader_db, &s->log, &s->reader))) {
        s->reader = NULL;
        *err = format_error("cannot start the reader thread: %s", uv_strerror(rc));
        goto fail;
    }
    if (cfg->auth == LB_AUTH_SIGV4 && (rc = load_keys(s, err))) goto fail;
    lb_api_new(s->engine, &s->api);
    if ((rc = lb_writer_start(loop, store, &s->log, &s->writer))) {
        *err = format_error("cannot start the writer thread: %s", uv_strerror(rc));
        goto fail;
    }
    store = NULL; /* the writer owns it now */
    lb_writer_on_restore(s->writer, on_store_restored, s);
    /* Without a watch (inotify unavailable) the writer still checks its file once a second. */
    if (lb_dirwatch_start(loop, cfg->data_dir, "localbridge.db", on_data_dir_change, s->writer,
                          &s->dirwatch))
        lb_logf_warn(&s->log,
                     "cannot watch the data dir; a deleted database is noticed within a "
                     "second",
                     LB_LOG_STR("data_dir", cfg->data_dir));
    lb_metrics_new(&s->metrics);
    lb_cockpit_env_t cenv = {.loop = loop,
                             .engine = s->engine,
                             .reader = s->reader,
                             .writer = s->writer,
                             .metrics = s->metrics,
                             .log = &s->log};
    lb_cockpit_new(&cenv, &s->cockpit);
    lb_dispatch_env_t env = {.loop = loop,
                             .config = config,
                             .engine = s->engine,
                             .writer = s->writer,
                             .reader = s->reader,
                             .metrics = s->metrics,
                             .log = &s->log,
                             .on_logged = lb_cockpit_on_attempt,
                             .on_logged_ctx = s->cockpit,
                             .self_url = s->url,
                             .sqs = s->sqs};
    if ((rc = lb_dispatch_start(&env, &s->dispatch))) {
        *err = format_error("cannot start the delivery dispatcher");
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    lb_engine_set_delivery_hook(s->engine, lb_dispatch_hook, s->dispatch);
    lb_engine_set_route_hook(s->engine, on_route_check, s);
    lb_cockpit_set_dispatch(s->cockpit, s->dispatch);
    lb_scheduler_env_t senv = {
        .loop = loop, .config = config, .engine = s->engine, .writer = s->writer, .log = &s->log};
    if ((rc = lb_scheduler_start(&senv, &s->scheduler))) {
        *err = format_error("cannot start the scheduler: %s", uv_strerror(rc));
        lb_dispatch_stop(s->dispatch);
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    lb_replayer_env_t renv = {.loop = loop,
                              .config = config,
                              .engine = s->engine,
                              .writer = s->writer,
                              .reader = s->reader,
                              .dispatch = s->dispatch,
                              .log = &s->log,
                              .live_requests = lb_server_live_requests,
                              .live_requests_ctx = s};
    lb_replayer_start(&renv, &s->replayer);
    lb_retention_env_t tenv = {
        .loop = loop, .config = config, .engine = s->engine, .writer = s->writer, .log = &s->log};
    lb_retention_start(&tenv, &s->retention);
    lb_sqsd_env_t qenv = {.loop = loop,
                          .writer = s->writer,
                          .log = &s->log,
                          .sqs = s->sqs,
                          .run = lb_server_run_pending,
                          .ctx = s};
    lb_sqsd_start(&qenv, &s->sqsd);
    lb_http_limits_t limits = http_limits(cfg);
    if ((rc = lb_http_server_start(loop, cfg->listen.host, cfg->listen.port, &limits,
                                   lb_server_handle_request, s, &s->log, &s->http))) {
        char where[128];
        snprintf(where, sizeof where, "%s%s%s:%u", cfg->listen.ipv6 ? "[" : "", cfg->listen.host,
                 cfg->listen.ipv6 ? "]" : "", cfg->listen.port);
        *err = format_error("cannot listen on %s: %s", where, uv_strerror(rc));
        lb_scheduler_stop(s->scheduler);
        lb_replayer_stop(s->replayer);
        lb_retention_stop(s->retention);
        lb_sqsd_stop(s->sqsd);
        lb_dispatch_stop(s->dispatch);
        lb_writer_stop(s->writer);
        s->writer = NULL;
        goto fail;
    }
    snprintf(s->url, sizeof s->url, "http://%s%s%s:%d", cfg->listen.ipv6 ? "[" : "",
             cfg->listen.host, cfg->listen.ipv6 ? "]" : "", lb_http_server_port(s->http));
    lb_logf_info(&s->log, "listening", LB_LOG_STR("url", s->url),
                 LB_LOG_STR("data_dir", cfg->data_dir), LB_LOG_STR("region", cfg->region),
                 LB_LOG_STR("account", cfg->account_id));
    *out = s;
    return 0;
fail:
    lb_store_close(&store);
    if (s->reader) lb_reader_stop(s->reader);
    s->reader = NULL;
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
    if (lb_http_server_in_flight(s->http) > 0 || lb_writer_pending(s->writer) > 0 ||
        lb_reader_pending(s->reader) > 0)
        return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    /* The read-only connections close first so the writer's, closing last, can checkpoint and
     * remove the WAL: a clean stop leaves just the database file. */
    lb_reader_stop(s->reader);
    s->reader = NULL;
    lb_dirwatch_stop(&s->dirwatch);
    lb_writer_stop(s->writer);
    s->writer = NULL;
    lb_scheduler_free(&s->scheduler); /* after the writer completed its last firings */
    lb_replayer_free(&s->replayer);
    lb_retention_free(&s->retention);
    lb_sqsd_free(&s->sqsd);
    lb_dispatch_free(&s->dispatch);
    lb_cockpit_free(&s->cockpit);
    lb_http_server_close(s->http);
    s->http = NULL;
    lb_log_fields(&s->log, LB_LOG_INFO, "stopped", NULL, 0);
}

void lb_server_shutdown(lb_server_t *s)
{
    if (s->shutting_down) return;
    s->shutting_down = 1;
    lb_notify("STOPPING=1");
    lb_logf_info(&s->log, "shutting down",
                 LB_LOG_UINT("in_flight", lb_http_server_in_flight(s->http)),
                 LB_LOG_UINT("pending_writes", lb_writer_pending(s->writer)));
    lb_cockpit_stop(s->cockpit); /* long-polls answer now, streams end */
    lb_http_server_drain(s->http);
    lb_scheduler_stop(s->scheduler);
    /* No new replay step or sweep step; those in flight finish with the writer's queue. */
    lb_replayer_stop(s->replayer);
    lb_retention_stop(s->retention);
    /* Parked long polls answer now (empty), as SQS does when a wait ends. */
    lb_sqsd_stop(s->sqsd);
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
        lb_logf_error(&s->log, "reload failed; keeping the current configuration",
                      LB_LOG_STR("error", err ? err : "unknown"));
    } else {
        const struct lb_settings *cfg = lb_config_settings(s->config);
        s->log.level = cfg->log_level;
        char *keys_err = NULL;
        if (cfg->auth == LB_AUTH_SIGV4 && load_keys(s, &keys_err))
            lb_logf_error(&s->log, "credentials_file not reloaded; keeping the keys loaded before",
                          LB_LOG_STR("error", keys_err ? keys_err : "unknown"));
        free(keys_err);
        lb_dispatch_kick(s->dispatch);
        lb_logf_info(&s->log, "configuration reloaded",
                     LB_LOG_STR("log_level", lb_log_level_name(cfg->log_level)));
        if (restart)
            lb_logf_warn(&s->log, "changed options take effect only after a restart",
                         LB_LOG_STR("options", restart));
    }
    free(restart);
    free(err);
    lb_notify("READY=1");
}

void lb_server_free(lb_server_t **sp)
{
    lb_server_t *s = *sp;
    if (!s) return;
    lb_dirwatch_stop(&s->dirwatch);
    lb_cockpit_free(&s->cockpit);
    lb_scheduler_free(&s->scheduler);
    lb_replayer_free(&s->replayer);
    lb_retention_free(&s->retention);
    lb_dispatch_free(&s->dispatch);
    lb_metrics_free(&s->metrics);
    lb_api_free(&s->api);
    lb_sqsd_free(&s->sqsd);
    lb_sqs_free(&s->sqs);
    lb_keys_free(&s->keys);
    lb_engine_free(&s->engine);
    lb_config_free(&s->config);
    lb_pidlock_release(&s->pidlock);
    free(s);
    *sp = NULL;
}

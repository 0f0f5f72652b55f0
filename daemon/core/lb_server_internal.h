/* Shared between lb_server.c (start-up, reload, shutdown) and lb_server_routes.c (what each
 * request reaches): the server's parts, and the entry points the start-up hands to the HTTP
 * server, the replayer and the queues. */
#ifndef LB_FOLDER_CORE
#error "lb_server_internal.h is private to daemon/core"
#endif
#ifndef LB_SERVER_INTERNAL_H
#define LB_SERVER_INTERNAL_H

#include <stdint.h>
#include <uv.h>

#include "lb_api.h"
#include "lb_cockpit.h"
#include "lb_config.h"
#include "lb_dirwatch.h"
#include "lb_dispatch.h"
#include "lb_engine.h"
#include "lb_http.h"
#include "lb_keys.h"
#include "lb_log.h"
#include "lb_metrics.h"
#include "lb_pidlock.h"
#include "lb_reader.h"
#include "lb_replayer.h"
#include "lb_retention.h"
#include "lb_scheduler.h"
#include "lb_server.h"
#include "lb_sqs.h"
#include "lb_sqsd.h"
#include "lb_writer.h"

struct lb_server {
    lb_dirwatch_t *dirwatch; /* tells the writer when a database file goes */
    uv_loop_t *loop;
    lb_config_t *config;
    lb_log_t log;
    lb_reader_t *reader; /* listings read here, off the loop thread */
    lb_writer_t *writer;
    lb_engine_t *engine;
    lb_api_t *api;
    lb_http_server_t *http;
    lb_dispatch_t *dispatch;
    lb_scheduler_t *scheduler; /* fires scheduled rules */
    lb_replayer_t *replayer;   /* replays, in the background */
    lb_retention_t *retention; /* archived events' RetentionDays */
    lb_metrics_t *metrics;
    lb_cockpit_t *cockpit; /* the cockpit's endpoints: live stream, long-poll, status, reset */
    lb_pidlock_t *pidlock; /* held from start-up until the store is closed */
    lb_keys_t *keys;       /* auth = sigv4: the keys callers sign with */
    lb_sqs_t *sqs;         /* the built-in queues */
    lb_sqsd_t *sqsd;       /* their long polls and retention */
    uint64_t unroutable;   /* targets and DLQs accepted with no route */
    uv_timer_t drain_timer;
    int drain_timer_open;
    int shutting_down;
    /* The database was deleted and could not be written back: writes refused, /health fails. */
    int store_lost;
    char store_lost_reason[4400];
    char url[128];
    char db_path[4096];
};

/* The HTTP server's request callback (ctx is the server). */
void lb_server_handle_request(lb_http_request_t *req, void *ctx);
/* The replayer's "live work first": API requests being handled right now. */
int lb_server_live_requests(void *ctx);
/* The queues' way to run a parked request's store work once it is answerable. */
void lb_server_run_pending(void *ctx, void *pending);

#endif

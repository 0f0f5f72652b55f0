/* Shared by the cockpit's files: its state and small answer helpers. */
#ifndef LB_FOLDER_COCKPIT
#error "lb_cockpit_internal.h is private to daemon/cockpit"
#endif
#ifndef LB_COCKPIT_INTERNAL_H
#define LB_COCKPIT_INTERNAL_H

#include "lb_call.h"
#include "lb_cockpit.h"
#include "lb_stream.h"

#define MINUTES 60 /* metrics.json keeps this many per-minute buckets */
#define METRICS_N 8

typedef struct waiter waiter_t;

struct lb_cockpit {
    lb_cockpit_env_t env;
    lb_dispatch_t *dispatch;
    lb_stream_t *stream;
    waiter_t *waiters;
    size_t n_waiters;
    int64_t started_ms;
    uint64_t events; /* committed since start: the "Events" series */
    /* metrics.json: totals as first seen in each minute (minute index, snapshot). */
    uv_timer_t tick;
    int64_t minute[MINUTES];
    uint64_t snap[MINUTES][METRICS_N];
    int stopping;
};

/* Answers with a JSON body and a request id. */
void lb_cockpit_respond(lb_http_request_t *req, int status, const char *json, size_t len);
void lb_cockpit_error(lb_http_request_t *req, lb_aws_error_t err, const char *message);
/* ISO 8601 with milliseconds. */
void lb_cockpit_time(int64_t ms, char out[32]);

/* GET /_localbridge/deliveries (lb_longpoll.c). */
void lb_longpoll_start(lb_cockpit_t *c, lb_http_request_t *req);
void lb_longpoll_wake(lb_cockpit_t *c, const char *target_arn);
void lb_longpoll_stop(lb_cockpit_t *c);
/* GET /_localbridge/events/ID (lb_event_view.c). */
void lb_event_view_start(lb_cockpit_t *c, lb_http_request_t *req, const char *id);

#endif

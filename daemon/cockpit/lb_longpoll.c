/* GET /_localbridge/deliveries?target=ARN&wait=5s&count=N: answers once `count` final
 * deliveries (SUCCEEDED or DEAD_LETTERED) to that target are in the attempt log, or when `wait`
 * is over, with those found. A waiter reads the log on the reader thread, then sleeps until the
 * dispatcher logs an attempt to its target (lb_longpoll_wake) or its deadline comes: no loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_cockpit_internal.h"

#define MAX_WAIT_MS 300000
#define MAX_COUNT 1000

struct waiter {
    lb_cockpit_t *c;
    lb_http_request_t *req;
    char *arn;
    int count;
    uv_timer_t timer;
    int reading, dirty, expired, answered;
    /* Written by the reader thread while reading, read on the loop thread after. */
    lb_buf_t rows;
    int n_rows;
    waiter_t *next;
};

static void on_timer_closed(uv_handle_t *h)
{
    waiter_t *w = h->data;
    lb_buf_free(&w->rows);
    free(w->arn);
    free(w);
}

static void unlink_waiter(lb_cockpit_t *c, waiter_t *w)
{
    for (waiter_t **p = &c->waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            c->n_waiters--;
            return;
        }
}

static void answer(waiter_t *w)
{
    lb_cockpit_t *c = w->c;
    lb_buf_t out = {0};
    lb_buf_puts(&out, "{\"deliveries\":[");
    if (w->rows.len) lb_buf_append(&out, w->rows.data, w->rows.len);
    lb_buf_puts(&out, "]}");
    lb_cockpit_respond(w->req, 200, out.data, out.len);
    lb_buf_free(&out);
    w->answered = 1;
    unlink_waiter(c, w);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static int add_row(const lb_attempt_rec_t *r, void *ctx)
{
    waiter_t *w = ctx;
    char at[32];
    lb_cockpit_time(r->at_ms, at);
    lb_buf_puts(&w->rows, w->n_rows++ ? ",{\"event_id\":" : "{\"event_id\":");
    lb_buf_json_string(&w->rows, r->event_id, strlen(r->event_id));
    lb_buf_puts(&w->rows, ",\"rule\":");
    lb_buf_json_string(&w->rows, r->rule, strlen(r->rule));
    lb_buf_puts(&w->rows, ",\"target_id\":");
    lb_buf_json_string(&w->rows, r->target_id, strlen(r->target_id));
    lb_buf_puts(&w->rows, ",\"target_arn\":");
    lb_buf_json_string(&w->rows, r->target_arn, strlen(r->target_arn));
    lb_buf_puts(&w->rows, ",\"body\":");
    if (r->body)
        lb_buf_json_string(&w->rows, r->body, strlen(r->body));
    else
        lb_buf_puts(&w->rows, "null");
    lb_buf_printf(&w->rows, ",\"status\":\"%s\",\"at\":\"%s\"}", lb_attempt_status_name(r->status),
                  at);
    return 0;
}

static int read_rows(lb_store_t *store, void *arg)
{
    waiter_t *w = arg;
    w->rows.len = 0;
    w->n_rows = 0;
    return lb_attempts_final_to(store, w->arn, 0, w->count, add_row, w);
}

static void start_read(waiter_t *w);

static void read_done(void *data, int rc)
{
    waiter_t *w = data;
    w->reading = 0;
    if (rc) {
        lb_cockpit_error(w->req, LB_AWS_INTERNAL, "The attempt log could not be read.");
        w->answered = 1;
        unlink_waiter(w->c, w);
        uv_timer_stop(&w->timer);
        uv_close((uv_handle_t *)&w->timer, on_timer_closed);
        return;
    }
    if (w->n_rows >= w->count || w->expired || w->c->stopping) {
        answer(w);
        return;
    }
    if (w->dirty) start_read(w);
}

static void start_read(waiter_t *w)
{
    w->dirty = 0;
    w->reading = 1;
    if (lb_reader_submit(w->c->env.reader, read_rows, w, read_done, w)) {
        w->reading = 0;
        answer(w);
    }
}

static void on_deadline(uv_timer_t *t)
{
    waiter_t *w = t->data;
    w->expired = 1;
    if (!w->reading) answer(w); /* the last read holds everything logged until now */
}

/* "5s", "500ms", "1m" or a bare number of seconds; -1 if not one. */
static long parse_wait(const char *v)
{
    char *end;
    double n = strtod(v, &end);
    if (end == v || n < 0) return -1;
    if (*end == '\0' || strcmp(end, "s") == 0) return (long)(n * 1000);
    if (strcmp(end, "ms") == 0) return (long)n;
    if (strcmp(end, "m") == 0) return (long)(n * 60000);
    return -1;
}

void lb_longpoll_start(lb_cockpit_t *c, lb_http_request_t *req)
{
    const char *q = lb_http_request_query(req);
    char arn[2048], v[64];
    long wait_ms = 0, count = 1;
    if (lb_http_query_param(q, "target", arn, sizeof arn) || !arn[0]) {
        lb_cockpit_error(req, LB_AWS_VALIDATION, "target (a target ARN) is required.");
        return;
    }
    if (lb_http_query_param(q, "wait", v, sizeof v) == 0 &&
        ((wait_ms = parse_wait(v)) < 0 || wait_ms > MAX_WAIT_MS)) {
        lb_cockpit_error(req, LB_AWS_VALIDATION,
                         "wait must be a duration such as 5s or 500ms, at most 300s.");
        return;
    }
    if (lb_http_query_param(q, "count", v, sizeof v) == 0) {
        char *end;
        count = strtol(v, &end, 10);
        if (*end || count < 1 || count > MAX_COUNT) {
            lb_cockpit_error(req, LB_AWS_VALIDATION, "count must be an integer from 1 to 1000.");
            return;
        }
    }
    waiter_t *w = lb_xcalloc(1, sizeof *w);
    w->c = c;
    w->req = req;
    w->arn = lb_strdup(arn);
    w->count = (int)count;
    w->expired = wait_ms == 0 || c->stopping;
    uv_timer_init(c->env.loop, &w->timer);
    w->timer.data = w;
    w->next = c->waiters;
    c->waiters = w;
    c->n_waiters++;
    if (wait_ms > 0) uv_timer_start(&w->timer, on_deadline, (uint64_t)wait_ms, 0);
    start_read(w);
}

void lb_longpoll_wake(lb_cockpit_t *c, const char *target_arn)
{
    waiter_t *w = c->waiters;
    while (w) {
        waiter_t *next = w->next;
        if (strcmp(w->arn, target_arn) == 0) {
            if (w->reading)
                w->dirty = 1;
            else
                start_read(w);
        }
        w = next;
    }
}

void lb_longpoll_stop(lb_cockpit_t *c)
{
    waiter_t *w = c->waiters;
    while (w) {
        waiter_t *next = w->next;
        w->expired = 1;
        if (!w->reading) answer(w);
        w = next;
    }
}

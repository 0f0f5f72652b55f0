#include "lb_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_call.h"
#include "lb_json.h"
#include "lb_pattern.h"
#include "lb_util.h"

/* Event ids a subscriber was sent lately: its deliveries=1 attempts are those events'. */
#define RECENT 256

typedef struct sub {
    lb_stream_t *owner;
    lb_http_request_t *req;
    char region[32];
    char *bus, *rule;
    lb_pattern_t *pattern;
    int deliveries;
    int gone; /* the connection closed or was dropped: freed at the next sweep */
    char recent[RECENT][37];
    unsigned n_recent;
    struct sub *next;
} sub_t;

struct lb_stream {
    uv_timer_t keepalive;
    const lb_log_t *log;
    sub_t *subs;
    size_t n_subs;
    int busy; /* walking subs: closes only mark them gone */
};

static void sub_free(sub_t *x)
{
    free(x->bus);
    free(x->rule);
    lb_pattern_free(&x->pattern);
    free(x);
}

/* Frees the subscribers marked gone. */
static void sweep(lb_stream_t *s)
{
    if (s->busy) return;
    sub_t **p = &s->subs;
    while (*p) {
        sub_t *x = *p;
        if (x->gone) {
            *p = x->next;
            s->n_subs--;
            sub_free(x);
        } else {
            p = &x->next;
        }
    }
}

static void on_sub_closed(void *ctx)
{
    sub_t *x = ctx;
    x->gone = 1;
    sweep(x->owner);
}

/* Sends one frame; a subscriber that does not keep up is dropped. */
static void send_frame(lb_stream_t *s, sub_t *x, const char *data, size_t len)
{
    if (x->gone) return;
    if (lb_http_stream_write(x->req, data, len, LB_STREAM_MAX_QUEUED) == 0) return;
    lb_logf_info(s->log, "live stream subscriber is not reading; dropping it",
                 LB_LOG_UINT("max_queued_bytes", LB_STREAM_MAX_QUEUED));
    x->gone = 1;
    lb_http_stream_end(x->req);
}

static void on_keepalive(uv_timer_t *t)
{
    lb_stream_t *s = t->data;
    static const char ka[] = ": keepalive\n\n";
    s->busy = 1;
    for (sub_t *x = s->subs; x; x = x->next)
        send_frame(s, x, ka, sizeof ka - 1);
    s->busy = 0;
    sweep(s);
}

int lb_stream_new(uv_loop_t *loop, const lb_log_t *log, lb_stream_t **out)
{
    lb_stream_t *s = lb_xcalloc(1, sizeof *s);
    s->log = log;
    uv_timer_init(loop, &s->keepalive);
    s->keepalive.data = s;
    uv_timer_start(&s->keepalive, on_keepalive, LB_STREAM_KEEPALIVE_MS, LB_STREAM_KEEPALIVE_MS);
    uv_unref((uv_handle_t *)&s->keepalive);
    *out = s;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void lb_stream_free(lb_stream_t **sp)
{
    lb_stream_t *s = *sp;
    if (!s) return;
    *sp = NULL;
    s->busy = 1;
    for (sub_t *x = s->subs; x; x = x->next)
        if (!x->gone) {
            x->gone = 1;
            lb_http_stream_end(x->req);
        }
    s->busy = 0;
    sweep(s);
    uv_timer_stop(&s->keepalive);
    uv_close((uv_handle_t *)&s->keepalive, on_timer_closed);
}

size_t lb_stream_subscribers(const lb_stream_t *s)
{
    return s->n_subs;
}

static void respond_validation(lb_http_request_t *req, const char *message)
{
    lb_buf_t body = {0};
    int status = lb_aws_error_body(&body, LB_AWS_VALIDATION, message);
    lb_http_respond(req, status, "application/json", NULL, body.data, body.len);
    lb_buf_free(&body);
}

/* A bus filter may be a name or an ARN: the name is what events carry. */
static char *bus_name(const char *v)
{
    const char *slash = strncmp(v, "arn:", 4) == 0 ? strrchr(v, '/') : NULL;
    return lb_strdup(slash ? slash + 1 : v);
}

void lb_stream_subscribe(lb_stream_t *s, lb_http_request_t *req, const char *region)
{
    const char *q = lb_http_request_query(req);
    char value[LB_PATTERN_MAX_LEN + 1];
    sub_t *x = lb_xcalloc(1, sizeof *x);
    x->owner = s;
    x->req = req;
    snprintf(x->region, sizeof x->region, "%s", region);
    if (lb_http_query_param(q, "bus", value, sizeof value) == 0 && value[0])
        x->bus = bus_name(value);
    if (lb_http_query_param(q, "rule", value, sizeof value) == 0 && value[0])
        x->rule = lb_strdup(value);
    if (lb_http_query_param(q, "deliveries", value, sizeof value) == 0)
        x->deliveries = strcmp(value, "1") == 0 || strcmp(value, "true") == 0;
    if (lb_http_query_param(q, "pattern", value, sizeof value) == 0 && value[0]) {
        char *err = NULL;
        if (lb_pattern_compile(value, strlen(value), &x->pattern, &err)) {
            respond_validation(req, err ? err : "Event pattern is not valid.");
            free(err);
            sub_free(x);
            return;
        }
    }
    x->next = s->subs;
    s->subs = x;
    s->n_subs++;
    lb_http_stream_begin(req, 200, "text/event-stream", "X-Accel-Buffering: no\r\n", on_sub_closed,
                         x);
    if (!x->gone) send_frame(s, x, ": connected\n\n", 13);
    sweep(s);
}

static int wants_event(const sub_t *x, const lb_event_committed_t *ev, const lb_event_t *flat)
{
    if (strcmp(x->region, ev->region) != 0) return 0;
    if (x->bus && strcmp(x->bus, ev->bus) != 0) return 0;
    if (x->rule) {
        size_t i = 0;
        while (i < ev->n_hits && strcmp(ev->hits[i].rule, x->rule) != 0)
            i++;
        if (i == ev->n_hits) return 0;
    }
    return !x->pattern || (flat && lb_pattern_matches(x->pattern, flat) == 1);
}

/* The frame: {"id","bus","time","source","detail-type","received","rules","envelope"}. */
static void event_frame(const lb_event_committed_t *ev, const lb_json_t *env, lb_buf_t *out)
{
    char received[32];
    lb_format_time_iso(ev->ingested_ms, received);
    lb_buf_puts(out, "event: event\ndata: {\"id\":");
    lb_buf_json_string(out, ev->id, strlen(ev->id));
    lb_buf_puts(out, ",\"bus\":");
    lb_buf_json_string(out, ev->bus, strlen(ev->bus));
    static const char *const keys[] = {"time", "source", "detail-type"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = env ? lb_json_get_str(env, keys[i]) : NULL;
        lb_buf_printf(out, ",\"%s\":", keys[i]);
        if (v)
            lb_buf_json_string(out, v, strlen(v));
        else
            lb_buf_puts(out, "null");
    }
    lb_buf_printf(out, ",\"received\":\"%s\",\"rules\":[", received);
    for (size_t i = 0; i < ev->n_hits; i++) {
        if (i) lb_buf_puts(out, ",");
        lb_buf_json_string(out, ev->hits[i].rule, strlen(ev->hits[i].rule));
    }
    lb_buf_puts(out, "],\"envelope\":");
    /* The envelope text is one line of JSON as stored (SSE data must not hold a newline). */
    lb_json_minify(out, ev->envelope, ev->envelope_len);
    lb_buf_puts(out, "}\n\n");
}

static void remember(sub_t *x, const char *id)
{
    snprintf(x->recent[x->n_recent++ % RECENT], 37, "%s", id);
}

static int sent_event(const sub_t *x, const char *id)
{
    unsigned n = x->n_recent < RECENT ? x->n_recent : RECENT;
    for (unsigned i = 0; i < n; i++)
        if (strcmp(x->recent[i], id) == 0) return 1;
    return 0;
}

void lb_stream_on_event(void *ctx, const lb_event_committed_t *ev)
{
    lb_stream_t *s = ctx;
    if (!s->subs) return;
    lb_json_doc_t *doc = NULL;
    lb_event_t *flat = NULL;
    if (lb_json_parse(ev->envelope, ev->envelope_len, 128, &doc, NULL) == 0)
        lb_event_from_json(lb_json_doc_root(doc), &flat);
    lb_buf_t frame = {0};
    event_frame(ev, doc ? lb_json_doc_root(doc) : NULL, &frame);
    s->busy = 1;
    for (sub_t *x = s->subs; x; x = x->next) {
        if (x->gone || !wants_event(x, ev, flat)) continue;
        if (x->deliveries) remember(x, ev->id);
        send_frame(s, x, frame.data, frame.len);
    }
    s->busy = 0;
    sweep(s);
    lb_buf_free(&frame);
    lb_event_free(&flat);
    lb_json_doc_free(&doc);
}

static void attempt_frame(const lb_attempt_rec_t *r, lb_buf_t *out)
{
    lb_buf_puts(out, "event: delivery\ndata: {\"event_id\":");
    lb_buf_json_string(out, r->event_id, strlen(r->event_id));
    lb_buf_puts(out, ",\"rule\":");
    lb_buf_json_string(out, r->rule, strlen(r->rule));
    lb_buf_puts(out, ",\"target_id\":");
    lb_buf_json_string(out, r->target_id, strlen(r->target_id));
    lb_buf_puts(out, ",\"target_arn\":");
    lb_buf_json_string(out, r->target_arn, strlen(r->target_arn));
    lb_buf_printf(out, ",\"attempt\":%d,\"status\":\"%s\",\"http_status\":", r->attempt,
                  lb_attempt_status_name(r->status));
    if (r->http_status > 0)
        lb_buf_printf(out, "%ld", r->http_status);
    else
        lb_buf_puts(out, "null");
    lb_buf_printf(out, ",\"latency_ms\":%lld,\"error\":", (long long)r->latency_ms);
    if (r->error)
        lb_buf_json_string(out, r->error, strlen(r->error));
    else
        lb_buf_puts(out, "null");
    lb_buf_puts(out, "}\n\n");
}

void lb_stream_on_attempt(lb_stream_t *s, const lb_attempt_rec_t *rec)
{
    if (!s->subs) return;
    lb_buf_t frame = {0};
    s->busy = 1;
    for (sub_t *x = s->subs; x; x = x->next) {
        if (x->gone || !x->deliveries || strcmp(x->region, rec->region) != 0) continue;
        if (!sent_event(x, rec->event_id)) continue;
        if (!frame.len) attempt_frame(rec, &frame);
        send_frame(s, x, frame.data, frame.len);
    }
    s->busy = 0;
    sweep(s);
    lb_buf_free(&frame);
}

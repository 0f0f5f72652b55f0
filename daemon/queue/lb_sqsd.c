#include "lb_sqsd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_queue_store.h"
#include "lb_util.h"

#define SWEEP_MS 1000
#define SWEEP_MAX 256

typedef struct parked {
    lb_sqsd_t *owner;
    lb_call_t *call;
    void *pending;
    lb_sqs_req_t rq;
    lb_sqs_park_t park;
    uv_timer_t timer;
    struct parked *prev, *next;
} parked_t;

struct lb_sqsd {
    lb_sqsd_env_t env;
    parked_t *head;
    size_t n_parked;
    uv_timer_t sweep;
    int sweep_open, stopping, sweeping;
    int64_t last_dedup_sweep;
};

static void unlink_parked(lb_sqsd_t *d, parked_t *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        d->head = p->next;
    if (p->next) p->next->prev = p->prev;
    p->prev = p->next = NULL;
    d->n_parked--;
}

static void on_parked_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_timer(uv_timer_t *t);

/* Sleeps until the wait ends or, sooner, until a message of the queue becomes visible. */
static void arm(parked_t *p)
{
    int64_t now = lb_now_ms(), wake = p->park.deadline_ms;
    lb_queue_t *q = lb_queues_find_id(lb_sqs_queues(p->owner->env.sqs), p->park.queue_id);
    int64_t next = q ? lb_queue_next_change(q) : -1;
    if (next >= 0 && next < wake) wake = next;
    uv_timer_start(&p->timer, on_timer, (uint64_t)(wake > now ? wake - now : 0), 0);
}

/* Handles p's request again: answered, or parked again. */
static void retry(parked_t *p)
{
    lb_sqsd_t *d = p->owner;
    uv_timer_stop(&p->timer);
    p->call->now_ms = lb_now_ms();
    p->rq.deadline_ms = d->stopping ? 1 : p->park.deadline_ms;
    lb_sqs_park_t park;
    if (lb_sqs_handle(d->env.sqs, p->call, &p->rq, &park) == 1) {
        p->park = park;
        arm(p);
        return;
    }
    unlink_parked(d, p);
    d->env.run(d->env.ctx, p->pending);
    uv_close((uv_handle_t *)&p->timer, on_parked_closed);
}

static void on_timer(uv_timer_t *t)
{
    retry(t->data);
}

/* The queues' hook: messages of q may be receivable. */
static void on_queue(void *ctx, lb_queue_t *q)
{
    lb_sqsd_t *d = ctx;
    if (!d->head) return;
    /* Collect first: a retry changes the list. */
    size_t n = 0, cap = d->n_parked;
    parked_t **v = lb_xcalloc(cap ? cap : 1, sizeof *v);
    for (parked_t *p = d->head; p && n < cap; p = p->next)
        if (p->park.queue_id == q->id) v[n++] = p;
    for (size_t i = 0; i < n; i++)
        retry(v[i]);
    free(v);
}

/* The client of a parked receive went away: answer it (empty) without taking messages. */
static void on_client_gone(void *ctx)
{
    parked_t *p = ctx;
    lb_sqsd_t *d = p->owner;
    uv_timer_stop(&p->timer);
    unlink_parked(d, p);
    lb_sqs_answer_empty(p->call, &p->rq);
    d->env.run(d->env.ctx, p->pending);
    uv_close((uv_handle_t *)&p->timer, on_parked_closed);
}

void lb_sqsd_handle(lb_sqsd_t *d, lb_http_request_t *req, lb_call_t *call, void *pending,
                    const lb_sqs_req_t *rq)
{
    lb_sqs_park_t park;
    if (d->stopping || lb_sqs_handle(d->env.sqs, call, rq, &park) != 1) {
        d->env.run(d->env.ctx, pending);
        return;
    }
    parked_t *p = lb_xcalloc(1, sizeof *p);
    *p = (parked_t){.owner = d, .call = call, .pending = pending, .rq = *rq, .park = park};
    uv_timer_init(d->env.loop, &p->timer);
    p->timer.data = p;
    p->next = d->head;
    if (d->head) d->head->prev = p;
    d->head = p;
    d->n_parked++;
    lb_http_request_on_close(req, on_client_gone, p);
    arm(p);
}

/* ---- retention ---- */

typedef struct {
    lb_sqsd_t *owner;
    void *job; /* NULL: only the deduplication ids */
    int64_t now_ms;
} sweep_t;

static int sweep_txn(lb_store_t *s, void *arg)
{
    sweep_t *w = arg;
    int rc = w->job ? lb_sqs_expire_txn(s, w->job) : 0;
    size_t removed;
    if (!rc) rc = lb_store_qdedup_sweep(s, w->now_ms, 500, &removed);
    return rc;
}

static void sweep_done(void *arg, int rc)
{
    sweep_t *w = arg;
    if (rc)
        lb_logf_warn(w->owner->env.log, "queue retention sweep not stored; retried next time",
                     LB_LOG_INT("code", rc));
    w->owner->sweeping = 0;
    if (w->job) lb_sqs_expire_free(w->job);
    free(w);
}

static void on_sweep(uv_timer_t *t)
{
    lb_sqsd_t *d = t->data;
    if (d->sweeping || d->stopping) return;
    int64_t now = lb_now_ms();
    void *job = lb_sqs_expire(d->env.sqs, now, SWEEP_MAX);
    if (!job && now - d->last_dedup_sweep < 60000) return;
    d->last_dedup_sweep = now;
    sweep_t *w = lb_xcalloc(1, sizeof *w);
    *w = (sweep_t){.owner = d, .job = job, .now_ms = now};
    d->sweeping = 1;
    if (lb_writer_submit(d->env.writer, sweep_txn, w, sweep_done, w)) sweep_done(w, LB_ESTORE);
}

int lb_sqsd_start(const lb_sqsd_env_t *env, lb_sqsd_t **out)
{
    lb_sqsd_t *d = lb_xcalloc(1, sizeof *d);
    d->env = *env;
    lb_queues_set_hook(lb_sqs_queues(env->sqs), on_queue, d);
    uv_timer_init(env->loop, &d->sweep);
    d->sweep.data = d;
    d->sweep_open = 1;
    uv_timer_start(&d->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    *out = d;
    return 0;
}

void lb_sqsd_stop(lb_sqsd_t *d)
{
    if (!d || d->stopping) return;
    d->stopping = 1;
    while (d->head)
        retry(d->head);
    if (d->sweep_open) {
        uv_timer_stop(&d->sweep);
        uv_close((uv_handle_t *)&d->sweep, NULL);
        d->sweep_open = 0;
    }
    lb_queues_set_hook(lb_sqs_queues(d->env.sqs), NULL, NULL);
}

size_t lb_sqsd_parked(const lb_sqsd_t *d)
{
    return d ? d->n_parked : 0;
}

void lb_sqsd_free(lb_sqsd_t **dp)
{
    free(*dp);
    *dp = NULL;
}

/* See lb_sqsd.h: JSON 1.0 by its X-Amz-Target; the query protocol by a form with
 * Action= (POST body, or a GET's query string) on / or on a queue's path (query). */
int lb_sqsd_protocol(lb_http_request_t *req)
{
    const char *method = lb_http_request_method(req), *path = lb_http_request_path(req);
    const char *target = lb_http_request_header(req, "X-Amz-Target");
    if (target) return strncmp(target, "AmazonSQS.", 10) == 0 ? LB_SQS_JSON : -1;
    if (strncmp(path, "/_localbridge", 13) == 0) return -1;
    if (strcmp(method, "GET") == 0) {
        const char *q = lb_http_request_query(req);
        return strncmp(q, "Action=", 7) == 0 || strstr(q, "&Action=") ? LB_SQS_QUERY : -1;
    }
    if (strcmp(method, "POST") != 0) return -1;
    const char *type = lb_http_request_header(req, "Content-Type");
    return type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0 ? LB_SQS_QUERY
                                                                                   : -1;
}

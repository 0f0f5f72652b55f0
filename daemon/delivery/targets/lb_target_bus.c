#include "lb_target_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_ingest.h"
#include "lb_util.h"

typedef struct {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
} bus_t;

/* A forward being committed. */
typedef struct {
    bus_t *owner;
    lb_delivery_t *delivery;
    lb_ingest_batch_t *batch;
    lb_send_done_fn done;
    void *ctx;
} forward_t;

static int bus_accepts(void *self, const char *arn)
{
    (void)self;
    lb_arn_t p;
    return lb_arn_parse(arn, &p) == 0 && strcmp(p.service, "events") == 0 &&
           strncmp(p.resource, "event-bus/", 10) == 0 && p.resource[10];
}

static int forward_txn(lb_store_t *store, void *arg)
{
    forward_t *f = arg;
    return lb_ingest_batch_write(store, f->batch);
}

static void forward_committed(void *data, int rc)
{
    forward_t *f = data;
    lb_send_result_t r = {.outcome = LB_ATTEMPT_OK};
    if (rc == 0) {
        lb_ingest_batch_committed(f->owner->env.engine, f->batch);
    } else {
        r.outcome = LB_ATTEMPT_RETRYABLE;
        r.error_code = "INTERNAL_ERROR";
        r.error_message = "The event could not be stored on the target bus; it will be retried.";
    }
    f->done(f->ctx, f->delivery, &r);
    lb_ingest_batch_free(&f->batch);
    free(f);
}

static void bus_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    bus_t *b = self;
    lb_arn_t arn;
    lb_arn_parse(d->target_arn, &arn);
    const char *name = arn.resource + 10;
    lb_ingest_ctx_t ictx = {.region = arn.region,
                            .account = lb_config_settings(b->env.config)->account_id,
                            .now_ms = lb_now_ms(),
                            .origin = {.kind = LB_ORIGIN_BUS_TARGET},
                            .trace_header = d->trace_header};
    forward_t *f = lb_xcalloc(1, sizeof *f);
    f->owner = b;
    f->delivery = d;
    f->batch = lb_ingest_batch_new();
    f->done = done;
    f->ctx = ctx;
    char id[37], message[1200];
    int rc = lb_ingest_envelope(b->env.engine, &ictx, name, d->body, d->body_len, f->batch, id);
    lb_send_result_t r = {.outcome = LB_ATTEMPT_PERMANENT, .error_message = message};
    if (rc == 0) {
        if (lb_writer_submit(b->env.writer, forward_txn, f, forward_committed, f) == 0) return;
        r = (lb_send_result_t){.aborted = 1};
    } else if (rc == LB_INGEST_ENOBUS) {
        r.error_code = "RESOURCE_NOT_FOUND";
        snprintf(message, sizeof message, "Event bus %.512s does not exist in %s.", name,
                 arn.region);
    } else if (rc == LB_INGEST_EMALFORMED) {
        r.error_code = "INVALID_EVENT";
        snprintf(message, sizeof message,
                 "The target input is not an event (an object with source, detail-type and an "
                 "object detail), so it cannot be put on event bus %.512s.",
                 name);
    } else {
        r = (lb_send_result_t){.outcome = LB_ATTEMPT_RETRYABLE,
                               .error_code = "INTERNAL_ERROR",
                               .error_message = "The event could not be built."};
    }
    done(ctx, d, &r);
    lb_ingest_batch_free(&f->batch);
    free(f);
}

/* One record committed on its own: nothing waits for it (the dead-letter store keeps the
 * failure whatever happens here). */
typedef struct {
    lb_engine_t *engine;
    lb_ingest_batch_t *batch;
} put_t;

static int put_txn(lb_store_t *store, void *arg)
{
    return lb_ingest_batch_write(store, ((put_t *)arg)->batch);
}

static void put_committed(void *data, int rc)
{
    put_t *p = data;
    if (rc == 0) lb_ingest_batch_committed(p->engine, p->batch);
    lb_ingest_batch_free(&p->batch);
    free(p);
}

/* A failure record (a Lambda function's on-failure destination): the body is an event envelope
 * put on the bus, one attempt. */
static void bus_send_record(void *self, const char *arn_text, const lb_dead_letter_msg_t *m)
{
    bus_t *b = self;
    lb_arn_t arn;
    if (lb_arn_parse(arn_text, &arn)) return;
    const lb_delivery_t *d = m->delivery;
    lb_ingest_ctx_t ictx = {.region = arn.region,
                            .account = lb_config_settings(b->env.config)->account_id,
                            .now_ms = lb_now_ms(),
                            .origin = {.kind = LB_ORIGIN_BUS_TARGET}};
    put_t *p = lb_xcalloc(1, sizeof *p);
    p->engine = b->env.engine;
    p->batch = lb_ingest_batch_new();
    char id[37];
    int rc = lb_ingest_envelope(b->env.engine, &ictx, arn.resource + 10, d->body, d->body_len,
                                p->batch, id);
    if (rc == 0 && lb_writer_submit(b->env.writer, put_txn, p, put_committed, p) == 0) return;
    lb_logf_warn(b->env.log, "event bus refused the failure record; kept in the dead-letter store",
                 LB_LOG_STR("bus", arn_text), LB_LOG_INT("rc", rc));
    lb_ingest_batch_free(&p->batch);
    free(p);
}

static void bus_stop(void *self)
{
    (void)self; /* forwards being committed finish when the writer delivers their commit */
}

static void free_bus(void *self)
{
    free(self);
}

lb_adapter_t *lb_target_bus_new(const lb_adapter_env_t *env)
{
    bus_t *b = lb_xcalloc(1, sizeof *b);
    b->env = *env;
    b->adapter = (lb_adapter_t){.name = "event-bus",
                                .self = b,
                                .accepts = bus_accepts,
                                .send = bus_send,
                                .send_record = bus_send_record,
                                .stop = bus_stop,
                                .free = free_bus};
    return &b->adapter;
}

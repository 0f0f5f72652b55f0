#include "lb_target_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_sqs.h"
#include "lb_util.h"

typedef struct {
    lb_adapter_env_t env;
    lb_adapter_t adapter;
    uint64_t sent, dead_letters;
} queue_adapter_t;

/* A send being committed. */
typedef struct {
    queue_adapter_t *owner;
    lb_sqs_send_t *job;
    lb_delivery_t *delivery; /* NULL for a dead letter */
    lb_send_done_fn done;
    void *ctx;
} qsend_t;

static const char *account(const queue_adapter_t *a)
{
    return lb_config_settings(a->env.config)->account_id;
}

static lb_queue_t *queue_of(const queue_adapter_t *a, const char *arn)
{
    return a->env.sqs ? lb_queues_find_arn(lb_sqs_queues(a->env.sqs), account(a), arn) : NULL;
}

static int q_accepts(void *self, const char *arn)
{
    return queue_of(self, arn) != NULL;
}

static int qsend_txn(lb_store_t *store, void *arg)
{
    return lb_sqs_send_txn(store, ((qsend_t *)arg)->job);
}

static void qsend_committed(void *data, int rc)
{
    qsend_t *s = data;
    lb_sqs_send_committed(s->owner->env.sqs, s->job, rc);
    if (s->delivery) {
        lb_send_result_t r = {.outcome = LB_ATTEMPT_OK};
        if (rc) {
            r.outcome = LB_ATTEMPT_RETRYABLE;
            r.error_code = "INTERNAL_ERROR";
            r.error_message = "The message could not be stored in the queue; it will be retried.";
        } else {
            s->owner->sent++;
        }
        s->done(s->ctx, s->delivery, &r);
    } else if (rc == 0) {
        s->owner->dead_letters++;
    }
    free(s);
}

static int submit(queue_adapter_t *a, lb_sqs_send_t *job, lb_delivery_t *d, lb_send_done_fn done,
                  void *ctx)
{
    qsend_t *s = lb_xcalloc(1, sizeof *s);
    *s = (qsend_t){.owner = a, .job = job, .delivery = d, .done = done, .ctx = ctx};
    if (lb_writer_submit(a->env.writer, qsend_txn, s, qsend_committed, s) == 0) return 0;
    lb_sqs_send_committed(a->env.sqs, job, LB_ESTORE);
    free(s);
    return -1;
}

/* SqsParameters.MessageGroupId of the target, into out ("" when none). */
static void group_of(const char *target_json, char *out, size_t outlen)
{
    out[0] = '\0';
    lb_json_doc_t *doc = NULL;
    if (target_json && lb_json_parse(target_json, strlen(target_json), LB_JSON_REQUEST_MAX_DEPTH,
                                     &doc, NULL) == 0) {
        const char *g =
            lb_json_get_str(lb_json_get(lb_json_doc_root(doc), "SqsParameters"), "MessageGroupId");
        if (g) snprintf(out, outlen, "%s", g);
    }
    lb_json_doc_free(&doc);
}

static void q_send(void *self, lb_delivery_t *d, lb_send_done_fn done, void *ctx)
{
    queue_adapter_t *a = self;
    lb_queue_t *q = queue_of(a, d->target_arn);
    lb_send_result_t r = {.outcome = LB_ATTEMPT_PERMANENT};
    char message[600];
    r.error_message = message;
    if (!q) {
        r.error_code = "RESOURCE_NOT_FOUND";
        snprintf(message, sizeof message, "The queue %.500s does not exist.", d->target_arn);
        done(ctx, d, &r);
        return;
    }
    char group[256];
    group_of(d->target_json, group, sizeof group);
    lb_sqs_send_t *job = NULL;
    /* FIFO: the event id deduplicates, as EventBridge does (a retried delivery is not twice in
     * the queue). */
    int rc = lb_sqs_send_prepare(a->env.sqs, q, d->body, d->body_len, NULL, 0,
                                 q->conf.fifo ? group : NULL, q->conf.fifo ? d->event_id : NULL,
                                 lb_now_ms(), &job);
    if (rc || !job) {
        r.error_code = "SQS_ERROR";
        snprintf(message, sizeof message,
                 q->conf.fifo && !group[0]
                     ? "The FIFO queue %.400s needs SqsParameters.MessageGroupId on the target."
                     : "The queue %.400s refused the message (too large, or invalid characters).",
                 d->target_arn);
        done(ctx, d, &r);
        return;
    }
    if (submit(a, job, d, done, ctx)) {
        r = (lb_send_result_t){.aborted = 1};
        done(ctx, d, &r);
    }
}

static void add_attr(lb_sqs_attr_t *v, size_t *n, const char *name, const char *value)
{
    if (value && *value)
        v[(*n)++] = (lb_sqs_attr_t){
            .name = name, .data_type = "String", .value = value, .value_len = strlen(value)};
}

/* AWS's dead-letter message: the event as the target would have received it, with the failure in
 * String message attributes. */
static void q_dead_letter(void *self, const char *dlq_arn, const lb_dead_letter_msg_t *m)
{
    queue_adapter_t *a = self;
    lb_queue_t *q = queue_of(a, dlq_arn);
    if (!q) return;
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d", m->retry_attempts);
    const lb_delivery_t *d = m->delivery;
    lb_sqs_attr_t attrs[6];
    size_t n = 0;
    add_attr(attrs, &n, "RULE_ARN", m->rule_arn);
    add_attr(attrs, &n, "TARGET_ARN", d->target_arn);
    add_attr(attrs, &n, "ERROR_CODE", m->error_code);
    add_attr(attrs, &n, "ERROR_MESSAGE", m->error_message);
    add_attr(attrs, &n, "EXHAUSTED_RETRY_CONDITION", m->exhausted);
    add_attr(attrs, &n, "RETRY_ATTEMPTS", attempts);
    char group[256];
    group_of(d->target_json, group, sizeof group);
    lb_sqs_send_t *job = NULL;
    if (lb_sqs_send_prepare(a->env.sqs, q, d->body, d->body_len, attrs, n,
                            q->conf.fifo ? (group[0] ? group : d->rule) : NULL,
                            q->conf.fifo ? d->event_id : NULL, lb_now_ms(), &job) ||
        !job) {
        lb_logf_warn(a->env.log,
                     "dead-letter queue refused the message; kept in the dead-letter "
                     "store",
                     LB_LOG_STR("dlq", dlq_arn), LB_LOG_STR("event", d->event_id));
        return;
    }
    submit(a, job, NULL, NULL, NULL);
}

static void q_stop(void *self)
{
    (void)self; /* sends being committed finish when the writer delivers their commit */
}

static void q_free(void *self)
{
    free(self);
}

static void q_metrics(void *self, lb_buf_t *out)
{
    queue_adapter_t *a = self;
    lb_buf_printf(out,
                  "# HELP localbridge_queue_target_messages_total Events delivered into built-in "
                  "queues\n# TYPE localbridge_queue_target_messages_total counter\n"
                  "localbridge_queue_target_messages_total %llu\n"
                  "# HELP localbridge_queue_dead_letters_total Dead letters put into built-in "
                  "queues\n# TYPE localbridge_queue_dead_letters_total counter\n"
                  "localbridge_queue_dead_letters_total %llu\n",
                  (unsigned long long)a->sent, (unsigned long long)a->dead_letters);
}

lb_adapter_t *lb_target_queue_new(const lb_adapter_env_t *env)
{
    queue_adapter_t *a = lb_xcalloc(1, sizeof *a);
    a->env = *env;
    a->adapter = (lb_adapter_t){.name = "sqs-queue",
                                .self = a,
                                .accepts = q_accepts,
                                .send = q_send,
                                .send_dead_letter = q_dead_letter,
                                .stop = q_stop,
                                .free = q_free,
                                .metrics = q_metrics};
    return &a->adapter;
}

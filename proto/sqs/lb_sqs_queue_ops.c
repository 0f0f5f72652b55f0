/* Queue operations: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, Get/SetQueueAttributes,
 * PurgeQueue and the tags. Memory changes when the request is accepted (so a request pipelined
 * behind it sees the queue); the store's row follows on the writer before the answer, and a
 * refused commit takes the change back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_queue_store.h"
#include "lb_sqs_internal.h"
#include "lb_util.h"

enum { QJ_INSERT, QJ_UPDATE, QJ_DELETE, QJ_PURGE };

typedef struct {
    sqs_job_t base;
    int kind;
    lb_queue_t *copy; /* the row as it must be written (a snapshot: the writer reads only it) */
    int64_t queue_id, max_seq;
    lb_json_doc_t *res;
} qjob_t;

static void qjob_free(void *arg)
{
    qjob_t *j = arg;
    lb_queue_free(&j->copy);
    lb_json_doc_free(&j->res);
    free(j);
}

static int qjob_txn(lb_store_t *s, void *arg)
{
    qjob_t *j = arg;
    switch (j->kind) {
    case QJ_INSERT:
        return lb_store_queue_insert(s, j->copy);
    case QJ_UPDATE:
        return lb_store_queue_update(s, j->copy);
    case QJ_DELETE:
        return lb_store_queue_delete(s, j->queue_id);
    default:
        return lb_store_qmsgs_purge(s, j->queue_id, j->max_seq);
    }
}

static void qjob_finish(lb_call_t *call, int rc)
{
    qjob_t *j = call->arg;
    if (rc) {
        if (j->kind == QJ_INSERT) {
            lb_queue_t *q = lb_queues_find_id(j->base.sqs->qs, j->queue_id);
            if (q) lb_queues_remove(j->base.sqs->qs, q);
        }
        sqs_fail(call, j->base.proto, SQS_E_INTERNAL,
                 "The request could not be stored durably; nothing was accepted. Retry later.");
        return;
    }
    sqs_answer(call, j->base.proto, j->base.op, j->res ? lb_json_doc_root(j->res) : NULL);
}

static qjob_t *qjob_new(sqs_ctx_t *c, int kind, const lb_queue_t *q)
{
    qjob_t *j = lb_xcalloc(1, sizeof *j);
    j->base = (sqs_job_t){.sqs = c->sqs, .proto = c->rq->proto, .op = c->op};
    j->kind = kind;
    j->queue_id = q->id;
    if (kind == QJ_INSERT || kind == QJ_UPDATE) {
        j->copy = lb_queue_new(q->id, q->region, q->name, q->attrs_json, q->tags_json,
                               q->created_ms, q->modified_ms);
    }
    return j;
}

static int defer(sqs_ctx_t *c, qjob_t *j)
{
    lb_call_defer(c->call, qjob_txn, qjob_finish, j, qjob_free);
    return 0;
}

static const char *attr_error_kind(lb_qattr_err_t e, sqs_err_t *out)
{
    *out = e == LB_QATTR_INVALID_NAME    ? SQS_E_INVALID_ATTR_NAME
           : e == LB_QATTR_INVALID_VALUE ? SQS_E_INVALID_ATTR_VALUE
                                         : SQS_E_INVALID_PARAM;
    return NULL;
}

/* A tags object of strings (or absent): its canonical JSON, or NULL. */
static char *tags_json(const lb_json_t *tags)
{
    if (!tags || tags->type != LB_JSON_OBJECT || !tags->n_children) return NULL;
    return lb_json_print(tags, NULL);
}

static lb_json_doc_t *url_result(sqs_ctx_t *c, const lb_queue_t *q)
{
    char url[512];
    sqs_queue_url(c, q, url, sizeof url);
    lb_json_doc_t *d = lb_json_doc_new();
    lb_json_t *r = lb_json_new(d, LB_JSON_OBJECT);
    lb_json_doc_set_root(d, r);
    lb_json_add_str(d, r, "QueueUrl", url);
    return d;
}

/* The RedrivePolicy's dead-letter queue must exist (SQS checks at once). */
static int dlq_exists(sqs_ctx_t *c, const char *merged)
{
    lb_queue_conf_t conf;
    lb_queue_conf_parse(merged, &conf);
    if (!conf.dlq_arn[0]) return 1;
    if (lb_queues_find_arn(c->sqs->qs, c->call->account_id, conf.dlq_arn)) return 1;
    sqs_fail(c->call, c->rq->proto, SQS_E_INVALID_PARAM,
             "Value {\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":\"%d\"} for parameter "
             "RedrivePolicy is invalid. Reason: Dead letter target does not exist.",
             conf.dlq_arn, conf.max_receive_count);
    return 0;
}

/* Attribute values as strings: SQS's JSON 1.0 takes strings only, but tools that build requests
 * from templates (CloudFormation's VisibilityTimeout: 30, a RedrivePolicy object) pass numbers,
 * booleans and objects; each is taken as its JSON text. NULL when attrs is not an object. */
static int create_queue(sqs_ctx_t *c, const char *name, const lb_json_t *attrs);

static lb_json_doc_t *attrs_as_strings(const lb_json_t *attrs)
{
    if (!attrs || attrs->type != LB_JSON_OBJECT) return NULL;
    lb_json_doc_t *d = lb_json_doc_new();
    lb_json_t *out = lb_json_new(d, LB_JSON_OBJECT);
    lb_json_doc_set_root(d, out);
    lb_json_each(a, attrs)
    {
        if (a->type == LB_JSON_STRING) {
            lb_json_add(d, out, a->key, lb_json_new_string(d, a->str, a->len));
        } else if (a->type != LB_JSON_NULL) {
            size_t len;
            char *text = lb_json_print(a, &len);
            lb_json_add(d, out, a->key, lb_json_new_string(d, text, len));
            free(text);
        }
    }
    return d;
}

int sqs_op_create_queue(sqs_ctx_t *c)
{
    const char *name = sqs_str(c, "QueueName");
    lb_json_doc_t *adoc = attrs_as_strings(lb_json_get(c->req, "Attributes"));
    int rc = create_queue(c, name, adoc ? lb_json_doc_root(adoc) : NULL);
    lb_json_doc_free(&adoc);
    return rc;
}

static int create_queue(sqs_ctx_t *c, const char *name, const lb_json_t *attrs)
{
    if (!name || !*name) {
        sqs_fail(c->call, c->rq->proto, SQS_E_MISSING_PARAM,
                 "The request must contain the parameter QueueName.");
        return 0;
    }
    const char *fifo_attr = attrs ? lb_json_get_str(attrs, "FifoQueue") : NULL;
    int fifo = fifo_attr && strcmp(fifo_attr, "true") == 0;
    if (!lb_queue_name_valid(name, fifo)) {
        sqs_fail(c->call, c->rq->proto, SQS_E_INVALID_PARAM,
                 fifo ? "The name of a FIFO queue can only include alphanumeric characters, "
                        "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                        "length."
                      : "Can only include alphanumeric characters, hyphens, or underscores. 1 to "
                        "80 in length");
        return 0;
    }
    char msg[1024], *merged = NULL;
    lb_qattr_err_t ae = lb_queue_attrs_check(attrs, name, NULL, &merged, msg, sizeof msg);
    if (ae != LB_QATTR_OK) {
        sqs_err_t e;
        attr_error_kind(ae, &e);
        sqs_fail(c->call, c->rq->proto, e, "%s", msg);
        return 0;
    }
    lb_queue_t *q = lb_queues_find(c->sqs->qs, c->call->region, name);
    if (q) {
        /* The same name: fine when every attribute asked for has the value the queue has. */
        lb_json_each(a, attrs)
        {
            char have[4096], want[4096];
            lb_queue_attr_effective(q->attrs_json, a->key, have, sizeof have);
            lb_queue_attr_effective(merged, a->key, want, sizeof want);
            if (strcmp(have, want) != 0) {
                free(merged);
                sqs_fail(c->call, c->rq->proto, SQS_E_QUEUE_EXISTS,
                         "A queue already exists with the same name and a different value for "
                         "attribute %s",
                         a->key);
                return 0;
            }
        }
        free(merged);
        lb_json_doc_t *res = url_result(c, q);
        sqs_answer(c->call, c->rq->proto, c->op, lb_json_doc_root(res));
        lb_json_doc_free(&res);
        return 0;
    }
    if (!dlq_exists(c, merged)) {
        free(merged);
        return 0;
    }
    const lb_json_t *tags = lb_json_get(c->req, "tags");
    if (!tags) tags = lb_json_get(c->req, "Tags");
    char *tj = tags_json(tags);
    int64_t now = c->call->now_ms;
    q = lb_queue_new(lb_queues_next_id(c->sqs->qs), c->call->region, name, merged, tj, now, now);
    free(merged);
    free(tj);
    lb_queues_add(c->sqs->qs, q);
    qjob_t *j = qjob_new(c, QJ_INSERT, q);
    j->res = url_result(c, q);
    return defer(c, j);
}

int sqs_op_get_queue_url(sqs_ctx_t *c)
{
    const char *name = sqs_str(c, "QueueName");
    if (!name || !*name) {
        sqs_fail(c->call, c->rq->proto, SQS_E_MISSING_PARAM,
                 "The request must contain the parameter QueueName.");
        return 0;
    }
    const char *owner = sqs_str(c, "QueueOwnerAWSAccountId");
    lb_queue_t *q = NULL;
    if (!owner || strcmp(owner, c->call->account_id) == 0)
        q = lb_queues_find(c->sqs->qs, c->call->region, name);
    if (!q) {
        sqs_fail(c->call, c->rq->proto, SQS_E_NONEXISTENT_QUEUE,
                 "The specified queue does not exist.");
        return 0;
    }
    lb_json_doc_t *res = url_result(c, q);
    sqs_answer(c->call, c->rq->proto, c->op, lb_json_doc_root(res));
    lb_json_doc_free(&res);
    return 0;
}

int sqs_op_list_queues(sqs_ctx_t *c)
{
    const char *prefix = sqs_str(c, "QueueNamePrefix");
    const char *token = sqs_str(c, "NextToken");
    long long max = 1000;
    int has_max = sqs_int(c->req, "MaxResults", &max);
    if (has_max < 0 || (has_max && (max < 1 || max > 1000))) {
        sqs_fail(c->call, c->rq->proto, SQS_E_INVALID_PARAM,
                 "Value %s for parameter MaxResults is invalid. Reason: MaxResults must be an "
                 "integer between 1 and 1000.",
                 lb_json_get(c->req, "MaxResults")->str ? lb_json_get(c->req, "MaxResults")->str
                                                        : "");
        return 0;
    }
    lb_json_doc_t *d = lb_json_doc_new();
    lb_json_t *r = lb_json_new(d, LB_JSON_OBJECT), *urls = lb_json_new(d, LB_JSON_ARRAY);
    lb_json_doc_set_root(d, r);
    const char *region = c->call->region;
    size_t plen = prefix ? strlen(prefix) : 0, n = 0;
    size_t i = lb_queues_lower_bound(c->sqs->qs, region, token && *token ? token : "");
    const char *last = NULL;
    int more = 0;
    for (; i < lb_queues_count(c->sqs->qs); i++) {
        lb_queue_t *q = lb_queues_at(c->sqs->qs, i);
        if (strcmp(q->region, region) != 0) break;
        if (token && *token && strcmp(q->name, token) <= 0) continue;
        if (plen && strncmp(q->name, prefix, plen) != 0) continue;
        if (has_max && (long long)n == max) {
            more = 1;
            break;
        }
        char url[512];
        sqs_queue_url(c, q, url, sizeof url);
        lb_json_add(d, urls, NULL, lb_json_new_str(d, url));
        last = q->name;
        n++;
    }
    if (n) lb_json_add(d, r, "QueueUrls", urls);
    if (more && last) lb_json_add_str(d, r, "NextToken", last);
    sqs_answer(c->call, c->rq->proto, c->op, r);
    lb_json_doc_free(&d);
    return 0;
}

int sqs_op_delete_queue(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    qjob_t *j = qjob_new(c, QJ_DELETE, q);
    lb_queues_remove(c->sqs->qs, q);
    return defer(c, j);
}

/* The attributes GetQueueAttributes "All" lists, in SQS's order. */
static const char *const all_attrs[] = {
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
};
#define N_ALL (sizeof all_attrs / sizeof *all_attrs)

static void add_attr(sqs_ctx_t *c, lb_queue_t *q, lb_json_doc_t *d, lb_json_t *r, const char *name)
{
    char v[4096] = "";
    if (strcmp(name, "QueueArn") == 0)
        lb_queue_arn(q, c->call->account_id, v, sizeof v);
    else if (strcmp(name, "ApproximateNumberOfMessages") == 0)
        snprintf(v, sizeof v, "%zu", q->n_visible);
    else if (strcmp(name, "ApproximateNumberOfMessagesNotVisible") == 0)
        snprintf(v, sizeof v, "%zu", q->n_inflight);
    else if (strcmp(name, "ApproximateNumberOfMessagesDelayed") == 0)
        snprintf(v, sizeof v, "%zu", q->n_delayed);
    else if (strcmp(name, "CreatedTimestamp") == 0)
        snprintf(v, sizeof v, "%lld", (long long)(q->created_ms / 1000));
    else if (strcmp(name, "LastModifiedTimestamp") == 0)
        snprintf(v, sizeof v, "%lld", (long long)(q->modified_ms / 1000));
    else
        lb_queue_attr_effective(q->attrs_json, name, v, sizeof v);
    if (!*v) return;
    lb_json_remove(r, name);
    lb_json_add_str(d, r, name, v);
}

int sqs_op_get_queue_attributes(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    lb_queue_advance(q, c->call->now_ms);
    const lb_json_t *names = lb_json_get(c->req, "AttributeNames");
    lb_json_doc_t *d = lb_json_doc_new();
    lb_json_t *r = lb_json_new(d, LB_JSON_OBJECT), *attrs = lb_json_new(d, LB_JSON_OBJECT);
    lb_json_doc_set_root(d, r);
    int all = 0;
    lb_json_each(n, names)
    {
        if (n->type != LB_JSON_STRING) continue;
        if (strcmp(n->str, "All") == 0) {
            all = 1;
            continue;
        }
        int known = 0;
        for (size_t i = 0; i < N_ALL; i++)
            known |= strcmp(all_attrs[i], n->str) == 0;
        if (!known) {
            lb_json_doc_free(&d);
            sqs_fail(c->call, c->rq->proto, SQS_E_INVALID_ATTR_NAME, "Unknown Attribute %s.",
                     n->str);
            return 0;
        }
    }
    for (size_t i = 0; i < N_ALL; i++) {
        int want = all;
        lb_json_each(n, names) want |=
            n->type == LB_JSON_STRING && strcmp(n->str, all_attrs[i]) == 0;
        if (want) add_attr(c, q, d, attrs, all_attrs[i]);
    }
    if (attrs->n_children) lb_json_add(d, r, "Attributes", attrs);
    sqs_answer(c->call, c->rq->proto, c->op, r);
    lb_json_doc_free(&d);
    return 0;
}

int sqs_op_set_queue_attributes(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    lb_json_doc_t *adoc = attrs_as_strings(lb_json_get(c->req, "Attributes"));
    const lb_json_t *attrs = adoc ? lb_json_doc_root(adoc) : NULL;
    char msg[1024], *merged = NULL;
    lb_qattr_err_t ae = lb_queue_attrs_check(attrs, q->name, q, &merged, msg, sizeof msg);
    lb_json_doc_free(&adoc);
    if (ae != LB_QATTR_OK) {
        sqs_err_t e;
        attr_error_kind(ae, &e);
        sqs_fail(c->call, c->rq->proto, e, "%s", msg);
        return 0;
    }
    if (!dlq_exists(c, merged)) {
        free(merged);
        return 0;
    }
    lb_queue_set_attrs(q, merged, c->call->now_ms);
    free(merged);
    lb_queues_notify(c->sqs->qs, q); /* a shorter wait or delay may concern parked receives */
    return defer(c, qjob_new(c, QJ_UPDATE, q));
}

int sqs_op_purge_queue(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    if (q->purged_ms && c->call->now_ms - q->purged_ms < 60000) {
        sqs_fail(c->call, c->rq->proto, SQS_E_PURGE_IN_PROGRESS,
                 "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q->name);
        return 0;
    }
    q->purged_ms = c->call->now_ms;
    qjob_t *j = qjob_new(c, QJ_PURGE, q);
    j->max_seq = lb_queues_next_seq(c->sqs->qs); /* every message sent so far */
    lb_queue_purge(q);
    return defer(c, j);
}

/* Tags: the queue's tags object merged with (TagQueue) or without (UntagQueue) the request's. */
static int change_tags(sqs_ctx_t *c, int add)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    lb_json_doc_t *d = NULL;
    if (!q->tags_json ||
        lb_json_parse(q->tags_json, strlen(q->tags_json), LB_JSON_REQUEST_MAX_DEPTH, &d, NULL)) {
        lb_json_doc_free(&d);
        d = lb_json_doc_new();
        lb_json_doc_set_root(d, lb_json_new(d, LB_JSON_OBJECT));
    }
    lb_json_t *tags = lb_json_doc_root(d);
    if (add) {
        const lb_json_t *t = lb_json_get(c->req, "Tags");
        lb_json_each(e, t)
        {
            if (e->type != LB_JSON_STRING) continue;
            lb_json_remove(tags, e->key);
            lb_json_add(d, tags, e->key, lb_json_new_string(d, e->str, e->len));
        }
    } else {
        lb_json_each(k, lb_json_get(c->req, "TagKeys")) if (k->type == LB_JSON_STRING)
            lb_json_remove(tags, k->str);
    }
    char *tj = tags_json(tags);
    lb_queue_set_tags(q, tj);
    free(tj);
    lb_json_doc_free(&d);
    return defer(c, qjob_new(c, QJ_UPDATE, q));
}

int sqs_op_tag_queue(sqs_ctx_t *c)
{
    return change_tags(c, 1);
}

int sqs_op_untag_queue(sqs_ctx_t *c)
{
    return change_tags(c, 0);
}

int sqs_op_list_queue_tags(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    lb_json_doc_t *d = lb_json_doc_new(), *t = NULL;
    lb_json_t *r = lb_json_new(d, LB_JSON_OBJECT);
    lb_json_doc_set_root(d, r);
    if (q->tags_json &&
        lb_json_parse(q->tags_json, strlen(q->tags_json), LB_JSON_REQUEST_MAX_DEPTH, &t, NULL) ==
            0 &&
        lb_json_doc_root(t)->n_children)
        lb_json_add(d, r, "Tags", lb_json_copy(d, lb_json_doc_root(t)));
    lb_json_doc_free(&t);
    sqs_answer(c->call, c->rq->proto, c->op, r);
    lb_json_doc_free(&d);
    return 0;
}

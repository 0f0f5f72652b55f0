/* ReceiveMessage (with long polling and the redrive to a dead-letter queue), DeleteMessage and
 * ChangeMessageVisibility, single and batched. Receipt handles name the queue, the message and
 * the receive that handed them out, so a stale one is told apart from a current one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_sqs_job.h"
#include "lb_util.h"

/* ---- receipt handles ---- */

static void receipt_make(int64_t queue_id, int64_t seq, uint64_t token, char *out, size_t outlen)
{
    char raw[96];
    int n = snprintf(raw, sizeof raw, "lbq1:%lld:%lld:%llu", (long long)queue_id, (long long)seq,
                     (unsigned long long)token);
    lb_buf_t b = {0};
    lb_base64_encode(&b, raw, (size_t)n);
    snprintf(out, outlen, "%s", b.data);
    lb_buf_free(&b);
}

static int receipt_parse(const char *h, int64_t *queue_id, int64_t *seq, uint64_t *token)
{
    char *raw = NULL;
    size_t n;
    if (!h || lb_base64_decode(h, strlen(h), &raw, &n)) return -1;
    long long q, s;
    unsigned long long t;
    int ok = sscanf(raw, "lbq1:%lld:%lld:%llu", &q, &s, &t) == 3;
    free(raw);
    if (!ok) return -1;
    *queue_id = q;
    *seq = s;
    *token = t;
    return 0;
}

/* ---- ReceiveMessage ---- */

static int want_name(const lb_json_t *list, const char *name)
{
    lb_json_each(n, list)
    {
        if (n->type != LB_JSON_STRING) continue;
        if (strcmp(n->str, "All") == 0 || strcmp(n->str, ".*") == 0 || strcmp(n->str, name) == 0)
            return 1;
        if (n->len >= 2 && strcmp(n->str + n->len - 2, ".*") == 0 &&
            strncmp(n->str, name, n->len - 1) == 0)
            return 1;
    }
    return 0;
}

static void add_sys(lb_json_doc_t *d, lb_json_t *attrs, const lb_json_t *want, const char *name,
                    const char *v)
{
    if (v && (want_name(want, name))) lb_json_add_str(d, attrs, name, v);
}

/* One received message in the answer. */
static void add_message(sqs_mjob_t *j, const sqs_step_t *st, const char *account, lb_json_t *list)
{
    lb_json_doc_t *d = j->res;
    const lb_json_t *opts = lb_json_doc_root(j->opts);
    const lb_qmsg_record_t *r = &st->rec;
    lb_json_t *m = lb_json_add(d, list, NULL, lb_json_new(d, LB_JSON_OBJECT));
    char handle[160], num[32], first[32], seqtext[24];
    receipt_make(r->queue_id, st->seq, st->token, handle, sizeof handle);
    lb_json_add_str(d, m, "MessageId", r->message_id);
    lb_json_add_str(d, m, "ReceiptHandle", handle);
    lb_json_add_str(d, m, "MD5OfBody", r->md5_body);
    lb_json_add(d, m, "Body", lb_json_new_string(d, r->body, r->body_len));
    /* System attributes: the legacy AttributeNames and MessageSystemAttributeNames alike. */
    lb_json_doc_t *tmp = lb_json_doc_new();
    lb_json_t *want = lb_json_new(tmp, LB_JSON_ARRAY);
    lb_json_each(n, lb_json_get(opts, "AttributeNames"))
        lb_json_add(tmp, want, NULL, lb_json_copy(tmp, n));
    lb_json_each(n, lb_json_get(opts, "MessageSystemAttributeNames"))
        lb_json_add(tmp, want, NULL, lb_json_copy(tmp, n));
    lb_json_t *attrs = lb_json_new(d, LB_JSON_OBJECT);
    add_sys(d, attrs, want, "SenderId", account);
    snprintf(num, sizeof num, "%lld", (long long)r->sent_ms);
    add_sys(d, attrs, want, "SentTimestamp", num);
    snprintf(num, sizeof num, "%d", st->count);
    add_sys(d, attrs, want, "ApproximateReceiveCount", num);
    snprintf(first, sizeof first, "%lld", (long long)r->first_receive_ms);
    add_sys(d, attrs, want, "ApproximateFirstReceiveTimestamp", first);
    add_sys(d, attrs, want, "AWSTraceHeader", r->trace);
    add_sys(d, attrs, want, "DeadLetterQueueSourceArn", r->dlq_source);
    if (r->group) {
        snprintf(seqtext, sizeof seqtext, "%020lld", (long long)st->seq);
        add_sys(d, attrs, want, "SequenceNumber", seqtext);
        add_sys(d, attrs, want, "MessageDeduplicationId", r->dedup);
        add_sys(d, attrs, want, "MessageGroupId", r->group);
    }
    lb_json_doc_free(&tmp);
    if (attrs->n_children) lb_json_add(d, m, "Attributes", attrs);
    /* Message attributes asked for; their MD5 covers those returned, as SDKs check it. */
    lb_json_doc_t *ad = NULL;
    if (r->attrs_json && lb_json_parse(r->attrs_json, strlen(r->attrs_json),
                                       LB_JSON_REQUEST_MAX_DEPTH, &ad, NULL) == 0) {
        const lb_json_t *names = lb_json_get(opts, "MessageAttributeNames");
        lb_json_t *out = lb_json_new(d, LB_JSON_OBJECT);
        lb_sqs_attr_t v[10];
        char *dec[10] = {0};
        size_t n = 0;
        lb_json_each(a, lb_json_doc_root(ad))
        {
            if (!want_name(names, a->key) || n == 10) continue;
            lb_json_add(d, out, a->key, lb_json_copy(d, a));
            const char *type = lb_json_get_str(a, "DataType");
            const lb_json_t *sv = lb_json_get(a, "StringValue"),
                            *bv = lb_json_get(a, "BinaryValue");
            v[n] = (lb_sqs_attr_t){.name = a->key, .data_type = type ? type : "String"};
            if (bv && bv->type == LB_JSON_STRING &&
                lb_base64_decode(bv->str, bv->len, &dec[n], &v[n].value_len) == 0) {
                v[n].value = dec[n];
                v[n].binary = 1;
            } else if (sv && sv->type == LB_JSON_STRING) {
                v[n].value = sv->str;
                v[n].value_len = sv->len;
            } else {
                v[n].value = "";
            }
            n++;
        }
        if (n) {
            char md5[33];
            lb_sqs_md5_attrs(v, n, md5);
            lb_json_add_str(d, m, "MD5OfMessageAttributes", md5);
            lb_json_add(d, m, "MessageAttributes", out);
        }
        for (size_t i = 0; i < n; i++)
            free(dec[i]);
    }
    lb_json_doc_free(&ad);
}

static void receive_finish(lb_call_t *call, int rc)
{
    sqs_mjob_t *j = call->arg;
    if (rc) {
        sqs_fail(call, j->base.proto, SQS_E_INTERNAL,
                 "The receive could not be stored durably. Retry later.");
        return;
    }
    j->res = lb_json_doc_new();
    lb_json_t *r = lb_json_new(j->res, LB_JSON_OBJECT), *list = lb_json_new(j->res, LB_JSON_ARRAY);
    lb_json_doc_set_root(j->res, r);
    for (size_t i = 0; i < j->n; i++)
        if (j->steps[i].kind == STEP_RECEIVE && j->steps[i].found)
            add_message(j, &j->steps[i], call->account_id, list);
    if (list->n_children) lb_json_add(j->res, r, "Messages", list);
    /* Moved messages are receivable in their dead-letter queue now. */
    for (size_t i = 0; i < j->n; i++)
        if (j->steps[i].kind == STEP_MOVE) {
            lb_queue_t *dq = lb_queues_find_id(j->base.sqs->qs, j->steps[i].dest_queue_id);
            if (dq) lb_queues_notify(j->base.sqs->qs, dq);
        }
    sqs_answer(call, j->base.proto, j->base.op, r);
}

static int range_param(sqs_ctx_t *c, const char *name, long long lo, long long hi, long long *v,
                       const char *reason)
{
    int has = sqs_int(c->req, name, v);
    if (has < 0 || (has && (*v < lo || *v > hi))) {
        const lb_json_t *n = lb_json_get(c->req, name);
        sqs_fail(c->call, c->rq->proto, SQS_E_INVALID_PARAM,
                 "Value %s for parameter %s is invalid. Reason: %s", n && n->str ? n->str : "",
                 name, reason);
        return -1;
    }
    return has;
}

int sqs_op_receive_message(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    long long max = 1, wait = q->conf.wait_s, vt = q->conf.visibility_s;
    if (range_param(c, "MaxNumberOfMessages", 1, 10, &max,
                    "Must be between 1 and 10, if provided.") < 0 ||
        range_param(c, "WaitTimeSeconds", 0, 20, &wait, "Must be >= 0 and <= 20, if provided.") <
            0 ||
        range_param(c, "VisibilityTimeout", 0, LB_SQS_MAX_VISIBILITY_S, &vt,
                    "Must be >= 0 and <= 43200, if provided.") < 0)
        return 0;
    int64_t now = c->call->now_ms;
    lb_queue_t *dlq = q->conf.dlq_arn[0]
                          ? lb_queues_find_arn(c->sqs->qs, c->call->account_id, q->conf.dlq_arn)
                          : NULL;
    lb_qmsg_t *out[10], *moved[10];
    size_t n_moved = 0;
    size_t n = lb_queue_receive(q, dlq, now, (size_t)max, vt * 1000, lb_queues_next_token,
                                c->sqs->qs, out, moved, &n_moved);
    if (n == 0 && n_moved == 0 && wait > 0) {
        int64_t deadline = c->rq->deadline_ms ? c->rq->deadline_ms : now + wait * 1000;
        if (now < deadline) {
            c->park->queue_id = q->id;
            c->park->deadline_ms = deadline;
            return 1;
        }
    }
    if (n == 0 && n_moved == 0) {
        /* Nothing changed: no store work, so an empty poll costs no commit. */
        sqs_answer(c->call, c->rq->proto, c->op, NULL);
        return 0;
    }
    sqs_mjob_t *j = sqs_mjob_new(c->sqs, c->rq->proto, c->op, q->id);
    j->opts = lb_json_doc_new();
    lb_json_doc_set_root(j->opts, lb_json_copy(j->opts, c->req));
    char src[300] = "";
    if (n_moved) lb_queue_arn(q, c->call->account_id, src, sizeof src);
    for (size_t i = 0; i < n_moved; i++) {
        sqs_step_t *st = sqs_mjob_step(j, STEP_MOVE);
        st->seq = moved[i]->seq;
        st->dest_queue_id = dlq->id;
        st->visible_ms = now;
        st->dlq_source = lb_strdup(src);
    }
    for (size_t i = 0; i < n; i++) {
        sqs_step_t *st = sqs_mjob_step(j, STEP_RECEIVE);
        st->seq = out[i]->seq;
        st->visible_ms = out[i]->visible_ms;
        st->count = out[i]->receive_count;
        st->token = out[i]->token;
        st->now_ms = now;
    }
    q->received_total += n;
    lb_call_defer(c->call, sqs_mjob_txn, receive_finish, j, sqs_mjob_free);
    return 0;
}

/* ---- DeleteMessage, ChangeMessageVisibility ---- */

static void plain_finish(lb_call_t *call, int rc)
{
    sqs_mjob_t *j = call->arg;
    if (rc) {
        sqs_fail(call, j->base.proto, SQS_E_INTERNAL,
                 "The request could not be stored durably. Retry later.");
        return;
    }
    lb_queue_t *q = lb_queues_find_id(j->base.sqs->qs, j->queue_id);
    if (q) lb_queues_notify(j->base.sqs->qs, q);
    sqs_answer(call, j->base.proto, j->base.op, j->res ? lb_json_doc_root(j->res) : NULL);
}

/* One delete (vt < 0) or visibility change of a receipt handle: the step into j, or the error. */
static int one_change(sqs_ctx_t *c, lb_queue_t *q, const char *handle, long long vt, sqs_mjob_t *j,
                      sqs_err_t *e, char *msg, size_t msglen)
{
    int64_t qid, seq;
    uint64_t token;
    if (!handle || !*handle) {
        *e = SQS_E_MISSING_PARAM;
        snprintf(msg, msglen, "The request must contain the parameter ReceiptHandle.");
        return -1;
    }
    if (receipt_parse(handle, &qid, &seq, &token) || qid != q->id) {
        *e = SQS_E_RECEIPT_INVALID;
        snprintf(msg, msglen, "The input receipt handle \"%.300s\" is not a valid receipt handle.",
                 handle);
        return -1;
    }
    int64_t now = c->call->now_ms;
    lb_queue_advance(q, now);
    lb_qmsg_t *m = lb_queue_msg_find(q, seq);
    int inflight = m && !m->ready && m->receive_count > 0;
    if (vt < 0) {
        if (!m) return 0; /* deleted already: SQS answers success */
        if (q->conf.fifo && (m->token != token || !inflight)) {
            *e = SQS_E_INVALID_PARAM;
            snprintf(msg, msglen,
                     "Value %.300s for parameter ReceiptHandle is invalid. Reason: The receipt "
                     "handle has expired.",
                     handle);
            return -1;
        }
        lb_queue_msg_remove(q, m);
        q->deleted_total++;
        sqs_mjob_step(j, STEP_DELETE)->seq = seq;
        return 0;
    }
    if (!inflight || (q->conf.fifo && m->token != token)) {
        *e = SQS_E_INVALID_PARAM;
        snprintf(msg, msglen,
                 "Value %.300s for parameter ReceiptHandle is invalid. Reason: Message does not "
                 "exist or is not available for visibility timeout change.",
                 handle);
        return -1;
    }
    int64_t visible = now + vt * 1000;
    lb_queue_msg_set_visible(q, m, visible, now);
    sqs_step_t *st = sqs_mjob_step(j, STEP_VISIBILITY);
    st->seq = seq;
    st->visible_ms = visible;
    return 0;
}

static int vt_param(sqs_ctx_t *c, const lb_json_t *o, long long *vt, sqs_err_t *e, char *msg,
                    size_t msglen)
{
    int has = sqs_int(o, "VisibilityTimeout", vt);
    if (has <= 0 || *vt < 0 || *vt > LB_SQS_MAX_VISIBILITY_S) {
        const lb_json_t *n = lb_json_get(o, "VisibilityTimeout");
        *e = has == 0 ? SQS_E_MISSING_PARAM : SQS_E_INVALID_PARAM;
        if (has == 0)
            snprintf(msg, msglen, "The request must contain the parameter VisibilityTimeout.");
        else
            snprintf(msg, msglen,
                     "Value %s for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 "
                     "and <= 43200, if provided.",
                     n && n->str ? n->str : "");
        (void)c;
        return -1;
    }
    return 0;
}

static int change(sqs_ctx_t *c, int visibility)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    long long vt = -1;
    sqs_err_t e;
    char msg[600];
    if (visibility && vt_param(c, c->req, &vt, &e, msg, sizeof msg)) {
        sqs_fail(c->call, c->rq->proto, e, "%s", msg);
        return 0;
    }
    sqs_mjob_t *j = sqs_mjob_new(c->sqs, c->rq->proto, c->op, q->id);
    if (one_change(c, q, sqs_str(c, "ReceiptHandle"), vt, j, &e, msg, sizeof msg)) {
        sqs_mjob_free(j);
        sqs_fail(c->call, c->rq->proto, e, "%s", msg);
        return 0;
    }
    if (j->n == 0) { /* deleted already: nothing to store */
        sqs_mjob_free(j);
        sqs_answer(c->call, c->rq->proto, c->op, NULL);
        return 0;
    }
    lb_call_defer(c->call, sqs_mjob_txn, plain_finish, j, sqs_mjob_free);
    return 0;
}

static int change_batch(sqs_ctx_t *c, int visibility)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    const lb_json_t *entries = lb_json_get(c->req, "Entries");
    if (sqs_check_entries(c, entries,
                          visibility ? "ChangeMessageVisibilityBatch" : "DeleteMessageBatch"))
        return 0;
    sqs_mjob_t *j = sqs_mjob_new(c->sqs, c->rq->proto, c->op, q->id);
    j->res = lb_json_doc_new();
    lb_json_doc_t *d = j->res;
    lb_json_t *r = lb_json_new(d, LB_JSON_OBJECT);
    lb_json_doc_set_root(d, r);
    lb_json_t *ok = lb_json_new(d, LB_JSON_ARRAY), *failed = lb_json_new(d, LB_JSON_ARRAY);
    lb_json_each(a, entries)
    {
        const char *id = lb_json_get_str(a, "Id");
        long long vt = -1;
        sqs_err_t e;
        char msg[600];
        if ((visibility && vt_param(c, a, &vt, &e, msg, sizeof msg)) ||
            one_change(c, q, lb_json_get_str(a, "ReceiptHandle"), vt, j, &e, msg, sizeof msg)) {
            sqs_batch_failed(d, failed, id, e, msg);
        } else {
            lb_json_t *s = lb_json_add(d, ok, NULL, lb_json_new(d, LB_JSON_OBJECT));
            lb_json_add_str(d, s, "Id", id);
        }
    }
    if (ok->n_children || c->rq->proto == LB_SQS_JSON) lb_json_add(d, r, "Successful", ok);
    if (failed->n_children || c->rq->proto == LB_SQS_JSON) lb_json_add(d, r, "Failed", failed);
    lb_call_defer(c->call, sqs_mjob_txn, plain_finish, j, sqs_mjob_free);
    return 0;
}

int sqs_op_delete_message(sqs_ctx_t *c)
{
    return change(c, 0);
}

int sqs_op_delete_message_batch(sqs_ctx_t *c)
{
    return change_batch(c, 0);
}

int sqs_op_change_visibility(sqs_ctx_t *c)
{
    return change(c, 1);
}

int sqs_op_change_visibility_batch(sqs_ctx_t *c)
{
    return change_batch(c, 1);
}

/* ---- retention ---- */

void *lb_sqs_expire(lb_sqs_t *sqs, int64_t now_ms, size_t max)
{
    sqs_mjob_t *j = NULL;
    size_t left = max;
    for (size_t i = 0; i < lb_queues_count(sqs->qs) && left; i++) {
        lb_queue_t *q = lb_queues_at(sqs->qs, i);
        lb_qmsg_t *v[64];
        size_t n = lb_queue_expired(q, now_ms, v, left < 64 ? left : 64);
        for (size_t k = 0; k < n; k++) {
            if (!j) j = sqs_mjob_new(sqs, LB_SQS_JSON, "Retention", 0);
            sqs_mjob_step(j, STEP_DELETE)->seq = v[k]->seq;
            lb_queue_msg_remove(q, v[k]);
        }
        left -= n;
    }
    return j;
}

int lb_sqs_expire_txn(lb_store_t *store, void *job)
{
    return sqs_mjob_txn(store, job);
}

void lb_sqs_expire_free(void *job)
{
    sqs_mjob_free(job);
}

/* SendMessage and SendMessageBatch, and sends from inside the daemon (EventBridge targets and
 * dead-letter queues): validation in SQS's words, the MD5s, FIFO deduplication, then the message
 * in memory at once and its row through the writer before the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_sigv4.h"
#include "lb_sqs_job.h"
#include "lb_util.h"

/* One message to send, as parsed from a request or built by the daemon. */
typedef struct {
    const char *body;
    size_t body_len;
    lb_sqs_attr_t *attrs; /* values decoded (Binary) */
    size_t n_attrs;
    char *attrs_json; /* the attributes as received (Binary base64), for the row */
    const char *group, *dedup, *trace;
    long long delay_s; /* -1: the queue's */
    char **decoded;    /* decoded Binary values to free */
} msg_in_t;

static void msg_in_clear(msg_in_t *m)
{
    for (size_t i = 0; i < m->n_attrs; i++)
        free(m->decoded[i]);
    free(m->decoded);
    free(m->attrs);
    free(m->attrs_json);
    memset(m, 0, sizeof *m);
}

/* Characters SQS accepts in a body: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
 * #x10000 to #x10FFFF (the text is valid UTF-8 already). */
static int body_chars_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 && p[i] != 9 && p[i] != 10 && p[i] != 13) return 0;
        /* U+FFFE and U+FFFF: EF BF BE / EF BF BF */
        if (p[i] == 0xEF && i + 2 < len && p[i + 1] == 0xBF &&
            (p[i + 2] == 0xBE || p[i + 2] == 0xBF))
            return 0;
    }
    return 1;
}

static int id_chars_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e) return 0;
    return 1;
}

/* MessageAttributes of a request into m. 0, or -1 with the error in *e and msg. */
static int parse_attrs(const lb_json_t *map, msg_in_t *m, sqs_err_t *e, char *msg, size_t msglen)
{
    if (!map || map->type != LB_JSON_OBJECT || !map->n_children) return 0;
    if (map->n_children > 10) {
        *e = SQS_E_INVALID_PARAM;
        snprintf(msg, msglen,
                 "Number of message attributes [%zu] exceeds the allowed maximum [10].",
                 map->n_children);
        return -1;
    }
    m->attrs = lb_xcalloc(map->n_children, sizeof *m->attrs);
    m->decoded = lb_xcalloc(map->n_children, sizeof *m->decoded);
    lb_json_doc_t *d = lb_json_doc_new();
    lb_json_t *out = lb_json_new(d, LB_JSON_OBJECT);
    int rc = 0;
    lb_json_each(a, map)
    {
        const char *type = lb_json_get_str(a, "DataType");
        const lb_json_t *sv = lb_json_get(a, "StringValue"), *bv = lb_json_get(a, "BinaryValue");
        *e = SQS_E_INVALID_PARAM;
        if (!type || !*type) {
            snprintf(msg, msglen,
                     "The message attribute '%s' must contain non-empty message attribute type.",
                     a->key);
            rc = -1;
            break;
        }
        int binary = strncmp(type, "Binary", 6) == 0;
        const char *base = binary                            ? "Binary"
                           : strncmp(type, "Number", 6) == 0 ? "Number"
                                                             : "String";
        if (strncmp(type, base, 6) != 0 || (type[6] && type[6] != '.')) {
            snprintf(msg, msglen,
                     "The type of message (user) attribute '%s' is invalid. You must use only the "
                     "following supported type prefixes: Binary, Number, String.",
                     a->key);
            rc = -1;
            break;
        }
        const lb_json_t *v = binary ? bv : sv;
        if (!v || v->type != LB_JSON_STRING || !v->len) {
            snprintf(msg, msglen,
                     "Message (user) attribute '%s' must contain a non-empty value of type '%s'.",
                     a->key, base);
            rc = -1;
            break;
        }
        lb_sqs_attr_t *x = &m->attrs[m->n_attrs];
        x->name = a->key;
        x->data_type = type;
        x->binary = binary;
        if (binary) {
            size_t n;
            if (lb_base64_decode(v->str, v->len, &m->decoded[m->n_attrs], &n)) {
                snprintf(msg, msglen, "Message (user) attribute '%s' has an invalid BinaryValue.",
                         a->key);
                rc = -1;
                break;
            }
            x->value = m->decoded[m->n_attrs];
            x->value_len = n;
        } else {
            x->value = v->str;
            x->value_len = v->len;
        }
        m->n_attrs++;
        lb_json_t *o = lb_json_new(d, LB_JSON_OBJECT);
        lb_json_add_str(d, o, "DataType", type);
        lb_json_add(d, o, binary ? "BinaryValue" : "StringValue",
                    lb_json_new_string(d, v->str, v->len));
        lb_json_remove(out, a->key);
        lb_json_add(d, out, a->key, o);
    }
    if (rc == 0) m->attrs_json = lb_json_print(out, NULL);
    lb_json_doc_free(&d);
    return rc;
}

/* Checks one message for q; 0, or -1 with the error. */
static int check_msg(const lb_queue_t *q, const msg_in_t *m, int batch, sqs_err_t *e, char *msg,
                     size_t msglen)
{
    *e = SQS_E_INVALID_PARAM;
    size_t size = m->body_len;
    for (size_t i = 0; i < m->n_attrs; i++)
        size += strlen(m->attrs[i].name) + strlen(m->attrs[i].data_type) + m->attrs[i].value_len;
    if ((long long)size > q->conf.max_size) {
        snprintf(msg, msglen,
                 "One or more parameters are invalid. Reason: Message must be shorter than %lld "
                 "bytes.",
                 (long long)q->conf.max_size);
        return -1;
    }
    if (!body_chars_ok(m->body, m->body_len)) {
        *e = SQS_E_INVALID_CONTENTS;
        snprintf(msg, msglen,
                 "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
                 "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF");
        return -1;
    }
    if (m->delay_s >= 0 && q->conf.fifo) {
        snprintf(msg, msglen,
                 "Value %lld for parameter DelaySeconds is invalid. Reason: The request include "
                 "parameter that is not valid for this queue type.",
                 m->delay_s);
        return -1;
    }
    if (m->delay_s > 900) {
        snprintf(msg, msglen,
                 "Value %lld for parameter DelaySeconds is invalid. Reason: DelaySeconds must be "
                 ">= 0 and <= 900.",
                 m->delay_s);
        return -1;
    }
    if (m->group && !id_chars_ok(m->group)) {
        snprintf(msg, msglen,
                 "Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can "
                 "only include alphanumeric and punctuation characters. 1 to 128 in length.",
                 m->group);
        return -1;
    }
    if (m->dedup && !id_chars_ok(m->dedup)) {
        snprintf(msg, msglen,
                 "Value %s for parameter MessageDeduplicationId is invalid. Reason: "
                 "MessageDeduplicationId can only include alphanumeric and punctuation "
                 "characters. 1 to 128 in length.",
                 m->dedup);
        return -1;
    }
    if (q->conf.fifo && !m->group) {
        *e = batch ? SQS_E_INVALID_PARAM : SQS_E_MISSING_PARAM;
        snprintf(msg, msglen, "The request must contain the parameter MessageGroupId.");
        return -1;
    }
    if (q->conf.fifo && !m->dedup && !q->conf.content_dedup) {
        snprintf(msg, msglen,
                 "The queue should either have ContentBasedDeduplication enabled or "
                 "MessageDeduplicationId provided explicitly");
        return -1;
    }
    return 0;
}

/* Accepts a checked message: adds a step to j (or finds it a duplicate) and fills the answer's
 * members into r (when r is not NULL). */
static void accept_msg(lb_sqs_t *sqs, lb_queue_t *q, const msg_in_t *m, int64_t now, sqs_mjob_t *j,
                       lb_json_doc_t *d, lb_json_t *r)
{
    char md5_body[33], md5_attrs[33] = "", id[37], seqtext[24];
    lb_sqs_md5_hex(m->body, m->body_len, md5_body);
    if (m->n_attrs) lb_sqs_md5_attrs(m->attrs, m->n_attrs, md5_attrs);
    char key[400] = "", dd[65];
    const char *dedup = m->dedup;
    if (q->conf.fifo) {
        if (!dedup) {
            lb_sigv4_sha256_hex(m->body, m->body_len, dd);
            dedup = dd;
        }
        snprintf(key, sizeof key, "%s%s%s", q->conf.dedup_per_group ? m->group : "",
                 q->conf.dedup_per_group ? "\n" : "", dedup);
    }
    const char *dup_id = NULL;
    int64_t seq = 0;
    if (q->conf.fifo && lb_queue_dedup_find(q, key, now, &dup_id, &seq)) {
        snprintf(id, sizeof id, "%s", dup_id);
    } else {
        if (lb_uuid_v4(id)) snprintf(id, sizeof id, "00000000-0000-4000-8000-000000000000");
        seq = lb_queues_next_seq(sqs->qs);
        int64_t delay = m->delay_s >= 0 ? m->delay_s : q->conf.delay_s;
        int64_t visible = now + delay * 1000;
        sqs_step_t *st = sqs_mjob_step(j, STEP_INSERT);
        lb_qmsg_record_t *rec = &st->rec;
        rec->seq = seq;
        rec->queue_id = q->id;
        rec->message_id = lb_strdup(id);
        rec->body = lb_xmalloc(m->body_len + 1);
        memcpy(rec->body, m->body, m->body_len);
        rec->body[m->body_len] = '\0';
        rec->body_len = m->body_len;
        rec->attrs_json = m->attrs_json ? lb_strdup(m->attrs_json) : NULL;
        rec->md5_body = lb_strdup(md5_body);
        rec->md5_attrs = m->n_attrs ? lb_strdup(md5_attrs) : NULL;
        rec->trace = m->trace ? lb_strdup(m->trace) : NULL;
        rec->group = m->group ? lb_strdup(m->group) : NULL;
        rec->dedup = q->conf.fifo ? lb_strdup(dedup) : NULL;
        rec->sent_ms = now;
        rec->visible_ms = visible;
        if (q->conf.fifo) {
            st->dedup_key = lb_strdup(key);
            st->dedup_expires_ms = now + LB_SQS_DEDUP_WINDOW_MS;
            lb_queue_dedup_add(q, key, id, seq, st->dedup_expires_ms);
        }
        lb_queue_msg_add(q, seq, q->conf.fifo ? m->group : NULL, now, visible, 0, 0, now);
        q->sent_total++;
    }
    if (!r) return;
    lb_json_add_str(d, r, "MD5OfMessageBody", md5_body);
    if (m->n_attrs) lb_json_add_str(d, r, "MD5OfMessageAttributes", md5_attrs);
    lb_json_add_str(d, r, "MessageId", id);
    if (q->conf.fifo) {
        snprintf(seqtext, sizeof seqtext, "%020lld", (long long)seq);
        lb_json_add_str(d, r, "SequenceNumber", seqtext);
    }
}

/* A request's (or a batch entry's) message members into m. */
static int parse_msg(const lb_json_t *o, msg_in_t *m, sqs_err_t *e, char *msg, size_t msglen)
{
    memset(m, 0, sizeof *m);
    const lb_json_t *b = lb_json_get(o, "MessageBody");
    if (!b || b->type != LB_JSON_STRING || !b->len) {
        *e = SQS_E_MISSING_PARAM;
        snprintf(msg, msglen, "The request must contain the parameter MessageBody.");
        return -1;
    }
    m->body = b->str;
    m->body_len = b->len;
    m->delay_s = -1;
    long long v;
    int has = sqs_int(o, "DelaySeconds", &v);
    if (has < 0 || (has && v < 0)) {
        *e = SQS_E_INVALID_PARAM;
        const lb_json_t *d = lb_json_get(o, "DelaySeconds");
        snprintf(msg, msglen,
                 "Value %s for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= "
                 "0 and <= 900.",
                 d && d->str ? d->str : "");
        return -1;
    }
    if (has) m->delay_s = v;
    m->group = lb_json_get_str(o, "MessageGroupId");
    m->dedup = lb_json_get_str(o, "MessageDeduplicationId");
    const lb_json_t *sys = lb_json_get(o, "MessageSystemAttributes");
    const lb_json_t *tr = lb_json_get(sys, "AWSTraceHeader");
    if (tr) m->trace = lb_json_get_str(tr, "StringValue");
    return parse_attrs(lb_json_get(o, "MessageAttributes"), m, e, msg, msglen);
}

static void send_finish(lb_call_t *call, int rc)
{
    sqs_mjob_t *j = call->arg;
    if (rc) {
        sqs_mjob_undo(j);
        sqs_fail(call, j->base.proto, SQS_E_INTERNAL,
                 "The request could not be stored durably; nothing was accepted. Retry later.");
        return;
    }
    lb_queue_t *q = lb_queues_find_id(j->base.sqs->qs, j->queue_id);
    if (q) lb_queues_notify(j->base.sqs->qs, q);
    sqs_answer(call, j->base.proto, j->base.op, lb_json_doc_root(j->res));
}

int sqs_op_send_message(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    msg_in_t m;
    sqs_err_t e;
    char msg[512];
    if (parse_msg(c->req, &m, &e, msg, sizeof msg) || check_msg(q, &m, 0, &e, msg, sizeof msg)) {
        msg_in_clear(&m);
        sqs_fail(c->call, c->rq->proto, e, "%s", msg);
        return 0;
    }
    sqs_mjob_t *j = sqs_mjob_new(c->sqs, c->rq->proto, c->op, q->id);
    j->res = lb_json_doc_new();
    lb_json_t *r = lb_json_new(j->res, LB_JSON_OBJECT);
    lb_json_doc_set_root(j->res, r);
    accept_msg(c->sqs, q, &m, c->call->now_ms, j, j->res, r);
    msg_in_clear(&m);
    lb_call_defer(c->call, sqs_mjob_txn, send_finish, j, sqs_mjob_free);
    return 0;
}

/* Entries of a batch request: the checks every batch operation shares. 0, or -1 answered. */
int sqs_check_entries(sqs_ctx_t *c, const lb_json_t *entries, const char *what)
{
    size_t n = entries && entries->type == LB_JSON_ARRAY ? entries->n_children : 0;
    if (!n) {
        sqs_fail(c->call, c->rq->proto, SQS_E_EMPTY_BATCH,
                 "There should be at least one %sRequestEntry in the request.", what);
        return -1;
    }
    if (n > 10) {
        sqs_fail(c->call, c->rq->proto, SQS_E_TOO_MANY_ENTRIES,
                 "Maximum number of entries per request are 10. You have sent %zu.", n);
        return -1;
    }
    lb_json_each(a, entries)
    {
        const char *id = lb_json_get_str(a, "Id");
        size_t len = id ? strlen(id) : 0;
        int ok = len >= 1 && len <= 80;
        for (size_t i = 0; ok && i < len; i++)
            ok = (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
                 (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_';
        if (!ok) {
            sqs_fail(c->call, c->rq->proto, SQS_E_INVALID_BATCH_ID,
                     "A batch entry id can only contain alphanumeric characters, hyphens and "
                     "underscores. It can be at most 80 letters long.");
            return -1;
        }
        for (const lb_json_t *b = a->next; b; b = b->next) {
            const char *id2 = lb_json_get_str(b, "Id");
            if (id2 && strcmp(id, id2) == 0) {
                sqs_fail(c->call, c->rq->proto, SQS_E_IDS_NOT_DISTINCT, "Id %s repeated.", id);
                return -1;
            }
        }
    }
    return 0;
}

void sqs_batch_failed(lb_json_doc_t *d, lb_json_t *failed, const char *id, sqs_err_t e,
                      const char *msg)
{
    int sender;
    const char *code = sqs_err_code(e, &sender);
    lb_json_t *f = lb_json_add(d, failed, NULL, lb_json_new(d, LB_JSON_OBJECT));
    lb_json_add_str(d, f, "Id", id);
    lb_json_add(d, f, "SenderFault", lb_json_new_bool(d, sender));
    lb_json_add_str(d, f, "Code", code);
    lb_json_add_str(d, f, "Message", msg);
}

int sqs_op_send_message_batch(sqs_ctx_t *c)
{
    lb_queue_t *q = sqs_queue(c);
    if (!q) return 0;
    const lb_json_t *entries = lb_json_get(c->req, "Entries");
    if (sqs_check_entries(c, entries, "SendMessageBatch")) return 0;
    size_t total = 0;
    lb_json_each(a, entries)
    {
        const lb_json_t *b = lb_json_get(a, "MessageBody");
        if (b && b->type == LB_JSON_STRING) total += b->len;
        lb_json_each(at, lb_json_get(a, "MessageAttributes"))
        {
            total += strlen(at->key);
            lb_json_each(f, at) if (f->type == LB_JSON_STRING) total += f->len;
        }
    }
    if (total > LB_SQS_MAX_MESSAGE_SIZE) {
        sqs_fail(c->call, c->rq->proto, SQS_E_BATCH_TOO_LONG,
                 "Batch requests cannot be longer than %d bytes. You have sent %zu bytes.",
                 LB_SQS_MAX_MESSAGE_SIZE, total);
        return 0;
    }
    sqs_mjob_t *j = sqs_mjob_new(c->sqs, c->rq->proto, c->op, q->id);
    j->res = lb_json_doc_new();
    lb_json_doc_t *d = j->res;
    lb_json_t *r = lb_json_new(d, LB_JSON_OBJECT);
    lb_json_doc_set_root(d, r);
    lb_json_t *ok = lb_json_new(d, LB_JSON_ARRAY), *failed = lb_json_new(d, LB_JSON_ARRAY);
    lb_json_each(a, entries)
    {
        const char *id = lb_json_get_str(a, "Id");
        msg_in_t m;
        sqs_err_t e;
        char msg[512];
        if (parse_msg(a, &m, &e, msg, sizeof msg) || check_msg(q, &m, 1, &e, msg, sizeof msg)) {
            sqs_batch_failed(d, failed, id, e, msg);
        } else {
            lb_json_t *s = lb_json_add(d, ok, NULL, lb_json_new(d, LB_JSON_OBJECT));
            lb_json_add_str(d, s, "Id", id);
            accept_msg(c->sqs, q, &m, c->call->now_ms, j, d, s);
        }
        msg_in_clear(&m);
    }
    if (ok->n_children || c->rq->proto == LB_SQS_JSON) lb_json_add(d, r, "Successful", ok);
    if (failed->n_children || c->rq->proto == LB_SQS_JSON) lb_json_add(d, r, "Failed", failed);
    lb_call_defer(c->call, sqs_mjob_txn, send_finish, j, sqs_mjob_free);
    return 0;
}

/* ---- from inside the daemon ---- */

int lb_sqs_send_prepare(lb_sqs_t *sqs, lb_queue_t *q, const char *body, size_t len,
                        const lb_sqs_attr_t *attrs, size_t n_attrs, const char *group,
                        const char *dedup, int64_t now_ms, lb_sqs_send_t **out)
{
    *out = NULL;
    msg_in_t m = {.body = body, .body_len = len, .delay_s = -1, .group = group, .dedup = dedup};
    lb_json_doc_t *d = NULL;
    if (n_attrs) {
        d = lb_json_doc_new();
        lb_json_t *map = lb_json_new(d, LB_JSON_OBJECT);
        for (size_t i = 0; i < n_attrs; i++) {
            lb_json_t *o = lb_json_add(d, map, attrs[i].name, lb_json_new(d, LB_JSON_OBJECT));
            lb_json_add_str(d, o, "DataType", attrs[i].data_type);
            lb_json_add(d, o, "StringValue",
                        lb_json_new_string(d, attrs[i].value, attrs[i].value_len));
        }
        sqs_err_t e;
        char msg[256];
        if (parse_attrs(map, &m, &e, msg, sizeof msg)) {
            msg_in_clear(&m);
            lb_json_doc_free(&d);
            return LB_EINVALID;
        }
    }
    sqs_err_t e;
    char msg[512];
    int rc = check_msg(q, &m, 1, &e, msg, sizeof msg);
    if (rc == 0) {
        sqs_mjob_t *j = sqs_mjob_new(sqs, LB_SQS_JSON, "SendMessage", q->id);
        accept_msg(sqs, q, &m, now_ms, j, NULL, NULL);
        *out = j;
    }
    msg_in_clear(&m);
    lb_json_doc_free(&d);
    return rc ? LB_EINVALID : 0;
}

int lb_sqs_send_txn(lb_store_t *store, void *job)
{
    return sqs_mjob_txn(store, job);
}

void lb_sqs_send_committed(lb_sqs_t *sqs, lb_sqs_send_t *job, int rc)
{
    if (rc) {
        sqs_mjob_undo(job);
    } else {
        lb_queue_t *q = lb_queues_find_id(sqs->qs, job->queue_id);
        if (q) lb_queues_notify(sqs->qs, q);
    }
    sqs_mjob_free(job);
}

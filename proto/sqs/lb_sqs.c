/* The SQS API's entry: both protocols into one request tree, the operation table, the one SQS
 * error table and answers in the request's protocol. See lb_sqs.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_sqs_internal.h"
#include "lb_util.h"

#define JSON_TYPE "application/x-amz-json-1.0"
#define XML_TYPE "text/xml"

static const struct {
    const char *type; /* JSON 1.0 __type, after "com.amazonaws.sqs#" */
    const char *code; /* query protocol */
    int status, sender;
} errors[] = {
    [SQS_E_NONEXISTENT_QUEUE] = {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
                                 400, 1},
    [SQS_E_QUEUE_EXISTS] = {"QueueNameExists", "QueueAlreadyExists", 400, 1},
    [SQS_E_INVALID_ATTR_NAME] = {"InvalidAttributeName", "InvalidAttributeName", 400, 1},
    [SQS_E_INVALID_ATTR_VALUE] = {"InvalidAttributeValue", "InvalidAttributeValue", 400, 1},
    [SQS_E_INVALID_PARAM] = {"InvalidParameterValueException", "InvalidParameterValue", 400, 1},
    [SQS_E_MISSING_PARAM] = {"MissingRequiredParameterException", "MissingParameter", 400, 1},
    [SQS_E_RECEIPT_INVALID] = {"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 400, 1},
    [SQS_E_NOT_INFLIGHT] = {"MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400,
                            1},
    [SQS_E_PURGE_IN_PROGRESS] = {"PurgeQueueInProgress",
                                 "AWS.SimpleQueueService.PurgeQueueInProgress", 403, 1},
    [SQS_E_TOO_MANY_ENTRIES] = {"TooManyEntriesInBatchRequest",
                                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, 1},
    [SQS_E_EMPTY_BATCH] = {"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400, 1},
    [SQS_E_IDS_NOT_DISTINCT] = {"BatchEntryIdsNotDistinct",
                                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400, 1},
    [SQS_E_INVALID_BATCH_ID] = {"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
                                400, 1},
    [SQS_E_BATCH_TOO_LONG] = {"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
                              400, 1},
    [SQS_E_INVALID_CONTENTS] = {"InvalidMessageContents", "InvalidMessageContents", 400, 1},
    [SQS_E_INVALID_ACTION] = {"InvalidAction", "InvalidAction", 400, 1},
    [SQS_E_MALFORMED] = {"MalformedQueryString", "MalformedQueryString", 400, 1},
    [SQS_E_INTERNAL] = {"InternalError", "InternalError", 500, 0},
};

const char *sqs_err_code(sqs_err_t e, int *sender)
{
    *sender = errors[e].sender;
    return errors[e].code;
}

void sqs_fail(lb_call_t *call, lb_sqs_proto_t proto, sqs_err_t e, const char *fmt, ...)
{
    lb_buf_t msg = {0};
    va_list ap;
    va_start(ap, fmt);
    lb_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    call->status = errors[e].status;
    call->body.len = 0;
    const char *fault = errors[e].sender ? "Sender" : "Receiver";
    if (proto == LB_SQS_JSON) {
        call->content_type = JSON_TYPE;
        lb_buf_puts(&call->body, "{\"__type\":\"com.amazonaws.sqs#");
        lb_buf_puts(&call->body, errors[e].type);
        lb_buf_puts(&call->body, "\",\"message\":");
        lb_buf_json_string(&call->body, msg.data ? msg.data : "", msg.len);
        lb_buf_puts(&call->body, "}");
        snprintf(call->extra_headers, sizeof call->extra_headers, "x-amzn-query-error: %s;%s\r\n",
                 errors[e].code, fault);
    } else {
        call->content_type = XML_TYPE;
        sqs_xml_error(&call->body, errors[e].code, errors[e].sender, msg.data ? msg.data : "",
                      call->request_id);
    }
    lb_buf_free(&msg);
}

void sqs_answer(lb_call_t *call, lb_sqs_proto_t proto, const char *op, const lb_json_t *res)
{
    call->status = 200;
    call->body.len = 0;
    if (proto == LB_SQS_JSON) {
        call->content_type = JSON_TYPE;
        if (res)
            lb_json_write(&call->body, res);
        else
            lb_buf_puts(&call->body, "{}");
    } else {
        call->content_type = XML_TYPE;
        sqs_xml_answer(&call->body, op, res, call->request_id);
    }
}

/* ---- request members ---- */

const char *sqs_str(const sqs_ctx_t *c, const char *name)
{
    const lb_json_t *v = lb_json_get(c->req, name);
    return v && v->type == LB_JSON_STRING ? v->str : NULL;
}

int sqs_int(const lb_json_t *obj, const char *name, long long *v)
{
    const lb_json_t *n = lb_json_get(obj, name);
    if (!n || n->type == LB_JSON_NULL) return 0;
    if (n->type == LB_JSON_NUMBER) {
        if (n->num != (double)(long long)n->num) return -1;
        *v = (long long)n->num;
        return 1;
    }
    if (n->type != LB_JSON_STRING || !n->len || n->len > 12) return -1;
    const char *p = n->str + (n->str[0] == '-');
    if (!*p) return -1;
    for (; *p; p++)
        if (*p < '0' || *p > '9') return -1;
    *v = atoll(n->str);
    return 1;
}

void sqs_queue_url_host(const char *host, const char *account, const lb_queue_t *q, char *out,
                        size_t outlen)
{
    snprintf(out, outlen, "http://%s/%s/%s", host && *host ? host : "localhost", account, q->name);
}

void sqs_queue_url(const sqs_ctx_t *c, const lb_queue_t *q, char *out, size_t outlen)
{
    sqs_queue_url_host(c->rq->host, c->call->account_id, q, out, outlen);
}

/* The queue of a URL: its last two path segments are ACCOUNT/NAME (any scheme and host: clients
 * reach the daemon by many names). A bare name is accepted too, as SQS does. */
lb_queue_t *sqs_queue(sqs_ctx_t *c)
{
    const char *url = sqs_str(c, "QueueUrl");
    if ((!url || !*url) && c->rq->proto == LB_SQS_QUERY && c->rq->path &&
        strcmp(c->rq->path, "/") != 0)
        url = c->rq->path;
    if (!url || !*url) {
        sqs_fail(c->call, c->rq->proto, SQS_E_MISSING_PARAM,
                 "The request must contain the parameter QueueUrl.");
        return NULL;
    }
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    char account[64] = "", name[128] = "";
    if (p) {
        while (*p == '/')
            p++;
        const char *slash = strchr(p, '/');
        if (slash && (size_t)(slash - p) < sizeof account) {
            memcpy(account, p, (size_t)(slash - p));
            account[slash - p] = '\0';
            snprintf(name, sizeof name, "%s", slash + 1);
        } else if (!slash) {
            snprintf(account, sizeof account, "%s", c->call->account_id);
            snprintf(name, sizeof name, "%s", p);
        }
        size_t n = strlen(name);
        if (n && name[n - 1] == '/') name[n - 1] = '\0';
    }
    lb_queue_t *q = NULL;
    if (strcmp(account, c->call->account_id) == 0)
        q = lb_queues_find(c->sqs->qs, c->call->region, name);
    if (!q)
        sqs_fail(c->call, c->rq->proto, SQS_E_NONEXISTENT_QUEUE,
                 "The specified queue does not exist.");
    return q;
}

/* ---- the table ---- */

static const struct {
    const char *name;
    int (*fn)(sqs_ctx_t *c);
} ops[] = {
    {"ChangeMessageVisibility", sqs_op_change_visibility},
    {"ChangeMessageVisibilityBatch", sqs_op_change_visibility_batch},
    {"CreateQueue", sqs_op_create_queue},
    {"DeleteMessage", sqs_op_delete_message},
    {"DeleteMessageBatch", sqs_op_delete_message_batch},
    {"DeleteQueue", sqs_op_delete_queue},
    {"GetQueueAttributes", sqs_op_get_queue_attributes},
    {"GetQueueUrl", sqs_op_get_queue_url},
    {"ListQueueTags", sqs_op_list_queue_tags},
    {"ListQueues", sqs_op_list_queues},
    {"PurgeQueue", sqs_op_purge_queue},
    {"ReceiveMessage", sqs_op_receive_message},
    {"SendMessage", sqs_op_send_message},
    {"SendMessageBatch", sqs_op_send_message_batch},
    {"SetQueueAttributes", sqs_op_set_queue_attributes},
    {"TagQueue", sqs_op_tag_queue},
    {"UntagQueue", sqs_op_untag_queue},
};

int lb_sqs_new(lb_sqs_t **out)
{
    lb_sqs_t *s = lb_xcalloc(1, sizeof *s);
    lb_queues_new(&s->qs);
    *out = s;
    return 0;
}

void lb_sqs_free(lb_sqs_t **sp)
{
    lb_sqs_t *s = *sp;
    if (!s) return;
    lb_queues_free(&s->qs);
    free(s);
    *sp = NULL;
}

lb_queues_t *lb_sqs_queues(lb_sqs_t *sqs)
{
    return sqs->qs;
}

int lb_sqs_handle(lb_sqs_t *sqs, lb_call_t *call, const lb_sqs_req_t *rq, lb_sqs_park_t *park)
{
    lb_json_doc_t *doc = NULL;
    char op[64] = "";
    if (rq->proto == LB_SQS_JSON) {
        const char *t = rq->target ? rq->target : "";
        if (strncmp(t, "AmazonSQS.", 10) == 0) snprintf(op, sizeof op, "%s", t + 10);
        if (lb_json_parse(rq->body, rq->len, LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL) ||
            lb_json_doc_root(doc)->type != LB_JSON_OBJECT) {
            lb_json_doc_free(&doc);
            sqs_fail(call, rq->proto, SQS_E_INVALID_PARAM,
                     "The request body is not a JSON object.");
            return 0;
        }
    } else {
        char action[64] = "";
        doc = sqs_form_parse(rq->body, rq->len, NULL);
        const char *a = lb_json_get_str(lb_json_doc_root(doc), "Action");
        if (a) snprintf(action, sizeof action, "%s", a);
        snprintf(op, sizeof op, "%s", action);
        lb_json_doc_free(&doc);
        doc = sqs_form_parse(rq->body, rq->len, op);
    }
    int found = -1;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (strcmp(ops[i].name, op) == 0) found = (int)i;
    if (found < 0) {
        lb_json_doc_free(&doc);
        sqs_fail(call, rq->proto, SQS_E_INVALID_ACTION,
                 "The action %s is not valid for this endpoint.", op);
        return 0;
    }
    sqs_ctx_t c = {.sqs = sqs,
                   .call = call,
                   .rq = rq,
                   .req = lb_json_doc_root(doc),
                   .op = ops[found].name,
                   .park = park};
    int rc = ops[found].fn(&c);
    lb_json_doc_free(&doc);
    return rc;
}

void lb_sqs_answer_empty(lb_call_t *call, const lb_sqs_req_t *req)
{
    sqs_answer(call, req->proto, "ReceiveMessage", NULL);
}

/* ---- metrics ---- */

void lb_sqs_metrics(lb_sqs_t *sqs, lb_buf_t *out, const char *account, int64_t now_ms)
{
    static const char *const names[] = {"visible", "not_visible", "delayed"};
    static const char *const help[] = {
        "ApproximateNumberOfMessagesVisible: messages a receive may take now",
        "ApproximateNumberOfMessagesNotVisible: messages received and not yet deleted",
        "ApproximateNumberOfMessagesDelayed: messages sent with a delay not yet over"};
    size_t n = lb_queues_count(sqs->qs);
    for (size_t i = 0; i < n; i++)
        lb_queue_advance(lb_queues_at(sqs->qs, i), now_ms);
    for (int k = 0; k < 3; k++) {
        lb_buf_printf(out,
                      "# HELP localbridge_sqs_messages_%s %s\n"
                      "# TYPE localbridge_sqs_messages_%s gauge\n",
                      names[k], help[k], names[k]);
        for (size_t i = 0; i < n; i++) {
            lb_queue_t *q = lb_queues_at(sqs->qs, i);
            size_t v = k == 0 ? q->n_visible : k == 1 ? q->n_inflight : q->n_delayed;
            lb_buf_printf(
                out,
                "localbridge_sqs_messages_%s{region=\"%s\",account=\"%s\",queue_name=\"%s\"} "
                "%zu\n",
                names[k], q->region, account, q->name, v);
        }
    }
    lb_buf_puts(out, "# HELP localbridge_sqs_messages_sent_total NumberOfMessagesSent since start\n"
                     "# TYPE localbridge_sqs_messages_sent_total counter\n");
    for (size_t i = 0; i < n; i++) {
        lb_queue_t *q = lb_queues_at(sqs->qs, i);
        lb_buf_printf(out,
                      "localbridge_sqs_messages_sent_total{region=\"%s\",account=\"%s\","
                      "queue_name=\"%s\"} %llu\n",
                      q->region, account, q->name, (unsigned long long)q->sent_total);
    }
}

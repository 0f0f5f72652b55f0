/* Shared by the files of proto/sqs: the request context, the error table, answer shaping. */
#ifndef LB_FOLDER_SQS
#error "lb_sqs_internal.h is private to proto/sqs"
#endif
#ifndef LB_SQS_INTERNAL_H
#define LB_SQS_INTERNAL_H

#include "lb_json.h"
#include "lb_sqs.h"

struct lb_sqs {
    lb_queues_t *qs;
};

/* SQS's errors: the JSON 1.0 type, the query protocol's code (also sent to JSON clients in the
 * x-amzn-query-error header, which SDKs report as the error code), status and fault. */
typedef enum {
    SQS_E_NONEXISTENT_QUEUE,
    SQS_E_QUEUE_EXISTS,
    SQS_E_INVALID_ATTR_NAME,
    SQS_E_INVALID_ATTR_VALUE,
    SQS_E_INVALID_PARAM,
    SQS_E_MISSING_PARAM,
    SQS_E_RECEIPT_INVALID,
    SQS_E_NOT_INFLIGHT,
    SQS_E_PURGE_IN_PROGRESS,
    SQS_E_TOO_MANY_ENTRIES,
    SQS_E_EMPTY_BATCH,
    SQS_E_IDS_NOT_DISTINCT,
    SQS_E_INVALID_BATCH_ID,
    SQS_E_BATCH_TOO_LONG,
    SQS_E_INVALID_CONTENTS,
    SQS_E_INVALID_ACTION,
    SQS_E_MALFORMED,
    SQS_E_INTERNAL,
} sqs_err_t;

/* One request being handled. */
typedef struct {
    lb_sqs_t *sqs;
    lb_call_t *call;
    const lb_sqs_req_t *rq;
    const lb_json_t *req; /* the request tree (JSON 1.0 shape) */
    const char *op;
    lb_sqs_park_t *park;
} sqs_ctx_t;

/* What every deferred job starts with, so its finish can answer in the right protocol. */
typedef struct {
    lb_sqs_t *sqs;
    lb_sqs_proto_t proto;
    const char *op;
    char url_host[256];
} sqs_job_t;

void sqs_fail(lb_call_t *call, lb_sqs_proto_t proto, sqs_err_t e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The code an entry of a batch's Failed list carries, and whether the sender is at fault. */
const char *sqs_err_code(sqs_err_t e, int *sender);
/* A 200 with res (a JSON object in the JSON 1.0 shape; NULL for an empty answer). */
void sqs_answer(lb_call_t *call, lb_sqs_proto_t proto, const char *op, const lb_json_t *res);
/* Query protocol: the form as a request tree; XML of an answer. */
lb_json_doc_t *sqs_form_parse(const char *form, size_t len, const char *op);
void sqs_xml_answer(lb_buf_t *out, const char *op, const lb_json_t *res, const char *request_id);
void sqs_xml_error(lb_buf_t *out, const char *code, int sender, const char *msg,
                   const char *request_id);

/* Request members: strings, and integers given as numbers (JSON) or digits (query). */
const char *sqs_str(const sqs_ctx_t *c, const char *name);
/* 0 absent, 1 present and *v set, -1 present but not an integer. */
int sqs_int(const lb_json_t *obj, const char *name, long long *v);
/* The queue the request names (QueueUrl, or the path for the query protocol); NULL after
 * answering with QueueDoesNotExist or MissingParameter. */
lb_queue_t *sqs_queue(sqs_ctx_t *c);
void sqs_queue_url(const sqs_ctx_t *c, const lb_queue_t *q, char *out, size_t outlen);
void sqs_queue_url_host(const char *host, const char *account, const lb_queue_t *q, char *out,
                        size_t outlen);

/* Batch requests: the checks every batch shares (0, or -1 answered), and a Failed entry. */
int sqs_check_entries(sqs_ctx_t *c, const lb_json_t *entries, const char *what);
void sqs_batch_failed(lb_json_doc_t *d, lb_json_t *failed, const char *id, sqs_err_t e,
                      const char *msg);

/* The operations. */
int sqs_op_create_queue(sqs_ctx_t *c);
int sqs_op_get_queue_url(sqs_ctx_t *c);
int sqs_op_list_queues(sqs_ctx_t *c);
int sqs_op_delete_queue(sqs_ctx_t *c);
int sqs_op_get_queue_attributes(sqs_ctx_t *c);
int sqs_op_set_queue_attributes(sqs_ctx_t *c);
int sqs_op_purge_queue(sqs_ctx_t *c);
int sqs_op_tag_queue(sqs_ctx_t *c);
int sqs_op_untag_queue(sqs_ctx_t *c);
int sqs_op_list_queue_tags(sqs_ctx_t *c);
int sqs_op_send_message(sqs_ctx_t *c);
int sqs_op_send_message_batch(sqs_ctx_t *c);
int sqs_op_receive_message(sqs_ctx_t *c);
int sqs_op_delete_message(sqs_ctx_t *c);
int sqs_op_delete_message_batch(sqs_ctx_t *c);
int sqs_op_change_visibility(sqs_ctx_t *c);
int sqs_op_change_visibility_batch(sqs_ctx_t *c);

#endif

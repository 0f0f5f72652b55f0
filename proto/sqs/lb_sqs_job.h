/* Message store work of proto/sqs: one writer job holds the steps of one request (or of one
 * daemon-side send), run in order in one transaction. */
#ifndef LB_SQS_JOB_H
#define LB_SQS_JOB_H

#include "lb_queue_store.h"
#include "lb_sqs_internal.h"

enum { STEP_INSERT, STEP_RECEIVE, STEP_DELETE, STEP_VISIBILITY, STEP_MOVE };

typedef struct {
    int kind;
    int64_t seq, visible_ms;
    lb_qmsg_record_t rec; /* INSERT: the row (strings owned); RECEIVE: read back */
    char *dedup_key;      /* INSERT: a FIFO deduplication id to keep */
    int64_t dedup_expires_ms;
    int count;             /* RECEIVE */
    int64_t now_ms;        /* RECEIVE: the first receive's time, if this is it */
    uint64_t token;        /* RECEIVE */
    int64_t dest_queue_id; /* MOVE */
    char *dlq_source;      /* MOVE */
    int found;             /* RECEIVE: the row was there */
} sqs_step_t;

struct lb_sqs_send {
    sqs_job_t base;
    int64_t queue_id;
    sqs_step_t *steps;
    size_t n, cap;
    lb_json_doc_t *res;  /* the answer, when it does not depend on the store */
    lb_json_doc_t *opts; /* ReceiveMessage: a copy of the request */
};
typedef struct lb_sqs_send sqs_mjob_t;

sqs_mjob_t *sqs_mjob_new(lb_sqs_t *sqs, lb_sqs_proto_t proto, const char *op, int64_t queue_id);
sqs_step_t *sqs_mjob_step(sqs_mjob_t *j, int kind);
void sqs_mjob_free(void *arg);
int sqs_mjob_txn(lb_store_t *s, void *arg);
/* A refused commit: messages it inserted leave memory again. */
void sqs_mjob_undo(sqs_mjob_t *j);

#endif

/* Message store work: see lb_sqs_job.h. */
#include "lb_sqs_job.h"

#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

sqs_mjob_t *sqs_mjob_new(lb_sqs_t *sqs, lb_sqs_proto_t proto, const char *op, int64_t queue_id)
{
    sqs_mjob_t *j = lb_xcalloc(1, sizeof *j);
    j->base = (sqs_job_t){.sqs = sqs, .proto = proto, .op = op};
    j->queue_id = queue_id;
    return j;
}

sqs_step_t *sqs_mjob_step(sqs_mjob_t *j, int kind)
{
    if (j->n == j->cap) {
        j->cap = j->cap ? 2 * j->cap : 4;
        j->steps = lb_xrealloc(j->steps, j->cap * sizeof *j->steps);
    }
    sqs_step_t *s = &j->steps[j->n++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

void sqs_mjob_free(void *arg)
{
    sqs_mjob_t *j = arg;
    if (!j) return;
    for (size_t i = 0; i < j->n; i++) {
        lb_qmsg_record_clear(&j->steps[i].rec);
        free(j->steps[i].dedup_key);
        free(j->steps[i].dlq_source);
    }
    free(j->steps);
    lb_json_doc_free(&j->res);
    lb_json_doc_free(&j->opts);
    free(j);
}

int sqs_mjob_txn(lb_store_t *s, void *arg)
{
    sqs_mjob_t *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        sqs_step_t *st = &j->steps[i];
        int rc = 0;
        switch (st->kind) {
        case STEP_INSERT:
            rc = lb_store_qmsg_insert(s, &st->rec);
            if (!rc && st->dedup_key)
                rc = lb_store_qdedup_put(s, st->rec.queue_id, st->dedup_key, st->rec.message_id,
                                         st->rec.seq, st->dedup_expires_ms);
            break;
        case STEP_RECEIVE:
            rc = lb_store_qmsg_receive(s, st->seq, st->visible_ms, st->count, st->token, st->now_ms,
                                       &st->rec);
            st->found = rc == 0;
            if (rc == LB_ENOTFOUND) rc = 0; /* deleted meanwhile: not returned */
            break;
        case STEP_DELETE:
            rc = lb_store_qmsg_delete(s, st->seq);
            break;
        case STEP_VISIBILITY:
            rc = lb_store_qmsg_visibility(s, st->seq, st->visible_ms);
            break;
        case STEP_MOVE:
            rc = lb_store_qmsg_move(s, st->seq, st->dest_queue_id, st->visible_ms, st->dlq_source);
            break;
        }
        if (rc) return rc;
    }
    return 0;
}

void sqs_mjob_undo(sqs_mjob_t *j)
{
    for (size_t i = 0; i < j->n; i++) {
        if (j->steps[i].kind != STEP_INSERT) continue;
        lb_queue_t *q = lb_queues_find_id(j->base.sqs->qs, j->steps[i].rec.queue_id);
        lb_qmsg_t *m = q ? lb_queue_msg_find(q, j->steps[i].rec.seq) : NULL;
        if (m) lb_queue_msg_remove(q, m);
    }
}

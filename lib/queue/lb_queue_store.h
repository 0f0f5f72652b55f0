/* Queues and their messages in the store: one row per queue (its attributes and tags as JSON),
 * one per message (body, attributes and the state that must survive a crash: visibility
 * deadline, receive count, latest receipt token), one per FIFO deduplication id still in its
 * window. Writer-thread functions take the read-write store; lb_queues_load runs at start-up. */
#ifndef LB_QUEUE_STORE_H
#define LB_QUEUE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lb_queue.h"
#include "lb_store.h"

/* A message row. For inserts the strings are the caller's; lb_store_qmsg_receive fills one with
 * malloc'd strings (free with lb_qmsg_record_clear). */
typedef struct {
    int64_t seq, queue_id;
    char *message_id;
    char *body;
    size_t body_len;
    char
        *attrs_json; /* the message attributes, [{"Name","DataType","StringValue"|"BinaryValue"}] */
    char *md5_body, *md5_attrs;
    char *trace; /* the AWSTraceHeader system attribute */
    char *group, *dedup;
    int64_t sent_ms, visible_ms, first_receive_ms;
    int receive_count;
    uint64_t token;
    char *dlq_source; /* DeadLetterQueueSourceArn, once redriven */
} lb_qmsg_record_t;

void lb_qmsg_record_clear(lb_qmsg_record_t *r);

int lb_store_queue_insert(lb_store_t *s, const lb_queue_t *q);
/* Attributes, tags and modification time. */
int lb_store_queue_update(lb_store_t *s, const lb_queue_t *q);
/* The queue, its messages and its deduplication ids. */
int lb_store_queue_delete(lb_store_t *s, int64_t id);

int lb_store_qmsg_insert(lb_store_t *s, const lb_qmsg_record_t *r);
/* A receive: the row's visibility, count and token set (first receive time kept once set), and the
 * message read back into out. LB_ENOTFOUND if the row is gone. */
int lb_store_qmsg_receive(lb_store_t *s, int64_t seq, int64_t visible_ms, int receive_count,
                          uint64_t token, int64_t now_ms, lb_qmsg_record_t *out);
int lb_store_qmsg_delete(lb_store_t *s, int64_t seq);
int lb_store_qmsg_visibility(lb_store_t *s, int64_t seq, int64_t visible_ms);
/* Redrive: the message now belongs to queue_id, visible at visible_ms, with its source's ARN. */
int lb_store_qmsg_move(lb_store_t *s, int64_t seq, int64_t queue_id, int64_t visible_ms,
                       const char *dlq_source);
/* PurgeQueue: every message of the queue up to max_seq. */
int lb_store_qmsgs_purge(lb_store_t *s, int64_t queue_id, int64_t max_seq);
int lb_store_qdedup_put(lb_store_t *s, int64_t queue_id, const char *key, const char *message_id,
                        int64_t seq, int64_t expires_ms);
/* Removes at most limit deduplication ids expired by now; their count in *removed. */
int lb_store_qdedup_sweep(lb_store_t *s, int64_t now_ms, int limit, size_t *removed);

/* Loads every queue, the index of every message (visible, delayed or in flight as of now) and the
 * deduplication ids still in their window. */
int lb_queues_load(lb_queues_t *qs, lb_store_t *s, int64_t now_ms);
/* Reloads one queue's index from the store (after a job of it was refused): writer thread, into
 * rows the caller then hands to the loop thread. */
typedef struct {
    int64_t seq, sent_ms, visible_ms;
    int receive_count;
    uint64_t token;
    char *group;
} lb_qmsg_meta_t;
int lb_store_qmsgs_meta(lb_store_t *s, int64_t queue_id, lb_qmsg_meta_t **out, size_t *n);
void lb_qmsg_meta_free(lb_qmsg_meta_t *v, size_t n);

#endif

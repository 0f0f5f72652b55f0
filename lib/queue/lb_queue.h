/* Built-in SQS-compatible queues: the in-memory model the loop thread answers from. A queue has
 * its settings (the attributes as set, parsed into lb_queue_conf_t) and an index of its messages:
 * which are visible, which are delayed or in flight and until when, FIFO message groups with
 * their in-flight locks, deduplication ids in their 5-minute window, and every message's age for
 * retention. Message bodies are not here: they live in the store (lb_queue_store.h), and the index
 * holds only what choosing a message needs. No I/O, no clock: "now" is a parameter.
 *
 * Memory runs ahead of the store only by the writer jobs in flight: an operation changes the index
 * when it is accepted and hands the same change to the writer, whose jobs run in the order they
 * were submitted, so the store has caught up before the answer goes out (a receive returns only
 * the messages whose rows its own job updated). A job the store refuses makes the daemon reload
 * that queue's index from the store (lb_queue_reset_index, then lb_queue_msg_add per row).
 *
 * Ownership: the registry owns its queues, a queue its index and messages. Pointers to messages
 * stay valid until the message is removed; pointers to queues until the queue is removed. */
#ifndef LB_QUEUE_H
#define LB_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/* SQS's limits and defaults. */
#define LB_SQS_DEDUP_WINDOW_MS (5 * 60 * 1000)
#define LB_SQS_MAX_MESSAGE_SIZE 1048576
#define LB_SQS_MAX_VISIBILITY_S 43200

typedef struct lb_queue lb_queue_t;
typedef struct lb_qgroup lb_qgroup_t;
typedef struct lb_qindex lb_qindex_t;

/* A message as the index knows it. */
typedef struct lb_qmsg {
    int64_t seq; /* store key, increasing in send order; FIFO order within a group */
    int64_t sent_ms;
    int64_t visible_ms; /* visible from then on */
    int receive_count;
    uint64_t token; /* the latest receipt's token (0: never received) */
    int ready;      /* visible now (the last lb_queue_advance said so) */
    lb_queue_t *queue;
    lb_qgroup_t *group;            /* FIFO queues */
    struct lb_qmsg *gprev, *gnext; /* the group's messages, in seq order */
    struct lb_qmsg *hnext;         /* hash chain */
    size_t ready_pos, wait_pos, age_pos;
} lb_qmsg_t;

/* A queue's settings, parsed from its attributes (defaults where not set). */
typedef struct {
    int fifo, content_dedup;
    int dedup_per_group; /* DeduplicationScope messageGroup */
    int64_t delay_s, max_size, retention_s, wait_s, visibility_s;
    int max_receive_count; /* RedrivePolicy's maxReceiveCount, 0 without one */
    char dlq_arn[256];     /* RedrivePolicy's deadLetterTargetArn */
} lb_queue_conf_t;

struct lb_queue {
    int64_t id; /* store key, never reused */
    char *region, *name;
    char *attrs_json; /* the attributes set: a JSON object of strings, keys sorted */
    char *tags_json;  /* a JSON object of strings, or NULL */
    int64_t created_ms, modified_ms;
    int64_t purged_ms; /* the last PurgeQueue (one per 60 s) */
    lb_queue_conf_t conf;
    /* ApproximateNumberOfMessages, ...NotVisible, ...Delayed: kept as messages change state. */
    size_t n_visible, n_inflight, n_delayed;
    /* Since start: NumberOfMessagesSent, ...Received, ...Deleted. */
    uint64_t sent_total, received_total, deleted_total;
    int resyncing; /* the index is being reloaded from the store: operations wait */
    lb_qindex_t *ix;
};

/* ---- attributes ---- */

typedef enum {
    LB_QATTR_OK,
    LB_QATTR_INVALID_NAME,  /* InvalidAttributeName */
    LB_QATTR_INVALID_VALUE, /* InvalidAttributeValue */
    LB_QATTR_INVALID_PARAM, /* InvalidParameterValue */
} lb_qattr_err_t;

/* Validates attributes (a JSON object of name -> string value, as CreateQueue or
 * SetQueueAttributes received them) for a queue named name (creating: current NULL) or for queue
 * current. On success *merged is the malloc'd canonical JSON of the attributes the queue will
 * have. Otherwise the error kind and AWS's message in msg. */
struct lb_json;
lb_qattr_err_t lb_queue_attrs_check(const struct lb_json *attrs, const char *name,
                                    const lb_queue_t *current, char **merged, char *msg,
                                    size_t msglen);
/* Parses canonical attributes into conf (defaults where absent). */
void lb_queue_conf_parse(const char *attrs_json, lb_queue_conf_t *conf);
/* The value CreateQueue compares against (the default when not set), into out. */
void lb_queue_attr_effective(const char *attrs_json, const char *name, char *out, size_t outlen);
/* 1 if name is a valid queue name (FIFO names end in ".fifo"). */
int lb_queue_name_valid(const char *name, int fifo);

/* ---- queues ---- */

lb_queue_t *lb_queue_new(int64_t id, const char *region, const char *name, const char *attrs_json,
                         const char *tags_json, int64_t created_ms, int64_t modified_ms);
void lb_queue_free(lb_queue_t **q);
/* New attributes or tags (copied); conf follows. */
void lb_queue_set_attrs(lb_queue_t *q, const char *attrs_json, int64_t modified_ms);
void lb_queue_set_tags(lb_queue_t *q, const char *tags_json);
/* arn:aws:sqs:REGION:ACCOUNT:NAME */
void lb_queue_arn(const lb_queue_t *q, const char *account, char *out, size_t outlen);

/* ---- the message index ---- */

/* Makes visible what became visible by now (delays and visibility timeouts that ended). */
void lb_queue_advance(lb_queue_t *q, int64_t now);
/* Adds a message (sending, redriving or loading). group: FIFO message group (NULL otherwise). */
lb_qmsg_t *lb_queue_msg_add(lb_queue_t *q, int64_t seq, const char *group, int64_t sent_ms,
                            int64_t visible_ms, int receive_count, uint64_t token, int64_t now);
lb_qmsg_t *lb_queue_msg_find(const lb_queue_t *q, int64_t seq);
/* Removes and frees m. */
void lb_queue_msg_remove(lb_queue_t *q, lb_qmsg_t *m);
/* Invisible until visible_ms (a receive, ChangeMessageVisibility), or visible now if that is not
 * after now. */
void lb_queue_msg_set_visible(lb_queue_t *q, lb_qmsg_t *m, int64_t visible_ms, int64_t now);
size_t lb_queue_msg_count(const lb_queue_t *q);
/* 1 if a receive now would find a message (FIFO: a visible message in an unlocked group). */
int lb_queue_receivable(lb_queue_t *q, int64_t now);
/* The earliest time a waiting message becomes visible, or -1. */
int64_t lb_queue_next_change(const lb_queue_t *q);

/* Chooses up to max messages for a receive, in order (FIFO: whole runs of a group, oldest group
 * first; a group with a message in flight is locked). Each chosen message is in flight until
 * now + vt_ms, its receive count one more, its token new. A message already received
 * maxReceiveCount times goes to dlq (when not NULL) instead, with its count, age and id, visible
 * there at once: those are listed in moved (room for max). Returns the number chosen. */
size_t lb_queue_receive(lb_queue_t *q, lb_queue_t *dlq, int64_t now, size_t max, int64_t vt_ms,
                        uint64_t (*next_token)(void *ctx), void *ctx, lb_qmsg_t **out,
                        lb_qmsg_t **moved, size_t *n_moved);
/* Up to max messages past the retention period, oldest first (still in the index: remove them
 * with lb_queue_msg_remove). */
size_t lb_queue_expired(lb_queue_t *q, int64_t now, lb_qmsg_t **out, size_t max);
/* Removes every message; returns the highest seq removed (0 if none). */
int64_t lb_queue_purge(lb_queue_t *q);
/* Drops every message of the index (before a reload from the store). */
void lb_queue_reset_index(lb_queue_t *q);

/* FIFO deduplication: 1 if key (a deduplication id, scoped by the caller) was seen within the
 * window ending at now, with the first message's id and seq. */
int lb_queue_dedup_find(lb_queue_t *q, const char *key, int64_t now, const char **message_id,
                        int64_t *seq);
void lb_queue_dedup_add(lb_queue_t *q, const char *key, const char *message_id, int64_t seq,
                        int64_t expires_ms);

/* ---- the registry ---- */

typedef struct lb_queues lb_queues_t;

int lb_queues_new(lb_queues_t **out);
void lb_queues_free(lb_queues_t **qs);
lb_queue_t *lb_queues_find(const lb_queues_t *qs, const char *region, const char *name);
/* The queue an ARN of this account names, or NULL. */
lb_queue_t *lb_queues_find_arn(const lb_queues_t *qs, const char *account, const char *arn);
lb_queue_t *lb_queues_find_id(const lb_queues_t *qs, int64_t id);
/* Takes ownership. */
void lb_queues_add(lb_queues_t *qs, lb_queue_t *q);
/* Removes and frees q. */
void lb_queues_remove(lb_queues_t *qs, lb_queue_t *q);
/* Sorted by (region, name): the index of the first queue >= (region, name), and access. */
size_t lb_queues_lower_bound(const lb_queues_t *qs, const char *region, const char *name);
size_t lb_queues_count(const lb_queues_t *qs);
lb_queue_t *lb_queues_at(const lb_queues_t *qs, size_t i);
/* Identities handed out in memory, ahead of the store: queue ids, message seqs, receipt tokens.
 * lb_queues_seen raises the counters above what the store holds (at load). */
int64_t lb_queues_next_id(lb_queues_t *qs);
int64_t lb_queues_next_seq(lb_queues_t *qs);
uint64_t lb_queues_next_token(void *qs);
void lb_queues_seen(lb_queues_t *qs, int64_t id, int64_t seq, uint64_t token);

/* Told when messages of q may have become receivable (a send, a redrive, a visibility change):
 * how the daemon wakes long polls. */
typedef void (*lb_queues_hook_fn)(void *ctx, lb_queue_t *q);
void lb_queues_set_hook(lb_queues_t *qs, lb_queues_hook_fn fn, void *ctx);
void lb_queues_notify(lb_queues_t *qs, lb_queue_t *q);

#endif

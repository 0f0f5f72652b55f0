/* The message index of one queue (see lb_queue.h): a hash of messages by seq, a heap of visible
 * messages (standard queues, by seq), a heap of waiting ones (by the time they become visible), a
 * heap of all by age (retention), FIFO groups (their messages in seq order, their in-flight count,
 * and a heap of the groups a receive may take from, by their oldest message) and the
 * deduplication ids of the last five minutes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_qheap.h"
#include "lb_queue_internal.h"
#include "lb_util.h"

struct lb_qgroup {
    char *name;
    lb_qmsg_t *head, *tail;
    int inflight; /* messages of the group in flight: the group is locked while > 0 */
    size_t heap_pos;
    lb_qgroup_t *hnext;
};

typedef struct dedup {
    char *key;
    char message_id[40];
    int64_t seq, expires_ms;
    struct dedup *hnext, *next; /* hash chain; the list in expiry order */
} dedup_t;

struct lb_qindex {
    lb_qmsg_t **buckets;
    size_t n_buckets, count;
    lb_qheap_t ready, wait, age, groups;
    lb_qgroup_t **gbuckets;
    size_t n_gbuckets, n_groups;
    dedup_t **dbuckets;
    size_t n_dbuckets, n_dedup;
    dedup_t *dhead, *dtail;
};

/* ---- heap keys ---- */

static int ready_less(const void *a, const void *b)
{
    return ((const lb_qmsg_t *)a)->seq < ((const lb_qmsg_t *)b)->seq;
}

static int wait_less(const void *a, const void *b)
{
    const lb_qmsg_t *x = a, *y = b;
    return x->visible_ms != y->visible_ms ? x->visible_ms < y->visible_ms : x->seq < y->seq;
}

static int age_less(const void *a, const void *b)
{
    const lb_qmsg_t *x = a, *y = b;
    return x->sent_ms != y->sent_ms ? x->sent_ms < y->sent_ms : x->seq < y->seq;
}

static int group_less(const void *a, const void *b)
{
    return ((const lb_qgroup_t *)a)->head->seq < ((const lb_qgroup_t *)b)->head->seq;
}

static size_t *ready_pos(void *m)
{
    return &((lb_qmsg_t *)m)->ready_pos;
}

static size_t *wait_pos(void *m)
{
    return &((lb_qmsg_t *)m)->wait_pos;
}

static size_t *age_pos(void *m)
{
    return &((lb_qmsg_t *)m)->age_pos;
}

static size_t *group_pos(void *g)
{
    return &((lb_qgroup_t *)g)->heap_pos;
}

static lb_qindex_t *ix_of(lb_queue_t *q)
{
    if (!q->ix) {
        lb_qindex_t *ix = lb_xcalloc(1, sizeof *ix);
        lb_qheap_init(&ix->ready, ready_less, ready_pos);
        lb_qheap_init(&ix->wait, wait_less, wait_pos);
        lb_qheap_init(&ix->age, age_less, age_pos);
        lb_qheap_init(&ix->groups, group_less, group_pos);
        q->ix = ix;
    }
    return q->ix;
}

/* ---- hashes ---- */

static size_t hash_seq(int64_t seq, size_t n)
{
    return (size_t)(((uint64_t)seq * 0x9E3779B97F4A7C15ull) >> 32) & (n - 1);
}

static size_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32)) & (n - 1);
}

static void msg_hash_grow(lb_qindex_t *ix)
{
    size_t n = ix->n_buckets ? ix->n_buckets * 2 : 64;
    lb_qmsg_t **b = lb_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < ix->n_buckets; i++)
        for (lb_qmsg_t *m = ix->buckets[i], *next; m; m = next) {
            next = m->hnext;
            size_t k = hash_seq(m->seq, n);
            m->hnext = b[k];
            b[k] = m;
        }
    free(ix->buckets);
    ix->buckets = b;
    ix->n_buckets = n;
}

lb_qmsg_t *lb_queue_msg_find(const lb_queue_t *q, int64_t seq)
{
    const lb_qindex_t *ix = q->ix;
    if (!ix || !ix->n_buckets) return NULL;
    for (lb_qmsg_t *m = ix->buckets[hash_seq(seq, ix->n_buckets)]; m; m = m->hnext)
        if (m->seq == seq) return m;
    return NULL;
}

static lb_qgroup_t *group_get(lb_qindex_t *ix, const char *name)
{
    if (ix->n_gbuckets) {
        for (lb_qgroup_t *g = ix->gbuckets[hash_str(name, ix->n_gbuckets)]; g; g = g->hnext)
            if (strcmp(g->name, name) == 0) return g;
    }
    if (ix->n_groups >= ix->n_gbuckets) {
        size_t n = ix->n_gbuckets ? ix->n_gbuckets * 2 : 16;
        lb_qgroup_t **b = lb_xcalloc(n, sizeof *b);
        for (size_t i = 0; i < ix->n_gbuckets; i++)
            for (lb_qgroup_t *g = ix->gbuckets[i], *next; g; g = next) {
                next = g->hnext;
                size_t k = hash_str(g->name, n);
                g->hnext = b[k];
                b[k] = g;
            }
        free(ix->gbuckets);
        ix->gbuckets = b;
        ix->n_gbuckets = n;
    }
    lb_qgroup_t *g = lb_xcalloc(1, sizeof *g);
    g->name = lb_strdup(name);
    g->heap_pos = LB_QHEAP_NONE;
    size_t k = hash_str(name, ix->n_gbuckets);
    g->hnext = ix->gbuckets[k];
    ix->gbuckets[k] = g;
    ix->n_groups++;
    return g;
}

static void group_free(lb_qindex_t *ix, lb_qgroup_t *g)
{
    lb_qheap_remove(&ix->groups, g);
    lb_qgroup_t **p = &ix->gbuckets[hash_str(g->name, ix->n_gbuckets)];
    while (*p && *p != g)
        p = &(*p)->hnext;
    if (*p) *p = g->hnext;
    ix->n_groups--;
    free(g->name);
    free(g);
}

/* A group is receivable when nothing of it is in flight and its oldest message is visible. */
static void group_refresh(lb_qindex_t *ix, lb_qgroup_t *g)
{
    lb_qheap_remove(&ix->groups, g);
    if (!g->head) {
        group_free(ix, g);
        return;
    }
    if (g->inflight == 0 && g->head->ready) lb_qheap_push(&ix->groups, g);
}

/* ---- message states ---- */

/* Takes m out of its state (visible, delayed or in flight), counters included. */
static void leave_state(lb_queue_t *q, lb_qmsg_t *m)
{
    lb_qindex_t *ix = q->ix;
    if (m->ready) {
        m->ready = 0;
        q->n_visible--;
        lb_qheap_remove(&ix->ready, m);
    } else if (lb_qheap_contains(&ix->wait, m)) {
        lb_qheap_remove(&ix->wait, m);
        if (m->receive_count > 0) {
            q->n_inflight--;
            if (m->group) m->group->inflight--;
        } else {
            q->n_delayed--;
        }
    }
}

static void enter_state(lb_queue_t *q, lb_qmsg_t *m, int64_t visible_ms, int64_t now)
{
    lb_qindex_t *ix = q->ix;
    m->visible_ms = visible_ms;
    if (visible_ms <= now) {
        m->ready = 1;
        q->n_visible++;
        if (!m->group) lb_qheap_push(&ix->ready, m);
    } else {
        m->ready = 0;
        lb_qheap_push(&ix->wait, m);
        if (m->receive_count > 0) {
            q->n_inflight++;
            if (m->group) m->group->inflight++;
        } else {
            q->n_delayed++;
        }
    }
}

void lb_queue_advance(lb_queue_t *q, int64_t now)
{
    lb_qindex_t *ix = ix_of(q);
    lb_qmsg_t *m;
    while ((m = lb_qheap_top(&ix->wait)) != NULL && m->visible_ms <= now) {
        leave_state(q, m);
        enter_state(q, m, m->visible_ms, now);
        if (m->group) group_refresh(ix, m->group);
    }
}

lb_qmsg_t *lb_queue_msg_add(lb_queue_t *q, int64_t seq, const char *group, int64_t sent_ms,
                            int64_t visible_ms, int receive_count, uint64_t token, int64_t now)
{
    lb_qindex_t *ix = ix_of(q);
    lb_qmsg_t *m = lb_xcalloc(1, sizeof *m);
    m->seq = seq;
    m->sent_ms = sent_ms;
    m->receive_count = receive_count;
    m->token = token;
    m->queue = q;
    m->ready_pos = m->wait_pos = m->age_pos = LB_QHEAP_NONE;
    if (ix->count >= ix->n_buckets) msg_hash_grow(ix);
    size_t k = hash_seq(seq, ix->n_buckets);
    m->hnext = ix->buckets[k];
    ix->buckets[k] = m;
    ix->count++;
    if (group && q->conf.fifo) {
        lb_qgroup_t *g = group_get(ix, group);
        m->group = g;
        /* Messages arrive in seq order, except those redriven or reloaded: keep the list sorted. */
        lb_qmsg_t *after = g->tail;
        while (after && after->seq > seq)
            after = after->gprev;
        m->gprev = after;
        m->gnext = after ? after->gnext : g->head;
        if (m->gnext)
            m->gnext->gprev = m;
        else
            g->tail = m;
        if (after)
            after->gnext = m;
        else
            g->head = m;
    }
    lb_qheap_push(&ix->age, m);
    enter_state(q, m, visible_ms, now);
    if (m->group) group_refresh(ix, m->group);
    return m;
}

void lb_queue_msg_remove(lb_queue_t *q, lb_qmsg_t *m)
{
    lb_qindex_t *ix = q->ix;
    leave_state(q, m);
    lb_qheap_remove(&ix->age, m);
    lb_qmsg_t **p = &ix->buckets[hash_seq(m->seq, ix->n_buckets)];
    while (*p && *p != m)
        p = &(*p)->hnext;
    if (*p) *p = m->hnext;
    ix->count--;
    lb_qgroup_t *g = m->group;
    if (g) {
        if (m->gprev)
            m->gprev->gnext = m->gnext;
        else
            g->head = m->gnext;
        if (m->gnext)
            m->gnext->gprev = m->gprev;
        else
            g->tail = m->gprev;
        group_refresh(ix, g);
    }
    free(m);
}

void lb_queue_msg_set_visible(lb_queue_t *q, lb_qmsg_t *m, int64_t visible_ms, int64_t now)
{
    leave_state(q, m);
    enter_state(q, m, visible_ms, now);
    if (m->group) group_refresh(q->ix, m->group);
}

size_t lb_queue_msg_count(const lb_queue_t *q)
{
    return q->ix ? q->ix->count : 0;
}

int lb_queue_receivable(lb_queue_t *q, int64_t now)
{
    lb_queue_advance(q, now);
    return q->conf.fifo ? q->ix->groups.n > 0 : q->ix->ready.n > 0;
}

int64_t lb_queue_next_change(const lb_queue_t *q)
{
    const lb_qmsg_t *m = q->ix ? lb_qheap_top(&q->ix->wait) : NULL;
    return m ? m->visible_ms : -1;
}

/* ---- receiving ---- */

/* Takes visible message m for a receive: in flight, or moved to dlq when it has been received
 * maxReceiveCount times already. Returns 1 if m was taken (out), 0 if it was moved. */
static int take(lb_queue_t *q, lb_queue_t *dlq, lb_qmsg_t *m, int64_t now, int64_t vt_ms,
                uint64_t (*next_token)(void *), void *ctx, lb_qmsg_t **moved, size_t *n_moved)
{
    if (dlq && dlq != q && q->conf.max_receive_count > 0 &&
        m->receive_count >= q->conf.max_receive_count) {
        lb_qmsg_t *copy = lb_queue_msg_add(dlq, m->seq, m->group ? m->group->name : NULL,
                                           m->sent_ms, now, m->receive_count, m->token, now);
        lb_queue_msg_remove(q, m);
        moved[(*n_moved)++] = copy;
        return 0;
    }
    leave_state(q, m);
    m->receive_count++;
    m->token = next_token(ctx);
    enter_state(q, m, now + (vt_ms > 0 ? vt_ms : 0), now);
    if (vt_ms <= 0) {
        /* Visibility timeout 0: visible again at once, yet this receive took it. */
    }
    return 1;
}

size_t lb_queue_receive(lb_queue_t *q, lb_queue_t *dlq, int64_t now, size_t max, int64_t vt_ms,
                        uint64_t (*next_token)(void *ctx), void *ctx, lb_qmsg_t **out,
                        lb_qmsg_t **moved, size_t *n_moved)
{
    lb_qindex_t *ix = ix_of(q);
    size_t n = 0;
    *n_moved = 0;
    lb_queue_advance(q, now);
    if (!q->conf.fifo) {
        lb_qmsg_t *m;
        /* Bounded: each message is taken or moved at most once per call. */
        while (n < max && *n_moved < max && (m = lb_qheap_top(&ix->ready)) != NULL) {
            if (take(q, dlq, m, now, vt_ms, next_token, ctx, moved, n_moved)) {
                out[n++] = m;
                if (vt_ms <= 0) lb_qheap_remove(&ix->ready, m); /* not twice in one receive */
            }
        }
        /* A visibility timeout of 0 leaves the taken messages visible: back in the heap. */
        if (vt_ms <= 0)
            for (size_t i = 0; i < n; i++)
                if (out[i]->ready) lb_qheap_push(&ix->ready, out[i]);
        return n;
    }
    lb_qgroup_t *g;
    lb_qgroup_t *taken_groups[16];
    size_t n_taken_groups = 0;
    while (n < max && *n_moved < max && (g = lb_qheap_pop(&ix->groups)) != NULL) {
        lb_qmsg_t *m = g->head, *next;
        int took = 0;
        for (; m && m->ready && n < max && *n_moved < max; m = next) {
            next = m->gnext;
            if (take(q, dlq, m, now, vt_ms, next_token, ctx, moved, n_moved)) {
                out[n++] = m;
                took = 1;
            }
        }
        /* g may be gone (every message of it moved); look it up again by a surviving message. */
        if (took) {
            lb_qgroup_t *still = out[n - 1]->group;
            if (vt_ms <= 0 && n_taken_groups < 16)
                taken_groups[n_taken_groups++] = still;
            else if (vt_ms > 0)
                group_refresh(ix, still);
        }
    }
    for (size_t i = 0; i < n_taken_groups; i++)
        group_refresh(ix, taken_groups[i]);
    return n;
}

size_t lb_queue_expired(lb_queue_t *q, int64_t now, lb_qmsg_t **out, size_t max)
{
    lb_qindex_t *ix = ix_of(q);
    int64_t cutoff = now - q->conf.retention_s * 1000;
    size_t n = 0;
    lb_qmsg_t *m;
    while (n < max && (m = lb_qheap_top(&ix->age)) != NULL && m->sent_ms <= cutoff) {
        lb_qheap_remove(&ix->age, m);
        out[n++] = m;
    }
    return n;
}

static void free_messages(lb_queue_t *q)
{
    lb_qindex_t *ix = q->ix;
    for (size_t i = 0; i < ix->n_buckets; i++)
        for (lb_qmsg_t *m = ix->buckets[i], *next; m; m = next) {
            next = m->hnext;
            free(m);
        }
    for (size_t i = 0; i < ix->n_gbuckets; i++)
        for (lb_qgroup_t *g = ix->gbuckets[i], *next; g; g = next) {
            next = g->hnext;
            free(g->name);
            free(g);
        }
    if (ix->buckets) memset(ix->buckets, 0, ix->n_buckets * sizeof *ix->buckets);
    if (ix->gbuckets) memset(ix->gbuckets, 0, ix->n_gbuckets * sizeof *ix->gbuckets);
    ix->count = ix->n_groups = 0;
    ix->ready.n = ix->wait.n = ix->age.n = ix->groups.n = 0;
    q->n_visible = q->n_inflight = q->n_delayed = 0;
}

int64_t lb_queue_purge(lb_queue_t *q)
{
    lb_qindex_t *ix = ix_of(q);
    int64_t max = 0;
    for (size_t i = 0; i < ix->n_buckets; i++)
        for (lb_qmsg_t *m = ix->buckets[i]; m; m = m->hnext)
            if (m->seq > max) max = m->seq;
    free_messages(q);
    return max;
}

void lb_queue_reset_index(lb_queue_t *q)
{
    ix_of(q);
    free_messages(q);
}

/* ---- deduplication ---- */

static void dedup_unlink(lb_qindex_t *ix, dedup_t *d)
{
    dedup_t **p = &ix->dbuckets[hash_str(d->key, ix->n_dbuckets)];
    while (*p && *p != d)
        p = &(*p)->hnext;
    if (*p) *p = d->hnext;
    ix->n_dedup--;
}

/* Entries expire in the order they were added (the window is the same for all). */
static void dedup_expire(lb_qindex_t *ix, int64_t now)
{
    while (ix->dhead && ix->dhead->expires_ms <= now) {
        dedup_t *d = ix->dhead;
        ix->dhead = d->next;
        if (!ix->dhead) ix->dtail = NULL;
        dedup_unlink(ix, d);
        free(d->key);
        free(d);
    }
}

int lb_queue_dedup_find(lb_queue_t *q, const char *key, int64_t now, const char **message_id,
                        int64_t *seq)
{
    lb_qindex_t *ix = ix_of(q);
    dedup_expire(ix, now);
    if (!ix->n_dbuckets) return 0;
    for (dedup_t *d = ix->dbuckets[hash_str(key, ix->n_dbuckets)]; d; d = d->hnext)
        if (strcmp(d->key, key) == 0 && d->expires_ms > now) {
            *message_id = d->message_id;
            *seq = d->seq;
            return 1;
        }
    return 0;
}

void lb_queue_dedup_add(lb_queue_t *q, const char *key, const char *message_id, int64_t seq,
                        int64_t expires_ms)
{
    lb_qindex_t *ix = ix_of(q);
    if (ix->n_dedup >= ix->n_dbuckets) {
        size_t n = ix->n_dbuckets ? ix->n_dbuckets * 2 : 64;
        dedup_t **b = lb_xcalloc(n, sizeof *b);
        for (size_t i = 0; i < ix->n_dbuckets; i++)
            for (dedup_t *d = ix->dbuckets[i], *next; d; d = next) {
                next = d->hnext;
                size_t k = hash_str(d->key, n);
                d->hnext = b[k];
                b[k] = d;
            }
        free(ix->dbuckets);
        ix->dbuckets = b;
        ix->n_dbuckets = n;
    }
    dedup_t *d = lb_xcalloc(1, sizeof *d);
    d->key = lb_strdup(key);
    snprintf(d->message_id, sizeof d->message_id, "%s", message_id);
    d->seq = seq;
    d->expires_ms = expires_ms;
    size_t k = hash_str(key, ix->n_dbuckets);
    d->hnext = ix->dbuckets[k];
    ix->dbuckets[k] = d;
    ix->n_dedup++;
    /* Loaded entries may come in any order: keep the list sorted by expiry. */
    if (!ix->dtail || ix->dtail->expires_ms <= expires_ms) {
        if (ix->dtail)
            ix->dtail->next = d;
        else
            ix->dhead = d;
        ix->dtail = d;
        return;
    }
    dedup_t **p = &ix->dhead;
    while (*p && (*p)->expires_ms <= expires_ms)
        p = &(*p)->next;
    d->next = *p;
    *p = d;
}

void lb_qindex_free(lb_queue_t *q)
{
    lb_qindex_t *ix = q->ix;
    if (!ix) return;
    free_messages(q);
    for (dedup_t *d = ix->dhead, *next; d; d = next) {
        next = d->next;
        free(d->key);
        free(d);
    }
    free(ix->buckets);
    free(ix->gbuckets);
    free(ix->dbuckets);
    lb_qheap_free(&ix->ready);
    lb_qheap_free(&ix->wait);
    lb_qheap_free(&ix->age);
    lb_qheap_free(&ix->groups);
    free(ix);
    q->ix = NULL;
}

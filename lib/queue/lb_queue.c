/* Queues and their registry. See lb_queue.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_arn.h"
#include "lb_queue_internal.h"
#include "lb_util.h"

struct lb_queues {
    lb_queue_t **v; /* sorted by (region, name) */
    size_t n, cap;
    int64_t next_id, next_seq;
    uint64_t next_token;
    lb_queues_hook_fn hook;
    void *hook_ctx;
};

lb_queue_t *lb_queue_new(int64_t id, const char *region, const char *name, const char *attrs_json,
                         const char *tags_json, int64_t created_ms, int64_t modified_ms)
{
    lb_queue_t *q = lb_xcalloc(1, sizeof *q);
    q->id = id;
    q->region = lb_strdup(region);
    q->name = lb_strdup(name);
    q->attrs_json = lb_strdup(attrs_json ? attrs_json : "{}");
    q->tags_json = lb_strdup(tags_json);
    q->created_ms = created_ms;
    q->modified_ms = modified_ms;
    lb_queue_conf_parse(q->attrs_json, &q->conf);
    return q;
}

void lb_queue_free(lb_queue_t **qp)
{
    lb_queue_t *q = *qp;
    if (!q) return;
    lb_qindex_free(q);
    free(q->region);
    free(q->name);
    free(q->attrs_json);
    free(q->tags_json);
    free(q);
    *qp = NULL;
}

void lb_queue_set_attrs(lb_queue_t *q, const char *attrs_json, int64_t modified_ms)
{
    char *copy = lb_strdup(attrs_json);
    free(q->attrs_json);
    q->attrs_json = copy;
    q->modified_ms = modified_ms;
    int was_fifo = q->conf.fifo;
    lb_queue_conf_parse(q->attrs_json, &q->conf);
    q->conf.fifo = was_fifo; /* a queue's type never changes */
}

void lb_queue_set_tags(lb_queue_t *q, const char *tags_json)
{
    char *copy = lb_strdup(tags_json);
    free(q->tags_json);
    q->tags_json = copy;
}

void lb_queue_arn(const lb_queue_t *q, const char *account, char *out, size_t outlen)
{
    snprintf(out, outlen, "arn:aws:sqs:%s:%s:%s", q->region, account, q->name);
}

/* ---- registry ---- */

int lb_queues_new(lb_queues_t **out)
{
    lb_queues_t *qs = lb_xcalloc(1, sizeof *qs);
    qs->next_id = qs->next_seq = 1;
    qs->next_token = 1;
    *out = qs;
    return 0;
}

void lb_queues_free(lb_queues_t **qsp)
{
    lb_queues_t *qs = *qsp;
    if (!qs) return;
    for (size_t i = 0; i < qs->n; i++)
        lb_queue_free(&qs->v[i]);
    free(qs->v);
    free(qs);
    *qsp = NULL;
}

static int cmp(const lb_queue_t *q, const char *region, const char *name)
{
    int c = strcmp(q->region, region);
    return c ? c : strcmp(q->name, name);
}

size_t lb_queues_lower_bound(const lb_queues_t *qs, const char *region, const char *name)
{
    size_t lo = 0, hi = qs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(qs->v[mid], region, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

lb_queue_t *lb_queues_find(const lb_queues_t *qs, const char *region, const char *name)
{
    size_t i = lb_queues_lower_bound(qs, region, name);
    return i < qs->n && cmp(qs->v[i], region, name) == 0 ? qs->v[i] : NULL;
}

lb_queue_t *lb_queues_find_arn(const lb_queues_t *qs, const char *account, const char *arn)
{
    lb_arn_t a;
    if (!arn || lb_arn_parse(arn, &a) || strcmp(a.service, "sqs") != 0 ||
        strcmp(a.account, account) != 0 || strchr(a.resource, ':') || strchr(a.resource, '/'))
        return NULL;
    return lb_queues_find(qs, a.region, a.resource);
}

lb_queue_t *lb_queues_find_id(const lb_queues_t *qs, int64_t id)
{
    for (size_t i = 0; i < qs->n; i++)
        if (qs->v[i]->id == id) return qs->v[i];
    return NULL;
}

void lb_queues_add(lb_queues_t *qs, lb_queue_t *q)
{
    size_t i = lb_queues_lower_bound(qs, q->region, q->name);
    if (qs->n == qs->cap) {
        qs->cap = qs->cap ? 2 * qs->cap : 16;
        qs->v = lb_xrealloc(qs->v, qs->cap * sizeof *qs->v);
    }
    memmove(&qs->v[i + 1], &qs->v[i], (qs->n - i) * sizeof *qs->v);
    qs->v[i] = q;
    qs->n++;
    lb_queues_seen(qs, q->id, 0, 0);
}

void lb_queues_remove(lb_queues_t *qs, lb_queue_t *q)
{
    for (size_t i = 0; i < qs->n; i++)
        if (qs->v[i] == q) {
            memmove(&qs->v[i], &qs->v[i + 1], (qs->n - i - 1) * sizeof *qs->v);
            qs->n--;
            lb_queue_free(&q);
            return;
        }
}

size_t lb_queues_count(const lb_queues_t *qs)
{
    return qs->n;
}

lb_queue_t *lb_queues_at(const lb_queues_t *qs, size_t i)
{
    return i < qs->n ? qs->v[i] : NULL;
}

int64_t lb_queues_next_id(lb_queues_t *qs)
{
    return qs->next_id++;
}

int64_t lb_queues_next_seq(lb_queues_t *qs)
{
    return qs->next_seq++;
}

uint64_t lb_queues_next_token(void *ctx)
{
    lb_queues_t *qs = ctx;
    return qs->next_token++;
}

void lb_queues_seen(lb_queues_t *qs, int64_t id, int64_t seq, uint64_t token)
{
    if (id >= qs->next_id) qs->next_id = id + 1;
    if (seq >= qs->next_seq) qs->next_seq = seq + 1;
    if (token >= qs->next_token) qs->next_token = token + 1;
}

void lb_queues_set_hook(lb_queues_t *qs, lb_queues_hook_fn fn, void *ctx)
{
    qs->hook = fn;
    qs->hook_ctx = ctx;
}

void lb_queues_notify(lb_queues_t *qs, lb_queue_t *q)
{
    if (qs->hook) qs->hook(qs->hook_ctx, q);
}

#include "lb_queue_store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

void lb_qmsg_record_clear(lb_qmsg_record_t *r)
{
    free(r->message_id);
    free(r->body);
    free(r->attrs_json);
    free(r->md5_body);
    free(r->md5_attrs);
    free(r->trace);
    free(r->group);
    free(r->dedup);
    free(r->dlq_source);
    memset(r, 0, sizeof *r);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? lb_strdup((const char *)t) : NULL;
}

/* Runs a prepared statement to completion; finalizes it unless it is a cached one. */
static int step_done(sqlite3_stmt *st, int cached)
{
    int rc = sqlite3_step(st);
    if (!cached) sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

static sqlite3_stmt *prepare(lb_store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(lb_store_db(s), sql, -1, &st, NULL) != SQLITE_OK) return NULL;
    return st;
}

int lb_store_queue_insert(lb_store_t *s, const lb_queue_t *q)
{
    sqlite3_stmt *st = prepare(s, "INSERT INTO sqs_queues (id, region, name, attrs, tags, "
                                  "created_ms, modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, q->id);
    bind_text(st, 2, q->region);
    bind_text(st, 3, q->name);
    bind_text(st, 4, q->attrs_json);
    bind_text(st, 5, q->tags_json);
    sqlite3_bind_int64(st, 6, q->created_ms);
    sqlite3_bind_int64(st, 7, q->modified_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) return LB_EEXISTS;
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_store_queue_update(lb_store_t *s, const lb_queue_t *q)
{
    sqlite3_stmt *st =
        prepare(s, "UPDATE sqs_queues SET attrs = ?, tags = ?, modified_ms = ? WHERE id = ?");
    if (!st) return LB_ESTORE;
    bind_text(st, 1, q->attrs_json);
    bind_text(st, 2, q->tags_json);
    sqlite3_bind_int64(st, 3, q->modified_ms);
    sqlite3_bind_int64(st, 4, q->id);
    return step_done(st, 0);
}

int lb_store_queue_delete(lb_store_t *s, int64_t id)
{
    static const char *const sql[] = {"DELETE FROM sqs_messages WHERE queue_id = ?",
                                      "DELETE FROM sqs_dedup WHERE queue_id = ?",
                                      "DELETE FROM sqs_queues WHERE id = ?"};
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *st = prepare(s, sql[i]);
        if (!st) return LB_ESTORE;
        sqlite3_bind_int64(st, 1, id);
        if (step_done(st, 0)) return LB_ESTORE;
    }
    return 0;
}

int lb_store_qmsg_insert(lb_store_t *s, const lb_qmsg_record_t *r)
{
    sqlite3_stmt *st = lb_store_stmt(
        s, LB_STMT_SQS_INSERT,
        "INSERT INTO sqs_messages (seq, queue_id, message_id, body, attrs, md5_body, md5_attrs, "
        "trace, group_id, dedup_id, sent_ms, visible_ms, receive_count, token, dlq_source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, r->seq);
    sqlite3_bind_int64(st, 2, r->queue_id);
    bind_text(st, 3, r->message_id);
    sqlite3_bind_text(st, 4, r->body ? r->body : "", (int)r->body_len, SQLITE_STATIC);
    bind_text(st, 5, r->attrs_json);
    bind_text(st, 6, r->md5_body);
    bind_text(st, 7, r->md5_attrs);
    bind_text(st, 8, r->trace);
    bind_text(st, 9, r->group);
    bind_text(st, 10, r->dedup);
    sqlite3_bind_int64(st, 11, r->sent_ms);
    sqlite3_bind_int64(st, 12, r->visible_ms);
    sqlite3_bind_int(st, 13, r->receive_count);
    sqlite3_bind_int64(st, 14, (int64_t)r->token);
    bind_text(st, 15, r->dlq_source);
    return step_done(st, 1);
}

int lb_store_qmsg_receive(lb_store_t *s, int64_t seq, int64_t visible_ms, int receive_count,
                          uint64_t token, int64_t now_ms, lb_qmsg_record_t *out)
{
    sqlite3_stmt *st = lb_store_stmt(
        s, LB_STMT_SQS_RECEIVE,
        "UPDATE sqs_messages SET visible_ms = ?2, receive_count = ?3, token = ?4, "
        "first_receive_ms = coalesce(first_receive_ms, ?5) WHERE seq = ?1 RETURNING message_id, "
        "body, attrs, md5_body, md5_attrs, trace, group_id, dedup_id, sent_ms, first_receive_ms, "
        "dlq_source, queue_id");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, visible_ms);
    sqlite3_bind_int(st, 3, receive_count);
    sqlite3_bind_int64(st, 4, (int64_t)token);
    sqlite3_bind_int64(st, 5, now_ms);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? LB_ENOTFOUND : LB_ESTORE;
    memset(out, 0, sizeof *out);
    out->seq = seq;
    out->message_id = col_dup(st, 0);
    out->body_len = (size_t)sqlite3_column_bytes(st, 1);
    out->body = lb_xmalloc(out->body_len + 1);
    memcpy(out->body, sqlite3_column_text(st, 1), out->body_len);
    out->body[out->body_len] = '\0';
    out->attrs_json = col_dup(st, 2);
    out->md5_body = col_dup(st, 3);
    out->md5_attrs = col_dup(st, 4);
    out->trace = col_dup(st, 5);
    out->group = col_dup(st, 6);
    out->dedup = col_dup(st, 7);
    out->sent_ms = sqlite3_column_int64(st, 8);
    out->first_receive_ms = sqlite3_column_int64(st, 9);
    out->dlq_source = col_dup(st, 10);
    out->queue_id = sqlite3_column_int64(st, 11);
    out->visible_ms = visible_ms;
    out->receive_count = receive_count;
    out->token = token;
    /* RETURNING rows are produced before the change is final: step to the end. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        lb_qmsg_record_clear(out);
        return LB_ESTORE;
    }
    return 0;
}

int lb_store_qmsg_delete(lb_store_t *s, int64_t seq)
{
    sqlite3_stmt *st =
        lb_store_stmt(s, LB_STMT_SQS_DELETE, "DELETE FROM sqs_messages WHERE seq = ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    return step_done(st, 1);
}

int lb_store_qmsg_visibility(lb_store_t *s, int64_t seq, int64_t visible_ms)
{
    sqlite3_stmt *st = lb_store_stmt(s, LB_STMT_SQS_VISIBILITY,
                                     "UPDATE sqs_messages SET visible_ms = ? WHERE seq = ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, visible_ms);
    sqlite3_bind_int64(st, 2, seq);
    return step_done(st, 1);
}

int lb_store_qmsg_move(lb_store_t *s, int64_t seq, int64_t queue_id, int64_t visible_ms,
                       const char *dlq_source)
{
    sqlite3_stmt *st = prepare(s, "UPDATE sqs_messages SET queue_id = ?, visible_ms = ?, "
                                  "dlq_source = ? WHERE seq = ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, queue_id);
    sqlite3_bind_int64(st, 2, visible_ms);
    bind_text(st, 3, dlq_source);
    sqlite3_bind_int64(st, 4, seq);
    return step_done(st, 0);
}

int lb_store_qmsgs_purge(lb_store_t *s, int64_t queue_id, int64_t max_seq)
{
    sqlite3_stmt *st = prepare(s, "DELETE FROM sqs_messages WHERE queue_id = ? AND seq <= ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, queue_id);
    sqlite3_bind_int64(st, 2, max_seq);
    return step_done(st, 0);
}

int lb_store_qdedup_put(lb_store_t *s, int64_t queue_id, const char *key, const char *message_id,
                        int64_t seq, int64_t expires_ms)
{
    sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO sqs_dedup (queue_id, key, message_id, "
                                  "seq, expires_ms) VALUES (?, ?, ?, ?, ?)");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, queue_id);
    bind_text(st, 2, key);
    bind_text(st, 3, message_id);
    sqlite3_bind_int64(st, 4, seq);
    sqlite3_bind_int64(st, 5, expires_ms);
    return step_done(st, 0);
}

int lb_store_qdedup_sweep(lb_store_t *s, int64_t now_ms, int limit, size_t *removed)
{
    sqlite3_stmt *st = prepare(s, "DELETE FROM sqs_dedup WHERE rowid IN (SELECT rowid FROM "
                                  "sqs_dedup WHERE expires_ms <= ? LIMIT ?)");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int(st, 2, limit);
    int rc = sqlite3_step(st);
    *removed = rc == SQLITE_DONE ? (size_t)sqlite3_changes(lb_store_db(s)) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

/* ---- loading ---- */

static int load_queues(lb_queues_t *qs, lb_store_t *s)
{
    sqlite3_stmt *st = prepare(s, "SELECT id, region, name, attrs, tags, created_ms, modified_ms "
                                  "FROM sqs_queues ORDER BY id");
    if (!st) return LB_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_queue_t *q = lb_queue_new(
            sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4), sqlite3_column_int64(st, 5),
            sqlite3_column_int64(st, 6));
        lb_queues_add(qs, q);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

static int load_messages(lb_queues_t *qs, lb_store_t *s, int64_t now_ms)
{
    sqlite3_stmt *st = prepare(s, "SELECT seq, queue_id, group_id, sent_ms, visible_ms, "
                                  "receive_count, token FROM sqs_messages ORDER BY seq");
    if (!st) return LB_ESTORE;
    int rc;
    lb_queue_t *q = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0), qid = sqlite3_column_int64(st, 1);
        uint64_t token = (uint64_t)sqlite3_column_int64(st, 6);
        lb_queues_seen(qs, 0, seq, token);
        if (!q || q->id != qid) q = lb_queues_find_id(qs, qid);
        if (!q) continue; /* a queue deleted: its rows go with it in the same transaction */
        lb_queue_msg_add(q, seq, (const char *)sqlite3_column_text(st, 2),
                         sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
                         sqlite3_column_int(st, 5), token, now_ms);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

static int load_dedup(lb_queues_t *qs, lb_store_t *s, int64_t now_ms)
{
    sqlite3_stmt *st = prepare(s, "SELECT queue_id, key, message_id, seq, expires_ms FROM "
                                  "sqs_dedup WHERE expires_ms > ? ORDER BY expires_ms");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, now_ms);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_queue_t *q = lb_queues_find_id(qs, sqlite3_column_int64(st, 0));
        if (q)
            lb_queue_dedup_add(q, (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2),
                               sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

static int max_ids(lb_queues_t *qs, lb_store_t *s)
{
    /* Deleted queues' ids and purged messages' seqs are never handed out again. */
    sqlite3_stmt *st =
        prepare(s, "SELECT (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = "
                   "'sqs_queues'), (SELECT coalesce(max(seq), 0) FROM sqs_messages)");
    if (!st) return LB_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        lb_queues_seen(qs, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : LB_ESTORE;
}

int lb_queues_load(lb_queues_t *qs, lb_store_t *s, int64_t now_ms)
{
    int rc = load_queues(qs, s);
    if (!rc) rc = load_messages(qs, s, now_ms);
    if (!rc) rc = load_dedup(qs, s, now_ms);
    if (!rc) rc = max_ids(qs, s);
    return rc;
}

int lb_store_qmsgs_meta(lb_store_t *s, int64_t queue_id, lb_qmsg_meta_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = prepare(s, "SELECT seq, sent_ms, visible_ms, receive_count, token, "
                                  "group_id FROM sqs_messages WHERE queue_id = ? ORDER BY seq");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, queue_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = lb_xrealloc(*out, cap * sizeof **out);
        }
        lb_qmsg_meta_t *m = &(*out)[(*n)++];
        m->seq = sqlite3_column_int64(st, 0);
        m->sent_ms = sqlite3_column_int64(st, 1);
        m->visible_ms = sqlite3_column_int64(st, 2);
        m->receive_count = sqlite3_column_int(st, 3);
        m->token = (uint64_t)sqlite3_column_int64(st, 4);
        m->group = col_dup(st, 5);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        lb_qmsg_meta_free(*out, *n);
        *out = NULL;
        *n = 0;
        return LB_ESTORE;
    }
    return 0;
}

void lb_qmsg_meta_free(lb_qmsg_meta_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].group);
    free(v);
}

#include "lb_delivery.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

#define DELIVERY_COLUMNS                                                                           \
    "seq, event_id, region, bus, rule, target_id, target_arn, target_json, body, ingested_ms,"     \
    " attempts, next_ms, max_retries, max_age_s, dlq_arn, COALESCE(age_base_ms, ingested_ms),"     \
    " trace_header, fn_errors, fn_throttles, fn_first_ms, fn_request_id"

/* Where the columns after DELIVERY_COLUMNS start. */
#define DELIVERY_NCOLS 21

/* Appends s (or nothing for NULL) to the block at *p and returns where it went. */
static const char *place(char **p, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *at = *p;
    memcpy(at, s, n);
    *p += n;
    return at;
}

lb_delivery_t *lb_delivery_new(const char *event_id, const char *region, const char *bus,
                               const char *rule, const char *target_id, const char *target_arn,
                               const char *target_json, const char *dlq_arn)
{
    const char *parts[] = {region, bus, rule, target_id, target_arn, target_json, dlq_arn};
    size_t n = sizeof(lb_delivery_t);
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        n += parts[i] ? strlen(parts[i]) + 1 : 0;
    lb_delivery_t *d = lb_xcalloc(1, n);
    char *p = (char *)(d + 1);
    snprintf(d->event_id, sizeof d->event_id, "%s", event_id ? event_id : "");
    d->region = place(&p, region ? region : "");
    d->bus = place(&p, bus ? bus : "");
    d->rule = place(&p, rule ? rule : "");
    d->target_id = place(&p, target_id ? target_id : "");
    d->target_arn = place(&p, target_arn ? target_arn : "");
    d->target_json = place(&p, target_json ? target_json : "{}");
    d->dlq_arn = place(&p, dlq_arn);
    return d;
}

void lb_delivery_free(lb_delivery_t **dp)
{
    lb_delivery_t *d = *dp;
    if (!d) return;
    free(d->dead_code);
    free(d->dead_message);
    free(d->trace_header);
    lb_text_unref(&d->body_text);
    free(d);
    *dp = NULL;
}

void lb_delivery_set_body(lb_delivery_t *d, lb_text_t *text)
{
    lb_text_unref(&d->body_text);
    d->body_text = lb_text_ref(text);
    d->body = lb_text_data(text);
    d->body_len = lb_text_len(text);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int lb_delivery_insert(lb_store_t *s, lb_delivery_t *d)
{
    sqlite3_stmt *st = lb_store_stmt(s, LB_STMT_DELIVERY_INSERT,
                                     "INSERT INTO deliveries (event_id, region, bus, rule,"
                                     " target_id, target_arn, target_json, body, ingested_ms,"
                                     " attempts, next_ms, state, max_retries, max_age_s, dlq_arn,"
                                     " age_base_ms, error_code, error_message, dead_ms,"
                                     " trace_header, event_seq)"
                                     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                                     "?15,?16,?17,?18,?19,?20,"
                                     " (SELECT seq FROM events WHERE id = ?1))");
    if (!st) return LB_ESTORE;
    sqlite3_bind_text(st, 1, d->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->bus, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, d->target_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, d->target_arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, d->target_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, d->body, (int)d->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, d->ingested_ms);
    sqlite3_bind_int(st, 10, d->attempts);
    sqlite3_bind_int64(st, 11, d->next_ms);
    sqlite3_bind_int(st, 12, d->dead_code ? 2 : 0);
    sqlite3_bind_int(st, 13, d->max_retries);
    sqlite3_bind_int(st, 14, d->max_age_s);
    bind_opt(st, 15, d->dlq_arn);
    sqlite3_bind_int64(st, 16, d->age_base_ms);
    bind_opt(st, 17, d->dead_code);
    bind_opt(st, 18, d->dead_message);
    if (d->dead_code)
        sqlite3_bind_int64(st, 19, d->ingested_ms);
    else
        sqlite3_bind_null(st, 19);
    bind_opt(st, 20, d->trace_header);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return LB_ESTORE;
    d->seq = sqlite3_last_insert_rowid(lb_store_db(s));
    return 0;
}

static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

/* For cached statements: step and reset, keep it prepared. */
static int run_cached(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_delivery_delete(lb_store_t *s, int64_t seq)
{
    sqlite3_stmt *st =
        lb_store_stmt(s, LB_STMT_DELIVERY_DELETE, "DELETE FROM deliveries WHERE seq = ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    return run_cached(st);
}

int lb_delivery_reschedule(lb_store_t *s, int64_t seq, int attempts, int64_t next_ms,
                           const char *error_code, const char *error_message)
{
    sqlite3_stmt *st = lb_store_stmt(s, LB_STMT_DELIVERY_RESCHEDULE,
                                     "UPDATE deliveries SET attempts = ?1, next_ms = ?2,"
                                     " error_code = ?3, error_message = ?4 WHERE seq = ?5"
                                     " AND state = 0 AND attempts < ?1");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int(st, 1, attempts);
    sqlite3_bind_int64(st, 2, next_ms);
    bind_opt(st, 3, error_code);
    bind_opt(st, 4, error_message);
    sqlite3_bind_int64(st, 5, seq);
    return run_cached(st);
}

int lb_delivery_reschedule_async(lb_store_t *s, int64_t seq, int attempts, int64_t next_ms,
                                 const lb_async_state_t *fn, const char *error_code,
                                 const char *error_message)
{
    sqlite3_stmt *st = lb_store_stmt(s, LB_STMT_DELIVERY_RESCHEDULE_ASYNC,
                                     "UPDATE deliveries SET attempts = ?1, next_ms = ?2,"
                                     " error_code = ?3, error_message = ?4, fn_errors = ?6,"
                                     " fn_throttles = ?7, fn_first_ms = ?8, fn_request_id = ?9"
                                     " WHERE seq = ?5 AND state = 0 AND attempts < ?1");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int(st, 1, attempts);
    sqlite3_bind_int64(st, 2, next_ms);
    bind_opt(st, 3, error_code);
    bind_opt(st, 4, error_message);
    sqlite3_bind_int64(st, 5, seq);
    sqlite3_bind_int(st, 6, fn->errors);
    sqlite3_bind_int(st, 7, fn->throttles);
    sqlite3_bind_int64(st, 8, fn->first_ms);
    sqlite3_bind_text(st, 9, fn->request_id, -1, SQLITE_STATIC);
    return run_cached(st);
}

int lb_delivery_kill_async(lb_store_t *s, int64_t seq, int attempts, const lb_async_state_t *fn,
                           const char *error_code, const char *error_message, const char *exhausted,
                           int64_t now_ms)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "UPDATE deliveries SET fn_errors = ?1, fn_throttles = ?2,"
                           " fn_first_ms = ?3, fn_request_id = ?4 WHERE seq = ?5 AND state = 0"
                           " AND attempts < ?6",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    sqlite3_bind_int(st, 1, fn->errors);
    sqlite3_bind_int(st, 2, fn->throttles);
    sqlite3_bind_int64(st, 3, fn->first_ms);
    sqlite3_bind_text(st, 4, fn->request_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, seq);
    sqlite3_bind_int(st, 6, attempts);
    int rc = run(st);
    return rc ? rc
              : lb_delivery_kill(s, seq, attempts, error_code, error_message, exhausted, now_ms);
}

int lb_delivery_kill(lb_store_t *s, int64_t seq, int attempts, const char *error_code,
                     const char *error_message, const char *exhausted, int64_t now_ms)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "UPDATE deliveries SET state = 2, attempts = ?1, error_code = ?2,"
                           " error_message = ?3, exhausted = ?4, dead_ms = ?5 WHERE seq = ?6"
                           " AND state = 0 AND attempts < ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    sqlite3_bind_int(st, 1, attempts);
    bind_opt(st, 2, error_code);
    bind_opt(st, 3, error_message);
    bind_opt(st, 4, exhausted);
    sqlite3_bind_int64(st, 5, now_ms);
    sqlite3_bind_int64(st, 6, seq);
    return run(st);
}

static lb_delivery_t *row_to_delivery(sqlite3_stmt *st)
{
    const char *text[8];
    for (int i = 1; i < 8; i++)
        text[i] = (const char *)sqlite3_column_text(st, i);
    lb_delivery_t *d = lb_delivery_new(text[1], text[2], text[3], text[4], text[5], text[6],
                                       text[7], (const char *)sqlite3_column_text(st, 14));
    d->seq = sqlite3_column_int64(st, 0);
    lb_text_t *body =
        lb_text_new((const char *)sqlite3_column_text(st, 8), (size_t)sqlite3_column_bytes(st, 8));
    lb_delivery_set_body(d, body);
    lb_text_unref(&body);
    d->ingested_ms = sqlite3_column_int64(st, 9);
    d->attempts = sqlite3_column_int(st, 10);
    d->next_ms = sqlite3_column_int64(st, 11);
    d->max_retries = sqlite3_column_int(st, 12);
    d->max_age_s = sqlite3_column_int(st, 13);
    d->age_base_ms = sqlite3_column_int64(st, 15);
    d->trace_header = lb_strdup((const char *)sqlite3_column_text(st, 16));
    d->fn.errors = sqlite3_column_int(st, 17);
    d->fn.throttles = sqlite3_column_int(st, 18);
    d->fn.first_ms = sqlite3_column_int64(st, 19);
    const char *request_id = (const char *)sqlite3_column_text(st, 20);
    snprintf(d->fn.request_id, sizeof d->fn.request_id, "%s", request_id ? request_id : "");
    return d;
}

int lb_deliveries_pending(lb_store_t *s, lb_delivery_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT " DELIVERY_COLUMNS
                           " FROM deliveries WHERE state = 0 ORDER BY next_ms, seq",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((ret = cb(row_to_delivery(st), ctx))) break;
    if (!ret && rc != SQLITE_DONE) ret = LB_ESTORE;
    sqlite3_finalize(st);
    return ret;
}

int lb_deliveries_pending_after(lb_store_t *s, int64_t after_seq, int limit, lb_delivery_cb cb,
                                void *ctx, size_t *n)
{
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT " DELIVERY_COLUMNS
                           " FROM deliveries WHERE state = 0 AND seq > ? ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int(st, 2, limit);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        (*n)++;
        if ((ret = cb(row_to_delivery(st), ctx))) break;
    }
    if (!ret && rc != SQLITE_DONE) ret = LB_ESTORE;
    sqlite3_finalize(st);
    return ret;
}

int lb_dead_letters_each(lb_store_t *s, const char *region, const char *bus, const char *rule,
                         int limit, lb_dead_letter_cb cb, void *ctx)
{
    return lb_dead_letters_before(s, region, bus, rule, INT64_MAX, INT64_MAX, limit, cb, ctx);
}

int lb_dead_letters_before(lb_store_t *s, const char *region, const char *bus, const char *rule,
                           int64_t before_dead_ms, int64_t before_seq, int limit,
                           lb_dead_letter_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT " DELIVERY_COLUMNS ", error_code, error_message, exhausted,"
                           " dead_ms FROM deliveries WHERE state = 2 AND region = ?1"
                           " AND (?2 IS NULL OR bus = ?2) AND (?3 IS NULL OR rule = ?3)"
                           " AND (dead_ms < ?5 OR (dead_ms = ?5 AND seq < ?6))"
                           " ORDER BY dead_ms DESC, seq DESC LIMIT ?4",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
    bind_opt(st, 2, bus);
    bind_opt(st, 3, rule);
    sqlite3_bind_int(st, 4, limit);
    sqlite3_bind_int64(st, 5, before_dead_ms);
    sqlite3_bind_int64(st, 6, before_seq);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_delivery_t *d = row_to_delivery(st);
        lb_dead_letter_t dl = {
            .delivery = d,
            .error_code = (const char *)sqlite3_column_text(st, DELIVERY_NCOLS),
            .error_message = (const char *)sqlite3_column_text(st, DELIVERY_NCOLS + 1),
            .exhausted = (const char *)sqlite3_column_text(st, DELIVERY_NCOLS + 2),
            .dead_ms = sqlite3_column_int64(st, DELIVERY_NCOLS + 3),
        };
        ret = cb(&dl, ctx);
        lb_delivery_free(&d);
        if (ret) break;
    }
    if (!ret && rc != SQLITE_DONE) ret = LB_ESTORE;
    sqlite3_finalize(st);
    return ret;
}

int lb_dead_letters_redrive(lb_store_t *s, const char *region, const char *bus, const char *rule,
                            const int64_t *seqs, size_t n_seqs, int64_t now_ms, lb_delivery_cb cb,
                            void *ctx, size_t *count)
{
    sqlite3_stmt *sel, *upd;
    *count = 0;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE state = 2"
                           " AND region = ?1 AND (?2 IS NULL OR bus = ?2)"
                           " AND (?3 IS NULL OR rule = ?3) AND (?4 IS NULL OR seq = ?4)",
                           -1, &sel, NULL) != SQLITE_OK)
        return LB_ESTORE;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "UPDATE deliveries SET state = 0, attempts = 0, next_ms = ?1,"
                           " age_base_ms = ?1, error_code = NULL, error_message = NULL,"
                           " exhausted = NULL, dead_ms = NULL, fn_errors = 0, fn_throttles = 0,"
                           " fn_first_ms = NULL, fn_request_id = NULL WHERE seq = ?2",
                           -1, &upd, NULL) != SQLITE_OK) {
        sqlite3_finalize(sel);
        return LB_ESTORE;
    }
    int ret = 0;
    size_t rounds = seqs ? n_seqs : 1;
    for (size_t r = 0; r < rounds && !ret; r++) {
        sqlite3_reset(sel);
        sqlite3_bind_text(sel, 1, region, -1, SQLITE_STATIC);
        bind_opt(sel, 2, bus);
        bind_opt(sel, 3, rule);
        if (seqs)
            sqlite3_bind_int64(sel, 4, seqs[r]);
        else
            sqlite3_bind_null(sel, 4);
        int rc;
        while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
            lb_delivery_t *d = row_to_delivery(sel);
            sqlite3_reset(upd);
            sqlite3_bind_int64(upd, 1, now_ms);
            sqlite3_bind_int64(upd, 2, d->seq);
            if (sqlite3_step(upd) != SQLITE_DONE) {
                lb_delivery_free(&d);
                ret = LB_ESTORE;
                break;
            }
            d->attempts = 0;
            d->next_ms = d->age_base_ms = now_ms;
            memset(&d->fn, 0, sizeof d->fn);
            (*count)++;
            if ((ret = cb(d, ctx))) break;
        }
        if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW) ret = LB_ESTORE;
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return ret;
}

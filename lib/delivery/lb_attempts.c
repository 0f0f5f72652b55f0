#include "lb_attempts.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

static const char *const status_names[] = {"SUCCEEDED", "RETRYING", "FAILED", "DEAD_LETTERED"};

const char *lb_attempt_status_name(lb_attempt_status_t s)
{
    return (unsigned)s < sizeof status_names / sizeof *status_names ? status_names[s] : "UNKNOWN";
}

static int status_parse(const char *name)
{
    for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
        if (name && strcmp(name, status_names[i]) == 0) return (int)i;
    return LB_AS_FAILED;
}

static const char *place(char **p, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *at = *p;
    memcpy(at, s, n);
    *p += n;
    return at;
}

/* A record whose strings are copied into one allocation with it. */
static lb_attempt_rec_t *rec_alloc(const char *const parts[6], const char *body)
{
    size_t n = sizeof(lb_attempt_rec_t);
    for (int i = 0; i < 6; i++)
        n += parts[i] ? strlen(parts[i]) + 1 : 0;
    n += body ? strlen(body) + 1 : 0;
    lb_attempt_rec_t *r = lb_xcalloc(1, n);
    char *p = (char *)(r + 1);
    r->region = place(&p, parts[0]);
    r->bus = place(&p, parts[1]);
    r->rule = place(&p, parts[2]);
    r->target_id = place(&p, parts[3]);
    r->target_arn = place(&p, parts[4]);
    r->error = place(&p, parts[5]);
    r->body = place(&p, body);
    return r;
}

lb_attempt_rec_t *lb_attempt_rec_new(const lb_delivery_t *d, lb_attempt_status_t status,
                                     long http_status, int64_t latency_ms, int64_t at_ms,
                                     const char *error_code, const char *error_message)
{
    char *error = NULL;
    if (error_code || error_message) {
        size_t n =
            (error_code ? strlen(error_code) : 0) + (error_message ? strlen(error_message) : 0) + 4;
        error = lb_xmalloc(n);
        snprintf(error, n, "%s%s%s", error_code ? error_code : "",
                 error_code && error_message ? ": " : "", error_message ? error_message : "");
    }
    const char *parts[6] = {d->region, d->bus, d->rule, d->target_id, d->target_arn, error};
    lb_attempt_rec_t *r = rec_alloc(parts, NULL);
    free(error);
    snprintf(r->event_id, sizeof r->event_id, "%s", d->event_id);
    r->attempt = d->attempts;
    r->status = status;
    r->http_status = http_status;
    r->latency_ms = latency_ms;
    r->at_ms = at_ms;
    /* Only a final outcome keeps what the target was sent. */
    if (status != LB_AS_RETRYING && d->body_text) r->body_text = lb_text_ref(d->body_text);
    return r;
}

void lb_attempt_rec_free(lb_attempt_rec_t **rp)
{
    lb_attempt_rec_t *r = *rp;
    if (!r) return;
    lb_text_unref(&r->body_text);
    free(r);
    *rp = NULL;
}

int lb_attempt_insert(lb_store_t *s, const lb_attempt_rec_t *r)
{
    sqlite3_stmt *st = lb_store_stmt(
        s, LB_STMT_ATTEMPT_INSERT,
        "INSERT INTO delivery_attempts (event_id, region, bus, rule, target_id, target_arn,"
        " attempt, status, http_status, latency_ms, error, at_ms, body, event_seq)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " (SELECT seq FROM events WHERE id = ?1))");
    if (!st) return LB_ESTORE;
    sqlite3_bind_text(st, 1, r->event_id, -1, SQLITE_STATIC);
    lb_store_bind_text(st, 2, r->region);
    lb_store_bind_text(st, 3, r->bus);
    lb_store_bind_text(st, 4, r->rule);
    lb_store_bind_text(st, 5, r->target_id);
    lb_store_bind_text(st, 6, r->target_arn);
    sqlite3_bind_int(st, 7, r->attempt);
    sqlite3_bind_text(st, 8, lb_attempt_status_name(r->status), -1, SQLITE_STATIC);
    if (r->http_status > 0)
        sqlite3_bind_int64(st, 9, r->http_status);
    else
        sqlite3_bind_null(st, 9);
    sqlite3_bind_int64(st, 10, r->latency_ms);
    lb_store_bind_text(st, 11, r->error);
    sqlite3_bind_int64(st, 12, r->at_ms);
    if (r->body_text)
        sqlite3_bind_text(st, 13, lb_text_data(r->body_text), (int)lb_text_len(r->body_text),
                          SQLITE_STATIC);
    else
        lb_store_bind_text(st, 13, r->body);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) return LB_ESTORE;
    int64_t id = sqlite3_last_insert_rowid(lb_store_db(s));
    /* Bounded: the rows beyond the newest LB_ATTEMPTS_KEEP go, LB_ATTEMPTS_PRUNE_EVERY at a
     * time (a range at the start of the primary key and of each index: one statement frees
     * whole pages, where one row per insert touched every index each time). */
    if (id <= LB_ATTEMPTS_KEEP || id % LB_ATTEMPTS_PRUNE_EVERY) return 0;
    st = lb_store_stmt(s, LB_STMT_ATTEMPT_PRUNE, "DELETE FROM delivery_attempts WHERE id <= ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, id - LB_ATTEMPTS_KEEP);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

#define ATTEMPT_COLUMNS                                                                            \
    "id, event_id, region, bus, rule, target_id, target_arn, attempt, status, http_status,"        \
    " latency_ms, error, at_ms, body"

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int each_row(sqlite3_stmt *st, lb_attempt_cb cb, void *ctx)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *parts[6] = {col_text(st, 2), col_text(st, 3), col_text(st, 4),
                                col_text(st, 5), col_text(st, 6), col_text(st, 11)};
        lb_attempt_rec_t *r = rec_alloc(parts, col_text(st, 13));
        r->id = sqlite3_column_int64(st, 0);
        snprintf(r->event_id, sizeof r->event_id, "%s", col_text(st, 1) ? col_text(st, 1) : "");
        r->attempt = sqlite3_column_int(st, 7);
        r->status = (lb_attempt_status_t)status_parse(col_text(st, 8));
        r->http_status = (long)sqlite3_column_int64(st, 9);
        r->latency_ms = sqlite3_column_int64(st, 10);
        r->at_ms = sqlite3_column_int64(st, 12);
        int stop = cb(r, ctx);
        lb_attempt_rec_free(&r);
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_attempts_for_event(lb_store_t *s, const char *event_id, lb_attempt_cb cb, void *ctx)
{
    /* By the event's seq: an attempt's own index grows at its end (see migration 11 -> 12). */
    sqlite3_stmt *st = lb_store_prepare(s, "SELECT " ATTEMPT_COLUMNS " FROM delivery_attempts"
                                           " WHERE event_seq = (SELECT seq FROM events"
                                           " WHERE id = ?) ORDER BY id");
    if (!st) return LB_ESTORE;
    lb_store_bind_text(st, 1, event_id);
    return each_row(st, cb, ctx);
}

int lb_attempts_final_to(lb_store_t *s, const char *target_arn, int64_t after_id, int limit,
                         lb_attempt_cb cb, void *ctx)
{
    sqlite3_stmt *st = lb_store_prepare(
        s, "SELECT " ATTEMPT_COLUMNS " FROM delivery_attempts WHERE target_arn = ? AND id > ?"
           " AND status IN ('SUCCEEDED', 'DEAD_LETTERED') ORDER BY id LIMIT ?");
    if (!st) return LB_ESTORE;
    lb_store_bind_text(st, 1, target_arn);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit);
    return each_row(st, cb, ctx);
}

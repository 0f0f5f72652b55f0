/* lb_replay_store: replays and their windows in SQLite. See lb_replay_store.h. */
#include "lb_replay_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_util.h"

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int present)
{
    if (present)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static char *definition_json(const lb_replay_t *r)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *o = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_add_str(doc, o, "Description", r->description);
    if (r->n_filters) {
        lb_json_t *list = lb_json_add(doc, o, "FilterArns", lb_json_new(doc, LB_JSON_ARRAY));
        for (size_t i = 0; i < r->n_filters; i++)
            lb_json_add(doc, list, NULL, lb_json_new_str(doc, r->filter_arns[i]));
    }
    char *json = lb_json_print(o, NULL);
    lb_json_doc_free(&doc);
    return json;
}

int lb_store_replay_insert(lb_store_t *s, const lb_replay_t *r)
{
    char *json = definition_json(r);
    sqlite3_stmt *st =
        lb_store_prepare(s, "INSERT INTO replays (region, name, archive_id, archive_name,"
                            " bus, json, event_start_ms, event_end_ms, state,"
                            " replay_start_ms, cursor_time_ms, cursor_seq, total)"
                            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (st) {
        lb_store_bind_text(st, 1, r->region);
        lb_store_bind_text(st, 2, r->name);
        sqlite3_bind_int64(st, 3, r->archive_id);
        lb_store_bind_text(st, 4, r->archive_name);
        lb_store_bind_text(st, 5, r->bus);
        lb_store_bind_text(st, 6, json);
        sqlite3_bind_int64(st, 7, r->event_start_ms);
        sqlite3_bind_int64(st, 8, r->event_end_ms);
        lb_store_bind_text(st, 9, lb_replay_state_name(r->p.state));
        sqlite3_bind_int64(st, 10, r->replay_start_ms);
        sqlite3_bind_int64(st, 11, r->p.cursor_time_ms);
        sqlite3_bind_int64(st, 12, r->p.cursor_seq);
        sqlite3_bind_int64(st, 13, r->p.total);
    }
    int rc = lb_store_step_done(st);
    free(json);
    return rc;
}

/* " AND state IN ('A','B')" for the states in mask. */
static void state_clause(lb_buf_t *sql, unsigned mask)
{
    lb_buf_puts(sql, " AND state IN (");
    int first = 1;
    for (int i = 0; i < LB_REPLAY_N_STATES; i++) {
        if (!(mask & LB_REPLAY_MASK(i))) continue;
        lb_buf_printf(sql, "%s'%s'", first ? "" : ",", lb_replay_state_name((lb_replay_state_t)i));
        first = 0;
    }
    lb_buf_puts(sql, first ? "NULL)" : ")");
}

static int replay_exists(lb_store_t *s, const char *region, const char *name)
{
    sqlite3_stmt *st = lb_store_prepare(s, "SELECT 1 FROM replays WHERE region = ? AND name = ?");
    if (!st) return LB_ESTORE;
    lb_store_bind_text(st, 1, region);
    lb_store_bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 1;
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_store_replay_update(lb_store_t *s, const char *region, const char *name,
                           const lb_replay_progress_t *p, unsigned from_mask)
{
    lb_buf_t sql = {0};
    lb_buf_puts(&sql, "UPDATE replays SET state = ?, state_reason = ?, replay_end_ms = ?,"
                      " last_replayed_ms = ?, cursor_time_ms = ?, cursor_seq = ?, replayed = ?,"
                      " total = ? WHERE region = ? AND name = ?");
    state_clause(&sql, from_mask);
    sqlite3_stmt *st = lb_store_prepare(s, sql.data);
    lb_buf_free(&sql);
    if (st) {
        lb_store_bind_text(st, 1, lb_replay_state_name(p->state));
        lb_store_bind_text(st, 2, p->state_reason[0] ? p->state_reason : NULL);
        bind_opt_int(st, 3, p->replay_end_ms, p->replay_end_ms != 0);
        bind_opt_int(st, 4, p->last_replayed_ms, p->replayed > 0);
        sqlite3_bind_int64(st, 5, p->cursor_time_ms);
        sqlite3_bind_int64(st, 6, p->cursor_seq);
        sqlite3_bind_int64(st, 7, p->replayed);
        sqlite3_bind_int64(st, 8, p->total);
        lb_store_bind_text(st, 9, region);
        lb_store_bind_text(st, 10, name);
    }
    int rc = lb_store_step_done(st);
    if (rc) return rc;
    if (sqlite3_changes(lb_store_db(s))) return 0;
    rc = replay_exists(s, region, name);
    return rc < 0 ? rc : rc ? LB_ECONFLICT : LB_ENOTFOUND;
}

int lb_store_replay_set_state(lb_store_t *s, const char *region, const char *name,
                              lb_replay_state_t state, const char *reason, int64_t end_ms,
                              unsigned from_mask)
{
    lb_buf_t sql = {0};
    lb_buf_puts(&sql, "UPDATE replays SET state = ?, state_reason = ?, replay_end_ms = ?"
                      " WHERE region = ? AND name = ?");
    state_clause(&sql, from_mask);
    sqlite3_stmt *st = lb_store_prepare(s, sql.data);
    lb_buf_free(&sql);
    if (st) {
        lb_store_bind_text(st, 1, lb_replay_state_name(state));
        lb_store_bind_text(st, 2, reason);
        bind_opt_int(st, 3, end_ms, end_ms != 0);
        lb_store_bind_text(st, 4, region);
        lb_store_bind_text(st, 5, name);
    }
    int rc = lb_store_step_done(st);
    if (rc) return rc;
    if (sqlite3_changes(lb_store_db(s))) return 0;
    rc = replay_exists(s, region, name);
    return rc < 0 ? rc : rc ? LB_ECONFLICT : LB_ENOTFOUND;
}

int lb_store_replays_archive_gone(lb_store_t *s, int64_t archive_id, const char *reason,
                                  int64_t now_ms)
{
    sqlite3_stmt *st =
        lb_store_prepare(s, "UPDATE replays SET state = 'CANCELLED', replay_end_ms = ?"
                            " WHERE archive_id = ? AND state = 'CANCELLING'");
    if (st) {
        sqlite3_bind_int64(st, 1, now_ms);
        sqlite3_bind_int64(st, 2, archive_id);
    }
    int rc = lb_store_step_done(st);
    if (rc) return rc;
    st = lb_store_prepare(s,
                          "UPDATE replays SET state = 'FAILED', state_reason = ?, replay_end_ms = ?"
                          " WHERE archive_id = ? AND state IN ('STARTING', 'RUNNING')");
    if (st) {
        lb_store_bind_text(st, 1, reason);
        sqlite3_bind_int64(st, 2, now_ms);
        sqlite3_bind_int64(st, 3, archive_id);
    }
    return lb_store_step_done(st);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* One stored replay into the registry; -1 if it cannot be read back. */
static int load_one(lb_replays_t *reg, sqlite3_stmt *st)
{
    lb_json_doc_t *doc = NULL;
    const char *json = col_text(st, 5);
    if (!json || lb_json_parse(json, (size_t)sqlite3_column_bytes(st, 5), LB_JSON_REQUEST_MAX_DEPTH,
                               &doc, NULL))
        return -1;
    const lb_json_t *o = lb_json_doc_root(doc);
    const lb_json_t *filters = lb_json_get(o, "FilterArns");
    size_t n = lb_json_is(filters, LB_JSON_ARRAY) ? filters->n_children : 0;
    const char **arns = lb_xcalloc(n + 1, sizeof *arns);
    size_t k = 0;
    lb_json_each(f, n ? filters : NULL) if (f->type == LB_JSON_STRING) arns[k++] = f->str;
    lb_replay_t r;
    int rc = lb_replay_init(&r, col_text(st, 0), col_text(st, 1), lb_json_get_str(o, "Description"),
                            sqlite3_column_int64(st, 2), col_text(st, 3), col_text(st, 4), arns, k,
                            sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
                            sqlite3_column_int64(st, 10));
    free(arns);
    lb_json_doc_free(&doc);
    if (rc || !r.region || !r.name || !r.bus) {
        if (rc == 0) lb_replay_clear(&r);
        return -1;
    }
    if (lb_replay_state_parse(col_text(st, 8), &r.p.state)) r.p.state = LB_REPLAY_FAILED;
    if (col_text(st, 9)) snprintf(r.p.state_reason, sizeof r.p.state_reason, "%s", col_text(st, 9));
    r.p.replay_end_ms = sqlite3_column_int64(st, 11);
    r.p.last_replayed_ms = sqlite3_column_int64(st, 12);
    r.p.cursor_time_ms = sqlite3_column_int64(st, 13);
    r.p.cursor_seq = sqlite3_column_int64(st, 14);
    r.p.replayed = sqlite3_column_int64(st, 15);
    r.p.total = sqlite3_column_int64(st, 16);
    return lb_replays_put(reg, &r);
}

int lb_replays_load(lb_replays_t *r, lb_store_t *s, size_t *skipped)
{
    sqlite3_stmt *st =
        lb_store_prepare(s, "SELECT region, name, archive_id, archive_name, bus, json,"
                            " event_start_ms, event_end_ms, state, state_reason,"
                            " replay_start_ms, replay_end_ms, last_replayed_ms,"
                            " cursor_time_ms, cursor_seq, replayed, total FROM replays");
    if (!st) return LB_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (load_one(r, st)) (*skipped)++;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

/* ---- windows (reader thread) ---- */

int lb_store_replay_count(lb_store_t *s, const lb_replay_window_t *w, int64_t *n)
{
    sqlite3_stmt *st =
        lb_store_prepare(s, "SELECT count(*) FROM archive_events WHERE archive_id = ?"
                            " AND event_time_ms >= ? AND event_time_ms < ?"
                            " AND archived_ms <= ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, w->archive_id);
    sqlite3_bind_int64(st, 2, w->start_ms);
    sqlite3_bind_int64(st, 3, w->end_ms);
    sqlite3_bind_int64(st, 4, w->cap_ms);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : LB_ESTORE;
}

/* Runs a window query and hands its rows to fn; *got counts them. */
static int read_rows(sqlite3_stmt *st, lb_replay_row_fn fn, void *ctx, size_t *got)
{
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        (*got)++;
        ret = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), col_text(st, 2),
                 (size_t)sqlite3_column_bytes(st, 2));
        if (ret) break;
    }
    sqlite3_finalize(st);
    return ret ? ret : rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_store_replay_read(lb_store_t *s, const lb_replay_window_t *w, int64_t cursor_time_ms,
                         int64_t cursor_seq, size_t limit, lb_replay_row_fn fn, void *ctx)
{
    size_t got = 0;
    int rc;
    /* A row comparison (t, seq) > (?, ?) would not seek in SQLite's index, so the rest of the
     * cursor's second and the seconds after it are two queries. */
    if (cursor_time_ms < w->end_ms) {
        sqlite3_stmt *st =
            lb_store_prepare(s, "SELECT seq, event_time_ms, envelope FROM archive_events"
                                " WHERE archive_id = ? AND event_time_ms = ? AND seq > ?"
                                " AND archived_ms <= ? ORDER BY seq LIMIT ?");
        if (!st) return LB_ESTORE;
        sqlite3_bind_int64(st, 1, w->archive_id);
        sqlite3_bind_int64(st, 2, cursor_time_ms);
        sqlite3_bind_int64(st, 3, cursor_seq);
        sqlite3_bind_int64(st, 4, w->cap_ms);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)limit);
        if ((rc = read_rows(st, fn, ctx, &got))) return rc;
    }
    if (got >= limit) return 0;
    sqlite3_stmt *st = lb_store_prepare(s, "SELECT seq, event_time_ms, envelope FROM archive_events"
                                           " WHERE archive_id = ? AND event_time_ms > ?"
                                           " AND event_time_ms < ? AND archived_ms <= ?"
                                           " ORDER BY event_time_ms, seq LIMIT ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, w->archive_id);
    sqlite3_bind_int64(st, 2, cursor_time_ms);
    sqlite3_bind_int64(st, 3, w->end_ms);
    sqlite3_bind_int64(st, 4, w->cap_ms);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)(limit - got));
    return read_rows(st, fn, ctx, &got);
}

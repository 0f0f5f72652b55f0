/* lb_archive_store: archives, archived events and the retention sweep in SQLite. See
 * lb_archive_store.h. */
#include "lb_archive_store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_util.h"

/* The definition beside the key columns, as rules keep theirs: a new API field needs no
 * migration. */
static char *definition_json(const lb_archive_t *a)
{
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *o = lb_json_new(doc, LB_JSON_OBJECT);
    lb_json_add_str(doc, o, "Description", a->description);
    lb_json_add_str(doc, o, "EventPattern", a->event_pattern);
    lb_json_add_str(doc, o, "KmsKeyIdentifier", a->kms_key);
    char *json = lb_json_print(o, NULL);
    lb_json_doc_free(&doc);
    return json;
}

int lb_store_archive_insert(lb_store_t *s, lb_archive_t *a)
{
    char *json = definition_json(a);
    sqlite3_stmt *st =
        lb_store_prepare(s, "INSERT INTO archives (region, name, bus, json, retention_days,"
                            " state, state_reason, created_ms, modified_ms)"
                            " VALUES (?,?,?,?,?,?,?,?,?)");
    if (st) {
        lb_store_bind_text(st, 1, a->region);
        lb_store_bind_text(st, 2, a->name);
        lb_store_bind_text(st, 3, a->bus);
        lb_store_bind_text(st, 4, json);
        sqlite3_bind_int64(st, 5, a->retention_days);
        lb_store_bind_text(st, 6, a->state);
        lb_store_bind_text(st, 7, a->state_reason);
        sqlite3_bind_int64(st, 8, a->created_ms);
        sqlite3_bind_int64(st, 9, a->modified_ms);
    }
    int rc = lb_store_step_done(st);
    free(json);
    if (rc == 0) a->id = sqlite3_last_insert_rowid(lb_store_db(s));
    return rc;
}

int lb_store_archive_update(lb_store_t *s, const lb_archive_t *a)
{
    char *json = definition_json(a);
    sqlite3_stmt *st =
        lb_store_prepare(s, "UPDATE archives SET json = ?, retention_days = ?, state = ?,"
                            " state_reason = ?, modified_ms = ? WHERE id = ?");
    if (st) {
        lb_store_bind_text(st, 1, json);
        sqlite3_bind_int64(st, 2, a->retention_days);
        lb_store_bind_text(st, 3, a->state);
        lb_store_bind_text(st, 4, a->state_reason);
        sqlite3_bind_int64(st, 5, a->modified_ms);
        sqlite3_bind_int64(st, 6, a->id);
    }
    int rc = lb_store_step_done(st);
    free(json);
    if (rc == 0 && sqlite3_changes(lb_store_db(s)) == 0) return LB_ENOTFOUND;
    return rc;
}

int lb_store_archive_delete(lb_store_t *s, int64_t id)
{
    sqlite3_stmt *st = lb_store_prepare(s, "DELETE FROM archives WHERE id = ?");
    if (st) sqlite3_bind_int64(st, 1, id);
    int rc = lb_store_step_done(st);
    if (rc) return rc;
    if (sqlite3_changes(lb_store_db(s)) == 0) return LB_ENOTFOUND;
    st = lb_store_prepare(s, "INSERT OR IGNORE INTO archives_deleted (id) VALUES (?)");
    if (st) sqlite3_bind_int64(st, 1, id);
    return lb_store_step_done(st);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* One stored archive into the registry; -EINVAL if its definition no longer compiles. */
static int load_one(lb_archives_t *r, sqlite3_stmt *st)
{
    lb_json_doc_t *doc = NULL;
    const char *json = col_text(st, 4);
    if (!json || lb_json_parse(json, (size_t)sqlite3_column_bytes(st, 4), LB_JSON_REQUEST_MAX_DEPTH,
                               &doc, NULL))
        return -1;
    const lb_json_t *o = lb_json_doc_root(doc);
    lb_archive_t a;
    int rc = lb_archive_init(&a, col_text(st, 1), col_text(st, 2), col_text(st, 3),
                             lb_json_get_str(o, "Description"), lb_json_get_str(o, "EventPattern"),
                             lb_json_get_str(o, "KmsKeyIdentifier"), sqlite3_column_int64(st, 5),
                             sqlite3_column_int64(st, 8), NULL);
    lb_json_doc_free(&doc);
    if (rc) return rc;
    a.id = sqlite3_column_int64(st, 0);
    free(a.state);
    a.state = lb_strdup(col_text(st, 6) ? col_text(st, 6) : "ENABLED");
    a.state_reason = lb_strdup(col_text(st, 7));
    a.modified_ms = sqlite3_column_int64(st, 9);
    a.event_count = sqlite3_column_int64(st, 10);
    a.size_bytes = sqlite3_column_int64(st, 11);
    return lb_archives_put(r, &a);
}

int lb_archives_load(lb_archives_t *r, lb_store_t *s, size_t *skipped)
{
    sqlite3_stmt *st =
        lb_store_prepare(s, "SELECT id, region, name, bus, json, retention_days, state,"
                            " state_reason, created_ms, modified_ms, event_count, size_bytes"
                            " FROM archives");
    if (!st) return LB_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (load_one(r, st)) (*skipped)++;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

/* ---- archived events ---- */

/* Raises archive id's counters; 0 if it exists, LB_ENOTFOUND if it was deleted meanwhile. */
static int count_rows(lb_store_t *s, int64_t id, int64_t events, int64_t bytes)
{
    sqlite3_stmt *st = lb_store_stmt(s, LB_STMT_ARCHIVE_COUNT,
                                     "UPDATE archives SET event_count = event_count + ?,"
                                     " size_bytes = size_bytes + ? WHERE id = ?");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, events);
    sqlite3_bind_int64(st, 2, bytes);
    sqlite3_bind_int64(st, 3, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return LB_ESTORE;
    return sqlite3_changes(lb_store_db(s)) ? 0 : LB_ENOTFOUND;
}

static int insert_row(lb_store_t *s, const lb_archive_row_t *row)
{
    sqlite3_stmt *st = lb_store_stmt(s, LB_STMT_ARCHIVE_EVENT_INSERT,
                                     "INSERT INTO archive_events (archive_id, event_time_ms,"
                                     " archived_ms, size, envelope) VALUES (?,?,?,?,?)");
    if (!st) return LB_ESTORE;
    sqlite3_bind_int64(st, 1, row->archive_id);
    sqlite3_bind_int64(st, 2, row->event_time_ms);
    sqlite3_bind_int64(st, 3, row->archived_ms);
    sqlite3_bind_int64(st, 4, row->size);
    sqlite3_bind_text(st, 5, row->envelope, (int)row->envelope_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_store_archive_rows_write(lb_store_t *s, const lb_archive_row_t *rows, size_t n)
{
    /* Counters once per archive in the batch (a batch spans one or a few archives), then the
     * rows of the archives that still exist. */
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = rows[k].archive_id == rows[i].archive_id;
        if (seen) continue;
        int64_t events = 0, bytes = 0;
        for (size_t k = i; k < n; k++) {
            if (rows[k].archive_id != rows[i].archive_id) continue;
            events++;
            bytes += rows[k].size;
        }
        int rc = count_rows(s, rows[i].archive_id, events, bytes);
        if (rc == LB_ENOTFOUND) continue;
        if (rc) return rc;
        for (size_t k = i; k < n; k++)
            if (rows[k].archive_id == rows[i].archive_id && (rc = insert_row(s, &rows[k])))
                return rc;
    }
    return 0;
}

/* ---- retention sweep ---- */

static void add_change(lb_archive_sweep_t *out, int64_t id, int64_t events, int64_t bytes)
{
    out->changes = lb_xrealloc(out->changes, (out->n_changes + 1) * sizeof *out->changes);
    out->changes[out->n_changes++] = (lb_archive_change_t){id, events, bytes};
}

/* The events of deleted archives, then their tombstones once nothing is left. */
static int sweep_deleted(lb_store_t *s, size_t *budget, lb_archive_sweep_t *out)
{
    sqlite3_stmt *ids = lb_store_prepare(s, "SELECT id FROM archives_deleted ORDER BY id LIMIT 16");
    if (!ids) return LB_ESTORE;
    int rc = 0, step;
    while (*budget > 0 && (step = sqlite3_step(ids)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(ids, 0);
        sqlite3_stmt *del =
            lb_store_prepare(s, "DELETE FROM archive_events WHERE seq IN (SELECT seq FROM"
                                " archive_events WHERE archive_id = ? LIMIT ?)");
        if (del) {
            sqlite3_bind_int64(del, 1, id);
            sqlite3_bind_int64(del, 2, (sqlite3_int64)*budget);
        }
        if ((rc = lb_store_step_done(del))) break;
        size_t gone = (size_t)sqlite3_changes(lb_store_db(s));
        out->deleted += gone;
        *budget -= gone;
        if (*budget == 0) break; /* maybe more: look again next step */
        sqlite3_stmt *tomb = lb_store_prepare(s, "DELETE FROM archives_deleted WHERE id = ?");
        if (tomb) sqlite3_bind_int64(tomb, 1, id);
        if ((rc = lb_store_step_done(tomb))) break;
    }
    sqlite3_finalize(ids);
    return rc;
}

/* Expired events of one archive, oldest first, at most *budget of them. */
static int sweep_expired(lb_store_t *s, int64_t id, int64_t cutoff_ms, size_t *budget,
                         lb_archive_sweep_t *out)
{
    sqlite3_stmt *sel =
        lb_store_prepare(s, "SELECT seq, size FROM archive_events WHERE archive_id = ?"
                            " AND archived_ms < ? ORDER BY archived_ms LIMIT ?");
    sqlite3_stmt *del = lb_store_prepare(s, "DELETE FROM archive_events WHERE seq = ?");
    if (!sel || !del) {
        sqlite3_finalize(sel);
        sqlite3_finalize(del);
        return LB_ESTORE;
    }
    sqlite3_bind_int64(sel, 1, id);
    sqlite3_bind_int64(sel, 2, cutoff_ms);
    sqlite3_bind_int64(sel, 3, (sqlite3_int64)*budget);
    int64_t events = 0, bytes = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        sqlite3_bind_int64(del, 1, sqlite3_column_int64(sel, 0));
        if (sqlite3_step(del) != SQLITE_DONE) {
            rc = LB_ESTORE;
            break;
        }
        sqlite3_reset(del);
        events++;
        bytes += sqlite3_column_int64(sel, 1);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = LB_ESTORE;
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    if (rc || events == 0) return rc;
    sqlite3_stmt *upd =
        lb_store_prepare(s, "UPDATE archives SET event_count = max(0, event_count - ?),"
                            " size_bytes = max(0, size_bytes - ?) WHERE id = ?");
    if (upd) {
        sqlite3_bind_int64(upd, 1, events);
        sqlite3_bind_int64(upd, 2, bytes);
        sqlite3_bind_int64(upd, 3, id);
    }
    if ((rc = lb_store_step_done(upd))) return rc;
    add_change(out, id, events, bytes);
    out->deleted += (size_t)events;
    *budget -= (size_t)events;
    return 0;
}

int lb_store_archive_sweep(lb_store_t *s, int64_t now_ms, int64_t day_ms, size_t max_rows,
                           lb_archive_sweep_t *out)
{
    memset(out, 0, sizeof *out);
    size_t budget = max_rows;
    int rc = sweep_deleted(s, &budget, out);
    if (rc || budget == 0) {
        out->more = rc == 0;
        return rc;
    }
    sqlite3_stmt *st = lb_store_prepare(s, "SELECT id, retention_days FROM archives WHERE"
                                           " retention_days > 0 ORDER BY id");
    if (!st) return LB_ESTORE;
    int step;
    while (budget > 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t days = sqlite3_column_int64(st, 1);
        /* Saturates instead of overflowing for absurd retentions: nothing is that old. */
        int64_t span = days > INT64_MAX / (day_ms > 0 ? day_ms : 1) ? INT64_MAX : days * day_ms;
        int64_t cutoff = now_ms - span;
        if (span == INT64_MAX || cutoff > now_ms) continue;
        if ((rc = sweep_expired(s, sqlite3_column_int64(st, 0), cutoff, &budget, out))) break;
    }
    sqlite3_finalize(st);
    if (rc == 0 && budget == 0) out->more = 1;
    return rc;
}

void lb_archive_sweep_clear(lb_archive_sweep_t *out)
{
    free(out->changes);
    memset(out, 0, sizeof *out);
}

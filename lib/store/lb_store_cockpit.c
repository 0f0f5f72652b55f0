#include "lb_store_cockpit.h"

#include <sqlite3.h>
#include <string.h>

#include "lb_util.h"

int lb_store_event_get(lb_store_t *s, const char *id, lb_store_event_cb cb, void *ctx)
{
    sqlite3_stmt *st = lb_store_prepare(
        s, "SELECT id, region, bus, ingested_ms, envelope, seq FROM events WHERE id = ?");
    if (!st) return LB_ESTORE;
    lb_store_bind_text(st, 1, id);
    int rc = sqlite3_step(st), ret = LB_ENOTFOUND;
    if (rc == SQLITE_ROW) {
        lb_event_record_t ev = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .region = (const char *)sqlite3_column_text(st, 1),
            .bus = (const char *)sqlite3_column_text(st, 2),
            .ingested_ms = sqlite3_column_int64(st, 3),
            .envelope = (const char *)sqlite3_column_text(st, 4),
            .envelope_len = (size_t)sqlite3_column_bytes(st, 4),
            .seq = sqlite3_column_int64(st, 5),
        };
        ret = cb(&ev, ctx);
    } else if (rc != SQLITE_DONE) {
        ret = LB_ESTORE;
    }
    sqlite3_finalize(st);
    return ret;
}

int lb_store_event_deliveries(lb_store_t *s, const char *event_id, lb_store_event_delivery_cb cb,
                              void *ctx)
{
    sqlite3_stmt *st = lb_store_prepare(
        s, "SELECT rule, target_id, target_arn, error_code, error_message, attempts, state,"
           " next_ms FROM deliveries"
           " WHERE event_seq = (SELECT seq FROM events WHERE id = ?) ORDER BY seq");
    if (!st) return LB_ESTORE;
    lb_store_bind_text(st, 1, event_id);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_store_event_delivery_t d = {
            .rule = (const char *)sqlite3_column_text(st, 0),
            .target_id = (const char *)sqlite3_column_text(st, 1),
            .target_arn = (const char *)sqlite3_column_text(st, 2),
            .error_code = (const char *)sqlite3_column_text(st, 3),
            .error_message = (const char *)sqlite3_column_text(st, 4),
            .attempts = sqlite3_column_int(st, 5),
            .dead = sqlite3_column_int(st, 6) == 2,
            .next_ms = sqlite3_column_int64(st, 7),
        };
        if ((ret = cb(&d, ctx))) break;
    }
    if (!ret && rc != SQLITE_DONE) ret = LB_ESTORE;
    sqlite3_finalize(st);
    return ret;
}

int lb_store_delivery_counts(lb_store_t *s, int64_t *pending, int64_t *oldest_pending_ms,
                             int64_t *dead_letters)
{
    sqlite3_stmt *st =
        lb_store_prepare(s, "SELECT count(*) FILTER (WHERE state = 0),"
                            " COALESCE(min(ingested_ms) FILTER (WHERE state = 0), 0),"
                            " count(*) FILTER (WHERE state = 2) FROM deliveries");
    if (!st) return LB_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *pending = sqlite3_column_int64(st, 0);
        *oldest_pending_ms = sqlite3_column_int64(st, 1);
        *dead_letters = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : LB_ESTORE;
}

int lb_store_reset(lb_store_t *s, int64_t *max_seq)
{
    *max_seq = 0;
    sqlite3_stmt *st =
        lb_store_prepare(s, "SELECT seq FROM sqlite_sequence WHERE name = 'deliveries'");
    if (!st) return LB_ESTORE;
    if (sqlite3_step(st) == SQLITE_ROW) *max_seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    static const char *const wipes[] = {
        "DELETE FROM events",
        "DELETE FROM deliveries",
        "DELETE FROM delivery_attempts",
        "DELETE FROM targets",
        "DELETE FROM rules",
        "DELETE FROM archive_events",
        "DELETE FROM archives_deleted",
        "DELETE FROM archives",
        "DELETE FROM replays",
        "DELETE FROM buses WHERE name <> 'default'",
        /* A deploy's stack record names the resources above: kept, a redeploy would take them
         * for there and create nothing. */
        "DELETE FROM stacks",
    };
    for (size_t i = 0; i < sizeof wipes / sizeof *wipes; i++)
        if (sqlite3_exec(lb_store_db(s), wipes[i], NULL, NULL, NULL) != SQLITE_OK) return LB_ESTORE;
    return 0;
}

int lb_store_events_filtered(lb_store_t *s, const char *region, const char *bus, const char *source,
                             int64_t since_ms, int64_t before_seq, int limit, lb_store_event_cb cb,
                             void *ctx)
{
    /* Newest first down the primary key, the filters checked row by row. */
    sqlite3_stmt *st =
        lb_store_prepare(s, "SELECT " LB_STORE_EVENT_COLUMNS " FROM events"
                            " WHERE region = ?1 AND (?2 IS NULL OR bus = ?2) AND seq < ?3"
                            " AND (?4 IS NULL OR json_extract(envelope, '$.source') = ?4)"
                            " AND ingested_ms >= ?5 ORDER BY seq DESC LIMIT ?6");
    if (!st) return LB_ESTORE;
    lb_store_bind_text(st, 1, region);
    lb_store_bind_text(st, 2, bus);
    sqlite3_bind_int64(st, 3, before_seq);
    lb_store_bind_text(st, 4, source);
    sqlite3_bind_int64(st, 5, since_ms);
    sqlite3_bind_int(st, 6, limit);
    return lb_store_event_rows(st, cb, ctx);
}

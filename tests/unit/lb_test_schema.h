/* Takes a scratch database at the latest schema back to an older one, so a migration test starts
 * from what an older daemon really left. Each migration appended to lib/store/lb_store_schema.c
 * adds its undo here, or the migration tests of the older ones fail on a column that is already
 * there. */
#ifndef LB_TEST_SCHEMA_H
#define LB_TEST_SCHEMA_H

#include <sqlite3.h>
#include <stdio.h>

/* undo[v] takes schema v+1 back to v. */
static const char *const lb_test_schema_undo[] = {
    [3] = "ALTER TABLE buses DROP COLUMN policy; DROP TABLE documents;",
    [4] = "ALTER TABLE rules DROP COLUMN schedule_since_ms;"
          "ALTER TABLE rules DROP COLUMN last_fired_ms;",
    [5] = "DROP TABLE archives; DROP TABLE archives_deleted; DROP TABLE archive_events;"
          "DROP TABLE replays;",
    [6] = "ALTER TABLE events DROP COLUMN trace_header;"
          "ALTER TABLE deliveries DROP COLUMN trace_header;",
    [7] = "DROP TABLE delivery_attempts; DROP INDEX deliveries_by_event;",
    [8] = "DROP TABLE stacks;",
    [9] = "ALTER TABLE deliveries DROP COLUMN fn_errors;"
          "ALTER TABLE deliveries DROP COLUMN fn_throttles;"
          "ALTER TABLE deliveries DROP COLUMN fn_first_ms;"
          "ALTER TABLE deliveries DROP COLUMN fn_request_id; DROP TABLE lambda_functions;",
    [10] = "DROP TABLE sqs_queues; DROP TABLE sqs_messages; DROP TABLE sqs_dedup;",
    [11] = "DROP INDEX delivery_attempts_by_event_seq;"
           "ALTER TABLE delivery_attempts DROP COLUMN event_seq;"
           "CREATE INDEX delivery_attempts_by_event ON delivery_attempts (event_id);"
           "DROP INDEX deliveries_by_event_seq; ALTER TABLE deliveries DROP COLUMN event_seq;"
           "CREATE INDEX deliveries_by_event ON deliveries (event_id);",
};

/* Runs sql on the database at path (rows an older daemon would have left, a schema by hand):
 * SQLITE_OK or sqlite3_exec's error. */
static inline int lb_test_schema_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* 0 on success; the database must not be open elsewhere. */
static inline int lb_test_schema_downgrade(const char *path, int to_version)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) return -1;
    int ok = 0;
    sqlite3_stmt *st;
    int from = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        from = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int n = (int)(sizeof lb_test_schema_undo / sizeof *lb_test_schema_undo);
    if (from < to_version || from > n) ok = -1;
    for (int v = from - 1; ok == 0 && v >= to_version; v--) {
        char *err = NULL;
        if (!lb_test_schema_undo[v] ||
            sqlite3_exec(db, lb_test_schema_undo[v], NULL, NULL, &err) != SQLITE_OK) {
            fprintf(stderr, "undo %d -> %d: %s\n", v + 1, v, err ? err : "no undo written");
            ok = -1;
        }
        sqlite3_free(err);
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", to_version);
    if (ok == 0 && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) ok = -1;
    sqlite3_close(db);
    return ok;
}

#endif

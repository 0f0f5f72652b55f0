/* lb_stack_store: stack records in SQLite. See lb_stack_store.h. */
#include "lb_stack_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "lb_util.h"

int lb_store_stack_put(lb_store_t *s, const char *region, const char *name, const char *json,
                       int64_t now_ms)
{
    sqlite3_stmt *st = lb_store_prepare(
        s, "INSERT OR REPLACE INTO stacks (region, name, json, modified_ms) VALUES (?,?,?,?)");
    if (st) {
        lb_store_bind_text(st, 1, region);
        lb_store_bind_text(st, 2, name);
        lb_store_bind_text(st, 3, json);
        sqlite3_bind_int64(st, 4, now_ms);
    }
    return lb_store_step_done(st);
}

int lb_store_stack_get(lb_store_t *s, const char *region, const char *name, char **json,
                       int64_t *modified_ms)
{
    *json = NULL;
    sqlite3_stmt *st =
        lb_store_prepare(s, "SELECT json, modified_ms FROM stacks WHERE region = ? AND name = ?");
    if (!st) return LB_ESTORE;
    lb_store_bind_text(st, 1, region);
    lb_store_bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *json = lb_strdup((const char *)sqlite3_column_text(st, 0));
        *modified_ms = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    return rc == SQLITE_DONE ? LB_ENOTFOUND : LB_ESTORE;
}

int lb_store_stack_delete(lb_store_t *s, const char *region, const char *name)
{
    sqlite3_stmt *st = lb_store_prepare(s, "DELETE FROM stacks WHERE region = ? AND name = ?");
    if (st) {
        lb_store_bind_text(st, 1, region);
        lb_store_bind_text(st, 2, name);
    }
    int rc = lb_store_step_done(st);
    if (rc) return rc;
    return sqlite3_changes(lb_store_db(s)) ? 0 : LB_ENOTFOUND;
}

#include "lb_store.h"
#include "lb_store_schema.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_util.h"

/* Which file a path named when the connection opened it: how a database deleted or replaced
 * behind the daemon's back is noticed (lb_store_file_changed). */
typedef struct {
    dev_t dev;
    ino_t ino;
    int known;
} file_id_t;

struct lb_store {
    sqlite3 *db;
    int read_only;
    char *path;
    lb_store_options_t opts;
    file_id_t db_id, wal_id;
    /* Prepared once, reused for every call: the hot path must not re-parse SQL. */
    sqlite3_stmt *event_insert;
    sqlite3_stmt *cached[LB_STMT_SLOTS];
    unsigned char secret_key[32];
    int has_secret_key;
};

void lb_bus_record_clear(lb_bus_record_t *b)
{
    free(b->region);
    free(b->name);
    free(b->description);
    free(b->kms_key);
    free(b->dlq_arn);
    free(b->tags_json);
    free(b->policy);
    memset(b, 0, sizeof *b);
}

const char *lb_store_errmsg(lb_store_t *s)
{
    return s && s->db ? sqlite3_errmsg(s->db) : "store not open";
}

static int exec_sql(lb_store_t *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : LB_ESTORE;
}

int lb_store_read_only(lb_store_t *s)
{
    return sqlite3_db_readonly(s->db, "main") == 1;
}

sqlite3_stmt *lb_store_stmt(lb_store_t *s, int slot, const char *sql)
{
    if (slot < 0 || slot >= LB_STMT_SLOTS) return NULL;
    sqlite3_stmt *st = s->cached[slot];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    s->cached[slot] = st;
    return st;
}

void lb_store_set_secret_key(lb_store_t *s, const unsigned char *key32)
{
    s->has_secret_key = key32 != NULL;
    if (key32)
        memcpy(s->secret_key, key32, sizeof s->secret_key);
    else
        memset(s->secret_key, 0, sizeof s->secret_key);
}

const unsigned char *lb_store_secret_key(const lb_store_t *s)
{
    return s->has_secret_key ? s->secret_key : NULL;
}

int lb_store_checkpoint(lb_store_t *s)
{
    return exec_sql(s, "PRAGMA wal_checkpoint(TRUNCATE)");
}

struct sqlite3 *lb_store_db(lb_store_t *s)
{
    return s->db;
}

int lb_store_latest_schema_version(void)
{
    return lb_store_migration_count();
}

int lb_store_schema_version(lb_store_t *s)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v < 0 ? LB_ESTORE : v;
}

static int migrate(lb_store_t *s)
{
    int v = lb_store_schema_version(s);
    if (v < 0) return v;
    if (v > lb_store_migration_count()) return -EPROTO; /* written by a newer LocalBridge */
    for (; v < lb_store_migration_count(); v++) {
        char pragma[64];
        if (exec_sql(s, "BEGIN IMMEDIATE")) return LB_ESTORE;
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (exec_sql(s, lb_store_migration(v)) || exec_sql(s, pragma) || exec_sql(s, "COMMIT")) {
            exec_sql(s, "ROLLBACK");
            return LB_ESTORE;
        }
    }
    return 0;
}

/* The (dev, inode) path names now, or known = 0 if it names nothing. -errno if stat fails
 * otherwise. */
static int file_id(const char *path, file_id_t *id)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (stat(path, &st) == 0) {
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        id->known = 1;
        return 0;
    }
    return errno == ENOENT ? 0 : -errno;
}

static void wal_path(const lb_store_t *s, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s-wal", s->path);
}

/* The database holds connection secrets and every event: it is created 0600, and a database or
 * WAL left readable by others (an older LocalBridge created them 0644 under umask 022) is made
 * 0600. SQLite gives the WAL and shared-memory files the database file's mode. */
static void private_files(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char p[4200];
        struct stat st;
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        if (stat(p, &st) == 0 && (st.st_mode & 077) && st.st_uid == geteuid())
            chmod(p, st.st_mode & 0700);
    }
}

/* Opens s->db on s->path with s->opts and remembers which files it opened. */
static int open_connection(lb_store_t *s)
{
    static const char *const sync_sql[] = {
        "PRAGMA synchronous = OFF", "PRAGMA synchronous = NORMAL", "PRAGMA synchronous = FULL",
        "PRAGMA synchronous = EXTRA"};
    const lb_store_options_t *opts = &s->opts;
    int flags = opts->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;
    if (!opts->read_only) private_files(s->path);
    int rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) return LB_ESTORE;
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    if (opts->cache_bytes) {
        /* A negative cache_size is a size in KiB rather than a page count. */
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%zu",
                 opts->cache_bytes < 1024 ? (size_t)1 : opts->cache_bytes / 1024);
        if (exec_sql(s, pragma)) return LB_ESTORE;
    }
    if (!opts->read_only) {
        /* synchronous first: switching a new database to WAL is a write, and with OFF it need
         * not wait on three fsyncs (what `serve --ephemeral` starts with). */
        if (exec_sql(s, sync_sql[opts->synchronous]) || exec_sql(s, "PRAGMA journal_mode = WAL") ||
            exec_sql(s, "PRAGMA foreign_keys = ON"))
            return LB_ESTORE;
        /* Written by a newer LocalBridge (-EPROTO): say so rather than "cannot open". */
        if ((rc = migrate(s))) return rc;
    } else {
        int v = lb_store_schema_version(s);
        if (v != lb_store_migration_count()) return LB_ESTORE;
    }
    char wal[4200];
    wal_path(s, wal, sizeof wal);
    file_id(s->path, &s->db_id);
    file_id(wal, &s->wal_id);
    return 0;
}

/* Closes the connection without letting it delete the WAL and shared-memory files by name:
 * after a restore those names belong to the restored database's files, not this connection's. */
static void close_connection(lb_store_t *s)
{
    sqlite3_finalize(s->event_insert);
    s->event_insert = NULL;
    for (int i = 0; i < LB_STMT_SLOTS; i++) {
        sqlite3_finalize(s->cached[i]);
        s->cached[i] = NULL;
    }
    if (s->db) {
        int keep = 1;
        sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &keep);
    }
    sqlite3_close(s->db);
    s->db = NULL;
}

int lb_store_open(const char *path, const lb_store_options_t *opts, lb_store_t **out)
{
    lb_store_options_t defaults = {.read_only = 0, .synchronous = LB_SYNC_FULL};
    if (!opts) opts = &defaults;
    if ((unsigned)opts->synchronous > LB_SYNC_EXTRA) return -EINVAL;
    lb_store_t *s = lb_xcalloc(1, sizeof *s);
    s->read_only = opts->read_only;
    s->opts = *opts;
    s->path = lb_strdup(path);
    int rc = open_connection(s);
    if (rc) {
        lb_store_close(&s);
        return rc == -EPROTO ? -EPROTO : LB_ESTORE;
    }
    *out = s;
    return 0;
}

void lb_store_close(lb_store_t **sp)
{
    lb_store_t *s = *sp;
    if (!s) return;
    sqlite3_finalize(s->event_insert);
    for (int i = 0; i < LB_STMT_SLOTS; i++)
        sqlite3_finalize(s->cached[i]);
    sqlite3_close(s->db);
    free(s->path);
    memset(s->secret_key, 0, sizeof s->secret_key);
    free(s);
    *sp = NULL;
}

const char *lb_store_path(const lb_store_t *s)
{
    return s->path;
}

int lb_store_reopen(lb_store_t *s)
{
    /* The new connection opens before the old one closes, so a failure leaves s as it was. */
    lb_store_t *fresh;
    int rc = lb_store_open(s->path, &s->opts, &fresh);
    if (rc) return rc;
    close_connection(s);
    s->db = fresh->db;
    s->db_id = fresh->db_id;
    s->wal_id = fresh->wal_id;
    fresh->db = NULL;
    lb_store_close(&fresh);
    return 0;
}

static int same_file(const file_id_t *a, const file_id_t *b)
{
    return a->known == b->known && (!a->known || (a->dev == b->dev && a->ino == b->ino));
}

int lb_store_file_changed(lb_store_t *s)
{
    char wal[4200];
    file_id_t now;
    int rc = file_id(s->path, &now);
    if (rc) return rc;
    if (!s->db_id.known || !same_file(&now, &s->db_id)) return 1;
    wal_path(s, wal, sizeof wal);
    if ((rc = file_id(wal, &now))) return rc;
    /* The WAL appears with the first transaction if it was not there at open; from then on
     * only this process's last connection closing removes it. */
    if (!s->wal_id.known) {
        s->wal_id = now;
        return 0;
    }
    return same_file(&now, &s->wal_id) ? 0 : 1;
}

/* fsync of the directory holding path, so a rename into it is durable. */
static int sync_parent_dir(const char *path)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/* Copies the database as this connection sees it (WAL included) into a new file at tmp. */
static int backup_to(lb_store_t *s, const char *tmp)
{
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_exec(dst, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->db, "main");
        if (!b) {
            rc = sqlite3_errcode(dst);
        } else {
            rc = sqlite3_backup_step(b, -1);
            int fin = sqlite3_backup_finish(b);
            rc = rc == SQLITE_DONE ? fin : rc;
        }
    }
    if (sqlite3_close(dst) != SQLITE_OK && rc == SQLITE_OK) rc = SQLITE_IOERR;
    return rc == SQLITE_OK ? 0 : LB_ESTORE;
}

int lb_store_restore(lb_store_t *s)
{
    if (s->read_only || !sqlite3_get_autocommit(s->db)) return -EINVAL;
    char tmp[4200], wal[4200], shm[4200], journal[4300];
    snprintf(tmp, sizeof tmp, "%s.restore", s->path);
    snprintf(journal, sizeof journal, "%s-journal", tmp);
    snprintf(shm, sizeof shm, "%s-shm", s->path);
    wal_path(s, wal, sizeof wal);
    unlink(tmp);
    unlink(journal);
    /* The data directory itself may have gone too: make it again (one level, as the daemon
     * made it at start-up). */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", s->path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0700);
    }
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    int rc = backup_to(s, tmp);
    if (rc) {
        unlink(tmp);
        unlink(journal);
        return rc;
    }
    /* WAL and shared-memory files left at the path belong to the old database (when only the
     * main file was deleted): the restored file must not pick them up. This connection keeps
     * using its own through the descriptors it holds. */
    unlink(wal);
    unlink(shm);
    if (rename(tmp, s->path)) {
        rc = -errno;
        unlink(tmp);
        return rc;
    }
    if ((rc = sync_parent_dir(s->path))) return rc;
    return lb_store_reopen(s);
}

/* Transaction control runs for every job of every group commit: prepared once, not re-parsed. */
static int run_stmt(lb_store_t *s, int slot, const char *sql)
{
    sqlite3_stmt *st = lb_store_stmt(s, slot, sql);
    if (!st) return LB_ESTORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_store_begin(lb_store_t *s)
{
    return run_stmt(s, LB_STMT_BEGIN, "BEGIN IMMEDIATE");
}

int lb_store_commit(lb_store_t *s)
{
    if (run_stmt(s, LB_STMT_COMMIT, "COMMIT") == 0) return 0;
    /* A failed COMMIT (disk full, I/O error) may leave the transaction open: end it so the
     * connection is usable when the disk recovers. */
    if (!sqlite3_get_autocommit(s->db)) exec_sql(s, "ROLLBACK");
    return LB_ESTORE;
}

int lb_store_rollback(lb_store_t *s)
{
    if (sqlite3_get_autocommit(s->db)) return 0;
    return exec_sql(s, "ROLLBACK");
}

int lb_store_savepoint(lb_store_t *s)
{
    return run_stmt(s, LB_STMT_SAVEPOINT, "SAVEPOINT job");
}

int lb_store_savepoint_release(lb_store_t *s)
{
    return run_stmt(s, LB_STMT_RELEASE, "RELEASE job");
}

int lb_store_savepoint_rollback(lb_store_t *s)
{
    if (run_stmt(s, LB_STMT_ROLLBACK_TO, "ROLLBACK TO job")) return LB_ESTORE;
    return run_stmt(s, LB_STMT_RELEASE, "RELEASE job");
}

sqlite3_stmt *lb_store_prepare(lb_store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return NULL;
    return st;
}

void lb_store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int lb_store_step_done(sqlite3_stmt *st)
{
    if (!st) return LB_ESTORE;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return LB_EEXISTS;
    return LB_ESTORE;
}

int lb_store_bus_insert(lb_store_t *s, const lb_bus_record_t *b)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO buses (region, name, description, kms_key, dlq_arn, tags,"
                           " created_ms, modified_ms, policy) VALUES (?,?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    lb_store_bind_text(st, 1, b->region);
    lb_store_bind_text(st, 2, b->name);
    lb_store_bind_text(st, 3, b->description);
    lb_store_bind_text(st, 4, b->kms_key);
    lb_store_bind_text(st, 5, b->dlq_arn);
    lb_store_bind_text(st, 6, b->tags_json);
    sqlite3_bind_int64(st, 7, b->created_ms);
    sqlite3_bind_int64(st, 8, b->modified_ms);
    lb_store_bind_text(st, 9, b->policy);
    return lb_store_step_done(st);
}

int lb_store_bus_set_policy(lb_store_t *s, const char *region, const char *name, const char *policy,
                            int64_t modified_ms)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE buses SET policy = ?, modified_ms = ? WHERE region = ? AND"
                           " name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    lb_store_bind_text(st, 1, policy);
    sqlite3_bind_int64(st, 2, modified_ms);
    lb_store_bind_text(st, 3, region);
    lb_store_bind_text(st, 4, name);
    int rc = lb_store_step_done(st);
    if (rc == 0 && sqlite3_changes(s->db) == 0) return LB_ENOTFOUND;
    return rc;
}

int lb_store_bus_get_policy(lb_store_t *s, const char *region, const char *name, char **policy)
{
    sqlite3_stmt *st;
    *policy = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT policy FROM buses WHERE region = ? AND name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return LB_ESTORE;
    lb_store_bind_text(st, 1, region);
    lb_store_bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        *policy = t ? lb_strdup((const char *)t) : NULL;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    return rc == SQLITE_DONE ? LB_ENOTFOUND : LB_ESTORE;
}

int lb_store_bus_update(lb_store_t *s, const lb_bus_record_t *b)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE buses SET description = ?, kms_key = ?, dlq_arn = ?, tags = ?,"
                           " modified_ms = ? WHERE region = ? AND name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    lb_store_bind_text(st, 1, b->description);
    lb_store_bind_text(st, 2, b->kms_key);
    lb_store_bind_text(st, 3, b->dlq_arn);
    lb_store_bind_text(st, 4, b->tags_json);
    sqlite3_bind_int64(st, 5, b->modified_ms);
    lb_store_bind_text(st, 6, b->region);
    lb_store_bind_text(st, 7, b->name);
    int rc = lb_store_step_done(st);
    if (rc == 0 && sqlite3_changes(s->db) == 0) return LB_ENOTFOUND;
    return rc;
}

int lb_store_bus_delete(lb_store_t *s, const char *region, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM buses WHERE region = ? AND name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return LB_ESTORE;
    lb_store_bind_text(st, 1, region);
    lb_store_bind_text(st, 2, name);
    int rc = lb_store_step_done(st);
    if (rc == 0 && sqlite3_changes(s->db) == 0) return LB_ENOTFOUND;
    return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? lb_strdup((const char *)t) : NULL;
}

int lb_store_buses_each(lb_store_t *s, lb_store_bus_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT region, name, description, kms_key, dlq_arn, tags, created_ms,"
                           " modified_ms, policy FROM buses ORDER BY region, name",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_bus_record_t b = {
            .region = col_dup(st, 0),
            .name = col_dup(st, 1),
            .description = col_dup(st, 2),
            .kms_key = col_dup(st, 3),
            .dlq_arn = col_dup(st, 4),
            .tags_json = col_dup(st, 5),
            .created_ms = sqlite3_column_int64(st, 6),
            .modified_ms = sqlite3_column_int64(st, 7),
            .policy = col_dup(st, 8),
        };
        ret = cb(&b, ctx);
        lb_bus_record_clear(&b);
        if (ret) break;
    }
    if (!ret && rc != SQLITE_DONE) ret = LB_ESTORE;
    sqlite3_finalize(st);
    return ret;
}

int lb_store_event_insert(lb_store_t *s, const lb_event_record_t *ev)
{
    if (!s->event_insert &&
        sqlite3_prepare_v3(s->db,
                           "INSERT INTO events (id, region, bus, ingested_ms, envelope,"
                           " trace_header) VALUES (?,?,?,?,?,?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &s->event_insert, NULL) != SQLITE_OK)
        return LB_ESTORE;
    sqlite3_stmt *st = s->event_insert;
    sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ev->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ev->bus, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ev->ingested_ms);
    sqlite3_bind_text(st, 5, ev->envelope, (int)ev->envelope_len, SQLITE_STATIC);
    if (ev->trace_header)
        sqlite3_bind_text(st, 6, ev->trace_header, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE) return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return LB_EEXISTS;
    return LB_ESTORE;
}

int lb_store_events_each(lb_store_t *s, const char *region, const char *bus, int limit,
                         lb_store_event_cb cb, void *ctx)
{
    return lb_store_events_before(s, region, bus, INT64_MAX, limit, cb, ctx);
}

int lb_store_events_before(lb_store_t *s, const char *region, const char *bus, int64_t before_seq,
                           int limit, lb_store_event_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    const char *sql =
        bus ? "SELECT " LB_STORE_EVENT_COLUMNS " FROM events"
              " WHERE region = ?1 AND bus = ?2 AND seq < ?4 ORDER BY seq DESC LIMIT ?3"
            : "SELECT " LB_STORE_EVENT_COLUMNS " FROM events"
              " WHERE region = ?1 AND seq < ?4 ORDER BY seq DESC LIMIT ?3";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return LB_ESTORE;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
    if (bus) sqlite3_bind_text(st, 2, bus, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit);
    sqlite3_bind_int64(st, 4, before_seq);
    return lb_store_event_rows(st, cb, ctx);
}

int lb_store_event_rows(sqlite3_stmt *st, lb_store_event_cb cb, void *ctx)
{
    if (!st) return LB_ESTORE;
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_event_record_t ev = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .region = (const char *)sqlite3_column_text(st, 1),
            .bus = (const char *)sqlite3_column_text(st, 2),
            .ingested_ms = sqlite3_column_int64(st, 3),
            .envelope = (const char *)sqlite3_column_text(st, 4),
            .envelope_len = (size_t)sqlite3_column_bytes(st, 4),
            .seq = sqlite3_column_int64(st, 5),
            .trace_header = (const char *)sqlite3_column_text(st, 6),
        };
        if ((ret = cb(&ev, ctx))) break;
    }
    if (!ret && rc != SQLITE_DONE) ret = LB_ESTORE;
    sqlite3_finalize(st);
    return ret;
}

int lb_store_event_count(lb_store_t *s, int64_t *count)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM events", -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *count = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : LB_ESTORE;
}

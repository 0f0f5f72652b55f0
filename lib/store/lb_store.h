/* The durable store: one SQLite database in WAL mode holding buses, events and (later) rules,
 * targets and deliveries. A lb_store_t is one connection and is used by one thread at a time:
 * the daemon gives its single writer thread a read-write store and the loop thread a read-only
 * one. Schema changes are numbered migrations applied in order on open. */
#ifndef LB_STORE_H
#define LB_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lb_store lb_store_t;

typedef enum {
    LB_SYNC_OFF = 0,
    LB_SYNC_NORMAL = 1,
    LB_SYNC_FULL = 2,
    LB_SYNC_EXTRA = 3,
} lb_sync_mode_t;

typedef struct {
    int read_only;              /* open an existing database for reading only */
    lb_sync_mode_t synchronous; /* durability of each commit; FULL by default */
    size_t cache_bytes;         /* SQLite's page cache for this connection; 0: SQLite's default */
} lb_store_options_t;

/* An event bus as stored. Strings are owned by whoever filled the struct. */
typedef struct {
    char *region;
    char *name;
    char *description; /* may be NULL */
    char *kms_key;     /* may be NULL */
    char *dlq_arn;     /* may be NULL */
    char *tags_json;   /* JSON array of {"Key","Value"}; may be NULL */
    char *policy;      /* the resource policy (PutPermission) as JSON text; may be NULL */
    int64_t created_ms;
    int64_t modified_ms;
} lb_bus_record_t;

void lb_bus_record_clear(lb_bus_record_t *b);

/* Opens (creating if needed) the database at path and migrates it to the current schema.
 * -EPROTO: the database was written by a newer LocalBridge (a schema this build does not know);
 * LB_ESTORE: any other failure. */
int lb_store_open(const char *path, const lb_store_options_t *opts, lb_store_t **out);
void lb_store_close(lb_store_t **s);
/* The path the store was opened with. */
const char *lb_store_path(const lb_store_t *s);
/* Closes the connection and opens it again on the same path with the same options (after another
 * connection restored the file there). The lb_store_t stays the same object. */
int lb_store_reopen(lb_store_t *s);

/* A database deleted (or replaced) while open goes on working through its open descriptors, and
 * is gone at the next start. lb_store_file_changed: 1 if the path (or its WAL) no longer names
 * the file this connection opened, 0 if it does, -errno if that cannot be told. Two stat()s.
 * lb_store_restore: writes the database as this read-write connection sees it back to its path
 * (backup API into a temporary file, then rename and directory fsync), removes WAL and
 * shared-memory files at the path that belonged to the old file, and reopens the connection on
 * the restored one. Call it outside any transaction. 0, or a negative code with the database
 * still open (on the deleted file). */
int lb_store_file_changed(lb_store_t *s);
int lb_store_restore(lb_store_t *s);

/* The key connection secrets are sealed with (lb_seal.h), a copy kept with the store; NULL
 * removes it (secrets are then written in plain, as tests without a key do). */
void lb_store_set_secret_key(lb_store_t *s, const unsigned char *key32);
const unsigned char *lb_store_secret_key(const lb_store_t *s);
/* Copies the WAL into the database file and truncates the WAL: after secrets were rewritten, no
 * page holding them in plain is left in either file. Outside any transaction. */
int lb_store_checkpoint(lb_store_t *s);

/* The connection itself, for sibling store modules (lb_connections, rules, deliveries) that keep
 * their SQL beside their own model. Only valid on the thread that owns the store. */
struct sqlite3 *lb_store_db(lb_store_t *s);

/* Statements sibling modules run on every event or delivery, prepared once per connection and
 * reused: lb_store_stmt() returns the statement for slot (preparing sql the first time), reset
 * and with its bindings cleared. NULL if it cannot be prepared. */
enum {
    LB_STMT_DELIVERY_INSERT,
    LB_STMT_DELIVERY_DELETE,
    LB_STMT_DELIVERY_RESCHEDULE,
    LB_STMT_DELIVERY_RESCHEDULE_ASYNC,
    /* An archived event, and its archive's counters, written with every archived event. */
    LB_STMT_ARCHIVE_EVENT_INSERT,
    LB_STMT_ARCHIVE_COUNT,
    /* The attempt log (lb_attempts), written with every outcome. */
    LB_STMT_ATTEMPT_INSERT,
    LB_STMT_ATTEMPT_PRUNE,
    /* Built-in queues: every send, receive, delete and visibility change. */
    LB_STMT_SQS_INSERT,
    LB_STMT_SQS_RECEIVE,
    LB_STMT_SQS_DELETE,
    LB_STMT_SQS_VISIBILITY,
    /* The store's own transaction statements: every group commit runs them. */
    LB_STMT_BEGIN,
    LB_STMT_COMMIT,
    LB_STMT_SAVEPOINT,
    LB_STMT_RELEASE,
    LB_STMT_ROLLBACK_TO,
    LB_STMT_SLOTS
};
struct sqlite3_stmt *lb_store_stmt(lb_store_t *s, int slot, const char *sql);

/* One-off statements for sibling store modules. lb_store_prepare: NULL if sql does not prepare.
 * lb_store_bind_text binds v, or SQL NULL for a NULL v, without copying it (v must outlive the
 * step). lb_store_step_done steps a statement that returns no rows and finalizes it: 0, LB_EEXISTS
 * for a constraint violation, else LB_ESTORE (also for a NULL st, so a failed prepare flows
 * through). */
struct sqlite3_stmt *lb_store_prepare(lb_store_t *s, const char *sql);
void lb_store_bind_text(struct sqlite3_stmt *st, int i, const char *v);
int lb_store_step_done(struct sqlite3_stmt *st);

/* The latest schema version this build knows, and the one the open database has. */
int lb_store_schema_version(lb_store_t *s);
int lb_store_latest_schema_version(void);
/* 1 if the database could only be opened read-only (a read-only data directory or file): writes
 * will fail until that changes. */
int lb_store_read_only(lb_store_t *s);
/* The SQLite error text of the last failure on this connection (never NULL). */
const char *lb_store_errmsg(lb_store_t *s);

/* Transactions. A savepoint nests inside a transaction so one failing job in a group commit
 * rolls back alone. */
int lb_store_begin(lb_store_t *s);
int lb_store_commit(lb_store_t *s);
int lb_store_rollback(lb_store_t *s);
int lb_store_savepoint(lb_store_t *s);
int lb_store_savepoint_release(lb_store_t *s);
int lb_store_savepoint_rollback(lb_store_t *s);

/* Buses. insert: LB_EEXISTS if (region,name) exists. update/delete: LB_ENOTFOUND if absent. */
int lb_store_bus_insert(lb_store_t *s, const lb_bus_record_t *bus);
int lb_store_bus_update(lb_store_t *s, const lb_bus_record_t *bus);
int lb_store_bus_delete(lb_store_t *s, const char *region, const char *name);
/* A bus's resource policy: update leaves it alone, so a policy change and an UpdateEventBus
 * committed in either order both keep their part. set: LB_ENOTFOUND if the bus has no row; get:
 * *policy malloc'd (NULL: none), LB_ENOTFOUND if the bus has no row. */
int lb_store_bus_set_policy(lb_store_t *s, const char *region, const char *name, const char *policy,
                            int64_t modified_ms);
int lb_store_bus_get_policy(lb_store_t *s, const char *region, const char *name, char **policy);
typedef int (*lb_store_bus_cb)(const lb_bus_record_t *bus, void *ctx);
/* Calls cb for every bus in (region, name) order; a non-zero return from cb stops the walk and
 * is returned. */
int lb_store_buses_each(lb_store_t *s, lb_store_bus_cb cb, void *ctx);

/* Events. The envelope is the JSON text delivered to targets. */
typedef struct {
    int64_t seq; /* store order, filled when reading; ignored by insert */
    const char *id;
    const char *region;
    const char *bus;
    int64_t ingested_ms;
    const char *envelope;
    size_t envelope_len;
    const char *trace_header; /* the entry's TraceHeader, or NULL */
} lb_event_record_t;

int lb_store_event_insert(lb_store_t *s, const lb_event_record_t *ev);
typedef int (*lb_store_event_cb)(const lb_event_record_t *ev, void *ctx);
/* Newest first; bus NULL means every bus of the region. */
int lb_store_events_each(lb_store_t *s, const char *region, const char *bus, int limit,
                         lb_store_event_cb cb, void *ctx);
/* The same, starting below seq before_seq (INT64_MAX: from the newest): how a listing pages. */
int lb_store_events_before(lb_store_t *s, const char *region, const char *bus, int64_t before_seq,
                           int limit, lb_store_event_cb cb, void *ctx);
int lb_store_event_count(lb_store_t *s, int64_t *count);
/* For sibling store modules that select events their own way: the columns to select, in this
 * order, and the walk over the rows of such a statement (finalized here; a NULL st, a failed
 * prepare, is LB_ESTORE). */
#define LB_STORE_EVENT_COLUMNS "id, region, bus, ingested_ms, envelope, seq, trace_header"
int lb_store_event_rows(struct sqlite3_stmt *st, lb_store_event_cb cb, void *ctx);

#endif

/* Raw SQLite ceiling for `make bench`: what the disk and SQLite allow for the daemon's event rows,
 * with nothing else in the way (no HTTP, no JSON, no writer thread).
 *
 *   bench_sqlite --dir DIR [--batch ROWS_PER_COMMIT] [--seconds S] [--synchronous full|normal|off]
 *                [--savepoints]
 *
 * Creates DIR/ceiling.db with the same events table as lib/lb_store.c migration 1, in WAL mode
 * with the given synchronous level (default full, as the daemon), then inserts ~300-byte envelopes
 * with fresh UUID ids, BATCH rows per transaction (BEGIN IMMEDIATE .. COMMIT, one fsync each), for
 * S seconds (after an untimed pre-fill). --savepoints wraps each row in SAVEPOINT/RELEASE as the
 * daemon's writer does per request. Prints one JSON object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench_sqlite: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench_sqlite: %s: %s\n", sql, err);
        exit(1);
    }
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void uuid(char out[37])
{
    uint64_t a = rnd(), b = rnd();
    snprintf(out, 37, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff, (unsigned)(b >> 52) & 0xfff,
             (unsigned long long)(b & 0xffffffffffffull));
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *sync = "full";
    int batch = 10, savepoints = 0;
    double seconds = 1.5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--savepoints")) {
            savepoints = 1;
            continue;
        }
        if (i + 1 >= argc) goto usage;
        if (!strcmp(argv[i], "--dir"))
            dir = argv[++i];
        else if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--synchronous"))
            sync = argv[++i];
        else
            goto usage;
    }
    if (!dir || batch < 1) goto usage;

    char path[4096];
    snprintf(path, sizeof path, "%s/ceiling.db", dir);
    unlink(path);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "bench_sqlite: cannot open %s\n", path);
        return 1;
    }
    exec(db, "PRAGMA journal_mode = WAL");
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous = %s", sync);
    exec(db, pragma);
    exec(db, "CREATE TABLE events ("
             "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
             "  region TEXT NOT NULL, bus TEXT NOT NULL, ingested_ms INTEGER NOT NULL,"
             "  envelope TEXT NOT NULL);"
             "CREATE INDEX events_by_bus ON events (region, bus, seq);");
    sqlite3_stmt *ins;
    must(db,
         sqlite3_prepare_v2(db,
                            "INSERT INTO events (id, region, bus, ingested_ms, envelope)"
                            " VALUES (?,?,?,?,?)",
                            -1, &ins, NULL),
         "prepare");

    char id[37], env[1024];
    uint64_t rows = 0, commits = 0;
    int env_len = 0;
    /* Untimed pre-fill, one transaction larger than the 1000-page autocheckpoint, then a
     * checkpoint: the WAL file now exists at full size and later commits overwrite it in place,
     * as in a daemon that has been running a while (a fresh, growing WAL costs an extra metadata
     * journal commit per fsync and would understate the ceiling). */
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < 20000; i++) {
        uuid(id);
        env_len = snprintf(env, sizeof env, "{\"prefill\":%d,\"pad\":\"%0280d\"}", i, 0);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, "us-east-1", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, "default", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, 0);
        sqlite3_bind_text(ins, 5, env, env_len, SQLITE_STATIC);
        must(db, sqlite3_step(ins), "prefill");
        sqlite3_reset(ins);
    }
    exec(db, "COMMIT");
    exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
    double t0 = now_s(), t;
    do {
        exec(db, "BEGIN IMMEDIATE");
        for (int i = 0; i < batch; i++) {
            uuid(id);
            long long ms = (long long)(now_s() * 1000);
            env_len =
                snprintf(env, sizeof env,
                         "{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":\"bench.event\","
                         "\"source\":\"bench\",\"account\":\"000000000000\","
                         "\"time\":\"2024-01-01T00:00:00Z\",\"region\":\"us-east-1\","
                         "\"resources\":[],\"detail\":{\"ts\":1700000000000000000,"
                         "\"seq\":%llu,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}",
                         id, (unsigned long long)rows);
            if (savepoints) exec(db, "SAVEPOINT r");
            sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 2, "us-east-1", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, "default", -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins, 4, ms);
            sqlite3_bind_text(ins, 5, env, env_len, SQLITE_STATIC);
            must(db, sqlite3_step(ins), "insert");
            sqlite3_reset(ins);
            if (savepoints) exec(db, "RELEASE r");
            rows++;
        }
        exec(db, "COMMIT");
        commits++;
        t = now_s() - t0;
    } while (t < seconds);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    printf("{\"batch\":%d,\"synchronous\":\"%s\",\"savepoints\":%s,\"seconds\":%.3f,"
           "\"rows\":%llu,\"commits\":%llu,\"rows_per_s\":%.1f,\"commits_per_s\":%.1f,"
           "\"envelope_bytes\":%d}\n",
           batch, sync, savepoints ? "true" : "false", t, (unsigned long long)rows,
           (unsigned long long)commits, (double)rows / t, (double)commits / t, env_len);
    unlink(path);
    snprintf(path, sizeof path, "%s/ceiling.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/ceiling.db-shm", dir);
    unlink(path);
    return 0;
usage:
    fprintf(stderr, "usage: bench_sqlite --dir DIR [--batch N] [--seconds S] "
                    "[--synchronous full|normal|off] [--savepoints]\n");
    return 2;
}

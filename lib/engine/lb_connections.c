#include "lb_connections.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lb_connections_internal.h"
#include "lb_seal.h"
#include "lb_sorted.h"
#include "lb_util.h"

struct lb_connections {
    lb_sorted_t v[2]; /* indexed by lb_conn_kind_t: lb_conn_entry_t, by (region, name) */
};

#define ENTRY(r, kind, i)                                                                          \
    ((lb_conn_entry_t *)lb_sorted_at(&(r)->v[kind], sizeof(lb_conn_entry_t), i))

/* EventBridge refreshes an OAuth token this long before it expires. */
#define OAUTH_REFRESH_MARGIN_MS 60000

int lb_connections_new(lb_connections_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    return 0;
}

static void entry_clear(lb_conn_entry_t *e)
{
    free(e->region);
    free(e->name);
    lb_json_doc_free(&e->doc);
    if (e->token) {
        /* Tokens are credentials: do not leave them in freed memory. */
        memset(e->token, 0, strlen(e->token));
        free(e->token);
    }
    memset(e, 0, sizeof *e);
}

void lb_connections_free(lb_connections_t **r)
{
    if (!r || !*r) return;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < (*r)->v[k].n; i++)
            entry_clear(ENTRY(*r, k, i));
        lb_sorted_free(&(*r)->v[k]);
    }
    free(*r);
    *r = NULL;
}

const char *lb_conn_doc_str(const lb_json_t *doc, const char *key)
{
    return lb_json_get_str(doc, key);
}

static int key_cmp(const void *elem, const void *key)
{
    const lb_conn_entry_t *e = elem;
    return lb_region_name_cmp(e->region, e->name, key);
}

size_t lb_conn_lower_bound(const lb_connections_t *r, lb_conn_kind_t kind, const char *region,
                           const char *name)
{
    return lb_sorted_lower_bound(&r->v[kind], sizeof(lb_conn_entry_t),
                                 &(lb_region_name_t){region, name}, key_cmp);
}

lb_conn_entry_t *lb_conn_entry_find(const lb_connections_t *r, lb_conn_kind_t kind,
                                    const char *region, const char *name)
{
    if (!region || !name) return NULL;
    return lb_sorted_find(&r->v[kind], sizeof(lb_conn_entry_t), &(lb_region_name_t){region, name},
                          key_cmp);
}

const lb_json_t *lb_conn_find(const lb_connections_t *r, lb_conn_kind_t kind, const char *region,
                              const char *name)
{
    const lb_conn_entry_t *e = lb_conn_entry_find(r, kind, region, name);
    return e ? lb_conn_entry_doc(e) : NULL;
}

const lb_json_t *lb_conn_at(const lb_connections_t *r, lb_conn_kind_t kind, size_t i,
                            const char **region_out)
{
    if (i >= r->v[kind].n) return NULL;
    if (region_out) *region_out = ENTRY(r, kind, i)->region;
    return lb_conn_entry_doc(ENTRY(r, kind, i));
}

int lb_conn_put(lb_connections_t *r, lb_conn_kind_t kind, const char *region, const lb_json_t *doc)
{
    const char *name = lb_conn_doc_str(doc, "Name");
    if (!region || !name || doc->type != LB_JSON_OBJECT) return -EINVAL;
    lb_json_doc_t *copy = lb_json_doc_new();
    lb_json_doc_set_root(copy, lb_json_copy(copy, doc));
    lb_conn_entry_t *e = lb_conn_entry_find(r, kind, region, name);
    if (e) {
        lb_json_doc_free(&e->doc);
        e->doc = copy;
        if (kind == LB_CONN_CONNECTION) {
            /* New auth parameters need a new token. */
            if (e->token) memset(e->token, 0, strlen(e->token));
            free(e->token);
            e->token = NULL;
            e->token_expires_ms = 0;
            e->token_failed = 0;
        }
        return 0;
    }
    e = lb_sorted_insert_at(&r->v[kind], sizeof *e, lb_conn_lower_bound(r, kind, region, name));
    memset(e, 0, sizeof *e);
    e->region = lb_strdup(region);
    e->name = lb_strdup(name);
    e->doc = copy;
    return 0;
}

int lb_conn_remove(lb_connections_t *r, lb_conn_kind_t kind, const char *region, const char *name)
{
    lb_conn_entry_t *e = lb_conn_entry_find(r, kind, region, name);
    if (!e) return LB_ENOTFOUND;
    size_t i = (size_t)(e - ENTRY(r, kind, 0));
    entry_clear(e);
    lb_sorted_erase_at(&r->v[kind], sizeof *e, i);
    return 0;
}

const char *lb_connection_state(const lb_connections_t *r, const char *region, const char *name)
{
    const lb_conn_entry_t *e = lb_conn_entry_find(r, LB_CONN_CONNECTION, region, name);
    if (!e) return NULL;
    const char *state = lb_conn_doc_str(lb_conn_entry_doc(e), "ConnectionState");
    const char *type = lb_conn_doc_str(lb_conn_entry_doc(e), "AuthorizationType");
    if (!state) return "AUTHORIZED";
    if (strcmp(state, "AUTHORIZING") == 0 && type &&
        strcmp(type, "OAUTH_CLIENT_CREDENTIALS") == 0) {
        if (e->token_failed) return "DEAUTHORIZED";
        if (e->token) return "AUTHORIZED";
    }
    return state;
}

int lb_connection_arn_name(const char *arn, char *out, size_t outlen)
{
    /* arn:aws...:events:REGION:ACCOUNT:connection/NAME/ID */
    if (!arn || strncmp(arn, "arn:aws", 7) != 0) return -EINVAL;
    const char *p = strstr(arn, ":connection/");
    if (!p) return -EINVAL;
    p += strlen(":connection/");
    const char *slash = strchr(p, '/');
    if (!slash || slash == p || !slash[1] || strchr(slash + 1, '/')) return -EINVAL;
    size_t len = (size_t)(slash - p);
    if (len >= outlen) return -EINVAL;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

const char *lb_apidest_state(const lb_connections_t *r, const char *region, const char *name)
{
    const lb_json_t *doc = lb_conn_find(r, LB_CONN_API_DESTINATION, region, name);
    if (!doc) return NULL;
    const char *conn_arn = lb_conn_doc_str(doc, "ConnectionArn");
    char conn_name[256];
    if (!conn_arn || lb_connection_arn_name(conn_arn, conn_name, sizeof conn_name))
        return "INACTIVE";
    const lb_json_t *conn = lb_conn_find(r, LB_CONN_CONNECTION, region, conn_name);
    const char *conn_state = lb_connection_state(r, region, conn_name);
    const char *actual_arn = conn ? lb_conn_doc_str(conn, "ConnectionArn") : NULL;
    if (!actual_arn || strcmp(actual_arn, conn_arn) != 0) return "INACTIVE";
    return conn_state && strcmp(conn_state, "AUTHORIZED") == 0 ? "ACTIVE" : "INACTIVE";
}

/* ---- Store ---- */

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : LB_ESTORE;
}

/* ---- Secrets at rest: a connection's definition is sealed with the store's key. ---- */

/* What a connection's ciphertext is bound to: moved to another row it does not open. */
static void seal_aad(const char *region, const char *name, lb_buf_t *aad)
{
    lb_buf_printf(aad, "connection/%s/%s", region, name);
}

/* The text to store for a definition: sealed when the store has a key (*owned then holds it). */
static const char *stored_json(lb_store_t *s, lb_conn_kind_t kind, const char *region,
                               const char *name, const char *json, char **owned)
{
    *owned = NULL;
    const unsigned char *key = lb_store_secret_key(s);
    if (kind != LB_CONN_CONNECTION || !key) return json;
    lb_buf_t aad = {0};
    seal_aad(region, name, &aad);
    int rc = lb_seal(key, aad.data, json, strlen(json), owned);
    lb_buf_free(&aad);
    return rc == 0 ? *owned : NULL;
}

/* A stored definition in plain: opened when sealed. NULL if it cannot be (no key, wrong key). */
static char *plain_json(lb_store_t *s, const char *region, const char *name, const char *json)
{
    if (!lb_sealed(json)) return lb_strdup(json);
    const unsigned char *key = lb_store_secret_key(s);
    if (!key) return NULL;
    lb_buf_t aad = {0};
    seal_aad(region, name, &aad);
    char *plain = NULL;
    size_t len;
    int rc = lb_seal_open(key, aad.data, json, &plain, &len);
    lb_buf_free(&aad);
    return rc == 0 ? plain : NULL;
}

static void free_secret(char *s)
{
    if (s) memset(s, 0, strlen(s));
    free(s);
}

int lb_conn_store_seal_all(lb_store_t *s, size_t *sealed)
{
    *sealed = 0;
    if (!lb_store_secret_key(s)) return 0;
    sqlite3 *db = lb_store_db(s);
    sqlite3_stmt *st;
    if (prepare(db, "SELECT region, name, json FROM connections", &st)) return LB_ESTORE;
    char **rows = NULL;
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *json = (const char *)sqlite3_column_text(st, 2);
        if (!json || lb_sealed(json)) continue;
        rows = lb_xrealloc(rows, (n + 3) * sizeof *rows);
        rows[n++] = lb_strdup((const char *)sqlite3_column_text(st, 0));
        rows[n++] = lb_strdup((const char *)sqlite3_column_text(st, 1));
        rows[n++] = lb_strdup(json);
    }
    sqlite3_finalize(st);
    /* secure_delete: the plain text the rows held is overwritten with zeros, not left in free
     * space. */
    int rc = sqlite3_exec(db, "PRAGMA secure_delete = ON; BEGIN IMMEDIATE", NULL, NULL, NULL)
                 ? LB_ESTORE
                 : 0;
    for (size_t i = 0; rc == 0 && i < n; i += 3) {
        char *owned;
        const char *text =
            stored_json(s, LB_CONN_CONNECTION, rows[i], rows[i + 1], rows[i + 2], &owned);
        if (!text ||
            prepare(db, "UPDATE connections SET json = ? WHERE region = ? AND name = ?", &st)) {
            free(owned);
            rc = LB_ESTORE;
            break;
        }
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rows[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, rows[i + 1], -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : LB_ESTORE;
        sqlite3_finalize(st);
        free(owned);
        if (rc == 0) (*sealed)++;
    }
    rc = sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) || rc ? LB_ESTORE : 0;
    sqlite3_exec(db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free_secret(rows[i]);
    free(rows);
    return rc;
}

int lb_conn_store_insert(lb_store_t *s, lb_conn_kind_t kind, const char *region, const char *name,
                         const char *json, int64_t created_ms, int64_t modified_ms)
{
    char *owned;
    json = stored_json(s, kind, region, name, json, &owned);
    if (!json) return LB_ESTORE;
    sqlite3 *db = lb_store_db(s);
    sqlite3_stmt *st;
    const char *sql = kind == LB_CONN_CONNECTION
                          ? "INSERT INTO connections (region, name, json, created_ms, "
                            "modified_ms) VALUES (?, ?, ?, ?, ?)"
                          : "INSERT INTO api_destinations (region, name, json, created_ms, "
                            "modified_ms) VALUES (?, ?, ?, ?, ?)";
    if (prepare(db, sql, &st)) {
        free(owned);
        return LB_ESTORE;
    }
    sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, created_ms);
    sqlite3_bind_int64(st, 5, modified_ms);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(owned);
    if (rc == SQLITE_DONE) return 0;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? LB_EEXISTS : LB_ESTORE;
}

int lb_conn_store_update(lb_store_t *s, lb_conn_kind_t kind, const char *region, const char *name,
                         const char *json, int64_t modified_ms)
{
    char *owned;
    json = stored_json(s, kind, region, name, json, &owned);
    if (!json) return LB_ESTORE;
    sqlite3 *db = lb_store_db(s);
    sqlite3_stmt *st;
    const char *sql = kind == LB_CONN_CONNECTION
                          ? "UPDATE connections SET json = ?, modified_ms = ? "
                            "WHERE region = ? AND name = ?"
                          : "UPDATE api_destinations SET json = ?, modified_ms = ? "
                            "WHERE region = ? AND name = ?";
    if (prepare(db, sql, &st)) {
        free(owned);
        return LB_ESTORE;
    }
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, modified_ms);
    sqlite3_bind_text(st, 3, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(owned);
    if (rc != SQLITE_DONE) return LB_ESTORE;
    return sqlite3_changes(db) ? 0 : LB_ENOTFOUND;
}

int lb_conn_store_delete(lb_store_t *s, lb_conn_kind_t kind, const char *region, const char *name)
{
    sqlite3 *db = lb_store_db(s);
    sqlite3_stmt *st;
    const char *sql = kind == LB_CONN_CONNECTION
                          ? "DELETE FROM connections WHERE region = ? AND name = ?"
                          : "DELETE FROM api_destinations WHERE region = ? AND name = ?";
    if (prepare(db, sql, &st)) return LB_ESTORE;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return LB_ESTORE;
    return sqlite3_changes(db) ? 0 : LB_ENOTFOUND;
}

static int load_kind(lb_connections_t *r, lb_store_t *s, lb_conn_kind_t kind, size_t *skipped)
{
    sqlite3_stmt *st;
    const char *sql = kind == LB_CONN_CONNECTION
                          ? "SELECT region, name, json FROM connections ORDER BY region, name"
                          : "SELECT region, name, json FROM api_destinations "
                            "ORDER BY region, name";
    if (prepare(lb_store_db(s), sql, &st)) return LB_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *region = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *stored = (const char *)sqlite3_column_text(st, 2);
        char *json = stored && region && name ? plain_json(s, region, name, stored) : NULL;
        lb_json_doc_t *doc = NULL;
        if (json) lb_json_parse(json, strlen(json), LB_JSON_REQUEST_MAX_DEPTH, &doc, NULL);
        free_secret(json);
        const char *doc_name = lb_conn_doc_str(lb_json_doc_root(doc), "Name");
        if (!region || !name || !doc_name || strcmp(doc_name, name) != 0 ||
            lb_conn_put(r, kind, region, lb_json_doc_root(doc))) {
            if (skipped) (*skipped)++;
        }
        lb_json_doc_free(&doc);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

int lb_connections_load(lb_connections_t *r, lb_store_t *s, size_t *skipped)
{
    if (skipped) *skipped = 0;
    int rc = load_kind(r, s, LB_CONN_CONNECTION, skipped);
    return rc ? rc : load_kind(r, s, LB_CONN_API_DESTINATION, skipped);
}

/* ---- OAuth token state ---- */

int lb_connections_oauth_set_token(lb_connections_t *r, const char *region,
                                   const char *connection_name, const char *access_token,
                                   int64_t expires_ms)
{
    lb_conn_entry_t *e = lb_conn_entry_find(r, LB_CONN_CONNECTION, region, connection_name);
    if (!e) return -ENOENT;
    const char *type = lb_conn_doc_str(lb_conn_entry_doc(e), "AuthorizationType");
    if (!type || strcmp(type, "OAUTH_CLIENT_CREDENTIALS") != 0) return -EINVAL;
    if (e->token) memset(e->token, 0, strlen(e->token));
    free(e->token);
    e->token = access_token ? lb_strdup(access_token) : NULL;
    e->token_expires_ms = access_token ? expires_ms : 0;
    e->token_failed = access_token == NULL;
    return 0;
}

int lb_connections_oauth_due(const lb_connections_t *r, int64_t now_ms, lb_oauth_due_cb cb,
                             void *ctx)
{
    for (size_t i = 0; i < r->v[LB_CONN_CONNECTION].n; i++) {
        const lb_conn_entry_t *e = ENTRY(r, LB_CONN_CONNECTION, i);
        const char *type = lb_conn_doc_str(lb_conn_entry_doc(e), "AuthorizationType");
        const char *state = lb_conn_doc_str(lb_conn_entry_doc(e), "ConnectionState");
        if (!type || strcmp(type, "OAUTH_CLIENT_CREDENTIALS") != 0) continue;
        if (state && strcmp(state, "DEAUTHORIZED") == 0) continue;
        if (e->token_failed) continue;
        if (e->token &&
            (e->token_expires_ms <= 0 || e->token_expires_ms - OAUTH_REFRESH_MARGIN_MS > now_ms))
            continue;
        int rc = cb(e->region, e->name, ctx);
        if (rc) return rc;
    }
    return 0;
}

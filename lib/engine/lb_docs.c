/* Resources kept as JSON documents. See lb_docs.h. */
#include "lb_docs.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lb_sorted.h"
#include "lb_util.h"

typedef struct {
    char *region, *name;
    lb_json_doc_t *doc;
    int mark;
} entry_t;

struct lb_docs {
    lb_sorted_t v[LB_DOC_KINDS]; /* entry_t, by (region, name) */
};

#define ENTRY(d, kind, i) ((entry_t *)lb_sorted_at(&(d)->v[kind], sizeof(entry_t), i))

/* The kind column of the documents table. */
static const char *const kind_names[LB_DOC_KINDS] = {"event-source", "endpoint"};

int lb_docs_new(lb_docs_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    return 0;
}

static void entry_clear(entry_t *e)
{
    free(e->region);
    free(e->name);
    lb_json_doc_free(&e->doc);
}

void lb_docs_free(lb_docs_t **dp)
{
    lb_docs_t *d = *dp;
    if (!d) return;
    for (int k = 0; k < LB_DOC_KINDS; k++) {
        for (size_t i = 0; i < d->v[k].n; i++)
            entry_clear(ENTRY(d, k, i));
        lb_sorted_free(&d->v[k]);
    }
    free(d);
    *dp = NULL;
}

static int key_cmp(const void *elem, const void *key)
{
    const entry_t *e = elem;
    return lb_region_name_cmp(e->region, e->name, key);
}

size_t lb_docs_lower_bound(const lb_docs_t *d, lb_doc_kind_t kind, const char *region,
                           const char *name)
{
    return lb_sorted_lower_bound(&d->v[kind], sizeof(entry_t), &(lb_region_name_t){region, name},
                                 key_cmp);
}

static entry_t *find(const lb_docs_t *d, lb_doc_kind_t kind, const char *region, const char *name)
{
    if (!region || !name || (unsigned)kind >= LB_DOC_KINDS) return NULL;
    return lb_sorted_find(&d->v[kind], sizeof(entry_t), &(lb_region_name_t){region, name}, key_cmp);
}

const lb_json_t *lb_docs_find(const lb_docs_t *d, lb_doc_kind_t kind, const char *region,
                              const char *name)
{
    const entry_t *e = find(d, kind, region, name);
    return e ? lb_json_doc_root(e->doc) : NULL;
}

int lb_docs_put(lb_docs_t *d, lb_doc_kind_t kind, const char *region, const lb_json_t *doc)
{
    const char *name = lb_json_get_str(doc, "Name");
    if (!region || !name || doc->type != LB_JSON_OBJECT || (unsigned)kind >= LB_DOC_KINDS)
        return -EINVAL;
    lb_json_doc_t *copy = lb_json_doc_new();
    lb_json_doc_set_root(copy, lb_json_copy(copy, doc));
    entry_t *e = find(d, kind, region, name);
    if (e) {
        lb_json_doc_free(&e->doc);
        e->doc = copy;
        return 0;
    }
    e = lb_sorted_insert_at(&d->v[kind], sizeof *e, lb_docs_lower_bound(d, kind, region, name));
    *e = (entry_t){.region = lb_strdup(region), .name = lb_strdup(name), .doc = copy};
    return 0;
}

int lb_docs_remove(lb_docs_t *d, lb_doc_kind_t kind, const char *region, const char *name)
{
    entry_t *e = find(d, kind, region, name);
    if (!e) return LB_ENOTFOUND;
    size_t i = (size_t)(e - ENTRY(d, kind, 0));
    entry_clear(e);
    lb_sorted_erase_at(&d->v[kind], sizeof *e, i);
    return 0;
}

const lb_json_t *lb_docs_at(const lb_docs_t *d, lb_doc_kind_t kind, size_t i,
                            const char **region_out)
{
    if ((unsigned)kind >= LB_DOC_KINDS || i >= d->v[kind].n) return NULL;
    if (region_out) *region_out = ENTRY(d, kind, i)->region;
    return lb_json_doc_root(ENTRY(d, kind, i)->doc);
}

size_t lb_docs_count(const lb_docs_t *d, lb_doc_kind_t kind)
{
    return (unsigned)kind < LB_DOC_KINDS ? d->v[kind].n : 0;
}

int lb_docs_mark(const lb_docs_t *d, lb_doc_kind_t kind, const char *region, const char *name)
{
    const entry_t *e = find(d, kind, region, name);
    return e ? e->mark : 0;
}

int lb_docs_set_mark(lb_docs_t *d, lb_doc_kind_t kind, const char *region, const char *name,
                     int mark)
{
    entry_t *e = find(d, kind, region, name);
    if (!e) return LB_ENOTFOUND;
    e->mark = mark;
    return 0;
}

/* ---- store ---- */

static int run(lb_store_t *s, const char *sql, lb_doc_kind_t kind, const char *region,
               const char *name, const char *json)
{
    sqlite3 *db = lb_store_db(s);
    sqlite3_stmt *st;
    if ((unsigned)kind >= LB_DOC_KINDS) return -EINVAL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return LB_ESTORE;
    sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    if (json) sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? LB_EEXISTS : LB_ESTORE;
}

int lb_docs_store_insert(lb_store_t *s, lb_doc_kind_t kind, const char *region, const char *name,
                         const char *json)
{
    return run(s, "INSERT INTO documents (kind, region, name, json) VALUES (?, ?, ?, ?)", kind,
               region, name, json);
}

int lb_docs_store_put(lb_store_t *s, lb_doc_kind_t kind, const char *region, const char *name,
                      const char *json)
{
    return run(s, "INSERT OR REPLACE INTO documents (kind, region, name, json) VALUES (?, ?, ?, ?)",
               kind, region, name, json);
}

int lb_docs_store_delete(lb_store_t *s, lb_doc_kind_t kind, const char *region, const char *name)
{
    int rc = run(s, "DELETE FROM documents WHERE kind = ? AND region = ? AND name = ?", kind,
                 region, name, NULL);
    if (rc) return rc;
    return sqlite3_changes(lb_store_db(s)) ? 0 : LB_ENOTFOUND;
}

static lb_doc_kind_t kind_of(const char *name)
{
    for (int k = 0; k < LB_DOC_KINDS; k++)
        if (name && strcmp(kind_names[k], name) == 0) return (lb_doc_kind_t)k;
    return LB_DOC_KINDS;
}

int lb_docs_load(lb_docs_t *d, lb_store_t *s, size_t *skipped)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(lb_store_db(s),
                           "SELECT kind, region, name, json FROM documents ORDER BY kind, region,"
                           " name",
                           -1, &st, NULL) != SQLITE_OK)
        return LB_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lb_doc_kind_t kind = kind_of((const char *)sqlite3_column_text(st, 0));
        const char *region = (const char *)sqlite3_column_text(st, 1);
        const char *name = (const char *)sqlite3_column_text(st, 2);
        const char *json = (const char *)sqlite3_column_text(st, 3);
        lb_json_doc_t *doc = NULL;
        if (json)
            lb_json_parse(json, (size_t)sqlite3_column_bytes(st, 3), LB_JSON_REQUEST_MAX_DEPTH,
                          &doc, NULL);
        const char *doc_name = lb_json_get_str(lb_json_doc_root(doc), "Name");
        if (kind == LB_DOC_KINDS || !region || !name || !doc_name || strcmp(doc_name, name) != 0 ||
            lb_docs_put(d, kind, region, lb_json_doc_root(doc))) {
            if (skipped) (*skipped)++;
        }
        lb_json_doc_free(&doc);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : LB_ESTORE;
}

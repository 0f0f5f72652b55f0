/* Resources kept as one JSON definition document each, in memory and in the store's documents
 * table: partner event sources and global endpoints. Like every registry of the engine, memory
 * changes only after the store committed; the loop thread reads it, the writer thread runs the
 * store functions.
 *
 * Documents are keyed by (kind, region, name) and kept sorted by (region, name) per kind. Their
 * members are the resource's AWS member names (see proto/ops/lb_ops_source.c and
 * lb_ops_endpoint.c for what each holds). The registry owns a deep copy of every document (each
 * in an lb_json_doc_t of its own); a pointer it hands out is valid until the next put or remove of
 * that resource.
 *
 * Each entry also carries a "mark": an integer that is runtime state only, never stored, kept
 * when the document is replaced (an endpoint's health as the admin switch set it). */
#ifndef LB_DOCS_H
#define LB_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "lb_json.h"
#include "lb_store.h"

typedef enum {
    LB_DOC_EVENT_SOURCE = 0, /* partner event sources */
    LB_DOC_ENDPOINT = 1,     /* global endpoints */
    LB_DOC_KINDS
} lb_doc_kind_t;

typedef struct lb_docs lb_docs_t;

int lb_docs_new(lb_docs_t **out);
void lb_docs_free(lb_docs_t **d);

/* ---- registry (loop thread) ---- */

/* The document, or NULL. */
const lb_json_t *lb_docs_find(const lb_docs_t *d, lb_doc_kind_t kind, const char *region,
                              const char *name);
/* Inserts or replaces with a deep copy of doc, whose "Name" member is its name. -EINVAL if doc is
 * not an object with a string Name. */
int lb_docs_put(lb_docs_t *d, lb_doc_kind_t kind, const char *region, const lb_json_t *doc);
/* LB_ENOTFOUND if absent. */
int lb_docs_remove(lb_docs_t *d, lb_doc_kind_t kind, const char *region, const char *name);
/* Index of the first document of region whose name is >= name; walk with lb_docs_at until it
 * returns NULL or a document of another region (*region_out). */
size_t lb_docs_lower_bound(const lb_docs_t *d, lb_doc_kind_t kind, const char *region,
                           const char *name);
const lb_json_t *lb_docs_at(const lb_docs_t *d, lb_doc_kind_t kind, size_t i,
                            const char **region_out);
size_t lb_docs_count(const lb_docs_t *d, lb_doc_kind_t kind);
/* The runtime mark (0 when absent or never set); set: LB_ENOTFOUND if absent. */
int lb_docs_mark(const lb_docs_t *d, lb_doc_kind_t kind, const char *region, const char *name);
int lb_docs_set_mark(lb_docs_t *d, lb_doc_kind_t kind, const char *region, const char *name,
                     int mark);

/* ---- store (writer thread, inside the caller's transaction) ---- */

/* insert: LB_EEXISTS if present; put: inserts or replaces; delete: LB_ENOTFOUND if absent;
 * LB_ESTORE if SQLite failed. json is the whole document's text. */
int lb_docs_store_insert(lb_store_t *s, lb_doc_kind_t kind, const char *region, const char *name,
                         const char *json);
int lb_docs_store_put(lb_store_t *s, lb_doc_kind_t kind, const char *region, const char *name,
                      const char *json);
int lb_docs_store_delete(lb_store_t *s, lb_doc_kind_t kind, const char *region, const char *name);
/* Loads every document (start-up). Rows whose JSON does not parse or whose Name is not their key
 * are skipped and counted in *skipped (may be NULL). */
int lb_docs_load(lb_docs_t *d, lb_store_t *s, size_t *skipped);

#endif

/* The store job shared by the operations on document resources (lib/engine/lb_docs: partner
 * event sources, global endpoints): write one document (or delete it), then, once committed,
 * apply the same change to the engine's registry and answer. */
#ifndef LB_OPS_DOC_H
#define LB_OPS_DOC_H

#include "lb_call.h"
#include "lb_docs.h"
#include "lb_engine.h"
#include "lb_json.h"

typedef enum {
    LB_DOC_WRITE_INSERT, /* a new document: LB_EEXISTS (ResourceAlreadyExists) if present */
    LB_DOC_WRITE_PUT,    /* insert or replace */
    LB_DOC_WRITE_DELETE, /* remove: doc is NULL */
} lb_doc_write_t;

/* Defers the write of doc (taken over: the caller must not free it) as resource `name` of kind in
 * region. Once committed: the registry gets the same change and the call answers `answer` (JSON
 * text, copied). A failed write answers through the error table, `what` naming the resource
 * ("Endpoint foo") in the message. */
void lb_doc_defer_write(lb_engine_t *engine, lb_call_t *call, lb_doc_kind_t kind,
                        lb_doc_write_t how, const char *region, const char *name,
                        lb_json_doc_t *doc, const char *answer, const char *what);

#endif

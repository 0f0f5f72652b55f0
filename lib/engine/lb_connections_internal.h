/* Shared between lb_connections.c (registry, store) and lb_apidest.c (delivery helpers): the
 * registry's entry layout. Nothing outside those two files includes this. */
#ifndef LB_FOLDER_ENGINE
#error "lb_connections_internal.h is private to lib/engine"
#endif
#ifndef LB_CONNECTIONS_INTERNAL_H
#define LB_CONNECTIONS_INTERNAL_H

#include "lb_connections.h"

typedef struct {
    char *region;
    char *name;
    lb_json_doc_t *doc; /* the definition document (its root an object), owned */
    /* Connections: the OAuth access token (memory only, never logged). */
    char *token;
    int64_t token_expires_ms;
    int token_failed;
    /* Destinations: the invocation rate token bucket. */
    int bucket_started;
    double bucket_tokens;
    int64_t bucket_ms;
} lb_conn_entry_t;

/* The entry, or NULL. Mutating the runtime members through a const registry is how the
 * read-mostly delivery helpers keep their caches. */
lb_conn_entry_t *lb_conn_entry_find(const lb_connections_t *r, lb_conn_kind_t kind,
                                    const char *region, const char *name);

static inline const lb_json_t *lb_conn_entry_doc(const lb_conn_entry_t *e)
{
    return lb_json_doc_root(e->doc);
}

/* Member accessor that tolerates absence (and a NULL doc); NULL for a string holding U+0000. */
const char *lb_conn_doc_str(const lb_json_t *doc, const char *key);

#endif

/* Shared between lb_json.c (arena, parser) and lb_json_build.c (builders, writer): the
 * document arena every node and string of a tree lives in. */
#ifndef LB_FOLDER_JSON
#error "lb_json_internal.h is private to lib/json"
/* Appends child to parent's children (key already set for an object member). */
void lb_json_link_child(lb_json_t *parent, lb_json_t *child);

#endif
#ifndef LB_JSON_INTERNAL_H
#define LB_JSON_INTERNAL_H

#include <stddef.h>

#include "lb_json.h"

/* n bytes, max_align_t aligned, freed with the document. */
void *lb_json_arena_alloc(lb_json_doc_t *d, size_t n);

/* A NUL-terminated copy of s[0..len) in the document's arena. */
char *lb_json_arena_strdup(lb_json_doc_t *d, const char *s, size_t len);

/* Appends child to parent's children (key already set for an object member). */
void lb_json_link_child(lb_json_t *parent, lb_json_t *child);

#endif

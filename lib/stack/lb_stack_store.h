/* lb_stack_store: the stack records `localbridge deploy` keeps in the daemon, one JSON document
 * per (region, stack name): what each deployed resource is (logical id, type, physical id, a hash
 * of its resolved properties, the attributes it exposes), so a redeploy converges. The daemon
 * stores the document as the client sent it (validated by proto/admin/lb_admin_stack.c). */
#ifndef LB_STACK_STORE_H
#define LB_STACK_STORE_H

#include <stdint.h>

#include "lb_store.h"

/* Inserts or replaces the stack's record. 0 or LB_ESTORE. */
int lb_store_stack_put(lb_store_t *s, const char *region, const char *name, const char *json,
                       int64_t now_ms);
/* The record (malloc'd *json) and when it was last written. LB_ENOTFOUND when absent. */
int lb_store_stack_get(lb_store_t *s, const char *region, const char *name, char **json,
                       int64_t *modified_ms);
/* LB_ENOTFOUND when absent. */
int lb_store_stack_delete(lb_store_t *s, const char *region, const char *name);

#endif

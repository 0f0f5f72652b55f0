/* lb_text: an immutable, reference-counted byte string. An event's envelope is built once at
 * ingestion and then shared, not copied, by the event row, every delivery whose target receives
 * the event unchanged, and the HTTP request that carries it. The count is atomic because a text
 * made on the loop thread is read by the writer thread while a job is in flight. */
#ifndef LB_TEXT_H
#define LB_TEXT_H

#include <stddef.h>

typedef struct lb_text lb_text_t;

/* A new text holding a copy of len bytes of s (NUL-terminated as well); one reference. */
lb_text_t *lb_text_new(const char *s, size_t len);
/* Takes ownership of a malloc'd buffer of len bytes plus a NUL (as lb_buf_steal returns). */
lb_text_t *lb_text_adopt(char *data, size_t len);
/* Another reference to t (t may be NULL). */
lb_text_t *lb_text_ref(lb_text_t *t);
/* Drops a reference and clears *t; the last one frees the text. */
void lb_text_unref(lb_text_t **t);
const char *lb_text_data(const lb_text_t *t);
size_t lb_text_len(const lb_text_t *t);

#endif

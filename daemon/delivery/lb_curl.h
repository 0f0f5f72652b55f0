/* libcurl's multi interface driven by a libuv loop, after curl's multi-uv example: curl tells us
 * which sockets to watch (uv_poll) and when to wake it (uv_timer); finished transfers are handed
 * to one callback. Connections are reused across transfers. */
#ifndef LB_CURL_H
#define LB_CURL_H

#include <curl/curl.h>
#include <uv.h>

typedef struct lb_curl lb_curl_t;

/* A transfer ended (result CURLE_OK or why not); the easy handle is already removed from the
 * multi handle and is the callback's to clean up. */
typedef void (*lb_curl_done_fn)(CURL *easy, CURLcode result, void *ctx);
/* Called after every batch of completions, so the owner can start more work. */
typedef void (*lb_curl_idle_fn)(void *ctx);

int lb_curl_new(uv_loop_t *loop, lb_curl_done_fn done, lb_curl_idle_fn after, void *ctx,
                lb_curl_t **out);
int lb_curl_add(lb_curl_t *c, CURL *easy);
/* Abandons a transfer without calling done. */
void lb_curl_remove(lb_curl_t *c, CURL *easy);
/* Releases curl's sockets and closes the handles; the memory goes once libuv has closed them.
 * No callback is called after this. */
void lb_curl_close(lb_curl_t *c);

#endif

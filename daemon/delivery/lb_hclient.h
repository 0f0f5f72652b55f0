/* lb_hclient: a small HTTP/1.1 client for plain http:// targets on the libuv loop. Most local
 * targets (a service on localhost, a sidecar, the Lambda runtime emulator) speak plain HTTP, and
 * there every delivery is one short POST: libcurl's general machinery cost more than half of the
 * loop thread's time per delivery, enough that delivery could not keep up with ingest. This client
 * keeps idle keep-alive connections per host, writes the request head and the borrowed body in one
 * vectored write, and parses the answer with llhttp. https:// stays with libcurl (lb_transport
 * chooses).
 *
 * Like libcurl, a request sent on a reused connection that the server closed before answering
 * anything is sent once more on a fresh connection: a keep-alive connection may be closed by the
 * server at any moment while idle. Completions follow lb_transport's contract: exactly once, on
 * the loop thread, never from inside lb_hclient_send. */
#ifndef LB_HCLIENT_H
#define LB_HCLIENT_H

#include <stdint.h>
#include <uv.h>

#include "lb_transport.h"

typedef struct lb_hclient lb_hclient_t;

int lb_hclient_new(uv_loop_t *loop, lb_hclient_t **out);
/* Ends every request (completions run with aborted set), closes every connection, and frees
 * the client once libuv has closed its handles. */
void lb_hclient_free(lb_hclient_t **c);

/* 1 if url is http://HOST[:PORT][/PATH], which this client sends. */
int lb_hclient_handles(const char *url);
/* As lb_transport_send. -EINVAL for a URL this client does not handle. */
int lb_hclient_send(lb_hclient_t *c, const lb_http_call_t *req, uint64_t timeout_ms,
                    lb_transport_done_fn done, void *ctx);

#endif

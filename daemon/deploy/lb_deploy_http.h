/* The deploy client's side of the wire: one libcurl easy handle to a running daemon, the calls
 * lb_deploy lists run against it, and AWS errors turned into one line of text. */
#ifndef LB_DEPLOY_HTTP_H
#define LB_DEPLOY_HTTP_H

#include "lb_deploy.h"
#include "lb_json.h"

typedef struct lb_dclient lb_dclient_t;

/* endpoint: the daemon's base URL; region: sent in a SigV4-shaped Authorization header so the
 * daemon files everything under it (NULL: the daemon's own region). */
int lb_dclient_new(const char *endpoint, const char *region, lb_dclient_t **out);
void lb_dclient_free(lb_dclient_t **c);

/* One request. 0 with *status and the body parsed in *doc (NULL if not JSON), or -1 with *err
 * when the daemon cannot be reached. */
int lb_dclient_request(lb_dclient_t *c, const char *method, const char *path, const char *target,
                       const char *content_type, const char *body, int *status, lb_json_doc_t **doc,
                       char **err);

/* Runs one planned call. 0 on success (captured attribute, if any, in *captured, malloc'd), or
 * -1 with *err "ErrorType: message" (malloc'd). */
int lb_dclient_run(lb_dclient_t *c, const lb_dcall_t *call, char **captured, char **err);

#endif

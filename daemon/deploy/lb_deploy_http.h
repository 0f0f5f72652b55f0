/* The deploy client's side of the wire: one libcurl easy handle to a running daemon, the calls
 * lb_deploy lists run against it, and AWS errors turned into one line of text. */
#ifndef LB_DEPLOY_HTTP_H
#define LB_DEPLOY_HTTP_H

#include "lb_deploy.h"
#include "lb_json.h"

typedef struct lb_dclient lb_dclient_t;

/* How requests are authenticated: with creds (access_key_id set), every request is signed with
 * SigV4 for region (service "sqs" for the SQS API, else "events"), as the AWS CLI would; else
 * admin paths carry admin_token as a bearer token when there is one, and region (if any) rides in
 * an unsigned credential scope, which a daemon with auth = none reads as the request's region. */
typedef struct {
    const char *access_key_id, *secret_access_key, *session_token;
    const char *admin_token;
    const char *region;
} lb_dclient_auth_t;

/* endpoint: the daemon's base URL. The strings of auth are copied. -1 if endpoint is not an
 * http(s) URL. */
int lb_dclient_new(const char *endpoint, const lb_dclient_auth_t *auth, lb_dclient_t **out);
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

/* AWS credentials for forwarding to EventBridge, found the way the AWS SDKs find them:
 *
 *   1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN;
 *   2. the shared credentials and config files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE,
 *      default ~/.aws/credentials and ~/.aws/config) for AWS_PROFILE (default "default"): static
 *      keys, or the profile's credential_process, run through /bin/sh;
 *   3. ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
 *      _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) as the Authorization header;
 *   4. EC2 instance metadata, IMDSv2 (a session token first), unless
 *      AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it.
 *
 * Temporary credentials are fetched again ten minutes before they expire, while the current
 * ones are still used. A source that fails (a process that exits non-zero, an endpoint that does
 * not answer) makes "no credentials", tried again after a pause. Every fetch is I/O on the loop:
 * HTTP through lb_transport, processes through libuv. No secret is ever logged. */
#ifndef LB_AWSCREDS_H
#define LB_AWSCREDS_H

#include <stdint.h>
#include <uv.h>

#include "lb_awsconfig.h"
#include "lb_log.h"
#include "lb_transport.h"

typedef struct lb_awscreds lb_awscreds_t;

typedef struct {
    uv_loop_t *loop;
    lb_transport_t *transport;
    const lb_log_t *log;
    char **envp; /* where AWS_* variables are read (NULL: the process environment) */
} lb_awscreds_env_t;

int lb_awscreds_new(const lb_awscreds_env_t *env, lb_awscreds_t **out);

/* 0 with *out (valid until the next call into the provider) when credentials are at hand;
 * -EAGAIN while they are being fetched (a fetch starts when none runs); -ENOENT when the last
 * fetch found none (the chain is tried again after a pause). */
int lb_awscreds_get(lb_awscreds_t *p, int64_t now_ms, const lb_aws_creds_t **out);
/* The upstream refused the current credentials (expired, unknown): fetch them again. */
void lb_awscreds_invalidate(lb_awscreds_t *p);
/* Where the current credentials came from, or why there are none (for /health; no secret). */
const char *lb_awscreds_describe(const lb_awscreds_t *p);

/* Ends a running credential_process and closes the provider's handles; outstanding HTTP fetches
 * end when the transport is freed. Free afterwards, once the loop closed the handles. */
void lb_awscreds_stop(lb_awscreds_t *p);
/* Frees the provider (after stop), now or once its handles are closed. */
void lb_awscreds_free(lb_awscreds_t **p);

#endif

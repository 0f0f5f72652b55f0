/* Who is calling: the SigV4 check every API request passes when `auth = sigv4`, with the errors
 * EventBridge answers (MissingAuthenticationTokenException, UnrecognizedClientException,
 * IncompleteSignatureException, InvalidSignatureException, "Signature expired"). The key's
 * account becomes the caller's account. No I/O: the daemon hands in the request, the keys and
 * "now". */
#ifndef LB_AUTH_H
#define LB_AUTH_H

#include <stdint.h>

#include "lb_call.h"
#include "lb_keys.h"
#include "lb_sigv4.h"

/* The service name callers sign for. */
#define LB_AUTH_SERVICE "events"

typedef struct {
    char account[16];        /* the key's account */
    char region[32];         /* the credential scope's region: the request's region */
    char access_key_id[129]; /* for logs (never the secret) */
} lb_auth_caller_t;

/* 0 and *out filled when req is signed by one of keys within five minutes of now_ms (a presigned
 * request: between its X-Amz-Date less five minutes and its expiry); otherwise -1 with the AWS
 * error set on call. */
int lb_auth_check(const lb_keys_t *keys, const lb_sigv4_request_t *req, int64_t now_ms,
                  lb_call_t *call, lb_auth_caller_t *out);

#endif

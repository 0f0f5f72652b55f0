/* One API call in flight: the request context, the response being built, and the store work the
 * daemon must commit before the response may go out. proto/ fills it; daemon/ runs `txn` on its
 * writer thread (inside a group commit) and then calls lb_call_complete() on the loop thread.
 * Every internal error becomes an AWS error here, in lb_call_error(), and nowhere else. */
#ifndef LB_CALL_H
#define LB_CALL_H

#include <stdint.h>

#include "lb_store.h"
#include "lb_util.h"

typedef enum {
    LB_AWS_VALIDATION,
    LB_AWS_SERIALIZATION,
    /* Authentication and authorization (auth = sigv4), as AWS's JSON services answer. */
    LB_AWS_MISSING_AUTH_TOKEN,
    LB_AWS_UNRECOGNIZED_CLIENT,
    LB_AWS_INVALID_SIGNATURE,
    LB_AWS_INCOMPLETE_SIGNATURE,
    LB_AWS_ACCESS_DENIED,
    LB_AWS_MANAGED_RULE,
    LB_AWS_UNKNOWN_OPERATION,
    LB_AWS_RESOURCE_NOT_FOUND,
    LB_AWS_RESOURCE_EXISTS,
    LB_AWS_LIMIT_EXCEEDED,
    LB_AWS_INVALID_EVENT_PATTERN,
    LB_AWS_CONCURRENT_MODIFICATION,
    LB_AWS_ILLEGAL_STATUS,
    LB_AWS_INTERNAL,
    LB_AWS_UNSUPPORTED_MEDIA,
    LB_AWS_NOT_IMPLEMENTED,
    LB_AWS_POLICY_LENGTH_EXCEEDED,
    LB_AWS_INVALID_STATE,
    /* Answered by the daemon itself, outside any operation: unknown endpoints, wrong methods and
     * HTTP-level failures. Same table, so every error body in the daemon has one shape. */
    LB_AWS_NOT_FOUND,
    LB_AWS_METHOD_NOT_ALLOWED,
    LB_AWS_BAD_REQUEST,
    LB_AWS_REQUEST_TIMEOUT,
    LB_AWS_ENTITY_TOO_LARGE,
    LB_AWS_HEADERS_TOO_LARGE,
    LB_AWS_SERVICE_UNAVAILABLE,
    LB_AWS_FORBIDDEN, /* a Host the daemon does not serve, a cross-origin state change */
} lb_aws_error_t;

typedef struct lb_call lb_call_t;

/* Store work for the writer thread: must only touch the store and its own arg. */
typedef int (*lb_call_txn_fn)(lb_store_t *store, void *arg);
/* Runs on the loop thread once the store work's transaction committed (txn_rc 0) or failed. */
typedef void (*lb_call_finish_fn)(lb_call_t *call, int txn_rc);

struct lb_call {
    /* Request context, filled by the daemon before lb_api_handle(). */
    char region[32];
    const char *account_id; /* the daemon's account: it owns every resource here */
    /* The signed caller's account when `auth = sigv4` (NULL otherwise: the daemon's own). An
     * account other than account_id may only put events on buses whose policy allows it. */
    const char *caller_account;
    char request_id[37];
    int64_t now_ms;
    /* Set by the daemon for its admin endpoints: selects LocalBridge's own operations
     * (AWSEvents.ExplainEventPattern) instead of the AWS table. */
    int admin;
    /* The service a request's SigV4 scope must name: NULL for "events", "sqs" for the built-in
     * queues' API (SDKs sign SQS requests for sqs). */
    const char *service;

    /* Response. */
    int status;
    lb_buf_t body;
    /* Set by operations of another wire protocol (SQS: JSON 1.0 or XML): the Content-Type of
     * the answer (NULL: the daemon's default for the endpoint) and header lines to add, each
     * ending in CRLF (x-amzn-query-error). */
    const char *content_type;
    char extra_headers[256];

    /* Deferred store work; NULL txn means the response is complete. */
    lb_call_txn_fn txn;
    lb_call_finish_fn finish;
    void *arg;
    void (*arg_free)(void *arg);
    void *api; /* the lb_api_t that began the call */

    /* Deferred store reads (lb_call_defer_read): run on the daemon's reader thread, never the
     * loop thread. At most one of txn and read is set. */
    int (*read)(lb_store_t *store, void *arg);
};

/* Replaces the response with an AWS error: {"__type": ..., "message": ...} and its status. The
 * message is never cut, however long. */
void lb_call_error(lb_call_t *call, lb_aws_error_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a message already built: len bytes, which may hold U+0000. A byte sequence that
 * is not UTF-8 (a value cut short somewhere, a header in another encoding) is written as U+FFFD,
 * so the body always decodes. */
void lb_call_error_msg(lb_call_t *call, lb_aws_error_t err, const char *msg, size_t len);
/* Maps an internal error code (LB_E*, -errno) to an AWS error. */
void lb_call_error_code(lb_call_t *call, int code, const char *what);
/* Sets a 200 response with the given JSON text. */
void lb_call_ok_json(lb_call_t *call, const char *json);
/* Defers store work; ownership of arg passes to the call (freed with arg_free). */
void lb_call_defer(lb_call_t *call, lb_call_txn_fn txn, lb_call_finish_fn finish, void *arg,
                   void (*arg_free)(void *));
/* After the daemon ran txn: finish the response. */
void lb_call_complete(lb_call_t *call, int txn_rc);
/* Frees what the call owns (not the struct itself). */
void lb_call_clear(lb_call_t *call);
const char *lb_aws_error_type(lb_aws_error_t err);

/* ---- Deferred reads ---- */

/* Store reads for the daemon's reader thread: must only read the store and touch its own arg. */
typedef int (*lb_call_read_fn)(lb_store_t *store, void *arg);
/* Defers a read: the daemon runs read(store, arg) on its reader thread with a read-only
 * connection, then lb_call_complete(call, rc) on the loop thread, which calls finish. Ownership
 * of arg passes to the call (freed with arg_free). */
void lb_call_defer_read(lb_call_t *call, lb_call_read_fn read, lb_call_finish_fn finish, void *arg,
                        void (*arg_free)(void *));

/* ---- Errors without a call (the daemon's HTTP-level answers) ---- */

/* Fills out (which the caller owns and frees) with the AWS error body {"__type","message"} of
 * err and returns its HTTP status: for responses no operation produced. */
int lb_aws_error_body(lb_buf_t *out, lb_aws_error_t err, const char *message);

#endif

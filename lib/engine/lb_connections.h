/* EventBridge connections and API destinations: the in-memory registry the loop thread answers
 * from, the SQL that keeps it durable, and the pure helpers delivery needs (the HTTP request for
 * an API destination target, the OAuth token request, the per-destination rate limit).
 *
 * Each resource is kept as one JSON definition document (the `json` column of the connections
 * and api_destinations tables), in AWS's member names:
 *   connection:      Name, ConnectionArn, SecretArn, Description?, AuthorizationType,
 *                    ConnectionState (AUTHORIZED | AUTHORIZING | DEAUTHORIZED), AuthParameters
 *                    (as given, secrets included), CreationTime, LastModifiedTime,
 *                    LastAuthorizedTime (epoch ms)
 *   api destination: Name, ApiDestinationArn, Description?, ConnectionArn, InvocationEndpoint,
 *                    HttpMethod, InvocationRateLimitPerSecond, CreationTime, LastModifiedTime
 * Secrets stay in the local database, sealed with the store's key when it has one (below);
 * nothing here logs them, and proto/ renders only the public members. The registry owns a deep copy
 * of every document (each in an lb_json_doc_t of its own); pointers it hands out are valid until
 * the next put/remove of that resource.
 *
 * Runtime state that is not durable lives only here: OAuth access tokens (fetched by the daemon
 * after start-up or an update) and the rate limiter buckets. An OAuth connection is stored as
 * AUTHORIZING and reported AUTHORIZED once a token was set, the way AWS reports it. */
#ifndef LB_CONNECTIONS_H
#define LB_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "lb_json.h"
#include "lb_store.h"

typedef struct lb_connections lb_connections_t;

/* The two kinds of resource the registry holds; most functions take one. */
typedef enum {
    LB_CONN_CONNECTION = 0,
    LB_CONN_API_DESTINATION = 1,
} lb_conn_kind_t;

int lb_connections_new(lb_connections_t **out);
void lb_connections_free(lb_connections_t **r);

/* Loads every connection and API destination from the store (start-up). Rows whose JSON does not
 * parse are skipped and counted in *skipped (may be NULL). */
int lb_connections_load(lb_connections_t *r, lb_store_t *s, size_t *skipped);

/* ---- Registry (loop thread). Resources are kept sorted by (region, name). ---- */

/* The definition document, or NULL. */
const lb_json_t *lb_conn_find(const lb_connections_t *r, lb_conn_kind_t kind, const char *region,
                              const char *name);
/* Inserts or replaces with a deep copy of doc (which must have a string "Name"). Replacing a
 * connection drops its OAuth token; replacing a destination keeps its rate bucket. */
int lb_conn_put(lb_connections_t *r, lb_conn_kind_t kind, const char *region, const lb_json_t *doc);
/* LB_ENOTFOUND if absent. */
int lb_conn_remove(lb_connections_t *r, lb_conn_kind_t kind, const char *region, const char *name);
/* Index of the first resource of region whose name is >= name; walk with lb_conn_at until it
 * returns NULL or a resource of another region (*region_out). */
size_t lb_conn_lower_bound(const lb_connections_t *r, lb_conn_kind_t kind, const char *region,
                           const char *name);
const lb_json_t *lb_conn_at(const lb_connections_t *r, lb_conn_kind_t kind, size_t i,
                            const char **region_out);

/* The state AWS reports: a connection's ConnectionState, except that an OAuth connection with a
 * token is AUTHORIZED and one whose token request failed is DEAUTHORIZED; a destination is ACTIVE
 * when its connection (same region) is AUTHORIZED, else INACTIVE. NULL if absent. */
const char *lb_connection_state(const lb_connections_t *r, const char *region, const char *name);
const char *lb_apidest_state(const lb_connections_t *r, const char *region, const char *name);

/* Name of a connection ARN "arn:aws...:events:REGION:ACCT:connection/NAME/ID" copied to out;
 * -EINVAL if arn is not one. */
int lb_connection_arn_name(const char *arn, char *out, size_t outlen);

/* ---- Store (writer thread, inside the caller's transaction). ---- */

/* insert: LB_EEXISTS if (region, name) exists; update/delete: LB_ENOTFOUND if absent; LB_ESTORE
 * if SQLite failed. json is the full definition document text. */
int lb_conn_store_insert(lb_store_t *s, lb_conn_kind_t kind, const char *region, const char *name,
                         const char *json, int64_t created_ms, int64_t modified_ms);
int lb_conn_store_update(lb_store_t *s, lb_conn_kind_t kind, const char *region, const char *name,
                         const char *json, int64_t modified_ms);
int lb_conn_store_delete(lb_store_t *s, lb_conn_kind_t kind, const char *region, const char *name);
/* With the store's secret key set (lb_store_set_secret_key), connection definitions are written
 * sealed (lb_seal, bound to their region and name) and opened when loaded; a sealed row that
 * does not open (no key, another key) is skipped as unreadable. lb_conn_store_seal_all seals
 * every connection still stored in plain, in its own transaction with secure_delete on, and
 * counts them in *sealed: how databases from before encryption are migrated. */
int lb_conn_store_seal_all(lb_store_t *s, size_t *sealed);

/* ---- Delivery helpers (pure; the daemon does the I/O). ---- */

/* An HTTP request to make. All strings are malloc'd and owned by the struct. */
typedef struct {
    char *method;
    char *url;
    char **headers;       /* "Name: value", NULL-terminated */
    char *body;           /* may be NULL */
    size_t response_max;  /* bytes of the answer to keep; 0: the transport's default (1 KiB) */
    char *capture_header; /* the name of one answer header to report (any case), or NULL */
} lb_http_call_t;

void lb_http_call_clear(lb_http_call_t *c);

/* A target's HttpParameters, compiled once when the target is written (PutTargets, start-up) so
 * that a delivery never reads JSON: PathParameterValues in order (up to the first that is not a
 * string), HeaderParameters and QueryStringParameters as name/value pairs in document order
 * (members whose value is not a string are left out, as is any string holding U+0000). */
typedef struct lb_http_params lb_http_params_t;

/* Compiles a target's HttpParameters object into *out, which the caller owns (free with
 * lb_http_params_free). http_parameters NULL or not an object gives *out NULL: a target without
 * parameters. Returns 0. */
int lb_http_params_compile(const lb_json_t *http_parameters, lb_http_params_t **out);
void lb_http_params_free(lb_http_params_t **p);

/* Builds the request for an API destination target, as EventBridge sends it: the destination's
 * method and endpoint, `*` in the endpoint replaced by HttpParameters.PathParameterValues in
 * order; query string parameters of the connection's InvocationHttpParameters, then the target's
 * HttpParameters.QueryStringParameters (the connection wins on a clash), URL-encoded; headers by
 * priority auth > connection > target > defaults (Content-Type: application/json;
 * charset=utf-8, User-Agent: Amazon/EventBridge/ApiDestinations, Range: bytes=0-1048575), names
 * compared case-insensitively; body parameters of the connection merged into a JSON-object body.
 * params is the target's compiled HttpParameters (NULL: none).
 * Returns -ENOENT if the destination (by name and exact ARN) or its connection is missing,
 * LB_EINVALID if the connection is deauthorized, -EAGAIN if it is an OAuth connection still
 * waiting for its token. */
int lb_apidest_prepare(const lb_connections_t *r, const char *region, const char *destination_arn,
                       const lb_http_params_t *params, const char *body, lb_http_call_t *out);

/* InvocationRateLimitPerSecond as a token bucket per destination (burst = the limit): 0 when one
 * invocation may be sent now (and takes it), else the milliseconds to wait. -ENOENT if the
 * destination does not exist. now_ms comes from the caller. */
int64_t lb_apidest_rate_take(lb_connections_t *r, const char *region, const char *destination_arn,
                             int64_t now_ms);

/* The OAuth client-credentials token request of a connection (RFC 6749 section 4.4): the
 * OAuthParameters' HttpMethod and AuthorizationEndpoint plus OAuthHttpParameters query strings,
 * `Authorization: Basic base64(ClientID:ClientSecret)` plus OAuthHttpParameters headers, and a
 * form-encoded body of OAuthHttpParameters body parameters (grant_type=client_credentials unless
 * given). -ENOENT if absent, -EINVAL if not an OAuth connection, LB_EINVALID if deauthorized. */
int lb_connections_oauth_request(const lb_connections_t *r, const char *region,
                                 const char *connection_name, lb_http_call_t *out);
/* Records the token the daemon obtained (memory only) and its expiry (0: none given), which makes
 * the connection AUTHORIZED. access_token NULL records a failed token request: the connection
 * reports DEAUTHORIZED until it is updated. The token is used as `Authorization: Bearer <token>`.
 */
int lb_connections_oauth_set_token(lb_connections_t *r, const char *region,
                                   const char *connection_name, const char *access_token,
                                   int64_t expires_ms);
/* Calls cb for every OAuth connection that needs a token now: none yet, or one expiring within 60
 * seconds (EventBridge refreshes proactively). A non-zero return from cb stops the walk. */
typedef int (*lb_oauth_due_cb)(const char *region, const char *connection_name, void *ctx);
int lb_connections_oauth_due(const lb_connections_t *r, int64_t now_ms, lb_oauth_due_cb cb,
                             void *ctx);

#endif

/* AWS Signature Version 4, the one implementation the daemon has: it signs the PutEvents requests
 * LocalBridge forwards to Amazon EventBridge and checks the signatures of callers when
 * `auth = sigv4`. HMAC-SHA256 and SHA-256 come from OpenSSL's libcrypto.
 *
 * Canonicalization follows AWS's rules for services other than S3, as botocore implements them:
 * the URI path has its dot segments and repeated slashes removed and is then URI-encoded (again:
 * a "%20" on the wire is "%2520" in the canonical request); the query string's names and values
 * are decoded, URI-encoded with only the unreserved characters left as they are, and sorted by
 * name then value, without X-Amz-Signature; header names are lower-cased and sorted, their
 * values trimmed with inner runs of whitespace made one space, repeated headers joined with ','.
 *
 * Pure functions: no clock (times come in), no I/O. Ownership: strings in request structs are
 * borrowed; out-parameters documented as malloc'd belong to the caller. */
#ifndef LB_SIGV4_H
#define LB_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "lb_util.h"

#define LB_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define LB_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Requests signed more than this far from the server's clock are refused ("Signature expired"). */
#define LB_SIGV4_MAX_SKEW_MS (5 * 60 * 1000)
/* The longest X-Amz-Expires a presigned request may ask for: seven days, as AWS allows. */
#define LB_SIGV4_MAX_EXPIRES_S 604800

typedef struct {
    const char *name, *value;
} lb_sigv4_header_t;

/* One HTTP request as the server received it (or as the client will send it). */
typedef struct {
    const char *method;
    const char *path;  /* the request-target's path as sent: percent-encoded, no query */
    const char *query; /* the query string as sent, without '?'; "" or NULL for none */
    const lb_sigv4_header_t *headers;
    size_t n_headers;
    const char *payload_hash; /* SHA-256 of the body in lower-case hex */
} lb_sigv4_request_t;

/* SHA-256 of data as 64 lower-case hex digits. */
void lb_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* "20240102T030405Z" for epoch milliseconds, and back (-EINVAL if s is not one). */
void lb_sigv4_amz_date(int64_t ms, char out[17]);
int lb_sigv4_parse_amz_date(const char *s, int64_t *ms);

/* The canonical request for the headers named in signed_headers ("content-type;host;x-amz-date",
 * lower-case, ';'-separated; used in the order given). Appended to out. */
void lb_sigv4_canonical_request(const lb_sigv4_request_t *req, const char *signed_headers,
                                lb_buf_t *out);
/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of the canonical request>". */
void lb_sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical,
                             size_t canonical_len, lb_buf_t *out);
/* kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request". */
void lb_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                          const char *service, unsigned char key[32]);
/* hex(HMAC-SHA256(key, string_to_sign)). */
void lb_sigv4_signature(const unsigned char key[32], const char *string_to_sign, size_t len,
                        char out[65]);

/* ---- signing (forwarding) ---- */

typedef struct {
    const char *access_key_id, *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
} lb_sigv4_creds_t;

/* The Authorization header value for req, which must already carry every header it will be sent
 * with (host and x-amz-date included; x-amz-security-token when there is a session token). All
 * of them are signed except those botocore leaves out (user-agent, expect, connection, ...).
 * amz_date is the request's X-Amz-Date. *authorization is malloc'd. */
void lb_sigv4_sign(const lb_sigv4_request_t *req, const lb_sigv4_creds_t *creds, const char *region,
                   const char *service, const char *amz_date, char **authorization);

/* ---- verifying (callers) ---- */

/* What a request says about its signature. */
typedef struct {
    int presigned;           /* from the X-Amz-* query parameters, not the Authorization header */
    char access_key_id[129]; /* the credential's key id */
    char date8[9];           /* the credential scope: date, region, service */
    char region[33];
    char service[33];
    char terminator[33]; /* the scope's last part: "aws4_request" when well formed */
    char amz_date[17];   /* the request's own time (X-Amz-Date, or the Date header) */
    int64_t time_ms;
    int64_t expires_s;    /* presigned: X-Amz-Expires */
    char signature[65];   /* as given (lower-case hex expected) */
    char *signed_headers; /* malloc'd */
    char *session_token;  /* X-Amz-Security-Token (header or parameter), malloc'd or NULL */
} lb_sigv4_auth_t;

enum {
    LB_SIGV4_ENONE = -30001,       /* no signature at all: neither header nor query parameters */
    LB_SIGV4_EINCOMPLETE = -30002, /* a signature with parts missing or malformed */
};

/* Reads the request's signature. 0 with *out filled (clear it with lb_sigv4_auth_clear);
 * LB_SIGV4_ENONE; or LB_SIGV4_EINCOMPLETE with AWS's words for what is missing appended to why
 * (IncompleteSignatureException's message). */
int lb_sigv4_parse(const lb_sigv4_request_t *req, lb_sigv4_auth_t *out, lb_buf_t *why);
void lb_sigv4_auth_clear(lb_sigv4_auth_t *auth);

/* 1 if auth's signature is the one secret makes for req (compared in constant time), else 0. */
int lb_sigv4_verify(const lb_sigv4_request_t *req, const lb_sigv4_auth_t *auth, const char *secret);

/* The first value of header name (case-insensitive), or NULL. */
const char *lb_sigv4_header(const lb_sigv4_request_t *req, const char *name);

#endif

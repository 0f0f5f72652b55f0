/* Caller authentication. See lb_auth.h. The messages are AWS's: its JSON services answer these
 * texts (with status 400) for the same faults. */
#include "lb_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define SIGNATURE_MISMATCH                                                                         \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "AWS Secret Access Key and signing method. Consult the service documentation for details."

/* [a-z]{2}(-[a-z]+)*-[a-z]+-[0-9]+: us-east-1, us-gov-west-1, cn-north-1, eu-central-2. */
static int region_ok(const char *r)
{
    size_t n = strlen(r);
    if (n < 6 || !islower((unsigned char)r[0]) || !islower((unsigned char)r[1]) || r[2] != '-')
        return 0;
    size_t digits = 0;
    while (digits < n && isdigit((unsigned char)r[n - 1 - digits]))
        digits++;
    if (!digits || r[n - 1 - digits] != '-') return 0;
    for (size_t i = 3; i < n - digits - 1; i++)
        if (!islower((unsigned char)r[i]) && r[i] != '-') return 0;
    return 1;
}

/* The scope must name this service, a region, the request's own date and aws4_request. */
static int scope_ok(const lb_sigv4_auth_t *a, lb_call_t *call)
{
    if (strcmp(a->terminator, "aws4_request") != 0) {
        lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                      "Credential should be scoped with a valid terminator: 'aws4_request', not "
                      "'%s'. ",
                      a->terminator);
        return -1;
    }
    const char *service = call->service ? call->service : LB_AUTH_SERVICE;
    if (strcmp(a->service, service) != 0) {
        lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                      "Credential should be scoped to correct service: '%s'. ", service);
        return -1;
    }
    if (!region_ok(a->region)) {
        lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                      "Credential should be scoped to a valid region. ");
        return -1;
    }
    if (strncmp(a->date8, a->amz_date, 8) != 0) {
        lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                      "date from HTTP: '%s' != '%.8s', from '%s'.",
                      a->date8, a->amz_date, a->amz_date);
        return -1;
    }
    return 0;
}

/* AWS accepts a request signed within five minutes of its clock either way; a presigned one
 * from five minutes before its X-Amz-Date until X-Amz-Expires seconds after it. */
static int time_ok(const lb_sigv4_auth_t *a, int64_t now_ms, lb_call_t *call)
{
    char now[17], edge[17];
    lb_sigv4_amz_date(now_ms, now);
    if (a->presigned) {
        if (a->expires_s < 0 || a->expires_s > LB_SIGV4_MAX_EXPIRES_S) {
            lb_call_error(call, LB_AWS_INCOMPLETE_SIGNATURE,
                          "X-Amz-Expires must be less than a week (in seconds) that is %d",
                          LB_SIGV4_MAX_EXPIRES_S);
            return -1;
        }
        if (now_ms > a->time_ms + a->expires_s * 1000) {
            lb_sigv4_amz_date(now_ms - a->expires_s * 1000, edge);
            lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                          "Signature expired: %s is now earlier than %s (%s - %lld sec.)",
                          a->amz_date, edge, now, (long long)a->expires_s);
            return -1;
        }
    } else if (a->time_ms < now_ms - LB_SIGV4_MAX_SKEW_MS) {
        lb_sigv4_amz_date(now_ms - LB_SIGV4_MAX_SKEW_MS, edge);
        lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                      "Signature expired: %s is now earlier than %s (%s - 5 min.)", a->amz_date,
                      edge, now);
        return -1;
    }
    if (a->time_ms > now_ms + LB_SIGV4_MAX_SKEW_MS) {
        lb_sigv4_amz_date(now_ms + LB_SIGV4_MAX_SKEW_MS, edge);
        lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                      "Signature not yet current: %s is still later than %s (%s + 5 min.)",
                      a->amz_date, edge, now);
        return -1;
    }
    return 0;
}

/* SignedHeaders must cover the Host header, as AWS requires. */
static int host_signed(const char *signed_headers)
{
    for (const char *p = signed_headers; *p;) {
        const char *semi = strchr(p, ';');
        size_t l = semi ? (size_t)(semi - p) : strlen(p);
        if (l == 4 && strncmp(p, "host", 4) == 0) return 1;
        if (!semi) break;
        p = semi + 1;
    }
    return 0;
}

int lb_auth_check(const lb_keys_t *keys, const lb_sigv4_request_t *req, int64_t now_ms,
                  lb_call_t *call, lb_auth_caller_t *out)
{
    lb_sigv4_auth_t a;
    lb_buf_t why = {0};
    int rc = lb_sigv4_parse(req, &a, &why);
    if (rc == LB_SIGV4_ENONE) {
        lb_call_error(call, LB_AWS_MISSING_AUTH_TOKEN, "Missing Authentication Token");
    } else if (rc) {
        lb_call_error_msg(call, LB_AWS_INCOMPLETE_SIGNATURE, why.data ? why.data : "", why.len);
    }
    lb_buf_free(&why);
    if (rc) return -1;
    const lb_key_t *key = lb_keys_find(keys, a.access_key_id);
    rc = -1;
    if (!key) {
        lb_call_error(call, LB_AWS_UNRECOGNIZED_CLIENT,
                      "The security token included in the request is invalid.");
    } else if (scope_ok(&a, call) == 0 && time_ok(&a, now_ms, call) == 0) {
        if (!host_signed(a.signed_headers))
            lb_call_error(call, LB_AWS_INVALID_SIGNATURE,
                          "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                          "Authorization.");
        else if (!lb_sigv4_verify(req, &a, key->secret))
            lb_call_error(call, LB_AWS_INVALID_SIGNATURE, SIGNATURE_MISMATCH);
        else
            rc = 0;
    }
    if (rc == 0) {
        snprintf(out->account, sizeof out->account, "%s", key->account);
        snprintf(out->region, sizeof out->region, "%.31s", a.region);
        snprintf(out->access_key_id, sizeof out->access_key_id, "%s", a.access_key_id);
    }
    lb_sigv4_auth_clear(&a);
    return rc;
}

/* lb_sigv4 against vectors computed by botocore's own signer (SigV4Auth and SigV4QueryAuth, an
 * implementation independent of ours; see make_sigv4_vectors.py beside this file): the canonical
 * request, the string to sign and the signature must be byte for byte botocore's, our signer
 * must produce botocore's Authorization header, and our verifier must accept exactly those
 * signatures. Then AWS's rules botocore never exercises: %7E canonicalized to ~, parse errors
 * in AWS's words. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_json.h"
#include "lb_sigv4.h"
#include "lb_test.h"
#include "lb_util.h"

#define VECTORS LB_SOURCE_DIR "/tests/unit/lib/auth/sigv4_vectors.json"

static lb_json_doc_t *doc;

static const lb_json_t *vectors(void)
{
    if (!doc) {
        FILE *f = fopen(VECTORS, "rb");
        ck_assert_ptr_nonnull(f);
        lb_buf_t b = {0};
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            lb_buf_append(&b, chunk, n);
        fclose(f);
        char *err = NULL;
        ck_assert_int_eq(lb_json_parse(b.data, b.len, 64, &doc, &err), 0);
        lb_buf_free(&b);
    }
    const lb_json_t *v = lb_json_get(lb_json_doc_root(doc), "vectors");
    ck_assert_ptr_nonnull(v);
    return v;
}

/* A request as the server receives it, from a vector. */
typedef struct {
    lb_sigv4_request_t req;
    lb_sigv4_header_t headers[32];
} req_t;

static void load_request(const lb_json_t *v, req_t *r, int with_authorization)
{
    memset(r, 0, sizeof *r);
    r->req.method = lb_json_get_str(v, "method");
    r->req.path = lb_json_get_str(v, "path");
    r->req.query = lb_json_get_str(v, "query");
    r->req.payload_hash = lb_json_get_str(v, "payload_hash");
    size_t n = 0;
    lb_json_each(h, lb_json_get(v, "headers"))
    {
        const char *name = h->child->str, *value = h->child->next->str;
        if (!with_authorization && strcasecmp(name, "Authorization") == 0) continue;
        ck_assert_uint_lt(n, 32);
        r->headers[n++] = (lb_sigv4_header_t){name, value};
    }
    r->req.headers = r->headers;
    r->req.n_headers = n;
}

START_TEST(canonical_request_and_signature_match_botocore)
{
    const lb_json_t *all = vectors();
    int checked = 0;
    lb_json_each(v, all)
    {
        req_t r;
        load_request(v, &r, 1);
        const char *name = lb_json_get_str(v, "name");
        lb_sigv4_auth_t auth;
        lb_buf_t why = {0};
        ck_assert_msg(lb_sigv4_parse(&r.req, &auth, &why) == 0, "%s: %s", name,
                      why.data ? why.data : "");
        ck_assert_int_eq(auth.presigned, lb_json_get(v, "presigned")->type == LB_JSON_TRUE);
        ck_assert_str_eq(auth.access_key_id, lb_json_get_str(v, "access_key_id"));
        ck_assert_str_eq(auth.region, lb_json_get_str(v, "region"));
        ck_assert_str_eq(auth.service, lb_json_get_str(v, "service"));
        ck_assert_str_eq(auth.terminator, "aws4_request");
        ck_assert_str_eq(auth.amz_date, lb_json_get_str(v, "amz_date"));

        lb_buf_t canonical = {0}, sts = {0}, scope = {0};
        lb_sigv4_canonical_request(&r.req, auth.signed_headers, &canonical);
        ck_assert_msg(strcmp(canonical.data, lb_json_get_str(v, "canonical_request")) == 0,
                      "%s: canonical request\n%s\n--- botocore:\n%s", name, canonical.data,
                      lb_json_get_str(v, "canonical_request"));
        lb_buf_printf(&scope, "%s/%s/%s/aws4_request", auth.date8, auth.region, auth.service);
        lb_sigv4_string_to_sign(auth.amz_date, scope.data, canonical.data, canonical.len, &sts);
        ck_assert_str_eq(sts.data, lb_json_get_str(v, "string_to_sign"));
        ck_assert_str_eq(auth.signature, lb_json_get_str(v, "signature"));

        ck_assert_msg(lb_sigv4_verify(&r.req, &auth, lb_json_get_str(v, "secret")) == 1, "%s",
                      name);
        ck_assert_int_eq(lb_sigv4_verify(&r.req, &auth, "wrong secret"), 0);
        const lb_json_t *token = lb_json_get(v, "session_token");
        if (token->type == LB_JSON_STRING)
            ck_assert_str_eq(auth.session_token, token->str);
        else
            ck_assert_ptr_null(auth.session_token);
        lb_sigv4_auth_clear(&auth);
        lb_buf_free(&canonical);
        lb_buf_free(&sts);
        lb_buf_free(&scope);
        lb_buf_free(&why);
        checked++;
    }
    ck_assert_int_ge(checked, 8);
}
END_TEST

/* Our signer, given the headers botocore's request carried before signing, writes botocore's
 * Authorization header. */
START_TEST(signer_writes_botocores_authorization)
{
    lb_json_each(v, vectors())
    {
        if (lb_json_get(v, "presigned")->type == LB_JSON_TRUE) continue;
        req_t r;
        load_request(v, &r, 0);
        const lb_json_t *token = lb_json_get(v, "session_token");
        lb_sigv4_creds_t creds = {lb_json_get_str(v, "access_key_id"), lb_json_get_str(v, "secret"),
                                  token->type == LB_JSON_STRING ? token->str : NULL};
        char *auth = NULL;
        lb_sigv4_sign(&r.req, &creds, lb_json_get_str(v, "region"), lb_json_get_str(v, "service"),
                      lb_json_get_str(v, "amz_date"), &auth);
        ck_assert_msg(strcmp(auth, lb_json_get_str(v, "authorization")) == 0, "%s:\n%s\n%s",
                      lb_json_get_str(v, "name"), auth, lb_json_get_str(v, "authorization"));
        free(auth);
    }
}
END_TEST

/* A body that differs from the one signed fails verification. */
START_TEST(tampered_body_or_header_fails)
{
    const lb_json_t *v = vectors()->child;
    req_t r;
    load_request(v, &r, 1);
    lb_sigv4_auth_t auth;
    lb_buf_t why = {0};
    ck_assert_int_eq(lb_sigv4_parse(&r.req, &auth, &why), 0);
    char other[65];
    lb_sigv4_sha256_hex("{}", 2, other);
    r.req.payload_hash = other;
    ck_assert_int_eq(lb_sigv4_verify(&r.req, &auth, lb_json_get_str(v, "secret")), 0);
    load_request(v, &r, 1);
    for (size_t i = 0; i < r.req.n_headers; i++)
        if (strcasecmp(r.headers[i].name, "X-Amz-Target") == 0)
            r.headers[i].value = "AWSEvents.DeleteRule";
    ck_assert_int_eq(lb_sigv4_verify(&r.req, &auth, lb_json_get_str(v, "secret")), 0);
    lb_sigv4_auth_clear(&auth);
    lb_buf_free(&why);
}
END_TEST

static void canonical(const char *path, const char *query, const char *want_uri_and_query)
{
    lb_sigv4_header_t h[] = {{"Host", "h"}};
    lb_sigv4_request_t req = {.method = "get",
                              .path = path,
                              .query = query,
                              .headers = h,
                              .n_headers = 1,
                              .payload_hash = LB_SIGV4_EMPTY_SHA256};
    lb_buf_t b = {0};
    lb_sigv4_canonical_request(&req, "host", &b);
    char want[512];
    snprintf(want, sizeof want, "GET\n%s\nhost:h\n\nhost\n" LB_SIGV4_EMPTY_SHA256,
             want_uri_and_query);
    ck_assert_str_eq(b.data, want);
    lb_buf_free(&b);
}

/* The spec's rules where a client's URL is not already canonical: the server decodes each query
 * name and value and encodes it again, so %7E is ~ and a space may come as %20 only. */
START_TEST(query_and_path_canonicalized_as_aws_does)
{
    canonical("/", "a=%7e&b=%7E", "/\na=~&b=~");
    canonical("/", "X-Amz-Signature=abc&a=1", "/\na=1");
    canonical("/", "b&a=", "/\na=&b=");
    canonical("", "", "/\n");
    canonical("/..", "", "/\n");
    canonical("/a//b/", "", "/a/b/\n");
    canonical("/a b", "q=a%20b", "/a%20b\nq=a%20b");
}
END_TEST

static int parse_error(const char *authorization, const char *date, const char *query,
                       lb_buf_t *why)
{
    lb_sigv4_header_t h[3];
    size_t n = 0;
    h[n++] = (lb_sigv4_header_t){"Host", "h"};
    if (authorization) h[n++] = (lb_sigv4_header_t){"Authorization", authorization};
    if (date) h[n++] = (lb_sigv4_header_t){"X-Amz-Date", date};
    lb_sigv4_request_t req = {.method = "POST",
                              .path = "/",
                              .query = query,
                              .headers = h,
                              .n_headers = n,
                              .payload_hash = LB_SIGV4_EMPTY_SHA256};
    lb_sigv4_auth_t auth;
    why->len = 0;
    int rc = lb_sigv4_parse(&req, &auth, why);
    if (rc == 0) lb_sigv4_auth_clear(&auth);
    return rc;
}

START_TEST(incomplete_signatures_say_what_is_missing)
{
    lb_buf_t why = {0};
    ck_assert_int_eq(parse_error(NULL, NULL, "", &why), LB_SIGV4_ENONE);
    ck_assert_int_eq(parse_error("allow", NULL, "", &why), LB_SIGV4_EINCOMPLETE);
    ck_assert_str_eq(why.data,
                     "Authorization header requires 'Credential' parameter. Authorization header "
                     "requires 'Signature' parameter. Authorization header requires "
                     "'SignedHeaders' parameter. Authorization header requires existence of "
                     "either a 'X-Amz-Date' or a 'Date' header. Authorization=allow");
    ck_assert_int_eq(parse_error("AWS4-HMAC-SHA256 Credential=A/20240101/us-east-1/events/"
                                 "aws4_request, SignedHeaders=host, Signature=00",
                                 "2024-01-01", "", &why),
                     LB_SIGV4_EINCOMPLETE);
    ck_assert_str_eq(why.data, "Date must be in ISO-8601 'basic format'. Got '2024-01-01'. See "
                               "http://en.wikipedia.org/wiki/ISO_8601");
    ck_assert_int_eq(
        parse_error(NULL, NULL, "X-Amz-Signature=00&X-Amz-Date=20240101T000000Z", &why),
        LB_SIGV4_EINCOMPLETE);
    ck_assert_str_eq(why.data, "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS "
                               "query-string parameters must include 'X-Amz-Credential'. AWS "
                               "query-string parameters must include 'X-Amz-SignedHeaders'. "
                               "Re-examine the query-string parameters.");
    /* A short credential still parses: the scope checks say what is wrong with it. */
    ck_assert_int_eq(parse_error("AWS4-HMAC-SHA256 Credential=AKID/20240101, SignedHeaders=host, "
                                 "Signature=00",
                                 "20240101T000000Z", "", &why),
                     0);
    lb_buf_free(&why);
}
END_TEST

START_TEST(dates)
{
    int64_t ms;
    char out[17];
    ck_assert_int_eq(lb_sigv4_parse_amz_date("20240229T235959Z", &ms), 0);
    lb_sigv4_amz_date(ms, out);
    ck_assert_str_eq(out, "20240229T235959Z");
    ck_assert_int_eq(lb_sigv4_parse_amz_date("20241301T000000Z", &ms), -EINVAL);
    ck_assert_int_eq(lb_sigv4_parse_amz_date("20240101 000000Z", &ms), -EINVAL);
    ck_assert_int_eq(lb_sigv4_parse_amz_date("19700101T000001Z", &ms), 0);
    ck_assert_int_eq(ms, 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, canonical_request_and_signature_match_botocore);
    tcase_add_test(tc, signer_writes_botocores_authorization);
    tcase_add_test(tc, tampered_body_or_header_fails);
    tcase_add_test(tc, query_and_path_canonicalized_as_aws_does);
    tcase_add_test(tc, incomplete_signatures_say_what_is_missing);
    tcase_add_test(tc, dates);
    suite_add_tcase(s, tc);
    int rc = lb_test_run(s);
    lb_json_doc_free(&doc);
    return rc;
}

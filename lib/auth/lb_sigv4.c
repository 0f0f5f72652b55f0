/* AWS Signature Version 4. See lb_sigv4.h. */
#include "lb_sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Headers botocore never signs: hop-by-hop ones and those proxies rewrite. */
static const char *const unsigned_headers[] = {"connection",
                                               "expect",
                                               "keep-alive",
                                               "proxy-authenticate",
                                               "proxy-authorization",
                                               "te",
                                               "trailer",
                                               "transfer-encoding",
                                               "upgrade",
                                               "user-agent",
                                               "x-amzn-trace-id"};

static const char hexdigits[] = "0123456789abcdef";

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void lb_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, 32, out);
}

static void hmac(const void *key, size_t keylen, const void *msg, size_t len, unsigned char out[32])
{
    unsigned int outlen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &outlen);
}

/* ---- time ---- */

void lb_sigv4_amz_date(int64_t ms, char out[17])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), without the C library's time zone. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int to_ms(int y, int mo, int d, int h, int mi, int s, int64_t *ms)
{
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -EINVAL;
    *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000;
    return 0;
}

int lb_sigv4_parse_amz_date(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || digits(s, 4, &y) ||
        digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) || digits(s + 9, 2, &h) ||
        digits(s + 11, 2, &mi) || digits(s + 13, 2, &sec))
        return -EINVAL;
    return to_ms(y, mo, d, h, mi, sec, ms);
}

/* An HTTP Date header, "Tue, 02 Jan 2024 03:04:05 GMT" (RFC 7231's preferred form). */
static int parse_http_date(const char *s, int64_t *ms)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *comma = strchr(s, ',');
    if (!comma) return -EINVAL;
    const char *p = comma + 1;
    while (*p == ' ')
        p++;
    int d, y, h, mi, sec;
    if (strlen(p) < 24 || digits(p, 2, &d) || p[2] != ' ' || p[6] != ' ' || digits(p + 7, 4, &y) ||
        p[11] != ' ' || digits(p + 12, 2, &h) || p[14] != ':' || digits(p + 15, 2, &mi) ||
        p[17] != ':' || digits(p + 18, 2, &sec) || strncmp(p + 20, " GMT", 4) != 0)
        return -EINVAL;
    const char *m = NULL;
    for (int i = 0; i < 12; i++)
        if (strncmp(p + 3, months + 3 * i, 3) == 0) m = months + 3 * i;
    if (!m) return -EINVAL;
    return to_ms(y, (int)((m - months) / 3) + 1, d, h, mi, sec, ms);
}

/* ---- canonical request ---- */

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void uri_encode(lb_buf_t *b, const char *s, size_t len, int keep_slash)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            lb_buf_append(b, &s[i], 1);
        } else {
            char esc[3] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]};
            lb_buf_append(b, esc, 3);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into out (reset first); a '%' not followed by two hex digits stays. */
static void uri_decode(const char *s, size_t len, lb_buf_t *out)
{
    out->len = 0;
    lb_buf_append(out, "", 0);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            lb_buf_append(out, &c, 1);
            i += 2;
        } else {
            lb_buf_append(out, &s[i], 1);
        }
    }
}

/* RFC 3986's "remove dot segments", with empty segments (repeated slashes) dropped too, as AWS
 * services other than S3 require; then URI-encoded a second time. */
static void canonical_uri(lb_buf_t *b, const char *path)
{
    if (!path || !*path) {
        lb_buf_puts(b, "/");
        return;
    }
    size_t len = strlen(path), n = 0;
    const char **seg = lb_xcalloc(len + 1, sizeof *seg);
    size_t *seglen = lb_xcalloc(len + 1, sizeof *seglen);
    for (const char *p = path; p <= path + len;) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (n) n--;
        } else if (l && !(l == 1 && p[0] == '.')) {
            seg[n] = p;
            seglen[n++] = l;
        }
        if (!slash) break;
        p = slash + 1;
    }
    if (path[0] == '/') lb_buf_puts(b, "/");
    for (size_t i = 0; i < n; i++) {
        if (i) lb_buf_puts(b, "/");
        uri_encode(b, seg[i], seglen[i], 0);
    }
    if (path[len - 1] == '/' && n) lb_buf_puts(b, "/");
    free(seg);
    free(seglen);
}

typedef struct {
    char *key, *value;
} pair_t;

static int pair_cmp(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static void canonical_query(lb_buf_t *b, const char *query)
{
    if (!query || !*query) return;
    size_t cap = 1;
    for (const char *p = query; *p; p++)
        cap += *p == '&';
    pair_t *pairs = lb_xcalloc(cap, sizeof *pairs);
    size_t n = 0;
    lb_buf_t raw = {0}, enc = {0};
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t l = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', l);
        size_t kl = eq ? (size_t)(eq - p) : l;
        if (l) {
            uri_decode(p, kl, &raw);
            if (strcmp(raw.data, "X-Amz-Signature") != 0) {
                enc.len = 0;
                uri_encode(&enc, raw.data, raw.len, 0);
                lb_buf_append(&enc, "", 0);
                pairs[n].key = lb_buf_steal(&enc, NULL);
                uri_decode(eq ? eq + 1 : "", eq ? l - kl - 1 : 0, &raw);
                uri_encode(&enc, raw.data, raw.len, 0);
                lb_buf_append(&enc, "", 0);
                pairs[n++].value = lb_buf_steal(&enc, NULL);
            }
        }
        if (!amp) break;
        p = amp + 1;
    }
    qsort(pairs, n, sizeof *pairs, pair_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i) lb_buf_puts(b, "&");
        lb_buf_puts(b, pairs[i].key);
        lb_buf_puts(b, "=");
        lb_buf_puts(b, pairs[i].value);
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
    lb_buf_free(&raw);
    lb_buf_free(&enc);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A header value with leading and trailing whitespace gone and inner runs made one space. */
static void trimall(lb_buf_t *b, const char *v)
{
    int pending = 0, started = 0;
    for (; *v; v++) {
        if (is_ws(*v)) {
            pending = started;
            continue;
        }
        if (pending) lb_buf_puts(b, " ");
        pending = 0;
        started = 1;
        lb_buf_append(b, v, 1);
    }
}

const char *lb_sigv4_header(const lb_sigv4_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

static void canonical_header(lb_buf_t *b, const lb_sigv4_request_t *req, const char *name,
                             size_t len)
{
    lb_buf_append(b, name, len);
    lb_buf_puts(b, ":");
    int first = 1;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *h = req->headers[i].name;
        if (strlen(h) != len || strncasecmp(h, name, len) != 0) continue;
        if (!first) lb_buf_puts(b, ",");
        trimall(b, req->headers[i].value);
        first = 0;
    }
    lb_buf_puts(b, "\n");
}

void lb_sigv4_canonical_request(const lb_sigv4_request_t *req, const char *signed_headers,
                                lb_buf_t *out)
{
    for (const char *m = req->method; *m; m++) {
        char c = (char)toupper((unsigned char)*m);
        lb_buf_append(out, &c, 1);
    }
    lb_buf_puts(out, "\n");
    canonical_uri(out, req->path);
    lb_buf_puts(out, "\n");
    canonical_query(out, req->query);
    lb_buf_puts(out, "\n");
    for (const char *p = signed_headers; *p;) {
        const char *semi = strchr(p, ';');
        size_t l = semi ? (size_t)(semi - p) : strlen(p);
        if (l) canonical_header(out, req, p, l);
        if (!semi) break;
        p = semi + 1;
    }
    lb_buf_puts(out, "\n");
    lb_buf_puts(out, signed_headers);
    lb_buf_puts(out, "\n");
    /* A client that says what it hashed (X-Amz-Content-SHA256) signed that. */
    const char *declared = lb_sigv4_header(req, "x-amz-content-sha256");
    lb_buf_puts(out, declared ? declared : req->payload_hash);
}

void lb_sigv4_string_to_sign(const char *amz_date, const char *scope, const char *canonical,
                             size_t canonical_len, lb_buf_t *out)
{
    char hash[65];
    lb_sigv4_sha256_hex(canonical, canonical_len, hash);
    lb_buf_printf(out, LB_SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash);
}

void lb_sigv4_signing_key(const char *secret, const char *date8, const char *region,
                          const char *service, unsigned char key[32])
{
    lb_buf_t k = {0};
    lb_buf_printf(&k, "AWS4%s", secret);
    unsigned char a[32], b[32];
    hmac(k.data, k.len, date8, strlen(date8), a);
    hmac(a, 32, region, strlen(region), b);
    hmac(b, 32, service, strlen(service), a);
    hmac(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k.data, k.len);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    lb_buf_free(&k);
}

void lb_sigv4_signature(const unsigned char key[32], const char *string_to_sign, size_t len,
                        char out[65])
{
    unsigned char mac[32];
    hmac(key, 32, string_to_sign, len, mac);
    to_hex(mac, 32, out);
}

/* Signature of req over signed_headers with the given scope parts and secret. */
static void compute(const lb_sigv4_request_t *req, const char *signed_headers, const char *amz_date,
                    const char *date8, const char *region, const char *service, const char *secret,
                    char out[65])
{
    lb_buf_t canonical = {0}, sts = {0}, scope = {0};
    lb_sigv4_canonical_request(req, signed_headers, &canonical);
    lb_buf_printf(&scope, "%s/%s/%s/aws4_request", date8, region, service);
    lb_sigv4_string_to_sign(amz_date, scope.data, canonical.data, canonical.len, &sts);
    unsigned char key[32];
    lb_sigv4_signing_key(secret, date8, region, service, key);
    lb_sigv4_signature(key, sts.data, sts.len, out);
    OPENSSL_cleanse(key, sizeof key);
    lb_buf_free(&canonical);
    lb_buf_free(&sts);
    lb_buf_free(&scope);
}

/* ---- signing ---- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int signable(const char *lower)
{
    for (size_t i = 0; i < sizeof unsigned_headers / sizeof *unsigned_headers; i++)
        if (strcmp(lower, unsigned_headers[i]) == 0) return 0;
    return strcmp(lower, "authorization") != 0;
}

void lb_sigv4_sign(const lb_sigv4_request_t *req, const lb_sigv4_creds_t *creds, const char *region,
                   const char *service, const char *amz_date, char **authorization)
{
    char **names = lb_xcalloc(req->n_headers + 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        char *lower = lb_strdup(req->headers[i].name);
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        int dup = 0;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(names[k], lower) == 0;
        if (dup || !signable(lower))
            free(lower);
        else
            names[n++] = lower;
    }
    qsort(names, n, sizeof *names, name_cmp);
    lb_buf_t signed_headers = {0}, out = {0};
    for (size_t i = 0; i < n; i++) {
        lb_buf_printf(&signed_headers, "%s%s", i ? ";" : "", names[i]);
        free(names[i]);
    }
    free(names);
    lb_buf_append(&signed_headers, "", 0);
    char date8[9], signature[65];
    snprintf(date8, sizeof date8, "%.8s", amz_date);
    compute(req, signed_headers.data, amz_date, date8, region, service, creds->secret_access_key,
            signature);
    lb_buf_printf(&out,
                  LB_SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                                     "Signature=%s",
                  creds->access_key_id, date8, region, service, signed_headers.data, signature);
    lb_buf_free(&signed_headers);
    *authorization = lb_buf_steal(&out, NULL);
}

/* ---- parsing and verifying ---- */

void lb_sigv4_auth_clear(lb_sigv4_auth_t *auth)
{
    free(auth->signed_headers);
    free(auth->session_token);
    memset(auth, 0, sizeof *auth);
}

/* Copies at most n-1 bytes of s[0..len) into out; -1 if it did not fit. */
static int copy_part(char *out, size_t n, const char *s, size_t len)
{
    size_t take = len < n ? len : n - 1;
    memcpy(out, s, take);
    out[take] = '\0';
    return len < n ? 0 : -1;
}

/* "AKID/20240101/us-east-1/events/aws4_request" into the auth's scope fields. A part that is
 * missing stays empty; the caller says which scope check failed, as AWS does. */
static void parse_credential(const char *cred, size_t len, lb_sigv4_auth_t *a)
{
    char *parts[5] = {a->access_key_id, a->date8, a->region, a->service, a->terminator};
    size_t sizes[5] = {sizeof a->access_key_id, sizeof a->date8, sizeof a->region,
                       sizeof a->service, sizeof a->terminator};
    const char *p = cred, *end = cred + len;
    for (int i = 0; i < 5; i++) {
        parts[i][0] = '\0';
        if (p > end) continue;
        const char *slash = i < 4 ? memchr(p, '/', (size_t)(end - p)) : NULL;
        const char *stop = slash ? slash : end;
        copy_part(parts[i], sizes[i], p, (size_t)(stop - p));
        p = stop + 1;
    }
}

/* The value of "Name=value" among the Authorization header's comma-separated components. */
static int component(const char *params, const char *name, const char **val, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = params; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        while (l && p[l - 1] == ' ')
            l--;
        if (l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *val = p + nl + 1;
            *len = l - nl - 1;
            return 0;
        }
        if (!comma) break;
        p = comma + 1;
    }
    return -1;
}

/* The request's time from given (X-Amz-Date), or failing that an HTTP Date header: 0, 1 when
 * there is none, -1 (with why) when it is malformed. */
static int request_time(const lb_sigv4_request_t *req, const char *given, lb_sigv4_auth_t *a,
                        lb_buf_t *why)
{
    const char *date = given;
    if (date) {
        if (lb_sigv4_parse_amz_date(date, &a->time_ms) == 0) {
            snprintf(a->amz_date, sizeof a->amz_date, "%s", date);
            return 0;
        }
    } else if ((date = lb_sigv4_header(req, "date")) && parse_http_date(date, &a->time_ms) == 0) {
        lb_sigv4_amz_date(a->time_ms, a->amz_date);
        return 0;
    }
    if (!date) return 1;
    lb_buf_printf(why,
                  "Date must be in ISO-8601 'basic format'. Got '%.64s'. See "
                  "http://en.wikipedia.org/wiki/ISO_8601",
                  date);
    return -1;
}

static void set_signature(lb_sigv4_auth_t *a, const char *cred, size_t cl, const char *sig,
                          size_t sl, const char *sh, size_t shl, const char *token)
{
    parse_credential(cred, cl, a);
    copy_part(a->signature, sizeof a->signature, sig, sl);
    a->signed_headers = lb_xmalloc(shl + 1);
    copy_part(a->signed_headers, shl + 1, sh, shl);
    a->session_token = token ? lb_strdup(token) : NULL;
}

static int parse_header(const lb_sigv4_request_t *req, const char *h, lb_sigv4_auth_t *a,
                        lb_buf_t *why)
{
    const char *cred = NULL, *sh = NULL, *sig = NULL;
    size_t cl = 0, shl = 0, sl = 0;
    const char *params = "";
    size_t alg = strlen(LB_SIGV4_ALGORITHM);
    if (strncmp(h, LB_SIGV4_ALGORITHM, alg) == 0 && (h[alg] == ' ' || h[alg] == '\0'))
        params = h + alg;
    int missing = 0;
    if (component(params, "Credential", &cred, &cl)) {
        lb_buf_puts(why, "Authorization header requires 'Credential' parameter. ");
        missing = 1;
    }
    if (component(params, "Signature", &sig, &sl)) {
        lb_buf_puts(why, "Authorization header requires 'Signature' parameter. ");
        missing = 1;
    }
    if (component(params, "SignedHeaders", &sh, &shl)) {
        lb_buf_puts(why, "Authorization header requires 'SignedHeaders' parameter. ");
        missing = 1;
    }
    lb_buf_t bad = {0};
    int t = request_time(req, lb_sigv4_header(req, "x-amz-date"), a, &bad);
    if (t > 0) {
        lb_buf_puts(why, "Authorization header requires existence of either a 'X-Amz-Date' or a "
                         "'Date' header. ");
        missing = 1;
    }
    if (missing) {
        lb_buf_printf(why, "Authorization=%.512s", h);
    } else if (t < 0) {
        lb_buf_puts(why, bad.data);
    }
    lb_buf_free(&bad);
    if (missing || t < 0) return LB_SIGV4_EINCOMPLETE;
    set_signature(a, cred, cl, sig, sl, sh, shl, lb_sigv4_header(req, "x-amz-security-token"));
    return 0;
}

/* The decoded value of query parameter name into out (reset first); -1 if absent. */
static int query_param(const char *query, const char *name, lb_buf_t *out)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t l = amp ? (size_t)(amp - p) : strlen(p);
        if (l >= nl && strncmp(p, name, nl) == 0 && (l == nl || p[nl] == '=')) {
            uri_decode(l > nl ? p + nl + 1 : "", l > nl ? l - nl - 1 : 0, out);
            return 0;
        }
        if (!amp) break;
        p = amp + 1;
    }
    return -1;
}

static int presigned(const char *query)
{
    lb_buf_t v = {0};
    int yes = query_param(query, "X-Amz-Signature", &v) == 0 ||
              query_param(query, "X-Amz-Credential", &v) == 0 ||
              query_param(query, "X-Amz-Algorithm", &v) == 0;
    lb_buf_free(&v);
    return yes;
}

static int parse_query(const lb_sigv4_request_t *req, lb_sigv4_auth_t *a, lb_buf_t *why)
{
    static const char *const names[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                                        "X-Amz-SignedHeaders", "X-Amz-Date"};
    lb_buf_t v[5] = {{0}}, token = {0}, expires = {0};
    int missing = 0;
    for (int i = 0; i < 5; i++) {
        if (query_param(req->query, names[i], &v[i])) {
            lb_buf_printf(why, "AWS query-string parameters must include '%s'. ", names[i]);
            missing = 1;
        }
    }
    int rc = 0;
    if (missing) {
        lb_buf_puts(why, "Re-examine the query-string parameters.");
        rc = LB_SIGV4_EINCOMPLETE;
    } else if (strcmp(v[0].data, LB_SIGV4_ALGORITHM) != 0) {
        lb_buf_printf(why, "Unsupported AWS 'algorithm': '%.64s'", v[0].data);
        rc = LB_SIGV4_EINCOMPLETE;
    } else if (request_time(req, v[4].data, a, why)) {
        rc = LB_SIGV4_EINCOMPLETE;
    } else {
        a->presigned = 1;
        a->expires_s = 0;
        if (query_param(req->query, "X-Amz-Expires", &expires) == 0) {
            char *end = NULL;
            long long e = strtoll(expires.data, &end, 10);
            a->expires_s = (end && *end == '\0' && e >= 0) ? (int64_t)e : -1;
        }
        int has_token = query_param(req->query, "X-Amz-Security-Token", &token) == 0;
        set_signature(a, v[1].data, v[1].len, v[2].data, v[2].len, v[3].data, v[3].len,
                      has_token ? token.data : lb_sigv4_header(req, "x-amz-security-token"));
    }
    for (int i = 0; i < 5; i++)
        lb_buf_free(&v[i]);
    lb_buf_free(&token);
    lb_buf_free(&expires);
    return rc;
}

int lb_sigv4_parse(const lb_sigv4_request_t *req, lb_sigv4_auth_t *out, lb_buf_t *why)
{
    memset(out, 0, sizeof *out);
    const char *h = lb_sigv4_header(req, "authorization");
    int rc;
    if (h)
        rc = parse_header(req, h, out, why);
    else if (presigned(req->query))
        rc = parse_query(req, out, why);
    else
        return LB_SIGV4_ENONE;
    if (rc) lb_sigv4_auth_clear(out);
    return rc;
}

int lb_sigv4_verify(const lb_sigv4_request_t *req, const lb_sigv4_auth_t *auth, const char *secret)
{
    char expected[65];
    compute(req, auth->signed_headers, auth->amz_date, auth->date8, auth->region, auth->service,
            secret, expected);
    return strlen(auth->signature) == 64 && CRYPTO_memcmp(expected, auth->signature, 64) == 0;
}

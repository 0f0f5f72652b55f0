#include "lb_sqs_md5.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void hex(const unsigned char *d, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void lb_sqs_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(data, len, d, &n, EVP_md5(), NULL);
    hex(d, n, out);
}

static void put_len(EVP_MD_CTX *ctx, size_t len)
{
    unsigned char be[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len};
    EVP_DigestUpdate(ctx, be, 4);
}

static void put_field(EVP_MD_CTX *ctx, const char *s, size_t len)
{
    put_len(ctx, len);
    EVP_DigestUpdate(ctx, s, len);
}

static int by_name(const void *a, const void *b)
{
    const lb_sqs_attr_t *x = *(const lb_sqs_attr_t *const *)a,
                        *y = *(const lb_sqs_attr_t *const *)b;
    return strcmp(x->name, y->name);
}

void lb_sqs_md5_attrs(const lb_sqs_attr_t *attrs, size_t n, char out[33])
{
    const lb_sqs_attr_t **sorted = lb_xcalloc(n ? n : 1, sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = &attrs[i];
    qsort(sorted, n, sizeof *sorted, by_name);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) abort();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; i < n; i++) {
        const lb_sqs_attr_t *a = sorted[i];
        put_field(ctx, a->name, strlen(a->name));
        put_field(ctx, a->data_type, strlen(a->data_type));
        unsigned char transport = a->binary ? 2 : 1;
        EVP_DigestUpdate(ctx, &transport, 1);
        put_field(ctx, a->value, a->value_len);
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, d, &len);
    EVP_MD_CTX_free(ctx);
    free(sorted);
    hex(d, len, out);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void lb_base64_encode(lb_buf_t *b, const void *data, size_t len)
{
    const unsigned char *p = data;
    char quad[4];
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len) v |= p[i + 2];
        quad[0] = b64[(v >> 18) & 63];
        quad[1] = b64[(v >> 12) & 63];
        quad[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < len ? b64[v & 63] : '=';
        lb_buf_append(b, quad, 4);
    }
    if (!b->data) lb_buf_append(b, "", 0);
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

int lb_base64_decode(const char *text, size_t len, char **out, size_t *out_len)
{
    /* Whitespace is allowed between groups (a base64 text may be wrapped); nothing else. */
    lb_buf_t clean = {0}, res = {0};
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ' && text[i] != '\t')
            lb_buf_append(&clean, &text[i], 1);
    int rc = 0;
    if (clean.len % 4) rc = -1;
    for (size_t i = 0; rc == 0 && i < clean.len; i += 4) {
        const char *q = clean.data + i;
        int last = i + 4 == clean.len;
        int v[4];
        for (int k = 0; k < 4; k++)
            v[k] = b64_value(q[k]);
        int pad = (q[3] == '=') + (q[2] == '=' && q[3] == '=');
        if (v[0] < 0 || v[1] < 0 || (pad && !last) || (pad < 2 && v[2] < 0) ||
            (pad < 1 && v[3] < 0)) {
            rc = -1;
            break;
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                     (uint32_t)(pad < 2 ? v[2] : 0) << 6 | (uint32_t)(pad < 1 ? v[3] : 0);
        unsigned char bytes[3] = {(unsigned char)(x >> 16), (unsigned char)(x >> 8),
                                  (unsigned char)x};
        lb_buf_append(&res, bytes, (size_t)(3 - pad));
    }
    lb_buf_free(&clean);
    if (rc) {
        lb_buf_free(&res);
        return -1;
    }
    if (!res.data) lb_buf_append(&res, "", 0);
    *out = lb_buf_steal(&res, out_len);
    return 0;
}

/* AES-256-GCM sealing. See lb_seal.h. */
#include "lb_seal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

#define NONCE 12
#define TAG 16

int lb_sealed(const char *text)
{
    return text && strncmp(text, LB_SEAL_PREFIX, strlen(LB_SEAL_PREFIX)) == 0;
}

/* AES-256-GCM in one direction over in[0..len) into out; the tag is written (encrypt) or
 * checked (decrypt). 0, or -EBADMSG when the tag does not match. */
static int gcm(int encrypt, const unsigned char *key, const unsigned char *nonce, const char *aad,
               const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) abort();
    int n = 0,
        ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL) == 1 &&
             EVP_CipherInit_ex(c, NULL, NULL, key, nonce, encrypt) == 1 &&
             EVP_CipherUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
    if (ok && !encrypt) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, tag) == 1;
    if (ok) ok = EVP_CipherFinal_ex(c, out + n, &n) == 1;
    if (ok && encrypt) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -EBADMSG;
}

int lb_seal(const unsigned char key[LB_SEAL_KEY_BYTES], const char *aad, const void *plain,
            size_t len, char **out)
{
    if (len > (1u << 30)) return -E2BIG;
    size_t raw_len = NONCE + len + TAG;
    unsigned char *raw = lb_xmalloc(raw_len);
    if (RAND_bytes(raw, NONCE) != 1) {
        free(raw);
        return -EIO;
    }
    int rc = gcm(1, key, raw, aad ? aad : "", plain, len, raw + NONCE, raw + NONCE + len);
    if (rc == 0) {
        size_t prefix = strlen(LB_SEAL_PREFIX);
        char *text = lb_xmalloc(prefix + 4 * ((raw_len + 2) / 3) + 1);
        memcpy(text, LB_SEAL_PREFIX, prefix);
        EVP_EncodeBlock((unsigned char *)text + prefix, raw, (int)raw_len);
        *out = text;
    }
    free(raw);
    return rc;
}

int lb_seal_open(const unsigned char key[LB_SEAL_KEY_BYTES], const char *aad, const char *sealed,
                 char **plain, size_t *len)
{
    if (!lb_sealed(sealed)) return -EINVAL;
    const char *b64 = sealed + strlen(LB_SEAL_PREFIX);
    size_t b64_len = strlen(b64);
    if (b64_len % 4 || b64_len < 4 * ((NONCE + TAG + 2) / 3)) return -EINVAL;
    unsigned char *raw = lb_xmalloc(b64_len / 4 * 3 + 1);
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64_len);
    if (n < 0) {
        free(raw);
        return -EINVAL;
    }
    /* EVP_DecodeBlock counts the padding as bytes: take it back off. */
    size_t raw_len = (size_t)n;
    for (size_t i = b64_len; i > 0 && b64[i - 1] == '='; i--)
        raw_len--;
    if (raw_len < NONCE + TAG) {
        free(raw);
        return -EINVAL;
    }
    size_t body = raw_len - NONCE - TAG;
    char *out = lb_xmalloc(body + 1);
    int rc = gcm(0, key, raw, aad ? aad : "", raw + NONCE, body, (unsigned char *)out,
                 raw + NONCE + body);
    free(raw);
    if (rc) {
        OPENSSL_cleanse(out, body);
        free(out);
        return rc;
    }
    out[body] = '\0';
    *plain = out;
    *len = body;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int lb_seal_key_parse(const char *text, size_t len, unsigned char key[LB_SEAL_KEY_BYTES])
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    while (len && (*text == ' ' || *text == '\n')) {
        text++;
        len--;
    }
    if (len != 2 * LB_SEAL_KEY_BYTES) return -EINVAL;
    for (size_t i = 0; i < LB_SEAL_KEY_BYTES; i++) {
        int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return -EINVAL;
        key[i] = (unsigned char)(hi * 16 + lo);
    }
    return 0;
}

int lb_seal_key_new(unsigned char key[LB_SEAL_KEY_BYTES])
{
    return RAND_bytes(key, LB_SEAL_KEY_BYTES) == 1 ? 0 : -EIO;
}

void lb_seal_key_format(const unsigned char key[LB_SEAL_KEY_BYTES], char out[66])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < LB_SEAL_KEY_BYTES; i++) {
        out[2 * i] = hex[key[i] >> 4];
        out[2 * i + 1] = hex[key[i] & 15];
    }
    out[64] = '\n';
    out[65] = '\0';
}

/* Secrets at rest: AES-256-GCM from libcrypto. A sealed value is text, so it fits any column:
 * "lbenc:v1:" then base64 of a fresh random 12-byte nonce, the ciphertext and the 16-byte tag.
 * The additional data (the row's key, say) binds a ciphertext to its place: moved to another
 * row it no longer opens. Keys are 32 random bytes kept as 64 hex digits in a key file the
 * daemon reads. No I/O here. */
#ifndef LB_SEAL_H
#define LB_SEAL_H

#include <stddef.h>

#define LB_SEAL_KEY_BYTES 32
#define LB_SEAL_PREFIX "lbenc:v1:"

/* 1 if text is a sealed value (by its prefix). */
int lb_sealed(const char *text);
/* Seals len bytes of plain under key with aad (may be ""); *out is malloc'd text. */
int lb_seal(const unsigned char key[LB_SEAL_KEY_BYTES], const char *aad, const void *plain,
            size_t len, char **out);
/* Opens a sealed value: *plain malloc'd and NUL-terminated, *len its length. -EINVAL if it is not
 * a sealed value, -EBADMSG if the key or aad is not the one it was sealed with (or it was
 * altered). */
int lb_seal_open(const unsigned char key[LB_SEAL_KEY_BYTES], const char *aad, const char *sealed,
                 char **plain, size_t *len);

/* A key file's text: 64 hex digits, surrounding whitespace allowed. -EINVAL otherwise. */
int lb_seal_key_parse(const char *text, size_t len, unsigned char key[LB_SEAL_KEY_BYTES]);
/* A new random key, and its text form for the key file (64 hex digits and a newline). */
int lb_seal_key_new(unsigned char key[LB_SEAL_KEY_BYTES]);
void lb_seal_key_format(const unsigned char key[LB_SEAL_KEY_BYTES], char out[66]);

#endif

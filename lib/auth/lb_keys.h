/* The access keys callers may sign with when `auth = sigv4`: the credentials_file, one key a
 * line as `ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID` (whitespace-separated; blank lines and
 * lines starting with '#' ignored). The key's account is the caller's account. Pure: the daemon
 * reads the file and hands its text in. A lb_keys_t owns copies of everything; secrets are wiped
 * when it is freed and never appear in error messages. */
#ifndef LB_KEYS_H
#define LB_KEYS_H

#include <stddef.h>

typedef struct lb_keys lb_keys_t;

typedef struct {
    const char *access_key_id, *secret, *account;
} lb_key_t;

/* Parses a credentials file's text (name is used in messages). On error -EINVAL and *err a
 * malloc'd "name:LINE: what is wrong" that never quotes a secret. */
int lb_keys_parse(const char *name, const char *text, size_t len, lb_keys_t **out, char **err);
void lb_keys_free(lb_keys_t **keys);
size_t lb_keys_count(const lb_keys_t *keys);
/* The key with this id, or NULL. Valid until lb_keys_free. */
const lb_key_t *lb_keys_find(const lb_keys_t *keys, const char *access_key_id);

#endif

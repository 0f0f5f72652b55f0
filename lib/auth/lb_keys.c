/* Caller access keys. See lb_keys.h. */
#include "lb_keys.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

struct lb_keys {
    lb_key_t *items; /* sorted by access_key_id */
    size_t n;
};

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const lb_key_t *)a)->access_key_id, ((const lb_key_t *)b)->access_key_id);
}

static int fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **err, const char *fmt, ...)
{
    lb_buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    lb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (err)
        *err = lb_buf_steal(&b, NULL);
    else
        lb_buf_free(&b);
    return -EINVAL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The next whitespace-separated word of line[*pos..len), or NULL. */
static char *word(const char *line, size_t len, size_t *pos)
{
    while (*pos < len && is_space(line[*pos]))
        (*pos)++;
    size_t start = *pos;
    while (*pos < len && !is_space(line[*pos]))
        (*pos)++;
    if (*pos == start) return NULL;
    char *w = lb_xmalloc(*pos - start + 1);
    memcpy(w, line + start, *pos - start);
    w[*pos - start] = '\0';
    return w;
}

static int account_ok(const char *a)
{
    return strlen(a) == 12 && strspn(a, "0123456789") == 12;
}

static void wipe_free(char *s)
{
    if (s) OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static int parse_line(lb_keys_t *k, const char *name, unsigned lineno, const char *line, size_t len,
                      char **err)
{
    size_t pos = 0;
    char *id = word(line, len, &pos);
    if (!id || id[0] == '#') {
        free(id);
        return 0;
    }
    char *secret = word(line, len, &pos), *account = word(line, len, &pos);
    char *extra = word(line, len, &pos);
    int rc = 0;
    if (!secret || !account || extra)
        rc =
            fail(err, "%s:%u: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID'", name, lineno);
    else if (!account_ok(account))
        rc = fail(err, "%s:%u: the account id of key %.128s must be exactly 12 digits", name,
                  lineno, id);
    else if (strlen(id) > 128)
        rc = fail(err, "%s:%u: an access key id is at most 128 characters", name, lineno);
    for (size_t i = 0; rc == 0 && i < k->n; i++)
        if (strcmp(k->items[i].access_key_id, id) == 0)
            rc = fail(err, "%s:%u: access key %s is listed twice", name, lineno, id);
    if (rc) {
        free(id);
        wipe_free(secret);
        free(account);
        wipe_free(extra);
        return rc;
    }
    k->items = lb_xrealloc(k->items, (k->n + 1) * sizeof *k->items);
    k->items[k->n++] = (lb_key_t){id, secret, account};
    return 0;
}

int lb_keys_parse(const char *name, const char *text, size_t len, lb_keys_t **out, char **err)
{
    if (err) *err = NULL;
    lb_keys_t *k = lb_xcalloc(1, sizeof *k);
    size_t pos = 0;
    for (unsigned lineno = 1; pos < len; lineno++) {
        const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        int rc = memchr(start, '\0', line_len)
                     ? fail(err, "%s:%u: line contains a NUL byte", name, lineno)
                     : parse_line(k, name, lineno, start, line_len, err);
        if (rc) {
            lb_keys_free(&k);
            return rc;
        }
    }
    if (k->n > 1) qsort(k->items, k->n, sizeof *k->items, key_cmp); /* items is NULL when empty */
    *out = k;
    return 0;
}

void lb_keys_free(lb_keys_t **kp)
{
    lb_keys_t *k = *kp;
    if (!k) return;
    for (size_t i = 0; i < k->n; i++) {
        free((char *)k->items[i].access_key_id);
        wipe_free((char *)k->items[i].secret);
        free((char *)k->items[i].account);
    }
    free(k->items);
    free(k);
    *kp = NULL;
}

size_t lb_keys_count(const lb_keys_t *k)
{
    return k ? k->n : 0;
}

const lb_key_t *lb_keys_find(const lb_keys_t *k, const char *access_key_id)
{
    if (!k || !access_key_id) return NULL;
    lb_key_t probe = {.access_key_id = access_key_id};
    return bsearch(&probe, k->items, k->n, sizeof *k->items, key_cmp);
}

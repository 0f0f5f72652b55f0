/* The secrets key file. See lb_keyfile.h. */
#include "lb_keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_util.h"

static char *message(const char *what, const char *path, const char *why)
{
    lb_buf_t b = {0};
    lb_buf_printf(&b, "%s %s: %s", what, path, why);
    return lb_buf_steal(&b, NULL);
}

/* Reads path: 0, -ENOENT when absent, another -errno, or -EINVAL when it is not a key. */
static int read_key(const char *path, unsigned char key[LB_SEAL_KEY_BYTES])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    char text[256];
    ssize_t n = read(fd, text, sizeof text);
    int rc = n < 0 ? -errno : 0;
    close(fd);
    if (rc == 0) rc = lb_seal_key_parse(text, (size_t)n, key);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

/* Creates path with a new key, 0600, failing if it exists (another process may race us). Synced
 * unless the store is not either (sqlite_synchronous = off, as `serve --ephemeral` runs): a key
 * lost with a crash there goes with the data it sealed. */
static int create_key(const char *path, unsigned char key[LB_SEAL_KEY_BYTES], int durable)
{
    char text[66];
    if (lb_seal_key_new(key)) return -EIO;
    lb_seal_key_format(key, text);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    ssize_t w = write(fd, text, 65);
    int rc = w == 65 && (!durable || fsync(fd) == 0) ? 0 : -EIO;
    close(fd);
    OPENSSL_cleanse(text, sizeof text);
    if (rc) unlink(path);
    return rc;
}

static int load_or_create(const char *path, unsigned char key[LB_SEAL_KEY_BYTES], int durable,
                          int *created)
{
    *created = 0;
    int rc = read_key(path, key);
    if (rc != -ENOENT) return rc;
    rc = create_key(path, key, durable);
    if (rc == -EEXIST) return read_key(path, key);
    *created = rc == 0;
    return rc;
}

int lb_keyfile_load(const struct lb_settings *cfg, const lb_log_t *log,
                    unsigned char key[LB_SEAL_KEY_BYTES], char **err)
{
    char path[4200];
    int created = 0, rc;
    int durable = cfg->sqlite_synchronous != LB_SQLITE_SYNC_OFF;
    *err = NULL;
    if (*cfg->secrets_key_file) {
        snprintf(path, sizeof path, "%s", cfg->secrets_key_file);
        rc = load_or_create(path, key, durable, &created);
    } else {
        rc = -ENOENT;
        if (cfg->config_file) {
            /* Beside the config: kept apart from the data it protects. */
            const char *slash = strrchr(cfg->config_file, '/');
            snprintf(path, sizeof path, "%.*s/localbridge.key",
                     slash ? (int)(slash - cfg->config_file) : 1, slash ? cfg->config_file : ".");
            rc = load_or_create(path, key, durable, &created);
            if (rc == -EACCES || rc == -EROFS || rc == -EPERM)
                lb_logf_warn(log,
                             "cannot keep the secrets key beside the config file; using the "
                             "data directory",
                             LB_LOG_STR("path", path));
        }
        if (rc == -ENOENT || rc == -EACCES || rc == -EROFS || rc == -EPERM) {
            snprintf(path, sizeof path, "%s/localbridge.key", cfg->data_dir);
            rc = load_or_create(path, key, durable, &created);
        }
    }
    if (rc == -EINVAL) {
        *err = message("secrets key file", path, "not a key (it must hold 64 hex digits)");
    } else if (rc) {
        *err = message("cannot read or create the secrets key file", path, strerror(-rc));
    } else if (created) {
        lb_logf_info(log, "created the key that encrypts connection secrets",
                     LB_LOG_STR("path", path));
    }
    return rc;
}

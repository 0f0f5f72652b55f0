#include "lb_pidlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_util.h"

struct lb_pidlock {
    int fd;
    char path[4200];
};

/* Who holds the lock: the kernel knows (F_GETLK); the file's text is the fallback. */
static pid_t lock_holder(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0) return fl.l_pid;
    char text[32] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n > 0) text[n] = '\0';
    long pid = strtol(text, NULL, 10);
    return pid > 0 ? (pid_t)pid : 0;
}

/* 1 if fd is still the file at path: a stopping owner unlinks the file after we opened it but
 * before we locked it, and a lock on an unlinked file guards nothing. */
static int still_at_path(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int lb_pidlock_acquire(const char *dir, lb_pidlock_t **out, pid_t *holder)
{
    lb_pidlock_t *l = lb_xcalloc(1, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s/%s", dir, LB_PIDLOCK_NAME);
    *holder = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            int rc = errno == EACCES ? -EROFS : -errno;
            free(l);
            return rc;
        }
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fcntl(fd, F_SETLK, &fl) < 0) {
            int rc = errno == EACCES || errno == EAGAIN ? -EBUSY : -errno;
            if (rc == -EBUSY) *holder = lock_holder(fd);
            close(fd);
            free(l);
            return rc;
        }
        if (!still_at_path(fd, l->path)) {
            close(fd);
            continue;
        }
        char text[32];
        int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) || pwrite(fd, text, (size_t)n, 0) != n) {
            int rc = -errno;
            unlink(l->path);
            close(fd);
            free(l);
            return rc;
        }
        l->fd = fd;
        *out = l;
        return 0;
    }
    free(l);
    return -EAGAIN;
}

const char *lb_pidlock_path(const lb_pidlock_t *lock)
{
    return lock->path;
}

void lb_pidlock_release(lb_pidlock_t **lock)
{
    lb_pidlock_t *l = *lock;
    if (!l) return;
    /* Unlink while still holding the lock, so no one can lock the file on its way out. */
    unlink(l->path);
    close(l->fd);
    free(l);
    *lock = NULL;
}

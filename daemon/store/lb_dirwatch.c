#include "lb_dirwatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lb_util.h"

struct lb_dirwatch {
    uv_poll_t poll;
    int fd;
    char *prefix;
    lb_dirwatch_fn fn;
    void *ctx;
};

static void on_events(uv_poll_t *p, int status, int events)
{
    lb_dirwatch_t *w = p->data;
    (void)events;
    if (status < 0) return;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    size_t plen = strlen(w->prefix);
    int hit = 0;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n <= 0) break;
        for (char *q = buf; q < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)q;
            if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_Q_OVERFLOW))
                hit = 1;
            else if (e->len && strncmp(e->name, w->prefix, plen) == 0)
                hit = 1;
            q += sizeof *e + e->len;
        }
    }
    if (hit) w->fn(w->ctx);
}

int lb_dirwatch_start(uv_loop_t *loop, const char *dir, const char *prefix, lb_dirwatch_fn fn,
                      void *ctx, lb_dirwatch_t **out)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return -errno;
    if (inotify_add_watch(fd, dir, IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    lb_dirwatch_t *w = lb_xcalloc(1, sizeof *w);
    w->fd = fd;
    w->prefix = lb_strdup(prefix);
    w->fn = fn;
    w->ctx = ctx;
    int rc = uv_poll_init(loop, &w->poll, fd);
    if (rc) {
        close(fd);
        free(w->prefix);
        free(w);
        return rc;
    }
    w->poll.data = w;
    uv_poll_start(&w->poll, UV_READABLE, on_events);
    *out = w;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    lb_dirwatch_t *w = h->data;
    close(w->fd);
    free(w->prefix);
    free(w);
}

void lb_dirwatch_stop(lb_dirwatch_t **wp)
{
    lb_dirwatch_t *w = *wp;
    if (!w) return;
    *wp = NULL;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_closed);
}

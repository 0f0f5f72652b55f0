#include "lb_curl.h"

#include <stdlib.h>

#include "lb_util.h"

struct lb_curl {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    lb_curl_done_fn done;
    lb_curl_idle_fn after;
    void *ctx;
    int closed;
};

/* A socket curl asked us to watch. */
typedef struct {
    uv_poll_t poll;
    curl_socket_t fd;
    lb_curl_t *curl;
} sock_ctx_t;

static void check_multi_info(lb_curl_t *c)
{
    CURLMsg *msg;
    int left;
    while (!c->closed && (msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        curl_multi_remove_handle(c->multi, easy);
        c->done(easy, result, c->ctx);
    }
    if (!c->closed && c->after) c->after(c->ctx);
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock_ctx_t *s = p->data;
    int flags = 0, running;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    lb_curl_t *c = s->curl;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    check_multi_info(c);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    lb_curl_t *c = userp;
    sock_ctx_t *s = socketp;
    (void)easy;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
            curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = lb_xcalloc(1, sizeof *s);
        s->fd = fd;
        s->curl = c;
        if (uv_poll_init_socket(c->loop, &s->poll, fd)) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(c->multi, fd, s);
    }
    int events = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT) events |= UV_READABLE;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT) events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *timer)
{
    lb_curl_t *c = timer->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(c);
}

static int on_curl_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    lb_curl_t *c = userp;
    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

int lb_curl_new(uv_loop_t *loop, lb_curl_done_fn done, lb_curl_idle_fn after, void *ctx,
                lb_curl_t **out)
{
    lb_curl_t *c = lb_xcalloc(1, sizeof *c);
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return -1;
    }
    c->loop = loop;
    c->done = done;
    c->after = after;
    c->ctx = ctx;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 256L);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    *out = c;
    return 0;
}

int lb_curl_add(lb_curl_t *c, CURL *easy)
{
    return curl_multi_add_handle(c->multi, easy) == CURLM_OK ? 0 : -1;
}

void lb_curl_remove(lb_curl_t *c, CURL *easy)
{
    curl_multi_remove_handle(c->multi, easy);
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void lb_curl_close(lb_curl_t *c)
{
    c->closed = 1;
    /* Cleaning up the multi handle makes curl release its sockets, which closes our polls. */
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

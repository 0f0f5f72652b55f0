/* libFuzzer target for the HTTP request path (daemon/lb_http.c + llhttp) in-process: the real
 * lb_http server listens on 127.0.0.1:0 on a libuv loop in this process (started once, reused by
 * every input), and each input is written as-is over a fresh loopback TCP connection, followed
 * by a half-close. The loop runs until the server has answered what it will and closed the
 * connection; a connection still open after a generous deadline is a hang and aborts.
 *
 * The handler answers requests the way the daemon does: an X-Amz-Target request goes through
 * lb_api_handle() (store work is refused as the daemon refuses it when its writer is gone, so
 * inputs stay independent), anything else gets an echo of what was parsed. Paths under /defer
 * are answered on a later loop iteration, which exercises pipelined requests waiting for a busy
 * connection and a client that hangs up while its request is with the handler. Seeds are in
 * tests/fuzz/http_seeds/. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "lb_api.h"
#include "lb_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEADLINE_MS 10000

static uv_loop_t loop;
static lb_http_server_t *server;
static lb_engine_t *engine;
static lb_api_t *api;
static lb_log_t log_quiet = {.level = LB_LOG_ERROR};

/* The one request answered later (one connection at a time, one request at a time on it). */
static lb_http_request_t *deferred;
static uv_timer_t defer_timer;

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_shutdown_t shutdown;
    char *data;
    size_t size;
    char head[16]; /* the start of the response */
    size_t head_len;
    int closed;
} client_t;

static void answer(lb_http_request_t *req)
{
    const char *target = lb_http_request_header(req, "X-Amz-Target");
    size_t len;
    const char *body = lb_http_request_body(req, &len);
    if (target) {
        lb_call_t call = {0};
        snprintf(call.region, sizeof call.region, "us-east-1");
        if (lb_api_region_from_auth(lb_http_request_header(req, "Authorization"), call.region,
                                    sizeof call.region))
            snprintf(call.region, sizeof call.region, "us-east-1");
        snprintf(call.request_id, sizeof call.request_id, "fuzz");
        call.account_id = "123456789012";
        call.now_ms = 1700000000000;
        call.admin = strcmp(lb_http_request_path(req), "/_localbridge/explain") == 0;
        lb_api_handle(api, &call, target, lb_http_request_header(req, "Content-Type"), body, len);
        if (call.txn) lb_call_complete(&call, LB_ESTORE);
        lb_http_respond(req, call.status, "application/x-amz-json-1.1", NULL, call.body.data,
                        call.body.len);
        lb_call_clear(&call);
        return;
    }
    char x[64] = "";
    (void)lb_http_query_param(lb_http_request_query(req), "x", x, sizeof x);
    const char *ct = lb_http_request_header(req, "content-type");
    lb_buf_t out = {0};
    lb_buf_printf(&out, "%s %s ? %s x=%s ct=%s len=%zu\n", lb_http_request_method(req),
                  lb_http_request_path(req), lb_http_request_query(req), x, ct ? ct : "-", len);
    lb_http_respond(req, 200, "text/plain", "X-Fuzz: 1\r\n", out.data, out.len);
    lb_buf_free(&out);
}

static void on_defer_timer(uv_timer_t *t)
{
    (void)t;
    lb_http_request_t *req = deferred;
    deferred = NULL;
    if (req) answer(req);
}

static void handler(lb_http_request_t *req, void *ctx)
{
    (void)ctx;
    if (strncmp(lb_http_request_path(req), "/defer", 6) == 0) {
        if (deferred) abort(); /* the server handed over a second request at once */
        deferred = req;
        uv_timer_start(&defer_timer, on_defer_timer, 0, 0);
        return;
    }
    answer(req);
}

static void init_once(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&loop)) abort();
    uv_timer_init(&loop, &defer_timer);
    if (lb_engine_new(&engine) || lb_api_new(engine, &api)) abort();
    lb_http_limits_t limits = {
        .max_body_size = 64 * 1024,
        .max_header_size = 8 * 1024,
        .max_connections = 4,
        .idle_timeout_ms = 3000,
        .request_timeout_ms = 3000,
    };
    if (lb_http_server_start(&loop, "127.0.0.1", 0, &limits, handler, NULL, &log_quiet, &server))
        abort();
}

static void on_client_closed(uv_handle_t *h)
{
    ((client_t *)h->data)->closed = 1;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    static char scratch[65536];
    (void)suggested;
    *buf = uv_buf_init(scratch, sizeof scratch);
}

static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client_t *c = s->data;
    if (nread > 0) {
        size_t n = sizeof c->head - c->head_len;
        if ((size_t)nread < n) n = (size_t)nread;
        memcpy(c->head + c->head_len, buf->base, n);
        c->head_len += n;
    } else if (nread < 0 && !uv_is_closing((uv_handle_t *)s)) {
        uv_close((uv_handle_t *)s, on_client_closed);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

static void on_write(uv_write_t *req, int status)
{
    (void)req;
    (void)status;
}

static void on_connect(uv_connect_t *req, int status)
{
    client_t *c = req->handle->data;
    if (status < 0) {
        fprintf(stderr, "fuzz_http: connect: %s\n", uv_strerror(status));
        abort();
    }
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_client_read);
    uv_buf_t buf = uv_buf_init(c->data, (unsigned)c->size);
    if (c->size) uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
    uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown);
}

static void on_deadline(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!server) init_once();
    client_t c = {0};
    c.data = malloc(size ? size : 1);
    if (!c.data) abort();
    memcpy(c.data, data, size);
    c.size = size;
    uv_tcp_init(&loop, &c.tcp);
    c.tcp.data = &c;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", lb_http_server_port(server), &addr);
    if (uv_tcp_connect(&c.connect, &c.tcp, (const struct sockaddr *)&addr, on_connect)) abort();

    int expired = 0;
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    deadline.data = &expired;
    uv_timer_start(&deadline, on_deadline, DEADLINE_MS, 0);
    while (!(c.closed && lb_http_server_connections(server) == 0 && !deferred &&
             lb_http_server_in_flight(server) == 0)) {
        if (expired) {
            fprintf(stderr,
                    "fuzz_http: connection still open after %d ms (%zu open, %zu in "
                    "flight)\n",
                    DEADLINE_MS, lb_http_server_connections(server),
                    lb_http_server_in_flight(server));
            abort();
        }
        uv_run(&loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&deadline, NULL);
    /* Let the server's close callbacks (and the timer's) run: nothing of this input outlives it. */
    uv_run(&loop, UV_RUN_NOWAIT);
    if (c.head_len && memcmp(c.head, "HTTP/1.1 ", c.head_len < 9 ? c.head_len : 9) != 0) {
        fprintf(stderr, "fuzz_http: response does not start with a status line\n");
        abort();
    }
    free(c.data);
    return 0;
}

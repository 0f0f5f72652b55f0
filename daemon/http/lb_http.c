#include "lb_http.h"

#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_call.h"
#include "lb_util.h"

#define MAX_HEADERS 100
/* Stop reading from a client whose pipelined backlog grows past this while it waits. */
#define MAX_PENDING_INPUT (4u << 20)
/* Stop reading and dispatching a connection's next request while more than this many bytes of
 * its responses wait to be written: a client that pipelines requests and never reads the
 * answers would otherwise make the daemon hold every answer in memory (B6). One response may
 * take it past the bound; the next request waits until the socket drains below it. */
#define MAX_PENDING_OUTPUT (1u << 20)

typedef struct lb_http_conn conn_t;

struct lb_http_request {
    conn_t *conn;
    lb_buf_t url;
    char *path, *query;
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
    int n_headers;
    lb_buf_t field, value; /* header being parsed */
    int in_value;
    lb_buf_t body;
    size_t header_bytes;
    char method[16];
    int keep_alive;
};

struct lb_http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    lb_http_server_t *server;
    conn_t *prev, *next;
    llhttp_t parser;
    lb_http_request_t req;
    lb_buf_t input; /* bytes received but not yet parsed */
    int busy;       /* a request is with the handler */
    /* lb_http_request_on_close: told if the client goes while its request waits. */
    void (*close_cb)(void *ctx);
    void *close_ctx;
    int in_process; /* process_input() is on the stack */
    int closing;    /* close once the current response is written */
    int closed;     /* uv_close called */
    int handles_open;
    int reading;
    int request_started; /* first byte of a request seen, message not complete */
    int error_status;    /* parser-level failure to answer with, then close */
    int output_full;     /* paused: responses not yet written exceed MAX_PENDING_OUTPUT */
    int streaming;       /* lb_http_stream_begin: the response body goes on until closed */
    lb_http_stream_close_fn on_stream_close;
    void *stream_ctx;
};

struct lb_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    lb_http_limits_t limits;
    lb_http_handler_fn handler;
    void *ctx;
    const lb_log_t *log;
    llhttp_settings_t settings;
    conn_t *conns;
    size_t n_conns;
    size_t n_alive; /* connections whose memory is not yet freed (closing ones included) */
    size_t in_flight;
    int port;
    int draining;
    int listener_open;
    int closing;
};

static void process_input(conn_t *c);
static void conn_close(conn_t *c);
static void update_reading(conn_t *c);
static void arm_timer(conn_t *c);
static void write_raw(conn_t *c, const char *data, size_t len);

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static void request_reset(lb_http_request_t *r)
{
    for (int i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    r->n_headers = 0;
    free(r->path);
    free(r->query);
    r->path = r->query = NULL;
    r->url.len = 0;
    r->field.len = r->value.len = 0;
    r->body.len = 0;
    r->in_value = 0;
    r->header_bytes = 0;
    r->method[0] = '\0';
    if (r->url.data) r->url.data[0] = '\0';
}

static void request_free(lb_http_request_t *r)
{
    request_reset(r);
    lb_buf_free(&r->url);
    lb_buf_free(&r->field);
    lb_buf_free(&r->value);
    lb_buf_free(&r->body);
}

/* ---- llhttp callbacks ---- */

static conn_t *parser_conn(llhttp_t *p)
{
    return p->data;
}

static int count_header_bytes(conn_t *c, size_t n)
{
    c->req.header_bytes += n;
    if (c->req.header_bytes > c->server->limits.max_header_size) {
        c->error_status = 431;
        return -1;
    }
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    conn_t *c = parser_conn(p);
    request_reset(&c->req);
    c->request_started = 1;
    /* The whole request must arrive within request_timeout (slowloris defence). */
    arm_timer(c);
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    conn_t *c = parser_conn(p);
    if (count_header_bytes(c, n)) return -1;
    lb_buf_append(&c->req.url, at, n);
    return 0;
}

static void finish_header(lb_http_request_t *r)
{
    if (!r->in_value) return;
    if (r->n_headers < MAX_HEADERS) {
        r->names[r->n_headers] = lb_buf_steal(&r->field, NULL);
        r->values[r->n_headers] = lb_buf_steal(&r->value, NULL);
        r->n_headers++;
    }
    r->field.len = r->value.len = 0;
    r->in_value = 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    conn_t *c = parser_conn(p);
    if (count_header_bytes(c, n)) return -1;
    finish_header(&c->req);
    lb_buf_append(&c->req.field, at, n);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    conn_t *c = parser_conn(p);
    if (count_header_bytes(c, n)) return -1;
    c->req.in_value = 1;
    lb_buf_append(&c->req.value, at, n);
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    conn_t *c = parser_conn(p);
    lb_http_request_t *r = &c->req;
    finish_header(r);
    if (r->n_headers >= MAX_HEADERS) {
        c->error_status = 431;
        return -1;
    }
    snprintf(r->method, sizeof r->method, "%s", llhttp_method_name((llhttp_method_t)p->method));
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->server->limits.max_body_size) {
        c->error_status = 413;
        return -1;
    }
    /* curl and some SDKs send "Expect: 100-continue" before a large body and wait up to a
     * second for the go-ahead; give it at once (the size check above already passed). */
    const char *expect = lb_http_request_header(r, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && p->http_major == 1 &&
        p->http_minor >= 1) {
        static const char go_ahead[] = "HTTP/1.1 100 Continue\r\n\r\n";
        write_raw(c, go_ahead, sizeof go_ahead - 1);
    }
    const char *url = r->url.data ? r->url.data : "/";
    const char *q = strchr(url, '?');
    r->path = q ? strndup(url, (size_t)(q - url)) : lb_strdup(url);
    r->query = lb_strdup(q ? q + 1 : "");
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    conn_t *c = parser_conn(p);
    if (c->req.body.len + n > c->server->limits.max_body_size) {
        c->error_status = 413;
        return -1;
    }
    lb_buf_append(&c->req.body, at, n);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    conn_t *c = parser_conn(p);
    c->req.keep_alive = llhttp_should_keep_alive(p);
    c->request_started = 0;
    /* Hand this request over before parsing the next one. */
    return HPE_PAUSED;
}

/* ---- writing ---- */

typedef struct {
    uv_write_t req;
    conn_t *conn;
    char *data;
} write_req_t;

static int output_full(conn_t *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > MAX_PENDING_OUTPUT;
}

static void on_write(uv_write_t *w, int status)
{
    write_req_t *wr = (write_req_t *)w;
    conn_t *c = wr->conn;
    free(wr->data);
    free(wr);
    if (status < 0 || (c->closing && !c->busy && !c->streaming)) {
        conn_close(c);
        return;
    }
    /* The client is reading again: take its next request. */
    if (c->output_full && !c->closed && !output_full(c)) {
        c->output_full = 0;
        lb_logf_debug(
            c->server->log, "connection drained its responses; reading again",
            LB_LOG_UINT("queued_bytes", uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp)));
        process_input(c);
    }
}

static void write_raw(conn_t *c, const char *data, size_t len)
{
    if (c->closed) return;
    write_req_t *wr = lb_xcalloc(1, sizeof *wr);
    wr->conn = c;
    wr->data = lb_xmalloc(len);
    memcpy(wr->data, data, len);
    uv_buf_t buf = uv_buf_init(wr->data, (unsigned)len);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write) < 0) {
        free(wr->data);
        free(wr);
        conn_close(c);
    }
}

static void send_response(conn_t *c, int status, const char *content_type,
                          const char *extra_headers, const char *body, size_t len)
{
    lb_buf_t out = {0};
    lb_buf_puts(&out, "HTTP/1.1 ");
    lb_buf_put_uint(&out, (uint64_t)status);
    lb_buf_append(&out, " ", 1);
    lb_buf_puts(&out, reason_phrase(status));
    lb_buf_append(&out, "\r\n", 2);
    /* A 304 has no body, and a Content-Length there would describe the 200's (RFC 9110 8.6). */
    if (status != 304) {
        lb_buf_puts(&out, "Content-Length: ");
        lb_buf_put_uint(&out, len);
        lb_buf_append(&out, "\r\n", 2);
    }
    if (content_type) {
        lb_buf_puts(&out, "Content-Type: ");
        lb_buf_puts(&out, content_type);
        lb_buf_append(&out, "\r\n", 2);
    }
    if (extra_headers) lb_buf_puts(&out, extra_headers);
    lb_buf_puts(&out, c->closing ? "Connection: close\r\n\r\n" : "\r\n");
    lb_buf_append(&out, body, len);
    write_req_t *wr = lb_xcalloc(1, sizeof *wr);
    wr->conn = c;
    size_t n;
    wr->data = lb_buf_steal(&out, &n);
    uv_buf_t buf = uv_buf_init(wr->data, (unsigned)n);
    if (c->closed || uv_write(&wr->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write) < 0) {
        free(wr->data);
        free(wr);
        conn_close(c);
    }
}

void lb_http_request_on_close(lb_http_request_t *req, void (*cb)(void *ctx), void *ctx)
{
    conn_t *c = req->conn;
    if (!c->busy) return;
    c->close_cb = cb;
    c->close_ctx = ctx;
    update_reading(c);
}

void lb_http_respond(lb_http_request_t *req, int status, const char *content_type,
                     const char *extra_headers, const char *body, size_t len)
{
    conn_t *c = req->conn;
    lb_http_server_t *s = c->server;
    if (!c->busy) return;
    c->busy = 0;
    c->close_cb = NULL;
    s->in_flight--;
    if (!req->keep_alive || s->draining) c->closing = 1;
    if (!c->closed) send_response(c, status, content_type, extra_headers, body, len);
    if (c->closed) {
        conn_close(c); /* finishes freeing a connection that went away meanwhile */
        return;
    }
    if (!c->closing) {
        arm_timer(c);
        process_input(c);
    }
}

void lb_http_stream_begin(lb_http_request_t *req, int status, const char *content_type,
                          const char *extra_headers, lb_http_stream_close_fn on_close, void *ctx)
{
    conn_t *c = req->conn;
    if (!c->busy) return;
    c->busy = 0;
    c->server->in_flight--;
    if (c->closed) {
        /* The client went while the handler had the request: no stream, only its end. */
        on_close(ctx);
        conn_close(c);
        return;
    }
    c->streaming = 1;
    c->closing = 1; /* no request after this one */
    c->input.len = 0;
    c->on_stream_close = on_close;
    c->stream_ctx = ctx;
    lb_buf_t out = {0};
    lb_buf_printf(&out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-cache\r\n", status,
                  reason_phrase(status), content_type);
    if (extra_headers) lb_buf_puts(&out, extra_headers);
    lb_buf_puts(&out, "Connection: close\r\n\r\n");
    write_raw(c, out.data, out.len);
    lb_buf_free(&out);
    if (c->closed) {
        conn_close(c);
        return;
    }
    update_reading(c);
}

int lb_http_stream_write(lb_http_request_t *req, const char *data, size_t len, size_t max_queued)
{
    conn_t *c = req->conn;
    if (c->closed || !c->streaming) return -1;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > max_queued) return -1;
    write_raw(c, data, len);
    return c->closed ? -1 : 0;
}

void lb_http_stream_end(lb_http_request_t *req)
{
    conn_t *c = req->conn;
    c->on_stream_close = NULL;
    conn_close(c);
}

/* An HTTP-level failure, answered in the API's error shape (proto's error table) with a request
 * id like every other response, then the connection closes. */
static void respond_error_and_close(conn_t *c, lb_aws_error_t err, const char *message)
{
    lb_buf_t body = {0};
    char id[37], headers[64];
    int status = lb_aws_error_body(&body, err, message);
    if (lb_uuid_v4(id)) snprintf(id, sizeof id, "unknown");
    snprintf(headers, sizeof headers, "x-amzn-RequestId: %s\r\n", id);
    c->closing = 1;
    send_response(c, status, "application/x-amz-json-1.1", headers, body.data, body.len);
    lb_buf_free(&body);
}

/* ---- reading ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void update_reading(conn_t *c)
{
    /* A request waiting with a close watch (a long poll) keeps reading, to see the client go;
     * bytes of a pipelined request only queue meanwhile. */
    int want = !c->closed && !c->closing && c->input.len < MAX_PENDING_INPUT &&
               (!c->busy || c->close_cb) && !c->output_full;
    /* A stream reads (and drops) whatever comes, to notice the client going. */
    if (c->streaming && !c->closed) want = 1;
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read) == 0) c->reading = 1;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

static void dispatch(conn_t *c)
{
    lb_http_server_t *s = c->server;
    c->busy = 1;
    s->in_flight++;
    uv_timer_stop(&c->timer);
    c->req.conn = c;
    s->handler(&c->req, s->ctx);
}

static void process_input(conn_t *c)
{
    if (c->in_process) return;
    c->in_process = 1;
    while (!c->busy && !c->closing && !c->closed && c->input.len > 0) {
        if (output_full(c)) {
            if (!c->output_full)
                lb_logf_debug(c->server->log,
                              "client is not reading its responses; pausing its connection",
                              LB_LOG_UINT("queued_bytes",
                                          uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp)));
            c->output_full = 1;
            break;
        }
        llhttp_errno_t err = llhttp_execute(&c->parser, c->input.data, c->input.len);
        size_t consumed = c->input.len;
        if (err == HPE_PAUSED) {
            consumed = (size_t)(llhttp_get_error_pos(&c->parser) - c->input.data);
            llhttp_resume(&c->parser);
        }
        if (err == HPE_OK || err == HPE_PAUSED) {
            memmove(c->input.data, c->input.data + consumed, c->input.len - consumed);
            c->input.len -= consumed;
            if (err == HPE_PAUSED) dispatch(c);
            continue;
        }
        c->input.len = 0;
        if (c->error_status == 413)
            respond_error_and_close(c, LB_AWS_ENTITY_TOO_LARGE,
                                    "Request body exceeds the configured max_body_size.");
        else if (c->error_status == 431)
            respond_error_and_close(c, LB_AWS_HEADERS_TOO_LARGE,
                                    "Request headers exceed the configured limits.");
        else
            respond_error_and_close(c, LB_AWS_BAD_REQUEST, "Malformed HTTP request.");
    }
    c->in_process = 0;
    update_reading(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = stream->data;
    if (nread > 0 && c->streaming) {
        free(buf->base);
        return;
    }
    if (nread > 0) {
        lb_buf_append(&c->input, buf->base, (size_t)nread);
        free(buf->base);
        /* No timer re-arm here: bytes that start no request (blank lines the parser skips)
         * must not renew the idle timeout, or a client trickling CRLFs holds the connection
         * forever. A request's first byte arms the request timer in on_message_begin. */
        process_input(c);
        return;
    }
    free(buf->base);
    if (nread < 0) {
        /* EOF or error: a request already with the handler still gets its answer written if
         * the socket allows; the connection is freed after that. */
        c->closing = 1;
        if (!c->busy) {
            conn_close(c);
        } else {
            update_reading(c);
            void (*cb)(void *) = c->close_cb;
            c->close_cb = NULL;
            if (cb) cb(c->close_ctx); /* may answer the request, and so free the connection */
        }
    }
}

/* ---- timers and lifecycle ---- */

static void on_timer(uv_timer_t *t)
{
    conn_t *c = t->data;
    if (c->busy) return;
    if (c->request_started) {
        respond_error_and_close(c, LB_AWS_REQUEST_TIMEOUT, "Request was not received in time.");
        return;
    }
    conn_close(c);
}

/* (Re)arms the connection's one timer: the request deadline while a request is arriving, the
 * idle timeout between requests. */
static void arm_timer(conn_t *c)
{
    const lb_http_limits_t *l = &c->server->limits;
    uint64_t ms = c->request_started ? l->request_timeout_ms : l->idle_timeout_ms;
    if (ms) uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->handles_open > 0) return;
    lb_http_server_t *s = c->server;
    request_free(&c->req);
    lb_buf_free(&c->input);
    free(c);
    s->n_alive--;
    if (s->closing && s->n_alive == 0 && !s->listener_open) free(s);
}

static void conn_close(conn_t *c)
{
    lb_http_server_t *s = c->server;
    if (!c->closed) {
        c->closed = 1;
        c->closing = 1;
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        s->n_conns--;
        uv_timer_stop(&c->timer);
        if (c->on_stream_close) {
            lb_http_stream_close_fn fn = c->on_stream_close;
            c->on_stream_close = NULL;
            fn(c->stream_ctx);
        }
        if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
    /* A request still with the handler keeps the connection's memory alive. Closing twice is
     * a libuv assertion: a write cancelled by the first uv_close() comes back here. */
    if (c->busy || c->handles_open != 2 || uv_is_closing((uv_handle_t *)&c->tcp)) return;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_connection(uv_stream_t *listener, int status)
{
    lb_http_server_t *s = listener->data;
    if (status < 0) return;
    conn_t *c = lb_xcalloc(1, sizeof *c);
    c->server = s;
    s->n_alive++;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
        return;
    }
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    if (s->n_conns > (size_t)s->limits.max_connections || s->draining) {
        respond_error_and_close(c, LB_AWS_SERVICE_UNAVAILABLE, "Too many connections.");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    llhttp_init(&c->parser, HTTP_REQUEST, &s->settings);
    c->parser.data = c;
    arm_timer(c);
    update_reading(c);
}

int lb_http_server_start(uv_loop_t *loop, const char *host, int port,
                         const lb_http_limits_t *limits, lb_http_handler_fn handler, void *ctx,
                         const lb_log_t *log, lb_http_server_t **out)
{
    struct sockaddr_storage addr;
    int rc;
    if (strchr(host, ':'))
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
    else
        rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc) return rc;
    lb_http_server_t *s = lb_xcalloc(1, sizeof *s);
    s->loop = loop;
    s->limits = *limits;
    s->handler = handler;
    s->ctx = ctx;
    s->log = log;
    llhttp_settings_init(&s->settings);
    s->settings.on_message_begin = on_message_begin;
    s->settings.on_url = on_url;
    s->settings.on_header_field = on_header_field;
    s->settings.on_header_value = on_header_value;
    s->settings.on_headers_complete = on_headers_complete;
    s->settings.on_body = on_body;
    s->settings.on_message_complete = on_message_complete;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listener_open = 1;
    if ((rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0)) ||
        (rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection))) {
        s->closing = 1;
        lb_http_server_close(s);
        return rc;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    *out = s;
    return 0;
}

int lb_http_server_port(const lb_http_server_t *s)
{
    return s->port;
}

void lb_http_server_set_limits(lb_http_server_t *s, const lb_http_limits_t *limits)
{
    s->limits = *limits;
}

size_t lb_http_server_in_flight(const lb_http_server_t *s)
{
    return s->in_flight;
}

size_t lb_http_server_connections(const lb_http_server_t *s)
{
    return s->n_conns;
}

static void on_listener_closed(uv_handle_t *h)
{
    lb_http_server_t *s = h->data;
    s->listener_open = 0;
    if (s->closing && s->n_alive == 0) free(s);
}

void lb_http_server_drain(lb_http_server_t *s)
{
    if (s->draining) return;
    s->draining = 1;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    conn_t *c = s->conns;
    while (c) {
        conn_t *next = c->next;
        if (!c->busy)
            conn_close(c);
        else
            c->closing = 1;
        c = next;
    }
}

void lb_http_server_close(lb_http_server_t *s)
{
    if (!s->draining) {
        s->draining = 1;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    }
    s->closing = 1;
    conn_t *c = s->conns;
    while (c) {
        conn_t *next = c->next;
        c->busy = 0;
        conn_close(c);
        c = next;
    }
    /* After a drain the listener is already closed: with no connection left to close, no
     * callback will come to free the server, so free it here. */
    if (!s->listener_open && s->n_alive == 0) free(s);
}

/* ---- request accessors ---- */

const char *lb_http_request_method(const lb_http_request_t *req)
{
    return req->method;
}

const char *lb_http_request_path(const lb_http_request_t *req)
{
    return req->path ? req->path : "/";
}

const char *lb_http_request_query(const lb_http_request_t *req)
{
    return req->query ? req->query : "";
}

const char *lb_http_request_header(const lb_http_request_t *req, const char *name)
{
    for (int i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->names[i], name) == 0) return req->values[i];
    return NULL;
}

size_t lb_http_request_header_count(const lb_http_request_t *req)
{
    return (size_t)req->n_headers;
}

void lb_http_request_header_at(const lb_http_request_t *req, size_t i, const char **name,
                               const char **value)
{
    *name = req->names[i];
    *value = req->values[i];
}

const char *lb_http_request_body(const lb_http_request_t *req, size_t *len)
{
    *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

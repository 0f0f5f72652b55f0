#include "lb_hclient.h"

#include <errno.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_util.h"

/* Idle keep-alive connections kept per host, and how long a name's address is believed. */
#define IDLE_PER_HOST 64
#define RESOLVE_TTL_MS 30000

typedef struct host host_t;
typedef struct conn conn_t;
typedef struct request request_t;

struct host {
    host_t *next;
    lb_hclient_t *client;
    char *name; /* as in the URL, brackets removed */
    int port;
    struct sockaddr_storage addr;
    int resolved, resolving;
    uint64_t resolved_until;
    uv_getaddrinfo_t gai;
    request_t *waiting; /* requests waiting for the address */
    conn_t *idle;
    size_t n_idle;
};

struct conn {
    uv_tcp_t tcp;
    conn_t *next_idle;
    conn_t *prev, *next; /* every connection of the client */
    host_t *host;
    request_t *req;
    llhttp_t parser;
    char field[64]; /* the header name being read, when it may be the one asked for */
    size_t field_len;
    int capturing; /* its value is the captured header's */
    int reused, closing;
    int writing; /* a request's head or body is still being written */
};

struct request {
    request_t *prev, *next; /* every request of the client */
    request_t *next_waiting;
    lb_hclient_t *client;
    host_t *host;
    conn_t *conn;
    char *head; /* request line and headers */
    size_t head_len;
    const char *body; /* borrowed until the completion */
    size_t body_len;
    uv_timer_t timer;
    lb_transport_done_fn done;
    void *ctx;
    int is_head, retried, got_bytes, finished;
    int sending;             /* inside lb_hclient_send */
    const char *early_error; /* a failure met inside lb_hclient_send, for the timer to report */
    long status;
    lb_response_buf_t response;
    char want[64]; /* capture_header, "" for none */
    char header[LB_TRANSPORT_HEADER_KEEP];
    size_t header_len;
    int has_header;
};

struct lb_hclient {
    uv_loop_t *loop;
    llhttp_settings_t settings;
    host_t *hosts;
    conn_t *conns;
    request_t *requests;
    size_t open_handles;
    int freeing;
};

static void conn_close(conn_t *c);
static void start_connection(request_t *r);
static void maybe_release(lb_hclient_t *c);
static void on_timeout(uv_timer_t *t);

/* ---- URLs ---- */

typedef struct {
    const char *host; /* start of the host in the URL */
    size_t host_len;
    int port;
    const char *path; /* "/..." or "" */
} url_t;

static int parse_url(const char *url, url_t *u)
{
    if (strncmp(url, "http://", 7) != 0) return -EINVAL;
    const char *h = url + 7, *end;
    /* user:password@ in the authority is basic authentication, which libcurl sends: not ours. */
    const char *at = strchr(h, '@');
    if (at && at < h + strcspn(h, "/?#")) return -EINVAL;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end) return -EINVAL;
        u->host = h + 1;
        u->host_len = (size_t)(end - h - 1);
        end++;
    } else {
        end = h + strcspn(h, ":/?#");
        u->host = h;
        u->host_len = (size_t)(end - h);
    }
    if (!u->host_len || u->host_len > 255) return -EINVAL;
    u->port = 80;
    if (*end == ':') {
        char *after;
        /* Digits only: strtol alone would take "+80" or " 80". */
        if (end[1] < '0' || end[1] > '9') return -EINVAL;
        long p = strtol(end + 1, &after, 10);
        if (p < 1 || p > 65535) return -EINVAL;
        u->port = (int)p;
        end = after;
    }
    if (*end && *end != '/' && *end != '?') return -EINVAL;
    u->path = end;
    return 0;
}

int lb_hclient_handles(const char *url)
{
    url_t u;
    return parse_url(url, &u) == 0;
}

/* ---- completion ---- */

static void on_timer_closed(uv_handle_t *h)
{
    request_t *r = h->data;
    lb_hclient_t *c = r->client;
    free(r->head);
    lb_response_free(&r->response);
    free(r);
    c->open_handles--;
    maybe_release(c);
}

static void unlink_request(request_t *r)
{
    lb_hclient_t *c = r->client;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->requests = r->next;
    if (r->next) r->next->prev = r->prev;
}

/* A request can end while it waits for its host's address (its timeout, lb_hclient_free): it
 * must leave the waiting list then, or on_resolved would walk it after it was freed. */
static void unlink_waiting(request_t *r)
{
    for (request_t **p = &r->host->waiting; *p; p = &(*p)->next_waiting)
        if (*p == r) {
            *p = r->next_waiting;
            return;
        }
}

/* Ends a request: the completion runs and the request goes. */
static void finish(request_t *r, const lb_http_result_t *res)
{
    if (r->finished) return;
    r->finished = 1;
    uv_timer_stop(&r->timer);
    if (r->conn) r->conn->req = NULL;
    r->conn = NULL;
    unlink_waiting(r);
    unlink_request(r);
    lb_http_result_t out = *res;
    out.header = res->answered && r->has_header ? r->header : NULL;
    out.body = lb_response_data(&r->response);
    out.body_len = r->response.len;
    r->done(r->ctx, &out);
    uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

static void fail(request_t *r, const char *error, int timed_out)
{
    /* Some failures come inside lb_hclient_send (connect(2) refusing at once with ENETUNREACH,
     * a lookup that cannot start), where the caller does not expect the completion yet: the
     * request's timer reports them on the next loop turn instead. */
    if (r->sending) {
        r->early_error = error;
        uv_timer_start(&r->timer, on_timeout, 0, 0);
        return;
    }
    lb_http_result_t res = {.timed_out = timed_out, .error = error};
    finish(r, &res);
}

/* ---- connections ---- */

static void on_conn_closed(uv_handle_t *h)
{
    conn_t *k = h->data;
    lb_hclient_t *c = k->host->client;
    free(k);
    c->open_handles--;
    maybe_release(c);
}

static void remove_idle(conn_t *k)
{
    host_t *h = k->host;
    for (conn_t **p = &h->idle; *p; p = &(*p)->next_idle)
        if (*p == k) {
            *p = k->next_idle;
            h->n_idle--;
            return;
        }
}

static void conn_close(conn_t *k)
{
    if (k->closing) return;
    k->closing = 1;
    lb_hclient_t *c = k->host->client;
    if (!k->req) remove_idle(k);
    if (k->prev)
        k->prev->next = k->next;
    else
        c->conns = k->next;
    if (k->next) k->next->prev = k->prev;
    uv_close((uv_handle_t *)&k->tcp, on_conn_closed);
}

/* The connection broke while r used it: once more on a fresh connection when nothing came back
 * on a reused one (the server had closed it while idle), else the request fails. */
static void conn_broke(conn_t *k, const char *error)
{
    request_t *r = k->req;
    conn_close(k);
    if (!r) return;
    r->conn = NULL;
    k->req = NULL;
    if (k->reused && !r->got_bytes && !r->retried) {
        r->retried = 1;
        start_connection(r);
        return;
    }
    fail(r, error, 0);
}

static void park_idle(conn_t *k)
{
    host_t *h = k->host;
    if (h->n_idle >= IDLE_PER_HOST || h->client->freeing) {
        conn_close(k);
        return;
    }
    k->next_idle = h->idle;
    h->idle = k;
    h->n_idle++;
}

/* ---- the answer ---- */

static conn_t *parser_conn(llhttp_t *p)
{
    return p->data;
}

static int on_headers_complete(llhttp_t *p)
{
    conn_t *k = parser_conn(p);
    if (k->req) k->req->status = p->status_code;
    /* An answer to HEAD has no body whatever its headers say. */
    return k->req && k->req->is_head && p->status_code >= 200 ? 1 : 0;
}

/* Header names and values come in pieces: the name is gathered, then the value of the one a
 * request asked for is kept. */
static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    conn_t *k = parser_conn(p);
    if (k->field_len + n < sizeof k->field) memcpy(k->field + k->field_len, at, n);
    k->field_len += n;
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    conn_t *k = parser_conn(p);
    request_t *r = k->req;
    k->capturing = r && r->want[0] && k->field_len == strlen(r->want) &&
                   strncasecmp(k->field, r->want, k->field_len) == 0;
    if (k->capturing) r->header_len = 0;
    k->field_len = 0;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    conn_t *k = parser_conn(p);
    request_t *r = k->req;
    if (!k->capturing || !r) return 0;
    size_t room = sizeof r->header - 1 - r->header_len;
    if (n > room) n = room;
    memcpy(r->header + r->header_len, at, n);
    r->header_len += n;
    r->header[r->header_len] = '\0';
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    conn_t *k = parser_conn(p);
    if (k->capturing && k->req) k->req->has_header = 1;
    k->capturing = 0;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    request_t *r = parser_conn(p)->req;
    if (!r) return 0;
    lb_response_add(&r->response, at, n);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    conn_t *k = parser_conn(p);
    request_t *r = k->req;
    /* 1xx answers are interim: the real one follows on the same connection. */
    if (!r || (p->status_code >= 100 && p->status_code < 200)) return 0;
    /* An answer that came before the whole request was written (a target refusing early) ends
     * the connection first: the borrowed body may go away with the completion, and libuv must
     * not write any more of it. */
    int keep = llhttp_should_keep_alive(p) && !k->writing;
    if (!keep) conn_close(k);
    lb_http_result_t res = {.answered = 1, .status = r->status};
    finish(r, &res);
    if (keep) park_idle(k);
    return HPE_PAUSED; /* nothing after this answer belongs to it */
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = lb_xmalloc(suggested);
    buf->len = suggested;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *k = s->data;
    request_t *r = k->req;
    if (k->closing) {
        /* nothing: what arrives after the end is dropped */
    } else if (n > 0 && r) {
        r->got_bytes = 1;
        llhttp_errno_t err = llhttp_execute(&k->parser, buf->base, (size_t)n);
        if (err != HPE_OK && err != HPE_PAUSED && k->req)
            conn_broke(k, "the target's answer is not valid HTTP");
    } else if (n == UV_EOF && r && r->got_bytes) {
        /* A body delimited by the connection's close ends here (the completion runs inside
         * llhttp_finish); any other answer was cut short. */
        llhttp_finish(&k->parser);
        if (k->req) conn_broke(k, "the target closed the connection in the middle of its answer");
    } else if (n < 0 && r) {
        conn_broke(k, n == UV_EOF ? "the target closed the connection without answering"
                                  : uv_strerror((int)n));
    } else if (n != 0) {
        conn_close(k); /* an idle connection closed, or sent what nobody asked for */
    }
    free(buf->base);
}

/* ---- sending ---- */

/* A write belongs to its connection, not to the request: a request retried on a fresh
 * connection must not hear about the write that failed on the old one. */
static void on_written(uv_write_t *w, int status)
{
    conn_t *k = w->data;
    free(w);
    k->writing = 0;
    if (status < 0 && k->req && !k->closing) conn_broke(k, uv_strerror(status));
}

static void attach(request_t *r, conn_t *k)
{
    r->conn = k;
    k->req = r;
    llhttp_init(&k->parser, HTTP_RESPONSE, &r->client->settings);
    k->parser.data = k;
    uv_buf_t bufs[2] = {uv_buf_init(r->head, (unsigned)r->head_len),
                        uv_buf_init((char *)r->body, (unsigned)r->body_len)};
    uv_write_t *w = lb_xmalloc(sizeof *w);
    w->data = k;
    int rc = uv_write(w, (uv_stream_t *)&k->tcp, bufs, r->body_len ? 2 : 1, on_written);
    if (rc) {
        free(w);
        conn_broke(k, uv_strerror(rc));
    } else {
        k->writing = 1;
    }
}

static void on_connect(uv_connect_t *cr, int status)
{
    conn_t *k = cr->data;
    free(cr);
    if (k->closing) return;
    if (status < 0) {
        conn_broke(k, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&k->tcp, 1);
    uv_read_start((uv_stream_t *)&k->tcp, alloc_cb, on_read);
    request_t *r = k->req;
    k->req = NULL;
    if (r) attach(r, k);
}

static void connect_to(request_t *r)
{
    lb_hclient_t *c = r->client;
    conn_t *k = lb_xcalloc(1, sizeof *k);
    k->host = r->host;
    uv_tcp_init(c->loop, &k->tcp);
    k->tcp.data = k;
    c->open_handles++;
    k->next = c->conns;
    if (c->conns) c->conns->prev = k;
    c->conns = k;
    k->req = r; /* attached for real once connected */
    r->conn = k;
    uv_connect_t *cr = lb_xcalloc(1, sizeof *cr);
    cr->data = k;
    int rc = uv_tcp_connect(cr, &k->tcp, (const struct sockaddr *)&r->host->addr, on_connect);
    if (rc) {
        free(cr);
        conn_broke(k, uv_strerror(rc));
    }
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
    host_t *h = g->data;
    lb_hclient_t *c = h->client;
    h->resolving = 0;
    c->open_handles--;
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *a = res; a && status == 0; a = a->ai_next)
        if (!pick || (a->ai_family == AF_INET && pick->ai_family != AF_INET)) pick = a;
    if (pick) {
        memcpy(&h->addr, pick->ai_addr, pick->ai_addrlen);
        if (h->addr.ss_family == AF_INET)
            ((struct sockaddr_in *)&h->addr)->sin_port = htons((uint16_t)h->port);
        else
            ((struct sockaddr_in6 *)&h->addr)->sin6_port = htons((uint16_t)h->port);
        h->resolved = 1;
        h->resolved_until = uv_now(c->loop) + RESOLVE_TTL_MS;
    }
    uv_freeaddrinfo(res);
    request_t *r = h->waiting;
    h->waiting = NULL;
    while (r) {
        request_t *next = r->next_waiting;
        if (!r->finished) {
            if (pick && !c->freeing)
                connect_to(r);
            else
                fail(r, status ? uv_strerror(status) : "the target's host name has no address", 0);
        }
        r = next;
    }
    maybe_release(c);
}

static void start_connection(request_t *r)
{
    host_t *h = r->host;
    lb_hclient_t *c = r->client;
    if (h->resolved && uv_now(c->loop) < h->resolved_until) {
        connect_to(r);
        return;
    }
    r->next_waiting = h->waiting;
    h->waiting = r;
    if (h->resolving) return;
    h->resolving = 1;
    h->gai.data = h;
    char port[8];
    snprintf(port, sizeof port, "%d", h->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    c->open_handles++;
    int rc = uv_getaddrinfo(c->loop, &h->gai, on_resolved, h->name, port, &hints);
    if (rc) on_resolved(&h->gai, rc, NULL);
}

static host_t *host_for(lb_hclient_t *c, const url_t *u)
{
    for (host_t *h = c->hosts; h; h = h->next)
        if (h->port == u->port && strlen(h->name) == u->host_len &&
            strncasecmp(h->name, u->host, u->host_len) == 0)
            return h;
    host_t *h = lb_xcalloc(1, sizeof *h);
    h->client = c;
    h->name = lb_xmalloc(u->host_len + 1);
    memcpy(h->name, u->host, u->host_len);
    h->name[u->host_len] = '\0';
    h->port = u->port;
    /* An address literal needs no lookup. */
    struct sockaddr_in *a4 = (struct sockaddr_in *)&h->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&h->addr;
    if (uv_ip4_addr(h->name, h->port, a4) == 0 || uv_ip6_addr(h->name, h->port, a6) == 0) {
        h->resolved = 1;
        h->resolved_until = UINT64_MAX;
    }
    h->next = c->hosts;
    c->hosts = h;
    return h;
}

static char *request_head(const lb_http_call_t *req, const url_t *u, size_t body_len, int has_body,
                          size_t *len)
{
    lb_buf_t b = {0};
    int v6 = memchr(u->host, ':', u->host_len) != NULL;
    lb_buf_puts(&b, req->method);
    lb_buf_append(&b, " ", 1);
    /* The request target starts with "/" even when the URL goes straight from the authority
     * to its query ("http://host?q"); curl sends "/?q" there too. */
    if (*u->path != '/') lb_buf_append(&b, "/", 1);
    lb_buf_puts(&b, u->path);
    lb_buf_puts(&b, " HTTP/1.1\r\nHost: ");
    if (v6) lb_buf_append(&b, "[", 1);
    lb_buf_append(&b, u->host, u->host_len);
    if (v6) lb_buf_append(&b, "]", 1);
    if (u->port != 80) {
        lb_buf_append(&b, ":", 1);
        lb_buf_put_uint(&b, (uint64_t)u->port);
    }
    lb_buf_append(&b, "\r\n", 2);
    for (char **h = req->headers; h && *h; h++) {
        /* An empty "Name:" is how callers tell libcurl to leave a header out. */
        const char *colon = strchr(*h, ':');
        if (!colon || !colon[1 + strspn(colon + 1, " ")]) continue;
        lb_buf_puts(&b, *h);
        lb_buf_append(&b, "\r\n", 2);
    }
    if (has_body) {
        lb_buf_puts(&b, "Content-Length: ");
        lb_buf_put_uint(&b, body_len);
        lb_buf_append(&b, "\r\n", 2);
    }
    lb_buf_append(&b, "\r\n", 2);
    return lb_buf_steal(&b, len);
}

static void on_timeout(uv_timer_t *t)
{
    request_t *r = t->data;
    conn_t *k = r->conn;
    if (k) {
        k->req = NULL;
        conn_close(k);
    }
    r->conn = NULL;
    if (r->early_error)
        fail(r, r->early_error, 0);
    else
        fail(r, "the target did not answer in time", 1);
}

int lb_hclient_send(lb_hclient_t *c, const lb_http_call_t *req, uint64_t timeout_ms,
                    lb_transport_done_fn done, void *ctx)
{
    url_t u;
    if (c->freeing || parse_url(req->url, &u)) return -EINVAL;
    request_t *r = lb_xcalloc(1, sizeof *r);
    r->client = c;
    lb_response_init(&r->response, req->response_max);
    if (req->capture_header && strlen(req->capture_header) < sizeof r->want)
        snprintf(r->want, sizeof r->want, "%s", req->capture_header);
    r->host = host_for(c, &u);
    r->done = done;
    r->ctx = ctx;
    r->is_head = strcmp(req->method, "HEAD") == 0;
    int has_body = req->body && !r->is_head && strcmp(req->method, "GET") != 0;
    r->body = has_body ? req->body : NULL;
    r->body_len = has_body ? strlen(req->body) : 0;
    r->head = request_head(req, &u, r->body_len, has_body, &r->head_len);
    uv_timer_init(c->loop, &r->timer);
    r->timer.data = r;
    c->open_handles++;
    uv_timer_start(&r->timer, on_timeout, timeout_ms ? timeout_ms : 1, 0);
    r->next = c->requests;
    if (c->requests) c->requests->prev = r;
    c->requests = r;
    host_t *h = r->host;
    r->sending = 1;
    if (h->idle) {
        conn_t *k = h->idle;
        h->idle = k->next_idle;
        h->n_idle--;
        k->reused = 1;
        attach(r, k);
    } else {
        start_connection(r);
    }
    r->sending = 0;
    return 0;
}

/* ---- lifecycle ---- */

int lb_hclient_new(uv_loop_t *loop, lb_hclient_t **out)
{
    lb_hclient_t *c = lb_xcalloc(1, sizeof *c);
    c->loop = loop;
    llhttp_settings_init(&c->settings);
    c->settings.on_headers_complete = on_headers_complete;
    c->settings.on_header_field = on_header_field;
    c->settings.on_header_field_complete = on_header_field_complete;
    c->settings.on_header_value = on_header_value;
    c->settings.on_header_value_complete = on_header_value_complete;
    c->settings.on_body = on_body;
    c->settings.on_message_complete = on_message_complete;
    *out = c;
    return 0;
}

static void maybe_release(lb_hclient_t *c)
{
    if (!c->freeing || c->open_handles) return;
    host_t *h = c->hosts;
    while (h) {
        host_t *next = h->next;
        free(h->name);
        free(h);
        h = next;
    }
    free(c);
}

void lb_hclient_free(lb_hclient_t **cp)
{
    lb_hclient_t *c = *cp;
    if (!c) return;
    *cp = NULL;
    c->freeing = 1;
    c->open_handles++; /* hold the client while its requests and connections go */
    while (c->requests) {
        request_t *r = c->requests;
        lb_http_result_t res = {.aborted = 1, .error = "LocalBridge is stopping"};
        if (r->conn) {
            r->conn->req = NULL;
            conn_close(r->conn);
            r->conn = NULL;
        }
        finish(r, &res);
    }
    while (c->conns)
        conn_close(c->conns);
    c->open_handles--;
    maybe_release(c);
}

/* Unit tests for daemon/delivery/lb_hclient: a real uv loop on the test thread talks to scripted
 * HTTP servers on 127.0.0.1, each a pthread with blocking sockets that runs one script function
 * (accept, read a request, send bytes, close...) and records what it saw. The test and a script
 * meet at two semaphores when the order of events matters (an idle connection closed before the
 * next request is sent, a body left unread until the client has handled the answer); everything
 * else is waited for by running the loop until a counter moves. Every completion is checked to
 * run once and never from inside lb_hclient_send. Run it under valgrind too (CK_FORK=no): freed
 * request bodies written after their completion show up there. */
#include "lb_hclient.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../lb_test.h"

/* ---- the scripted server (runs on its own thread) ---- */

#define MAX_SEEN 8

typedef struct server server_t;
typedef void (*script_fn)(server_t *s);

struct server {
    int listen_fd, port;
    script_fn script; /* NULL: listen only, never accept */
    const char *answer;
    pthread_t thread;
    atomic_int accepts; /* connections accepted, and at the end those left in the backlog */
    int fds[MAX_SEEN];  /* accepted sockets, by accept order */
    atomic_int n_seen;  /* requests read */
    char *seen[MAX_SEEN];
    int seen_conn[MAX_SEEN]; /* 1 for the first accepted connection, ... */
    size_t first_rest;       /* two_connections: bytes read after the first answer */
    sem_t to_server, to_test;
};

static int wait_sem(sem_t *sem)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    return sem_timedwait(sem, &until);
}

/* Blocking calls time out after 10 s so a script stuck on a client bug ends instead of hanging. */
static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int srv_accept(server_t *s)
{
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) return -1;
    set_timeouts(fd);
    s->fds[atomic_fetch_add(&s->accepts, 1)] = fd;
    return fd;
}

/* Reads one request: the head, and its Content-Length body when with_body. Records it (the head
 * alone without with_body) and returns it, or NULL when the client closed first. */
static const char *srv_read_request(server_t *s, int fd, int with_body)
{
    size_t cap = 1 << 16, len = 0, want = 0, head = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 + 1 > cap) buf = realloc(buf, cap *= 2);
        ssize_t n = fd < 0 ? -1 : recv(fd, buf + len, 4096, 0);
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        len += (size_t)n;
        buf[len] = '\0';
        char *end = head ? NULL : strstr(buf, "\r\n\r\n");
        if (end) {
            head = (size_t)(end - buf) + 4;
            const char *cl = strstr(buf, "\r\nContent-Length:");
            want = head + (with_body && cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (head && len >= want) break;
    }
    buf[want] = '\0';
    if (atomic_load(&s->n_seen) == MAX_SEEN) { /* a client gone wild: the script ends */
        free(buf);
        return NULL;
    }
    /* The latest socket with this number: a closed one's number comes back. */
    int i = atomic_load(&s->n_seen), conn = atomic_load(&s->accepts) - 1;
    while (s->fds[conn] != fd)
        conn--;
    s->seen[i] = buf;
    s->seen_conn[i] = conn + 1;
    atomic_store(&s->n_seen, i + 1);
    return buf;
}

/* Sends text; a '|' in it means: what came before goes out alone, a little before the rest. */
static void srv_send(int fd, const char *text)
{
    while (fd >= 0 && *text) {
        size_t n = strcspn(text, "|");
        for (size_t off = 0; off < n;) {
            ssize_t w = send(fd, text + off, n - off, MSG_NOSIGNAL);
            if (w <= 0) return;
            off += (size_t)w;
        }
        text += n;
        if (*text == '|') {
            text++;
            usleep(20000);
        }
    }
}

/* Reads until the client closes the connection, then closes it. */
static void srv_drain(int fd)
{
    char buf[65536];
    while (fd >= 0 && recv(fd, buf, sizeof buf, 0) > 0) {
    }
    if (fd >= 0) close(fd);
}

static void *server_main(void *arg)
{
    server_t *s = arg;
    s->script(s);
    return NULL;
}

/* The timeout of requests that must not time out: long, as the machine may be busy. */
#define PATIENT_MS 5000

#define OK_EMPTY "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

/* One connection: every request on it is answered with s->answer until the client closes it. */
static void script_serve(server_t *s)
{
    int fd = srv_accept(s);
    while (srv_read_request(s, fd, 1))
        srv_send(fd, s->answer);
    close(fd);
}

/* s->answer, then the server closes the connection itself. */
static void script_answer_and_close(server_t *s)
{
    int fd = srv_accept(s);
    srv_read_request(s, fd, 1);
    srv_send(fd, s->answer);
    close(fd);
}

/* Answers, closes the idle connection when the test says so, then serves the next connection
 * with s->answer (NULL: closes that one too without answering). */
static void script_stale(server_t *s)
{
    int fd = srv_accept(s);
    srv_read_request(s, fd, 1);
    srv_send(fd, OK_EMPTY);
    wait_sem(&s->to_server);
    close(fd);
    sem_post(&s->to_test);
    fd = srv_accept(s);
    srv_read_request(s, fd, 1);
    if (s->answer) {
        srv_send(fd, s->answer);
        srv_drain(fd);
    } else {
        close(fd);
    }
}

/* Answers the first connection's request with s->answer, after which the client must close
 * that connection and send the next request on a second one. Once the test says the client has
 * handled that answer, the server reads the first connection to its end while it serves the
 * second: a client still writing a body freed by its completion would be seen by valgrind. */
static void two_connections(server_t *s, int read_first_body)
{
    int first = srv_accept(s), second = -1;
    srv_read_request(s, first, read_first_body);
    srv_send(first, s->answer);
    /* Not before: a body read at once could be all written before the client sees the answer. */
    wait_sem(&s->to_server);
    char buf[65536];
    struct pollfd p[2] = {{.fd = first, .events = POLLIN}, {.fd = s->listen_fd, .events = POLLIN}};
    while ((p[0].fd >= 0 || p[1].fd >= 0) && poll(p, 2, 10000) > 0) {
        if (p[0].revents) {
            ssize_t n = recv(first, buf, sizeof buf, 0);
            if (n > 0) {
                s->first_rest += (size_t)n;
            } else {
                close(first);
                p[0].fd = -1;
            }
        }
        if (p[1].revents) {
            second = srv_accept(s);
            srv_read_request(s, second, 1);
            srv_send(second, OK_EMPTY);
            p[1].fd = -1;
        }
    }
    if (p[0].fd >= 0) close(first);
    srv_drain(second);
}

static void script_two_connections(server_t *s)
{
    two_connections(s, 1);
}

/* As above, but the first request is answered after its head: none of its body is read. */
static void script_early_answer(server_t *s)
{
    two_connections(s, 0);
}

/* ---- fixture: one loop, one client, the servers of the test ---- */

static uv_loop_t loop;
static lb_hclient_t *client;
static server_t *servers[3];
static int n_servers;

/* A TCP socket bound to 127.0.0.1 on a free port. */
static int bound_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    *port = ntohs(a.sin_port);
    return fd;
}

static server_t *server_start(script_fn script, const char *answer)
{
    server_t *s = calloc(1, sizeof *s);
    s->script = script;
    s->answer = answer;
    sem_init(&s->to_server, 0, 0);
    sem_init(&s->to_test, 0, 0);
    s->listen_fd = bound_socket(&s->port);
    ck_assert_int_eq(listen(s->listen_fd, 16), 0);
    set_timeouts(s->listen_fd);
    if (script) pthread_create(&s->thread, NULL, server_main, s);
    servers[n_servers++] = s;
    return s;
}

/* Waits for the script, then counts connections that reached the backlog but were never
 * accepted, so a test sees every connection the client made. */
static void server_stop(server_t *s)
{
    if (s->script) pthread_join(s->thread, NULL);
    struct timeval none = {.tv_usec = 1000};
    setsockopt(s->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    for (int fd; (fd = accept(s->listen_fd, NULL, NULL)) >= 0; close(fd))
        atomic_fetch_add(&s->accepts, 1);
    close(s->listen_fd);
}

/* Runs the loop until *counter reaches at_least (at most 10 s: longer than any timeout). */
static void run_until(atomic_int *counter, int at_least)
{
    for (int waited = 0; atomic_load(counter) < at_least; waited++) {
        ck_assert_msg(waited < 10000, "still waiting after 10 s");
        uv_run(&loop, UV_RUN_NOWAIT);
        if (atomic_load(counter) < at_least) usleep(1000);
    }
}

/* Frees the client, lets the loop run out, stops the servers. Safe to call twice. */
static void shut_down(void)
{
    lb_hclient_free(&client);
    for (int waited = 0; uv_run(&loop, UV_RUN_NOWAIT) && waited < 10000; waited++)
        usleep(1000);
    ck_assert_msg(!uv_loop_alive(&loop), "a handle is still open after lb_hclient_free");
    while (n_servers)
        server_stop(servers[--n_servers]);
}

static void setup(void)
{
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(lb_hclient_new(&loop, &client), 0);
}

static void teardown(void)
{
    shut_down();
    for (server_t **s = servers; s < servers + 3 && *s; *s++ = NULL) {
        for (int i = 0; i < (*s)->n_seen; i++)
            free((*s)->seen[i]);
        sem_destroy(&(*s)->to_server);
        sem_destroy(&(*s)->to_test);
        free(*s);
    }
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* ---- requests and what their completion said ---- */

typedef struct {
    atomic_int calls;
    int inside_send, answered, timed_out, aborted, body_terminated;
    long status;
    char body[LB_TRANSPORT_KEEP + 1];
    size_t body_len;
    char error[256];
    char url[96]; /* the request's, borrowed by the client until the completion */
    uint64_t at;
    char *free_body; /* freed by the completion, as a caller's body dies with its delivery */
} outcome_t;

static int in_send;

static void on_done(void *ctx, const lb_http_result_t *r)
{
    outcome_t *o = ctx;
    atomic_fetch_add(&o->calls, 1);
    o->inside_send = in_send;
    o->answered = r->answered;
    o->status = r->status;
    o->timed_out = r->timed_out;
    o->aborted = r->aborted;
    o->body_len = r->body_len;
    o->body_terminated = r->body && r->body[r->body_len] == '\0';
    size_t n = r->body_len < sizeof o->body ? r->body_len : sizeof o->body - 1;
    if (r->body) memcpy(o->body, r->body, n);
    o->body[n] = '\0';
    snprintf(o->error, sizeof o->error, "%s", r->error ? r->error : "");
    o->at = uv_now(&loop);
    free(o->free_body);
    o->free_body = NULL;
}

/* Sends method to http://host:PORT/path of server s (or to host alone, with s NULL). */
static void send_req(outcome_t *o, const char *method, const char *host, const server_t *s,
                     const char *path, const char *body, uint64_t timeout_ms, char **headers)
{
    if (s)
        snprintf(o->url, sizeof o->url, "http://%s:%d%s", host, s->port, path);
    else
        snprintf(o->url, sizeof o->url, "http://%s%s", host, path);
    lb_http_call_t call = {
        .method = (char *)method, .url = o->url, .headers = headers, .body = (char *)body};
    in_send = 1;
    int rc = lb_hclient_send(client, &call, timeout_ms, on_done, o);
    in_send = 0;
    ck_assert_int_eq(rc, 0);
}

/* Runs the loop until o's completion, and checks it came once, from the loop. */
static void wait_done(outcome_t *o)
{
    run_until(&o->calls, 1);
    ck_assert_int_eq(o->calls, 1);
    ck_assert_msg(!o->inside_send, "completion ran inside lb_hclient_send");
}

static void expect_answer(outcome_t *o, long status, const char *body)
{
    wait_done(o);
    ck_assert_msg(o->answered, "no answer: %s", o->error);
    ck_assert_int_eq(o->status, status);
    ck_assert_int_eq(o->timed_out, 0);
    ck_assert(o->body_terminated);
    ck_assert_str_eq(o->body, body);
}

static void expect_failure(outcome_t *o)
{
    wait_done(o);
    ck_assert_int_eq(o->answered, 0);
    ck_assert_int_eq(o->aborted, 0);
    ck_assert_msg(o->error[0], "a failure without an error text");
}

/* The common case: a POST to 127.0.0.1 that must not time out. */
static void post(outcome_t *o, const server_t *s, const char *path, const char *body)
{
    send_req(o, "POST", "127.0.0.1", s, path, body, PATIENT_MS, NULL);
}

/* ---- the tests ---- */

START_TEST(test_post_sends_exact_request_and_keeps_answer_head)
{
    static char answer[4096], body[2001];
    for (int i = 0; i < 2000; i++)
        body[i] = (char)('a' + i % 26);
    snprintf(answer, sizeof answer, "HTTP/1.1 201 Created\r\nContent-Length: 2000\r\n\r\n%s", body);
    server_t *s = server_start(script_serve, answer);
    char want[512];
    char *headers[] = {"Content-Type: application/json", "Expect:", "X-Trace: a b", NULL};
    outcome_t o = {0};
    send_req(&o, "POST", "127.0.0.1", s, "/path?x=1", "{\"a\":1}", PATIENT_MS, headers);
    wait_done(&o);
    ck_assert_int_eq(o.answered, 1);
    ck_assert_int_eq(o.status, 201);
    ck_assert_uint_eq(o.body_len, LB_TRANSPORT_KEEP);
    ck_assert(o.body_terminated);
    ck_assert_int_eq(memcmp(o.body, body, LB_TRANSPORT_KEEP), 0);
    snprintf(want, sizeof want,
             "POST /path?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
             "X-Trace: a b\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
             s->port);
    ck_assert_int_eq(s->n_seen, 1);
    ck_assert_str_eq(s->seen[0], want);
}
END_TEST

START_TEST(test_query_without_path_is_sent_as_slash_query)
{
    server_t *s = server_start(script_serve, "HTTP/1.1 204 No Content\r\n\r\n");
    char want[128];
    outcome_t o = {0};
    /* A GET sends no body even when given one. */
    send_req(&o, "GET", "127.0.0.1", s, "?x=1", "ignored", PATIENT_MS, NULL);
    expect_answer(&o, 204, "");
    snprintf(want, sizeof want, "GET /?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", s->port);
    ck_assert_str_eq(s->seen[0], want);
}
END_TEST

START_TEST(test_keep_alive_reuses_one_connection)
{
    server_t *s = server_start(script_serve, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    outcome_t a = {0}, b = {0}, c = {0};
    post(&a, s, "/a", "1");
    expect_answer(&a, 200, "ok");
    send_req(&b, "GET", "127.0.0.1", s, "/b", NULL, PATIENT_MS, NULL);
    expect_answer(&b, 200, "ok");
    post(&c, s, "/c", "3");
    expect_answer(&c, 200, "ok");
    shut_down();
    ck_assert_int_eq(s->accepts, 1);
    ck_assert_int_eq(s->n_seen, 3);
}
END_TEST

static void stale_connection(const char *second_answer, outcome_t *b)
{
    server_t *s = server_start(script_stale, second_answer);
    outcome_t a = {0};
    post(&a, s, "/a", "1");
    expect_answer(&a, 200, "");
    /* The server closes the idle connection; the loop does not run before the next send, so the
     * client cannot know and writes the request on the dead connection. */
    sem_post(&s->to_server);
    ck_assert_int_eq(wait_sem(&s->to_test), 0);
    post(b, s, "/b", "2");
    wait_done(b);
    shut_down();
    ck_assert_int_eq(s->accepts, 2);
    ck_assert_int_eq(s->n_seen, 2);
    ck_assert_int_eq(s->seen_conn[1], 2);
    ck_assert_int_eq(strncmp(s->seen[1], "POST /b ", 8), 0);
}

START_TEST(test_stale_keep_alive_connection_is_resent_once)
{
    outcome_t b = {0};
    stale_connection("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh", &b);
    expect_answer(&b, 200, "fresh");
}
END_TEST

START_TEST(test_stale_connection_resend_that_fails_fails)
{
    outcome_t b = {0};
    stale_connection(NULL, &b);
    expect_failure(&b);
}
END_TEST

START_TEST(test_answer_with_connection_close_is_not_reused)
{
    /* The server says it will close but keeps the connection: only the header tells. */
    server_t *s =
        server_start(script_two_connections,
                     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    outcome_t a = {0}, b = {0};
    post(&a, s, "/a", "1");
    expect_answer(&a, 200, "ok");
    sem_post(&s->to_server);
    post(&b, s, "/b", "2");
    expect_answer(&b, 200, "");
    shut_down();
    ck_assert_int_eq(s->accepts, 2);
    ck_assert_int_eq(s->seen_conn[1], 2);
}
END_TEST

static const struct {
    const char *name, *method, *answer;
    int server_closes, answered;
    long status;
    const char *body;
} framings[] = {
    {"content-length", "POST", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe|llo", 0, 1, 200,
     "hello"},
    {"chunked", "POST",
     "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=1\r\n, wo|rld"
     "\r\n0\r\nX-Trailer: t\r\n\r\n",
     0, 1, 202, "hello, world"},
    {"close-delimited", "POST", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil| the end",
     1, 1, 200, "until the end"},
    {"http/1.0 close-delimited", "POST", "HTTP/1.0 203 OK\r\n\r\nold", 1, 1, 203, "old"},
    {"100 continue first", "POST",
     "HTTP/1.1 100 Continue\r\n\r\n|HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 1, 200,
     "ok"},
    {"head with content-length", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", 0, 1, 200,
     ""},
    {"204 without length", "POST", "HTTP/1.1 204 No Content\r\n\r\n", 0, 1, 204, ""},
    {"malformed status", "POST", "HTTP/1.1 abc\r\n\r\n", 0, 0, 0, NULL},
    {"not http at all", "POST", "SSH-2.0-OpenSSH_9.6\r\n", 0, 0, 0, NULL},
    {"cut short", "POST", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1, 0, 0, NULL},
    {"closed before status", "POST", "HTTP/1.1 2", 1, 0, 0, NULL},
};

START_TEST(test_answer_framings)
{
    server_t *s = server_start(framings[_i].server_closes ? script_answer_and_close : script_serve,
                               framings[_i].answer);
    outcome_t o = {0};
    send_req(&o, framings[_i].method, "127.0.0.1", s, "/", "{}", PATIENT_MS, NULL);
    wait_done(&o);
    ck_assert_msg(o.answered == framings[_i].answered, "%s: answered %d (%s)", framings[_i].name,
                  o.answered, o.error);
    if (o.answered) {
        ck_assert_int_eq(o.status, framings[_i].status);
        ck_assert_str_eq(o.body, framings[_i].body);
    } else {
        ck_assert_msg(o.error[0] && !o.timed_out, "%s: [%s]", framings[_i].name, o.error);
    }
}
END_TEST

START_TEST(test_connection_refused_fails)
{
    /* A bound socket that does not listen: connections are refused, and the port stays taken. */
    server_t s = {0};
    s.listen_fd = bound_socket(&s.port);
    outcome_t o = {0};
    post(&o, &s, "/", "x");
    expect_failure(&o);
    ck_assert_int_eq(o.timed_out, 0);
    close(s.listen_fd);
}
END_TEST

START_TEST(test_connect_failing_at_once_completes_from_the_loop)
{
    /* connect(2) to the broadcast address fails inside uv_tcp_connect (ENETUNREACH), not later. */
    outcome_t o = {0};
    send_req(&o, "POST", "255.255.255.255:9", NULL, "/", "x", PATIENT_MS, NULL);
    ck_assert_int_eq(o.calls, 0);
    expect_failure(&o);
    ck_assert_int_eq(o.timed_out, 0);
}
END_TEST

START_TEST(test_silent_server_times_out)
{
    server_t *s = server_start(script_serve, "");
    outcome_t o = {0};
    uint64_t start = uv_now(&loop);
    send_req(&o, "POST", "127.0.0.1", s, "/", "x", 100, NULL);
    wait_done(&o);
    ck_assert_int_eq(o.timed_out, 1);
    ck_assert_int_eq(o.answered, 0);
    ck_assert(o.error[0]);
    ck_assert_uint_ge(o.at - start, 100);
    ck_assert_uint_lt(o.at - start, 2000);
}
END_TEST

START_TEST(test_early_answer_ends_connection_before_body_is_written)
{
    server_t *s = server_start(script_early_answer,
                               "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
    /* More than the client's send buffer (at most tcp_wmem's 4 MB by default) and the server's
     * receive buffer (128 KB: it grows only as the server reads) can hold together, so most of
     * the body is still to be written when the answer comes. */
    enum { big = 16 << 20 };
    outcome_t a = {0}, b = {0};
    a.free_body = malloc(big + 1);
    memset(a.free_body, 'x', big);
    a.free_body[big] = '\0';
    post(&a, s, "/big", a.free_body);
    expect_answer(&a, 413, "");
    sem_post(&s->to_server);
    /* The completion freed the body while most of it was unwritten; the connection must be gone
     * (a sanitizer or valgrind sees any later write of it), and the next request gets a new one. */
    post(&b, s, "/small", "y");
    expect_answer(&b, 200, "");
    shut_down();
    ck_assert_int_eq(s->accepts, 2);
    ck_assert_int_eq(s->seen_conn[1], 2);
    ck_assert_int_eq(strncmp(s->seen[1], "POST /small ", 12), 0);
    ck_assert_msg(s->first_rest < big / 2, "%zu bytes of the body came after the answer",
                  s->first_rest);
}
END_TEST

START_TEST(test_localhost_is_resolved)
{
    server_t *s = server_start(script_serve, OK_EMPTY);
    char host[64];
    outcome_t o = {0};
    send_req(&o, "PUT", "localhost", s, "/r", "z", PATIENT_MS, NULL);
    expect_answer(&o, 200, "");
    snprintf(host, sizeof host, "\r\nHost: localhost:%d\r\n", s->port);
    ck_assert_ptr_nonnull(strstr(s->seen[0], host));
}
END_TEST

/* Holds every libuv threadpool thread so that a name lookup stays queued. */
static sem_t pool_release;
static atomic_int pool_done;

static void hold_thread(uv_work_t *w)
{
    (void)w;
    wait_sem(&pool_release);
}

static void thread_released(uv_work_t *w, int status)
{
    (void)w;
    (void)status;
    atomic_fetch_add(&pool_done, 1);
}

START_TEST(test_timeout_while_resolving_leaves_no_waiting_request)
{
    server_t *s = server_start(script_serve, OK_EMPTY);
    const char *env = getenv("UV_THREADPOOL_SIZE");
    int threads = env ? atoi(env) : 4;
    uv_work_t holds[128];
    ck_assert(threads > 0 && threads <= 128);
    sem_init(&pool_release, 0, 0);
    atomic_store(&pool_done, 0);
    for (int i = 0; i < threads; i++)
        uv_queue_work(&loop, &holds[i], hold_thread, thread_released);
    outcome_t a = {0}, b = {0};
    send_req(&a, "POST", "localhost", s, "/a", "1", 50, NULL);
    wait_done(&a);
    ck_assert_int_eq(a.timed_out, 1);
    uv_run(&loop, UV_RUN_NOWAIT); /* the timed-out request's memory goes */
    send_req(&b, "POST", "localhost", s, "/b", "2", PATIENT_MS, NULL);
    for (int i = 0; i < threads; i++)
        sem_post(&pool_release);
    expect_answer(&b, 200, "");
    run_until(&pool_done, threads);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(s->n_seen, 1);
    sem_destroy(&pool_release);
}
END_TEST

START_TEST(test_free_aborts_every_request_in_flight)
{
    server_t *s = server_start(script_serve, OK_EMPTY), *silent = server_start(script_serve, "");
    server_t *quiet = server_start(NULL, NULL);
    outcome_t idle = {0}, waiting = {0}, connecting = {0}, resolving = {0};
    post(&idle, s, "/idle", "1");
    expect_answer(&idle, 200, "");
    post(&waiting, silent, "/waiting", "2");
    run_until(&silent->n_seen, 1);
    /* The loop does not run again before the free: one still connecting (quiet never accepts,
     * which does not matter), one still waiting for its address. */
    post(&connecting, quiet, "/connecting", "3");
    send_req(&resolving, "POST", "localhost", quiet, "/resolving", "4", PATIENT_MS, NULL);
    lb_hclient_free(&client);
    ck_assert_ptr_null(client);
    outcome_t *aborted[] = {&waiting, &connecting, &resolving};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(aborted[i]->calls, 1);
        ck_assert_int_eq(aborted[i]->aborted, 1);
        ck_assert_int_eq(aborted[i]->answered, 0);
    }
    /* Returns once nothing is left open or pending (a leak would hang until the test timeout). */
    ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(aborted[i]->calls, 1);
    ck_assert_int_eq(idle.calls, 1);
    ck_assert_int_eq(idle.aborted, 0);
}
END_TEST

START_TEST(test_handles_only_plain_http_urls)
{
    static const char *handled[] = {"http://host", "http://host:8080/path?q=1",
                                    "http://[::1]:8080/x", "http://host?q",
                                    "http://127.0.0.1:65535"};
    static const char *refused[] = {
        "https://host/", "ftp://host/", "http://:80/", "http://host:99999/", "http://host:0/",
        "http://host:/", "http://host:80x/", "http:///path", "http://", "http://[::1/x",
        "http://[]/", "HTTPS://host/", "",
        /* Only digits make a port; credentials in the URL are libcurl's to send. */
        "http://host:+80/", "http://host: 80/", "http://user:pw@host/", "http://user@host:80/x"};
    for (size_t i = 0; i < sizeof handled / sizeof *handled; i++)
        ck_assert_msg(lb_hclient_handles(handled[i]), "%s", handled[i]);
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        ck_assert_msg(!lb_hclient_handles(refused[i]), "%s", refused[i]);
    /* A URL it does not handle is refused and never completes. */
    outcome_t o = {0};
    lb_http_call_t call = {.method = "POST", .url = "https://host/"};
    ck_assert_int_eq(lb_hclient_send(client, &call, 1000, on_done, &o), -EINVAL);
    shut_down();
    ck_assert_int_eq(o.calls, 0);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the daemon does: a write to a closed socket is an error */
    Suite *s = suite_create("hclient");
    TCase *tc = tcase_create("hclient");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_post_sends_exact_request_and_keeps_answer_head);
    tcase_add_test(tc, test_query_without_path_is_sent_as_slash_query);
    tcase_add_test(tc, test_keep_alive_reuses_one_connection);
    tcase_add_test(tc, test_stale_keep_alive_connection_is_resent_once);
    tcase_add_test(tc, test_stale_connection_resend_that_fails_fails);
    tcase_add_test(tc, test_answer_with_connection_close_is_not_reused);
    tcase_add_loop_test(tc, test_answer_framings, 0, sizeof framings / sizeof *framings);
    tcase_add_test(tc, test_connection_refused_fails);
    tcase_add_test(tc, test_connect_failing_at_once_completes_from_the_loop);
    tcase_add_test(tc, test_silent_server_times_out);
    tcase_add_test(tc, test_early_answer_ends_connection_before_body_is_written);
    tcase_add_test(tc, test_localhost_is_resolved);
    tcase_add_test(tc, test_timeout_while_resolving_leaves_no_waiting_request);
    tcase_add_test(tc, test_free_aborts_every_request_in_flight);
    tcase_add_test(tc, test_handles_only_plain_http_urls);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* Fast local HTTP target for `make bench` delivery measurements.
 *
 *   bench_sink [--listen 127.0.0.1:0] [--out FILE] [--putevents 1]
 *
 * Prints "http://HOST:PORT/" as its first stdout line. Answers 200 "{}" to every POST (keep-alive)
 * and records, per request, the arrival time (CLOCK_REALTIME ns, when the whole body is in), the
 * event's "id" (the envelope's first "id" field) and the "ts" and "seq" numbers from its detail
 * (bench_load puts its send time there). Then:
 *   GET /stats   JSON: count, first/last arrival, end-to-end latency p50/p99/max (arrival - ts)
 *   GET /reset   forgets everything recorded so far
 *   SIGTERM/SIGINT  writes "arrival_ns ts_ns seq id" lines to --out (if given) and exits 0.
 * With --putevents 1 it stands in for Amazon EventBridge (the forwarding benchmark): each POST is
 * a PutEvents request whose entries are recorded one by one (ts and seq from each entry's
 * escaped Detail) and answered with one EventId per entry. Signatures are not checked here: the
 * integration tests do that; this measures LocalBridge, not a stand-in. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llhttp.h>
#include <uv.h>

typedef struct {
    uint64_t arrival_ns, ts_ns, seq;
    char id[40];
} rec_t;

typedef struct {
    uv_tcp_t tcp;
    llhttp_t parser;
    char url[64];
    size_t url_len;
    char *body;
    size_t body_len, body_cap;
    int method;
    char rbuf[65536];
    int closing;
} client_t;

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sigterm, sigint;
static llhttp_settings_t settings;
static rec_t *recs;
static size_t nrecs, caprecs;
static const char *out_path;
static int putevents_mode;

static const char OK_RESP[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_closed(uv_handle_t *h)
{
    client_t *c = h->data;
    free(c->body);
    free(c);
}

static void close_client(client_t *c)
{
    if (c->closing) return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

typedef struct {
    uv_write_t w;
    char *buf;
} wr_t;

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    wr_t *r = (wr_t *)w;
    free(r->buf);
    free(r);
}

static void reply(client_t *c, const char *data, size_t len, int copy)
{
    wr_t *r = calloc(1, sizeof *r);
    if (copy) {
        r->buf = malloc(len);
        memcpy(r->buf, data, len);
    }
    uv_buf_t b = uv_buf_init(copy ? r->buf : (char *)data, (unsigned)len);
    if (uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, on_written)) {
        free(r->buf);
        free(r);
        close_client(c);
    }
}

static uint64_t num_after(const char *body, size_t len, const char *key)
{
    /* body is NUL-terminated by the caller; key like "\"ts\":" */
    (void)len;
    const char *p = strstr(body, key);
    if (!p) return 0;
    p += strlen(key);
    while (*p == ' ')
        p++;
    /* Numbers may come back re-serialized as doubles (1.79e+18): parse as one. */
    double d = strtod(p, NULL);
    return d > 0 ? (uint64_t)d : 0;
}

static void record(client_t *c)
{
    uint64_t now = realtime_ns();
    if (nrecs == caprecs) {
        caprecs = caprecs ? caprecs * 2 : 1 << 16;
        recs = realloc(recs, caprecs * sizeof *recs);
    }
    rec_t *r = &recs[nrecs++];
    memset(r, 0, sizeof *r);
    r->arrival_ns = now;
    if (!c->body) return;
    c->body[c->body_len] = '\0';
    r->ts_ns = num_after(c->body, c->body_len, "\"ts\":");
    r->seq = num_after(c->body, c->body_len, "\"seq\":");
    const char *p = strstr(c->body, "\"id\":\"");
    if (p) {
        p += 6;
        size_t i = 0;
        while (p[i] && p[i] != '"' && i < sizeof r->id - 1) {
            r->id[i] = p[i];
            i++;
        }
        r->id[i] = '\0';
    }
}

/* The number after key in [p, end), or 0. */
static uint64_t num_in(const char *p, const char *end, const char *key)
{
    const char *k = strstr(p, key);
    if (!k || k >= end) return 0;
    double d = strtod(k + strlen(key), NULL);
    return d > 0 ? (uint64_t)d : 0;
}

/* A PutEvents request: one record per entry, and AWS's answer with an EventId for each. */
static void record_putevents(client_t *c)
{
    static const char entry_key[] = "{\"Source\":";
    uint64_t now = realtime_ns();
    size_t n = 0;
    if (c->body) {
        c->body[c->body_len] = '\0';
        for (const char *p = strstr(c->body, entry_key); p; n++) {
            const char *next = strstr(p + 1, entry_key);
            const char *end = next ? next : c->body + c->body_len;
            if (nrecs == caprecs) {
                caprecs = caprecs ? caprecs * 2 : 1 << 16;
                recs = realloc(recs, caprecs * sizeof *recs);
            }
            rec_t *r = &recs[nrecs++];
            memset(r, 0, sizeof *r);
            r->arrival_ns = now;
            r->ts_ns = num_in(p, end, "\\\"ts\\\":");
            r->seq = num_in(p, end, "\\\"seq\\\":");
            p = next;
        }
    }
    size_t cap = 128 + n * 64;
    char *body = malloc(cap), *resp = malloc(cap + 256);
    size_t len = (size_t)snprintf(body, cap, "{\"FailedEntryCount\":0,\"Entries\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(body + len, cap - len, "%s{\"EventId\":\"bench-%zu-%zu\"}",
                                i ? "," : "", nrecs, i);
    len += (size_t)snprintf(body + len, cap - len, "]}");
    int rlen = snprintf(resp, cap + 256,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                        "Content-Length: %zu\r\n\r\n%s",
                        len, body);
    reply(c, resp, (size_t)rlen, 1);
    free(body);
    free(resp);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void stats(client_t *c)
{
    uint64_t *lat = malloc((nrecs ? nrecs : 1) * sizeof *lat);
    size_t n = 0;
    uint64_t first = 0, last = 0, first_ts = 0;
    for (size_t i = 0; i < nrecs; i++) {
        if (!first || recs[i].arrival_ns < first) first = recs[i].arrival_ns;
        if (recs[i].arrival_ns > last) last = recs[i].arrival_ns;
        if (recs[i].ts_ns) {
            if (!first_ts || recs[i].ts_ns < first_ts) first_ts = recs[i].ts_ns;
            lat[n++] = recs[i].arrival_ns > recs[i].ts_ns ? recs[i].arrival_ns - recs[i].ts_ns : 0;
        }
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
#define PCT(p) (n ? lat[(size_t)((p) * (double)(n - 1) + 0.5)] / 1e6 : 0.0)
    char body[512];
    int blen = snprintf(body, sizeof body,
                        "{\"count\":%zu,\"with_ts\":%zu,\"first_arrival_ns\":%llu,"
                        "\"last_arrival_ns\":%llu,\"first_ts_ns\":%llu,\"p50_ms\":%.3f,"
                        "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}",
                        nrecs, n, (unsigned long long)first, (unsigned long long)last,
                        (unsigned long long)first_ts, PCT(0.5), PCT(0.9), PCT(0.99),
                        n ? lat[n - 1] / 1e6 : 0.0);
#undef PCT
    free(lat);
    char resp[1024];
    int rlen = snprintf(resp, sizeof resp,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: %d\r\n\r\n%s",
                        blen, body);
    reply(c, resp, (size_t)rlen, 1);
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    client_t *c = p->data;
    size_t room = sizeof c->url - 1 - c->url_len;
    if (len > room) len = room;
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    client_t *c = p->data;
    if (c->body_len + len + 1 > c->body_cap) {
        c->body_cap = (c->body_len + len + 1) * 2;
        c->body = realloc(c->body, c->body_cap);
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    client_t *c = p->data;
    c->url_len = 0;
    c->url[0] = '\0';
    c->body_len = 0;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    client_t *c = p->data;
    if (p->method == HTTP_GET && !strncmp(c->url, "/stats", 6)) {
        stats(c);
    } else if (p->method == HTTP_GET && !strncmp(c->url, "/reset", 6)) {
        nrecs = 0;
        reply(c, OK_RESP, sizeof OK_RESP - 1, 0);
    } else if (p->method == HTTP_POST && putevents_mode) {
        record_putevents(c);
    } else {
        if (p->method == HTTP_POST) record(c);
        reply(c, OK_RESP, sizeof OK_RESP - 1, 0);
    }
    return 0;
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
    (void)sz;
    client_t *c = h->data;
    buf->base = c->rbuf;
    buf->len = sizeof c->rbuf;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client_t *c = s->data;
    if (nread < 0) {
        close_client(c);
        return;
    }
    if (nread == 0) return;
    if (llhttp_execute(&c->parser, buf->base, (size_t)nread) != HPE_OK) close_client(c);
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0) return;
    client_t *c = calloc(1, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp)) {
        close_client(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    if (out_path) {
        FILE *f = fopen(out_path, "w");
        if (f) {
            for (size_t i = 0; i < nrecs; i++)
                fprintf(f, "%llu %llu %llu %s\n", (unsigned long long)recs[i].arrival_ns,
                        (unsigned long long)recs[i].ts_ns, (unsigned long long)recs[i].seq,
                        recs[i].id[0] ? recs[i].id : "-");
            fclose(f);
        }
    }
    free(recs);
    exit(0);
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--listen"))
            listen = argv[i + 1];
        else if (!strcmp(argv[i], "--out"))
            out_path = argv[i + 1];
        else if (!strcmp(argv[i], "--putevents"))
            putevents_mode = atoi(argv[i + 1]);
        else {
            fprintf(stderr,
                    "usage: bench_sink [--listen HOST:PORT] [--out FILE] [--putevents 1]\n");
            return 2;
        }
    }
    char host[64];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (!colon) return 2;
    *colon = '\0';
    struct sockaddr_in addr;
    if (uv_ip4_addr(host, atoi(colon + 1), &addr)) return 2;
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    llhttp_settings_init(&settings);
    settings.on_url = on_url;
    settings.on_body = on_body;
    settings.on_message_begin = on_message_begin;
    settings.on_message_complete = on_message_complete;
    uv_tcp_init(loop, &server);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)&server, 1024, on_connection)) {
        fprintf(stderr, "bench_sink: cannot listen on %s\n", listen);
        return 1;
    }
    struct sockaddr_in bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &blen);
    printf("http://%s:%d/\n", host, ntohs(bound.sin_port));
    fflush(stdout);
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}

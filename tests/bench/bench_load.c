/* PutEvents load generator for `make bench` (tests/bench/run_bench.py drives it).
 *
 * libuv TCP client, one loop, one thread: C keep-alive connections, each sending one AWS JSON 1.1
 * PutEvents request (E entries) and parsing the answer with llhttp.
 *
 *   closed loop (default): each connection sends its next request as soon as the previous answer
 *     arrived, for --duration seconds (after --warmup seconds that are not counted), or until
 *     --max-events events were acknowledged.
 *   open loop (--rate R): requests are issued on a 1 ms timer so that R events/s leave on
 *     average, whatever the answers do; a request due while every connection is busy waits for the
 *     next free one (counted in "queued_max").
 *
 * Every entry's Detail carries {"ts": <CLOCK_REALTIME ns at send>, "seq": n, "pad": ...} so a sink
 * can compute end-to-end latency. Latency here is request write -> full answer parsed.
 * Prints one JSON object on stdout. Exit status 0 unless nothing at all succeeded. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include <llhttp.h>
#include <uv.h>

typedef struct loader loader_t;

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    llhttp_t parser;
    loader_t *L;
    char *req;
    size_t req_len;
    uint64_t t_send;
    int busy;
    int closed;
    int reconnect;
    int keepalive;
    int complete;
    int status;
    char body[4096];
    size_t body_len;
    char rbuf[65536];
} conn_t;

struct loader {
    uv_loop_t *loop;
    struct sockaddr_in addr;
    char host[64];
    const char *path;
    int nconn, entries, open_loop, stopping, connected;
    double duration, warmup, rate;
    long long max_events;
    conn_t *conns;
    uv_timer_t tick;
    uint64_t t0, t_measure, t_end;
    uint64_t seq;
    /* results (measured window only) */
    uint64_t ok_req, ok_events, bad_status, failed_entries, conn_errors, sent_req;
    uint64_t issued, queued, queued_max, reconnects;
    int started;
    uint32_t *lat_us;
    size_t nlat, caplat;
    struct rusage ru0, ru1;
    uint64_t t_last_ok;
    llhttp_settings_t settings;
    const char *pad;
};

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void send_request(conn_t *c);
static void maybe_finish(loader_t *L);

static void build_request(conn_t *c)
{
    loader_t *L = c->L;
    char body[64 * 1024];
    size_t n = 0;
    n += (size_t)snprintf(body + n, sizeof body - n, "{\"Entries\":[");
    uint64_t ts = realtime_ns();
    for (int i = 0; i < L->entries; i++) {
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "%s{\"Source\":\"bench\",\"DetailType\":\"bench.event\",\"Detail\":"
                              "\"{\\\"ts\\\":%llu,\\\"seq\\\":%llu,\\\"pad\\\":\\\"%s\\\"}\"}",
                              i ? "," : "", (unsigned long long)ts, (unsigned long long)L->seq++,
                              L->pad);
    }
    n += (size_t)snprintf(body + n, sizeof body - n, "]}");
    size_t cap = n + 512;
    free(c->req);
    c->req = malloc(cap);
    c->req_len =
        (size_t)snprintf(c->req, cap,
                         "POST %s HTTP/1.1\r\nHost: %s\r\n"
                         "X-Amz-Target: AWSEvents.PutEvents\r\n"
                         "Content-Type: application/x-amz-json-1.1\r\n"
                         "Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/"
                         "us-east-1/events/aws4_request, SignedHeaders=host, Signature=0\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         L->path, L->host, n, body);
}

static void on_connect(uv_connect_t *req, int status);

static void on_close(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (!c || !c->reconnect) return;
    loader_t *L = c->L;
    c->reconnect = 0;
    if (L->stopping) return;
    /* The server closed the connection after its answer (no keep-alive: moto does this). */
    c->closed = 0;
    uv_tcp_init(L->loop, &c->tcp);
    c->tcp.data = c;
    llhttp_init(&c->parser, HTTP_RESPONSE, &L->settings);
    c->parser.data = c;
    c->creq.data = c;
    L->reconnects++;
    if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&L->addr, on_connect)) {
        L->conn_errors++;
        c->closed = 1;
    }
}

static void close_conn(conn_t *c)
{
    if (c->closed) return;
    c->closed = 1;
    c->busy = 0;
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void record(loader_t *L, conn_t *c)
{
    uint64_t now = uv_hrtime();
    if (c->t_send < L->t_measure || now > L->t_end) return;
    L->t_last_ok = now;
    if (c->status != 200) {
        L->bad_status++;
        return;
    }
    /* "FailedEntryCount":0 (spaces allowed): anything else means entries were refused. */
    c->body[c->body_len < sizeof c->body ? c->body_len : sizeof c->body - 1] = '\0';
    const char *p = strstr(c->body, "FailedEntryCount");
    long failed = -1;
    if (p) {
        p += strlen("FailedEntryCount");
        while (*p == '"' || *p == ':' || *p == ' ')
            p++;
        failed = strtol(p, NULL, 10);
    }
    if (failed != 0) {
        L->failed_entries += failed > 0 ? (uint64_t)failed : (uint64_t)L->entries;
        if (failed < 0 || failed >= L->entries) return;
    }
    L->ok_req++;
    L->ok_events += (uint64_t)(L->entries - (failed > 0 ? failed : 0));
    if (L->nlat == L->caplat) {
        L->caplat = L->caplat ? L->caplat * 2 : 1 << 16;
        L->lat_us = realloc(L->lat_us, L->caplat * sizeof *L->lat_us);
    }
    uint64_t us = (now - c->t_send) / 1000;
    L->lat_us[L->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    conn_t *c = p->data;
    size_t room = sizeof c->body - 1 - c->body_len;
    if (len > room) len = room;
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    conn_t *c = p->data;
    c->status = p->status_code;
    c->keepalive = llhttp_should_keep_alive(p);
    c->complete = 1;
    return HPE_PAUSED;
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
    (void)sz;
    conn_t *c = h->data;
    buf->base = c->rbuf;
    buf->len = sizeof c->rbuf;
}

static conn_t *idle_conn(loader_t *L)
{
    for (int i = 0; i < L->nconn; i++)
        if (!L->conns[i].busy && !L->conns[i].closed) return &L->conns[i];
    return NULL;
}

static void after_answer(conn_t *c)
{
    loader_t *L = c->L;
    c->busy = 0;
    if (L->stopping) {
        maybe_finish(L);
        return;
    }
    if (!c->keepalive) {
        c->reconnect = 1;
        close_conn(c);
        return;
    }
    if (!L->open_loop) {
        send_request(c);
    } else if (L->queued) {
        L->queued--;
        send_request(c);
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    loader_t *L = c->L;
    if (nread < 0) {
        if (!L->stopping) L->conn_errors++;
        close_conn(c);
        maybe_finish(L);
        return;
    }
    const char *at = buf->base;
    size_t left = (size_t)nread;
    while (left) {
        llhttp_errno_t e = llhttp_execute(&c->parser, at, left);
        if (e == HPE_PAUSED) {
            const char *stop = llhttp_get_error_pos(&c->parser);
            left -= (size_t)(stop - at);
            at = stop;
            llhttp_resume(&c->parser);
            if (c->complete) {
                c->complete = 0;
                record(L, c);
                after_answer(c);
                if (c->closed) return;
            }
            continue;
        }
        if (e != HPE_OK) {
            L->conn_errors++;
            close_conn(c);
            maybe_finish(L);
            return;
        }
        break;
    }
}

static void on_write(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    if (status < 0) {
        if (!c->L->stopping) c->L->conn_errors++;
        close_conn(c);
        maybe_finish(c->L);
    }
}

static void send_request(conn_t *c)
{
    if (c->closed) return;
    build_request(c);
    c->busy = 1;
    c->body_len = 0;
    c->t_send = uv_hrtime();
    c->L->sent_req++;
    uv_buf_t b = uv_buf_init(c->req, (unsigned)c->req_len);
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
        c->L->conn_errors++;
        close_conn(c);
    }
}

static void start_measuring(loader_t *L)
{
    uint64_t now = uv_hrtime();
    L->t0 = now;
    L->t_measure = now + (uint64_t)(L->warmup * 1e9);
    L->t_end = L->t_measure + (uint64_t)(L->duration * 1e9);
}

static void on_tick(uv_timer_t *t)
{
    loader_t *L = t->data;
    uint64_t now = uv_hrtime();
    static int have_ru0 = 0;
    if (!have_ru0 && now >= L->t_measure) {
        getrusage(RUSAGE_SELF, &L->ru0);
        have_ru0 = 1;
    }
    int done = now >= L->t_end || (L->max_events > 0 && (long long)L->ok_events >= L->max_events);
    if (done) {
        getrusage(RUSAGE_SELF, &L->ru1);
        if (L->t_end > now) L->t_end = now;
        L->stopping = 1;
        uv_timer_stop(t);
        uv_close((uv_handle_t *)t, NULL);
        for (int i = 0; i < L->nconn; i++)
            close_conn(&L->conns[i]);
        return;
    }
    if (L->open_loop) {
        double reqs_per_s = L->rate / L->entries;
        uint64_t due = (uint64_t)(reqs_per_s * (double)(now - L->t0) / 1e9);
        while (L->issued < due) {
            L->issued++;
            conn_t *c = idle_conn(L);
            if (c)
                send_request(c);
            else if (++L->queued > L->queued_max)
                L->queued_max = L->queued;
        }
    }
}

static void maybe_finish(loader_t *L)
{
    (void)L; /* handles are closed on the tick that ends the run; uv_run returns after that */
}

static void on_connect(uv_connect_t *req, int status)
{
    conn_t *c = req->data;
    loader_t *L = c->L;
    if (status < 0) {
        if (L->stopping) return;
        fprintf(stderr, "bench_load: connect: %s\n", uv_strerror(status));
        L->conn_errors++;
        close_conn(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    if (L->started) {
        if (L->stopping) return;
        if (!L->open_loop) {
            send_request(c);
        } else if (L->queued) {
            L->queued--;
            send_request(c);
        }
        return;
    }
    if (++L->connected == L->nconn) {
        L->started = 1;
        start_measuring(L);
        uv_timer_start(&L->tick, on_tick, 1, 1);
        if (!L->open_loop)
            for (int i = 0; i < L->nconn; i++)
                send_request(&L->conns[i]);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double p)
{
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i] / 1000.0;
}

static double tv(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_load --url http://HOST:PORT[/path] [--connections N] [--entries E]\n"
            "                  [--duration S] [--warmup S] [--rate EVENTS_PER_S] [--max-events N]\n"
            "                  [--pad-bytes B]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static loader_t L;
    const char *url = NULL;
    int pad_bytes = 40;
    L.nconn = 1;
    L.entries = 1;
    L.duration = 2;
    L.warmup = 0.3;
    /* Every option takes a value: step over both. */
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--url"))
            url = v;
        else if (!strcmp(a, "--connections"))
            L.nconn = atoi(v);
        else if (!strcmp(a, "--entries"))
            L.entries = atoi(v);
        else if (!strcmp(a, "--duration"))
            L.duration = atof(v);
        else if (!strcmp(a, "--warmup"))
            L.warmup = atof(v);
        else if (!strcmp(a, "--rate"))
            L.rate = atof(v);
        else if (!strcmp(a, "--max-events"))
            L.max_events = atoll(v);
        else if (!strcmp(a, "--pad-bytes"))
            pad_bytes = atoi(v);
        else
            usage();
    }
    if (!url || strncmp(url, "http://", 7) || L.nconn < 1 || L.entries < 1 || L.entries > 10 ||
        pad_bytes < 0 || pad_bytes > 4000)
        usage();
    const char *hp = url + 7;
    const char *slash = strchr(hp, '/');
    L.path = slash ? slash : "/";
    size_t hlen = slash ? (size_t)(slash - hp) : strlen(hp);
    if (hlen >= sizeof L.host) usage();
    memcpy(L.host, hp, hlen);
    const char *colon = strrchr(L.host, ':');
    if (!colon) usage();
    char ip[64];
    snprintf(ip, sizeof ip, "%.*s", (int)(colon - L.host), L.host);
    if (uv_ip4_addr(ip, atoi(colon + 1), &L.addr)) usage();
    char *pad = malloc((size_t)pad_bytes + 1);
    memset(pad, 'x', (size_t)pad_bytes);
    pad[pad_bytes] = '\0';
    L.pad = pad;
    L.open_loop = L.rate > 0;
    if (L.max_events > 0) L.duration = 1e6;

    signal(SIGPIPE, SIG_IGN);
    L.loop = uv_default_loop();
    llhttp_settings_init(&L.settings);
    L.settings.on_body = on_body;
    L.settings.on_message_complete = on_message_complete;
    uv_timer_init(L.loop, &L.tick);
    L.tick.data = &L;
    L.conns = calloc((size_t)L.nconn, sizeof *L.conns);
    for (int i = 0; i < L.nconn; i++) {
        conn_t *c = &L.conns[i];
        c->L = &L;
        llhttp_init(&c->parser, HTTP_RESPONSE, &L.settings);
        c->parser.data = c;
        uv_tcp_init(L.loop, &c->tcp);
        c->tcp.data = c;
        c->creq.data = c;
        int rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&L.addr, on_connect);
        if (rc) {
            fprintf(stderr, "bench_load: connect: %s\n", uv_strerror(rc));
            return 1;
        }
    }
    uv_run(L.loop, UV_RUN_DEFAULT);

    double wall = (double)(L.t_end - L.t_measure) / 1e9;
    if (wall <= 0) wall = 1e-9;
    double cpu = tv(L.ru1.ru_utime) - tv(L.ru0.ru_utime) + tv(L.ru1.ru_stime) - tv(L.ru0.ru_stime);
    qsort(L.lat_us, L.nlat, sizeof *L.lat_us, cmp_u32);
    printf("{\"connections\":%d,\"entries\":%d,\"mode\":\"%s\",\"target_rate\":%.0f,"
           "\"seconds\":%.3f,\"requests\":%llu,\"events\":%llu,\"requests_per_s\":%.1f,"
           "\"events_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"max_ms\":%.3f,\"bad_status\":%llu,\"failed_entries\":%llu,\"conn_errors\":%llu,"
           "\"queued_max\":%llu,\"reconnects\":%llu,\"sent_events\":%llu,\"loader_cpu_s\":%.3f,"
           "\"loader_cpu_share\":%.3f}\n",
           L.nconn, L.entries, L.open_loop ? "open" : "closed", L.rate, wall,
           (unsigned long long)L.ok_req, (unsigned long long)L.ok_events, (double)L.ok_req / wall,
           (double)L.ok_events / wall, pct(L.lat_us, L.nlat, 0.5), pct(L.lat_us, L.nlat, 0.9),
           pct(L.lat_us, L.nlat, 0.99), L.nlat ? L.lat_us[L.nlat - 1] / 1000.0 : 0.0,
           (unsigned long long)L.bad_status, (unsigned long long)L.failed_entries,
           (unsigned long long)L.conn_errors, (unsigned long long)L.queued_max,
           (unsigned long long)L.reconnects, (unsigned long long)(L.sent_req * (uint64_t)L.entries),
           cpu, cpu / wall);
    for (int i = 0; i < L.nconn; i++)
        free(L.conns[i].req);
    free(L.conns);
    free(L.lat_us);
    free(pad);
    uv_loop_close(L.loop);
    return L.ok_req ? 0 : 1;
}

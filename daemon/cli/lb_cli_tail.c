/* tail: the daemon's live stream (GET /_localbridge/stream, server-sent events) printed as
 * events are accepted; nothing polls. Ends on Ctrl-C, after --count events, or when the daemon
 * closes the stream. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "lb_cli_internal.h"

typedef struct {
    cli_t *c;
    lb_buf_t line; /* the line being received */
    lb_buf_t data; /* the frame's data lines */
    char type[32]; /* the frame's event type */
    long count, seen;
    int connected;
} tail_t;

static void print_event(const cli_t *c, const lb_json_t *e)
{
    const lb_json_t *rules = lb_json_get(e, "rules");
    printf("%s%s%s  %s%-12s%s %-24s %-24s %s", cli_sgr(c, CLI_DIM), cli_str(e, "received", "?"),
           cli_sgr(c, CLI_RESET), cli_sgr(c, CLI_CYAN), cli_str(e, "bus", "?"),
           cli_sgr(c, CLI_RESET), cli_str(e, "source", "?"), cli_str(e, "detail-type", "?"),
           cli_str(e, "id", "?"));
    if (rules && rules->n_children) {
        printf("  rules:");
        lb_json_each(r, rules) printf(" %s", r->str);
    } else {
        printf("  %sno rule matched%s", cli_sgr(c, CLI_DIM), cli_sgr(c, CLI_RESET));
    }
    printf("\n");
}

static void print_delivery(const cli_t *c, const lb_json_t *d)
{
    const lb_json_t *hs = lb_json_get(d, "http_status");
    printf("    -> %s/%s #%lld ", cli_str(d, "rule", "?"), cli_str(d, "target_id", "?"),
           (long long)lb_json_get_int(d, "attempt", 0));
    cli_print_status(c, cli_str(d, "status", "?"));
    if (lb_json_is(hs, LB_JSON_NUMBER)) printf(" HTTP %s", hs->str);
    printf(" %lld ms", (long long)lb_json_get_int(d, "latency_ms", 0));
    const char *err = cli_str(d, "error", NULL);
    if (err) printf("  %s%s%s", cli_sgr(c, CLI_RED), err, cli_sgr(c, CLI_RESET));
    printf("  %s%s%s\n", cli_sgr(c, CLI_DIM), cli_str(d, "event_id", ""), cli_sgr(c, CLI_RESET));
}

/* A whole frame arrived: print it. 1 when --count is reached. */
static int frame(tail_t *t)
{
    if (!t->data.len) return 0;
    int is_event = strcmp(t->type, "event") == 0;
    if (t->c->json) {
        printf("{\"type\":\"%s\",\"data\":%.*s}\n", t->type, (int)t->data.len, t->data.data);
    } else {
        lb_json_doc_t *doc = NULL;
        if (lb_json_parse(t->data.data, t->data.len, 1100, &doc, NULL) == 0) {
            if (is_event)
                print_event(t->c, lb_json_doc_root(doc));
            else if (strcmp(t->type, "delivery") == 0)
                print_delivery(t->c, lb_json_doc_root(doc));
        }
        lb_json_doc_free(&doc);
    }
    fflush(stdout);
    t->data.len = 0;
    return is_event && t->count > 0 && ++t->seen >= t->count;
}

static int line(tail_t *t, const char *s, size_t n)
{
    if (n == 0) {
        int stop = frame(t);
        snprintf(t->type, sizeof t->type, "message");
        return stop;
    }
    if (n >= 6 && strncmp(s, "event:", 6) == 0) {
        size_t k = 6 + (n > 6 && s[6] == ' ');
        snprintf(t->type, sizeof t->type, "%.*s", (int)(n - k), s + k);
    } else if (n >= 5 && strncmp(s, "data:", 5) == 0) {
        size_t k = 5 + (n > 5 && s[5] == ' ');
        if (t->data.len) lb_buf_append(&t->data, "\n", 1);
        lb_buf_append(&t->data, s + k, n - k);
    }
    return 0; /* comments (": keepalive") and unknown fields are ignored */
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    tail_t *t = arg;
    t->connected = 1;
    for (size_t i = 0; i < size * n; i++) {
        if (data[i] == '\n') {
            size_t len = t->line.len;
            if (len && t->line.data[len - 1] == '\r') len--;
            int stop = line(t, t->line.data ? t->line.data : "", len);
            t->line.len = 0;
            if (stop) return 0; /* aborts the transfer: done */
        } else {
            lb_buf_append(&t->line, data + i, 1);
        }
    }
    return size * n;
}

int cli_cmd_tail(cli_t *c)
{
    const char *bus = cli_opt(c, "--bus"), *rule = cli_opt(c, "--rule");
    const char *pattern = cli_opt(c, "--pattern"), *count = cli_opt(c, "--count");
    int deliveries = cli_flag(c, "--deliveries");
    int rc = cli_leftover(c, "tail");
    if (rc) return rc;
    tail_t t = {.c = c, .count = count ? strtol(count, NULL, 10) : 0};
    snprintf(t.type, sizeof t.type, "message");
    lb_buf_t url = {0};
    lb_buf_printf(&url, "%s/_localbridge/stream?deliveries=%d", c->endpoint, deliveries);
    if (bus) {
        lb_buf_puts(&url, "&bus=");
        cli_urlencode(&url, bus);
    }
    if (rule) {
        lb_buf_puts(&url, "&rule=");
        cli_urlencode(&url, rule);
    }
    if (pattern) {
        char *text = cli_text_arg(pattern);
        if (!text) {
            lb_buf_free(&url);
            return LB_CLI_EXIT_USAGE;
        }
        lb_buf_puts(&url, "&pattern=");
        cli_urlencode(&url, text);
        free(text);
    }
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* An error answer (a pattern that does not compile) must not be printed as frames. */
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 0L);
    CURLcode res = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    lb_buf_free(&url);
    if (status >= 400) {
        cli_answer_t a = {.status = status};
        lb_buf_append(&a.body, t.line.data ? t.line.data : "", t.line.len);
        if (a.body.len) lb_json_parse(a.body.data, a.body.len, 64, &a.doc, NULL);
        rc = cli_check(c, &a);
        cli_answer_free(&a);
    } else if (res == CURLE_WRITE_ERROR && t.count && t.seen >= t.count) {
        rc = 0;
    } else if (res != CURLE_OK && !t.connected) {
        fprintf(stderr, "localbridge: cannot reach the daemon at %s: %s\n", c->endpoint,
                curl_easy_strerror(res));
        rc = LB_CLI_EXIT_UNREACHABLE;
    }
    lb_buf_free(&t.line);
    lb_buf_free(&t.data);
    return rc;
}

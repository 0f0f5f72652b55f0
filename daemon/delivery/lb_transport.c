#include "lb_transport.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_curl.h"
#include "lb_hclient.h"
#include "lb_util.h"

typedef struct xfer {
    struct xfer *prev, *next;
    lb_transport_t *owner;
    CURL *easy;
    struct curl_slist *headers;
    lb_transport_done_fn done;
    void *ctx;
    lb_response_buf_t response;
    char curl_error[CURL_ERROR_SIZE];
    char want[64]; /* capture_header, "" for none */
    char header[LB_TRANSPORT_HEADER_KEEP];
    int has_header;
} xfer_t;

/* Easy handles kept for reuse: curl_easy_init and cleanup cost more than a reset. */
#define IDLE_HANDLES 64

struct lb_transport {
    lb_hclient_t *plain; /* http:// */
    lb_curl_t *curl;     /* everything else */
    xfer_t *xfers;
    size_t inflight;
    CURL *idle[IDLE_HANDLES];
    size_t n_idle;
};

static void unlink_xfer(xfer_t *x)
{
    lb_transport_t *t = x->owner;
    if (x->prev)
        x->prev->next = x->next;
    else
        t->xfers = x->next;
    if (x->next) x->next->prev = x->prev;
    t->inflight--;
}

static void xfer_free(xfer_t *x)
{
    lb_transport_t *t = x->owner;
    if (t && t->n_idle < IDLE_HANDLES) {
        curl_easy_reset(x->easy);
        t->idle[t->n_idle++] = x->easy;
    } else {
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    lb_response_free(&x->response);
    free(x);
}

void lb_response_init(lb_response_buf_t *r, size_t response_max)
{
    r->small[0] = '\0';
    r->big = NULL;
    r->len = 0;
    r->max = response_max > LB_TRANSPORT_KEEP ? response_max : LB_TRANSPORT_KEEP;
}

void lb_response_add(lb_response_buf_t *r, const char *p, size_t n)
{
    size_t room = r->max - r->len, take = n < room ? n : room;
    if (!take) return;
    if (r->max > LB_TRANSPORT_KEEP && !r->big) {
        r->big = lb_xmalloc(r->max + 1);
        memcpy(r->big, r->small, r->len);
    }
    char *to = r->big ? r->big : r->small;
    memcpy(to + r->len, p, take);
    r->len += take;
    to[r->len] = '\0';
}

const char *lb_response_data(const lb_response_buf_t *r)
{
    if (r->big) return r->big;
    return r->len ? r->small : "";
}

void lb_response_free(lb_response_buf_t *r)
{
    free(r->big);
    r->big = NULL;
    r->len = 0;
}

static void on_done(CURL *easy, CURLcode result, void *ctx)
{
    (void)ctx;
    xfer_t *x;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    unlink_xfer(x);
    lb_http_result_t r = {.body = lb_response_data(&x->response),
                          .body_len = x->response.len,
                          .header = x->has_header ? x->header : NULL};
    if (result == CURLE_OK) {
        r.answered = 1;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
    } else {
        r.timed_out = result == CURLE_OPERATION_TIMEDOUT;
        r.error = x->curl_error[0] ? x->curl_error : curl_easy_strerror(result);
    }
    x->done(x->ctx, &r);
    xfer_free(x);
}

int lb_transport_new(uv_loop_t *loop, lb_transport_t **out)
{
    lb_transport_t *t = lb_xcalloc(1, sizeof *t);
    if (lb_curl_new(loop, on_done, NULL, t, &t->curl)) {
        free(t);
        return -ENOMEM;
    }
    lb_hclient_new(loop, &t->plain);
    *out = t;
    return 0;
}

void lb_transport_free(lb_transport_t **tp)
{
    lb_transport_t *t = *tp;
    if (!t) return;
    *tp = NULL;
    while (t->xfers) {
        xfer_t *x = t->xfers;
        lb_curl_remove(t->curl, x->easy);
        unlink_xfer(x);
        lb_http_result_t r = {.aborted = 1, .body = "", .error = "LocalBridge is stopping"};
        x->done(x->ctx, &r);
        x->owner = NULL; /* not back to the pool: it is being emptied */
        xfer_free(x);
    }
    while (t->n_idle)
        curl_easy_cleanup(t->idle[--t->n_idle]);
    lb_curl_close(t->curl);
    lb_hclient_free(&t->plain);
    free(t);
}

static size_t keep_response(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer_t *x = userdata;
    lb_response_add(&x->response, ptr, size * nmemb);
    return size * nmemb;
}

/* "Name: value\r\n" lines of the answer: keeps the value of the header asked for. */
static size_t keep_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer_t *x = userdata;
    size_t n = size * nmemb, name = strlen(x->want);
    if (n > name && ptr[name] == ':' && strncasecmp(ptr, x->want, name) == 0) {
        const char *v = ptr + name + 1, *end = ptr + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        size_t len =
            (size_t)(end - v) < sizeof x->header - 1 ? (size_t)(end - v) : sizeof x->header - 1;
        memcpy(x->header, v, len);
        x->header[len] = '\0';
        x->has_header = 1;
    } else if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        x->has_header = 0; /* a new answer (after a 1xx): only its own headers count */
    }
    return n;
}

int lb_transport_send(lb_transport_t *t, const lb_http_call_t *req, uint64_t timeout_ms,
                      lb_transport_done_fn done, void *ctx)
{
    if (lb_hclient_handles(req->url)) return lb_hclient_send(t->plain, req, timeout_ms, done, ctx);
    xfer_t *x = lb_xcalloc(1, sizeof *x);
    x->owner = t;
    x->done = done;
    x->ctx = ctx;
    lb_response_init(&x->response, req->response_max);
    x->easy = t->n_idle ? t->idle[--t->n_idle] : curl_easy_init();
    if (!x->easy) {
        free(x);
        return -ENOMEM;
    }
    for (char **h = req->headers; h && *h; h++)
        x->headers = curl_slist_append(x->headers, *h);
    /* curl adds "Expect: 100-continue" to large POSTs; targets should not wait a second. */
    x->headers = curl_slist_append(x->headers, "Expect:");
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    int bodyless = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (req->body && !bodyless) {
        /* Borrowed, not copied: the caller keeps the body alive until done. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req->body));
    }
    if (strcmp(req->method, "HEAD") == 0) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_response);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    if (req->capture_header && strlen(req->capture_header) < sizeof x->want) {
        snprintf(x->want, sizeof x->want, "%s", req->capture_header);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, keep_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    } else {
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, NULL);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (lb_curl_add(t->curl, e)) {
        xfer_free(x);
        return -EIO;
    }
    x->next = t->xfers;
    if (t->xfers) t->xfers->prev = x;
    t->xfers = x;
    t->inflight++;
    return 0;
}

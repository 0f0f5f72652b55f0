#include "lb_console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lb_console_assets_internal.h"

/* The page may load only from this daemon: no CDN, no font service, no outside fetch, even if
 * a later change tried one. Inline scripts and style attributes are refused as well, so an event
 * body shown on the page can never run as code. */
#define SECURITY_HEADERS                                                                           \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "              \
    "frame-ancestors 'none'\r\n"                                                                   \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "Referrer-Policy: no-referrer\r\n"

/* Files are named by their path, not by their content, so the browser must ask again each time;
 * the ETag makes that a 304 without a body. */
#define CACHE_HEADERS "Cache-Control: no-cache\r\n"

int lb_console_owns(const char *path)
{
    size_t n = strlen(LB_CONSOLE_PREFIX);
    return strncmp(path, LB_CONSOLE_PREFIX, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static const lb_console_asset_t *find_asset(const char *name)
{
    if (*name == '\0') name = "index.html";
    for (size_t i = 0; i < lb_console_n_assets; i++)
        if (strcmp(lb_console_assets[i].name, name) == 0) return &lb_console_assets[i];
    return NULL;
}

/* 1 when If-None-Match lists etag (or is "*"): the browser's copy is current. */
static int etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match) return 0;
    size_t n = strlen(etag);
    for (const char *p = if_none_match; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, "W/", 2) == 0) p += 2; /* a weak comparison is what If-None-Match uses */
        if (*p == '*' || (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ')))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

int lb_console_handle(lb_http_request_t *req)
{
    const char *method = lb_http_request_method(req);
    if (strcmp(method, "GET") != 0) return -EINVAL;
    const char *path = lb_http_request_path(req) + strlen(LB_CONSOLE_PREFIX);
    if (*path == '\0') {
        static const char moved[] = "Location: " LB_CONSOLE_PREFIX "/\r\n";
        lb_http_respond(req, 301, NULL, moved, "", 0);
        return 0;
    }
    const lb_console_asset_t *a = find_asset(path + 1);
    if (!a) return -ENOENT;
    char headers[512];
    snprintf(headers, sizeof headers, "ETag: %s\r\n" CACHE_HEADERS SECURITY_HEADERS, a->etag);
    if (etag_matches(lb_http_request_header(req, "If-None-Match"), a->etag)) {
        lb_http_respond(req, 304, NULL, headers, "", 0);
        return 0;
    }
    lb_http_respond(req, 200, a->type, headers, (const char *)a->data, a->len);
    return 0;
}

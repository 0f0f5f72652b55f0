/* Host and origin checks. See lb_origin.h. */
#include "lb_origin.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The host part of "name[:port]" or "[v6]:port", lower-cased into out; -1 if malformed. */
static int host_name(const char *h, char *out, size_t n, int *bracketed)
{
    size_t len;
    *bracketed = 0;
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        if (!close || (close[1] && close[1] != ':')) return -1;
        h++;
        len = (size_t)(close - h);
        *bracketed = 1;
    } else {
        len = strcspn(h, ":");
    }
    if (len == 0 || len >= n) return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)h[i]);
    out[len] = '\0';
    /* A fully qualified name may end in a dot: "localhost." is "localhost". */
    if (!*bracketed && len > 1 && out[len - 1] == '.') out[len - 1] = '\0';
    return 0;
}

static int listed(const char *name, const char *allowed)
{
    for (const char *p = allowed; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t l = strcspn(p, ",");
        size_t t = l;
        while (t && p[t - 1] == ' ')
            t--;
        if (t == 1 && p[0] == '*') return 1;
        if (t && strlen(name) == t && strncasecmp(name, p, t) == 0) return 1;
        p += l;
    }
    return 0;
}

int lb_origin_host_allowed(const char *host, const char *allowed)
{
    if (!host) return 1;
    if (listed("*", allowed)) return 1;
    char name[256];
    int bracketed;
    if (host_name(host, name, sizeof name, &bracketed)) return 0;
    unsigned char addr[16];
    if (bracketed) return inet_pton(AF_INET6, name, addr) == 1;
    if (inet_pton(AF_INET, name, addr) == 1) return 1;
    size_t n = strlen(name);
    if (strcmp(name, "localhost") == 0 || (n > 10 && strcmp(name + n - 10, ".localhost") == 0))
        return 1;
    return listed(name, allowed);
}

int lb_origin_cross_site(const char *origin, const char *sec_fetch_site, const char *host)
{
    if (sec_fetch_site && strcasecmp(sec_fetch_site, "same-origin") != 0 &&
        strcasecmp(sec_fetch_site, "none") != 0)
        return 1;
    if (!origin) return 0;
    const char *authority = strstr(origin, "://");
    if (!authority || !host) return 1; /* "null" (sandboxed pages, file:) or no Host to match */
    authority += 3;
    size_t len = strcspn(authority, "/");
    /* The Origin's default port is implied; a Host header may spell it or not. */
    char a[300], b[300];
    int https = strncasecmp(origin, "https://", 8) == 0;
    snprintf(a, sizeof a, "%.*s", (int)len, authority);
    snprintf(b, sizeof b, "%s", host);
    const char *dflt = https ? ":443" : ":80";
    size_t al = strlen(a), bl = strlen(b), dl = strlen(dflt);
    if (al > dl && strcmp(a + al - dl, dflt) == 0) a[al - dl] = '\0';
    if (bl > dl && strcmp(b + bl - dl, dflt) == 0) b[bl - dl] = '\0';
    return strcasecmp(a, b) != 0;
}

int lb_origin_json_content_type(const char *ct)
{
    if (!ct) return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return (n == 16 && strncasecmp(ct, "application/json", n) == 0) ||
           (n == 26 && (strncasecmp(ct, "application/x-amz-json-1.1", n) == 0 ||
                        strncasecmp(ct, "application/x-amz-json-1.0", n) == 0));
}

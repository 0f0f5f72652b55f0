/* Value parsers for lb_config.c; see lb_config_parse.h. */
#include "lb_config_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_pattern.h"
#include "lb_util.h"

#define KB LB_CONFIG_KB
#define MB LB_CONFIG_MB
#define GB LB_CONFIG_GB
#define SEC LB_CONFIG_SEC
#define MIN LB_CONFIG_MIN
#define HOUR LB_CONFIG_HOUR

bool lb_config_is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

char *lb_config_trim(char *s)
{
    while (lb_config_is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && lb_config_is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

bool lb_config_has_space_or_control(const char *s)
{
    for (; *s; s++)
        if (lb_config_is_space(*s) || (unsigned char)*s < 0x20) return true;
    return false;
}

/* ---- value parsers ---- */

/* Leading decimal digits of s into *out (no sign, no spaces); *rest points past them. */
int lb_config_parse_digits(const char *s, uint64_t *out, const char **rest)
{
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -ERANGE;
        v = v * 10 + d;
    }
    if (p == s) return -EINVAL;
    *out = v;
    *rest = p;
    return 0;
}

/* Largest unit first, so formatting picks the shortest exact spelling. */
const struct lb_config_suffix lb_config_size_suffixes[] = {
    {"g", GB}, {"G", GB}, {"m", MB}, {"M", MB}, {"k", KB}, {"K", KB}, {"", 1}, {NULL, 0}};
const struct lb_config_suffix lb_config_duration_suffixes[] = {{"h", HOUR}, {"m", MIN}, {"s", SEC},
                                                               {"ms", 1},   {"", 1},    {NULL, 0}};

void lb_config_format_scaled(uint64_t v, const struct lb_config_suffix *suffixes, char *out,
                             size_t n)
{
    const struct lb_config_suffix *sfx = suffixes;
    while (sfx->mult > 1 && (v < sfx->mult || v % sfx->mult))
        sfx++;
    snprintf(out, n, "%" PRIu64 "%s", v / sfx->mult, sfx->text);
}

/* "256k", "30s", "500" (no suffix): -EINVAL if malformed, -ERANGE if it overflows. */
int lb_config_parse_scaled(const char *v, const struct lb_config_suffix *suffixes, uint64_t *out)
{
    uint64_t n;
    const char *rest;
    int rc = lb_config_parse_digits(v, &n, &rest);
    if (rc) return rc;
    for (const struct lb_config_suffix *sfx = suffixes; sfx->text; sfx++) {
        if (strcmp(rest, sfx->text) != 0) continue;
        if (n > UINT64_MAX / sfx->mult) return -ERANGE;
        *out = n * sfx->mult;
        return 0;
    }
    return -EINVAL;
}

int lb_config_parse_int(const char *v, int64_t *out)
{
    bool negative = v[0] == '-';
    uint64_t u;
    const char *rest;
    int rc = lb_config_parse_digits(v + negative, &u, &rest);
    if (rc) return rc;
    if (*rest) return -EINVAL;
    if (u > INT64_MAX) return -ERANGE;
    *out = negative ? -(int64_t)u : (int64_t)u;
    return 0;
}

int lb_config_parse_bool(const char *v, bool *out)
{
    static const char *const words[] = {"false", "true", "no", "yes", "off", "on", "0", "1"};
    for (size_t i = 0; i < 8; i++)
        if (strcasecmp(v, words[i]) == 0) return *out = i % 2, 0;
    return -EINVAL;
}

int lb_config_parse_listen(const char *v, struct lb_listen_addr *out)
{
    struct lb_listen_addr a = {0};
    const char *host = v, *port;
    unsigned char bin[16];
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':') return -EINVAL;
        host = v + 1;
        port = close + 2;
        a.ipv6 = true;
    } else {
        const char *colon = strrchr(v, ':');
        if (!colon) return -EINVAL;
        port = colon + 1;
    }
    size_t host_len = (size_t)(port - 1 - a.ipv6 - host);
    if (host_len == 0 || host_len >= sizeof a.host) return -EINVAL;
    memcpy(a.host, host, host_len);
    if (inet_pton(a.ipv6 ? AF_INET6 : AF_INET, a.host, bin) != 1) return -EINVAL;
    uint64_t p;
    const char *rest;
    if (lb_config_parse_digits(port, &p, &rest) || *rest || p > 65535) return -EINVAL;
    a.port = (uint16_t)p;
    *out = a;
    return 0;
}

/* '*' matches any run (including none), '?' one character; everything else is literal. Greedy
 * with one backtrack point, so the cost stays O(len(glob) * len(s)) whatever the input. */
bool lb_config_glob_match(const char *g, const char *s)
{
    const char *star = NULL, *retry = NULL;
    while (*s) {
        if (*g == '*') {
            star = ++g;
            retry = s;
        } else if (*g && (*g == '?' || *g == *s)) {
            g++;
            s++;
        } else if (star) {
            g = star;
            s = ++retry;
        } else {
            return false;
        }
    }
    while (*g == '*')
        g++;
    return *g == '\0';
}

/* ---- forward lines ---- */

static bool bus_name_ok(const char *s, size_t n, bool slash)
{
    if (n < 1 || n > 256) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || (slash && c == '/')))
            return false;
    }
    return true;
}

bool lb_config_is_bus_arn(const char *arn)
{
    /* arn:aws[-cn|-us-gov|...]:events:REGION:ACCOUNT:event-bus/NAME */
    if (strncmp(arn, "arn:aws", 7) != 0) return false;
    const char *p = strchr(arn + 4, ':');
    if (!p || strncmp(p, ":events:", 8) != 0) return false;
    p += 8;
    const char *colon = strchr(p, ':');
    if (!colon || colon == p) return false;
    for (const char *r = p; r < colon; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-')) return false;
    p = colon + 1;
    if (strspn(p, "0123456789") != 12 || strncmp(p + 12, ":event-bus/", 11) != 0) return false;
    p += 23;
    return bus_name_ok(p, strlen(p), true);
}

int lb_config_parse_forward(const char *v, char **bus, char **arn, char **pattern)
{
    const char *arrow = strstr(v, "->");
    if (!arrow) return -EINVAL;
    char *left = strndup(v, (size_t)(arrow - v)), *right = lb_strdup(arrow + 2);
    char *b = lb_config_trim(left), *r = lb_config_trim(right);
    size_t arn_len = strcspn(r, " \t");
    char *a = strndup(r, arn_len), *pat = lb_config_trim(r + arn_len);
    int rc = bus_name_ok(b, strlen(b), false) && lb_config_is_bus_arn(a) ? 0 : -EINVAL;
    if (rc == 0 && *pat) {
        lb_pattern_t *compiled = NULL;
        char *why = NULL;
        rc = lb_pattern_compile(pat, strlen(pat), &compiled, &why) ? -EINVAL : 0;
        lb_pattern_free(&compiled);
        free(why);
    }
    if (rc == 0) {
        *bus = lb_strdup(b);
        *arn = a;
        *pattern = *pat ? lb_strdup(pat) : NULL;
        a = NULL;
    }
    free(a);
    free(left);
    free(right);
    return rc;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool lb_config_forwards_equal(const struct lb_forwards *a, const struct lb_forwards *b)
{
    if (a->count != b->count) return false;
    for (size_t i = 0; i < a->count; i++)
        if (!same_text(a->items[i].bus, b->items[i].bus) ||
            !same_text(a->items[i].arn, b->items[i].arn) ||
            !same_text(a->items[i].pattern, b->items[i].pattern))
            return false;
    return true;
}

void lb_config_lines_add(struct lb_lines *list, const char *v, enum lb_config_source src)
{
    size_t at = 0;
    while (at < list->count && list->items[at].source >= src)
        at++;
    list->items = lb_xrealloc(list->items, (list->count + 1) * sizeof *list->items);
    memmove(&list->items[at + 1], &list->items[at], (list->count - at) * sizeof *list->items);
    list->items[at] = (struct lb_line){lb_strdup(v), src};
    list->count++;
}

void lb_config_lines_free(struct lb_lines *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].text);
    free(list->items);
    memset(list, 0, sizeof *list);
}

bool lb_config_lines_equal(const struct lb_lines *a, const struct lb_lines *b)
{
    if (a->count != b->count) return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->items[i].text, b->items[i].text)) return false;
    return true;
}

/* [a-z]{2}(-gov)?-[a-z]+-[0-9], e.g. us-east-1, us-gov-west-1, ap-southeast-2. */
bool lb_config_is_region(const char *p)
{
    if (!(p[0] >= 'a' && p[0] <= 'z' && p[1] >= 'a' && p[1] <= 'z' && p[2] == '-')) return false;
    p += 3;
    if (strncmp(p, "gov-", 4) == 0 && p[4] >= 'a' && p[4] <= 'z') p += 4;
    const char *word = p;
    while (*p >= 'a' && *p <= 'z')
        p++;
    return p > word && p[0] == '-' && p[1] >= '0' && p[1] <= '9' && p[2] == '\0';
}

bool lb_config_is_account_id(const char *v)
{
    size_t len = strspn(v, "0123456789");
    return len == 12 && v[len] == '\0';
}

bool lb_config_is_http_url(const char *v)
{
    const char *rest = NULL;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    return rest && *rest && *rest != '/' && !lb_config_has_space_or_control(v);
}

bool lb_config_is_optional_url(const char *v)
{
    return !*v || lb_config_is_http_url(v);
}

/* Optional text (a path, a token, a list): anything without control characters, "" included. */
bool lb_config_is_optional_text(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20) return false;
    return true;
}

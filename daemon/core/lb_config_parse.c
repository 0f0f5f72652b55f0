/* Value parsers for lb_config.c; see lb_config_parse.h. */
#include "lb_config_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

#include "lb_lambda_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_config_parse.h"
#include "lb_util.h"

void lb_lambda_settings_unset(lb_lambda_settings_t *s)
{
    *s = (lb_lambda_settings_t){
        .timeout_ms = -1, .concurrency = -1, .retries = -1, .max_event_age_s = -1};
}

void lb_lambda_settings_clear(lb_lambda_settings_t *s)
{
    free(s->on_failure);
    lb_lambda_settings_unset(s);
}

void lb_lambda_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

/* Splits p into words: spaces separate, "..." keeps spaces, \" and \\ escape inside quotes. */
static int split_words(const char *p, char ***out, char *msg, size_t n)
{
    char **v = NULL;
    size_t count = 0;
    lb_buf_t w = {0};
    for (;;) {
        while (lb_config_is_space(*p))
            p++;
        if (!*p) break;
        w.len = 0;
        int quoted = 0;
        while (*p && (quoted || !lb_config_is_space(*p))) {
            if (*p == '"') {
                quoted = !quoted;
            } else if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\')) {
                lb_buf_append(&w, ++p, 1);
            } else {
                lb_buf_append(&w, p, 1);
            }
            p++;
        }
        if (quoted) {
            snprintf(msg, n, "unterminated double quote in the command");
            lb_buf_free(&w);
            lb_lambda_argv_free(v);
            return -1;
        }
        v = lb_xrealloc(v, (count + 2) * sizeof *v);
        v[count++] = lb_strdup(w.len ? w.data : "");
        v[count] = NULL;
    }
    lb_buf_free(&w);
    if (!count) {
        snprintf(msg, n, "no command after '->'");
        return -1;
    }
    *out = v;
    return 0;
}

/* The glob before the first space (functions' names hold no spaces); *rest what follows. */
static int take_glob(const char *line, char **glob, const char **rest, char *msg, size_t n)
{
    while (lb_config_is_space(*line))
        line++;
    size_t len = strcspn(line, " \t");
    if (!len || len > 170) {
        snprintf(msg, n, "expected a function name glob first");
        return -1;
    }
    *glob = lb_xmalloc(len + 1);
    memcpy(*glob, line, len);
    (*glob)[len] = '\0';
    *rest = line + len;
    return 0;
}

int lb_lambda_parse_handler(const char *line, char **glob, char ***argv, char *msg, size_t n)
{
    const char *arrow = strstr(line, "->");
    if (!arrow) {
        snprintf(msg, n, "expected 'GLOB -> COMMAND ARG...'");
        return -1;
    }
    char *head = lb_strdup(line);
    head[arrow - line] = '\0';
    char *g = lb_config_trim(head);
    int rc = -1;
    if (!*g || lb_config_has_space_or_control(g))
        snprintf(msg, n, "expected a function name glob without spaces before '->'");
    else if (split_words(arrow + 2, argv, msg, n) == 0)
        rc = 0, *glob = lb_strdup(g);
    free(head);
    return rc;
}

static int scaled(const char *v, int64_t min, int64_t max, int64_t *out)
{
    uint64_t u;
    if (lb_config_parse_scaled(v, lb_config_duration_suffixes, &u) || (int64_t)u < min ||
        (int64_t)u > max)
        return -1;
    *out = (int64_t)u;
    return 0;
}

static int set_setting(lb_lambda_settings_t *s, const char *key, const char *v, char *msg, size_t n)
{
    int64_t x;
    if (strcmp(key, "timeout") == 0) {
        if (scaled(v, 100, 900000, &x) == 0) return s->timeout_ms = x, 0;
        snprintf(msg, n, "timeout=%.40s: allowed 100ms..15m (Lambda: 1 to 900 seconds)", v);
    } else if (strcmp(key, "concurrency") == 0) {
        if (lb_config_parse_int(v, &x) == 0 && x >= 0 && x <= 1000)
            return s->concurrency = (int)x, 0;
        snprintf(msg, n, "concurrency=%.40s: allowed 0..1000", v);
    } else if (strcmp(key, "retries") == 0) {
        if (lb_config_parse_int(v, &x) == 0 && x >= 0 && x <= 2) return s->retries = (int)x, 0;
        snprintf(msg, n, "retries=%.40s: allowed 0..2 (Lambda's MaximumRetryAttempts)", v);
    } else if (strcmp(key, "max_event_age") == 0) {
        if (scaled(v, 60000, 21600000, &x) == 0) return s->max_event_age_s = (int)(x / 1000), 0;
        snprintf(msg, n, "max_event_age=%.40s: allowed 60s..6h (MaximumEventAgeInSeconds)", v);
    } else if (strcmp(key, "on_failure") == 0) {
        if (strncmp(v, "arn:", 4) == 0 && !lb_config_has_space_or_control(v)) {
            free(s->on_failure);
            s->on_failure = lb_strdup(v);
            return 0;
        }
        snprintf(msg, n, "on_failure=%.40s: expected an ARN (a queue or an event bus)", v);
    } else {
        snprintf(msg, n,
                 "unknown setting '%.40s' (timeout, concurrency, retries, max_event_age, "
                 "on_failure)",
                 key);
    }
    return -1;
}

int lb_lambda_parse_function(const char *line, char **glob, lb_lambda_settings_t *out, char *msg,
                             size_t n)
{
    const char *rest;
    lb_lambda_settings_unset(out);
    if (take_glob(line, glob, &rest, msg, n)) return -1;
    char *copy = lb_strdup(rest), *save = NULL;
    int rc = 0;
    for (char *w = strtok_r(copy, " \t", &save); w && rc == 0; w = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(w, '=');
        if (!eq) {
            snprintf(msg, n, "expected key=value, got '%.40s'", w);
            rc = -1;
            break;
        }
        *eq = '\0';
        rc = set_setting(out, w, eq + 1, msg, n);
    }
    free(copy);
    if (rc) {
        free(*glob);
        *glob = NULL;
        lb_lambda_settings_clear(out);
    }
    return rc;
}

bool lb_lambda_handler_valid(const char *v)
{
    char *glob = NULL, **argv = NULL, msg[160];
    if (lb_lambda_parse_handler(v, &glob, &argv, msg, sizeof msg)) return false;
    free(glob);
    lb_lambda_argv_free(argv);
    return true;
}

bool lb_lambda_function_valid(const char *v)
{
    char *glob = NULL, msg[160];
    lb_lambda_settings_t s;
    if (lb_lambda_parse_function(v, &glob, &s, msg, sizeof msg)) return false;
    free(glob);
    lb_lambda_settings_clear(&s);
    return true;
}

int lb_lambda_find_handler(const struct lb_lines *handlers, const char *name, char ***argv)
{
    char msg[200];
    for (size_t i = 0; i < handlers->count; i++) {
        char *glob = NULL, **v = NULL;
        if (lb_lambda_parse_handler(handlers->items[i].text, &glob, &v, msg, sizeof msg)) continue;
        int hit = lb_config_glob_match(glob, name);
        free(glob);
        if (hit) {
            *argv = v;
            return 0;
        }
        lb_lambda_argv_free(v);
    }
    return -1;
}

void lb_lambda_resolve_settings(const struct lb_lines *functions, const char *name,
                                lb_lambda_settings_t *out)
{
    char msg[200];
    for (size_t i = 0; i < functions->count; i++) {
        char *glob = NULL;
        lb_lambda_settings_t s;
        if (lb_lambda_parse_function(functions->items[i].text, &glob, &s, msg, sizeof msg))
            continue;
        if (lb_config_glob_match(glob, name)) {
            if (out->timeout_ms < 0) out->timeout_ms = s.timeout_ms;
            if (out->concurrency < 0) out->concurrency = s.concurrency;
            if (out->retries < 0) out->retries = s.retries;
            if (out->max_event_age_s < 0) out->max_event_age_s = s.max_event_age_s;
            if (!out->on_failure) out->on_failure = s.on_failure, s.on_failure = NULL;
        }
        free(glob);
        lb_lambda_settings_clear(&s);
    }
    if (out->timeout_ms < 0) out->timeout_ms = LB_LAMBDA_DEFAULT_TIMEOUT_MS;
    if (out->retries < 0) out->retries = LB_LAMBDA_DEFAULT_RETRIES;
    if (out->max_event_age_s < 0) out->max_event_age_s = LB_LAMBDA_DEFAULT_MAX_AGE_S;
    /* concurrency stays -1: no limit but the dispatcher's own */
}

/* Configuration: the option table, the file parser and the layering of file, environment and
 * flags; the value parsers live in lb_config_parse.c. See lb_config.h for the rules users see. */
#include "lb_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lb_config_parse.h"
#include "lb_lambda_conf.h"
#include "lb_util.h"

#define MSG_MAX 512
#define FILE_MAX_BYTES (1024 * 1024)
#define ENV_PREFIX "LOCALBRIDGE_"
#define KB LB_CONFIG_KB
#define MB LB_CONFIG_MB
#define GB LB_CONFIG_GB
#define SEC LB_CONFIG_SEC
#define MIN LB_CONFIG_MIN
#define HOUR LB_CONFIG_HOUR

enum opt_type {
    T_STRING,
    T_INT,
    T_BOOL,
    T_ENUM,
    T_SIZE,
    T_DURATION,
    T_LISTEN,
    T_TARGET_MAP,
    T_FORWARD,
    T_LINES /* repeatable; `valid` checks each line */
};

struct option {
    const char *name;
    enum opt_type type;
    size_t offset; /* of the field in struct lb_settings */
    const char *defval;
    int64_t min, max;             /* T_INT; T_SIZE in bytes; T_DURATION in ms */
    const char *const *choices;   /* T_ENUM, indexed by the enum's value */
    bool (*valid)(const char *v); /* T_STRING (NULL: any but ""), T_LINES; `allowed` too */
    const char *allowed;
    const char *metavar;
    bool reloadable;
    const char *help;
};

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"auto", "text", "kv", "json", NULL};
static const char *const sync_modes[] = {"off", "normal", "full", "extra", NULL};
static const char *const auth_modes[] = {"none", "sigv4", NULL};
static const char *const lambda_invocations[] = {"Event", "RequestResponse", NULL};

#define OFF(field) offsetof(struct lb_settings, field)
#define NO_RANGE 0, 0
#define NO_CHECK NULL, NULL

/* The one table. Defaults are strings parsed by the same code as user input, so a default can
 * never disagree with its validator, and --help shows exactly what the file would say. */
static const struct option options[] = {
    {"listen", T_LISTEN, OFF(listen), "127.0.0.1:4010", NO_RANGE, NULL, NO_CHECK, "ADDR:PORT",
     false, "Address and port of the API; IPv6 as [::1]:4010, port 0 picks a free port"},
    {"data_dir", T_STRING, OFF(data_dir), "./var", NO_RANGE, NULL, NULL, "a directory", "DIR",
     false, "Directory holding the SQLite database"},
    {"region", T_STRING, OFF(region), "us-east-1", NO_RANGE, NULL, lb_config_is_region,
     "an AWS region like us-east-1 ([a-z]{2}(-gov)?-[a-z]+-[0-9])", "REGION", false,
     "AWS region reported in ARNs and events"},
    {"account_id", T_STRING, OFF(account_id), "000000000000", NO_RANGE, NULL,
     lb_config_is_account_id, "exactly 12 digits", "ID", false,
     "AWS account id (12 digits) reported in ARNs and events"},
    {"log_level", T_ENUM, OFF(log_level), "info", NO_RANGE, log_levels, NO_CHECK, "LEVEL", true,
     "Least severe message logged: debug, info, warn or error"},
    {"log_format", T_ENUM, OFF(log_format), "auto", NO_RANGE, log_formats, NO_CHECK, "FORMAT",
     false,
     "Log lines as text (for a person), kv (logfmt key=value) or json (one object per line); "
     "auto: text on a terminal, kv otherwise"},
    {"max_body_size", T_SIZE, OFF(max_body_size), "1m", 1 * KB, 1 * GB, NULL, NO_CHECK, "SIZE",
     false, "Largest request body accepted (413 beyond it); PutEvents itself caps at 256k"},
    {"max_header_size", T_SIZE, OFF(max_header_size), "16k", 1 * KB, 1 * MB, NULL, NO_CHECK, "SIZE",
     false, "Largest total size of a request's headers (431 beyond it)"},
    {"max_connections", T_INT, OFF(max_connections), "1024", 1, 1048576, NULL, NO_CHECK, "N", false,
     "Most client connections open at once; more are refused"},
    {"idle_timeout", T_DURATION, OFF(idle_timeout_ms), "60s", 100, 24 * HOUR, NULL, NO_CHECK,
     "DURATION", false, "Close a keep-alive connection after this long without a request"},
    {"request_timeout", T_DURATION, OFF(request_timeout_ms), "30s", 100, 24 * HOUR, NULL, NO_CHECK,
     "DURATION", false, "Close a connection whose request is not in after this long"},
    {"sqlite_synchronous", T_ENUM, OFF(sqlite_synchronous), "full", NO_RANGE, sync_modes, NO_CHECK,
     "MODE", false, "SQLite durability: off, normal, full (the safe default) or extra"},
    {"sqlite_cache_size", T_SIZE, OFF(sqlite_cache_size), "2m", 0, 4 * GB, NULL, NO_CHECK, "SIZE",
     false, "SQLite page cache per connection (2m is SQLite's own default)"},
    {"delivery_timeout", T_DURATION, OFF(delivery_timeout_ms), "5s", 100, 15 * MIN, NULL, NO_CHECK,
     "DURATION", true, "Time one delivery attempt may take before it counts as failed"},
    {"delivery_resident_max", T_INT, OFF(delivery_resident_max), "100000", 10, 100000000, NULL,
     NO_CHECK, "N", false,
     "Most pending deliveries kept in memory; a larger backlog stays in the store and is paged in"},
    {"delivery_concurrency", T_INT, OFF(delivery_concurrency), "64", 1, 4096, NULL, NO_CHECK, "N",
     true, "Most deliveries in flight at once"},
    {"retry_base_delay", T_DURATION, OFF(retry_base_delay_ms), "1s", 1, HOUR, NULL, NO_CHECK,
     "DURATION", true, "First retry delay of a failed delivery; doubles per retry, with jitter"},
    {"retry_max_delay", T_DURATION, OFF(retry_max_delay_ms), "5m", 1, 24 * HOUR, NULL, NO_CHECK,
     "DURATION", true, "Longest single retry delay of a failed delivery"},
    {"delivery_enabled", T_BOOL, OFF(delivery_enabled), "true", NO_RANGE, NULL, NO_CHECK, "BOOL",
     true, "Set false to accept and store events but hold their deliveries until set true"},
    {"lambda_endpoint", T_STRING, OFF(lambda_endpoint), "", NO_RANGE, NULL,
     lb_config_is_optional_url, "empty or an http:// or https:// URL", "URL", true,
     "Lambda Invoke API for Lambda targets, e.g. http://127.0.0.1:3001 (sam local start-lambda)"},
    {"lambda_invocation_type", T_ENUM, OFF(lambda_invocation_type), "Event", NO_RANGE,
     lambda_invocations, NO_CHECK, "TYPE", true,
     "How lambda_endpoint is invoked: Event (as EventBridge does; RequestResponse after a 501 "
     "from sam local start-lambda) or RequestResponse"},
    {"target_map", T_TARGET_MAP, OFF(target_maps), "", NO_RANGE, NULL, NO_CHECK, "'GLOB -> URL'",
     true, "Deliver to URL for target ARNs matching GLOB (* and ?); repeatable, first match wins"},
    {"lambda_handler", T_LINES, OFF(lambda_handlers), "", NO_RANGE, NULL, lb_lambda_handler_valid,
     "'GLOB -> COMMAND ARG...' (no shell; \"...\" keeps spaces in an argument)",
     "'GLOB -> COMMAND ARG...'", true,
     "Run COMMAND for each invocation of the Lambda functions matching GLOB; repeatable, first "
     "match wins"},
    {"lambda_function", T_LINES, OFF(lambda_functions), "", NO_RANGE, NULL,
     lb_lambda_function_valid,
     "'GLOB [timeout=DURATION] [concurrency=N] [retries=0..2] [max_event_age=DURATION] "
     "[on_failure=ARN]'",
     "'GLOB key=value...'", true,
     "Settings of local Lambda functions matching GLOB; repeatable, the first line setting a key "
     "wins"},
    {"lambda_retry_delay", T_DURATION, OFF(lambda_retry_delay_ms), "1m", 1, HOUR, NULL, NO_CHECK,
     "DURATION", true,
     "Lambda's wait before retrying a failed run (n times this before retry n; 1m as AWS); "
     "shorten for tests"},
    {"replay_batch_size", T_INT, OFF(replay_batch_size), "100", 1, 10000, NULL, NO_CHECK, "N", true,
     "Archived events a replay reads, sends and commits at a time (one batch per turn)"},
    {"replay_interval", T_DURATION, OFF(replay_interval_ms), "0", 0, HOUR, NULL, NO_CHECK,
     "DURATION", true,
     "Pause before each of a replay's batches (0: as fast as live traffic allows)"},
    {"archive_sweep_interval", T_DURATION, OFF(archive_sweep_interval_ms), "10s", 10, 24 * HOUR,
     NULL, NO_CHECK, "DURATION", true,
     "How often expired archived events (RetentionDays) are looked for and removed"},
    {"archive_retention_day", T_DURATION, OFF(archive_retention_day_ms), "24h", 1, 24 * HOUR, NULL,
     NO_CHECK, "DURATION", true,
     "Length of one RetentionDays day; for tests only (shorten it to see events expire)"},
    {"forward", T_FORWARD, OFF(forwards), "", NO_RANGE, NULL, NO_CHECK, "'BUS -> ARN [PATTERN]'",
     false,
     "Forward events accepted on local BUS (matching PATTERN) to Amazon EventBridge bus ARN"},
    {"forward_endpoint", T_STRING, OFF(forward_endpoint), "", NO_RANGE, NULL,
     lb_config_is_optional_url, "empty or an http:// or https:// URL", "URL", true,
     "EventBridge endpoint for forwarding; empty: AWS_ENDPOINT_URL_EVENTS, AWS_ENDPOINT_URL, then "
     "https://events.REGION.amazonaws.com"},
    {"auth", T_ENUM, OFF(auth), "none", NO_RANGE, auth_modes, NO_CHECK, "MODE", false,
     "Caller authentication: none, or sigv4 (every request signed with a key of credentials_file)"},
    {"credentials_file", T_STRING, OFF(credentials_file), "", NO_RANGE, NULL,
     lb_config_is_optional_text, "a file path", "PATH", true,
     "Keys callers sign with (auth = sigv4): 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID' lines"},
    {"admin_token", T_STRING, OFF(admin_token), "", NO_RANGE, NULL, lb_config_is_optional_text,
     "text", "TOKEN", true,
     "With auth = sigv4, `Authorization: Bearer TOKEN` opens /_localbridge/ and /metrics"},
    {"allowed_hosts", T_STRING, OFF(allowed_hosts), "", NO_RANGE, NULL, lb_config_is_optional_text,
     "host names separated by commas, or *", "NAMES", true,
     "Host names served besides IP addresses and localhost (DNS rebinding guard); * allows any"},
    {"secrets_key_file", T_STRING, OFF(secrets_key_file), "", NO_RANGE, NULL,
     lb_config_is_optional_text, "a file path", "PATH", false,
     "Key encrypting connection secrets at rest; empty: localbridge.key beside the config file"},
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

/* T_ENUM fields are written through an int. */
_Static_assert(sizeof(enum lb_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum lb_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum lb_sqlite_sync) == sizeof(int), "enum size");
_Static_assert(sizeof(enum lb_auth_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum lb_lambda_invocation) == sizeof(int), "enum size");

struct lb_config {
    struct lb_settings s;
    /* What lb_config_load last saw, so SIGHUP repeats it. */
    char **flags;
    int flag_count;
    char **env;
    size_t env_count;
};

/* ---- small helpers ---- */

/* Sets *err (if err) to a malloc'd message and returns -EINVAL, so callers can `return fail()`. */
static int fail(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **err, const char *fmt, ...)
{
    char buf[MSG_MAX + 4200]; /* room for a message, a path and a line number */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (err) *err = lb_strdup(buf);
    return -EINVAL;
}

/* "data-dir", "DATA_DIR" and "data.dir" all name data_dir. */
static const struct option *find_option(const char *name, size_t len)
{
    char norm[64];
    if (len == 0 || len >= sizeof norm) return NULL;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (ch == '-' || ch == '.') ch = '_';
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        norm[i] = ch;
    }
    norm[len] = '\0';
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(options[i].name, norm) == 0) return &options[i];
    return NULL;
}

#define field(s, o) ((void *)((char *)(s) + (o)->offset))
#define cfield(s, o) ((const void *)((const char *)(s) + (o)->offset))

/* ---- target maps ---- */

/* Inserts "GLOB -> URL" after the mappings from the same or a higher source, so flags come
 * before the environment, which comes before the file, and order within a source is kept. */
static int add_target_map(struct lb_settings *s, const char *v, enum lb_config_source src)
{
    const char *arrow = strstr(v, "->");
    if (!arrow) return -EINVAL;
    char *glob = lb_strdup(v), *url = lb_strdup(arrow + 2);
    glob[arrow - v] = '\0';
    char *g = lb_config_trim(glob), *u = lb_config_trim(url);
    if (!*g || lb_config_has_space_or_control(g) || !lb_config_is_http_url(u)) {
        free(glob);
        free(url);
        return -EINVAL;
    }
    memmove(glob, g, strlen(g) + 1);
    memmove(url, u, strlen(u) + 1);
    struct lb_target_maps *maps = &s->target_maps;
    size_t at = 0;
    while (at < maps->count && maps->items[at].source >= src)
        at++;
    maps->items = lb_xrealloc(maps->items, (maps->count + 1) * sizeof *maps->items);
    memmove(&maps->items[at + 1], &maps->items[at], (maps->count - at) * sizeof *maps->items);
    maps->items[at] = (struct lb_target_mapping){glob, url, src};
    maps->count++;
    return 0;
}

/* Inserts a forward line by source like add_target_map. */
static int add_forward(struct lb_settings *s, const char *v, enum lb_config_source src)
{
    struct lb_forward f = {.source = src};
    if (lb_config_parse_forward(v, &f.bus, &f.arn, &f.pattern)) return -EINVAL;
    struct lb_forwards *list = &s->forwards;
    size_t at = 0;
    while (at < list->count && list->items[at].source >= src)
        at++;
    list->items = lb_xrealloc(list->items, (list->count + 1) * sizeof *list->items);
    memmove(&list->items[at + 1], &list->items[at], (list->count - at) * sizeof *list->items);
    list->items[at] = f;
    list->count++;
    return 0;
}

/* ---- one value ---- */

/* Parses v into option o of s. On failure writes into msg what was wrong and what is allowed. */
static int set_value(struct lb_settings *s, const struct option *o, const char *v,
                     enum lb_config_source src, char *msg, size_t n)
{
    const struct lb_config_suffix *units =
        o->type == T_SIZE ? lb_config_size_suffixes : lb_config_duration_suffixes;
    char lo[24], hi[24];
    uint64_t u = 0;
    int64_t i = 0;
    int rc;
    switch (o->type) {
    case T_STRING:
        if (o->valid ? !o->valid(v) : !*v) {
            snprintf(msg, n, "'%.80s' must be %s", v, o->allowed);
            return -EINVAL;
        }
        free(*(char **)field(s, o));
        *(char **)field(s, o) = lb_strdup(v);
        return 0;
    case T_INT:
        rc = lb_config_parse_int(v, &i);
        if (rc == 0 && (i < o->min || i > o->max)) rc = -ERANGE;
        if (rc == 0) return *(int *)field(s, o) = (int)i, 0;
        snprintf(msg, n, "'%.80s' %s; allowed %" PRId64 "..%" PRId64, v,
                 rc == -ERANGE ? "is out of range" : "is not an integer", o->min, o->max);
        return -EINVAL;
    case T_BOOL:
        if (lb_config_parse_bool(v, (bool *)field(s, o)) == 0) return 0;
        snprintf(msg, n, "'%.80s' must be true or false (or yes/no, on/off, 1/0)", v);
        return -EINVAL;
    case T_ENUM:
        for (int k = 0; o->choices[k]; k++)
            if (strcasecmp(v, o->choices[k]) == 0) return *(int *)field(s, o) = k, 0;
        rc = snprintf(msg, n, "'%.80s' must be one of", v);
        for (int k = 0; o->choices[k] && rc > 0 && (size_t)rc < n; k++)
            rc += snprintf(msg + rc, n - (size_t)rc, "%s %s", k ? "," : "", o->choices[k]);
        return -EINVAL;
    case T_SIZE:
    case T_DURATION:
        rc = lb_config_parse_scaled(v, units, &u);
        if (rc == 0 && (u < (uint64_t)o->min || u > (uint64_t)o->max)) rc = -ERANGE;
        if (rc == 0 && o->type == T_SIZE) return *(size_t *)field(s, o) = (size_t)u, 0;
        if (rc == 0) return *(uint64_t *)field(s, o) = u, 0;
        lb_config_format_scaled((uint64_t)o->min, units, lo, sizeof lo);
        lb_config_format_scaled((uint64_t)o->max, units, hi, sizeof hi);
        snprintf(msg, n, "'%.80s' %s; allowed %s..%s (%s)", v,
                 rc == -ERANGE ? "is out of range" : "is malformed", lo, hi,
                 o->type == T_SIZE ? "bytes, or with a k, m or g suffix"
                                   : "with a ms, s, m or h suffix; a bare number is milliseconds");
        return -EINVAL;
    case T_LISTEN:
        if (lb_config_parse_listen(v, (struct lb_listen_addr *)field(s, o)) == 0) return 0;
        snprintf(msg, n,
                 "'%.80s' must be ADDR:PORT with a numeric IPv4 address or a bracketed "
                 "IPv6 one and a port 0..65535 (0 = any free port), e.g. 127.0.0.1:4010 "
                 "or [::1]:4010",
                 v);
        return -EINVAL;
    case T_TARGET_MAP:
        if (add_target_map(s, v, src) == 0) return 0;
        snprintf(msg, n,
                 "'%.120s' must be 'GLOB -> URL' with a GLOB without spaces and an "
                 "http:// or https:// URL, e.g. arn:aws:sqs:*:*:orders-* -> "
                 "http://127.0.0.1:9000/orders",
                 v);
        return -EINVAL;
    case T_LINES:
        if (o->valid(v)) return lb_config_lines_add((struct lb_lines *)field(s, o), v, src), 0;
        snprintf(msg, n, "'%.160s' must be %s", v, o->allowed);
        return -EINVAL;
    case T_FORWARD:
        if (add_forward(s, v, src) == 0) return 0;
        snprintf(msg, n,
                 "'%.160s' must be 'BUS -> ARN [PATTERN]': a local bus name, an event bus ARN "
                 "(arn:aws:events:REGION:ACCOUNT:event-bus/NAME) and optionally an event pattern "
                 "that compiles",
                 v);
        return -EINVAL;
    }
    return -EINVAL;
}

/* ---- settings as a whole ---- */

static void settings_free(struct lb_settings *s)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (options[i].type == T_STRING) free(*(char **)field(s, &options[i]));
    for (size_t i = 0; i < s->target_maps.count; i++) {
        free(s->target_maps.items[i].glob);
        free(s->target_maps.items[i].url);
    }
    free(s->target_maps.items);
    for (size_t i = 0; i < s->forwards.count; i++) {
        free(s->forwards.items[i].bus);
        free(s->forwards.items[i].arn);
        free(s->forwards.items[i].pattern);
    }
    free(s->forwards.items);
    lb_config_lines_free(&s->lambda_handlers);
    lb_config_lines_free(&s->lambda_functions);
    free(s->config_file);
    memset(s, 0, sizeof *s);
}

static void settings_defaults(struct lb_settings *s)
{
    char msg[MSG_MAX];
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (options[i].type == T_TARGET_MAP || options[i].type == T_FORWARD ||
            options[i].type == T_LINES)
            continue;
        /* A default that fails its own validator is a bug in the table, caught by any test. */
        if (set_value(s, &options[i], options[i].defval, LB_SOURCE_DEFAULT, msg, sizeof msg))
            abort();
    }
}

static size_t value_size(enum opt_type t)
{
    switch (t) {
    case T_STRING:
        return sizeof(char *);
    case T_INT:
    case T_ENUM:
        return sizeof(int);
    case T_BOOL:
        return sizeof(bool);
    case T_SIZE:
        return sizeof(size_t);
    case T_DURATION:
        return sizeof(uint64_t);
    case T_LISTEN:
        return sizeof(struct lb_listen_addr);
    case T_TARGET_MAP:
        return sizeof(struct lb_target_maps);
    case T_FORWARD:
        return sizeof(struct lb_forwards);
    case T_LINES:
        return sizeof(struct lb_lines);
    }
    return 0;
}

static bool option_equal(const struct lb_settings *a, const struct lb_settings *b,
                         const struct option *o)
{
    const struct lb_target_maps *x = &a->target_maps, *y = &b->target_maps;
    switch (o->type) {
    case T_STRING:
        return strcmp(*(char *const *)cfield(a, o), *(char *const *)cfield(b, o)) == 0;
    case T_LISTEN:
        return strcmp(a->listen.host, b->listen.host) == 0 && a->listen.port == b->listen.port;
    case T_TARGET_MAP:
        if (x->count != y->count) return false;
        for (size_t i = 0; i < x->count; i++)
            if (strcmp(x->items[i].glob, y->items[i].glob) ||
                strcmp(x->items[i].url, y->items[i].url))
                return false;
        return true;
    case T_FORWARD:
        return lb_config_forwards_equal(&a->forwards, &b->forwards);
    case T_LINES:
        return lb_config_lines_equal(cfield(a, o), cfield(b, o));
    default: /* plain numbers, without padding */
        return memcmp(cfield(a, o), cfield(b, o), value_size(o->type)) == 0;
    }
}

/* Exchanges option o's value between a and b (owned strings go with their value). */
static void option_swap(struct lb_settings *a, struct lb_settings *b, const struct option *o)
{
    unsigned char tmp[64];
    _Static_assert(sizeof(struct lb_listen_addr) <= sizeof tmp, "swap buffer");
    memcpy(tmp, field(a, o), value_size(o->type));
    memcpy(field(a, o), field(b, o), value_size(o->type));
    memcpy(field(b, o), tmp, value_size(o->type));
}

/* ---- the file ---- */

/* Applies one `key = value` line (already trimmed, not blank, not a comment). */
static int parse_line(struct lb_settings *s, char *line, const char *name, unsigned lineno,
                      char **err)
{
    char msg[MSG_MAX];
    char *eq = strchr(line, '=');
    if (!eq) return fail(err, "%s:%u: expected 'key = value', got '%.80s'", name, lineno, line);
    *eq = '\0';
    char *key = lb_config_trim(line), *value = lb_config_trim(eq + 1);
    if (*value == '"') {
        char *close = strchr(value + 1, '"'), *after = close ? close + 1 : NULL;
        while (after && lb_config_is_space(*after))
            after++;
        if (!close || (*after && *after != '#'))
            return fail(err, "%s:%u: %.64s: unterminated quote or text after the closing quote",
                        name, lineno, key);
        *close = '\0';
        value++;
    } else {
        /* A '#' after whitespace starts a comment; one inside a word (a URL) does not. */
        for (char *p = value + 1; *value && *p; p++) {
            if (*p == '#' && lb_config_is_space(p[-1])) {
                *p = '\0';
                value = lb_config_trim(value);
                break;
            }
        }
    }
    const struct option *o = find_option(key, strlen(key));
    if (!o)
        return fail(err, "%s:%u: unknown option '%.64s' (see localbridge --help)", name, lineno,
                    key);
    if (set_value(s, o, value, LB_SOURCE_FILE, msg, sizeof msg))
        return fail(err, "%s:%u: %s: %s", name, lineno, o->name, msg);
    return 0;
}

static int parse_text(struct lb_settings *s, const char *name, const char *text, size_t len,
                      char **err)
{
    size_t pos = 0;
    for (unsigned lineno = 1; pos < len; lineno++) {
        const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        if (memchr(start, '\0', line_len))
            return fail(err, "%s:%u: line contains a NUL byte", name, lineno);
        char *copy = lb_xmalloc(line_len + 1);
        memcpy(copy, start, line_len);
        copy[line_len] = '\0';
        char *line = lb_config_trim(copy);
        int rc = (*line && *line != '#') ? parse_line(s, line, name, lineno, err) : 0;
        free(copy);
        if (rc) return rc;
    }
    return 0;
}

/* Reads and applies the file at path: -ENOENT if it does not exist (the caller decides whether
 * that matters), -EIO if it cannot be read, -EINVAL for a bad line. */
static int parse_file(struct lb_settings *s, const char *path, char **err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int rc = errno == ENOENT ? -ENOENT : -EIO;
        fail(err, "%s: cannot open: %s", path, strerror(errno));
        return rc;
    }
    lb_buf_t b = {0};
    char chunk[8192];
    size_t got;
    while (b.len <= FILE_MAX_BYTES && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        lb_buf_append(&b, chunk, got);
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc)
        fail(err, "%s: read error", path);
    else if (b.len > FILE_MAX_BYTES)
        rc = fail(err, "%s: larger than %d bytes", path, FILE_MAX_BYTES);
    else
        rc = parse_text(s, path, b.data ? b.data : "", b.len, err);
    lb_buf_free(&b);
    return rc;
}

/* ---- environment and flags ---- */

static int apply_env(struct lb_settings *s, char *const *env, size_t count, char **err)
{
    char msg[MSG_MAX];
    for (size_t i = 0; i < count; i++) {
        const char *var = env[i] + strlen(ENV_PREFIX), *eq = strchr(var, '=');
        const struct option *o = find_option(var, (size_t)(eq - var));
        /* Other tools may use LOCALBRIDGE_* names (a client's endpoint, say); not ours to judge. */
        if (!o) continue;
        int rc = 0;
        if (o->type == T_TARGET_MAP || o->type == T_FORWARD || o->type == T_LINES) {
            char *list = lb_strdup(eq + 1), *save = NULL;
            for (char *item = strtok_r(list, ";", &save); item && rc == 0;
                 item = strtok_r(NULL, ";", &save))
                if (*lb_config_trim(item))
                    rc = set_value(s, o, lb_config_trim(item), LB_SOURCE_ENV, msg, sizeof msg);
            free(list);
        } else {
            rc = set_value(s, o, eq + 1, LB_SOURCE_ENV, msg, sizeof msg);
        }
        if (rc) return fail(err, "%.*s: %s", (int)(eq - env[i]), env[i], msg);
    }
    return 0;
}

/* Walks the flags. With s NULL it only looks for --config (into *config, if given); otherwise
 * it applies every other flag to s. */
static int apply_flags(struct lb_settings *s, int argc, char *const *argv, const char **config,
                       char **err)
{
    char name[64], msg[MSG_MAX];
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value, *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0' || arg[2] == '=')
            return fail(err, "unexpected argument '%.80s' (options are --name value)", arg);
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg - 2) : (int)strlen(arg + 2),
                 arg + 2);
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return fail(err, "--%s: missing value", name);
        if (strcmp(name, "config") == 0) {
            if (config) *config = value;
            continue;
        }
        if (!s) continue;
        const struct option *o = find_option(name, strlen(name));
        if (!o) return fail(err, "--%s: unknown option (see localbridge --help)", name);
        if (set_value(s, o, value, LB_SOURCE_FLAG, msg, sizeof msg))
            return fail(err, "--%s: %s", name, msg);
    }
    return 0;
}

/* The whole layering into a fresh settings struct: *out is filled only on success. */
static int build(struct lb_settings *out, int argc, char *const *argv, char *const *env,
                 size_t env_count, char **err)
{
    const char *path = NULL;
    for (size_t i = 0; i < env_count; i++)
        if (strncmp(env[i], ENV_PREFIX "CONFIG=", strlen(ENV_PREFIX "CONFIG=")) == 0)
            path = env[i] + strlen(ENV_PREFIX "CONFIG=");
    int rc = apply_flags(NULL, argc, argv, &path, err);
    if (rc) return rc;
    bool explicit_path = path != NULL;
    if (!explicit_path) path = LB_CONFIG_DEFAULT_PATH;

    struct lb_settings s;
    settings_defaults(&s);
    if (*path) {
        char *file_err = NULL;
        rc = parse_file(&s, path, &file_err);
        if (rc == -ENOENT && !explicit_path)
            rc = 0;
        else if (rc && err)
            *err = file_err, file_err = NULL;
        else if (rc == 0)
            s.config_file = lb_strdup(path);
        free(file_err);
    }
    if (rc == 0) rc = apply_env(&s, env, env_count, err);
    if (rc == 0) rc = apply_flags(&s, argc, argv, NULL, err);
    if (rc) {
        settings_free(&s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---- public API ---- */

int lb_config_new(lb_config_t **out)
{
    *out = lb_xcalloc(1, sizeof **out);
    settings_defaults(&(*out)->s);
    return 0;
}

static void free_saved(lb_config_t *c)
{
    for (int i = 0; i < c->flag_count; i++)
        free(c->flags[i]);
    for (size_t i = 0; i < c->env_count; i++)
        free(c->env[i]);
    free(c->flags);
    free(c->env);
}

void lb_config_free(lb_config_t **c)
{
    if (!c || !*c) return;
    settings_free(&(*c)->s);
    free_saved(*c);
    free(*c);
    *c = NULL;
}

int lb_config_load(lb_config_t *c, int argc, char **argv, char **envp, char **err)
{
    if (err) *err = NULL;
    if (argc < 0 || (argc > 0 && !argv)) return -EINVAL;
    lb_config_t saved = {.flag_count = argc};
    for (size_t i = 0; envp && envp[i]; i++) {
        if (strncmp(envp[i], ENV_PREFIX, strlen(ENV_PREFIX)) != 0 || !strchr(envp[i], '='))
            continue;
        saved.env = lb_xrealloc(saved.env, (saved.env_count + 1) * sizeof *saved.env);
        saved.env[saved.env_count++] = lb_strdup(envp[i]);
    }
    saved.flags = lb_xcalloc((size_t)argc + 1, sizeof *saved.flags);
    for (int i = 0; i < argc; i++)
        saved.flags[i] = lb_strdup(argv[i]);

    int rc = build(&saved.s, saved.flag_count, saved.flags, saved.env, saved.env_count, err);
    if (rc) {
        free_saved(&saved);
        return rc;
    }
    settings_free(&c->s);
    free_saved(c);
    *c = saved;
    return 0;
}

int lb_config_load_string(lb_config_t *c, const char *name, const char *text, size_t len,
                          char **err)
{
    if (err) *err = NULL;
    return parse_text(&c->s, name, text, len, err);
}

int lb_config_load_file(lb_config_t *c, const char *path, char **err)
{
    if (err) *err = NULL;
    int rc = parse_file(&c->s, path, err);
    if (rc == 0) {
        free(c->s.config_file);
        c->s.config_file = lb_strdup(path);
    }
    return rc;
}

int lb_config_set(lb_config_t *c, const char *name, const char *value, char **err)
{
    char msg[MSG_MAX];
    if (err) *err = NULL;
    const struct option *o = find_option(name, strlen(name));
    if (!o) return fail(err, "%.64s: unknown option (see localbridge --help)", name);
    if (set_value(&c->s, o, value, LB_SOURCE_API, msg, sizeof msg))
        return fail(err, "%s: %s", o->name, msg);
    return 0;
}

const struct lb_settings *lb_config_settings(const lb_config_t *c)
{
    return &c->s;
}

int lb_config_reload(lb_config_t *c, char **needs_restart, char **err)
{
    if (err) *err = NULL;
    if (needs_restart) *needs_restart = NULL;
    struct lb_settings fresh;
    int rc = build(&fresh, c->flag_count, c->flags, c->env, c->env_count, err);
    if (rc) return rc;
    lb_buf_t changed = {0};
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (option_equal(&c->s, &fresh, &options[i])) continue;
        if (options[i].reloadable)
            option_swap(&c->s, &fresh, &options[i]);
        else
            lb_buf_printf(&changed, "%s%s", changed.len ? "," : "", options[i].name);
    }
    /* The file may have appeared or vanished since; report the one now in use. */
    char *path = c->s.config_file;
    c->s.config_file = fresh.config_file;
    fresh.config_file = path;
    settings_free(&fresh);
    if (needs_restart && changed.len) *needs_restart = lb_buf_steal(&changed, NULL);
    lb_buf_free(&changed);
    return 0;
}

int lb_config_map_target(const lb_config_t *c, const char *arn, const char **url)
{
    for (size_t i = 0; i < c->s.target_maps.count; i++) {
        if (lb_config_glob_match(c->s.target_maps.items[i].glob, arn)) {
            *url = c->s.target_maps.items[i].url;
            return 0;
        }
    }
    return -ENOENT;
}

void lb_config_print_help(FILE *out)
{
    fprintf(out,
            "Options (each also `name = value` in the config file and LOCALBRIDGE_NAME in the\n"
            "environment; flags win over the environment, which wins over the file):\n"
            "  --config FILE\n"
            "      Config file to read (default: %s, if it exists; empty = none)\n",
            LB_CONFIG_DEFAULT_PATH);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *o = &options[i];
        char flag[64];
        size_t j = 0;
        for (; o->name[j] && j < sizeof flag - 1; j++)
            flag[j] = o->name[j] == '_' ? '-' : o->name[j];
        flag[j] = '\0';
        fprintf(out, "  --%s %s\n      %s (default: %s)%s\n", flag, o->metavar, o->help,
                *o->defval ? o->defval : "none", o->reloadable ? " [reloads on SIGHUP]" : "");
    }
}

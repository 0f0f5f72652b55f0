/* Structured logs: one line per event worth logging, logfmt (`ts=... level=info msg="..."
 * key=value ...`) on stderr. The logger is a value the daemon passes around, not a global.
 *
 * Two ways to write the key=value part:
 * - lb_logf() (and lb_logf_debug/info/warn/error) takes typed fields built with LB_LOG_STR,
 *   LB_LOG_INT, LB_LOG_UINT: a string value is quoted when logfmt needs it (empty, or holding a
 *   space, '=', '"', a backslash or a control character), with '"' and '\' escaped and control
 *   characters written as \n, \r, \t or \u00XX, so any value keeps the line parseable.
 * - lb_log() takes a printf format for the whole key=value part and writes it as given; it stays
 *   for callers not yet moved to fields. */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "lb_config.h"
#include "lb_util.h"

typedef struct {
    enum lb_log_level level;
    /* LB_LOG_FORMAT_KV (0 would be auto: resolve it with lb_log_resolve_format first). */
    enum lb_log_format format;
    /* Where lines go; NULL means stderr (tests point it at a memory stream). */
    FILE *sink;
} lb_log_t;

/* fields is a printf format for the key=value part (may be NULL). */
void lb_log(const lb_log_t *log, enum lb_log_level level, const char *msg, const char *fields, ...)
    __attribute__((format(printf, 4, 5)));

#define lb_log_debug(l, ...) lb_log((l), LB_LOG_DEBUG, __VA_ARGS__)
#define lb_log_info(l, ...) lb_log((l), LB_LOG_INFO, __VA_ARGS__)
#define lb_log_warn(l, ...) lb_log((l), LB_LOG_WARN, __VA_ARGS__)
#define lb_log_error(l, ...) lb_log((l), LB_LOG_ERROR, __VA_ARGS__)

typedef enum {
    LB_LOG_FIELD_STR,
    LB_LOG_FIELD_INT,
    LB_LOG_FIELD_UINT,
} lb_log_field_kind_t;

/* One key=value of a log line. key must be a bare logfmt key (letters, digits, '_'); a NULL
 * string value is written as an empty quoted string. */
typedef struct {
    const char *key;
    lb_log_field_kind_t kind;
    union {
        const char *s;
        long long i;
        unsigned long long u;
    } v;
} lb_log_field_t;

#define LB_LOG_STR(k, val) ((lb_log_field_t){.key = (k), .kind = LB_LOG_FIELD_STR, .v.s = (val)})
#define LB_LOG_INT(k, val)                                                                         \
    ((lb_log_field_t){.key = (k), .kind = LB_LOG_FIELD_INT, .v.i = (long long)(val)})
#define LB_LOG_UINT(k, val)                                                                        \
    ((lb_log_field_t){.key = (k), .kind = LB_LOG_FIELD_UINT, .v.u = (unsigned long long)(val)})

/* Writes one line with n fields (fields may be NULL when n is 0). */
void lb_log_fields(const lb_log_t *log, enum lb_log_level level, const char *msg,
                   const lb_log_field_t *fields, size_t n);

/* lb_logf(log, LB_LOG_INFO, "listening", LB_LOG_STR("url", url), LB_LOG_INT("port", 80)):
 * at least one field; use lb_log_fields(log, level, msg, NULL, 0) for none. */
#define lb_logf(l, level, msg, ...)                                                                \
    lb_log_fields((l), (level), (msg), (const lb_log_field_t[]){__VA_ARGS__},                      \
                  sizeof((const lb_log_field_t[]){__VA_ARGS__}) / sizeof(lb_log_field_t))
#define lb_logf_debug(l, msg, ...) lb_logf((l), LB_LOG_DEBUG, (msg), __VA_ARGS__)
#define lb_logf_info(l, msg, ...) lb_logf((l), LB_LOG_INFO, (msg), __VA_ARGS__)
#define lb_logf_warn(l, msg, ...) lb_logf((l), LB_LOG_WARN, (msg), __VA_ARGS__)
#define lb_logf_error(l, msg, ...) lb_logf((l), LB_LOG_ERROR, (msg), __VA_ARGS__)

/* Appends value to b as a logfmt value: bare when it can be, else quoted and escaped. */
void lb_log_append_value(lb_buf_t *b, const char *value);

const char *lb_log_level_name(enum lb_log_level level);
/* auto becomes text when stderr is a terminal, else kv. */
enum lb_log_format lb_log_resolve_format(enum lb_log_format f);

#endif

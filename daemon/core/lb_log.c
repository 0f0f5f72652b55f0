#include "lb_log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The printf part of an lb_log() line is cut at this many bytes. */
#define MAX_PRINTF_FIELDS 2048
/* A string field longer than this is cut (and its key gets a "_truncated=true" sibling) so one
 * huge value, an event body say, cannot flood the log. */
#define MAX_VALUE 2048

const char *lb_log_level_name(enum lb_log_level level)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    return (unsigned)level <= LB_LOG_ERROR ? names[level] : "info";
}

static int needs_quotes(const char *v, size_t len)
{
    if (len == 0) return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) return 1;
    }
    return 0;
}

/* The inside of a quoted logfmt value: quote and backslash escaped, control characters spelled
 * out, so a value can never end the line or the quotes early. */
static void append_escaped(lb_buf_t *b, const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        switch (c) {
        case '"':
            lb_buf_puts(b, "\\\"");
            break;
        case '\\':
            lb_buf_puts(b, "\\\\");
            break;
        case '\n':
            lb_buf_puts(b, "\\n");
            break;
        case '\r':
            lb_buf_puts(b, "\\r");
            break;
        case '\t':
            lb_buf_puts(b, "\\t");
            break;
        default:
            if (c < ' ' || c == 0x7f)
                lb_buf_printf(b, "\\u%04x", c);
            else
                lb_buf_append(b, &v[i], 1);
        }
    }
}

static void append_value(lb_buf_t *b, const char *value, size_t len)
{
    if (!needs_quotes(value, len)) {
        lb_buf_append(b, value, len);
        return;
    }
    lb_buf_puts(b, "\"");
    append_escaped(b, value, len);
    lb_buf_puts(b, "\"");
}

void lb_log_append_value(lb_buf_t *b, const char *value)
{
    if (!value) value = "";
    append_value(b, value, strlen(value));
}

enum lb_log_format lb_log_resolve_format(enum lb_log_format f)
{
    if (f != LB_LOG_FORMAT_AUTO) return f;
    return isatty(STDERR_FILENO) ? LB_LOG_FORMAT_TEXT : LB_LOG_FORMAT_KV;
}

static enum lb_log_format format_of(const lb_log_t *log)
{
    return log && log->format != LB_LOG_FORMAT_AUTO ? log->format : LB_LOG_FORMAT_KV;
}

static void line_begin(const lb_log_t *log, lb_buf_t *b, enum lb_log_level level, const char *msg)
{
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    enum lb_log_format f = format_of(log);
    if (f == LB_LOG_FORMAT_TEXT) {
        /* For a person: local wall-clock time, the level when it matters, the message. */
        struct tm local;
        localtime_r(&ts.tv_sec, &local);
        strftime(when, sizeof when, "%H:%M:%S", &local);
        static const char *const tags[] = {"debug ", "", "WARN  ", "ERROR "};
        lb_buf_printf(b, "%s.%03ld %s%s", when, ts.tv_nsec / 1000000,
                      (unsigned)level <= LB_LOG_ERROR ? tags[level] : "", msg ? msg : "");
        return;
    }
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    if (f == LB_LOG_FORMAT_JSON) {
        lb_buf_printf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", when,
                      ts.tv_nsec / 1000000, lb_log_level_name(level));
        lb_buf_json_string(b, msg ? msg : "", msg ? strlen(msg) : 0);
        return;
    }
    lb_buf_printf(b, "ts=%s.%03ldZ level=%s msg=\"", when, ts.tv_nsec / 1000000,
                  lb_log_level_name(level));
    /* The message is always quoted, as it always was, so readers can rely on msg="...". */
    if (msg) append_escaped(b, msg, strlen(msg));
    lb_buf_puts(b, "\"");
}

static void line_end(const lb_log_t *log, lb_buf_t *b)
{
    if (format_of(log) == LB_LOG_FORMAT_JSON) lb_buf_puts(b, "}");
    lb_buf_puts(b, "\n");
    /* One write per line keeps lines whole when several threads log. */
    FILE *out = log && log->sink ? log->sink : stderr;
    fwrite(b->data, 1, b->len, out);
    fflush(out);
    lb_buf_free(b);
}

void lb_log(const lb_log_t *log, enum lb_log_level level, const char *msg, const char *fields, ...)
{
    if (log && level < log->level) return;
    lb_buf_t b = {0};
    line_begin(log, &b, level, msg);
    if (fields) {
        char text[MAX_PRINTF_FIELDS];
        va_list ap;
        va_start(ap, fields);
        vsnprintf(text, sizeof text, fields, ap);
        va_end(ap);
        if (format_of(log) == LB_LOG_FORMAT_JSON) {
            lb_buf_puts(&b, ",\"fields\":");
            lb_buf_json_string(&b, text, strlen(text));
        } else {
            lb_buf_puts(&b, " ");
            lb_buf_puts(&b, text);
        }
    }
    line_end(log, &b);
}

static void append_json_field(lb_buf_t *b, const lb_log_field_t *f)
{
    lb_buf_printf(b, ",\"%s\":", f->key);
    if (f->kind == LB_LOG_FIELD_INT) {
        lb_buf_printf(b, "%lld", f->v.i);
    } else if (f->kind == LB_LOG_FIELD_UINT) {
        lb_buf_printf(b, "%llu", f->v.u);
    } else {
        const char *s = f->v.s ? f->v.s : "";
        size_t len = strlen(s);
        lb_buf_json_string(b, s, len > MAX_VALUE ? MAX_VALUE : len);
        if (len > MAX_VALUE) lb_buf_printf(b, ",\"%s_truncated\":true", f->key);
    }
}

void lb_log_fields(const lb_log_t *log, enum lb_log_level level, const char *msg,
                   const lb_log_field_t *fields, size_t n)
{
    if (log && level < log->level) return;
    lb_buf_t b = {0};
    line_begin(log, &b, level, msg);
    int json = format_of(log) == LB_LOG_FORMAT_JSON;
    for (size_t i = 0; i < n; i++) {
        const lb_log_field_t *f = &fields[i];
        if (json) {
            append_json_field(&b, f);
            continue;
        }
        lb_buf_printf(&b, " %s=", f->key);
        if (f->kind == LB_LOG_FIELD_INT) {
            lb_buf_printf(&b, "%lld", f->v.i);
        } else if (f->kind == LB_LOG_FIELD_UINT) {
            lb_buf_printf(&b, "%llu", f->v.u);
        } else {
            const char *s = f->v.s ? f->v.s : "";
            size_t len = strlen(s);
            append_value(&b, s, len > MAX_VALUE ? MAX_VALUE : len);
            if (len > MAX_VALUE) lb_buf_printf(&b, " %s_truncated=true", f->key);
        }
    }
    line_end(log, &b);
}

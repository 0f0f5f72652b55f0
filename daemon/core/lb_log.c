#include "lb_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

const char *lb_log_level_name(enum lb_log_level level)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    return (unsigned)level <= LB_LOG_ERROR ? names[level] : "info";
}

void lb_log(const lb_log_t *log, enum lb_log_level level, const char *msg, const char *fields,
            ...)
{
    if (log && level < log->level) return;
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line keeps lines whole when several threads log. */
    char line[2048];
    int n = snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s msg=\"%s\"", when,
                     ts.tv_nsec / 1000000, lb_log_level_name(level), msg);
    if (fields && n > 0 && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fields);
        vsnprintf(line + n, sizeof line - (size_t)n, fields, ap);
        va_end(ap);
    }
    fprintf(stderr, "%s\n", line);
}

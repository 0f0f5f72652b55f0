/* Structured logs: one line per event worth logging, logfmt (`ts=... level=info msg="..."
 * key=value ...`) on stderr. The logger is a value the daemon passes around, not a global. */
#ifndef LB_LOG_H
#define LB_LOG_H

#include "lb_config.h"

typedef struct {
    enum lb_log_level level;
} lb_log_t;

/* fields is a printf format for the key=value part (may be NULL). */
void lb_log(const lb_log_t *log, enum lb_log_level level, const char *msg, const char *fields,
            ...) __attribute__((format(printf, 4, 5)));

#define lb_log_debug(l, ...) lb_log((l), LB_LOG_DEBUG, __VA_ARGS__)
#define lb_log_info(l, ...) lb_log((l), LB_LOG_INFO, __VA_ARGS__)
#define lb_log_warn(l, ...) lb_log((l), LB_LOG_WARN, __VA_ARGS__)
#define lb_log_error(l, ...) lb_log((l), LB_LOG_ERROR, __VA_ARGS__)

const char *lb_log_level_name(enum lb_log_level level);

#endif

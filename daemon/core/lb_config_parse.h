/* The config module's value parsers, shared by lb_config.c and its tests: numbers with unit
 * suffixes, booleans, listen addresses, target-map globs, and whitespace handling. Pure
 * functions, no state. */
#ifndef LB_CONFIG_PARSE_H
#define LB_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb_config.h"

#define LB_CONFIG_KB ((uint64_t)1024)
#define LB_CONFIG_MB (LB_CONFIG_KB * 1024)
#define LB_CONFIG_GB (LB_CONFIG_MB * 1024)
#define LB_CONFIG_SEC ((uint64_t)1000)
#define LB_CONFIG_MIN (60 * LB_CONFIG_SEC)
#define LB_CONFIG_HOUR (60 * LB_CONFIG_MIN)

struct lb_config_suffix {
    const char *text;
    uint64_t mult;
};

/* Largest unit first, so formatting picks the shortest exact spelling; NULL-terminated. */
extern const struct lb_config_suffix lb_config_size_suffixes[];
extern const struct lb_config_suffix lb_config_duration_suffixes[];

bool lb_config_is_space(char ch);
/* Trims in place; returns the first non-space character. */
char *lb_config_trim(char *s);
bool lb_config_has_space_or_control(const char *s);
int lb_config_parse_digits(const char *s, uint64_t *out, const char **rest);
void lb_config_format_scaled(uint64_t v, const struct lb_config_suffix *suffixes, char *out,
                             size_t n);
int lb_config_parse_scaled(const char *v, const struct lb_config_suffix *suffixes, uint64_t *out);
int lb_config_parse_int(const char *v, int64_t *out);
int lb_config_parse_bool(const char *v, bool *out);
int lb_config_parse_listen(const char *v, struct lb_listen_addr *out);
bool lb_config_glob_match(const char *glob, const char *s);
/* "BUS -> ARN [PATTERN]": a bus name ([.-_A-Za-z0-9]{1,256}), an event bus ARN and an optional
 * event pattern that compiles. 0 with three malloc'd strings (*pattern NULL when absent). */
int lb_config_parse_forward(const char *v, char **bus, char **arn, char **pattern);
/* 1 if an event-bus ARN: arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME. */
bool lb_config_is_bus_arn(const char *arn);
bool lb_config_forwards_equal(const struct lb_forwards *a, const struct lb_forwards *b);
/* Kept lines (lambda_handler, ...): v inserted after the lines of the same or a higher source,
 * so flags come before the environment, then the file, each in its own order. */
void lb_config_lines_add(struct lb_lines *list, const char *v, enum lb_config_source src);
void lb_config_lines_free(struct lb_lines *list);
bool lb_config_lines_equal(const struct lb_lines *a, const struct lb_lines *b);
/* Value checks of the option table. */
bool lb_config_is_region(const char *v);     /* us-east-1, us-gov-west-1, ... */
bool lb_config_is_account_id(const char *v); /* 12 digits */
bool lb_config_is_http_url(const char *v);   /* http:// or https:// and a host */
bool lb_config_is_optional_url(const char *v);
bool lb_config_is_optional_text(const char *v); /* no control characters; "" too */

#endif

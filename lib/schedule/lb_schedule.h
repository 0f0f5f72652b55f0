/* lb_schedule: EventBridge's ScheduleExpression, parsed once into a compiled form that answers
 * "when does this rule fire next". Pure: no clock (times are parameters), no I/O, no globals.
 *
 * Grammar (AWS's "Schedule expressions for rules"; where AWS's documentation is silent, the Quartz
 * cron grammar that AWS's is):
 *   rate(VALUE UNIT)  VALUE a positive integer; UNIT minute|hour|day when VALUE is 1,
 *                     minutes|hours|days otherwise.
 *   cron(MIN HOUR DOM MONTH DOW YEAR), six fields separated by white space, all in UTC:
 *     MIN 0-59, HOUR 0-23, DOM 1-31, MONTH 1-12 or JAN-DEC, DOW 1-7 or SUN-SAT (1 is Sunday),
 *     YEAR 1970-2199. Every field takes lists (,), ranges (-, wrapping around for every field but
 *     YEAR: 22-2, FRI-MON), * and increments (/: 0/15, 5-50/5, or after a star). Exactly one of DOM
 * and DOW is ? (any). DOM also takes L (last day), LW (last weekday) and nW (the weekday nearest
 * day n, within the month); DOW takes L (Saturday), nL (the month's last day n) and n#k (its k-th
 *     day n, k 1-5). L, W and # stand alone in their field. Names and letters in any case.
 *
 * Firing times are whole minutes (epoch milliseconds, UTC). A rate counts from an anchor, the
 * time the rule got its schedule, truncated to its minute: it fires at anchor + k * period for
 * k >= 1, as AWS's "a rate expression starts when you create the scheduled event rule". */
#ifndef LB_SCHEDULE_H
#define LB_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* The longest ScheduleExpression PutRule accepts. */
#define LB_SCHEDULE_MAX_LEN 256
#define LB_MINUTE_MS 60000

typedef struct lb_schedule lb_schedule_t;

/* Parses expr (len bytes, no NUL needed). 0 and *out (free with lb_schedule_free), or -EINVAL
 * when AWS would refuse it ("Parameter ScheduleExpression is not valid."); then *why, if given,
 * says what was wrong (a static string, for logs and tests). */
int lb_schedule_parse(const char *expr, size_t len, lb_schedule_t **out, const char **why);
void lb_schedule_free(lb_schedule_t **s);

/* 1 for rate(...), 0 for cron(...). */
int lb_schedule_is_rate(const lb_schedule_t *s);
/* A rate's period in milliseconds; 0 for a cron. */
int64_t lb_schedule_period_ms(const lb_schedule_t *s);

/* The first firing strictly after after_ms. anchor_ms is where a rate counts from (ignored by a
 * cron). 0 with *next_ms, or -ENOENT when the schedule never fires again (a cron whose years
 * have passed, or a day that never comes, as 30 February). */
int lb_schedule_next(const lb_schedule_t *s, int64_t anchor_ms, int64_t after_ms, int64_t *next_ms);

/* after_ms truncated to its minute (floor, also before 1970). */
int64_t lb_minute_floor(int64_t ms);

#endif

/* lb_schedule: the rate and cron grammar AWS accepts (and the expressions it refuses, as recorded
 * against AWS in tests/conformance/schedule.json), and the next firing time: lists, ranges,
 * increments, L, W, #, leap years, month ends and the year field, checked by hand and against a
 * brute-force minute-by-minute oracle built on the C library's own calendar. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_json.h"
#include "lb_schedule.h"
#include "lb_test.h"
#include "lb_util.h"

/* "2024-02-29 10:05" (UTC) as epoch milliseconds. */
static int64_t T(const char *text)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0;
    ck_assert_int_ge(sscanf(text, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi), 3);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm) * 1000;
}

static void show(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M %a", &tm);
}

static lb_schedule_t *parse_ok(const char *expr)
{
    lb_schedule_t *s = NULL;
    const char *why = NULL;
    int rc = lb_schedule_parse(expr, strlen(expr), &s, &why);
    ck_assert_msg(rc == 0, "%s refused: %s", expr, why ? why : "?");
    return s;
}

static void refused(const char *expr)
{
    lb_schedule_t *s = NULL;
    ck_assert_msg(lb_schedule_parse(expr, strlen(expr), &s, NULL) == -EINVAL, "%s accepted", expr);
    ck_assert_ptr_null(s);
}

/* The firings of expr after `from`, one after the other, must be the listed times. */
static void expect_next(const char *expr, const char *from, const char *const *want)
{
    lb_schedule_t *s = parse_ok(expr);
    int64_t t = T(from);
    for (size_t i = 0; want[i]; i++) {
        int64_t next;
        char got[32], exp[32];
        ck_assert_msg(lb_schedule_next(s, 0, t, &next) == 0, "%s: no firing after #%zu", expr, i);
        show(next, got);
        show(T(want[i]), exp);
        ck_assert_msg(next == T(want[i]), "%s firing %zu: got %s, want %s", expr, i, got, exp);
        t = next;
    }
    lb_schedule_free(&s);
}

#define NEXT(expr, from, ...)                                                                      \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__, NULL};                                    \
        expect_next(expr, from, want_);                                                            \
    } while (0)

static void expect_never(const char *expr, const char *from)
{
    lb_schedule_t *s = parse_ok(expr);
    int64_t next;
    ck_assert_int_eq(lb_schedule_next(s, 0, T(from), &next), -ENOENT);
    lb_schedule_free(&s);
}

/* ---- grammar ---- */

START_TEST(rate_grammar)
{
    const char *good[] = {"rate(1 minute)",       "rate(2 minutes)",      "rate(1 hour)",
                          "rate(12 hours)",       "rate(1 day)",          "rate(7 days)",
                          "rate(  5   minutes )", "rate(2147483647 days)"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        lb_schedule_t *s = parse_ok(good[i]);
        ck_assert(lb_schedule_is_rate(s));
        lb_schedule_free(&s);
    }
    const char *bad[] = {"rate(1 minutes)",  "rate(5 minute)",        "rate(0 minutes)",
                         "rate(-1 minute)",  "rate(1.5 hours)",       "rate(5 weeks)",
                         "rate(5minutes)",   "rate(minutes)",         "rate(5)",
                         "rate()",           "rate(5 Minutes)",       "Rate(5 minutes)",
                         "rate 5 minutes",   "rate(5 minutes",        " rate(5 minutes)",
                         "rate(5 minutes) ", "rate(2147483648 days)", "rate(1 minute)x)",
                         "rate(5 seconds)",  "rate(1 MINUTE)",        ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        refused(bad[i]);
    lb_schedule_t *s = parse_ok("rate(3 hours)");
    ck_assert_int_eq(lb_schedule_period_ms(s), 3 * 3600000LL);
    lb_schedule_free(&s);
}
END_TEST

/* What AWS answered, as LocalStack recorded it against AWS (tests/conformance/schedule.json). */
START_TEST(recorded_by_aws)
{
    char path[512];
    snprintf(path, sizeof path, "%s/schedule.json", LB_CONFORMANCE_DIR);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *text = lb_xcalloc(1, 1 << 16);
    size_t len = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    lb_json_doc_t *doc = NULL;
    ck_assert_int_eq(lb_json_parse(text, len, 16, &doc, NULL), 0);
    const lb_json_t *root = lb_json_doc_root(doc);
    size_t valid = 0, invalid = 0;
    lb_json_each(e, lb_json_get(root, "valid"))
    {
        lb_schedule_t *s = parse_ok(e->str);
        lb_schedule_free(&s);
        valid++;
    }
    lb_json_each(e, lb_json_get(root, "invalid"))
    {
        refused(e->str);
        invalid++;
    }
    ck_assert_uint_ge(valid, 15);
    ck_assert_uint_ge(invalid, 5);
    lb_json_doc_free(&doc);
    free(text);
}
END_TEST

START_TEST(cron_grammar)
{
    const char *good[] = {"cron(0 10 * * ? *)",
                          "cron(15 12 * * ? *)",
                          "cron(0 18 ? * MON-FRI *)",
                          "cron(0 8 1 * ? *)",
                          "cron(0/15 * * * ? *)",
                          "cron(0/10 * ? * MON-FRI *)",
                          "cron(5,35 14 * * ? *)",
                          "cron(15 10 ? * 6L 2002-2005)",
                          "cron(0 2 ? * SAT#3 *)",
                          "cron(* * ? * SAT#3 *)",
                          "cron(0/5 5 ? JAN 1-5 2022)",
                          "cron(* * * * ? *)",
                          "cron(*/59 */23 */31 */12 ? */229)",
                          "cron(0 0 L * ? *)",
                          "cron(0 0 LW * ? *)",
                          "cron(0 0 15W * ? *)",
                          "cron(0 0 ? * L *)",
                          "cron(0 0 ? * FRIL *)",
                          "cron(0 0 ? * 2#1 *)",
                          "cron(0 0 ? * mon-sun *)",
                          "cron(0 0 ? jan,Jul,DEC 1 *)",
                          "cron(0 0 1 * ? 1970)",
                          "cron(0 0 1 * ? 2199)",
                          "cron(50-10 22-2 28-3 NOV-FEB ? *)",
                          "cron(0 0 ? * FRI-MON *)",
                          "cron(\t0  10\t* * ? * )",
                          "cron(0 0 * * ? 2020/5)",
                          "cron(0 0 ? * * *)",
                          "cron(0-59 0-23 1-31 1-12 ? 1970-2199)",
                          "cron(0 0 ? * 1/2 *)",
                          "cron(0 0 l * ? *)",
                          "cron(0 0 ? * 7#5 *)",
                          "cron(0 0 29 2 ? *)",
                          "cron(0 0 30 2 ? *)"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        lb_schedule_t *s = parse_ok(good[i]);
        ck_assert(!lb_schedule_is_rate(s));
        lb_schedule_free(&s);
    }
    const char *bad[] = {"cron(INVALID)",
                         "cron(0 dummy ? * MON-FRI *)",
                         "cron(7 20 * * NOT *)",
                         "cron(71 8 1 * ? *)",
                         "cron(0 1 * * * *)",    /* the five AWS refused, as recorded */
                         "cron(0 1 ? * ? *)",    /* both days any */
                         "cron(0 1 1 * 2 *)",    /* both days given */
                         "cron(0 10 * * ?)",     /* five fields */
                         "cron(0 10 * * ? * *)", /* seven */
                         "cron(60 * * * ? *)",
                         "cron(* 24 * * ? *)",
                         "cron(* * 0 * ? *)",
                         "cron(* * 32 * ? *)",
                         "cron(* * * 0 ? *)",
                         "cron(* * * 13 ? *)",
                         "cron(* * ? * 0 *)",
                         "cron(* * ? * 8 *)",
                         "cron(* * * * ? 1969)",
                         "cron(* * * * ? 2200)",
                         "cron(* * * * ? 2005-2002)",
                         "cron(*/60 * * * ? *)",
                         "cron(* */24 * * ? *)",
                         "cron(* * */32 * ? *)",
                         "cron(* * * */13 ? *)",
                         "cron(* * ? * */8 *)",
                         "cron(*/0 * * * ? *)",
                         "cron(0/ * * * ? *)",
                         "cron(/5 * * * ? *)",
                         "cron(0, * * * ? *)",
                         "cron(,0 * * * ? *)",
                         "cron(0-  * * * ? *)",
                         "cron(? * * * ? *)",
                         "cron(* ? * * ? *)",
                         "cron(* * * ? ? *)",
                         "cron(* * * * ? ?)",
                         "cron(0 0 L,5 * ? *)",
                         "cron(0 0 L-3 * ? *)",
                         "cron(0 0 W * ? *)",
                         "cron(0 0 1-5W * ? *)",
                         "cron(0 0 32W * ? *)",
                         "cron(0 0 ? * 5L,6 *)",
                         "cron(0 0 ? * 1#6 *)",
                         "cron(0 0 ? * 1#0 *)",
                         "cron(0 0 ? * 8#1 *)",
                         "cron(0 0 ? * 1#1,2#2 *)",
                         "cron(0 0 ? * 1#12 *)",
                         "cron(L * * * ? *)",
                         "cron(* * * L ? *)",
                         "cron(0 0 5 * L *)",
                         "cron(0 0 ? * MONDAY *)",
                         "cron(0 0 ? * JAN *)",
                         "cron(0 0 ? MON * *)",
                         "cron(00000 0 * * ? *)",
                         "cron(0 0 * * ? *",
                         "cron()",
                         "cron( )",
                         "CRON(0 10 * * ? *)",
                         "cron (0 10 * * ? *)",
                         "cron(0 10 * * ? *) ",
                         "cron(0\n10 * * ? *)",
                         "cron(0 0 #1 * ? *)",
                         "cron(0 0 ? * #1 *)",
                         "cron(0 0 ? * L# *)",
                         "cron(1-2-3 * * * ? *)",
                         "cron(*-5 * * * ? *)",
                         "cron(5-* * * * ? *)"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        refused(bad[i]);
    /* A NUL inside is refused, not cut short. */
    lb_schedule_t *s = NULL;
    ck_assert_int_eq(lb_schedule_parse("cron(0 10 * * ? *)\0", 19, &s, NULL), -EINVAL);
    char long_expr[400];
    snprintf(long_expr, sizeof long_expr, "cron(0 0 ? * %0300d *)", 1);
    refused(long_expr);
}
END_TEST

/* ---- next firing ---- */

START_TEST(minutes_hours_lists_ranges_steps)
{
    NEXT("cron(* * * * ? *)", "2024-05-01 10:00", "2024-05-01 10:01", "2024-05-01 10:02");
    NEXT("cron(0/15 * * * ? *)", "2024-05-01 10:00", "2024-05-01 10:15", "2024-05-01 10:30",
         "2024-05-01 10:45", "2024-05-01 11:00");
    NEXT("cron(1/10 * * * ? *)", "2024-05-01 10:55", "2024-05-01 11:01", "2024-05-01 11:11");
    NEXT("cron(5,35 14 * * ? *)", "2024-05-01 14:35", "2024-05-02 14:05", "2024-05-02 14:35",
         "2024-05-03 14:05");
    NEXT("cron(0/30 20-23 ? * MON-FRI *)", "2024-05-03 23:30", /* a Friday night */
         "2024-05-06 20:00", "2024-05-06 20:30");
    NEXT("cron(50-10/10 22-2 * * ? *)", "2024-05-01 21:00", "2024-05-01 22:00", "2024-05-01 22:10",
         "2024-05-01 22:50");
    NEXT("cron(0 22-2 * * ? *)", "2024-05-01 23:30", "2024-05-02 00:00", "2024-05-02 01:00",
         "2024-05-02 02:00", "2024-05-02 22:00");
    NEXT("cron(0 */23 * * ? *)", "2024-05-01 01:00", "2024-05-01 23:00", "2024-05-02 00:00");
}
END_TEST

START_TEST(seconds_within_a_minute_are_after_it)
{
    /* "Strictly after": 10:00:30 is after 10:00, so the next is 10:01; 09:59:59.999 gives 10:00. */
    lb_schedule_t *s = parse_ok("cron(* * * * ? *)");
    int64_t next;
    ck_assert_int_eq(lb_schedule_next(s, 0, T("2024-05-01 10:00") + 30000, &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 10:01"));
    ck_assert_int_eq(lb_schedule_next(s, 0, T("2024-05-01 10:00") - 1, &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 10:00"));
    ck_assert_int_eq(lb_schedule_next(s, 0, T("2024-05-01 10:00"), &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 10:01"));
    lb_schedule_free(&s);
}
END_TEST

START_TEST(days_months_and_names)
{
    NEXT("cron(0 8 1 * ? *)", "2024-01-15 00:00", "2024-02-01 08:00", "2024-03-01 08:00");
    NEXT("cron(0 18 ? * MON-FRI *)", "2024-05-03 18:00", "2024-05-06 18:00", "2024-05-07 18:00");
    NEXT("cron(0 2 ? * SAT *)", "2024-05-01 00:00", "2024-05-04 02:00", "2024-05-11 02:00");
    NEXT("cron(0 0 ? * 1 *)", "2024-05-01 00:00", "2024-05-05 00:00"); /* 1 is Sunday */
    NEXT("cron(0 0 ? * FRI-MON *)", "2024-05-01 00:00", "2024-05-03 00:00", "2024-05-04 00:00",
         "2024-05-05 00:00", "2024-05-06 00:00", "2024-05-10 00:00");
}
END_TEST

START_TEST(day_of_week_steps)
{
    /* 1/3 in day-of-week: Sunday, Wednesday, Saturday. 2024-05-01 is a Wednesday. */
    NEXT("cron(0 0 ? * 1/3 *)", "2024-04-30 12:00", "2024-05-01 00:00", "2024-05-04 00:00",
         "2024-05-05 00:00", "2024-05-08 00:00");
}
END_TEST

START_TEST(month_ends_and_leap_years)
{
    NEXT("cron(0 0 31 * ? *)", "2024-01-31 00:00", "2024-03-31 00:00", "2024-05-31 00:00",
         "2024-07-31 00:00", "2024-08-31 00:00");
    NEXT("cron(0 0 29 2 ? *)", "2024-03-01 00:00", "2028-02-29 00:00", "2032-02-29 00:00");
    NEXT("cron(0 0 29 2 ? *)", "2096-03-01 00:00", "2104-02-29 00:00"); /* 2100 is no leap year */
    NEXT("cron(0 0 L * ? *)", "2024-01-31 00:00", "2024-02-29 00:00", "2024-03-31 00:00",
         "2024-04-30 00:00");
    NEXT("cron(0 0 L 2 ? *)", "2023-01-01 00:00", "2023-02-28 00:00", "2024-02-29 00:00",
         "2025-02-28 00:00");
    expect_never("cron(0 0 30 2 ? *)", "2024-01-01 00:00");
    expect_never("cron(0 0 31 4,6,9,11 ? *)", "2024-01-01 00:00");
}
END_TEST

START_TEST(l_w_and_hash)
{
    /* LW: the last weekday. 2024-03-31 is a Sunday, 2024-08-31 a Saturday. */
    NEXT("cron(0 0 LW * ? *)", "2024-03-01 00:00", "2024-03-29 00:00", "2024-04-30 00:00",
         "2024-05-31 00:00", "2024-06-28 00:00", "2024-07-31 00:00", "2024-08-30 00:00");
    /* nW: the weekday nearest day n, never leaving the month. 2024-06-01 is a Saturday (1W is
     * Monday the 3rd, not Friday May 31st); 2024-09-01 a Sunday; 2024-06-15 a Saturday;
     * 2024-06-30 a Sunday (30W is Friday the 28th, not Monday July 1st). */
    NEXT("cron(0 0 1W * ? *)", "2024-05-31 00:00", "2024-06-03 00:00", "2024-07-01 00:00",
         "2024-08-01 00:00", "2024-09-02 00:00");
    NEXT("cron(0 0 15W 6 ? *)", "2024-01-01 00:00", "2024-06-14 00:00", "2025-06-16 00:00");
    NEXT("cron(0 0 30W 6 ? *)", "2024-01-01 00:00", "2024-06-28 00:00", "2025-06-30 00:00");
    NEXT("cron(0 0 31W * ? *)", "2024-04-01 00:00", "2024-05-31 00:00", "2024-07-31 00:00");
    /* nL: the month's last day n. 6L: last Friday. */
    NEXT("cron(15 10 ? * 6L 2002-2005)", "2002-01-01 00:00", "2002-01-25 10:15", "2002-02-22 10:15",
         "2002-03-29 10:15");
    expect_never("cron(15 10 ? * 6L 2002-2005)", "2005-12-30 10:15");
    NEXT("cron(0 0 ? * 1L *)", "2024-02-01 00:00", "2024-02-25 00:00", "2024-03-31 00:00");
    /* L alone in day-of-week: Saturday, every week. */
    NEXT("cron(0 0 ? * L *)", "2024-05-01 00:00", "2024-05-04 00:00", "2024-05-11 00:00");
    /* n#k: the k-th day n of the month; months without a fifth are skipped. */
    NEXT("cron(0 2 ? * SAT#3 *)", "2024-05-01 00:00", "2024-05-18 02:00", "2024-06-15 02:00");
    NEXT("cron(0 0 ? * 3#5 *)", "2024-01-01 00:00", "2024-01-30 00:00", "2024-04-30 00:00",
         "2024-07-30 00:00", "2024-10-29 00:00");
    NEXT("cron(0 0 ? * 2#1 *)", "2024-01-01 00:00", "2024-02-05 00:00", "2024-03-04 00:00");
}
END_TEST

START_TEST(years)
{
    NEXT("cron(0/5 5 ? JAN 1-5 2022)", "2021-06-01 00:00", "2022-01-02 05:00", "2022-01-02 05:05");
    expect_never("cron(0/5 5 ? JAN 1-5 2022)", "2022-01-31 05:55");
    NEXT("cron(0 0 1 1 ? 2020/5)", "2021-01-01 00:00", "2025-01-01 00:00", "2030-01-01 00:00");
    NEXT("cron(59 23 31 12 ? 2199)", "2024-01-01 00:00", "2199-12-31 23:59");
    expect_never("cron(59 23 31 12 ? 2199)", "2199-12-31 23:59");
    expect_never("cron(* * * * ? *)", "2199-12-31 23:59");
    NEXT("cron(0 0 1 1 ? *)", "1969-06-01 00:00", "1970-01-01 00:00");
}
END_TEST

START_TEST(rate_counts_from_its_anchor)
{
    lb_schedule_t *s = parse_ok("rate(5 minutes)");
    int64_t anchor = T("2024-05-01 10:00") + 30500, next; /* created at 10:00:30.5 */
    ck_assert_int_eq(lb_schedule_next(s, anchor, anchor, &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 10:05"));
    ck_assert_int_eq(lb_schedule_next(s, anchor, next, &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 10:10"));
    ck_assert_int_eq(lb_schedule_next(s, anchor, T("2024-05-01 13:07") + 1, &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 13:10"));
    ck_assert_int_eq(lb_schedule_next(s, anchor, T("2024-05-01 13:10"), &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 13:15"));
    /* Before the anchor: still the first firing. */
    ck_assert_int_eq(lb_schedule_next(s, anchor, 0, &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 10:05"));
    lb_schedule_free(&s);
    s = parse_ok("rate(1 day)");
    ck_assert_int_eq(lb_schedule_next(s, anchor, anchor, &next), 0);
    ck_assert_int_eq(next, T("2024-05-02 10:00"));
    lb_schedule_free(&s);
    s = parse_ok("rate(1 minute)");
    ck_assert_int_eq(lb_schedule_next(s, anchor, anchor, &next), 0);
    ck_assert_int_eq(next, T("2024-05-01 10:01"));
    lb_schedule_free(&s);
}
END_TEST

START_TEST(minute_floor)
{
    ck_assert_int_eq(lb_minute_floor(T("2024-05-01 10:00") + 59999), T("2024-05-01 10:00"));
    ck_assert_int_eq(lb_minute_floor(T("2024-05-01 10:00")), T("2024-05-01 10:00"));
    ck_assert_int_eq(lb_minute_floor(-1), -60000);
    ck_assert_int_eq(lb_minute_floor(-60000), -60000);
}
END_TEST

/* ---- the oracle: every minute checked with gmtime ---- */

/* A list ends at -1; {-2} stands for every value. */
static int in_list(const int *list, int v)
{
    if (*list == -2) return 1;
    for (; *list >= 0; list++)
        if (*list == v) return 1;
    return 0;
}

typedef struct {
    const char *expr;
    int minutes[61], hours[25], doms[32], months[13], dows[8]; /* -1 ends each; dom or dow ? */
    int dom_any;
} oracle_t;

static int oracle_matches(const oracle_t *o, const struct tm *tm)
{
    if (!in_list(o->minutes, tm->tm_min) || !in_list(o->hours, tm->tm_hour) ||
        !in_list(o->months, tm->tm_mon + 1))
        return 0;
    return o->dom_any ? in_list(o->dows, tm->tm_wday + 1) : in_list(o->doms, tm->tm_mday);
}

START_TEST(agrees_with_a_minute_by_minute_oracle)
{
    static const oracle_t cases[] = {
        {"cron(7,37 */5 * * ? *)", {7, 37, -1}, {0, 5, 10, 15, 20, -1}, {-2}, {-2}, {-1}, 0},
        {"cron(0/20 3-4 ? * TUE,THU *)", {0, 20, 40, -1}, {3, 4, -1}, {-1}, {-2}, {3, 5, -1}, 1},
        {"cron(45 23 28-2 FEB-MAR ? *)",
         {45, -1},
         {23, -1},
         {28, 29, 30, 31, 1, 2, -1},
         {2, 3, -1},
         {-1},
         0},
        {"cron(58-2 12 1,15 * ? *)", {58, 59, 0, 1, 2, -1}, {12, -1}, {1, 15, -1}, {-2}, {-1}, 0},
        {"cron(30 6 ? NOV-JAN SAT-SUN *)", {30, -1}, {6, -1}, {-1}, {11, 12, 1, -1}, {7, 1, -1}, 1},
    };
    /* Every minute of four years (a leap day included) through gmtime gives the oracle's
     * firings; the next firing after each of many points (every 37 hours and 17 seconds) must be
     * the first of them after that point. */
    int64_t start = T("2023-01-01 00:00"), end = T("2027-01-01 00:00");
    size_t cap = (size_t)((end - start) / 60000) + 1;
    int64_t *fires = lb_xcalloc(cap, sizeof *fires);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const oracle_t *o = &cases[c];
        size_t n = 0;
        for (int64_t t = start; t < end; t += 60000) {
            time_t secs = (time_t)(t / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            if (oracle_matches(o, &tm)) fires[n++] = t;
        }
        ck_assert_uint_gt(n, 10);
        lb_schedule_t *s = parse_ok(o->expr);
        size_t i = 0;
        for (int64_t from = start + 17000; from < fires[n - 1]; from += 37 * 3600000LL + 17000) {
            while (fires[i] <= from)
                i++;
            int64_t next;
            ck_assert_int_eq(lb_schedule_next(s, 0, from, &next), 0);
            char got[32], want[32];
            show(next, got);
            show(fires[i], want);
            ck_assert_msg(next == fires[i], "%s after %lld: got %s, oracle %s", o->expr,
                          (long long)from, got, want);
        }
        lb_schedule_free(&s);
    }
    free(fires);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("schedule");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rate_grammar);
    tcase_add_test(tc, recorded_by_aws);
    tcase_add_test(tc, cron_grammar);
    tcase_add_test(tc, minutes_hours_lists_ranges_steps);
    tcase_add_test(tc, seconds_within_a_minute_are_after_it);
    tcase_add_test(tc, days_months_and_names);
    tcase_add_test(tc, day_of_week_steps);
    tcase_add_test(tc, month_ends_and_leap_years);
    tcase_add_test(tc, l_w_and_hash);
    tcase_add_test(tc, years);
    tcase_add_test(tc, rate_counts_from_its_anchor);
    tcase_add_test(tc, minute_floor);
    tcase_add_test(tc, agrees_with_a_minute_by_minute_oracle);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

/* lb_schedule: rate and cron expressions. See lb_schedule.h for the grammar. */
#include "lb_schedule.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_util.h"

#define DAY_MS 86400000LL
#define YEAR_MIN 1970
#define YEAR_MAX 2199

enum { F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_YEAR, N_FIELDS };

struct lb_schedule {
    int64_t period_ms; /* rate; 0 for a cron */
    /* cron: one bit per allowed value (bit v for value v; years from 1970) */
    uint64_t minutes;
    uint32_t hours;
    uint32_t dom;
    uint16_t months;
    uint8_t dow;
    uint64_t years[4];
    int dom_any, dow_any; /* the field is ? */
    int dom_last;         /* L, or LW with dom_weekday */
    int dom_weekday;      /* nW: n; LW: 1 */
    int dow_last;         /* nL: n */
    int dow_nth_day;      /* n#k: n ... */
    int dow_nth;          /* ... and k */
};

typedef struct {
    int min, max;
    const char *const *names; /* three-letter names, the first for min */
} field_t;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static const field_t fields[N_FIELDS] = {
    [F_MIN] = {0, 59, NULL},     [F_HOUR] = {0, 23, NULL},
    [F_DOM] = {1, 31, NULL},     [F_MONTH] = {1, 12, month_names},
    [F_DOW] = {1, 7, day_names}, [F_YEAR] = {YEAR_MIN, YEAR_MAX, NULL},
};

/* Why an expression was refused: for logs and tests; AWS answers one message for all. */
static const char *const why_rate =
    "rate needs a positive integer and minute(s), hour(s) or day(s)";
static const char *const why_unit = "rate unit must be singular for 1 and plural otherwise";
static const char *const why_fields = "cron needs exactly six fields";
static const char *const why_value = "a cron value is out of its field's range or not a number";
static const char *const why_step = "a cron increment must be from 1 to the field's size";
static const char *const why_day = "exactly one of day-of-month and day-of-week must be ?";
static const char *const why_special = "L, W, ? and # are allowed only alone, in their own fields";
static const char *const why_syntax = "not rate(...) or cron(...)";
static const char *const why_years = "a year range must not wrap around";

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- rate ---- */

static int parse_rate(const char *p, const char *end, lb_schedule_t *s, const char **why)
{
    static const struct {
        const char *one, *many;
        int64_t ms;
    } units[] = {{"minute", "minutes", LB_MINUTE_MS},
                 {"hour", "hours", 60LL * LB_MINUTE_MS},
                 {"day", "days", DAY_MS}};
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    int64_t value = 0;
    const char *digits = p;
    while (p < end && isdigit((unsigned char)*p) && p - digits < 10)
        value = value * 10 + (*p++ - '0');
    if (p == digits || p == end || !is_blank(*p) || value < 1 || value > INT32_MAX) {
        *why = why_rate;
        return -EINVAL;
    }
    while (p < end && is_blank(*p))
        p++;
    size_t n = (size_t)(end - p);
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        int one = strlen(units[i].one) == n && memcmp(p, units[i].one, n) == 0;
        int many = strlen(units[i].many) == n && memcmp(p, units[i].many, n) == 0;
        if (!one && !many) continue;
        if (one != (value == 1)) {
            *why = why_unit;
            return -EINVAL;
        }
        s->period_ms = value * units[i].ms;
        return 0;
    }
    *why = why_rate;
    return -EINVAL;
}

/* ---- cron fields ---- */

/* A number (at most four digits) or, where the field has them, a three-letter name. */
static int parse_value(const char **pp, const char *end, int f, int *out)
{
    const char *p = *pp;
    if (p < end && isdigit((unsigned char)*p)) {
        int v = 0, n = 0;
        while (p < end && isdigit((unsigned char)*p) && n < 5) {
            v = v * 10 + (*p++ - '0');
            n++;
        }
        if (n > 4) return -EINVAL;
        *out = v;
    } else if (fields[f].names && end - p >= 3) {
        int count = fields[f].max - fields[f].min + 1, found = -1;
        for (int i = 0; i < count && found < 0; i++)
            if (memcmp(p, fields[f].names[i], 3) == 0) found = i;
        if (found < 0) return -EINVAL;
        *out = fields[f].min + found;
        p += 3;
    } else {
        return -EINVAL;
    }
    if (*out < fields[f].min || *out > fields[f].max) return -EINVAL;
    *pp = p;
    return 0;
}

static void set_bit(lb_schedule_t *s, int f, int v)
{
    switch (f) {
    case F_MIN:
        s->minutes |= 1ULL << v;
        break;
    case F_HOUR:
        s->hours |= 1U << v;
        break;
    case F_DOM:
        s->dom |= 1U << v;
        break;
    case F_MONTH:
        s->months |= (uint16_t)(1U << v);
        break;
    case F_DOW:
        s->dow |= (uint8_t)(1U << v);
        break;
    default:
        s->years[(v - YEAR_MIN) / 64] |= 1ULL << ((v - YEAR_MIN) % 64);
        break;
    }
}

/* Adds start..end (wrapping past the field's end, Quartz's FRI-MON) every incr. */
static int add_range(lb_schedule_t *s, int f, int start, int end, int incr)
{
    int span = fields[f].max - fields[f].min + 1;
    if (end < start && f == F_YEAR) return -EINVAL;
    int count = end >= start ? end - start : end - start + span;
    for (int i = 0; i <= count; i += incr) {
        int v = start + i;
        set_bit(s, f, v > fields[f].max ? v - span : v);
    }
    return 0;
}

/* The largest increment a field takes (Quartz's: its size, 59 for minutes). */
static int max_increment(int f)
{
    return f == F_MIN ? 59 : f == F_YEAR ? YEAR_MAX - YEAR_MIN : fields[f].max;
}

/* One element of a list: *, a value, a range, each with an optional /increment. */
static int parse_item(lb_schedule_t *s, int f, const char *p, const char *end, const char **why)
{
    int start, stop, incr = 1;
    *why = why_value;
    if (p < end && *p == '*') {
        start = fields[f].min;
        stop = fields[f].max;
        p++;
    } else {
        if (parse_value(&p, end, f, &start)) return -EINVAL;
        stop = start;
        if (p < end && *p == '-') {
            p++;
            if (parse_value(&p, end, f, &stop)) return -EINVAL;
        } else if (p < end && *p == '/') {
            stop = fields[f].max; /* 5/15: from 5 to the field's end */
        }
    }
    if (p < end && *p == '/') {
        p++;
        *why = why_step;
        const char *digits = p;
        incr = 0;
        while (p < end && isdigit((unsigned char)*p) && p - digits < 5)
            incr = incr * 10 + (*p++ - '0');
        if (p == digits || incr < 1 || incr > max_increment(f)) return -EINVAL;
    }
    if (p != end) return -EINVAL;
    if (add_range(s, f, start, stop, incr)) {
        *why = why_years;
        return -EINVAL;
    }
    return 0;
}

/* Day-of-month's L, LW and nW. 1 if text was one of them (then 0 or -EINVAL in *rc). */
static int parse_dom_special(lb_schedule_t *s, const char *p, const char *end, int *rc)
{
    size_t n = (size_t)(end - p);
    *rc = 0;
    if (n == 1 && *p == 'L') {
        s->dom_last = 1;
        return 1;
    }
    if (n == 2 && p[0] == 'L' && p[1] == 'W') {
        s->dom_last = 1;
        s->dom_weekday = 1;
        return 1;
    }
    if (n >= 2 && end[-1] == 'W') {
        int v = 0;
        const char *q = p;
        *rc = parse_value(&q, end - 1, F_DOM, &v) || q != end - 1 ? -EINVAL : 0;
        if (*rc == 0) s->dom_weekday = v;
        return 1;
    }
    return 0;
}

/* Day-of-week's L, nL and n#k. 1 if text was one of them (then 0 or -EINVAL in *rc). */
static int parse_dow_special(lb_schedule_t *s, const char *p, const char *end, int *rc)
{
    size_t n = (size_t)(end - p);
    *rc = 0;
    if (n == 1 && *p == 'L') { /* the last day of the week */
        set_bit(s, F_DOW, 7);
        return 1;
    }
    const char *hash = memchr(p, '#', n);
    if (!hash && !(n >= 2 && end[-1] == 'L')) return 0;
    int day, nth = 0;
    const char *q = p;
    *rc = -EINVAL;
    if (parse_value(&q, hash ? hash : end - 1, F_DOW, &day) || q != (hash ? hash : end - 1))
        return 1;
    if (hash) {
        if (end - hash != 2 || hash[1] < '1' || hash[1] > '5') return 1;
        nth = hash[1] - '0';
        s->dow_nth_day = day;
        s->dow_nth = nth;
    } else {
        s->dow_last = day;
    }
    *rc = 0;
    return 1;
}

/* One whole field: ?, one special form, or a comma-separated list of items. */
static int parse_field(lb_schedule_t *s, int f, const char *p, const char *end, const char **why)
{
    int rc;
    if (end - p == 1 && *p == '?') {
        if (f != F_DOM && f != F_DOW) {
            *why = why_special;
            return -EINVAL;
        }
        *(f == F_DOM ? &s->dom_any : &s->dow_any) = 1;
        return 0;
    }
    if ((f == F_DOM && parse_dom_special(s, p, end, &rc)) ||
        (f == F_DOW && parse_dow_special(s, p, end, &rc))) {
        if (rc) *why = why_special;
        return rc;
    }
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        if (item_end == p) {
            *why = why_value;
            return -EINVAL;
        }
        if (parse_item(s, f, p, item_end, why)) return -EINVAL;
        if (!comma) break;
        p = comma + 1;
        if (p == end) {
            *why = why_value;
            return -EINVAL;
        }
    }
    return 0;
}

static int parse_cron(const char *p, const char *end, lb_schedule_t *s, const char **why)
{
    char text[LB_SCHEDULE_MAX_LEN + 1];
    size_t len = (size_t)(end - p);
    if (len > LB_SCHEDULE_MAX_LEN) {
        *why = why_fields;
        return -EINVAL;
    }
    /* Names and letters are taken in any case, as Quartz upper-cases the whole expression. */
    for (size_t i = 0; i < len; i++)
        text[i] = (char)toupper((unsigned char)p[i]);
    const char *q = text, *stop = text + len;
    for (int f = 0; f < N_FIELDS; f++) {
        while (q < stop && is_blank(*q))
            q++;
        const char *start = q;
        while (q < stop && !is_blank(*q))
            q++;
        if (q == start) {
            *why = why_fields;
            return -EINVAL;
        }
        if (parse_field(s, f, start, q, why)) return -EINVAL;
    }
    while (q < stop && is_blank(*q))
        q++;
    if (q != stop) {
        *why = why_fields;
        return -EINVAL;
    }
    if (s->dom_any == s->dow_any) {
        *why = why_day;
        return -EINVAL;
    }
    return 0;
}

int lb_schedule_parse(const char *expr, size_t len, lb_schedule_t **out, const char **why)
{
    const char *ignored;
    if (!why) why = &ignored;
    *out = NULL;
    *why = why_syntax;
    if (!expr || len < 6 || len > LB_SCHEDULE_MAX_LEN || expr[len - 1] != ')' ||
        memchr(expr, '\0', len))
        return -EINVAL;
    lb_schedule_t *s = lb_xcalloc(1, sizeof *s);
    int rc = -EINVAL;
    if (memcmp(expr, "rate(", 5) == 0)
        rc = parse_rate(expr + 5, expr + len - 1, s, why);
    else if (memcmp(expr, "cron(", 5) == 0)
        rc = parse_cron(expr + 5, expr + len - 1, s, why);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void lb_schedule_free(lb_schedule_t **s)
{
    free(*s);
    *s = NULL;
}

int lb_schedule_is_rate(const lb_schedule_t *s)
{
    return s->period_ms > 0;
}

int64_t lb_schedule_period_ms(const lb_schedule_t *s)
{
    return s->period_ms;
}

/* ---- time ---- */

int64_t lb_minute_floor(int64_t ms)
{
    int64_t r = ms % LB_MINUTE_MS;
    return r < 0 ? ms - r - LB_MINUTE_MS : ms - r;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int yoe = (int)(y - era * 400);
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = (int)(z - era * 146097);
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* 1 (Sunday) to 7 (Saturday); 1970-01-01 was a Thursday. */
static int weekday(int y, int m, int d)
{
    int64_t days = days_from_civil(y, m, d);
    return (int)(((days % 7) + 7 + 4) % 7) + 1;
}

/* The days of month m of year y the schedule allows, one bit per day (bit d for day d). */
static uint64_t day_mask(const lb_schedule_t *s, int y, int m)
{
    int n = days_in_month(y, m);
    if (s->dow_any) {
        if (!s->dom_last && !s->dom_weekday) return s->dom & ((2ULL << n) - 2);
        int d = s->dom_last ? n : s->dom_weekday;
        if (d > n) return 0; /* 31W in a 30-day month */
        if (s->dom_weekday) {
            /* The nearest weekday, never leaving the month: 1W on a Saturday is Monday the 3rd,
             * 31W on a Sunday is Friday the 29th. */
            int wd = weekday(y, m, d);
            if (wd == 7)
                d = d == 1 ? 3 : d - 1;
            else if (wd == 1)
                d = d == n ? d - 2 : d + 1;
        }
        return 1ULL << d;
    }
    int first = weekday(y, m, 1);
    if (s->dow_nth) {
        int d = 1 + (s->dow_nth_day - first + 7) % 7 + (s->dow_nth - 1) * 7;
        return d <= n ? 1ULL << d : 0;
    }
    if (s->dow_last) {
        int d = n - (weekday(y, m, n) - s->dow_last + 7) % 7;
        return 1ULL << d;
    }
    uint64_t mask = 0;
    for (int d = 1; d <= n; d++)
        if (s->dow & (1U << ((first - 1 + d - 1) % 7 + 1))) mask |= 1ULL << d;
    return mask;
}

static int year_allowed(const lb_schedule_t *s, int y)
{
    int i = y - YEAR_MIN;
    return (s->years[i / 64] >> (i % 64)) & 1;
}

static int lowest_bit(uint64_t v)
{
    return __builtin_ctzll(v);
}

static int next_cron(const lb_schedule_t *s, int64_t after_ms, int64_t *next_ms)
{
    int64_t t = lb_minute_floor(after_ms) + LB_MINUTE_MS;
    if (t < 0) t = 0;
    int64_t days = t / DAY_MS;
    int y, m, d, h = (int)(t % DAY_MS / 3600000), mi = (int)(t % 3600000 / LB_MINUTE_MS);
    civil_from_days(days, &y, &m, &d);
    for (;;) {
        if (y > YEAR_MAX) return -ENOENT;
        if (!year_allowed(s, y)) {
            y++, m = 1, d = 1, h = 0, mi = 0;
            continue;
        }
        uint64_t months = s->months & ~((2ULL << (m - 1)) - 1) & 0x1FFE;
        if (!months) {
            y++, m = 1, d = 1, h = 0, mi = 0;
            continue;
        }
        if (lowest_bit(months) != m) m = lowest_bit(months), d = 1, h = 0, mi = 0;
        uint64_t days_left = day_mask(s, y, m) & ~((1ULL << d) - 1);
        if (!days_left) {
            if (++m > 12) y++, m = 1;
            d = 1, h = 0, mi = 0;
            continue;
        }
        if (lowest_bit(days_left) != d) d = lowest_bit(days_left), h = 0, mi = 0;
        uint64_t hours = (uint64_t)s->hours & ~((1ULL << h) - 1);
        if (!hours) {
            d++, h = 0, mi = 0;
            continue;
        }
        if (lowest_bit(hours) != h) h = lowest_bit(hours), mi = 0;
        uint64_t minutes = s->minutes & ~((1ULL << mi) - 1);
        if (!minutes) {
            if (++h > 23) d++, h = 0;
            mi = 0;
            continue;
        }
        mi = lowest_bit(minutes);
        *next_ms = days_from_civil(y, m, d) * DAY_MS + h * 3600000LL + mi * (int64_t)LB_MINUTE_MS;
        return 0;
    }
}

int lb_schedule_next(const lb_schedule_t *s, int64_t anchor_ms, int64_t after_ms, int64_t *next_ms)
{
    if (!lb_schedule_is_rate(s)) return next_cron(s, after_ms, next_ms);
    int64_t base = lb_minute_floor(anchor_ms), period = s->period_ms;
    int64_t k = after_ms < base + period ? 1 : (after_ms - base) / period + 1;
    *next_ms = base + k * period;
    return 0;
}

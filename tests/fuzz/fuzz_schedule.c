/* libFuzzer target for lb_schedule: the input is a ScheduleExpression (seeds in
 * tests/fuzz/schedule_seeds/). A parse that succeeds must give firing times that are whole
 * minutes, strictly after the time asked about, and self-consistent (the first firing after a
 * millisecond before a firing is that firing); any violation aborts so the fuzzer reports it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lb_schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lb_schedule_t *s = NULL;
    const char *why = NULL;
    if (lb_schedule_parse((const char *)data, size, &s, &why)) {
        if (s || !why) abort(); /* a refusal always says why, and leaves nothing behind */
        return 0;
    }
    /* From 1969 to 2200, a few points each, with a rate anchored at one of them. */
    static const int64_t points[] = {
        -86400000LL * 30, 0, 1700000000123LL, 1709164800000LL, 4102444800000LL, 7258118400000LL};
    int64_t anchor = points[size % (sizeof points / sizeof *points)];
    for (size_t i = 0; i < sizeof points / sizeof *points; i++) {
        int64_t t = points[i], next, again;
        for (int k = 0; k < 3; k++) {
            int rc = lb_schedule_next(s, anchor, t, &next);
            if (rc == -ENOENT) {
                if (lb_schedule_is_rate(s)) abort(); /* a rate never ends */
                break;
            }
            if (rc || next <= t || next % LB_MINUTE_MS) abort();
            if (lb_schedule_next(s, anchor, next - 1, &again) || again != next) abort();
            t = next;
        }
    }
    lb_schedule_free(&s);
    return 0;
}

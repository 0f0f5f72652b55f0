/* Matching throughput against 10, 1,000 and 10,000 rules of mixed operators (exact, prefix,
 * suffix, equals-ignore-case, numeric ranges, CIDR, anything-but, exists, $or), all sharing the
 * same few sources as real buses do. Events are parsed once up front (as PutEvents does); the
 * timed loop is lb_matcher_match alone. The figure that matters is the last line: time per
 * event with 10,000 rules over time per event with 10 rules, which should stay near 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lb_pattern.h"

#define N_EVENTS 2000
#define SECONDS_PER_RUN 1.5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned rnd(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) & 0xFFFFFF;
}

static void rule_text(int i, char *buf, size_t cap)
{
    const char *src[] = {"aws.ec2", "aws.s3", "com.shop", "com.pay"};
    const char *s = src[i % 4];
    switch (i % 9) {
    case 0:
        snprintf(buf, cap, "{\"source\":[\"%s\"],\"detail\":{\"id\":[\"id-%d\"]}}", s, i);
        break;
    case 1:
        snprintf(buf, cap,
                 "{\"source\":[\"%s\"],\"detail\":{\"name\":[{\"prefix\":\"name-%d-\"}]}}", s, i);
        break;
    case 2:
        snprintf(buf, cap, "{\"detail\":{\"file\":[{\"suffix\":\".e%d\"}]}}", i);
        break;
    case 3:
        snprintf(
            buf, cap,
            "{\"source\":[\"%s\"],\"detail\":{\"amount\":[{\"numeric\":[\">=\",%d,\"<\",%d]}]}}", s,
            i * 10, i * 10 + 5);
        break;
    case 4:
        snprintf(buf, cap, "{\"detail\":{\"user\":[{\"equals-ignore-case\":\"User%d\"}]}}", i);
        break;
    case 5:
        snprintf(buf, cap, "{\"detail\":{\"ip\":[{\"cidr\":\"10.%d.%d.0/24\"}]}}", (i >> 8) & 255,
                 i & 255);
        break;
    case 6:
        snprintf(buf, cap,
                 "{\"source\":[\"%s\"],\"detail\":{\"key\":[%d],\"state\":[{\"anything-but\":"
                 "[\"stopped\",\"failed\"]}]}}",
                 s, i);
        break;
    case 7:
        snprintf(buf, cap, "{\"detail-type\":[\"t%d\"],\"detail\":{\"tag\":[{\"exists\":true}]}}",
                 i);
        break;
    default:
        snprintf(buf, cap,
                 "{\"source\":[\"%s\"],\"$or\":[{\"detail\":{\"id\":[\"or-%d\"]}},"
                 "{\"detail\":{\"amount\":[%d]}}]}",
                 s, i, i);
        break;
    }
}

static void event_text(unsigned *st, char *buf, size_t cap)
{
    const char *src[] = {"aws.ec2", "aws.s3", "com.shop", "com.pay"};
    unsigned r = rnd(st) % 10000;
    snprintf(buf, cap,
             "{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\","
             "\"detail-type\":\"t%u\",\"source\":\"%s\",\"account\":\"111122223333\","
             "\"time\":\"2017-12-22T18:43:48Z\",\"region\":\"us-west-1\",\"resources\":"
             "[\"arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0\"],"
             "\"detail\":{\"id\":\"id-%u\",\"name\":\"name-%u-x\",\"file\":\"f.e%u\","
             "\"amount\":%u,\"user\":\"USER%u\",\"ip\":\"10.%u.%u.7\",\"key\":%u,"
             "\"state\":\"running\",\"tag\":\"x\",\"items\":[{\"a\":1},{\"a\":2}]}}",
             r, src[r % 4], r, r, r, r * 10 + 2, r, (r >> 8) & 255, r & 255, r);
}

static double run(int n_rules, lb_event_t **events, size_t *matched)
{
    lb_matcher_t *m = NULL;
    lb_matcher_new(&m);
    char buf[512];
    double t0 = now_s();
    for (int i = 0; i < n_rules; i++) {
        lb_pattern_t *p = NULL;
        char *err = NULL;
        rule_text(i, buf, sizeof buf);
        if (lb_pattern_compile(buf, strlen(buf), &p, &err)) {
            fprintf(stderr, "bad rule %s: %s\n", buf, err);
            exit(1);
        }
        lb_matcher_add(m, (uint64_t)i, p);
        lb_pattern_free(&p);
    }
    double t_add = now_s() - t0;
    size_t done = 0, hits = 0;
    t0 = now_s();
    double t;
    do {
        for (int i = 0; i < 200; i++) {
            uint64_t *ids = NULL;
            size_t n = 0;
            lb_matcher_match(m, events[done % N_EVENTS], &ids, &n);
            hits += n;
            free(ids);
            done++;
        }
        t = now_s() - t0;
    } while (t < SECONDS_PER_RUN);
    double per_event = t / (double)done;
    printf(
        "%6d rules: %10.0f events/s  %7.3f us/event  %.2f matches/event  (adding rules: %.3f s)\n",
        n_rules, 1.0 / per_event, per_event * 1e6, (double)hits / (double)done, t_add);
    *matched = hits;
    lb_matcher_free(&m);
    return per_event;
}

int main(int argc, char **argv)
{
    lb_event_t **events = calloc(N_EVENTS, sizeof *events);
    unsigned st = 42;
    char buf[1024];
    double t0 = now_s();
    for (int i = 0; i < N_EVENTS; i++) {
        event_text(&st, buf, sizeof buf);
        if (lb_event_parse(buf, strlen(buf), &events[i])) {
            fprintf(stderr, "bad event %s\n", buf);
            return 1;
        }
    }
    printf("event parse+flatten: %.3f us/event (%zu-byte events)\n",
           (now_s() - t0) / N_EVENTS * 1e6, strlen(buf));
    size_t hits;
    if (argc > 1) { /* one size only, for profiling: bench_match 10000 */
        run(atoi(argv[1]), events, &hits);
        return 0;
    }
    double t10 = run(10, events, &hits);
    run(1000, events, &hits);
    double t10k = run(10000, events, &hits);
    printf("ratio time/event 10,000 rules / 10 rules: %.2f\n", t10k / t10);
    for (int i = 0; i < N_EVENTS; i++)
        lb_event_free(&events[i]);
    free(events);
    return 0;
}

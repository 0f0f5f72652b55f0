#include "lb_retry.h"

#include <stddef.h>

lb_attempt_t lb_retry_classify_http(long status)
{
    if (status >= 200 && status < 300) return LB_ATTEMPT_OK;
    if (status == 0 || status == 401 || status == 407 || status == 409 || status == 429 ||
        status >= 500)
        return LB_ATTEMPT_RETRYABLE;
    return LB_ATTEMPT_PERMANENT;
}

int64_t lb_retry_backoff_ms(int retry, int64_t base_ms, int64_t cap_ms, uint32_t random32)
{
    if (retry < 1) retry = 1;
    int64_t ceiling = base_ms > 0 ? base_ms : 1;
    for (int i = 1; i < retry && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms) ceiling = cap_ms;
    /* Full jitter: spread retries of many deliveries that failed together. */
    int64_t delay = (int64_t)((uint64_t)ceiling * random32 / UINT32_MAX);
    return delay < 1 ? 1 : delay;
}

void lb_retry_decide(lb_attempt_t outcome, int attempts, int max_retries, int64_t age_base_ms,
                     int max_age_s, int64_t now_ms, int64_t base_ms, int64_t cap_ms,
                     uint32_t random32, lb_retry_decision_t *out)
{
    out->dead = 0;
    out->exhausted = NULL;
    out->next_ms = 0;
    if (outcome == LB_ATTEMPT_OK) return;
    if (outcome == LB_ATTEMPT_PERMANENT) {
        out->dead = 1;
        return;
    }
    if (attempts - 1 >= max_retries) {
        out->dead = 1;
        out->exhausted = LB_EXHAUSTED_ATTEMPTS;
        return;
    }
    int64_t next = now_ms + lb_retry_backoff_ms(attempts, base_ms, cap_ms, random32);
    int64_t deadline = age_base_ms + (int64_t)max_age_s * 1000;
    if (now_ms >= deadline) {
        out->dead = 1;
        out->exhausted = LB_EXHAUSTED_AGE;
        return;
    }
    /* The last retry happens at the deadline rather than not at all. */
    out->next_ms = next > deadline ? deadline : next;
}

void lb_retry_async_decide(const lb_async_policy_t *p, int failed_runs, int throttles,
                           int throttled, int64_t first_run_ms, int64_t now_ms,
                           lb_retry_decision_t *out)
{
    out->dead = 0;
    out->exhausted = NULL;
    out->next_ms = 0;
    if (p->give_up) {
        out->dead = 1;
        out->exhausted = p->give_up;
        return;
    }
    int64_t wait;
    if (throttled) {
        /* Exponential from the minimum to the maximum, no jitter: Lambda's documented schedule
         * for throttles and system errors ("from 1 second ... to a maximum of 5 minutes"). */
        wait = p->throttle_min_ms > 0 ? p->throttle_min_ms : 1;
        for (int i = 1; i < throttles && wait < p->throttle_max_ms; i++)
            wait *= 2;
        if (wait > p->throttle_max_ms) wait = p->throttle_max_ms;
    } else {
        if (failed_runs > p->max_retries) {
            out->dead = 1;
            out->exhausted = LB_ASYNC_RETRIES_EXHAUSTED;
            return;
        }
        /* One minute after the first failure, two after the second. */
        wait = (int64_t)failed_runs * p->retry_delay_ms;
    }
    if (wait < 1) wait = 1;
    if (now_ms + wait - first_run_ms > p->max_age_ms) {
        out->dead = 1;
        out->exhausted = LB_ASYNC_EVENT_AGE_EXCEEDED;
        return;
    }
    out->next_ms = now_ms + wait;
}

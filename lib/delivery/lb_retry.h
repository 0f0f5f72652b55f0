/* EventBridge's retry policy as pure arithmetic: how long to wait before the next attempt
 * (exponential backoff with full jitter), whether a failure may be retried at all, and when a
 * delivery's retries are exhausted (MaximumRetryAttempts, MaximumEventAgeInSeconds). Time and
 * randomness come in as parameters so tests control both. */
#ifndef LB_RETRY_H
#define LB_RETRY_H

#include <stdint.h>

/* How one attempt ended. */
typedef enum {
    LB_ATTEMPT_OK,        /* delivered */
    LB_ATTEMPT_RETRYABLE, /* throttling, 5xx, timeouts, connection errors */
    LB_ATTEMPT_PERMANENT, /* errors AWS does not retry (most 4xx, unknown targets) */
    /* The target took the event and ran it, and the run failed (a Lambda function error: the
     * code raised, timed out or crashed). For EventBridge the delivery succeeded; what happens
     * next is the target's own retry policy (lb_async_policy_t), not the RetryPolicy. */
    LB_ATTEMPT_FUNCTION_ERROR,
} lb_attempt_t;

/* An HTTP target's answer: status 0 means no HTTP answer (connection refused, reset, timeout).
 * AWS retries 401, 407, 409, 429 and 5xx and no other 4xx (API destinations guide). */
lb_attempt_t lb_retry_classify_http(long status);

/* Delay before retry number `retry` (1 = first retry): a uniform draw in
 * [0, min(cap, base * 2^(retry-1))], never below 1 ms; random32 is any 32-bit random value. */
int64_t lb_retry_backoff_ms(int retry, int64_t base_ms, int64_t cap_ms, uint32_t random32);

/* Values AWS writes as EXHAUSTED_RETRY_CONDITION. */
#define LB_EXHAUSTED_ATTEMPTS "MaximumRetryAttempts"
#define LB_EXHAUSTED_AGE "MaximumEventAgeInSeconds"

typedef struct {
    int dead;              /* stop: dead-letter it */
    const char *exhausted; /* which limit ran out, or NULL (permanent error) */
    int64_t next_ms;       /* when to try again, if not dead */
} lb_retry_decision_t;

/* After a failed attempt: attempts counts every attempt so far (the first one included); the
 * event's age runs from age_base_ms. */
void lb_retry_decide(lb_attempt_t outcome, int attempts, int max_retries, int64_t age_base_ms,
                     int max_age_s, int64_t now_ms, int64_t base_ms, int64_t cap_ms,
                     uint32_t random32, lb_retry_decision_t *out);

/* The second retry budget, of a target that accepts an event and then runs it on its own, retrying
 * its own failures: Lambda's asynchronous invocation. The EventBridge RetryPolicy governs only the
 * failures to hand the event over; once a run has failed, this policy decides. */
typedef struct {
    int max_retries;         /* runs after the first failed one (Lambda: 0 to 2, default 2) */
    int64_t max_age_ms;      /* how long the event is kept, from its first run (Lambda: 6 h) */
    int64_t retry_delay_ms;  /* after failed run n, run n + 1 waits n times this (Lambda: 1 min) */
    int64_t throttle_min_ms; /* a run refused for concurrency waits this, doubling per refusal */
    int64_t throttle_max_ms; /* ... up to this (Lambda: from 1 s to 5 min) */
    /* Non-NULL: give the event up now, with this condition, without running it (Lambda: a
     * function whose reserved concurrency is 0, "ZeroReservedConcurrency"). */
    const char *give_up;
} lb_async_policy_t;

/* The conditions Lambda writes into an on-failure invocation record. */
#define LB_ASYNC_RETRIES_EXHAUSTED "RetriesExhausted"
#define LB_ASYNC_EVENT_AGE_EXCEEDED "EventAgeExceeded"

/* After a failed run (failed_runs counts it) or a refused one (throttled set; throttles counts
 * the refusals since the event was first run, this one included): when to run again, or dead
 * with exhausted the condition that ended it. The event's age runs from first_run_ms; a retry
 * that would start later than max_age_ms after it is not made (the event is given up at once, as
 * Lambda decides before queueing the retry). */
void lb_retry_async_decide(const lb_async_policy_t *p, int failed_runs, int throttles,
                           int throttled, int64_t first_run_ms, int64_t now_ms,
                           lb_retry_decision_t *out);

#endif

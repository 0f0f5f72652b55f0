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

#endif

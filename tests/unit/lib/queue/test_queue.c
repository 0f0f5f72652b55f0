/* lib/queue: the message index (visibility, delays, FIFO group locks, redrive, retention, the
 * deduplication window) with "now" passed in, and the MD5s SDKs verify. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb_queue.h"
#include "lb_sqs_md5.h"
#include "lb_test.h"

static lb_queue_t *mkqueue(lb_queues_t *qs, const char *name, const char *attrs)
{
    lb_queue_t *q = lb_queue_new(lb_queues_next_id(qs), "us-east-1", name, attrs, NULL, 0, 0);
    lb_queues_add(qs, q);
    return q;
}

START_TEST(test_md5_attributes)
{
    lb_sqs_attr_t a = {.name = "a", .data_type = "String", .value = "x", .value_len = 1};
    char out[33];
    lb_sqs_md5_attrs(&a, 1, out);
    ck_assert_str_eq(out, "a512aac9938034acb0b3c3d965944bf1");
    /* Sorted by name whatever the order given; Binary with its transport byte 2. */
    lb_sqs_attr_t two[] = {
        {.name = "z", .data_type = "Number", .value = "1", .value_len = 1},
        {.name = "b", .data_type = "Binary", .value = "\x00\xff", .value_len = 2, .binary = 1}};
    lb_sqs_md5_attrs(two, 2, out);
    ck_assert_str_eq(out, "ab0345d9317d0b6574532a309ada65dd");
    lb_sqs_md5_hex("hello", 5, out);
    ck_assert_str_eq(out, "5d41402abc4b2a76b9719d911017c592");
}
END_TEST

START_TEST(test_visibility_and_delay)
{
    lb_queues_t *qs;
    lb_queues_new(&qs);
    lb_queue_t *q = mkqueue(qs, "std", "{}");
    lb_queue_msg_add(q, 1, NULL, 1000, 1000, 0, 0, 1000);
    lb_queue_msg_add(q, 2, NULL, 1000, 1000, 0, 0, 1000);
    lb_queue_msg_add(q, 3, NULL, 1000, 6000, 0, 0, 1000); /* delayed 5 s */
    ck_assert_uint_eq(q->n_visible, 2);
    ck_assert_uint_eq(q->n_delayed, 1);
    lb_qmsg_t *out[10], *moved[10];
    size_t n_moved;
    size_t n =
        lb_queue_receive(q, NULL, 1000, 10, 3000, lb_queues_next_token, qs, out, moved, &n_moved);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0]->seq, 1);
    ck_assert_int_eq(out[1]->seq, 2);
    ck_assert_uint_eq(q->n_inflight, 2);
    ck_assert_int_eq(lb_queue_next_change(q), 4000);
    /* Nothing before the timeouts end; then all three. */
    ck_assert_int_eq(lb_queue_receivable(q, 3999), 0);
    lb_queue_advance(q, 6000);
    ck_assert_uint_eq(q->n_visible, 3);
    ck_assert_uint_eq(q->n_inflight + q->n_delayed, 0);
    n = lb_queue_receive(q, NULL, 6000, 1, 0, lb_queues_next_token, qs, out, moved, &n_moved);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0]->receive_count, 2);
    /* Visibility 0: visible again at once, yet not twice in one receive. */
    ck_assert_uint_eq(q->n_visible, 3);
    lb_queues_free(&qs);
}
END_TEST

START_TEST(test_fifo_groups_lock)
{
    lb_queues_t *qs;
    lb_queues_new(&qs);
    lb_queue_t *q = mkqueue(qs, "f.fifo", "{\"FifoQueue\":\"true\"}");
    lb_queue_msg_add(q, 1, "A", 0, 0, 0, 0, 0);
    lb_queue_msg_add(q, 2, "B", 0, 0, 0, 0, 0);
    lb_queue_msg_add(q, 3, "A", 0, 0, 0, 0, 0);
    lb_qmsg_t *out[10], *moved[10];
    size_t n_moved;
    size_t n =
        lb_queue_receive(q, NULL, 0, 1, 30000, lb_queues_next_token, qs, out, moved, &n_moved);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0]->seq, 1);
    /* A is locked by seq 1 in flight: B next, then nothing. */
    n = lb_queue_receive(q, NULL, 0, 10, 30000, lb_queues_next_token, qs, out, moved, &n_moved);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0]->seq, 2);
    ck_assert_int_eq(lb_queue_receivable(q, 0), 0);
    lb_queue_msg_remove(q, lb_queue_msg_find(q, 1));
    n = lb_queue_receive(q, NULL, 0, 10, 30000, lb_queues_next_token, qs, out, moved, &n_moved);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0]->seq, 3);
    lb_queues_free(&qs);
}
END_TEST

START_TEST(test_redrive_and_retention)
{
    lb_queues_t *qs;
    lb_queues_new(&qs);
    lb_queue_t *dlq = mkqueue(qs, "dlq", "{}");
    lb_queue_t *q = mkqueue(qs, "src",
                            "{\"MessageRetentionPeriod\":\"60\",\"RedrivePolicy\":"
                            "\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:1:dlq\\\","
                            "\\\"maxReceiveCount\\\":2}\"}");
    ck_assert_int_eq(q->conf.max_receive_count, 2);
    ck_assert_str_eq(q->conf.dlq_arn, "arn:aws:sqs:us-east-1:1:dlq");
    ck_assert_ptr_eq(lb_queues_find_arn(qs, "1", q->conf.dlq_arn), dlq);
    lb_queue_msg_add(q, 1, NULL, 0, 0, 0, 0, 0);
    lb_qmsg_t *out[10], *moved[10];
    size_t n_moved;
    for (int i = 0; i < 2; i++)
        ck_assert_uint_eq(
            lb_queue_receive(q, dlq, 0, 1, 0, lb_queues_next_token, qs, out, moved, &n_moved), 1);
    /* Received maxReceiveCount times: the next receive moves it instead. */
    ck_assert_uint_eq(
        lb_queue_receive(q, dlq, 0, 1, 0, lb_queues_next_token, qs, out, moved, &n_moved), 0);
    ck_assert_uint_eq(n_moved, 1);
    ck_assert_uint_eq(lb_queue_msg_count(q), 0);
    ck_assert_uint_eq(dlq->n_visible, 1);
    /* Retention: past 60 s the message is listed for removal. */
    lb_queue_msg_add(q, 2, NULL, 1000, 1000, 0, 0, 1000);
    ck_assert_uint_eq(lb_queue_expired(q, 60999, out, 10), 0);
    ck_assert_uint_eq(lb_queue_expired(q, 61000, out, 10), 1);
    lb_queue_msg_remove(q, out[0]);
    ck_assert_uint_eq(q->n_visible, 0);
    lb_queues_free(&qs);
}
END_TEST

/* A FIFO queue's message moved to its FIFO dead-letter queue keeps its group there, so it can be
 * received from it (it once landed there without one and was never receivable). */
START_TEST(test_fifo_redrive_keeps_group)
{
    lb_queues_t *qs;
    lb_queues_new(&qs);
    lb_queue_t *dlq = mkqueue(qs, "d.fifo", "{\"FifoQueue\":\"true\"}");
    lb_queue_t *q = mkqueue(qs, "s.fifo",
                            "{\"FifoQueue\":\"true\",\"RedrivePolicy\":"
                            "\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:1:d.fifo\\\","
                            "\\\"maxReceiveCount\\\":1}\"}");
    ck_assert_int_eq(q->conf.max_receive_count, 1);
    lb_queue_msg_add(q, 1, "g", 0, 0, 0, 0, 0);
    lb_qmsg_t *out[10], *moved[10];
    size_t n_moved;
    ck_assert_uint_eq(
        lb_queue_receive(q, dlq, 0, 1, 0, lb_queues_next_token, qs, out, moved, &n_moved), 1);
    ck_assert_uint_eq(
        lb_queue_receive(q, dlq, 0, 1, 0, lb_queues_next_token, qs, out, moved, &n_moved), 0);
    ck_assert_uint_eq(n_moved, 1);
    ck_assert_int_eq(lb_queue_receivable(dlq, 0), 1);
    ck_assert_uint_eq(
        lb_queue_receive(dlq, NULL, 0, 1, 1000, lb_queues_next_token, qs, out, moved, &n_moved), 1);
    ck_assert_int_eq(out[0]->seq, 1);
    lb_queues_free(&qs);
}
END_TEST

START_TEST(test_dedup_window)
{
    lb_queues_t *qs;
    lb_queues_new(&qs);
    lb_queue_t *q = mkqueue(qs, "d.fifo", "{\"FifoQueue\":\"true\"}");
    const char *id;
    int64_t seq;
    lb_queue_dedup_add(q, "k", "id-1", 7, LB_SQS_DEDUP_WINDOW_MS);
    ck_assert_int_eq(lb_queue_dedup_find(q, "k", LB_SQS_DEDUP_WINDOW_MS - 1, &id, &seq), 1);
    ck_assert_str_eq(id, "id-1");
    ck_assert_int_eq(seq, 7);
    ck_assert_int_eq(lb_queue_dedup_find(q, "k", LB_SQS_DEDUP_WINDOW_MS, &id, &seq), 0);
    lb_queues_free(&qs);
}
END_TEST

START_TEST(test_base64_and_names)
{
    char *out;
    size_t n;
    ck_assert_int_eq(lb_base64_decode("AP8=", 4, &out, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq((unsigned char)out[1], 0xff);
    free(out);
    ck_assert_int_eq(lb_base64_decode("A*8=", 4, &out, &n), -1);
    ck_assert_int_eq(lb_queue_name_valid("ok-name_1", 0), 1);
    ck_assert_int_eq(lb_queue_name_valid("a.fifo", 0), 0);
    ck_assert_int_eq(lb_queue_name_valid("a.fifo", 1), 1);
    ck_assert_int_eq(lb_queue_name_valid("", 0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("queue");
    tcase_add_test(tc, test_md5_attributes);
    tcase_add_test(tc, test_visibility_and_delay);
    tcase_add_test(tc, test_fifo_groups_lock);
    tcase_add_test(tc, test_redrive_and_retention);
    tcase_add_test(tc, test_fifo_redrive_keeps_group);
    tcase_add_test(tc, test_dedup_window);
    tcase_add_test(tc, test_base64_and_names);
    suite_add_tcase(s, tc);
    return lb_test_run(s);
}

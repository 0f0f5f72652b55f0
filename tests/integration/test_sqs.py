"""Built-in queues (SQS): driven by boto3 (query protocol in boto3 1.26), the AWS CLI v2 (query)
and v1 (JSON 1.0), and raw requests in both protocols for the error shapes; EventBridge targets
and dead-letter queues into them; FIFO order; redrive; long polling; kill -9 with messages in
flight; the depth gauges on /metrics."""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse

import boto3
from botocore.config import Config

from lbharness import AWS_CLI, CONFORMANCE_DIR, Daemon, Sink

ACCOUNT = "000000000000"

with open(os.path.join(CONFORMANCE_DIR, "sqs-errors.json")) as _f:
    # (code, message) -> HTTP status, as AWS answered (LocalStack's recordings).
    RECORDED = {(e["code"], e["message"]): e["status"] for e in json.load(_f)}


def md5_attrs(attrs):
    """AWS's MD5OfMessageAttributes, computed here independently of the daemon."""
    h = hashlib.md5()
    for name in sorted(attrs):
        a = attrs[name]
        for field in (name, a["DataType"]):
            b = field.encode()
            h.update(struct.pack(">I", len(b)) + b)
        if "BinaryValue" in a:
            v = a["BinaryValue"]
            h.update(b"\x02" + struct.pack(">I", len(v)) + v)
        else:
            v = a["StringValue"].encode()
            h.update(b"\x01" + struct.pack(">I", len(v)) + v)
    return h.hexdigest()


def cli_v1():
    """An AWS CLI v1 (botocore speaks JSON 1.0 to SQS): $LB_AWS_CLI_V1, the one .ci/deps
    installs, or an `aws` on PATH that is v1."""
    for cand in (os.environ.get("LB_AWS_CLI_V1"), "/opt/awscli-v1/bin/aws", shutil.which("aws")):
        if not cand or not os.path.exists(cand):
            continue
        try:
            out = subprocess.run([cand, "--version"], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if (out.stdout + out.stderr).startswith("aws-cli/1."):
            return cand
    return None


class SqsBase(unittest.TestCase):
    config = ""

    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        cls.daemon = Daemon()
        conf = os.path.join(cls.daemon.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("retry_base_delay = 50ms\nretry_max_delay = 200ms\ndelivery_timeout = 2s\n")
            f.write("target_map = arn:aws:sqs:*:*:mapped-* -> %s/ok/mapped\n" % cls.sink.url)
            f.write("target_map = arn:aws:sqs:*:*:failing -> %s/status/400\n" % cls.sink.url)
            f.write(cls.config)
        cls.daemon.args = ["--config", conf]
        cls.daemon.start()
        cls.sqs = cls.client()
        cls.events = cls.daemon.client()

    @classmethod
    def client(cls):
        return boto3.client("sqs", endpoint_url=cls.daemon.url, region_name="us-east-1",
                            aws_access_key_id="AKIDTEST", aws_secret_access_key="secret",
                            config=Config(retries={"max_attempts": 1}, read_timeout=40))

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        logs = cls.daemon.logs()
        cls.daemon.cleanup()
        cls.sink.close()
        if rc != 0:
            raise AssertionError("daemon exited %r\n%s" % (rc, logs))

    def url(self, name):
        return "%s/%s/%s" % (self.daemon.url, ACCOUNT, name)

    def arn(self, name):
        return "arn:aws:sqs:us-east-1:%s:%s" % (ACCOUNT, name)

    def attrs(self, name):
        return self.sqs.get_queue_attributes(QueueUrl=self.url(name),
                                             AttributeNames=["All"])["Attributes"]

    def json10(self, op, payload):
        status, headers, data = self.daemon.request(
            "POST", "/", json.dumps(payload),
            {"X-Amz-Target": "AmazonSQS." + op, "Content-Type": "application/x-amz-json-1.0"})
        return status, {k.lower(): v for k, v in headers.items()}, json.loads(data)

    def query(self, params, path="/"):
        status, headers, data = self.daemon.request(
            "POST", path, urllib.parse.urlencode(params),
            {"Content-Type": "application/x-www-form-urlencoded"})
        return status, data.decode()

    def aws(self, cli, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
        p = subprocess.run([cli, "sqs"] + list(args) + ["--endpoint-url", self.daemon.url,
                                                        "--output", "json"],
                           capture_output=True, env=env, text=True, timeout=60)
        return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr

    def assertSqsError(self, ctx, code, message=None, recorded=True):
        err = ctx.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if message is not None:
            self.assertEqual(err["Message"], message)
            status = ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"]
            if recorded:
                # The expectation itself is what AWS answered, status included.
                self.assertEqual(RECORDED.get((code, message.replace("msgs", "<queue-name>"))),
                                 status, (code, message))


class TestQueueApi(SqsBase):
    def test_lifecycle_boto3(self):
        url = self.sqs.create_queue(QueueName="life", Attributes={"VisibilityTimeout": "5"},
                                    tags={"team": "a"})["QueueUrl"]
        self.assertEqual(url, self.url("life"))
        # The same attributes again: the same queue; another value: QueueAlreadyExists.
        self.assertEqual(self.sqs.create_queue(QueueName="life",
                                               Attributes={"VisibilityTimeout": "5"})["QueueUrl"],
                         url)
        with self.assertRaises(self.sqs.exceptions.ClientError) as ctx:
            self.sqs.create_queue(QueueName="life", Attributes={"DelaySeconds": "3"})
        self.assertSqsError(ctx, "QueueAlreadyExists",
                            "A queue already exists with the same name and a different value "
                            "for attribute DelaySeconds")
        self.assertEqual(self.sqs.get_queue_url(QueueName="life")["QueueUrl"], url)
        self.assertIn(url, self.sqs.list_queues(QueueNamePrefix="li")["QueueUrls"])
        a = self.attrs("life")
        self.assertEqual(a["QueueArn"], self.arn("life"))
        self.assertEqual(a["VisibilityTimeout"], "5")
        self.assertEqual(a["ApproximateNumberOfMessages"], "0")
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0",
                                                                "MessageRetentionPeriod": "120"})
        self.assertEqual(self.attrs("life")["MessageRetentionPeriod"], "120")
        self.sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
        self.sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"env": "dev"})
        self.sqs.delete_queue(QueueUrl=url)
        with self.assertRaises(self.sqs.exceptions.ClientError) as ctx:
            self.sqs.get_queue_url(QueueName="life")
        self.assertSqsError(ctx, "AWS.SimpleQueueService.NonExistentQueue",
                            "The specified queue does not exist.")

    def test_messages_boto3(self):
        url = self.sqs.create_queue(QueueName="msgs")["QueueUrl"]
        attrs = {"s": {"DataType": "String", "StringValue": "héllo"},
                 "n": {"DataType": "Number", "StringValue": "42"},
                 "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"}}
        r = self.sqs.send_message(QueueUrl=url, MessageBody="body ü", MessageAttributes=attrs)
        self.assertEqual(r["MD5OfMessageBody"], hashlib.md5("body ü".encode()).hexdigest())
        self.assertEqual(r["MD5OfMessageAttributes"], md5_attrs(attrs))
        b = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two"}])
        self.assertEqual(sorted(e["Id"] for e in b["Successful"]), ["a", "b"])
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       AttributeNames=["All"], MessageAttributeNames=["All"],
                                       VisibilityTimeout=30)["Messages"]
        self.assertEqual([m["Body"] for m in got], ["body ü", "one", "two"])
        first = got[0]
        self.assertEqual(first["MessageId"], r["MessageId"])
        self.assertEqual(first["MessageAttributes"], attrs)
        self.assertEqual(first["MD5OfMessageAttributes"], md5_attrs(attrs))
        self.assertEqual(first["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertIn("SentTimestamp", first["Attributes"])
        a = self.attrs("msgs")
        self.assertEqual((a["ApproximateNumberOfMessages"],
                          a["ApproximateNumberOfMessagesNotVisible"]), ("0", "3"))
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        d = self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "x", "ReceiptHandle": got[1]["ReceiptHandle"]},
            {"Id": "y", "ReceiptHandle": "not-a-handle"}])
        self.assertEqual([e["Id"] for e in d["Successful"]], ["x"])
        self.assertEqual(d["Failed"][0]["Code"], "ReceiptHandleIsInvalid")
        # The last one back at once through a visibility change, received a second time.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[2]["ReceiptHandle"],
                                           VisibilityTimeout=0)
        again = self.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        self.assertEqual(again[0]["Body"], "two")
        self.assertEqual(again[0]["Attributes"]["ApproximateReceiveCount"], "2")
        self.sqs.purge_queue(QueueUrl=url)
        self.assertEqual(self.attrs("msgs")["ApproximateNumberOfMessagesNotVisible"], "0")
        with self.assertRaises(self.sqs.exceptions.ClientError) as ctx:
            self.sqs.purge_queue(QueueUrl=url)
        self.assertSqsError(ctx, "AWS.SimpleQueueService.PurgeQueueInProgress",
                            "Only one PurgeQueue operation on msgs is allowed every 60 seconds.")

    def test_validation_errors(self):
        url = self.sqs.create_queue(QueueName="val")["QueueUrl"]
        cases = [
            (lambda: self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11),
             "InvalidParameterValue", "Value 11 for parameter MaxNumberOfMessages is invalid. "
             "Reason: Must be between 1 and 10, if provided."),
            (lambda: self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21),
             "InvalidParameterValue", "Value 21 for parameter WaitTimeSeconds is invalid. "
             "Reason: Must be >= 0 and <= 20, if provided."),
            (lambda: self.sqs.send_message(QueueUrl=url, MessageBody=""),
             "MissingParameter", "The request must contain the parameter MessageBody."),
            (lambda: self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes={
                "ErrorDetails": {"DataType": "String", "StringValue": ""}}),
             "InvalidParameterValue", "Message (user) attribute 'ErrorDetails' must contain a "
             "non-empty value of type 'String'."),
            (lambda: self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": "i%d" % i, "MessageBody": "x"} for i in range(20)]),
             "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
             "Maximum number of entries per request are 10. You have sent 20."),
            (lambda: self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": "a b", "MessageBody": "x"}]),
             "AWS.SimpleQueueService.InvalidBatchEntryId",
             "A batch entry id can only contain alphanumeric characters, hyphens and "
             "underscores. It can be at most 80 letters long."),
            (lambda: self.sqs.create_queue(QueueName="std", Attributes={
                "ContentBasedDeduplication": "true"}),
             "InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication."),
            (lambda: self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"}),
             "InvalidAttributeName", "Unknown Attribute FifoQueue."),
        ]
        for call, code, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(self.sqs.exceptions.ClientError) as ctx:
                    call()
                self.assertSqsError(ctx, code, message)

    def test_json10_error_shape(self):
        status, headers, body = self.json10("GetQueueUrl", {"QueueName": "nope"})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "com.amazonaws.sqs#QueueDoesNotExist")
        self.assertEqual(body["message"], "The specified queue does not exist.")
        self.assertEqual(headers["x-amzn-query-error"],
                         "AWS.SimpleQueueService.NonExistentQueue;Sender")
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")
        status, _, body = self.json10("NoSuchThing", {})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "com.amazonaws.sqs#InvalidAction")

    def test_json10_queue_lifecycle(self):
        # As `localbridge deploy` creates queues from a template: JSON 1.0, attributes as
        # strings, a RedrivePolicy naming another queue, tags.
        status, _, body = self.json10("CreateQueue", {"QueueName": "cfn-dlq"})
        self.assertEqual(status, 200, body)
        status, _, body = self.json10("CreateQueue", {
            "QueueName": "cfn-main.fifo",
            "Attributes": {"FifoQueue": "true", "ContentBasedDeduplication": "true",
                           "VisibilityTimeout": "45", "MessageRetentionPeriod": "3600",
                           "DelaySeconds": "0", "ReceiveMessageWaitTimeSeconds": "2"},
            "tags": {"stack": "s1"}})
        self.assertEqual(status, 200, body)
        url = body["QueueUrl"]
        self.assertTrue(url.endswith("/%s/cfn-main.fifo" % ACCOUNT), url)
        # A FIFO source needs a FIFO dead-letter queue.
        status, headers, body = self.json10("SetQueueAttributes", {
            "QueueUrl": url, "Attributes": {"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": self.arn("cfn-dlq"), "maxReceiveCount": "3"})}})
        self.assertEqual(status, 400, body)
        self.assertEqual(headers["x-amzn-query-error"], "InvalidParameterValue;Sender")
        self.json10("CreateQueue", {"QueueName": "cfn-dlq.fifo",
                                    "Attributes": {"FifoQueue": "true"}})
        status, _, body = self.json10("SetQueueAttributes", {
            "QueueUrl": url, "Attributes": {"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": self.arn("cfn-dlq.fifo"), "maxReceiveCount": 3})}})
        self.assertEqual(status, 200, body)
        status, _, body = self.json10("GetQueueAttributes", {
            "QueueUrl": url, "AttributeNames": ["QueueArn", "RedrivePolicy", "VisibilityTimeout",
                                                "FifoQueue"]})
        self.assertEqual(body["Attributes"]["QueueArn"], self.arn("cfn-main.fifo"))
        self.assertEqual(body["Attributes"]["VisibilityTimeout"], "45")
        self.assertEqual(body["Attributes"]["FifoQueue"], "true")
        self.assertEqual(json.loads(body["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"],
                         self.arn("cfn-dlq.fifo"))
        status, _, body = self.json10("ListQueueTags", {"QueueUrl": url})
        self.assertEqual(body["Tags"], {"stack": "s1"})
        # Values as a template has them (numbers, a RedrivePolicy object) are taken as text.
        status, _, body = self.json10("CreateQueue", {
            "QueueName": "cfn-typed", "Attributes": {
                "VisibilityTimeout": 30, "RedrivePolicy": {
                    "deadLetterTargetArn": self.arn("cfn-dlq"), "maxReceiveCount": 4}}})
        self.assertEqual(status, 200, body)
        status, _, body = self.json10("GetQueueAttributes", {
            "QueueUrl": body["QueueUrl"], "AttributeNames": ["All"]})
        self.assertEqual(body["Attributes"]["VisibilityTimeout"], "30")
        self.assertEqual(json.loads(body["Attributes"]["RedrivePolicy"])["maxReceiveCount"], 4)
        status, _, body = self.json10("DeleteQueue", {"QueueUrl": url})
        self.assertEqual((status, body), (200, {}))
        status, _, body = self.json10("GetQueueUrl", {"QueueName": "cfn-main.fifo"})
        self.assertEqual(status, 400)

    def test_query_error_shape(self):
        status, text = self.query({"Action": "GetQueueUrl", "QueueName": "nope"})
        self.assertEqual(status, 400)
        self.assertIn("<ErrorResponse", text)
        self.assertIn("<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
                      "<Message>The specified queue does not exist.</Message>", text)
        # Addressed by the queue's path, as the query protocol allows.
        self.sqs.create_queue(QueueName="bypath")
        status, text = self.query({"Action": "SendMessage", "MessageBody": "<&>"},
                                  "/%s/bypath" % ACCOUNT)
        self.assertEqual(status, 200, text)
        self.assertIn("<MD5OfMessageBody>%s</MD5OfMessageBody>"
                      % hashlib.md5(b"<&>").hexdigest(), text)

    def test_cli_v2_query(self):
        rc, out, err = self.aws(AWS_CLI, "create-queue", "--queue-name", "cli2")
        self.assertEqual(rc, 0, err)
        url = out["QueueUrl"]
        rc, out, err = self.aws(AWS_CLI, "send-message", "--queue-url", url, "--message-body",
                                "from v2")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.aws(AWS_CLI, "receive-message", "--queue-url", url,
                                "--attribute-names", "All")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["Messages"][0]["Body"], "from v2")
        rc, out, err = self.aws(AWS_CLI, "get-queue-url", "--queue-name", "missing")
        self.assertNotEqual(rc, 0)
        self.assertIn("NonExistentQueue", err)

    def test_cli_v1_json10(self):
        cli = cli_v1()
        if not cli:
            self.skipTest("no AWS CLI v1 (set LB_AWS_CLI_V1); JSON 1.0 is covered by raw requests")
        rc, out, err = self.aws(cli, "create-queue", "--queue-name", "cli1")
        self.assertEqual(rc, 0, err)
        url = out["QueueUrl"]
        rc, out, err = self.aws(cli, "send-message", "--queue-url", url, "--message-body", "v1",
                                "--message-attributes",
                                json.dumps({"k": {"DataType": "String", "StringValue": "v"}}))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["MD5OfMessageAttributes"],
                         md5_attrs({"k": {"DataType": "String", "StringValue": "v"}}))
        rc, out, err = self.aws(cli, "receive-message", "--queue-url", url,
                                "--message-attribute-names", "All")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["Messages"][0]["Body"], "v1")
        self.assertEqual(out["Messages"][0]["MessageAttributes"]["k"]["StringValue"], "v")
        rc, out, err = self.aws(cli, "get-queue-url", "--queue-name", "missing")
        self.assertNotEqual(rc, 0)
        self.assertIn("NonExistentQueue", err)


class TestSemantics(SqsBase):
    def test_fifo_order_groups_and_dedup(self):
        url = self.sqs.create_queue(QueueName="order.fifo", Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
        for i in range(4):
            self.sqs.send_message(QueueUrl=url, MessageBody="a%d" % i, MessageGroupId="A")
        self.sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B")
        dup = self.sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="A")
        self.assertEqual(self.attrs("order.fifo")["ApproximateNumberOfMessages"], "5")
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2,
                                       AttributeNames=["All"])["Messages"]
        self.assertEqual([m["Body"] for m in got], ["a0", "a1"])
        self.assertEqual(got[0]["MessageId"], dup["MessageId"])
        self.assertEqual(got[0]["Attributes"]["MessageGroupId"], "A")
        # Group A is locked while a message of it is in flight: B comes next.
        nxt = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([m["Body"] for m in nxt], ["b0"])
        for m in got:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        rest = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([m["Body"] for m in rest], ["a2", "a3"])
        with self.assertRaises(self.sqs.exceptions.ClientError) as ctx:
            self.sqs.send_message(QueueUrl=url, MessageBody="x")
        self.assertSqsError(ctx, "MissingParameter",
                            "The request must contain the parameter MessageGroupId.")
        with self.assertRaises(self.sqs.exceptions.ClientError) as ctx:
            self.sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="A",
                                  DelaySeconds=2)
        self.assertSqsError(ctx, "InvalidParameterValue",
                            "Value 2 for parameter DelaySeconds is invalid. Reason: The request "
                            "include parameter that is not valid for this queue type.")

    def test_redrive_to_dead_letter_queue(self):
        self.sqs.create_queue(QueueName="rd-dlq")
        url = self.sqs.create_queue(QueueName="rd-src", Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": self.arn("rd-dlq"), "maxReceiveCount": 1})})["QueueUrl"]
        self.sqs.send_message(QueueUrl=url, MessageBody="poison")
        first = self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
        self.assertEqual(first[0]["Body"], "poison")
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        moved = self.sqs.receive_message(QueueUrl=self.url("rd-dlq"),
                                         AttributeNames=["All"])["Messages"]
        self.assertEqual(moved[0]["Body"], "poison")
        self.assertEqual(moved[0]["Attributes"]["DeadLetterQueueSourceArn"], self.arn("rd-src"))

    def test_long_poll_woken_by_send(self):
        url = self.sqs.create_queue(QueueName="lp")["QueueUrl"]
        t0 = time.time()
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1))
        self.assertGreaterEqual(time.time() - t0, 0.9)
        result = {}

        def receiver():
            c = self.client()
            t = time.time()
            result["r"] = c.receive_message(QueueUrl=url, WaitTimeSeconds=15)
            result["t"] = time.time() - t

        th = threading.Thread(target=receiver)
        th.start()
        time.sleep(0.5)
        self.sqs.send_message(QueueUrl=url, MessageBody="wake")
        th.join(20)
        self.assertEqual(result["r"]["Messages"][0]["Body"], "wake")
        self.assertLess(result["t"], 8)

    def test_long_poll_of_a_gone_client_takes_nothing(self):
        url = self.sqs.create_queue(QueueName="gone")["QueueUrl"]
        body = json.dumps({"QueueUrl": url, "WaitTimeSeconds": 20})
        s = self.daemon.raw_socket()
        s.sendall(("POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "X-Amz-Target: AmazonSQS.ReceiveMessage\r\n"
                   "Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s"
                   % (self.daemon.port, len(body), body)).encode())
        s.settimeout(0.5)
        with self.assertRaises(OSError):  # parked: no answer yet
            s.recv(100)
        s.close()
        time.sleep(0.3)
        # The parked receive was released when its client went: the message is not taken for
        # it (it would stay invisible for the queue's 30 s).
        self.sqs.send_message(QueueUrl=url, MessageBody="for the living")
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
        self.assertEqual(got["Messages"][0]["Body"], "for the living")

    def test_delayed_message_wakes_long_poll(self):
        url = self.sqs.create_queue(QueueName="delay")["QueueUrl"]
        self.sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
        self.assertEqual(self.attrs("delay")["ApproximateNumberOfMessagesDelayed"], "1")
        t = time.time()
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
        self.assertEqual(got["Messages"][0]["Body"], "later")
        self.assertLess(time.time() - t, 8)


class TestEventBridgeIntoQueues(SqsBase):
    def test_target_envelope_and_fifo(self):
        self.sqs.create_queue(QueueName="eb-in")
        self.sqs.create_queue(QueueName="eb-in.fifo", Attributes={"FifoQueue": "true"})
        self.events.put_rule(Name="to-q", EventPattern=json.dumps({"source": ["shop"]}))
        self.events.put_targets(Rule="to-q", Targets=[
            {"Id": "q", "Arn": self.arn("eb-in")},
            {"Id": "f", "Arn": self.arn("eb-in.fifo"), "SqsParameters": {"MessageGroupId": "g"}},
            {"Id": "t", "Arn": self.arn("eb-in"), "InputPath": "$.detail"}])
        r = self.events.put_events(Entries=[{"Source": "shop", "DetailType": "Order",
                                             "Detail": json.dumps({"id": 7})}])
        event_id = r["Entries"][0]["EventId"]
        got = self.sqs.receive_message(QueueUrl=self.url("eb-in"), MaxNumberOfMessages=10,
                                       WaitTimeSeconds=10)["Messages"]
        while len(got) < 2:
            got += self.sqs.receive_message(QueueUrl=self.url("eb-in"), MaxNumberOfMessages=10,
                                            WaitTimeSeconds=10)["Messages"]
        bodies = sorted((json.loads(m["Body"]) for m in got), key=lambda b: "id" in b)
        env = bodies[0]
        self.assertEqual(env["id"], event_id)
        self.assertEqual(env["source"], "shop")
        self.assertEqual(env["detail-type"], "Order")
        self.assertEqual(env["detail"], {"id": 7})
        self.assertEqual(bodies[1], {"id": 7})
        f = self.sqs.receive_message(QueueUrl=self.url("eb-in.fifo"), WaitTimeSeconds=10,
                                     AttributeNames=["All"])["Messages"]
        self.assertEqual(f[0]["Attributes"]["MessageGroupId"], "g")
        self.assertEqual(f[0]["Attributes"]["MessageDeduplicationId"], event_id)

    def test_dead_letters_into_queue(self):
        self.sqs.create_queue(QueueName="eb-dlq")
        self.events.put_rule(Name="fails", EventPattern=json.dumps({"source": ["bad"]}))
        self.events.put_targets(Rule="fails", Targets=[{
            "Id": "x", "Arn": self.arn("failing"),
            "DeadLetterConfig": {"Arn": self.arn("eb-dlq")},
            "RetryPolicy": {"MaximumRetryAttempts": 0}}])
        self.events.put_events(Entries=[{"Source": "bad", "DetailType": "T", "Detail": "{}"}])
        got = self.sqs.receive_message(QueueUrl=self.url("eb-dlq"), WaitTimeSeconds=15,
                                       MessageAttributeNames=["All"])["Messages"]
        m = got[0]
        a = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
        self.assertEqual(a["RULE_ARN"], "arn:aws:events:us-east-1:%s:rule/fails" % ACCOUNT)
        self.assertEqual(a["TARGET_ARN"], self.arn("failing"))
        self.assertIn("ERROR_CODE", a)
        self.assertIn("ERROR_MESSAGE", a)
        self.assertIn("RETRY_ATTEMPTS", a)
        self.assertEqual(m["MD5OfMessageAttributes"], md5_attrs(m["MessageAttributes"]))
        self.assertEqual(json.loads(m["Body"])["source"], "bad")
        # The DLQ alarm's gauge sees it.
        self.sqs.change_message_visibility(QueueUrl=self.url("eb-dlq"),
                                           ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        status, _, data = self.daemon.request("GET", "/metrics")
        self.assertIn('localbridge_sqs_messages_visible{region="us-east-1",account="%s",'
                      'queue_name="eb-dlq"} 1' % ACCOUNT, data.decode())

    def test_unroutable_target_reported_at_put_targets(self):
        def count():
            _, _, data = self.daemon.request("GET", "/metrics")
            for line in data.decode().splitlines():
                if line.startswith("localbridge_unroutable_targets_total "):
                    return int(line.split()[1])
            raise AssertionError("no localbridge_unroutable_targets_total")
        before = count()
        self.sqs.create_queue(QueueName="routable")
        self.events.put_rule(Name="nowhere", EventPattern=json.dumps({"source": ["none"]}))
        self.events.put_targets(Rule="nowhere", Targets=[
            {"Id": "gone", "Arn": self.arn("no-such-queue"),
             "DeadLetterConfig": {"Arn": self.arn("no-such-dlq")}},
            {"Id": "fine", "Arn": self.arn("routable")}])
        self.assertEqual(count(), before + 2)
        logs = self.daemon.logs()
        self.assertIn("target has no route", logs)
        self.assertIn("no-such-queue", logs)
        self.assertIn("no-such-dlq", logs)

    def test_target_map_wins(self):
        self.sqs.create_queue(QueueName="mapped-q")
        self.events.put_rule(Name="mapped", EventPattern=json.dumps({"source": ["map"]}))
        self.events.put_targets(Rule="mapped", Targets=[{"Id": "m", "Arn": self.arn("mapped-q")}])
        self.events.put_events(Entries=[{"Source": "map", "DetailType": "T", "Detail": "{}"}])
        self.assertEqual(len(self.sink.wait_for("/ok/mapped", 1)), 1)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=self.url("mapped-q")))


class TestDurability(unittest.TestCase):
    def test_kill9_in_flight_reappears_after_timeout(self):
        d = Daemon().start()
        try:
            c = boto3.client("sqs", endpoint_url=d.url, region_name="us-east-1",
                             aws_access_key_id="a", aws_secret_access_key="b",
                             config=Config(retries={"max_attempts": 1}))
            url = c.create_queue(QueueName="dur")["QueueUrl"]
            for i in range(3):
                c.send_message(QueueUrl=url, MessageBody="m%d" % i)
            got = c.receive_message(QueueUrl=url, VisibilityTimeout=4)["Messages"]
            self.assertEqual(got[0]["Body"], "m0")
            received_at = time.time()
            d.kill9()
            d.start()
            c = boto3.client("sqs", endpoint_url=d.url, region_name="us-east-1",
                             aws_access_key_id="a", aws_secret_access_key="b",
                             config=Config(retries={"max_attempts": 1}))
            url = c.get_queue_url(QueueName="dur")["QueueUrl"]
            a = c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            if time.time() - received_at < 3.5:
                self.assertEqual(a["ApproximateNumberOfMessagesNotVisible"], "1")
            rest = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            self.assertEqual(sorted(m["Body"] for m in rest), ["m1", "m2"])
            back = c.receive_message(QueueUrl=url, WaitTimeSeconds=10,
                                     AttributeNames=["All"])["Messages"]
            self.assertGreaterEqual(time.time() - received_at, 3.9)
            self.assertEqual(back[0]["Body"], "m0")
            self.assertEqual(back[0]["Attributes"]["ApproximateReceiveCount"], "2")
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()


class TestSqsSigV4(unittest.TestCase):
    """auth = sigv4: SDKs sign SQS requests for the service "sqs"; the daemon checks them with the
    same keys (it refused them as scoped to the wrong service once)."""

    def test_signed_for_sqs(self):
        import tempfile
        keys_dir = tempfile.mkdtemp(prefix="lb-keys-")
        keys = os.path.join(keys_dir, "callers")
        with open(keys, "w") as f:
            f.write("AKIDQ secretq %s\n" % ACCOUNT)
        d = Daemon(args=["--auth", "sigv4", "--credentials-file", keys]).start()
        try:
            def client(secret):
                return boto3.client("sqs", endpoint_url=d.url, region_name="us-east-1",
                                    aws_access_key_id="AKIDQ", aws_secret_access_key=secret,
                                    config=Config(retries={"max_attempts": 1}))
            url = client("secretq").create_queue(QueueName="signed")["QueueUrl"]
            client("secretq").send_message(QueueUrl=url, MessageBody="ok")
            with self.assertRaises(client("x").exceptions.ClientError):
                client("wrong").send_message(QueueUrl=url, MessageBody="no")
            got = client("secretq").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            self.assertEqual([m["Body"] for m in got["Messages"]], ["ok"])
        finally:
            d.cleanup()
            shutil.rmtree(keys_dir, ignore_errors=True)

"""GET /_localbridge/stream: server-sent events pushed from the commit path (issue 13). An event
appears once it is accepted, filtered by bus, rule and event pattern; deliveries=1 adds each
attempt's outcome; a bad pattern is a ValidationException; a client that stops reading is
dropped instead of being buffered without bound."""
import json
import socket
import time
import urllib.parse

from lbharness import DaemonTestCase, Sink


class SSE:
    """A raw stream reader: frames as (type, data) pairs."""

    def __init__(self, daemon, query=""):
        self.sock = daemon.raw_socket()
        self.sock.sendall(("GET /_localbridge/stream%s HTTP/1.1\r\nHost: x\r\n\r\n" %
                           query).encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])
        self.headers = head.decode()

    def _until(self, sep, timeout=10):
        deadline = time.time() + timeout
        while sep not in self.buf:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("stream closed")
            self.buf += chunk
        part, self.buf = self.buf.split(sep, 1)
        return part

    def frame(self, timeout=10):
        """The next non-comment frame."""
        while True:
            raw = self._until(b"\n\n", timeout).decode()
            fields = {}
            for line in raw.split("\n"):
                if line.startswith(":"):
                    continue
                k, _, v = line.partition(": ")
                fields[k] = v
            if "data" in fields:
                return fields.get("event", "message"), json.loads(fields["data"])

    def frames_until(self, pred, timeout=10):
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            got.append(self.frame(deadline - time.time()))
            if pred(got):
                return got
        raise AssertionError("not seen: %r" % got)

    def close(self):
        self.sock.close()


class Stream(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        cls.daemon_args = ("--target-map", "arn:aws:sqs:*:*:ok -> %s/ok" % cls.sink.url,
                           "--target-map", "arn:aws:sqs:*:*:bad -> %s/status/500" % cls.sink.url,
                           "--retry-base-delay", "20ms", "--retry-max-delay", "50ms")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.sink.close()

    def setUp(self):
        self.daemon.request("POST", "/_localbridge/reset", "{}")
        self.c = self.events_client

    def put(self, source="app", bus=None, detail=None):
        e = {"Source": source, "DetailType": "t", "Detail": json.dumps(detail or {"n": 1})}
        if bus:
            e["EventBusName"] = bus
        out = self.c.put_events(Entries=[e])
        return out["Entries"][0]["EventId"]

    def test_an_accepted_event_is_pushed_with_the_rules_it_matched(self):
        self.c.put_rule(Name="r1", EventPattern='{"source":["app"]}')
        s = SSE(self.daemon)
        try:
            self.assertEqual(s.status, 200)
            self.assertIn("text/event-stream", s.headers)
            event_id = self.put()
            kind, data = s.frame()
            self.assertEqual(kind, "event")
            self.assertEqual(data["id"], event_id)
            self.assertEqual((data["bus"], data["source"], data["detail-type"]), ("default", "app", "t"))
            self.assertEqual(data["rules"], ["r1"])
            self.assertEqual(data["envelope"]["detail"], {"n": 1})
            self.assertTrue(data["received"].endswith("Z"))
        finally:
            s.close()

    def test_filters_by_bus_rule_and_pattern(self):
        self.c.create_event_bus(Name="other")
        self.c.put_rule(Name="only-b", EventPattern='{"source":["b"]}')
        by_bus = SSE(self.daemon, "?bus=other")
        by_rule = SSE(self.daemon, "?rule=only-b")
        pattern = urllib.parse.quote('{"detail":{"n":[2]}}')
        by_pattern = SSE(self.daemon, "?pattern=" + pattern)
        try:
            self.put("a")
            self.put("b")
            on_other = self.put("c", bus="other")
            two = self.put("d", detail={"n": 2})
            self.assertEqual(by_bus.frame()[1]["id"], on_other)
            self.assertEqual(by_rule.frame()[1]["source"], "b")
            self.assertEqual(by_pattern.frame()[1]["id"], two)
            # Nothing else was sent to the filtered streams: the next frame is a later event.
            last = self.put("b", bus="other")
            self.assertEqual(by_bus.frame()[1]["id"], last)
        finally:
            by_bus.close()
            by_rule.close()
            by_pattern.close()

    def test_deliveries_show_each_attempt_and_its_outcome(self):
        self.c.put_rule(Name="r", EventPattern='{"source":["app"]}')
        self.c.put_targets(Rule="r", Targets=[
            {"Id": "good", "Arn": "arn:aws:sqs:us-east-1:000000000000:ok"},
            {"Id": "bad", "Arn": "arn:aws:sqs:us-east-1:000000000000:bad",
             "RetryPolicy": {"MaximumRetryAttempts": 1}}])
        s = SSE(self.daemon, "?deliveries=1")
        try:
            event_id = self.put()
            frames = s.frames_until(lambda got: sum(
                1 for k, d in got if k == "delivery" and d["status"] in ("SUCCEEDED", "DEAD_LETTERED")) == 2)
            self.assertEqual(frames[0][0], "event")
            deliveries = [d for k, d in frames if k == "delivery"]
            for d in deliveries:
                self.assertEqual(d["event_id"], event_id)
                self.assertEqual(d["rule"], "r")
            good = [d for d in deliveries if d["target_id"] == "good"]
            bad = [d for d in deliveries if d["target_id"] == "bad"]
            self.assertEqual([(d["status"], d["http_status"], d["attempt"]) for d in good],
                             [("SUCCEEDED", 200, 1)])
            self.assertEqual([(d["status"], d["http_status"]) for d in bad],
                             [("RETRYING", 500), ("DEAD_LETTERED", 500)])
            self.assertIn("TARGET_SERVER_ERROR", bad[-1]["error"])
            self.assertIsInstance(good[0]["latency_ms"], int)
        finally:
            s.close()

    def test_a_bad_pattern_is_a_validation_error(self):
        status, _, data = self.daemon.request("GET", "/_localbridge/stream?pattern=" +
                                              urllib.parse.quote('{"source":"app"}'))
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["__type"], "ValidationException")

    def test_a_client_that_does_not_read_is_dropped(self):
        s = SSE(self.daemon)
        s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            big = {"pad": "x" * 200000}
            # Several MiB of frames to a client that reads nothing: the daemon drops it once
            # its queue passes 1 MiB (the kernel buffers hold a little more).
            for _ in range(40):
                self.put(detail=big)
            deadline = time.time() + 10
            while time.time() < deadline:
                st = json.loads(self.daemon.request("GET", "/_localbridge/status")[2])
                if st["stream_subscribers"] == 0:
                    break
                time.sleep(0.05)
            self.assertEqual(st["stream_subscribers"], 0)
            # The daemon is fine and the next stream works.
            s2 = SSE(self.daemon)
            event_id = self.put()
            self.assertEqual(s2.frame()[1]["id"], event_id)
            s2.close()
        finally:
            s.close()

    def test_a_closed_client_is_forgotten(self):
        s = SSE(self.daemon)
        s.close()
        deadline = time.time() + 5
        while time.time() < deadline:
            st = json.loads(self.daemon.request("GET", "/_localbridge/status")[2])
            if st["stream_subscribers"] == 0:
                break
            time.sleep(0.02)
        self.assertEqual(st["stream_subscribers"], 0)

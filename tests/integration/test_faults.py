"""Faults: targets that fail every way at once, hostile clients, and a full or read-only disk.
The daemon keeps serving PutEvents throughout, keeps its memory bounded, follows each target's
retry policy into the dead-letter store, answers bad input with a clear error or a closed
connection, and never loses what it acknowledged."""
import contextlib
import errno
import json
import os
import resource
import select
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from lbharness import Daemon, QuietSink, Sink, vm_rss_kb

QUEUE = "arn:aws:sqs:us-east-1:000000000000:"


def entry(source, detail=None, detail_type="Fault"):
    return {"Source": source, "DetailType": detail_type,
            "Detail": json.dumps(detail if detail is not None else {"n": 1})}


def free_port():
    """A port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


# ---- failing targets ----------------------------------------------------------------------

# name -> (sink path or None for a refused port, MaximumRetryAttempts, ERROR_CODE,
#          EXHAUSTED_RETRY_CONDITION or None for a non-retryable failure)
FAILURES = {
    "e500": ("status/500", 2, "TARGET_SERVER_ERROR", "MaximumRetryAttempts"),
    "e429": ("status/429", 2, "THROTTLING", "MaximumRetryAttempts"),
    "e400": ("status/400", 2, "TARGET_CLIENT_ERROR", None),
    "refused": (None, 2, "CONNECTION_ERROR", "MaximumRetryAttempts"),
    "reset": ("reset", 2, "CONNECTION_ERROR", "MaximumRetryAttempts"),
    "hang": ("hang", 2, "TIMEOUT", "MaximumRetryAttempts"),
    "trickle": ("slow/3000", 1, "TIMEOUT", "MaximumRetryAttempts"),
}


class FailingTargets(unittest.TestCase):
    def setUp(self):
        self.sink = QuietSink()
        self.d = Daemon()
        self.refused = "http://127.0.0.1:%d/down" % free_port()
        conf = os.path.join(self.d.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("retry_base_delay = 50ms\nretry_max_delay = 200ms\ndelivery_timeout = 1s\n")
            for name, (path, _, _, _) in FAILURES.items():
                url = self.refused if path is None else "%s/%s" % (self.sink.url, path)
                f.write("target_map = %s%s -> %s\n" % (QUEUE, name, url))
            f.write("target_map = %sslowok -> %s/slow/300\n" % (QUEUE, self.sink.url))
            f.write("target_map = %sload -> %s\n" % (QUEUE, self.refused))
        self.d.args = ["--config", conf]
        self.d.start()
        self.c = self.d.client()

    def tearDown(self):
        rc = self.d.stop()
        logs = self.d.logs()
        self.d.cleanup()
        self.sink.close()
        self.assertEqual(rc, 0, logs[-3000:])

    def dead_letters(self, rule):
        """Every dead letter of the rule, following NextToken across pages."""
        out, token = [], None
        while True:
            path = "/_localbridge/dead-letters?rule=%s&limit=100000" % rule
            if token:
                path += "&next_token=" + urllib.parse.quote(token)
            status, _, data = self.d.request("GET", path)
            self.assertEqual(status, 200)
            page = json.loads(data)
            out += page["DeadLetters"]
            token = page.get("NextToken")
            if not token:
                return out

    def put_timed(self, conn, entries):
        t0 = time.monotonic()
        conn.request("POST", "/", json.dumps({"Entries": entries}),
                     {"X-Amz-Target": "AWSEvents.PutEvents",
                      "Content-Type": "application/x-amz-json-1.1"})
        resp = conn.getresponse()
        body = json.loads(resp.read())
        elapsed = time.monotonic() - t0
        self.assertEqual(resp.status, 200, body)
        self.assertEqual(body["FailedEntryCount"], 0, body)
        return elapsed

    def test_every_failure_at_once(self):
        import http.client
        pattern = json.dumps({"source": ["faults"]})
        for name, (_, retries, _, _) in FAILURES.items():
            self.c.put_rule(Name=name, EventPattern=pattern)
            self.c.put_targets(Rule=name, Targets=[{
                "Id": "t", "Arn": QUEUE + name,
                "RetryPolicy": {"MaximumRetryAttempts": retries,
                                "MaximumEventAgeInSeconds": 3600}}])
        self.c.put_rule(Name="slowok", EventPattern=pattern)
        self.c.put_targets(Rule="slowok", Targets=[{"Id": "t", "Arn": QUEUE + "slowok"}])
        self.c.put_rule(Name="load", EventPattern=json.dumps({"source": ["load"]}))
        self.c.put_targets(Rule="load", Targets=[{"Id": "t", "Arn": QUEUE + "load",
                                                   "RetryPolicy": {"MaximumRetryAttempts": 0}}])
        # Warm-up, so the baseline includes the allocator's steady state.
        conn = http.client.HTTPConnection(self.d.host, self.d.port, timeout=10)
        for _ in range(30):
            self.put_timed(conn, [entry("load")] * 10)
        conn.close()
        time.sleep(0.5)
        rss_before = vm_rss_kb(self.d.proc.pid)

        n_fault = 10
        r = self.c.put_events(Entries=[entry("faults", {"k": i}) for i in range(n_fault)])
        self.assertEqual(r["FailedEntryCount"], 0)
        fault_ids = {e["EventId"] for e in r["Entries"]}
        fault_sent = time.monotonic()

        # While the hanging and trickling targets hold their connections (three and two
        # attempts of a 1 s timeout each), two clients keep sending.
        latencies, errors, lock = [], [], threading.Lock()

        def load():
            c = http.client.HTTPConnection(self.d.host, self.d.port, timeout=10)
            mine = []
            try:
                while time.monotonic() - fault_sent < 1.5:
                    mine.append(self.put_timed(c, [entry("load", {"p": "x" * 200})] * 10))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                c.close()
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        # The slow targets really were still in flight during the load.
        self.assertEqual(self.dead_letters("hang"), [])
        self.assertGreater(len(latencies), 50)
        p99 = percentile(latencies, 0.99)
        self.assertLess(p99, 0.5, "PutEvents p99 %.3fs while targets hang" % p99)
        n_load = len(latencies) * 10

        # Every failure follows its retry policy into the dead-letter store.
        deadline = time.time() + 40
        while time.time() < deadline:
            if all(len(self.dead_letters(n)) >= n_fault for n in FAILURES) and \
                    len(self.dead_letters("load")) >= n_load + 300:
                break
            time.sleep(0.2)
        for name, (path, retries, code, exhausted) in FAILURES.items():
            dead = self.dead_letters(name)
            self.assertEqual({d["EventId"] for d in dead}, fault_ids, name)
            self.assertEqual(len(dead), n_fault, name)
            attempts = 1 if exhausted is None else retries + 1
            for d in dead:
                self.assertEqual(d["ERROR_CODE"], code, (name, d))
                self.assertEqual(d.get("EXHAUSTED_RETRY_CONDITION"), exhausted, (name, d))
                self.assertEqual(d["RETRY_ATTEMPTS"], attempts - 1, (name, d))
                self.assertEqual(d["TargetArn"], QUEUE + name)
            if path is None:
                continue
            sent = len(self.sink.requests("/" + path))
            if name == "reset":
                # curl silently resends a request once when a reused keep-alive connection
                # dies under it, so one attempt may reach the target twice.
                self.assertTrue(n_fault * attempts <= sent <= 2 * n_fault * attempts, sent)
            else:
                self.assertEqual(sent, n_fault * attempts, name)
        for d in self.dead_letters("e500"):
            self.assertIn("500", d["ERROR_MESSAGE"])
        # The slow but timely target got everything, and nothing of it was dead-lettered.
        self.assertEqual(len(self.sink.wait_for("/slow/300", n_fault)), n_fault)
        self.assertEqual(self.dead_letters("slowok"), [])
        self.assertEqual(len(self.dead_letters("load")), n_load + 300)

        # Memory stays bounded: thousands of events and their failed deliveries later, the
        # resident set has not grown by more than a few MiB per thousand events.
        rss_after = vm_rss_kb(self.d.proc.pid)
        growth_mb = (rss_after - rss_before) / 1024.0
        # Under ASan, freed memory sits in its quarantine: RSS says nothing about our bounds there
        # (leaks are LeakSanitizer's job in that build).
        if not os.environ.get("LB_SANITIZED"):
            self.assertLess(growth_mb, 32, "RSS %d -> %d KiB after %d events"
                            % (rss_before, rss_after, n_load))
        self.assertIsNone(self.d.proc.poll())
        print("\n  faults: %d load events, PutEvents p50 %.1f ms p99 %.1f ms, RSS %+.1f MiB"
              % (n_load, percentile(latencies, 0.5) * 1000, p99 * 1000, growth_mb))


# ---- hostile clients -----------------------------------------------------------------------

def read_response(sock, timeout=5.0):
    """Reads what the daemon sends until it closes the connection (or timeout): returns
    (status or None, body bytes, closed)."""
    sock.settimeout(timeout)
    data, closed = b"", False
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    status = None
    if data.startswith(b"HTTP/1.1 "):
        status = int(data[9:12])
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return status, body, closed


def readable(socks, timeout):
    """The sockets among socks with something to read (poll: fds may be past FD_SETSIZE)."""
    p = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        p.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return [by_fd[fd] for fd, _ in p.poll(timeout * 1000)]


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return True
    target = want if hard == resource.RLIM_INFINITY or hard >= want else hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return False
    return target >= want


class HostileClients(unittest.TestCase):
    """One daemon with a short request timeout; each test checks that a normal client is
    served while the hostile ones are at it."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(args=["--request-timeout", "1s", "--idle-timeout", "2s"]).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        logs = cls.d.logs()
        cls.d.cleanup()
        if rc != 0:
            raise AssertionError("daemon exited %r\n%s" % (rc, logs[-3000:]))

    def assert_served(self, max_seconds=1.0):
        t0 = time.monotonic()
        status, body, _ = self.d.api("PutEvents", {"Entries": [entry("normal")]})
        elapsed = time.monotonic() - t0
        self.assertEqual(status, 200, body)
        self.assertEqual(body["FailedEntryCount"], 0)
        self.assertLess(elapsed, max_seconds)
        self.assertIsNone(self.d.proc.poll())
        return body["Entries"][0]["EventId"]

    def raw(self, data):
        s = self.d.raw_socket()
        s.sendall(data)
        return s

    def put_headers(self, length, extra=b""):
        return (b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSEvents.PutEvents\r\n"
                b"Content-Type: application/x-amz-json-1.1\r\n" + extra +
                b"Content-Length: %d\r\n\r\n" % length)

    def test_truncated_body_then_close(self):
        body = json.dumps({"Entries": [entry("truncated")]}).encode()
        s = self.raw(self.put_headers(len(body) + 500) + body)
        s.shutdown(socket.SHUT_WR)
        self.assert_served()
        status, _, closed = read_response(s, 3)
        s.close()
        self.assertTrue(closed)
        self.assertIn(status, (None, 400))  # closed without an answer, or a 400
        self.assertEqual([e for e in self.d.events(limit=1000) if e["source"] == "truncated"], [])

    def test_truncated_body_left_open_times_out(self):
        body = json.dumps({"Entries": [entry("truncated2")]}).encode()
        s = self.raw(self.put_headers(len(body) + 500) + body)
        t0 = time.monotonic()
        self.assert_served()
        status, body, closed = read_response(s, 5)
        s.close()
        self.assertEqual(status, 408, body)
        self.assertTrue(closed)
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assertEqual(json.loads(body)["__type"], "RequestTimeoutException")
        self.assertEqual([e for e in self.d.events(limit=1000) if e["source"] == "truncated2"], [])

    def test_oversized_bodies_get_413(self):
        # Announced too large: refused before the body is read.
        s = self.raw(self.put_headers(2 * 1024 * 1024))
        status, body, closed = read_response(s, 3)
        s.close()
        self.assertEqual(status, 413)
        self.assertTrue(closed)
        self.assertEqual(json.loads(body)["__type"], "RequestEntityTooLargeException")
        # Chunked, so the size shows only while it streams in.
        s = self.raw(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSEvents.PutEvents\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 65536
        try:
            for _ in range(40):
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, body, closed = read_response(s, 3)
        s.close()
        self.assertIn(status, (413, None))  # the 413, unless a reset beat it to the client
        self.assertTrue(closed)
        self.assert_served()

    def test_invalid_utf8(self):
        for raw in (b'{"Entries":[{"Source":"\xff\xfe","DetailType":"t","Detail":"{}"}]}',
                    b'{"Entries":[{"Source":"s","DetailType":"t","Detail":"{\\"a\\":\\"\xc3\x28\\"}"}]}',
                    b'{"Entries":[{"Source":"s\xed\xa0\x80","DetailType":"t","Detail":"{}"}]}'):
            status, body, _ = self.d.api("PutEvents", raw)
            self.assertEqual((status, body["__type"]), (400, "SerializationException"), raw)
        # A lone surrogate escape is valid JSON text but no Unicode: a per-entry error.
        status, body, _ = self.d.api("PutEvents", '{"Entries":[{"Source":"s","DetailType":"t",'
                                                  '"Detail":"{\\"a\\":\\"\\\\ud800\\"}"}]}')
        self.assertEqual(status, 200)
        self.assertEqual(body["Entries"][0]["ErrorCode"], "MalformedDetail")
        self.assert_served()

    def test_deep_nesting(self):
        deep = "[" * 100000 + "]" * 100000
        status, body, _ = self.d.api("PutEvents", '{"Entries":' + deep + '}')
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        status, body, _ = self.d.api("PutEvents", {"Entries": [{"Source": "s", "DetailType": "t",
                                                                "Detail": deep}]})
        self.assertEqual(status, 200)
        self.assertEqual(body["Entries"][0]["ErrorCode"], "MalformedDetail")
        status, body, _ = self.d.api("PutRule", {"Name": "deep", "EventPattern":
                                                 '{"a":' * 5000 + '1' + '}' * 5000})
        self.assertEqual(status, 400, body)
        self.assert_served()

    def test_huge_numbers_in_time(self):
        for t in ("1e308", "1e999", "-1e999", "9" * 400):
            status, body, _ = self.d.api("PutEvents", '{"Entries":[{"Source":"s","DetailType":'
                                                      '"t","Detail":"{}","Time":%s}]}' % t)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["Entries"][0]["ErrorCode"], "InvalidArgument", t)
        self.assert_served()

    # Regression: out-of-range numbers in Detail used to be stored as null.
    def test_huge_numbers_in_detail_are_kept_or_refused(self):
        for n in ("1e999999", "9" * 400, "-1e400"):
            status, body, _ = self.d.api("PutEvents", {"Entries": [{
                "Source": "huge", "DetailType": "t", "Detail": '{"n":%s}' % n}]})
            self.assertEqual(status, 200, body)
            res = body["Entries"][0]
            if "ErrorCode" in res:
                self.assertEqual(res["ErrorCode"], "MalformedDetail")
                continue
            stored = [e for e in self.d.events(limit=100) if e["id"] == res["EventId"]][0]
            # Kept as sent (any faithful rendering of the number), never turned into null.
            self.assertIsNotNone(stored["detail"]["n"], n)

    def test_slowloris_clients_time_out(self):
        n = 30
        socks = [self.raw(b"POST / HTTP/1.1\r\nHost: localhost\r\n") for _ in range(n)]
        t0 = time.monotonic()
        answered = {}
        # Trickle one header byte per socket every 100 ms, well past the 1 s request timeout.
        while time.monotonic() - t0 < 3.0 and len(answered) < n:
            for i, s in enumerate(socks):
                if i in answered:
                    continue
                try:
                    s.sendall(b"X")
                except OSError:
                    answered[i] = (None, True)
            for s in readable([s for i, s in enumerate(socks) if i not in answered], 0.1):
                answered[socks.index(s)] = read_response(s, 1)[::2]
            if time.monotonic() - t0 > 0.5 and not hasattr(self, "_served"):
                self._served = self.assert_served()
        for s in socks:
            s.close()
        self.assertEqual(len(answered), n, "slowloris connections still open after 3 s")
        for status, closed in answered.values():
            self.assertIn(status, (408, None))
            self.assertTrue(closed)
        self.assertGreaterEqual(sum(1 for st, _ in answered.values() if st == 408), n // 2)
        self.assert_served()

    def test_trickled_blank_lines_do_not_hold_a_connection(self):
        # Blank lines before a request line are skipped by the parser, so no request starts;
        # they must not keep renewing the idle timeout either.
        s = self.raw(b"\r\n")
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < 6.0:
            try:
                s.sendall(b"\r\n")
            except OSError:
                closed = True
                break
            if readable([s], 0.2):
                closed = read_response(s, 1)[2]
                break
        s.close()
        self.assertTrue(closed, "a client trickling CRLFs kept its connection for 6 s")
        self.assertLess(time.monotonic() - t0, 4.0)
        self.assert_served()


class ManyIdleConnections(unittest.TestCase):
    IDLE = 2000
    LIMIT = 2100

    def setUp(self):
        if not raise_nofile(self.LIMIT * 2 + 200):
            self.skipTest("cannot raise RLIMIT_NOFILE to %d here" % (self.LIMIT * 2 + 200))
        self.d = Daemon(args=["--max-connections", str(self.LIMIT), "--idle-timeout", "60s"])
        self.d.start()
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        rc = self.d.stop()
        logs = self.d.logs()
        self.d.cleanup()
        self.assertEqual(rc, 0, logs[-3000:])

    def test_thousands_of_idle_connections(self):
        for _ in range(self.IDLE):
            self.socks.append(socket.create_connection((self.d.host, self.d.port), timeout=10))
        # The daemon accepts in order: once this answers, all of them are in.
        self.assertEqual(self.d.request("GET", "/health")[0], 200)
        t0 = time.monotonic()
        status, body, _ = self.d.api("PutEvents", {"Entries": [entry("idle")]})
        self.assertEqual(status, 200, body)
        self.assertLess(time.monotonic() - t0, 1.0)
        # Past max_connections: a 503 and a close, not a hang.
        extra = [socket.create_connection((self.d.host, self.d.port), timeout=10)
                 for _ in range(200)]
        self.socks += extra
        refused = []
        deadline = time.time() + 5
        pending = list(extra)
        while pending and time.time() < deadline:
            ready = readable(pending, 0.5)
            if not ready:
                break
            for s in ready:
                refused.append(read_response(s, 2))
                pending.remove(s)
        over = self.IDLE + len(extra) - self.LIMIT
        self.assertTrue(over - 3 <= len(refused) <= over, len(refused))
        for status, body, closed in refused:
            self.assertEqual(status, 503)
            self.assertEqual(json.loads(body)["__type"], "ServiceUnavailableException")
            self.assertTrue(closed)
        # Idle ones are still open, and closing them all frees the daemon.
        for s in self.socks:
            s.close()
        self.socks = []
        deadline = time.time() + 5
        while time.time() < deadline:
            status, body, _ = self.d.api("PutEvents", {"Entries": [entry("idle")] * 10})
            if status == 200:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["FailedEntryCount"], 0)


# ---- full and read-only disk -----------------------------------------------------------------

@contextlib.contextmanager
def sigxfsz_ignored():
    """Daemons started inside get SIGXFSZ ignored (subprocess resets it to the default before
    exec), so a write past RLIMIT_FSIZE fails with EFBIG instead of killing the process."""
    orig = subprocess.Popen

    def popen(*args, **kw):
        kw.setdefault("preexec_fn", lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN))
        return orig(*args, **kw)

    subprocess.Popen = popen
    try:
        yield
    finally:
        subprocess.Popen = orig


class DiskFaults(unittest.TestCase):
    """The data dir is a small tmpfs, filled up with a filler file or remounted read-only.
    Where mounting is not permitted (or LB_TEST_NO_MOUNT=1), disk full is emulated with the
    daemon's RLIMIT_FSIZE (set and lifted with prlimit) and the read-only case is skipped."""

    def setUp(self):
        self.d = Daemon()
        self.var = os.path.join(self.d.data_dir, "var")
        os.makedirs(self.var)
        self.mounted = False
        if os.environ.get("LB_TEST_NO_MOUNT") != "1" and os.geteuid() == 0:
            p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", self.var],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.mounted = p.returncode == 0
        self.filler = None
        self.acked = []

    def tearDown(self):
        if self.d.proc:
            self.d.kill9()
        if self.mounted:
            subprocess.run(["umount", "-l", self.var])
        self.d.cleanup()

    def start(self):
        with sigxfsz_ignored():
            self.d.start()

    def put(self, n=10, pad=2000):
        status, body, _ = self.d.api("PutEvents", {"Entries": [
            entry("disk", {"k": len(self.acked), "p": "x" * pad})] * n})
        if status == 200:
            self.assertEqual(body["FailedEntryCount"], 0, body)
            self.acked += [e["EventId"] for e in body["Entries"]]
        else:
            self.assertEqual(status, 500, body)
            self.assertEqual(body["__type"], "InternalException", body)
            self.assertIn("could not be stored", body["message"])
        return status

    def fill(self):
        if self.mounted:
            self.filler = open(os.path.join(self.var, "filler"), "wb")
            block = b"\0" * 65536
            try:
                while True:
                    self.filler.write(block)
                    self.filler.flush()
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOSPC)
            # What the buffer still held may not fit either.
            with contextlib.suppress(OSError):
                self.filler.close()
        else:
            biggest = max(os.path.getsize(os.path.join(self.var, f)) for f in os.listdir(self.var))
            resource.prlimit(self.d.proc.pid, resource.RLIMIT_FSIZE,
                             (biggest, resource.RLIM_INFINITY))

    def unfill(self):
        if self.mounted:
            os.unlink(os.path.join(self.var, "filler"))
        else:
            resource.prlimit(self.d.proc.pid, resource.RLIMIT_FSIZE,
                             (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    def assert_all_acked_stored(self):
        stored = [e["id"] for e in self.d.events(limit=1000000)]
        self.assertEqual(len(stored), len(set(stored)))
        self.assertEqual(set(self.acked) - set(stored), set(), "acknowledged events lost")

    def test_disk_full_then_space_returns(self):
        self.start()
        for _ in range(5):
            self.assertEqual(self.put(), 200)
        self.fill()
        statuses = []
        for _ in range(400):  # 8 MB of events: far more than any space left
            statuses.append(self.put())
            if statuses[-1] == 500:
                break
        self.assertEqual(statuses[-1], 500, "PutEvents never failed on a full disk")
        for _ in range(5):  # still full: errors (or successes) but never a crash
            self.put()
        self.assertIsNone(self.d.proc.poll(), "the daemon died on a full disk")
        self.assertEqual(self.d.request("GET", "/health")[0], 200)
        self.assert_all_acked_stored()
        self.assertIn("full", self.d.logs().lower() if self.mounted else "full")
        self.unfill()
        statuses = [self.put(n=1, pad=10) for _ in range(3)]
        self.assertEqual(statuses, [200] * 3, "service did not resume when space returned")
        for _ in range(20):
            self.assertEqual(self.put(), 200)
        self.assert_all_acked_stored()
        self.assertEqual(self.d.stop(), 0, self.d.logs()[-3000:])
        self.start()
        self.assert_all_acked_stored()
        self.assertEqual(self.put(), 200)
        self.assertEqual(self.d.stop(), 0)

    def test_b5_failure_on_a_full_disk_is_dead_lettered_once_space_returns(self):
        """Regression (B5): a delivery that failed for good while the disk was full was neither
        dead-lettered nor retried until a restart (its outcome was dropped with a log line
        saying it would be resent). Its outcome is now written again until the store takes it."""
        sink = Sink()
        try:
            conf = os.path.join(self.d.data_dir, "lb.conf")
            with open(conf, "w") as f:
                f.write("delivery_timeout = 2s\n")
                f.write("target_map = %shang -> %s/hang\n" % (QUEUE, sink.url))
            self.d.args = ["--config", conf]
            self.start()
            c = self.d.client()
            c.put_rule(Name="hang", EventPattern=json.dumps({"source": ["disk"]}))
            c.put_targets(Rule="hang", Targets=[{"Id": "t", "Arn": QUEUE + "hang",
                                                  "RetryPolicy": {"MaximumRetryAttempts": 0}}])
            self.assertEqual(self.put(n=1, pad=10), 200)
            # The attempt is under way (the target hangs) when the disk fills; it times out and
            # fails for good while nothing can be written.
            self.fill()
            time.sleep(3)
            self.assertIsNone(self.d.proc.poll())
            self.unfill()
            deadline = time.time() + 15
            dead = []
            while time.time() < deadline and not dead:
                status, _, data = self.d.request("GET", "/_localbridge/dead-letters?rule=hang")
                self.assertEqual(status, 200)
                dead = json.loads(data)["DeadLetters"]
                time.sleep(0.2)
            self.assertEqual(len(dead), 1, "the dead letter never reached the store")
            self.assertEqual(dead[0]["ERROR_CODE"], "TIMEOUT")
            self.assertEqual(dead[0]["EventId"], self.acked[0])
            self.assertEqual(self.d.stop(), 0, self.d.logs()[-3000:])
        finally:
            sink.close()

    def test_read_only_data_dir(self):
        if not self.mounted:
            self.skipTest("mounting a tmpfs is not permitted here, so the data dir cannot be "
                          "made read-only under a root daemon")
        self.start()
        for _ in range(5):
            self.assertEqual(self.put(), 200)
        # A file system with files open for writing cannot be remounted read-only (EBUSY):
        # the daemon is stopped, the data dir remounted read-only, and the daemon restarted.
        self.assertEqual(self.d.stop(), 0)
        subprocess.run(["mount", "-o", "remount,ro", self.var], check=True)
        try:
            self.start()
        except RuntimeError:
            # Refusing to start on a read-only store is fine too, if it says why.
            self.assertIn("store", self.d.logs())
        else:
            for _ in range(3):
                self.assertEqual(self.put(n=1, pad=10), 500)
            self.assertIn("readonly", self.d.logs().replace("read-only", "readonly")
                          .replace("read only", "readonly"))
            self.assert_all_acked_stored()  # reads still work
            self.assertEqual(self.d.request("GET", "/health")[0], 200)
            self.assertEqual(self.d.stop(), 0, self.d.logs()[-3000:])
        subprocess.run(["mount", "-o", "remount,rw", self.var], check=True)
        self.start()
        self.assert_all_acked_stored()
        for _ in range(3):
            self.assertEqual(self.put(), 200)
        self.assert_all_acked_stored()
        self.assertEqual(self.d.stop(), 0)

"""B6: clients that pipeline big listings and never read the answers. Four connections each
sending 600 `GET /_localbridge/events?limit=1000000` grew the daemon from 18 MB to 1.4 GB (and
kept it after they closed) and stalled /health for over a second. Now a connection whose
unwritten responses pass a bound is not read from until it drains, a listing page is capped in
bytes, and big buffers go back to the system when freed."""
import json
import os
import socket
import statistics
import threading
import time
import unittest

from lbharness import Daemon, vm_rss_kb

CONNECTIONS = 4
PIPELINED = 600
REQUEST = b"GET /_localbridge/events?limit=1000000 HTTP/1.1\r\nHost: localhost\r\n\r\n"


class SlowReaders(unittest.TestCase):
    def setUp(self):
        self.d = Daemon().start()

    def tearDown(self):
        self.d.cleanup()

    def fill_store(self):
        # About 600 KB of events: every listing answer is that big.
        pad = "x" * 900
        for i in range(60):
            status, body, _ = self.d.api("PutEvents", {"Entries": [
                {"Source": "slow", "DetailType": "fill", "Detail": json.dumps({"i": i, "p": pad})}
            ] * 10})
            self.assertEqual(status, 200, body)

    def health_latency_ms(self):
        t0 = time.monotonic()
        status, _, _ = self.d.request("GET", "/health", timeout=10)
        self.assertEqual(status, 200)
        return (time.monotonic() - t0) * 1000

    def test_b6_slow_readers_keep_memory_bounded_and_health_fast(self):
        self.fill_store()
        self.assertEqual(len(self.d.events(limit=1000000)), 600)
        pid = self.d.proc.pid
        baseline = vm_rss_kb(pid)

        socks = []
        for _ in range(CONNECTIONS):
            s = socket.socket()
            # A small receive window, so the kernel does not absorb what the client never reads.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect((self.d.host, self.d.port))
            socks.append(s)

        def flood(s):
            s.settimeout(20)
            try:
                s.sendall(REQUEST * PIPELINED)  # blocks once the daemon stops reading: fine
            except OSError:
                pass

        senders = [threading.Thread(target=flood, args=(s,), daemon=True) for s in socks]
        for t in senders:
            t.start()

        peak, latencies = baseline, []
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            latencies.append(self.health_latency_ms())
            peak = max(peak, vm_rss_kb(pid))
            time.sleep(0.05)

        for s in socks:
            s.close()
        for t in senders:
            t.join(5)
        time.sleep(1.0)
        after = vm_rss_kb(pid)
        # Recorded for the report: visible with -v or on failure.
        summary = ("baseline %d KB, peak %d KB, after close %d KB; /health median %.1f ms, "
                   "max %.1f ms over %d probes" % (baseline, peak, after,
                                                    statistics.median(latencies), max(latencies),
                                                    len(latencies)))
        print("\n  B6: " + summary)
        self.assertLess(max(latencies), 200, summary)
        # Under ASan, freed memory sits in its quarantine: RSS says nothing about our bounds.
        if not os.environ.get("LB_SANITIZED"):
            self.assertLess(peak - baseline, 100 * 1024, summary)
            self.assertLess(after - baseline, 30 * 1024, summary)
        # The daemon is still fine.
        self.assertEqual(self.d.request("GET", "/health")[0], 200)
        self.assertEqual(self.d.stop(), 0)


if __name__ == "__main__":
    unittest.main()

"""Crash safety: kill -9 at a random moment while several clients send PutEvents (1- and
10-entry requests, some with invalid entries, some invalid as a whole), restart on the same data
directory, over and over. After every restart: each acknowledged event is stored exactly once,
nothing is half-written (a request that got an error or no answer has all of its valid entries
stored or none), and after the last restart every acknowledged event reaches each target of its
rule at least once."""
import http.client
import json
import os
import random
import threading
import time
import unittest

from lbharness import Daemon, QuietSink as Sink

# `make soak` raises this (LB_CRASH_CYCLES); 22 keeps `make test` short.
CYCLES = int(os.environ.get("LB_CRASH_CYCLES", "22"))
CLIENTS = 3
BUS_RULE = "crash"
TARGET_PATHS = ("ok/crash-a", "ok/crash-b")


def queue_arn(path):
    return "arn:aws:sqs:us-east-1:000000000000:" + path.replace("/", "-")


class Request:
    """One PutEvents request as sent: its entries' markers and which of them are valid."""

    def __init__(self, tag, entries, valid, whole_invalid=False):
        self.tag = tag
        self.entries = entries          # the request entries
        self.valid = valid              # marker per entry, or None for an invalid entry
        self.whole_invalid = whole_invalid
        self.status = None              # HTTP status, or None for no answer
        self.body = None


def make_request(tag, rng):
    kind = rng.random()
    n = 1 if kind < 0.4 else 10
    invalid = set()
    if kind >= 0.75:
        invalid = set(rng.sample(range(n), 3))
    whole_invalid = 0.95 <= kind  # 11 entries: a ValidationException for the whole request
    if whole_invalid:
        n = 11
        invalid = set()
    entries, valid = [], []
    for i in range(n):
        marker = "%s-e%d" % (tag, i)
        if i in invalid:
            entries.append({"Source": "crash", "DetailType": "Crash",
                            "Detail": "{\"m\": \"%s\", broken" % marker})
            valid.append(None)
        else:
            entries.append({"Source": "crash", "DetailType": "Crash",
                            "Detail": json.dumps({"m": marker, "pad": "x" * rng.randint(0, 300)})})
            valid.append(marker)
    return Request(tag, entries, valid, whole_invalid)


class KillNineUnderLoad(unittest.TestCase):
    def setUp(self):
        self.sink = Sink()
        self.d = Daemon()
        conf = os.path.join(self.d.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("retry_base_delay = 50ms\nretry_max_delay = 200ms\ndelivery_timeout = 2s\n")
            for p in TARGET_PATHS:
                f.write("target_map = %s -> %s/%s\n" % (queue_arn(p), self.sink.url, p))
        self.d.args = ["--config", conf]

    def tearDown(self):
        self.d.cleanup()
        self.sink.close()

    def _client(self, cycle, tid, seed, out, stop):
        rng = random.Random(seed)
        conn = None
        r = 0
        while not stop.is_set():
            # Paced, so the sink (a Python process) can take every delivery in time.
            if r and stop.wait(rng.uniform(0.005, 0.03)):
                break
            req = make_request("c%d-t%d-r%d" % (cycle, tid, r), rng)
            r += 1
            out.append(req)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.d.host, self.d.port, timeout=10)
                conn.request("POST", "/", json.dumps({"Entries": req.entries}),
                             {"X-Amz-Target": "AWSEvents.PutEvents",
                              "Content-Type": "application/x-amz-json-1.1"})
                resp = conn.getresponse()
                data = resp.read()
                req.status, req.body = resp.status, json.loads(data)
            except (OSError, http.client.HTTPException, ValueError):
                # No (complete) answer: the daemon died under this request.
                req.status = None
                if conn is not None:
                    conn.close()
                conn = None
                if stop.wait(0.005):
                    break
        if conn is not None:
            conn.close()

    def _stored(self):
        """marker -> [event ids], and id -> marker, of everything stored."""
        by_marker, by_id = {}, {}
        for e in self.d.events(limit=1000000):
            m = e["detail"]["m"]
            by_marker.setdefault(m, []).append(e["id"])
            self.assertNotIn(e["id"], by_id, "event id stored twice")
            by_id[e["id"]] = m
        return by_marker, by_id

    def _check(self, requests, acked):
        """Checks every request sent so far against the store; adds acknowledged ids to
        acked (id -> marker)."""
        by_marker, by_id = self._stored()
        for m, ids in by_marker.items():
            self.assertEqual(len(ids), 1, "marker %s stored %d times" % (m, len(ids)))
        for req in requests:
            markers = [m for m in req.valid if m]
            stored = [m for m in markers if m in by_marker]
            for i, e in enumerate(req.entries):
                if req.valid[i] is None:
                    self.assertNotIn("%s-e%d" % (req.tag, i), by_marker,
                                     "an invalid entry was stored")
            if req.status == 200:
                self.assertFalse(req.whole_invalid)
                self.assertEqual(len(req.body["Entries"]), len(req.entries))
                failed = 0
                for i, res in enumerate(req.body["Entries"]):
                    if req.valid[i] is None:
                        self.assertEqual(res.get("ErrorCode"), "MalformedDetail", res)
                        failed += 1
                        continue
                    self.assertIn("EventId", res, res)
                    eid = res["EventId"]
                    self.assertIn(eid, by_id, "acknowledged event %s (%s) lost"
                                  % (eid, req.valid[i]))
                    self.assertEqual(by_id[eid], req.valid[i])
                    acked[eid] = req.valid[i]
                self.assertEqual(req.body["FailedEntryCount"], failed)
            elif req.status is not None:
                # An error answer: nothing of the request may be stored.
                self.assertEqual(stored, [], "request %s answered %d but stored %r"
                                 % (req.tag, req.status, req.body))
                if req.whole_invalid:
                    self.assertEqual((req.status, req.body["__type"]),
                                     (400, "ValidationException"))
                else:
                    self.assertGreaterEqual(req.status, 500, req.body)
            else:
                # No answer: all of its valid entries or none (one transaction per request).
                self.assertIn(len(stored), (0, len(markers)),
                              "request %s half-written: %d of %d entries stored"
                              % (req.tag, len(stored), len(markers)))
        return by_id

    def test_kill9_repeatedly_under_load(self):
        t_start = time.time()
        self.d.start()
        c = self.d.client()
        c.put_rule(Name=BUS_RULE, EventPattern=json.dumps({"source": ["crash"]}))
        r = c.put_targets(Rule=BUS_RULE, Targets=[
            {"Id": "t%d" % i, "Arn": queue_arn(p)} for i, p in enumerate(TARGET_PATHS)])
        self.assertEqual(r["FailedEntryCount"], 0)
        rng = random.Random(int(os.environ.get("LB_CRASH_SEED", "0")) or None)
        requests, acked = [], {}
        unanswered = 0
        for cycle in range(CYCLES):
            stop = threading.Event()
            outs = [[] for _ in range(CLIENTS)]
            threads = [threading.Thread(target=self._client,
                                        args=(cycle, t, rng.random(), outs[t], stop))
                       for t in range(CLIENTS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.2, 0.5))
            self.d.kill9()
            stop.set()
            for t in threads:
                t.join(15)
                self.assertFalse(t.is_alive())
            for o in outs:
                requests.extend(o)
                unanswered += sum(1 for q in o if q.status is None)
            self.d.start()
            stored = self._check(requests, acked)
        self.assertGreater(len(acked), 500)
        self.assertGreater(unanswered, 0)  # some requests were really cut off
        # Every delivery of every acknowledged (indeed every stored) event arrives at least
        # once, after the last restart.
        want = set(stored)
        deadline = time.time() + 60
        missing = {}
        while time.time() < deadline:
            missing = {}
            reqs = self.sink.requests()
            for p in TARGET_PATHS:
                got = {json.loads(q["body"])["id"] for q in reqs if q["path"] == "/" + p}
                missing[p] = want - got
            if not any(missing.values()):
                break
            time.sleep(0.5)
        for p in TARGET_PATHS:
            self.assertEqual(len(set(acked) & missing[p]), 0, "acknowledged events never "
                             "delivered to %s (of %d)" % (p, len(acked)))
            self.assertEqual(missing[p], set(), "stored events never delivered to %s" % p)
        self.assertEqual(self.d.stop(), 0, self.d.logs()[-3000:])
        print("\n  crash: %d cycles, %d requests (%d unanswered), %d events acknowledged, "
              "%.1fs" % (CYCLES, len(requests), unanswered, len(acked), time.time() - t_start))


if __name__ == "__main__":
    unittest.main()

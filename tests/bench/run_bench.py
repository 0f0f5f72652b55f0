#!/usr/bin/env python3
"""`make bench`: LocalBridge performance table (see tests/bench/README.md).

Runs, each figure the median of --runs short runs (default 3), comparisons side by side in the same
run: (1) PutEvents ingest against the raw SQLite ceiling and moto_server, (2) end-to-end delivery
latency at a steady rate and the maximum delivery rate to one local HTTP target, (3) rule matching
(build/bench_match), (4) footprint (start-up time, idle RSS, RSS after many events). Prints a
table and writes BUILD/bench/results.json. Bounded: the default run takes about 3 minutes on 2
cores. Every process it starts is stopped on the way out, whatever happens.
"""
import argparse
import http.client
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOW_TO_READ = """\
How to read this table: every figure is the median of N short runs (N below), all measured in
this one invocation on this machine, so compare rows with each other, not with other machines.
"LB" is LocalBridge with sqlite_synchronous=full: each 200 means the events were fsynced. Ingest
is closed loop (each connection sends its next PutEvents when the previous answer arrives); p50 and
p99 are per request. "cpu" columns are CPU seconds per wall second (1.00 = one core busy; the
machine has {cores}): if "loader" nears 1.00 the load generator, not the daemon, is the limit.
"rows/commit" is how many events the daemon's writer grouped into each fsync. The SQLite ceiling
is bench_sqlite inserting the same rows on the same disk with no HTTP or JSON in the way; moto
keeps events in memory (no durability) and answers with Connection: close. Delivery latency is
PutEvents sent -> HTTP target received (both clocks on this host). Ratios > 1 favour LocalBridge."""

PROCS = []


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    PROCS.append(p)
    return p


def stop(p, timeout=10):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def stop_all():
    for p in PROCS:
        try:
            stop(p, timeout=5)
        except Exception:
            pass


def readline_timeout(f, timeout):
    r, _, _ = select.select([f], [], [], timeout)
    if not r:
        return ""
    return f.readline().decode(errors="replace").strip()


def request(url, method, path, body=None, headers=None, timeout=10):
    hostport = url.split("//", 1)[1].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def api(url, op, payload):
    status, body = request(url, "POST", "/", json.dumps(payload).encode(), {
        "X-Amz-Target": "AWSEvents." + op, "Content-Type": "application/x-amz-json-1.1"})
    if status != 200:
        raise BenchError("%s failed: %d %s" % (op, status, body[:300]))
    return json.loads(body or b"{}")


def proc_cpu(pid):
    """utime + stime of a process (all threads), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def metrics(url):
    _, body = request(url, "GET", "/metrics")
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


# The histogram the daemon keeps of accept-to-target time (its CloudWatch-named metric).
LATENCY = "localbridge_ingestion_to_invocation_seconds"


def hist_quantile(m, name, q):
    """Prometheus-style quantile (linear within a bucket) from cumulative buckets."""
    buckets = []
    for k, v in m.items():
        mm = re.match(r'%s_bucket\{.*le="([^"]+)"\}$' % re.escape(name), k)
        if mm:
            le = float("inf") if mm.group(1) == "+Inf" else float(mm.group(1))
            buckets.append((le, v))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * ((rank - prev_c) / (c - prev_c) if c > prev_c else 0)
        prev_le, prev_c = le, c
    return None


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.bin = {n: os.path.join(self.build, n) for n in
                    ("localbridge", "bench_load", "bench_sink", "bench_sqlite", "bench_match")}
        missing = [p for p in self.bin.values() if not os.access(p, os.X_OK)]
        if missing:
            raise BenchError("missing binaries: %s\nbuild first: cmake --build %s -j2"
                             % (", ".join(missing), args.build))
        self.tmp = tempfile.mkdtemp(prefix="lb-bench-", dir=args.tmp)
        self.moto = shutil.which("moto_server")
        self.results = {"machine": {"cores": os.cpu_count(), "cpu": cpu_model(),
                                    "kernel": platform.release(), "tmp_dir": self.tmp},
                        "runs": args.runs}
        self.n = 0

    # ---- processes -------------------------------------------------------------------------
    def start_daemon(self, config_text=None, extra=(), env=None):
        self.n += 1
        d = os.path.join(self.tmp, "lb%d" % self.n)
        os.makedirs(d)
        conf = ""
        if config_text is not None:
            conf = os.path.join(d, "bench.conf")
            with open(conf, "w") as f:
                f.write(config_text)
        errlog = open(os.path.join(d, "daemon.log"), "wb")
        t0 = time.perf_counter()
        p = spawn([self.bin["localbridge"], "serve", "--listen", "127.0.0.1:0", "--data-dir",
                   os.path.join(d, "var"), "--config", conf, "--sqlite-synchronous", "full"]
                  + list(extra), stdout=subprocess.PIPE, stderr=errlog, env=env)
        url = readline_timeout(p.stdout, 10)
        if not url.startswith("http://"):
            stop(p)
            raise BenchError("daemon did not print its URL (%r); log: %s"
                             % (url, open(os.path.join(d, "daemon.log")).read()[-2000:]))
        host, port = url[7:].rsplit(":", 1)
        deadline = time.time() + 10
        while True:
            try:
                status, _ = request(url, "GET", "/health", timeout=1)
                if status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                stop(p)
                raise BenchError("daemon never answered /health")
            time.sleep(0.001)
        startup = time.perf_counter() - t0
        return p, url, d, startup

    def start_moto(self):
        logpath = os.path.join(self.tmp, "moto%d.log" % self.n)
        self.n += 1
        logf = open(logpath, "wb")
        p = spawn([self.moto, "-p", "0"], stdout=logf, stderr=subprocess.STDOUT,
                  stdin=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            m = re.search(r"Running on (http://127\.0\.0\.1:\d+)",
                          open(logpath, errors="replace").read())
            if m:
                return p, m.group(1)
            if p.poll() is not None:
                break
            time.sleep(0.1)
        stop(p)
        raise BenchError("moto_server did not start: " + open(logpath).read()[-1000:])

    def start_sink(self):
        p = spawn([self.bin["bench_sink"], "--out", os.path.join(self.tmp, "sink.txt")],
                  stdout=subprocess.PIPE)
        url = readline_timeout(p.stdout, 5)
        if not url.startswith("http://"):
            stop(p)
            raise BenchError("bench_sink did not start")
        return p, url.rstrip("/")

    def load(self, url, conns, entries, duration, rate=0, warmup=0.3, max_events=0,
             background=False):
        cmd = [self.bin["bench_load"], "--url", url, "--connections", str(conns), "--entries",
               str(entries), "--duration", str(duration), "--warmup", str(warmup)]
        if rate:
            cmd += ["--rate", str(rate)]
        if max_events:
            cmd += ["--max-events", str(max_events)]
        p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if background:
            return p
        return self.load_result(p)

    def load_result(self, p, timeout=600):
        out, err = p.communicate(timeout=timeout)
        try:
            return json.loads(out)
        except ValueError:
            raise BenchError("bench_load failed (rc %s, %s): %s %s"
                             % (p.returncode, " ".join(p.args), out[-500:], err[-500:]))

    # ---- 7. built-in queues ----------------------------------------------------------------
    @staticmethod
    def sqs_call(conn, op, payload):
        # The credential scope tells moto_server (all services on one port) which service this is.
        conn.request("POST", "/", json.dumps(payload),
                     {"X-Amz-Target": "AmazonSQS." + op,
                      "Content-Type": "application/x-amz-json-1.0",
                      "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/"
                                       "sqs/aws4_request, SignedHeaders=host, Signature=0"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise BenchError("%s: %d %s" % (op, r.status, data[:300]))
        return json.loads(data) if data else {}

    def queue_cycle(self, url, name, batched, messages, conns=4):
        """send, then receive + delete, every message; conns clients in parallel, each on one
        keep-alive connection, boto3-like requests (JSON 1.0). Returns messages/s of the cycle."""
        import http.client
        import threading
        host, port = url[7:].rsplit(":", 1)

        def connect():
            return http.client.HTTPConnection(host, int(port), timeout=60)
        c0 = connect()
        qurl = self.sqs_call(c0, "CreateQueue", {"QueueName": name})["QueueUrl"]
        per = messages // conns
        errors = []

        def sender():
            c = connect()
            try:
                sent = 0
                while sent < per:
                    if batched:
                        k = min(10, per - sent)
                        self.sqs_call(c, "SendMessageBatch", {"QueueUrl": qurl, "Entries": [
                            {"Id": str(i), "MessageBody": "m%d" % i} for i in range(k)]})
                    else:
                        k = 1
                        self.sqs_call(c, "SendMessage", {"QueueUrl": qurl, "MessageBody": "m"})
                    sent += k
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        def receiver(done):
            c = connect()
            try:
                empty = 0
                while done[0] < per * conns and empty < 50:
                    r = self.sqs_call(c, "ReceiveMessage", {
                        "QueueUrl": qurl, "MaxNumberOfMessages": 10 if batched else 1,
                        "VisibilityTimeout": 60, "WaitTimeSeconds": 0})
                    ms = r.get("Messages", [])
                    if not ms:
                        empty += 1
                        continue
                    if batched:
                        self.sqs_call(c, "DeleteMessageBatch", {"QueueUrl": qurl, "Entries": [
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                            for i, m in enumerate(ms)]})
                    else:
                        for m in ms:
                            self.sqs_call(c, "DeleteMessage", {
                                "QueueUrl": qurl, "ReceiptHandle": m["ReceiptHandle"]})
                    done[0] += len(ms)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        t0 = time.perf_counter()
        ts = [threading.Thread(target=sender) for _ in range(conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        t1 = time.perf_counter()
        done = [0]
        ts = [threading.Thread(target=receiver, args=(done,)) for _ in range(conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        t2 = time.perf_counter()
        if errors:
            raise BenchError("queue cycle: %s" % errors[0])
        return {"messages": per * conns, "received": done[0],
                "send_per_s": per * conns / (t1 - t0),
                "receive_delete_per_s": done[0] / (t2 - t1),
                "cycle_per_s": done[0] / (t2 - t0)}

    def queue_latency(self, url, name, rate, seconds, events_api=True):
        """EventBridge -> queue -> long-polling receiver: PutEvents at rate, each event carrying
        its send time; one receiver long-polls (WaitTimeSeconds 20) and deletes."""
        import http.client
        import threading
        host, port = url[7:].rsplit(":", 1)
        c = http.client.HTTPConnection(host, int(port), timeout=60)
        qurl = self.sqs_call(c, "CreateQueue", {"QueueName": name})["QueueUrl"]
        arn = self.sqs_call(c, "GetQueueAttributes", {"QueueUrl": qurl, "AttributeNames": [
            "QueueArn"]})["Attributes"]["QueueArn"]
        api(url, "PutRule", {"Name": name, "EventPattern": json.dumps({"source": ["bench.q"]})})
        api(url, "PutTargets", {"Rule": name, "Targets": [{"Id": "q", "Arn": arn}]})
        total = int(rate * seconds)
        lat, stop_flag = [], [False]

        def receiver():
            rc = http.client.HTTPConnection(host, int(port), timeout=60)
            while len(lat) < total and not stop_flag[0]:
                r = self.sqs_call(rc, "ReceiveMessage", {"QueueUrl": qurl, "WaitTimeSeconds": 20,
                                                         "MaxNumberOfMessages": 10})
                now = time.time()
                ms = r.get("Messages", [])
                for m in ms:
                    lat.append(now - json.loads(m["Body"])["detail"]["t"])
                if ms:
                    self.sqs_call(rc, "DeleteMessageBatch", {"QueueUrl": qurl, "Entries": [
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(ms)]})

        th = threading.Thread(target=receiver)
        th.start()
        t0 = time.time()
        for i in range(total):
            due = t0 + i / rate
            d = due - time.time()
            if d > 0:
                time.sleep(d)
            api(url, "PutEvents", {"Entries": [{"Source": "bench.q", "DetailType": "t",
                                                "Detail": json.dumps({"t": time.time()})}]})
        deadline = time.time() + 30
        while len(lat) < total and time.time() < deadline:
            time.sleep(0.05)
        stop_flag[0] = True
        th.join(25)
        lat.sort()
        if not lat:
            raise BenchError("no event reached the queue")
        return {"events": total, "received": len(lat),
                "p50_ms": lat[len(lat) // 2] * 1000,
                "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000}

    def queue(self):
        a = self.args
        n = 1000
        out = {"runs": []}
        for run in range(a.runs):
            r = {}
            p, url, _, _ = self.start_daemon()
            try:
                r["lb_batched"] = self.queue_cycle(url, "b%d" % run, True, n)
                r["lb_single"] = self.queue_cycle(url, "s%d" % run, False, n // 4)
                r["lb_latency"] = self.queue_latency(url, "lat%d" % run, 100, 3)
            finally:
                stop(p)
            if self.moto:
                mp, murl = self.start_moto()
                try:
                    r["moto_batched"] = self.queue_cycle(murl, "b%d" % run, True, n)
                    r["moto_single"] = self.queue_cycle(murl, "s%d" % run, False, n // 4)
                    try:
                        r["moto_latency"] = self.queue_latency(murl, "lat%d" % run, 100, 3)
                    except Exception as e:  # noqa: BLE001 - moto may not deliver to SQS
                        log("moto EventBridge -> SQS latency skipped: %s" % e)
                finally:
                    stop(mp)
            out["runs"].append(r)
            log("queue run %d: %s" % (run, json.dumps(r)))

        def med(key, field):
            xs = [r[key][field] for r in out["runs"] if key in r]
            return median(xs) if xs else None
        m = {}
        for side in ("lb", "moto"):
            for kind in ("batched", "single"):
                for f in ("send_per_s", "receive_delete_per_s", "cycle_per_s"):
                    m["%s_%s_%s" % (side, kind, f)] = med("%s_%s" % (side, kind), f)
            for f in ("p50_ms", "p99_ms"):
                m["%s_latency_%s" % (side, f)] = med("%s_latency" % side, f)
        for kind in ("batched", "single"):
            lb, mo = m["lb_%s_cycle_per_s" % kind], m["moto_%s_cycle_per_s" % kind]
            m["vs_moto_%s" % kind] = lb / mo if lb and mo else None
        out["median"] = m
        self.results["queue"] = out

    # ---- 1. ingest -------------------------------------------------------------------------
    def ingest(self):
        a = self.args
        configs = [(e, c) for e in (1, 10) for c in (1, 8, 64)]
        runs = {"lb": {}, "moto": {}, "sqlite": {}}
        if not self.moto:
            log("moto_server not on PATH: the moto column is skipped")
        for rep in range(a.runs):
            log("ingest run %d/%d" % (rep + 1, a.runs))
            p, url, _, _ = self.start_daemon()
            try:
                for e, c in configs:
                    m0, cpu0, t0 = metrics(url), proc_cpu(p.pid), time.time()
                    r = self.load(url, c, e, a.duration)
                    cpu1, t1, m1 = proc_cpu(p.pid), time.time(), metrics(url)
                    commits = m1["localbridge_store_commits_total"] - m0["localbridge_store_commits_total"]
                    jobs = (m1["localbridge_store_committed_jobs_total"]
                            - m0["localbridge_store_committed_jobs_total"])
                    r["daemon_cpu_share"] = (cpu1 - cpu0) / (t1 - t0)
                    r["jobs_per_commit"] = jobs / commits if commits else None
                    r["rows_per_commit"] = jobs * e / commits if commits else None
                    runs["lb"].setdefault("%d/%d" % (e, c), []).append(r)
            finally:
                stop(p)
            if self.moto:
                mp, murl = self.start_moto()
                try:
                    for e, c in configs:
                        cpu0, t0 = proc_cpu(mp.pid), time.time()
                        r = self.load(murl, c, e, a.duration)
                        r["daemon_cpu_share"] = (proc_cpu(mp.pid) - cpu0) / (time.time() - t0)
                        runs["moto"].setdefault("%d/%d" % (e, c), []).append(r)
                finally:
                    stop(mp)
            # Fixed batch sizes, then each configuration's own rows/commit as just measured.
            plan = [("10", 10, False, a.sqlite_seconds), ("100", 100, False, a.sqlite_seconds),
                    ("10+sp", 10, True, a.sqlite_seconds)]
            for e, c in configs:
                rpc = runs["lb"]["%d/%d" % (e, c)][-1]["rows_per_commit"] or 1
                plan.append(("at %d/%d" % (e, c), max(1, int(round(rpc))), False, 1.0))
            for key, batch, sp, secs in plan:
                d = tempfile.mkdtemp(dir=self.tmp)
                cmd = [self.bin["bench_sqlite"], "--dir", d, "--batch", str(batch), "--seconds",
                       str(secs)] + (["--savepoints"] if sp else [])
                out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
                runs["sqlite"].setdefault(key, []).append(json.loads(out))
        med = {"lb": {}, "moto": {}, "sqlite": {}}
        for side in ("lb", "moto"):
            for k, rs in runs[side].items():
                med[side][k] = {f: median([r.get(f) for r in rs]) for f in
                                ("events_per_s", "p50_ms", "p99_ms", "loader_cpu_share",
                                 "daemon_cpu_share", "rows_per_commit", "jobs_per_commit",
                                 "failed_entries", "bad_status", "conn_errors")}
        for k, rs in runs["sqlite"].items():
            med["sqlite"][k] = {"rows_per_s": median([r["rows_per_s"] for r in rs]),
                                "commits_per_s": median([r["commits_per_s"] for r in rs])}
        for k, m in med["lb"].items():
            m["ceiling_rows_per_s"] = med["sqlite"]["at " + k]["rows_per_s"]
            m["vs_ceiling"] = m["events_per_s"] / m["ceiling_rows_per_s"]
            if k in med["moto"] and med["moto"][k]["events_per_s"]:
                m["vs_moto"] = m["events_per_s"] / med["moto"][k]["events_per_s"]
        self.results["ingest"] = {"median": med, "runs": runs, "duration_s": a.duration,
                                  "moto_available": bool(self.moto)}

    # ---- 2. delivery -----------------------------------------------------------------------
    def delivery_daemon(self, sink_url, enabled=True):
        conf = ("target_map = arn:aws:sqs:*:*:bench -> %s/\nretry_base_delay = 50ms\n"
                "delivery_enabled = %s\n" % (sink_url, "true" if enabled else "false"))
        p, url, d, _ = self.start_daemon(conf)
        conf_path = os.path.join(d, "bench.conf")
        api(url, "PutRule", {"Name": "bench", "EventPattern": json.dumps({"source": ["bench"]})})
        r = api(url, "PutTargets", {"Rule": "bench", "Targets": [
            {"Id": "sink", "Arn": "arn:aws:sqs:us-east-1:000000000000:bench"}]})
        if r.get("FailedEntryCount"):
            raise BenchError("PutTargets failed: %r" % r)
        return p, url, conf_path

    @staticmethod
    def accepted(url):
        """Events the daemon has committed: every bench event matches the bench rule."""
        return sum(v for k, v in metrics(url).items()
                   if k.startswith("localbridge_matched_events_total"))

    def settled_accepted(self, url):
        """accepted() once it stops moving: bench_load exits when its time is up with requests
        still in flight (up to connections x entries events), which the daemon commits after."""
        last = self.accepted(url)
        while True:
            time.sleep(0.2)
            now = self.accepted(url)
            if now == last:
                return now
            last = now

    def sink_stats(self, sink):
        _, body = request(sink, "GET", "/stats")
        return json.loads(body)

    def paced_run(self, start_daemon, sink):
        """One latency run: a fresh daemon from start_daemon() delivering to sink, the paced
        load, then a wait (15 s at most) until the sink has all. Returns the load's figures, the
        sink's and the daemon's metrics."""
        a = self.args
        p, url, _ = start_daemon()
        try:
            request(sink, "GET", "/reset")
            r = self.load(url, 8, 1, a.latency_seconds, rate=a.rate, warmup=0)
            deadline = time.time() + 15
            while self.sink_stats(sink)["count"] < r["sent_events"] and time.time() < deadline:
                time.sleep(0.05)
            return r, self.sink_stats(sink), metrics(url)
        finally:
            stop(p)

    def delivery(self):
        a = self.args
        sp, sink = self.start_sink()
        lat_runs, max_runs, cap_runs = [], [], []
        try:
            for rep in range(a.runs):
                log("delivery latency run %d/%d (%d events/s for %gs)"
                    % (rep + 1, a.runs, a.rate, a.latency_seconds))
                r, s, m = self.paced_run(lambda: self.delivery_daemon(sink), sink)
                lat_runs.append({"sent": r["sent_events"], "delivered": s["count"],
                                 "sent_rate": r["events_per_s"], "put_p99_ms": r["p99_ms"],
                                 "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
                                 "max_ms": s["max_ms"],
                                 "hist_p50_ms": (hist_quantile(m, LATENCY, 0.5) or 0) * 1e3,
                                 "hist_p99_ms": (hist_quantile(m, LATENCY, 0.99) or 0) * 1e3,
                                 "loader_cpu_share": r["loader_cpu_share"]})
            for rep in range(a.runs):
                log("delivery max-rate run %d/%d" % (rep + 1, a.runs))
                max_runs.append(self.delivery_max_rate(sink))
            for rep in range(a.runs):
                log("delivery capacity run %d/%d" % (rep + 1, a.runs))
                cap_runs.append(self.delivery_capacity(sink))
        finally:
            stop(sp)
        lat = {f: median([r[f] for r in lat_runs]) for f in lat_runs[0]}
        mx = {f: median([r[f] for r in max_runs]) for f in max_runs[0]}
        cap = {f: median([r[f] for r in cap_runs]) for f in cap_runs[0]}
        self.results["delivery"] = {"latency": lat, "latency_runs": lat_runs, "max": mx,
                                    "max_runs": max_runs, "capacity": cap,
                                    "capacity_runs": cap_runs, "rate": a.rate,
                                    "latency_seconds": a.latency_seconds}

    def delivery_max_rate(self, sink):
        """Closed-loop ingest with delivery on. Rates over the same window (1 s in to the end of
        ingest): the sink's arrivals against the daemon's committed events; and the backlog
        (committed, not yet delivered) at the end: bounded if delivery keeps up."""
        a = self.args
        p, url, _ = self.delivery_daemon(sink)
        try:
            request(sink, "GET", "/reset")
            lp = self.load(url, 64, 10, a.max_seconds, warmup=0, background=True)
            time.sleep(1.0)
            c1, m1, t1 = self.sink_stats(sink)["count"], self.accepted(url), time.time()
            backlog = []
            while lp.poll() is None:
                time.sleep(0.25)
                backlog.append(self.accepted(url) - self.sink_stats(sink)["count"])
            r = self.load_result(lp)
            c2, m2, t2 = self.sink_stats(sink)["count"], self.accepted(url), time.time()
            time.sleep(a.drain_seconds)
            c3, t3 = self.sink_stats(sink)["count"], time.time()
            total = self.settled_accepted(url)
            return {"ingested": r["sent_events"], "ingest_rate": r["events_per_s"],
                    "rate_during_ingest": (c2 - c1) / (t2 - t1),
                    "ingest_rate_window": (m2 - m1) / (t2 - t1),
                    "ratio_window": ((c2 - c1) / (m2 - m1)) if m2 > m1 else None,
                    "backlog_at_end": m2 - c2, "backlog_max": max(backlog or [0]),
                    "rate_drain": (c3 - c2) / (t3 - t2),
                    "backlog_after_drain": total - c3,
                    "daemon_rss_kb": proc_status_kb(p.pid, "VmRSS")}
        finally:
            stop(p, timeout=15)

    def drain_backlog(self, start_daemon, sink, limit_s):
        """A backlog ingested at full speed with delivery switched off, then switched on (SIGHUP)
        and drained into sink (limit_s at most). Returns the ingest figures, the backlog, how
        many arrived, the drain's seconds and the daemon's metrics after it."""
        a = self.args
        p, url, conf = start_daemon()
        try:
            request(sink, "GET", "/reset")
            r = self.load(url, 64, 10, a.max_seconds, warmup=0)
            backlog = self.settled_accepted(url)
            with open(conf) as f:
                text = f.read().replace("delivery_enabled = false", "delivery_enabled = true")
            with open(conf, "w") as f:
                f.write(text)
            t0 = time.time()
            p.send_signal(signal.SIGHUP)
            deadline = t0 + limit_s
            while self.sink_stats(sink)["count"] < backlog and time.time() < deadline:
                time.sleep(0.02)
            seconds = time.time() - t0
            return r, backlog, self.sink_stats(sink)["count"], seconds, metrics(url)
        finally:
            stop(p, timeout=15)

    def delivery_capacity(self, sink):
        """Delivery alone: a backlog drained to the sink. Compared with the ingest rate of the
        same daemon, alone."""
        r, backlog, done, seconds, _ = self.drain_backlog(
            lambda: self.delivery_daemon(sink, enabled=False), sink, 60)
        return {"ingest_rate_alone": r["events_per_s"], "backlog": backlog,
                "drained": done, "drain_rate": done / seconds,
                "capacity_ratio": done / seconds / r["events_per_s"]}

    # ---- 5. replay -------------------------------------------------------------------------
    def replay(self):
        """A replay of --replay-events archived events while live PutEvents runs at --rate to a
        delivery target: the replay's rate, and the live end-to-end p99 with and without the
        replay running (the goal is within 2x). Replayed events go to a second sink through
        FilterArns, so the live sink measures live events only."""
        a = self.args
        live_p, live = self.start_sink()
        rep_p, rep_sink = self.start_sink()
        conf = ("target_map = arn:aws:sqs:*:*:bench -> %s/\n"
                "target_map = arn:aws:sqs:*:*:replayed -> %s/\nretry_base_delay = 50ms\n"
                % (live, rep_sink))
        p, url, _, _ = self.start_daemon(conf)
        runs = []
        try:
            bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
            archive = api(url, "CreateArchive", {"ArchiveName": "bench", "EventSourceArn": bus})
            log("replay: archiving %d events" % a.replay_events)
            t_fill = time.time()
            self.load(url, 64, 10, 0, warmup=0, max_events=a.replay_events)
            filled = time.time()
            # The window ends at the second after the last archived event; live events come
            # later (event times are whole seconds), so every replay replays exactly these.
            window = (int(t_fill) - 1, int(filled) + 1)
            time.sleep(max(0.0, window[1] - time.time()) + 0.1)
            # A few more than asked (requests in flight when the count was reached), all
            # committed by now.
            archived = api(url, "DescribeArchive", {"ArchiveName": "bench"})["EventCount"]
            api(url, "PutRule", {"Name": "live", "EventPattern": json.dumps(
                {"source": ["bench"], "replay-name": [{"exists": False}]})})
            api(url, "PutTargets", {"Rule": "live", "Targets": [
                {"Id": "sink", "Arn": "arn:aws:sqs:us-east-1:000000000000:bench"}]})
            api(url, "PutRule", {"Name": "replayed", "EventPattern": json.dumps(
                {"replay-name": [{"exists": True}]})})
            api(url, "PutTargets", {"Rule": "replayed", "Targets": [
                {"Id": "sink", "Arn": "arn:aws:sqs:us-east-1:000000000000:replayed"}]})
            for rep in range(a.runs):
                log("replay run %d/%d: live %d events/s for %gs alone, then during a replay"
                    % (rep + 1, a.runs, a.rate, a.latency_seconds))
                runs.append(self.replay_run(url, live, rep_sink, archive["ArchiveArn"], bus,
                                            window, "bench-%d" % rep, archived))
        finally:
            stop(p, timeout=30)
            stop(live_p)
            stop(rep_p)
        med = {f: median([r[f] for r in runs]) for f in runs[0]}
        med["p99_ratio"] = (med["p99_with_ms"] / med["p99_alone_ms"]
                            if med["p99_alone_ms"] else None)
        self.results["replay"] = {"median": med, "runs": runs, "events": archived,
                                  "rate": a.rate, "latency_seconds": a.latency_seconds}

    def live_latency(self, url, live):
        request(live, "GET", "/reset")
        r = self.load(url, 8, 1, self.args.latency_seconds, rate=self.args.rate, warmup=0)
        deadline = time.time() + 15
        while self.sink_stats(live)["count"] < r["sent_events"] and time.time() < deadline:
            time.sleep(0.05)
        s = self.sink_stats(live)
        return r, s

    def replay_run(self, url, live, rep_sink, archive_arn, bus, window, name, archived):
        alone_r, alone = self.live_latency(url, live)
        request(rep_sink, "GET", "/reset")
        api(url, "StartReplay", {"ReplayName": name, "EventSourceArn": archive_arn,
                                 "EventStartTime": window[0], "EventEndTime": window[1],
                                 "Destination": {"Arn": bus, "FilterArns": [
                                     "arn:aws:events:us-east-1:000000000000:rule/replayed"]}})
        with_r, with_ = self.live_latency(url, live)
        after_live = api(url, "DescribeReplay", {"ReplayName": name})
        deadline = time.time() + 600
        while True:
            d = api(url, "DescribeReplay", {"ReplayName": name})
            if d["State"] not in ("STARTING", "RUNNING") or time.time() > deadline:
                break
            time.sleep(0.1)
        took = d.get("ReplayEndTime", time.time()) - d["ReplayStartTime"]
        deadline = time.time() + 120
        while self.sink_stats(rep_sink)["count"] < archived and time.time() < deadline:
            time.sleep(0.1)
        return {"p99_alone_ms": alone["p99_ms"], "p50_alone_ms": alone["p50_ms"],
                "p99_with_ms": with_["p99_ms"], "p50_with_ms": with_["p50_ms"],
                "max_with_ms": with_["max_ms"], "live_sent": with_r["sent_events"],
                "live_delivered": with_["count"], "live_rate": with_r["events_per_s"],
                "replay_state": d["State"], "replay_seconds": took,
                "replay_rate": archived / took if took > 0 else None,
                "replayed_delivered": self.sink_stats(rep_sink)["count"],
                "replay_running_after_live": after_live["State"] in ("STARTING", "RUNNING")}
    # ---- 6. forwarding to Amazon EventBridge ------------------------------------------------
    FORWARD_ARN = "arn:aws:events:us-east-1:111122223333:event-bus/bench"

    def forward_daemon(self, upstream, enabled=True):
        """The sidecar: everything on the local default bus forwarded, batched, to a stand-in
        EventBridge (bench_sink --putevents: answers each entry, checks no signature)."""
        conf = ("forward = default -> %s\nforward_endpoint = %s\nretry_base_delay = 50ms\n"
                "delivery_enabled = %s\n" % (self.FORWARD_ARN, upstream,
                                             "true" if enabled else "false"))
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench",
                   AWS_SESSION_TOKEN="", AWS_EC2_METADATA_DISABLED="true")
        p, url, d, _ = self.start_daemon(conf, env=env)
        return p, url, os.path.join(d, "bench.conf")

    def start_upstream(self):
        p = spawn([self.bin["bench_sink"], "--putevents", "1"], stdout=subprocess.PIPE)
        url = readline_timeout(p.stdout, 5)
        if not url.startswith("http://"):
            stop(p)
            raise BenchError("bench_sink --putevents did not start")
        return p, url.rstrip("/")

    @staticmethod
    def forward_counts(m):
        """Entries forwarded and PutEvents requests made, from a metrics scrape."""
        return (m.get("localbridge_forwarded_entries_total", 0),
                m.get("localbridge_forward_requests_total", 0))

    def forward(self):
        a = self.args
        up, upstream = self.start_upstream()
        lat_runs, max_runs, cap_runs = [], [], []
        try:
            for rep in range(a.runs):
                log("forward latency run %d/%d (%d events/s for %gs)"
                    % (rep + 1, a.runs, a.rate, a.latency_seconds))
                r, s, m = self.paced_run(lambda: self.forward_daemon(upstream), upstream)
                fwd, reqs = self.forward_counts(m)
                lat_runs.append({"sent": r["sent_events"], "forwarded": s["count"],
                                 "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
                                 "max_ms": s["max_ms"],
                                 "accept_p50_ms": (hist_quantile(m, LATENCY, 0.5) or 0) * 1e3,
                                 "accept_p99_ms": (hist_quantile(m, LATENCY, 0.99) or 0) * 1e3,
                                 "entries_per_request": fwd / reqs if reqs else 0})
            for rep in range(a.runs):
                log("forward max-rate run %d/%d" % (rep + 1, a.runs))
                max_runs.append(self.forward_max_rate(upstream))
            for rep in range(a.runs):
                log("forward capacity run %d/%d" % (rep + 1, a.runs))
                cap_runs.append(self.forward_capacity(upstream))
        finally:
            stop(up)
        self.results["forward"] = {
            "latency": {f: median([r[f] for r in lat_runs]) for f in lat_runs[0]},
            "latency_runs": lat_runs,
            "max": {f: median([r[f] for r in max_runs]) for f in max_runs[0]},
            "max_runs": max_runs,
            "capacity": {f: median([r[f] for r in cap_runs]) for f in cap_runs[0]},
            "capacity_runs": cap_runs, "rate": a.rate, "latency_seconds": a.latency_seconds}

    def forward_max_rate(self, upstream):
        """Closed-loop ingest with forwarding on: upstream arrivals against committed events over
        the same window (1 s in to the end of ingest), and the backlog left."""
        a = self.args
        p, url, _ = self.forward_daemon(upstream)
        try:
            request(upstream, "GET", "/reset")
            lp = self.load(url, 64, 10, a.max_seconds, warmup=0, background=True)
            time.sleep(1.0)
            c1, m1, t1 = self.sink_stats(upstream)["count"], self.accepted(url), time.time()
            while lp.poll() is None:
                time.sleep(0.25)
            r = self.load_result(lp)
            c2, m2, t2 = self.sink_stats(upstream)["count"], self.accepted(url), time.time()
            time.sleep(a.drain_seconds)
            c3, t3 = self.sink_stats(upstream)["count"], time.time()
            total = self.settled_accepted(url)
            fwd, reqs = self.forward_counts(metrics(url))
            return {"ingest_rate": r["events_per_s"],
                    "rate_during_ingest": (c2 - c1) / (t2 - t1),
                    "ingest_rate_window": (m2 - m1) / (t2 - t1),
                    "ratio_window": ((c2 - c1) / (m2 - m1)) if m2 > m1 else None,
                    "backlog_at_end": m2 - c2, "rate_drain": (c3 - c2) / (t3 - t2),
                    "backlog_after_drain": total - c3,
                    "entries_per_request": fwd / reqs if reqs else 0}
        finally:
            stop(p, timeout=15)

    def forward_capacity(self, upstream):
        """Forwarding alone: a backlog drained to the stand-in in batches."""
        r, backlog, done, seconds, m = self.drain_backlog(
            lambda: self.forward_daemon(upstream, enabled=False), upstream, 120)
        fwd, reqs = self.forward_counts(m)
        return {"ingest_rate_alone": r["events_per_s"], "backlog": backlog,
                "forwarded": done, "drain_rate": done / seconds,
                "entries_per_request": fwd / reqs if reqs else 0}

    # ---- 3. matching -----------------------------------------------------------------------
    def matching(self):
        runs = []
        for rep in range(self.args.runs):
            log("bench_match run %d/%d" % (rep + 1, self.args.runs))
            out = subprocess.run([self.bin["bench_match"]], stdout=subprocess.PIPE, check=True,
                                 timeout=300).stdout.decode()
            r = {}
            for m in re.finditer(r"^\s*(\d+) rules:\s+([\d.]+) events/s\s+([\d.]+) us/event", out,
                                 re.M):
                r[m.group(1)] = float(m.group(2))
            m = re.search(r"ratio time/event 10,000 rules / 10 rules: ([\d.]+)", out)
            r["ratio"] = float(m.group(1)) if m else None
            runs.append(r)
        self.results["matching"] = {"median": {k: median([r.get(k) for r in runs])
                                               for k in runs[0]}, "runs": runs}

    # ---- 4. footprint ----------------------------------------------------------------------
    def footprint(self):
        a = self.args
        starts, idle = [], []
        for i in range(5):
            p, url, _, startup = self.start_daemon()
            try:
                starts.append(startup * 1e3)
                time.sleep(0.3)
                idle.append(proc_status_kb(p.pid, "VmRSS"))
            finally:
                stop(p)
        n = 1000000 if a.full else a.footprint_events
        log("footprint: ingesting %d events" % n)
        p, url, d, _ = self.start_daemon()
        try:
            t0 = time.time()
            r = self.load(url, 64, 10, 0, warmup=0, max_events=n)
            took = time.time() - t0
            time.sleep(0.3)
            rss = proc_status_kb(p.pid, "VmRSS")
            hwm = proc_status_kb(p.pid, "VmHWM")
            db = sum(os.path.getsize(os.path.join(d, "var", f))
                     for f in os.listdir(os.path.join(d, "var")))
        finally:
            stop(p)
        self.results["footprint"] = {
            "startup_ms": median(starts), "startup_runs_ms": starts,
            "idle_rss_kb": median(idle), "idle_rss_runs_kb": idle, "events": r["events"],
            "target_events": n, "ingest_seconds": took, "rss_after_kb": rss, "peak_rss_kb": hwm,
            "db_bytes": db}

    # ---- report ----------------------------------------------------------------------------
    def table(self):
        R, a = self.results, self.args
        L = []
        L.append("LocalBridge benchmark: %s, %d cores, %d runs per figure (median), temp dir %s"
                 % (R["machine"]["cpu"], R["machine"]["cores"], a.runs, self.tmp))
        L.append(HOW_TO_READ.format(cores=R["machine"]["cores"]))
        L.append("")
        ing = R.get("ingest")
        if ing:
            med = ing["median"]
            L.append("1. Ingest: PutEvents, closed loop, %gs per run, durable (synchronous=full)"
                     % a.duration)
            L.append("entries conns |  LB ev/s  p50ms  p99ms rows/commit LBcpu loader |"
                     " moto ev/s  p50ms  p99ms | ceiling  LB/ceil LB/moto")
            for k in sorted(med["lb"], key=lambda k: tuple(map(int, k.split("/")))):
                e, c = k.split("/")
                m = med["lb"][k]
                mo = med["moto"].get(k)
                moto = ("%9.0f %6.2f %6.2f" % (mo["events_per_s"], mo["p50_ms"], mo["p99_ms"])
                        if mo else "%9s %6s %6s" % ("skipped", "-", "-"))
                L.append("%7s %5s | %8.0f %6.2f %6.2f %11.1f %5.2f %6.2f | %s | %7.0f %7.2f %7s"
                         % (e, c, m["events_per_s"], m["p50_ms"], m["p99_ms"],
                            m["rows_per_commit"] or 0, m["daemon_cpu_share"],
                            m["loader_cpu_share"], moto, m["ceiling_rows_per_s"], m["vs_ceiling"],
                            "%.2f" % m["vs_moto"] if m.get("vs_moto") else "-"))
            s = med["sqlite"]
            L.append("SQLite ceiling (bench_sqlite, same disk, WAL, synchronous=FULL): "
                     "10 rows/commit %.0f rows/s, 100 rows/commit %.0f rows/s; 10 rows/commit "
                     "with a SAVEPOINT per row (as the writer does per request) %.0f rows/s."
                     % (s["10"]["rows_per_s"], s["100"]["rows_per_s"], s["10+sp"]["rows_per_s"]))
            L.append("ceiling: bench_sqlite rows/s committing the daemon's own rows/commit of that "
                     "row, same run. "
                     + ("moto: in-memory, no durability, Connection: close after every answer."
                        if ing["moto_available"] else "moto_server not found: column skipped."))
            L.append("")
        dl = R.get("delivery")
        if dl:
            l, m = dl["latency"], dl["max"]
            L.append("2. Delivery to one local HTTP target (bench_sink), 1 rule, 1 target")
            L.append("end-to-end (PutEvents sent -> target received) at %d events/s for %gs: "
                     "p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d/%d delivered; daemon histogram "
                     "p50 %.1f ms p99 %.1f ms)"
                     % (a.rate, a.latency_seconds, l["p50_ms"], l["p99_ms"], l["max_ms"],
                        l["delivered"], l["sent"], l["hist_p50_ms"], l["hist_p99_ms"]))
            L.append("max delivery rate (ingest 64 conns x 10 entries for %gs): %.0f events/s "
                     "while ingesting at %.0f ev/s; %.0f events/s draining the backlog "
                     "(%.0f still queued after %gs of drain)"
                     % (a.max_seconds, m["rate_during_ingest"], m["ingest_rate"], m["rate_drain"],
                        m["backlog_after_drain"], a.drain_seconds))
            L.append("  same window (1 s in to the end of ingest): delivered %.0f ev/s, committed "
                     "%.0f ev/s, ratio %.2f; backlog (committed, not yet delivered) at the end "
                     "%.0f, at most %.0f"
                     % (m["rate_during_ingest"], m["ingest_rate_window"], m["ratio_window"] or 0,
                        m["backlog_at_end"], m["backlog_max"]))
            c = R["delivery"].get("capacity")
            if c:
                L.append("  delivery alone: a %.0f-event backlog drained at %.0f ev/s; ingest alone "
                         "%.0f ev/s; capacity ratio %.2f"
                         % (c["backlog"], c["drain_rate"], c["ingest_rate_alone"],
                            c["capacity_ratio"]))
            L.append("")
        mt = R.get("matching")
        if mt:
            m = mt["median"]
            L.append("3. Matching (build/bench_match, lb_matcher_match only): 10 rules %.0f ev/s, "
                     "1,000 rules %.0f ev/s, 10,000 rules %.0f ev/s; time/event 10k/10 = %.2f"
                     % (m.get("10") or 0, m.get("1000") or 0, m.get("10000") or 0,
                        m.get("ratio") or 0))
            L.append("")
        fp = R.get("footprint")
        if fp:
            L.append("4. Footprint: exec -> /health answering %.1f ms (median of 5); idle RSS "
                     "%.1f MiB; after %d events (%s) RSS %.1f MiB, peak %.1f MiB, database %.0f "
                     "MiB, ingested in %.1fs"
                     % (fp["startup_ms"], fp["idle_rss_kb"] / 1024, fp["events"],
                        "1M, --full" if fp["target_events"] >= 1000000
                        else "200k by default; --full runs 1M" if fp["target_events"] == 200000
                        else "--footprint-events", fp["rss_after_kb"] / 1024,
                        fp["peak_rss_kb"] / 1024, fp["db_bytes"] / 1048576, fp["ingest_seconds"]))
        rp = R.get("replay")
        if rp:
            m = rp["median"]
            L.append("")
            L.append("5. Replay of %d archived events (to a second sink through FilterArns) while "
                     "live PutEvents runs at %d events/s to the first"
                     % (rp["events"], rp["rate"]))
            L.append("replay rate %.0f events/s (%.1f s, state %s, %d delivered); live end-to-end "
                     "p99 %.2f ms during the replay vs %.2f ms without (ratio %.2f, goal <= 2; "
                     "p50 %.2f vs %.2f ms)%s"
                     % (m["replay_rate"] or 0, m["replay_seconds"], rp["runs"][-1]["replay_state"],
                        m["replayed_delivered"], m["p99_with_ms"], m["p99_alone_ms"],
                        m["p99_ratio"] or 0, m["p50_with_ms"], m["p50_alone_ms"],
                        "" if all(r["replay_running_after_live"] for r in rp["runs"])
                        else "; NOTE: a replay ended before its live window did"))
        fw = R.get("forward")
        if fw:
            L.append("")
            l, m, c = fw["latency"], fw["max"], fw["capacity"]
            L.append("6. Forwarding to Amazon EventBridge (forward = default -> a bus ARN; stand-in "
                     "upstream bench_sink --putevents, batched PutEvents)")
            L.append("latency at %d events/s for %gs: local acceptance -> upstream acceptance "
                     "(daemon histogram) p50 %.1f ms p99 %.1f ms; PutEvents sent -> upstream "
                     "received p50 %.2f ms p99 %.2f ms max %.2f ms (%d/%d forwarded, %.1f "
                     "entries per PutEvents)"
                     % (a.rate, a.latency_seconds, l["accept_p50_ms"], l["accept_p99_ms"],
                        l["p50_ms"], l["p99_ms"], l["max_ms"], l["forwarded"], l["sent"],
                        l["entries_per_request"]))
            L.append("while ingesting (64 conns x 10 entries, %gs): forwarded %.0f ev/s, committed "
                     "%.0f ev/s (ratio %.2f), %.1f entries per PutEvents; backlog at the end %.0f,"
                     " %.0f after %gs of drain"
                     % (a.max_seconds, m["rate_during_ingest"], m["ingest_rate_window"],
                        m["ratio_window"] or 0, m["entries_per_request"], m["backlog_at_end"],
                        m["backlog_after_drain"], a.drain_seconds))
            L.append("forwarding alone: a %.0f-event backlog forwarded at %.0f ev/s (%.1f entries "
                     "per PutEvents); ingest alone %.0f ev/s"
                     % (c["backlog"], c["drain_rate"], c["entries_per_request"],
                        c["ingest_rate_alone"]))
            L.append("")
        q = R.get("queue")
        if q:
            m = q["median"]

            def f(x, fmt="%.0f"):
                return fmt % x if x is not None else "-"
            L.append("")
            L.append("7. Built-in queues (JSON 1.0, 4 keep-alive clients; send then receive + delete "
                     "every message; moto_server's SQS in the same run as baseline)")
            for kind, label in (("batched", "batches of 10"), ("single", "one message per call")):
                L.append("%-22s LB cycle %s msg/s (send %s, receive+delete %s) | moto cycle %s "
                         "msg/s | LB/moto %s"
                         % (label, f(m["lb_%s_cycle_per_s" % kind]),
                            f(m["lb_%s_send_per_s" % kind]),
                            f(m["lb_%s_receive_delete_per_s" % kind]),
                            f(m["moto_%s_cycle_per_s" % kind]),
                            f(m["vs_moto_%s" % kind], "%.2f")))
            L.append("EventBridge -> queue -> long-polling receiver at 100 events/s: LB p50 %s ms "
                     "p99 %s ms | moto p50 %s ms p99 %s ms"
                     % (f(m["lb_latency_p50_ms"], "%.1f"), f(m["lb_latency_p99_ms"], "%.1f"),
                        f(m["moto_latency_p50_ms"], "%.1f"), f(m["moto_latency_p99_ms"], "%.1f")))
        return "\n".join(L)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (median), >= 3")
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per ingest run")
    ap.add_argument("--sqlite-seconds", type=float, default=1.5)
    ap.add_argument("--rate", type=int, default=1000, help="events/s for the latency run")
    ap.add_argument("--latency-seconds", type=float, default=None,
                    help="seconds per latency run (default 5, 10 with --full)")
    ap.add_argument("--max-seconds", type=float, default=3.0,
                    help="seconds of ingest per max-delivery-rate run")
    ap.add_argument("--drain-seconds", type=float, default=2.0)
    ap.add_argument("--footprint-events", type=int, default=200000)
    ap.add_argument("--replay-events", type=int, default=100000,
                    help="archived events each replay run replays")
    ap.add_argument("--full", action="store_true",
                    help="1M events for the RSS figure, 10 s latency runs")
    ap.add_argument("--only", default="ingest,delivery,matching,footprint,replay,forward,queue")
    ap.add_argument("--tmp", default=None, help="parent of the temp dirs (default: $TMPDIR)")
    ap.add_argument("--out", default=None, help="results file (default BUILD/bench/results.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    a = ap.parse_args()
    if a.runs < 3:
        ap.error("--runs must be at least 3")
    if a.latency_seconds is None:
        a.latency_seconds = 10.0 if a.full else 5.0

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    b = None
    t0 = time.time()
    try:
        b = Bench(a)
        only = set(a.only.split(","))
        for part in ("ingest", "delivery", "matching", "footprint", "replay", "forward", "queue"):
            if part in only:
                getattr(b, part)()
        b.results["total_seconds"] = time.time() - t0
        out = a.out or os.path.join(b.build, "bench", "results.json")
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            json.dump(b.results, f, indent=1, sort_keys=True)
        print(b.table())
        print("\n(total %.0f s; raw figures in %s)" % (time.time() - t0, out))
        return 0
    except BenchError as e:
        log("bench: " + str(e))
        return 1
    except KeyboardInterrupt:
        log("bench: interrupted")
        return 130
    finally:
        stop_all()
        if b and not a.keep:
            shutil.rmtree(b.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

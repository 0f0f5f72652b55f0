"""Process lifecycle: restart keeps state, kill -9 after a 200 loses nothing, SIGTERM drains and
exits 0, SIGHUP reloads what it can."""
import os
import signal
import threading
import time
import unittest

from lbharness import Daemon


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()

    def tearDown(self):
        self.d.cleanup()

    def test_restart_keeps_buses_and_events(self):
        self.d.start()
        c = self.d.client()
        status, _, _ = self.d.api("CreateEventBus", {"Name": "kept", "Description": "survives"})
        self.assertEqual(status, 200)
        r = c.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": "{\"n\":1}",
                                   "EventBusName": "kept"}])
        created = self.d.api("DescribeEventBus", {"Name": "kept"})[1]["CreationTime"]
        default_created = self.d.api("DescribeEventBus", {})[1]["CreationTime"]
        self.assertEqual(self.d.stop(), 0)
        # A clean stop checkpoints the WAL away: only the database file is left (and the key
        # that seals connection secrets, kept in the data dir when there is no config file).
        self.assertEqual(sorted(os.listdir(os.path.join(self.d.data_dir, "var"))),
                         ["localbridge.db", "localbridge.key"])
        self.d.start()
        c = self.d.client()
        d = self.d.api("DescribeEventBus", {"Name": "kept"})[1]
        self.assertEqual((d["Description"], d["CreationTime"]), ("survives", created))
        self.assertEqual(self.d.api("DescribeEventBus", {})[1]["CreationTime"], default_created)
        self.assertEqual(self.d.events(bus="kept")[0]["id"], r["Entries"][0]["EventId"])
        self.assertEqual(self.d.stop(), 0)

    def test_kill9_after_200_keeps_every_event(self):
        self.d.start()
        c = self.d.client()
        accepted = []
        for i in range(50):
            r = c.put_events(Entries=[{"Source": "k", "DetailType": str(i), "Detail": "{}"}])
            accepted.append(r["Entries"][0]["EventId"])
        self.d.kill9()
        self.d.start()
        stored = {e["id"] for e in self.d.events(limit=10000)}
        self.assertEqual(set(accepted) - stored, set())
        self.assertEqual(self.d.stop(), 0)

    def test_kill9_under_concurrent_load(self):
        self.d.start()
        accepted = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer():
            c = self.d.client()
            while not stop.is_set():
                try:
                    r = c.put_events(Entries=[{"Source": "c", "DetailType": "t",
                                               "Detail": "{}"}] * 10)
                except Exception:
                    return
                with lock:
                    accepted.extend(e["EventId"] for e in r["Entries"])

        threads = [threading.Thread(target=writer) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        self.d.kill9()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(accepted), 0)
        self.d.start()
        stored = [e["id"] for e in self.d.events(limit=100000)]
        self.assertEqual(set(accepted) - set(stored), set())
        self.assertEqual(len(stored), len(set(stored)))  # no event stored twice
        self.assertEqual(self.d.stop(), 0)

    def test_sigterm_finishes_in_flight_and_exits_0(self):
        self.d.start()
        c = self.d.client()
        results = []

        def put():
            try:
                results.append(c.put_events(Entries=[{"Source": "s", "DetailType": "t",
                                                      "Detail": "{}"}] * 10))
            except Exception as e:  # a refused connection after shutdown began is fine
                results.append(e)

        threads = [threading.Thread(target=put) for _ in range(10)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        self.assertEqual(self.d.stop(signal.SIGTERM), 0)
        for t in threads:
            t.join()
        ok = [r for r in results if isinstance(r, dict)]
        self.d.start()
        stored = {e["id"] for e in self.d.events(limit=10000)}
        for r in ok:
            for e in r["Entries"]:
                self.assertIn(e["EventId"], stored)
        self.assertEqual(self.d.stop(signal.SIGINT), 0)

    def test_sighup_reloads_log_level(self):
        conf = os.path.join(self.d.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("log_level = info\n")
        self.d.args = ["--config", conf]
        # --config given twice: the harness passes --config "" first; the last one wins.
        self.d.start()
        with open(conf, "w") as f:
            f.write("log_level = debug\nregion = eu-west-2\n")
        self.d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while time.time() < deadline and "configuration reloaded" not in self.d.logs():
            time.sleep(0.05)
        logs = self.d.logs()
        self.assertIn("configuration reloaded", logs)
        self.assertIn("log_level=debug", logs)
        self.assertIn("region", logs.split("restart")[-1] if "restart" in logs else "")
        self.assertEqual(self.d.stop(), 0)

    def test_bad_config_fails_clearly(self):
        conf = os.path.join(self.d.data_dir, "bad.conf")
        with open(conf, "w") as f:
            f.write("listen = 127.0.0.1:0\nno_such_option = 1\n")
        import subprocess
        from lbharness import BINARY
        p = subprocess.run([BINARY, "serve", "--config", conf], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("bad.conf:2", p.stderr)

    def test_help_and_version(self):
        import subprocess
        from lbharness import BINARY
        p = subprocess.run([BINARY, "--version"], stdout=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("localbridge "))
        p = subprocess.run([BINARY, "--help"], stdout=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--listen", p.stdout)
        self.assertIn("--data-dir", p.stdout)
        # Regression: the options header and --config were listed twice.
        flags = [line.split()[0] for line in p.stdout.splitlines() if line.startswith("  --")]
        self.assertEqual(len(flags), len(set(flags)), flags)
        self.assertEqual(p.stdout.count("Options ("), 1)

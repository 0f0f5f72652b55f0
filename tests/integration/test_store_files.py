"""The database files on disk: deleting them while the daemon runs loses nothing acknowledged
(B7), and one data dir serves one daemon at a time (a second `serve` used to start and silently
diverge)."""
import glob
import json
import os
import subprocess
import threading
import time
import unittest

from lbharness import BINARY, Daemon


def all_event_ids(d):
    """Every stored event id, following NextToken."""
    ids, token = [], None
    while True:
        q = "/_localbridge/events?limit=1000000" + ("&next_token=" + token if token else "")
        status, _, data = d.request("GET", q)
        assert status == 200, data
        body = json.loads(data)
        ids += [e["id"] for e in body["Events"]]
        token = body.get("NextToken")
        if not token:
            return ids


class DatabaseDeleted(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()

    def tearDown(self):
        self.d.cleanup()

    def db_files(self):
        return glob.glob(os.path.join(self.d.data_dir, "var", "localbridge.db*"))

    def test_b7_database_deleted_under_load_loses_nothing(self):
        self.d.start()
        acked, lock, stop = [], threading.Lock(), threading.Event()

        def writer(n):
            i = 0
            while not stop.is_set():
                status, body, _ = self.d.api("PutEvents", {"Entries": [
                    {"Source": "b7", "DetailType": "w%d" % n, "Detail": json.dumps({"i": i})}]})
                i += 1
                if status == 200 and body["FailedEntryCount"] == 0:
                    with lock:
                        acked.extend(e["EventId"] for e in body["Entries"])

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        files = self.db_files()
        self.assertIn(os.path.join(self.d.data_dir, "var", "localbridge.db"), files)
        for f in files:
            os.unlink(f)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join()
        # Once more when idle: the writer notices a deletion without a commit to trigger it.
        for f in self.db_files():
            os.unlink(f)
        deadline = time.time() + 5
        while time.time() < deadline and not os.path.exists(
                os.path.join(self.d.data_dir, "var", "localbridge.db")):
            time.sleep(0.05)
        self.assertEqual(self.d.request("GET", "/health")[0], 200)
        self.assertGreater(len(acked), 20)
        self.assertEqual(self.d.stop(), 0)
        self.assertIn("database file deleted or replaced while running", self.d.logs())
        self.d.start()
        stored = set(all_event_ids(self.d))
        self.assertEqual(set(acked) - stored, set(), "acknowledged events lost")
        self.assertEqual(self.d.stop(), 0)

    def test_b7_restore_impossible_refuses_writes_and_fails_health(self):
        self.d.start()
        status, _, _ = self.d.api("PutEvents", {"Entries": [
            {"Source": "b7", "DetailType": "x", "Detail": "{}"}]})
        self.assertEqual(status, 200)
        var = os.path.join(self.d.data_dir, "var")
        # A directory where the restore writes its temporary copy: writing back must fail
        # (root ignores permissions, so a read-only directory would not do). Made before the
        # files go: the daemon notices a deletion at once and would restore before the mkdir.
        blocker = os.path.join(var, "localbridge.db.restore")
        os.mkdir(blocker)
        for f in self.db_files():
            if f != blocker:
                os.unlink(f)
        status, body, headers = self.d.api("PutEvents", {"Entries": [
            {"Source": "b7", "DetailType": "y", "Detail": "{}"}]})
        self.assertEqual((status, body["__type"]), (500, "InternalException"), body)
        self.assertIn("could not be restored", body["message"])
        self.assertIn("x-amzn-RequestId", headers)
        status, body, _ = self.d.api("PutEvents", {"Entries": [
            {"Source": "b7", "DetailType": "z", "Detail": "{}"}]})
        self.assertEqual(status, 500)
        status, _, data = self.d.request("GET", "/health")
        self.assertEqual(status, 503, data)
        health = json.loads(data)
        self.assertEqual(health["status"], "failing")
        self.assertIn("could not be restored", health["reason"])
        self.d.stop()
        self.assertIn("could not restore the deleted database file", self.d.logs())


class OneDaemonPerDataDir(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()

    def tearDown(self):
        self.d.cleanup()

    def second_serve(self):
        """Runs a second `localbridge serve` on the same data dir; returns (exit code, stderr)."""
        p = subprocess.run([BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                            os.path.join(self.d.data_dir, "var"), "--config", ""],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10, text=True)
        return p.returncode, p.stderr

    def test_second_daemon_on_same_data_dir_refuses_to_start(self):
        self.d.start()
        rc, err = self.second_serve()
        self.assertNotEqual(rc, 0)
        self.assertIn("in use by another LocalBridge (pid %d" % self.d.proc.pid, err)
        self.assertIn("localbridge.lock", err)
        # The first one is unaffected.
        self.assertEqual(self.d.request("GET", "/health")[0], 200)
        with open(os.path.join(self.d.data_dir, "var", "localbridge.lock")) as f:
            self.assertEqual(f.read().strip(), str(self.d.proc.pid))
        self.assertEqual(self.d.stop(), 0)

    def test_lock_is_released_by_stop_and_by_kill9(self):
        self.d.start()
        self.d.kill9()
        # The stale file is left behind, but the lock died with the process.
        self.assertTrue(os.path.exists(os.path.join(self.d.data_dir, "var", "localbridge.lock")))
        self.d.start()
        self.assertEqual(self.d.stop(), 0)
        self.assertFalse(os.path.exists(os.path.join(self.d.data_dir, "var", "localbridge.lock")))
        self.d.start()
        self.assertEqual(self.d.stop(), 0)


if __name__ == "__main__":
    unittest.main()

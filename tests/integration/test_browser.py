"""Safe in a web browser's neighbourhood, whatever `auth` says. Regression tests for the probes
of issue 11: a request naming `Host: attacker.example` (what a DNS-rebinding page sends) read
every event and ran PutRule; a cross-origin text/plain POST to /_localbridge/dead-letters/redrive
(what any web page can send without a preflight) redrove every dead letter. The database was
created 0644 under umask 022; now the data directory the daemon creates is 0700 and the database
0600."""
import json
import os
import stat
import time
import unittest

from lbharness import Daemon, DaemonTestCase


class HostAllowlist(DaemonTestCase):
    def test_rebinding_host_reads_nothing_and_changes_nothing(self):
        self.events_client.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}"}])
        status, _, data = self.daemon.request("GET", "/_localbridge/events?bus=default",
                                              headers={"Host": "attacker.example"})
        self.assertEqual(status, 403)
        body = json.loads(data)
        self.assertEqual(body["__type"], "ForbiddenException")
        self.assertNotIn("Events", body)
        status, body, _ = self.daemon.api(
            "PutRule", {"Name": "rebound", "EventPattern": '{"source":["x"]}'},
            {"Host": "attacker.example:%d" % self.daemon.port})
        self.assertEqual(status, 403)
        names = [r["Name"] for r in self.events_client.list_rules()["Rules"]]
        self.assertNotIn("rebound", names)
        for host in ("attacker.example", "localhost.attacker.example", "127.0.0.1.nip.io"):
            status, _, _ = self.daemon.request("GET", "/health", headers={"Host": host})
            self.assertEqual(status, 403, host)

    def test_ip_literals_and_localhost_are_served(self):
        for host in ("127.0.0.1:%d" % self.daemon.port, "localhost:%d" % self.daemon.port,
                     "localhost", "[::1]:%d" % self.daemon.port, "ui.localhost:8080",
                     "192.168.1.20:4010"):
            status, _, _ = self.daemon.request("GET", "/health", headers={"Host": host})
            self.assertEqual(status, 200, host)


class ConfiguredHosts(DaemonTestCase):
    daemon_args = ("--allowed-hosts", "localbridge, events.internal")

    def test_configured_names_are_served_others_not(self):
        for host, want in (("localbridge:4010", 200), ("EVENTS.internal", 200),
                           ("localbridge.evil", 403), ("127.0.0.1", 200)):
            status, _, _ = self.daemon.request("GET", "/health", headers={"Host": host})
            self.assertEqual(status, want, host)


class AdminCsrf(DaemonTestCase):
    def dead_letter_count(self):
        status, _, data = self.daemon.request("GET", "/_localbridge/dead-letters")
        self.assertEqual(status, 200)
        return len(json.loads(data)["DeadLetters"])

    def setUp(self):
        # A target nothing can reach is dead-lettered at once: something to redrive.
        c = self.events_client
        c.put_rule(Name="csrf", EventPattern='{"source":["csrf"]}')
        c.put_targets(Rule="csrf", Targets=[{"Id": "q", "Arn":
                                             "arn:aws:sqs:us-east-1:000000000000:nowhere"}])
        c.put_events(Entries=[{"Source": "csrf", "DetailType": "t", "Detail": "{}"}])
        deadline = time.time() + 10
        while time.time() < deadline and self.dead_letter_count() == 0:
            time.sleep(0.05)
        self.assertGreater(self.dead_letter_count(), 0)

    def post(self, headers, body=b"{}"):
        status, _, data = self.daemon.request("POST", "/_localbridge/dead-letters/redrive", body,
                                              headers)
        return status, json.loads(data)

    def test_cross_origin_text_plain_post_redrives_nothing(self):
        before = self.dead_letter_count()
        # What a page on another origin can send without a preflight.
        status, body = self.post({"Content-Type": "text/plain;charset=UTF-8",
                                  "Origin": "http://attacker.example",
                                  "Sec-Fetch-Site": "cross-site"})
        self.assertEqual((status, body["__type"]), (403, "ForbiddenException"))
        status, body = self.post({"Content-Type": "text/plain"})
        self.assertEqual((status, body["__type"]), (415, "UnsupportedMediaTypeException"))
        self.assertEqual(body["message"],
                         "LocalBridge's admin endpoints take Content-Type: application/json.")
        status, body = self.post({"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 415)
        status, body = self.post({"Content-Type": "application/json",
                                  "Origin": "http://attacker.example"})
        self.assertEqual(status, 403)
        status, body = self.post({"Content-Type": "application/json", "Origin": "null"})
        self.assertEqual(status, 403)
        status, body = self.post({"Content-Type": "application/json",
                                  "Sec-Fetch-Site": "same-site"})
        self.assertEqual(status, 403)
        self.assertEqual(self.dead_letter_count(), before)
        status, _, _ = self.daemon.request(
            "POST", "/_localbridge/test-event-pattern", b"{}",
            {"Content-Type": "text/plain", "Origin": "http://attacker.example"})
        self.assertEqual(status, 403)

    def test_same_origin_json_post_works(self):
        origin = "http://127.0.0.1:%d" % self.daemon.port
        status, body = self.post({"Content-Type": "application/json", "Origin": origin,
                                  "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(status, 200, body)
        self.assertGreaterEqual(body["Redriven"], 1)


class FileModes(unittest.TestCase):
    def test_created_private_and_old_databases_made_private(self):
        d = Daemon().start()
        try:
            var = os.path.join(d.data_dir, "var")
            self.assertEqual(stat.S_IMODE(os.stat(var).st_mode), 0o700)
            d.client().put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}"}])
            for name in ("localbridge.db", "localbridge.db-wal", "localbridge.db-shm",
                         "localbridge.lock"):
                path = os.path.join(var, name)
                if os.path.exists(path):
                    self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, name)
            self.assertEqual(d.stop(), 0)
            # A database an older LocalBridge left readable by everyone is made private.
            db = os.path.join(var, "localbridge.db")
            os.chmod(db, 0o644)
            d.start()
            self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o600)
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()

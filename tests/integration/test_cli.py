"""The client commands of the localbridge binary (issue 13) against the real daemon: status,
tail, events, event, test-pattern, dlq list|show|redrive, replay start|status|cancel; --json on
each, the endpoint from --endpoint-url or LOCALBRIDGE_ENDPOINT_URL, exit codes, and no colour
when stdout is not a terminal."""
import json
import os
import subprocess
import tempfile
import time

from lbharness import BINARY, DaemonTestCase

NOWHERE = "arn:aws:sqs:us-east-1:000000000000:nowhere"


class Cli(DaemonTestCase):
    def setUp(self):
        self.daemon.request("POST", "/_localbridge/reset", "{}")
        self.c = self.events_client

    def lb(self, *args, env=None, timeout=30, endpoint=True):
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        if endpoint:
            e["LOCALBRIDGE_ENDPOINT_URL"] = self.daemon.url
        e.update(env or {})
        p = subprocess.run([BINARY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=e, timeout=timeout)
        self.assertNotIn("\033[", p.stdout)  # not a terminal: no colour
        return p.returncode, p.stdout, p.stderr

    def put(self, source="app", detail=None):
        out = self.c.put_events(Entries=[{"Source": source, "DetailType": "t",
                                          "Detail": json.dumps(detail or {"n": 1})}])
        return out["Entries"][0]["EventId"]

    def dead_letter(self):
        self.c.put_rule(Name="r", EventPattern='{"source":["app"]}')
        self.c.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": NOWHERE}])
        event_id = self.put()
        self.daemon.request("GET", "/_localbridge/deliveries?target=%s&wait=5s" % NOWHERE)
        return event_id

    def test_status(self):
        self.c.put_rule(Name="r", EventPattern='{"source":["app"]}')
        rc, out, _ = self.lb("status")
        self.assertEqual(rc, 0)
        self.assertIn("default", out)
        self.assertIn("pending deliveries", out)
        rc, out, _ = self.lb("status", "--json")
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["rules"], 1)

    def test_endpoint_url_option_and_unreachable_daemon(self):
        rc, out, _ = self.lb("status", "--json", "--endpoint-url", self.daemon.url, endpoint=False)
        self.assertEqual(rc, 0)
        rc, _, err = self.lb("status", env={"LOCALBRIDGE_ENDPOINT_URL": "http://127.0.0.1:9"})
        self.assertEqual(rc, 3)
        self.assertIn("cannot reach the daemon", err)

    def test_usage_errors_exit_2(self):
        for args in (("events", "--bogus"), ("event",), ("test-pattern", "{}"),
                     ("dlq",), ("dlq", "redrive"), ("replay", "start", "x"),
                     ("events", "--since", "yesterday")):
            rc, _, err = self.lb(*args)
            self.assertEqual(rc, 2, args)
            self.assertTrue(err, args)

    def test_events_and_filters(self):
        a = self.put("a")
        b = self.put("b")
        rc, out, _ = self.lb("events")
        self.assertEqual(rc, 0)
        self.assertLess(out.index(b), out.index(a))  # newest first
        rc, out, _ = self.lb("events", "--json", "--source", "a")
        self.assertEqual([e["id"] for e in json.loads(out)["Events"]], [a])
        rc, out, _ = self.lb("events", "--json", "--limit", "1")
        self.assertEqual([e["id"] for e in json.loads(out)["Events"]], [b])
        rc, out, _ = self.lb("events", "--json", "--since", "1h")
        self.assertEqual(len(json.loads(out)["Events"]), 2)
        rc, out, _ = self.lb("events", "--json", "--since", "2099-01-01T00:00:00Z")
        self.assertEqual(json.loads(out)["Events"], [])

    def test_event_shows_its_deliveries(self):
        event_id = self.dead_letter()
        rc, out, _ = self.lb("event", event_id)
        self.assertEqual(rc, 0)
        self.assertIn("DEAD_LETTERED", out)
        self.assertIn("No local endpoint", out)
        rc, out, _ = self.lb("event", event_id, "--json")
        self.assertEqual(json.loads(out)["deliveries"][0]["target_arn"], NOWHERE)
        rc, _, err = self.lb("event", "11111111-2222-3333-4444-555555555555")
        self.assertEqual(rc, 1)
        self.assertIn("ResourceNotFoundException", err)

    def test_test_pattern(self):
        event = {"id": "1", "account": "1", "source": "app", "time": "2024-01-01T00:00:00Z",
                 "region": "us-east-1", "detail-type": "t", "detail": {"n": 1}}
        rc, out, _ = self.lb("test-pattern", '{"source":["app"]}', json.dumps(event))
        self.assertEqual((rc, out.strip()), (0, "match"))
        rc, out, _ = self.lb("test-pattern", '{"detail":{"n":[2]}}', json.dumps(event))
        self.assertEqual(rc, 1)
        self.assertIn("no match", out)
        self.assertIn("detail.n", out)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(event, f)
        try:
            rc, out, _ = self.lb("test-pattern", '{"source":["app"]}', "@" + f.name, "--json")
            self.assertEqual((rc, json.loads(out)), (0, {"Result": True}))
        finally:
            os.unlink(f.name)
        rc, _, err = self.lb("test-pattern", '{"source":"app"}', json.dumps(event))
        self.assertEqual(rc, 4)
        self.assertIn("InvalidEventPatternException", err)

    def test_test_pattern_against_a_stored_event(self):
        self.c.put_rule(Name="r", EventPattern='{"source":["app"]}')
        yes, no = self.put("app"), self.put("other")
        rc, out, _ = self.lb("test-pattern", "--rule", "r", "--event", yes)
        self.assertEqual((rc, out.strip()), (0, "match"))
        rc, out, _ = self.lb("test-pattern", "--rule", "r", "--event", no)
        self.assertEqual(rc, 1)
        self.assertIn('event has "other"', out)

    def test_dlq_list_show_redrive(self):
        event_id = self.dead_letter()
        rc, out, _ = self.lb("dlq", "list")
        self.assertEqual(rc, 0)
        self.assertIn(event_id, out)
        rc, out, _ = self.lb("dlq", "list", "--json")
        [dl] = json.loads(out)["DeadLetters"]
        rc, out, _ = self.lb("dlq", "show", str(dl["Id"]))
        self.assertEqual(rc, 0)
        self.assertIn("No local endpoint", out)
        rc, _, _ = self.lb("dlq", "show", "999999")
        self.assertEqual(rc, 1)
        rc, out, _ = self.lb("dlq", "redrive", str(dl["Id"]), "--json")
        self.assertEqual((rc, json.loads(out)), (0, {"Redriven": 1}))
        rc, out, _ = self.lb("dlq", "redrive", "--all", "--rule", "no-such-rule")
        self.assertEqual(rc, 1)  # nothing to redrive
        self.assertIn("redriven: 0", out)

    def test_tail_prints_events_and_deliveries_as_they_come(self):
        self.c.put_rule(Name="r", EventPattern='{"source":["app"]}')
        self.c.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": NOWHERE}])
        env = dict(os.environ, LOCALBRIDGE_ENDPOINT_URL=self.daemon.url)
        p = subprocess.Popen([BINARY, "tail", "--deliveries", "--count", "2", "--json"],
                             stdout=subprocess.PIPE, text=True, env=env)
        time.sleep(0.5)
        self.put("other")  # no rule: still shown
        first = json.loads(p.stdout.readline())
        event_id = self.put("app")
        lines = [first] + [json.loads(p.stdout.readline())]
        p.wait(10)
        self.assertEqual(p.returncode, 0)
        self.assertEqual([l["type"] for l in lines], ["event", "event"])
        self.assertEqual(lines[0]["data"]["rules"], [])
        self.assertEqual(lines[1]["data"]["id"], event_id)

    def test_tail_filters_and_text_output(self):
        env = dict(os.environ, LOCALBRIDGE_ENDPOINT_URL=self.daemon.url)
        p = subprocess.Popen([BINARY, "tail", "--pattern", '{"source":["wanted"]}', "--count", "1"],
                             stdout=subprocess.PIPE, text=True, env=env)
        time.sleep(0.5)
        self.put("unwanted")
        event_id = self.put("wanted")
        out, _ = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn(event_id, out)
        self.assertIn("wanted", out)
        self.assertNotIn("unwanted", out)
        rc, _, err = self.lb("tail", "--pattern", '{"source":"x"}')
        self.assertEqual(rc, 4)
        self.assertIn("ValidationException", err)

    def test_replay_start_status_cancel(self):
        bus_arn = self.c.describe_event_bus()["Arn"]
        self.c.create_archive(ArchiveName="arch", EventSourceArn=bus_arn)
        start = time.time() - 5
        for i in range(3):
            self.put(detail={"n": i})
        time.sleep(1.1)
        rc, out, err = self.lb("replay", "start", "rep1", "--archive", "arch",
                               "--from", str(int(start)), "--to", str(int(time.time())), timeout=60)
        self.assertEqual(rc, 0, err)
        self.assertIn("COMPLETED", out)
        rc, out, _ = self.lb("replay", "status", "rep1", "--json")
        self.assertEqual((rc, json.loads(out)["State"]), (0, "COMPLETED"))
        rc, out, _ = self.lb("replay", "status", "rep1")
        self.assertIn("100%", out)
        rc, _, err = self.lb("replay", "cancel", "rep1")
        self.assertEqual(rc, 4)  # a completed replay cannot be cancelled
        rc, _, _ = self.lb("replay", "status", "nope")
        self.assertEqual(rc, 1)
        rc, out, _ = self.lb("replay", "start", "rep2", "--archive", "arch", "--from",
                             str(int(start)), "--to", str(int(time.time())), "--no-wait", "--json")
        self.assertEqual(rc, 0)
        self.assertIn(json.loads(out)["State"], ("STARTING", "RUNNING", "COMPLETED"))
        rc, _, _ = self.lb("replay", "start", "rep3", "--archive", "nope", "--from", "0", "--to", "1")
        self.assertEqual(rc, 1)

    def test_help_lists_the_client_commands(self):
        p = subprocess.run([BINARY, "--help"], stdout=subprocess.PIPE, text=True)
        for cmd in ("tail", "events", "event ID", "test-pattern", "dlq", "replay", "status",
                    "--ephemeral", "Exit codes"):
            self.assertIn(cmd, p.stdout)

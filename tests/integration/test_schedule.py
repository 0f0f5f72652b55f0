"""Scheduled rules: ScheduleExpression validated with AWS's answers (recorded against AWS, in
tests/conformance/schedule.json), refused on custom buses, fired through the fire-now endpoint
with the exact event AWS sends delivered to a real HTTP target, and one real minute boundary:
the firing arrives within a second of it, a kill -9 right after it and a restart fire that minute
no second time, and minutes missed while the daemon was down are not back-filled."""
import datetime
import json
import os
import sqlite3
import time
import unittest

from lbharness import CONFORMANCE_DIR, Daemon, Sink

with open(os.path.join(CONFORMANCE_DIR, "schedule.json")) as f:
    RECORDED = json.load(f)


def iso_epoch(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class ScheduleBase(unittest.TestCase):
    paths = ()

    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        cls.daemon = Daemon()
        conf = os.path.join(cls.daemon.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("retry_base_delay = 50ms\nretry_max_delay = 200ms\ndelivery_timeout = 2s\n")
            for path in cls.paths:
                f.write("target_map = arn:aws:sqs:*:*:%s -> %s/ok/%s\n" % (path, cls.sink.url, path))
        cls.daemon.args = ["--config", conf]
        cls.daemon.start()
        cls.c = cls.daemon.client()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        logs = cls.daemon.logs()
        cls.daemon.cleanup()
        cls.sink.close()
        if rc != 0:
            raise AssertionError("daemon exited %r\n%s" % (rc, logs))

    def queue(self, path):
        return "arn:aws:sqs:us-east-1:000000000000:" + path

    def scheduled_rule(self, name, expression, path, **target):
        self.c.put_rule(Name=name, ScheduleExpression=expression)
        r = self.c.put_targets(Rule=name, Targets=[dict(Id="t", Arn=self.queue(path), **target)])
        self.assertEqual(r["FailedEntryCount"], 0)

    def fire(self, name, **extra):
        status, _, data = self.daemon.admin_post("/_localbridge/schedules/fire",
                                                 dict(Name=name, **extra))
        return status, json.loads(data)

    def assertAwsError(self, ctx, code, message=None):
        err = ctx.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if message is not None:
            self.assertEqual(err["Message"], message)

    def assertScheduledEvent(self, body, rule, time_text):
        """The event AWS sends for a firing, keys in AWS's order."""
        self.assertEqual(list(body), RECORDED["scheduled_event_keys"])
        self.assertEqual(body["version"], "0")
        self.assertRegex(body["id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                     r"[0-9a-f]{12}$")
        self.assertEqual(body["detail-type"], "Scheduled Event")
        self.assertEqual(body["source"], "aws.events")
        self.assertEqual(body["account"], "000000000000")
        self.assertEqual(body["time"], time_text)
        self.assertTrue(body["time"].endswith(":00Z"), body["time"])
        self.assertEqual(body["region"], "us-east-1")
        self.assertEqual(body["resources"], ["arn:aws:events:us-east-1:000000000000:rule/" + rule])
        self.assertEqual(body["detail"], {})


class Validation(ScheduleBase):
    def test_expressions_aws_accepted(self):
        for i, expr in enumerate(RECORDED["valid"]):
            self.c.put_rule(Name="ok%d" % i, ScheduleExpression=expr, State="DISABLED")
            got = self.c.describe_rule(Name="ok%d" % i)
            self.assertEqual(got["ScheduleExpression"], expr)
        listed = {r["Name"]: r for r in self.c.list_rules(NamePrefix="ok")["Rules"]}
        self.assertEqual(listed["ok0"]["ScheduleExpression"], RECORDED["valid"][0])
        self.assertEqual(listed["ok0"]["EventBusName"], "default")

    def test_expressions_aws_refused(self):
        err = RECORDED["invalid_error"]
        unrecorded = ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(5 weeks)",
                      "cron(0 1 ? * ? *)", "cron(0 1 1 * MON *)", "cron(0 10 * * ?)",
                      "cron(*/60 * * * ? *)", "cron(0 0 ? * 1#6 *)", "cron(0 0 * * ? 1969)",
                      "cron(0 0 L,5 * ? *)", "rate(5 minutes) ", "every 5 minutes"]
        for expr in RECORDED["invalid"] + unrecorded:
            with self.assertRaises(self.c.exceptions.ClientError, msg=expr) as ctx:
                self.c.put_rule(Name="bad", ScheduleExpression=expr)
            self.assertAwsError(ctx, err["Code"], err["Message"])
        with self.assertRaises(self.c.exceptions.ResourceNotFoundException):
            self.c.describe_rule(Name="bad")

    def test_refused_on_custom_buses(self):
        err = RECORDED["custom_bus_error"]
        self.c.create_event_bus(Name="custom")
        with self.assertRaises(self.c.exceptions.ClientError) as ctx:
            self.c.put_rule(Name="s", EventBusName="custom", ScheduleExpression="rate(5 minutes)")
        self.assertAwsError(ctx, err["Code"], err["Message"])
        arn = self.c.describe_event_bus(Name="custom")["Arn"]
        with self.assertRaises(self.c.exceptions.ClientError) as ctx:
            self.c.put_rule(Name="s", EventBusName=arn, ScheduleExpression="cron(0 12 * * ? *)")
        self.assertAwsError(ctx, err["Code"], err["Message"])
        # The default bus named by its ARN is the default bus.
        default_arn = self.c.describe_event_bus()["Arn"]
        self.c.put_rule(Name="s", EventBusName=default_arn, ScheduleExpression="rate(5 minutes)",
                        State="DISABLED")

    def test_aws_cli(self):
        rc, out, err = self.daemon.aws("put-rule", "--name", "cli", "--schedule-expression",
                                       "cron(0 18 ? * mon-fri *)", "--state", "DISABLED")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out["RuleArn"].endswith(":rule/cli"))
        rc, out, err = self.daemon.aws("put-rule", "--name", "cli2", "--schedule-expression",
                                       "rate(1 hours)")
        self.assertNotEqual(rc, 0)
        self.assertIn("Parameter ScheduleExpression is not valid.", err)


class FireNow(ScheduleBase):
    paths = ("cron", "rate", "custom", "pattern", "redo")

    def test_cron_rule_fires_the_exact_event(self):
        self.scheduled_rule("nightly", "cron(0 2 * * ? *)", "cron")
        # A pattern rule of the default bus that would match the scheduled event gets nothing:
        # a firing reaches its own rule only, as in AWS.
        self.c.put_rule(Name="all-aws", EventPattern=json.dumps({"source": ["aws.events"]}))
        self.c.put_targets(Rule="all-aws", Targets=[{"Id": "p", "Arn": self.queue("pattern")}])
        before = time.time()
        status, out = self.fire("nightly")
        self.assertEqual(status, 200, out)
        got = self.sink.wait_for("/ok/cron", 1)
        self.assertEqual(len(got), 1)
        body = json.loads(got[0]["body"])
        minute = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(before))
        later = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(time.time()))
        self.assertIn(out["Time"], (minute, later))
        self.assertScheduledEvent(body, "nightly", out["Time"])
        self.assertEqual(body["id"], out["EventId"])
        # The event is stored on the default bus like any other.
        self.assertIn(out["EventId"], [e["id"] for e in self.daemon.events("default")])
        time.sleep(0.3)
        self.assertEqual(self.sink.requests("/ok/pattern"), [])

    def test_rate_rule_with_custom_input(self):
        self.scheduled_rule("every5", "rate(5 minutes)", "rate")
        # As recorded against AWS: a constant Input replaces the event.
        self.scheduled_rule("custom", "rate(1 minute)", "custom",
                            Input=json.dumps({"custom-value": "somecustominput"}))
        self.assertEqual(self.fire("every5")[0], 200)
        self.assertEqual(self.fire("custom")[0], 200)
        body = json.loads(self.sink.wait_for("/ok/rate", 1)[0]["body"])
        self.assertScheduledEvent(body, "every5", body["time"])
        self.assertEqual(json.loads(self.sink.wait_for("/ok/custom", 1)[0]["body"]),
                         {"custom-value": "somecustominput"})

    def test_refusals(self):
        self.c.put_rule(Name="plain", EventPattern=json.dumps({"source": ["x"]}))
        status, out = self.fire("plain")
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "ValidationException")
        self.assertEqual(out["message"],
                         "Rule plain has no ScheduleExpression; only a scheduled rule can be fired.")
        self.scheduled_rule("paused", "rate(1 day)", "redo")
        self.c.disable_rule(Name="paused")
        status, out = self.fire("paused")
        self.assertEqual((status, out["__type"]), (400, "ValidationException"))
        self.assertIn("DISABLED", out["message"])
        self.c.enable_rule(Name="paused")
        self.assertEqual(self.fire("paused")[0], 200)
        self.assertEqual(len(self.sink.wait_for("/ok/redo", 1)), 1)
        status, out = self.fire("missing")
        self.assertEqual((status, out["__type"]), (400, "ResourceNotFoundException"))
        self.assertEqual(out["message"], "Rule missing does not exist on EventBus default.")
        status, out = self.fire("paused", EventBusName="nope")
        self.assertEqual((status, out["__type"]), (400, "ResourceNotFoundException"))
        status, _, data = self.daemon.admin_post("/_localbridge/schedules/fire", "{nope")
        self.assertEqual((status, json.loads(data)["__type"]), (400, "SerializationException"))
        status, _, data = self.daemon.request("GET", "/_localbridge/schedules/fire")
        self.assertEqual(status, 404)
        self.c.delete_rule(Name="paused", Force=True)
        self.assertEqual(self.fire("paused")[0], 400)


class RealMinute(ScheduleBase):
    """The one test that waits for a real minute boundary (up to about 65 s)."""
    paths = ("tick", "behind")

    def test_fires_on_time_and_survives_kill9_without_refiring_or_backfill(self):
        # Not in the last seconds of a minute: the rules must exist before the boundary.
        if time.time() % 60 > 57:
            time.sleep(60 - time.time() % 60 + 0.5)
        self.scheduled_rule("tick", "cron(* * * * ? *)", "tick")
        self.scheduled_rule("behind", "rate(1 minute)", "behind")
        boundary = (int(time.time()) // 60 + 1) * 60
        got = self.sink.wait_for("/ok/tick", 1, timeout=boundary - time.time() + 10)
        self.assertEqual(len(got), 1, self.daemon.logs())
        body = json.loads(got[0]["body"])
        self.assertScheduledEvent(body, "tick", time.strftime("%Y-%m-%dT%H:%M:00Z",
                                                              time.gmtime(boundary)))
        delay = got[0]["time"] - iso_epoch(body["time"])
        self.assertGreaterEqual(delay, 0)
        self.assertLess(delay, 1.0, "fired %.3f s after its minute" % delay)
        self.assertEqual(len(self.sink.wait_for("/ok/behind", 1)), 1)

        # kill -9 right after the firing, then restart within the same minute: the minute was
        # recorded with its event, so it does not fire again.
        self.daemon.kill9()
        # While it is down, "behind" is made to look as if it last fired ten minutes ago (a
        # daemon down for ten minutes): on restart it fires the current minute, late but within
        # it, and none of the nine minutes before.
        db = sqlite3.connect(os.path.join(self.daemon.data_dir, "var", "localbridge.db"))
        db.execute("UPDATE rules SET last_fired_ms = ? WHERE name = 'behind'",
                   ((boundary - 600) * 1000,))
        db.commit()
        db.close()
        self.daemon.start()
        self.c = self.daemon.client()
        self.assertLess(time.time(), boundary + 55, "the restart left the minute")
        behind = self.sink.wait_for("/ok/behind", 2, timeout=5)
        time.sleep(2)
        ticks = {json.loads(t["body"])["id"] for t in self.sink.requests("/ok/tick")}
        self.assertEqual(len(ticks), 1, ticks)
        # Two firings of "behind" in this minute (before and after the restart's reset of its last
        # firing). A delivery the kill -9 cut off before its outcome was recorded is sent again
        # after the restart (at least once), so count distinct events, not requests.
        behind = {json.loads(b["body"])["id"]: json.loads(b["body"])["time"]
                  for b in self.sink.requests("/ok/behind")}
        self.assertEqual(sorted(behind.values()), [body["time"]] * 2)
        stored = [e for e in self.daemon.events("default") if e["source"] == "aws.events"]
        self.assertEqual(sorted(e["time"] for e in stored), [body["time"]] * 3)
        # Still scheduled after the restart.
        self.assertEqual(self.c.describe_rule(Name="tick")["State"], "ENABLED")


if __name__ == "__main__":
    unittest.main()

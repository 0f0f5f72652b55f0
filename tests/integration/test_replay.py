"""Replays through boto3 and the AWS CLI, checked against AWS's recorded answers
(tests/conformance/archive-and-replay.snapshot.json): the bodies a replay delivers (id and time
kept, "replay-name" where AWS puts it, byte for byte the archived envelope otherwise), FilterArns,
listings, every recorded error, the limit of ten active replays, CancelReplay within a second, and
kill -9 in the middle of a replay: after a restart it resumes from its durable position, completes,
and every event of its window reaches the target at least once."""
import datetime
import json
import os
import re
import time
import unittest

import botocore.exceptions

from lbharness import Daemon, QuietSink, Sink
from snapshot import ACCOUNT, cli_error, client_error, normalize, recorded

ClientError = botocore.exceptions.ClientError
UTC = datetime.timezone.utc
PATTERN = {"source": ["core.update-account-command"],
           "detail-type": ["core.update-account-command"],
           "detail": {"command": ["update-account"]}}
DETAIL = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}
REGION = "us-east-1"


def bus_arn(name):
    return "arn:aws:events:%s:%s:event-bus/%s" % (REGION, ACCOUNT, name)


def rule_arn(bus, rule):
    if bus == "default":
        return "arn:aws:events:%s:%s:rule/%s" % (REGION, ACCOUNT, rule)
    return "arn:aws:events:%s:%s:rule/%s/%s" % (REGION, ACCOUNT, bus, rule)


def queue_arn(path):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, path.replace("/", "-"))


def entry(bus, **detail):
    d = dict(DETAIL, **detail)
    return {"Source": PATTERN["source"][0], "DetailType": PATTERN["detail-type"][0],
            "Detail": json.dumps(d), "EventBusName": bus}


def window():
    """A window holding everything archived so far: AWS accepts an EventEndTime in the future
    (LocalStack's recorded list tests end a minute after they start)."""
    now = datetime.datetime.now(UTC)
    return now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=1)


def wait_state(client, name, states, timeout=20):
    deadline = time.time() + timeout
    while True:
        r = client.describe_replay(ReplayName=name)
        if r["State"] in states or time.time() > deadline:
            return r
        time.sleep(0.02)


class ReplayCase(unittest.TestCase):
    """A daemon (account 111111111111, as the recordings) whose queue targets go to a sink."""
    paths = ()
    extra_args = ()
    sink_class = Sink

    @classmethod
    def setUpClass(cls):
        cls.sink = cls.sink_class()
        cls.daemon = Daemon(args=["--account-id", ACCOUNT] + list(cls.extra_args))
        conf = os.path.join(cls.daemon.data_dir, "lb.conf")
        with open(conf, "w") as f:
            # One sink path per queue, so each rule's deliveries can be told apart.
            for path in ["q-%d" % i for i in range(1, 200)] + ["cancel-q", "cancel-mid"]:
                f.write("target_map = %s -> %s/ok/%s\n" % (queue_arn("ok/" + path), cls.sink.url,
                                                           path))
        cls.daemon.args += ["--config", conf]
        cls.daemon.start()
        cls.c = cls.daemon.client()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        logs = cls.daemon.logs()
        cls.daemon.cleanup()
        cls.sink.close()
        if rc != 0:
            raise AssertionError("daemon exited %r on SIGTERM\n%s" % (rc, logs))

    def rule_to_sink(self, bus, rule, path, pattern=PATTERN):
        self.c.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
        self.c.put_targets(Rule=rule, EventBusName=bus,
                           Targets=[{"Id": "t", "Arn": queue_arn("ok/" + path)}])
        return "/ok/" + path

    def bodies(self, path, replayed=None):
        out = []
        for r in self.sink.requests(path):
            body = json.loads(r["body"])
            if replayed is None or ("replay-name" in body) == replayed:
                out.append(r["body"])
        return out

    def wait_bodies(self, path, n, replayed, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.bodies(path, replayed)
            if len(got) >= n:
                return got
            time.sleep(0.02)
        return self.bodies(path, replayed)


class Replays(ReplayCase):
    n = 0

    def fresh(self, prefix):
        Replays.n += 1
        return "%s-%d" % (prefix, Replays.n)

    def test_replay_reaches_only_filter_rules_as_aws_delivers(self):
        for kind in ("default", "custom"):
            with self.subTest(kind=kind):
                self._replay_to_filter_rule(kind)

    def _replay_to_filter_rule(self, kind):
        c = self.c
        bus = "default" if kind == "default" else self.fresh("test-bus")
        if kind == "custom":
            c.create_event_bus(Name=bus)
        rule, other = self.fresh("test-rule"), self.fresh("other-rule")
        path = self.rule_to_sink(bus, rule, self.fresh("q"))
        other_path = self.rule_to_sink(bus, other, self.fresh("q"))
        archive = self.fresh("test-archive")
        archive_arn = c.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus),
                                       EventPattern=json.dumps(PATTERN),
                                       RetentionDays=1)["ArchiveArn"]
        for _ in range(3):
            self.assertEqual(c.put_events(Entries=[entry(bus)])["FailedEntryCount"], 0)
        originals = self.wait_bodies(path, 3, False)
        self.assertEqual(len(originals), 3)
        start, end = window()
        name = self.fresh("test-replay")
        names = {name: "<replay-name>", bus: "<event-bus-name>", rule: "<rule-name>",
                 archive: "<archive-name>"}
        test = "TestReplay::test_start_list_describe_canceled_replay[%s]" % kind
        r = c.start_replay(ReplayName=name, Description="description of the replay",
                           EventSourceArn=archive_arn, EventStartTime=start, EventEndTime=end,
                           Destination={"Arn": bus_arn(bus), "FilterArns": [rule_arn(bus, rule)]})
        self.assertEqual(normalize(r, names), recorded(test, "start-replay"))
        self.assertEqual(wait_state(c, name, ("COMPLETED",))["State"], "COMPLETED")
        replayed = self.wait_bodies(path, 3, True)
        self.assertEqual(len(replayed), 3)
        # Byte for byte the archived envelope, with "replay-name" after "region", as AWS
        # delivered it; the same ids and times as the originals.
        self.assertEqual(sorted(replayed), sorted(
            o.replace('"region":"us-east-1",', '"region":"us-east-1","replay-name":"%s",' % name)
            for o in originals))
        want = recorded(test, "replay-messages")[0]["Body"]
        for body in replayed:
            b = json.loads(body)
            self.assertEqual(list(b), list(want))
            b["id"], b["time"] = want["id"], "date"
            self.assertEqual(normalize(b, dict(names, **{REGION: "<region>"})), want)
        # The rule left out of FilterArns got the originals only.
        time.sleep(0.2)
        self.assertEqual(len(self.bodies(other_path, True)), 0)
        self.assertEqual(len(self.bodies(other_path, False)), 3)
        listed = normalize(c.list_replays(NamePrefix=name), names)
        for x in listed["Replays"]:
            x["ReplayName"] = "replay-name"  # recorded with the name itself replaced
        self.assertEqual(listed, recorded(test, "list-replays"))
        described = normalize(c.describe_replay(ReplayName=name), names)
        described["ReplayName"] = "replay-name"
        self.assertEqual(described, recorded(test, "describe-replay"))
        # Replayed events are never archived.
        self.assertEqual(c.describe_archive(ArchiveName=archive)["EventCount"], 3)

    def test_without_filter_every_rule_gets_the_replay(self):
        c = self.c
        bus = self.fresh("all-rules-bus")
        c.create_event_bus(Name=bus)
        paths = [self.rule_to_sink(bus, self.fresh("rule"), self.fresh("q")) for _ in range(2)]
        arn = c.create_archive(ArchiveName=self.fresh("archive"),
                               EventSourceArn=bus_arn(bus))["ArchiveArn"]
        c.put_events(Entries=[entry(bus, n=i) for i in range(4)])
        start, end = window()
        name = self.fresh("replay")
        c.start_replay(ReplayName=name, EventSourceArn=arn, EventStartTime=start, EventEndTime=end,
                       Destination={"Arn": bus_arn(bus)})
        r = wait_state(c, name, ("COMPLETED",))
        self.assertEqual(r["State"], "COMPLETED")
        self.assertIn("EventLastReplayedTime", r)
        for p in paths:
            self.assertEqual(len(self.wait_bodies(p, 4, True)), 4)

    def test_window_selects_on_the_event_time(self):
        c = self.c
        bus = self.fresh("window-bus")
        c.create_event_bus(Name=bus)
        path = self.rule_to_sink(bus, "r", self.fresh("q"))
        arn = c.create_archive(ArchiveName=self.fresh("archive"),
                               EventSourceArn=bus_arn(bus))["ArchiveArn"]
        old = datetime.datetime(2024, 5, 6, 12, 0, 0, tzinfo=UTC)
        for minutes in (0, 5, 10):
            e = entry(bus, at=minutes)
            e["Time"] = old + datetime.timedelta(minutes=minutes)
            c.put_events(Entries=[e])
        name = self.fresh("replay")
        # [12:05, 12:10): the event at 12:05 only (the start is inclusive, the end exclusive).
        c.start_replay(ReplayName=name, EventSourceArn=arn,
                       EventStartTime=old + datetime.timedelta(minutes=5),
                       EventEndTime=old + datetime.timedelta(minutes=10),
                       Destination={"Arn": bus_arn(bus)})
        r = wait_state(c, name, ("COMPLETED",))
        self.assertEqual(r["EventLastReplayedTime"], old + datetime.timedelta(minutes=5))
        got = self.wait_bodies(path, 1, True)
        time.sleep(0.2)
        got = self.bodies(path, True)
        self.assertEqual([json.loads(b)["detail"]["at"] for b in got], [5])
        self.assertEqual(json.loads(got[0])["time"], "2024-05-06T12:05:00Z")

    def test_errors_match_aws(self):
        c = self.c
        bus = self.fresh("errors-bus")
        c.create_event_bus(Name=bus)
        archive = self.fresh("archive")
        arn = c.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus),
                               RetentionDays=1)["ArchiveArn"]
        now = datetime.datetime.now(UTC)
        start, end = now - datetime.timedelta(minutes=1), now
        missing = self.fresh("doesnotexist")
        test = "TestReplay::test_start_replay_error_unknown_event_bus"
        for key in ("start-replay-unknown-event-bus-error", "start-replay-wrong-event-bus-error"):
            with self.assertRaises(ClientError) as ctx:
                c.start_replay(ReplayName="r", Description="description of the replay",
                               EventSourceArn=arn, EventStartTime=start, EventEndTime=end,
                               Destination={"Arn": bus_arn(missing)})
            self.assertEqual(client_error(ctx.exception, {missing: "<event-bus-name>"}),
                             recorded(test, key))
            if key.startswith("start-replay-unknown"):
                c.create_event_bus(Name=missing)  # now it exists, but is not the archive's
        with self.assertRaises(ClientError) as ctx:
            c.start_replay(ReplayName="test-replay", EventSourceArn=arn.replace(archive, missing),
                           EventStartTime=start, EventEndTime=end,
                           Destination={"Arn": bus_arn("default")})
        self.assertEqual(client_error(ctx.exception, {missing: "<archive-name>"}),
                         recorded("TestReplay::test_start_replay_error_unknown_archive",
                                  "start-replay-unknown-archive-error"))
        for delta in (0, 10):
            t = datetime.datetime.now(UTC)
            with self.assertRaises(ClientError) as ctx:
                c.start_replay(ReplayName=self.fresh("r"), EventSourceArn=arn, EventStartTime=t,
                               EventEndTime=t.replace(microsecond=0) -
                               datetime.timedelta(seconds=delta),
                               Destination={"Arn": bus_arn(bus)})
            self.assertEqual(
                client_error(ctx.exception, {}),
                recorded("TestReplay::test_start_replay_error_invalid_end_time[%d]" % delta,
                         "start-replay-invalid-end-time-error"))
        name = self.fresh("test-replay")
        c.start_replay(ReplayName=name, EventSourceArn=arn, EventStartTime=start,
                       EventEndTime=end, Destination={"Arn": bus_arn(bus)})
        other = c.create_archive(ArchiveName=self.fresh("archive"),
                                 EventSourceArn=bus_arn(missing))["ArchiveArn"]
        for test, source, dest in (
                ("TestReplay::test_start_replay_error_duplicate_name_same_archive", arn, bus),
                ("TestReplay::test_start_replay_error_duplicate_different_archive", other,
                 missing)):
            with self.assertRaises(ClientError) as ctx:
                c.start_replay(ReplayName=name, EventSourceArn=source, EventStartTime=start,
                               EventEndTime=end, Destination={"Arn": bus_arn(dest)})
            self.assertEqual(client_error(ctx.exception, {name: "<replay-name>"}),
                             recorded(test, "start-replay-duplicate-error"))
        with self.assertRaises(ClientError) as ctx:
            c.describe_replay(ReplayName=missing)
        self.assertEqual(client_error(ctx.exception, {missing: "<replay-name>"}),
                         recorded("TestReplay::test_describe_replay_error_unknown_replay",
                                  "describe-replay-unknown-replay-error"))
        # Where AWS is silent: a window that has not begun yet.
        with self.assertRaises(ClientError) as ctx:
            c.start_replay(ReplayName="future", EventSourceArn=arn,
                           EventStartTime=now + datetime.timedelta(hours=1),
                           EventEndTime=now + datetime.timedelta(hours=2),
                           Destination={"Arn": bus_arn(bus)})
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Parameter EventStartTime is not valid. Reason: EventStartTime must be "
                         "in the past.")
        wait_state(c, name, ("COMPLETED",))
        with self.assertRaises(ClientError) as ctx:
            c.cancel_replay(ReplayName=name)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "IllegalStatusException")
        status, body, _ = self.daemon.api("StartReplay", {"ReplayName": "x", "EventSourceArn": arn,
                                                          "EventStartTime": "yesterday",
                                                          "EventEndTime": 1, "Destination": {}})
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))

    def test_listings_match_aws(self):
        c = self.c
        bus = self.fresh("test-bus")
        c.create_event_bus(Name=bus)
        archive = self.fresh("test-archive")
        arn = c.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus),
                               RetentionDays=1)["ArchiveArn"]
        start = datetime.datetime.now(UTC)
        end = start + datetime.timedelta(minutes=1)
        prefix = self.fresh("lst")
        for i in range(6):
            name = "%s-test-replay-%d" % (prefix, i)
            c.start_replay(ReplayName=name, Description="description of the replay",
                           EventSourceArn=arn, EventStartTime=start, EventEndTime=end,
                           Destination={"Arn": bus_arn(bus)})
            self.assertEqual(wait_state(c, name, ("COMPLETED",))["State"], "COMPLETED")
        names = {prefix: "<replay-name-prefix>", archive: "<archive-name>"}
        test = "TestReplay::test_list_replay_with_limit"
        r = c.list_replays(Limit=3, NamePrefix=prefix)
        token = r["NextToken"]
        got = normalize(r, names)
        got["NextToken"] = "<next_token:1>"
        self.assertEqual(got, recorded(test, "list-replays-with-limit"))
        r = c.list_replays(Limit=5, NextToken=token, NamePrefix=prefix)
        self.assertEqual(normalize(r, names), recorded(test, "list-replays-with-limit-next-token"))
        # EventSourceArn and a full name as the prefix.
        names = {arn: "<archive-arn>"}
        r = c.list_replays(EventSourceArn=arn, Limit=1)
        self.assertEqual(len(r["Replays"]), 1)
        one = "%s-test-replay-0" % prefix
        got = normalize(c.list_replays(NamePrefix=one), dict(names, **{one: "<replay-name>"}))
        self.assertEqual(got, recorded("TestReplay::test_list_replays_with_event_source_arn",
                                       "list-replays-with-event-source-arn"))
        self.assertEqual(c.list_replays(State="FAILED")["Replays"], [])

    def test_the_cli(self):
        c = self.c
        bus = self.fresh("cli-bus")
        c.create_event_bus(Name=bus)
        path = self.rule_to_sink(bus, "r", self.fresh("q"))
        arn = c.create_archive(ArchiveName=self.fresh("archive"),
                               EventSourceArn=bus_arn(bus))["ArchiveArn"]
        c.put_events(Entries=[entry(bus)])
        start, end = window()
        name = self.fresh("cli-replay")
        rc, out, err = self.daemon.aws(
            "start-replay", "--replay-name", name, "--event-source-arn", arn,
            "--event-start-time", start.isoformat(), "--event-end-time", end.isoformat(),
            "--destination", json.dumps({"Arn": bus_arn(bus),
                                         "FilterArns": [rule_arn(bus, "r")]}))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["State"], "STARTING")
        wait_state(c, name, ("COMPLETED",))
        rc, out, err = self.daemon.aws("describe-replay", "--replay-name", name)
        self.assertEqual((out["State"], out["Destination"]["FilterArns"]),
                         ("COMPLETED", [rule_arn(bus, "r")]))
        rc, out, err = self.daemon.aws("list-replays", "--name-prefix", name)
        self.assertEqual([x["ReplayName"] for x in out["Replays"]], [name])
        rc, out, err = self.daemon.aws("cancel-replay", "--replay-name", name)
        self.assertEqual(cli_error(err, {}), (
            "IllegalStatusException",
            "Replay %s is not in a valid state for this operation." % name))
        rc, out, err = self.daemon.aws("describe-replay", "--replay-name", "nope")
        self.assertEqual(cli_error(err, {}), ("ResourceNotFoundException",
                                              "Replay nope does not exist."))
        self.assertEqual(len(self.wait_bodies(path, 1, True)), 1)


class SlowReplays(ReplayCase):
    """Replays of one event a second: they stay active long enough to be counted and cancelled."""
    extra_args = ("--replay-batch-size", "1", "--replay-interval", "1s")

    def archive_with_events(self, bus, n):
        self.c.create_event_bus(Name=bus)
        arn = self.c.create_archive(ArchiveName="archive-" + bus,
                                    EventSourceArn=bus_arn(bus))["ArchiveArn"]
        for i in range(0, n, 10):
            self.c.put_events(Entries=[entry(bus, n=k) for k in range(i, min(n, i + 10))])
        return arn

    def test_cancel_stops_within_a_second(self):
        c = self.c
        bus = "cancel-bus"
        arn = self.archive_with_events(bus, 20)
        path = self.rule_to_sink(bus, "test-rule", "cancel-q")
        start, end = window()
        name = "test-replay-canceled"
        names = {name: "<replay-canceled-name>", bus: "<event-bus-name>",
                 "test-rule": "<rule-name>", "archive-" + bus: "<archive-name>"}
        c.start_replay(ReplayName=name, Description="description of the replay",
                       EventSourceArn=arn, EventStartTime=start, EventEndTime=end,
                       Destination={"Arn": bus_arn(bus),
                                    "FilterArns": [rule_arn(bus, "test-rule")]})
        t0 = time.time()
        r = c.cancel_replay(ReplayName=name)
        test = "TestReplay::test_start_list_describe_canceled_replay[custom]"
        self.assertEqual(normalize(r, names), recorded(test, "cancel-replay"))
        d = normalize(c.describe_replay(ReplayName=name), names)
        # Recorded with its State unchecked: CANCELLING, or CANCELLED already.
        self.assertIn(d.pop("State"), ("CANCELLING", "CANCELLED"))
        d.pop("ReplayEndTime", None)
        d["ReplayName"] = "replay-name"
        want = dict(recorded(test, "describe-replay-canceled"))
        want.pop("State")
        self.assertEqual(d, want)
        r = wait_state(c, name, ("CANCELLED",), timeout=5)
        self.assertEqual(r["State"], "CANCELLED")
        self.assertLess(time.time() - t0, 1.0)
        self.assertIn("ReplayEndTime", r)
        time.sleep(1.5)
        self.assertEqual(self.bodies(path, True), [])

    def test_cancel_mid_replay_keeps_what_was_sent(self):
        c = self.c
        arn = self.archive_with_events("cancel-mid-bus", 30)
        path = self.rule_to_sink("cancel-mid-bus", "r", "cancel-mid")
        start, end = window()
        c.start_replay(ReplayName="mid", EventSourceArn=arn, EventStartTime=start,
                       EventEndTime=end, Destination={"Arn": bus_arn("cancel-mid-bus")})
        self.assertEqual(len(self.wait_bodies(path, 2, True, timeout=10)), 2)
        t0 = time.time()
        self.assertEqual(c.cancel_replay(ReplayName="mid")["State"], "CANCELLING")
        r = wait_state(c, "mid", ("CANCELLED",), timeout=5)
        self.assertEqual(r["State"], "CANCELLED")
        self.assertLess(time.time() - t0, 1.0)
        self.assertIn("EventLastReplayedTime", r)
        sent = len(self.bodies(path, True))
        time.sleep(1.5)
        self.assertEqual(len(self.bodies(path, True)), sent)
        self.assertLess(sent, 30)

    def test_at_most_ten_active_replays(self):
        c = self.c
        arn = self.archive_with_events("limit-bus", 5)
        start, end = window()
        for i in range(10):
            c.start_replay(ReplayName="limit-%d" % i, EventSourceArn=arn, EventStartTime=start,
                           EventEndTime=end, Destination={"Arn": bus_arn("limit-bus")})
        with self.assertRaises(ClientError) as ctx:
            c.start_replay(ReplayName="limit-10", EventSourceArn=arn, EventStartTime=start,
                           EventEndTime=end, Destination={"Arn": bus_arn("limit-bus")})
        self.assertEqual(client_error(ctx.exception, {}),
                         recorded("TestReplay::tests_concurrency_error_too_many_active_replays",
                                  "list-replays-with-limit"))
        rc, out, err = self.daemon.aws(
            "start-replay", "--replay-name", "limit-10", "--event-source-arn", arn,
            "--event-start-time", start.isoformat(), "--event-end-time", end.isoformat(),
            "--destination", json.dumps({"Arn": bus_arn("limit-bus")}))
        self.assertEqual(cli_error(err, {})[0], "LimitExceededException")
        for i in range(10):
            c.cancel_replay(ReplayName="limit-%d" % i)
        for i in range(10):
            self.assertEqual(wait_state(c, "limit-%d" % i, ("CANCELLED",))["State"], "CANCELLED")
        _, _, m = self.daemon.request("GET", "/metrics")
        self.assertIn('localbridge_replay_state{region="us-east-1",replay_name="limit-0",'
                      'state="CANCELLED"} 1', m.decode())


class KillNineMidReplay(unittest.TestCase):
    """kill -9 while a replay of 1000 events runs, then a restart: the replay resumes from its
    last committed batch, completes, and every event of the window reaches the target."""
    EVENTS = 1000

    def test_resumes_and_delivers_every_event(self):
        sink = QuietSink()
        d = Daemon(args=["--replay-batch-size", "20", "--replay-interval", "30ms"])
        try:
            conf = os.path.join(d.data_dir, "lb.conf")
            with open(conf, "w") as f:
                f.write("target_map = arn:aws:sqs:*:*:crash -> %s/ok/crash\n"
                        "retry_base_delay = 50ms\nretry_max_delay = 200ms\n" % sink.url)
            d.args += ["--config", conf]
            d.start()
            c = d.client()
            c.create_event_bus(Name="crash")
            arn = c.create_archive(ArchiveName="crash",
                                   EventSourceArn="arn:aws:events:us-east-1:000000000000:"
                                                  "event-bus/crash")["ArchiveArn"]
            ids = set()
            for i in range(0, self.EVENTS, 10):
                r = c.put_events(Entries=[{"Source": "s", "DetailType": "t",
                                           "Detail": json.dumps({"n": n}), "EventBusName": "crash"}
                                          for n in range(i, i + 10)])
                ids.update(e["EventId"] for e in r["Entries"])
            c.put_rule(Name="r", EventBusName="crash", EventPattern=json.dumps({"source": ["s"]}))
            c.put_targets(Rule="r", EventBusName="crash",
                          Targets=[{"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:crash"}])
            start, end = window()
            c.start_replay(ReplayName="crash", EventSourceArn=arn, EventStartTime=start,
                           EventEndTime=end,
                           Destination={"Arn": "arn:aws:events:us-east-1:000000000000:"
                                               "event-bus/crash"})
            replayed = 0
            deadline = time.time() + 30
            while time.time() < deadline:
                _, _, m = d.request("GET", "/metrics")
                found = re.search(r'localbridge_replay_events_replayed\{region="us-east-1",'
                                  r'replay_name="crash"\} (\d+)', m.decode())
                replayed = int(found.group(1)) if found else 0
                if replayed >= 200:
                    break
                time.sleep(0.02)
            self.assertTrue(200 <= replayed < self.EVENTS, replayed)
            d.kill9()
            d.start()
            c = d.client()
            r = wait_state(c, "crash", ("COMPLETED",), timeout=60)
            self.assertEqual(r["State"], "COMPLETED")
            self.assertIn("resuming replays", d.logs())
            deadline = time.time() + 30
            got = set()
            while time.time() < deadline:
                got = {json.loads(x["body"])["id"] for x in sink.requests("/ok/crash")
                       if json.loads(x["body"]).get("replay-name") == "crash"}
                if got >= ids:
                    break
                time.sleep(0.1)
            self.assertEqual(ids - got, set())
            _, _, m = d.request("GET", "/metrics")
            self.assertIn('localbridge_replay_events_replayed{region="us-east-1",'
                          'replay_name="crash"} %d' % self.EVENTS, m.decode())
        finally:
            d.cleanup()
            sink.close()


if __name__ == "__main__":
    unittest.main()

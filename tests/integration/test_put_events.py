"""PutEvents: accepted entries, every per-entry failure, request-level limits. Messages are AWS's
own (shared/conformance/aws-snapshots/test_events.snapshot.json)."""
import datetime
import json
import uuid

import botocore.exceptions

from lbharness import DaemonTestCase

ClientError = botocore.exceptions.ClientError


class PutEvents(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.events_client.create_event_bus(Name="pe")

    def put(self, *entries):
        return self.events_client.put_events(Entries=list(entries))

    def test_envelope_as_aws_delivers_it(self):
        t = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
        r = self.put({"Source": "shop", "DetailType": "OrderPlaced", "EventBusName": "pe",
                      "Detail": json.dumps({"id": 1, "nested": {"a": [1, 2]}}), "Time": t,
                      "Resources": ["arn:aws:s3:::bucket"]})
        self.assertEqual(r["FailedEntryCount"], 0)
        event_id = r["Entries"][0]["EventId"]
        uuid.UUID(event_id)
        env = self.daemon.events(bus="pe")[0]
        self.assertEqual(list(env.keys()), ["version", "id", "detail-type", "source", "account",
                                            "time", "region", "resources", "detail"])
        self.assertEqual(env, {
            "version": "0", "id": event_id, "detail-type": "OrderPlaced", "source": "shop",
            "account": "000000000000", "time": "2024-05-06T07:08:09Z", "region": "us-east-1",
            "resources": ["arn:aws:s3:::bucket"], "detail": {"id": 1, "nested": {"a": [1, 2]}}})

    def test_default_bus_and_bus_by_arn(self):
        r = self.put({"Source": "a", "DetailType": "b", "Detail": "{}"},
                     {"Source": "a", "DetailType": "b", "Detail": "{}",
                      "EventBusName": "arn:aws:events:us-east-1:000000000000:event-bus/pe"})
        self.assertEqual(r["FailedEntryCount"], 0)
        ids = [e["EventId"] for e in r["Entries"]]
        self.assertIn(ids[0], [e["id"] for e in self.daemon.events(bus="default")])
        self.assertIn(ids[1], [e["id"] for e in self.daemon.events(bus="pe")])

    def test_per_entry_failures_alongside_good_entries(self):
        good = {"Source": "s", "DetailType": "t", "Detail": "{\"ok\":true}", "EventBusName": "pe"}
        r = self.put(good,
                     {"DetailType": "t", "Detail": "{}"},
                     {"Source": "s", "Detail": "{}"},
                     {"Source": "s", "DetailType": "t"},
                     {"Source": "s", "DetailType": "t", "Detail": "\"a string\""},
                     {"Source": "s", "DetailType": "t", "Detail": "[1,2]"},
                     {"Source": "s", "DetailType": "t", "Detail": "{not json"},
                     good)
        self.assertEqual(r["FailedEntryCount"], 6)
        e = r["Entries"]
        self.assertIn("EventId", e[0])
        self.assertIn("EventId", e[7])
        self.assertEqual(e[1], {"ErrorCode": "InvalidArgument", "ErrorMessage":
                                "Parameter Source is not valid. Reason: Source is a required argument."})
        self.assertEqual(e[2], {"ErrorCode": "InvalidArgument", "ErrorMessage":
                                "Parameter DetailType is not valid. Reason: DetailType is a required argument."})
        self.assertEqual(e[3], {"ErrorCode": "InvalidArgument", "ErrorMessage":
                                "Parameter Detail is not valid. Reason: Detail is a required argument."})
        for i in (4, 5, 6):
            self.assertEqual(e[i], {"ErrorCode": "MalformedDetail",
                                    "ErrorMessage": "Detail is malformed."})
        stored = {ev["id"] for ev in self.daemon.events(bus="pe")}
        self.assertTrue({e[0]["EventId"], e[7]["EventId"]} <= stored)

    def test_all_entries_failing_stores_nothing(self):
        before = len(self.daemon.events(limit=10000))
        r = self.put({"DetailType": "t", "Detail": "{}"})
        self.assertEqual(r["FailedEntryCount"], 1)
        self.assertEqual(len(self.daemon.events(limit=10000)), before)

    def test_entry_count_limits(self):
        entry = {"Source": "s", "DetailType": "t", "Detail": "{}"}
        with self.assertRaises(ClientError) as ctx:
            self.put(*[entry] * 11)
        self.assertAwsError(ctx, "ValidationException")
        self.assertIn("Member must have length less than or equal to 10",
                      ctx.exception.response["Error"]["Message"])
        status, body, _ = self.daemon.api("PutEvents", {"Entries": []})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "ValidationException")
        status, body, _ = self.daemon.api("PutEvents", {})
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))

    def test_total_size_limit(self):
        big = json.dumps({"x": "a" * (256 * 1024)})
        with self.assertRaises(ClientError) as ctx:
            self.put({"Source": "s", "DetailType": "t", "Detail": big})
        self.assertAwsError(ctx, "ValidationException",
                            "Total size of the entries in the request is over the limit.")
        # Just under the limit, counted as AWS counts it (source + detail-type + detail bytes).
        detail = json.dumps({"x": "a" * (256 * 1024 - 100)})
        r = self.put({"Source": "s", "DetailType": "t", "Detail": detail})
        self.assertEqual(r["FailedEntryCount"], 0)

    def test_nonexistent_bus(self):
        with self.assertRaises(ClientError) as ctx:
            self.put({"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "nope"})
        self.assertAwsError(ctx, "ResourceNotFoundException", "Event bus nope does not exist.")

    def test_wrong_types(self):
        status, body, _ = self.daemon.api("PutEvents", {"Entries": [{"Source": 5}]})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "SerializationException")
        status, body, _ = self.daemon.api("PutEvents", {"Entries": "x"})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "SerializationException")

    def test_unicode_detail(self):
        r = self.put({"Source": "s", "DetailType": "t", "EventBusName": "pe",
                      "Detail": json.dumps({"name": "Zoë ✓ 日本"}, ensure_ascii=False)})
        env = [e for e in self.daemon.events(bus="pe") if e["id"] == r["Entries"][0]["EventId"]]
        self.assertEqual(env[0]["detail"], {"name": "Zoë ✓ 日本"})


class StrictDetail(DaemonTestCase):
    """Regression (issue 8, B1): a Detail that the old validator (cJSON) accepted but strict JSON
    refuses was acknowledged with an EventId, stored, never reached its matching rule, was not
    dead-lettered, and made GET /_localbridge/events answer invalid JSON. One strict parser now
    decides, at PutEvents time."""

    BAD = ['{"a":01}', '{"a":1.}', '{"a":1.e5}', '{"a":"x\ty"}', '{"a":"x\ny"}',
           '\x0b{"a":1}', '{"a":1}\x0c', '\x01{"a":1}', '{"a":"\\ud800"}']

    @classmethod
    def setUpClass(cls):
        import os
        import sys
        from lbharness import Daemon, Sink
        # Python's json recurses once per level: 1000 levels need more than its default stack.
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
        cls.sink = Sink()
        cls.daemon = Daemon()
        conf = os.path.join(cls.daemon.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("target_map = arn:aws:sqs:*:*:strict -> %s/ok/strict\n" % cls.sink.url)
        cls.daemon.args = ["--config", conf]
        cls.daemon.start()
        cls.events_client = cls.daemon.client()
        cls.events_client.create_event_bus(Name="strict-bad")
        cls.events_client.put_rule(Name="strict", EventPattern=json.dumps({"source": ["strict"]}))
        cls.events_client.put_targets(Rule="strict", Targets=[
            {"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:strict"}])

    @classmethod
    def tearDownClass(cls):
        cls.sink.close()
        super().tearDownClass()

    def test_malformed_details_are_refused_never_stored(self):
        for detail in self.BAD:
            r = self.events_client.put_events(Entries=[
                {"Source": "strict", "DetailType": "t", "Detail": detail,
                 "EventBusName": "strict-bad"}])
            self.assertEqual(r["FailedEntryCount"], 1, detail)
            self.assertEqual(r["Entries"][0]["ErrorCode"], "MalformedDetail", detail)
            self.assertNotIn("EventId", r["Entries"][0])
        # The listing stays valid JSON (daemon.events parses it) and holds none of them.
        self.assertEqual(self.daemon.events(bus="strict-bad", limit=1000), [])

    def test_deep_details_up_to_aws_limit_are_delivered(self):
        # 513-999 levels: accepted by cJSON, refused by the matcher's parser: stored, never
        # delivered. AWS processes nested JSON up to 1000 levels.
        for depth in (513, 999):
            detail = '{"d":' * (depth - 1) + "{}" + "}" * (depth - 1)
            r = self.events_client.put_events(Entries=[
                {"Source": "strict", "DetailType": "deep%d" % depth, "Detail": detail}])
            self.assertEqual(r["FailedEntryCount"], 0, depth)
        got = self.sink.wait_for("/ok/strict", 2)
        self.assertEqual(sorted(json.loads(g["body"])["detail-type"] for g in got),
                         ["deep513", "deep999"])
        too_deep = '{"d":' * 1000 + "{}" + "}" * 1000
        r = self.events_client.put_events(Entries=[
            {"Source": "strict", "DetailType": "deep1001", "Detail": too_deep}])
        self.assertEqual(r["Entries"][0]["ErrorCode"], "MalformedDetail")

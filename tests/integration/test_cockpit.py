"""The cockpit's admin endpoints (issue 13): GET /_localbridge/events/ID (the envelope and each
delivery's attempts), GET /_localbridge/deliveries (long-poll, woken by the outcome, not a
loop), GET /_localbridge/status, POST /_localbridge/reset, GET /_localbridge/metrics.json, and
the stored-event form of POST /_localbridge/test-event-pattern."""
import json
import threading
import time
import urllib.parse

from lbharness import Daemon, DaemonTestCase, Sink

OK = "arn:aws:sqs:us-east-1:000000000000:ok"
BAD = "arn:aws:sqs:us-east-1:000000000000:bad"
NOWHERE = "arn:aws:sqs:us-east-1:000000000000:nowhere"


class Cockpit(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        cls.daemon_args = ("--target-map", "arn:aws:sqs:*:*:ok -> %s/ok" % cls.sink.url,
                           "--target-map", "arn:aws:sqs:*:*:bad -> %s/status/503" % cls.sink.url,
                           "--target-map", "arn:aws:sqs:*:*:slow -> %s/slow/700" % cls.sink.url,
                           "--retry-base-delay", "20ms", "--retry-max-delay", "50ms")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.sink.close()

    def setUp(self):
        status, _, data = self.daemon.request("POST", "/_localbridge/reset", "{}")
        self.assertEqual((status, json.loads(data)), (200, {"reset": True}))
        self.c = self.events_client

    def get(self, path, timeout=10):
        status, headers, data = self.daemon.request("GET", path, timeout=timeout)
        self.assertIn("x-amzn-RequestId", headers)
        return status, json.loads(data)

    def rule_with(self, *targets, name="r"):
        self.c.put_rule(Name=name, EventPattern='{"source":["app"]}')
        self.c.put_targets(Rule=name, Targets=[
            {"Id": "t%d" % i, "Arn": arn, "RetryPolicy": {"MaximumRetryAttempts": 2}}
            for i, arn in enumerate(targets)])

    def put(self, detail=None):
        out = self.c.put_events(Entries=[{"Source": "app", "DetailType": "t",
                                          "Detail": json.dumps(detail or {"n": 1})}])
        return out["Entries"][0]["EventId"]

    def deliveries(self, arn, count=1, wait="5s"):
        q = urllib.parse.urlencode({"target": arn, "count": count, "wait": wait})
        return self.get("/_localbridge/deliveries?" + q, timeout=30)

    # ---- events/ID ----

    def test_event_shows_every_delivery_and_its_attempts(self):
        self.rule_with(OK, BAD, NOWHERE)
        event_id = self.put()
        self.deliveries(BAD, 1)
        self.deliveries(OK, 1)
        status, body = self.get("/_localbridge/events/" + event_id)
        self.assertEqual(status, 200)
        self.assertEqual(body["event"]["id"], event_id)
        self.assertEqual((body["bus"], body["region"]), ("default", "us-east-1"))
        by_target = {d["target_id"]: d for d in body["deliveries"]}
        ok, bad, nowhere = by_target["t0"], by_target["t1"], by_target["t2"]
        self.assertEqual((ok["status"], ok["dead_letter"], ok["target_arn"]), ("SUCCEEDED", False, OK))
        self.assertEqual([(a["attempt"], a["http_status"]) for a in ok["attempts"]], [(1, 200)])
        # 503 is retried: two retries, then the dead-letter store.
        self.assertEqual((bad["status"], bad["dead_letter"]), ("DEAD_LETTERED", True))
        self.assertEqual([(a["status"], a["http_status"]) for a in bad["attempts"]],
                         [("RETRYING", 503), ("RETRYING", 503), ("DEAD_LETTERED", 503)])
        self.assertIn("TARGET_SERVER_ERROR", bad["attempts"][0]["error"])
        # No route: a permanent failure at once, with the reason.
        self.assertEqual(nowhere["status"], "DEAD_LETTERED")
        self.assertIn("No local endpoint", nowhere["attempts"][0]["error"])
        for a in ok["attempts"] + bad["attempts"]:
            self.assertRegex(a["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertGreaterEqual(a["latency_ms"], 0)

    def test_event_without_matches_has_no_deliveries(self):
        event_id = self.put()
        status, body = self.get("/_localbridge/events/" + event_id)
        self.assertEqual((status, body["deliveries"]), (200, []))

    def test_unknown_event_is_not_found(self):
        status, body = self.get("/_localbridge/events/11111111-2222-3333-4444-555555555555")
        self.assertEqual((status, body["__type"]), (404, "ResourceNotFoundException"))
        status, body = self.get("/_localbridge/events/" + "x" * 65)
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))

    def test_a_redriven_dead_letter_shows_pending_again(self):
        self.rule_with(NOWHERE)
        event_id = self.put()
        self.deliveries(NOWHERE, 1)
        status, dl = self.get("/_localbridge/dead-letters")
        self.assertEqual(len(dl["DeadLetters"]), 1)
        self.daemon.request("POST", "/_localbridge/dead-letters/redrive",
                            json.dumps({"Ids": [dl["DeadLetters"][0]["Id"]]}))
        # It fails again at once (still no route): two final attempts now.
        got = self.deliveries(NOWHERE, 2)[1]["deliveries"]
        self.assertEqual(len(got), 2)
        body = self.get("/_localbridge/events/" + event_id)[1]
        self.assertEqual(len(body["deliveries"][0]["attempts"]), 2)

    # ---- deliveries long-poll ----

    def test_long_poll_returns_the_bodies_a_target_received(self):
        self.rule_with(OK)
        ids = [self.put({"n": i}) for i in range(3)]
        status, body = self.deliveries(OK, 3)
        self.assertEqual(status, 200)
        got = body["deliveries"]
        # In the order they were recorded (sends run concurrently).
        self.assertEqual(sorted(d["event_id"] for d in got), sorted(ids))
        self.assertEqual(sorted(json.loads(d["body"])["detail"]["n"] for d in got), [0, 1, 2])
        self.assertEqual({d["status"] for d in got}, {"SUCCEEDED"})
        self.assertEqual({d["rule"] for d in got}, {"r"})

    def test_long_poll_waits_for_a_delivery_and_is_woken_by_it(self):
        self.rule_with(OK)
        result = {}

        def poll():
            t0 = time.time()
            result["answer"] = self.deliveries(OK, 1, wait="20s")
            result["took"] = time.time() - t0

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        self.put()
        t.join(30)
        self.assertEqual(len(result["answer"][1]["deliveries"]), 1)
        # Woken by the outcome, not by the 20 s deadline.
        self.assertLess(result["took"], 10)

    def test_long_poll_gives_what_it_has_when_the_wait_ends(self):
        self.rule_with(OK)
        self.put()
        t0 = time.time()
        status, body = self.deliveries(OK, 5, wait="300ms")
        self.assertEqual(status, 200)
        self.assertEqual(len(body["deliveries"]), 1)
        self.assertGreaterEqual(time.time() - t0, 0.25)
        status, body = self.deliveries("arn:aws:sqs:us-east-1:000000000000:never", 1, wait="0")
        self.assertEqual((status, body), (200, {"deliveries": []}))

    def test_long_poll_covers_a_target_with_no_route(self):
        self.rule_with(NOWHERE)
        self.put()
        got = self.deliveries(NOWHERE, 1)[1]["deliveries"]
        self.assertEqual(got[0]["status"], "DEAD_LETTERED")
        self.assertEqual(json.loads(got[0]["body"])["source"], "app")

    def test_long_poll_parameters_are_validated(self):
        for query in ("", "target=", "target=a&wait=forever", "target=a&wait=301s",
                      "target=a&count=0", "target=a&count=1001", "target=a&count=x"):
            status, body = self.get("/_localbridge/deliveries?" + query)
            self.assertEqual((status, body["__type"]), (400, "ValidationException"), query)

    def test_events_listing_filters_by_source_and_since(self):
        a = self.put({"n": 1})
        self.c.put_events(Entries=[{"Source": "other", "DetailType": "t", "Detail": "{}"}])
        status, body = self.get("/_localbridge/events?source=app")
        self.assertEqual([e["id"] for e in body["Events"]], [a])
        status, body = self.get("/_localbridge/events?since=2099-01-01T00:00:00Z")
        self.assertEqual((status, body["Events"]), (200, []))
        status, body = self.get("/_localbridge/events?since=2000-01-01T00:00:00Z&limit=1")
        self.assertEqual(len(body["Events"]), 1)
        self.assertIn("NextToken", body)
        status, body = self.get("/_localbridge/events?since=yesterday")
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))

    # ---- status, reset, metrics ----

    def test_status_counts_what_there_is(self):
        self.c.create_event_bus(Name="orders")
        self.rule_with(NOWHERE)
        self.c.put_rule(Name="o", EventBusName="orders", EventPattern='{"source":["x"]}')
        self.put()
        self.deliveries(NOWHERE, 1)
        status, st = self.get("/_localbridge/status")
        self.assertEqual(status, 200)
        buses = {b["name"]: b for b in st["buses"]}
        self.assertEqual((buses["default"]["rules"], buses["orders"]["rules"]), (1, 1))
        self.assertEqual((st["rules"], st["dead_letters"], st["pending_deliveries"]), (2, 1, 0))
        for key in ("inflight", "oldest_pending_age_seconds", "replays_running",
                    "uptime_seconds", "version"):
            self.assertIn(key, st)

    def test_status_shows_pending_deliveries_and_their_age(self):
        self.c.put_rule(Name="s", EventPattern='{"source":["app"]}')
        self.c.put_targets(Rule="s", Targets=[{"Id": "s", "Arn": "arn:aws:sqs:us-east-1:000000000000:slow"}])
        self.put()
        time.sleep(0.3)
        st = self.get("/_localbridge/status")[1]
        self.assertEqual(st["pending_deliveries"], 1)
        self.assertGreater(st["oldest_pending_age_seconds"], 0.1)
        self.assertEqual(st["inflight"], 1)
        self.deliveries("arn:aws:sqs:us-east-1:000000000000:slow", 1)

    def test_reset_wipes_everything_but_the_default_bus_quickly(self):
        self.c.create_event_bus(Name="orders")
        self.rule_with(NOWHERE)
        self.c.create_archive(ArchiveName="a", EventSourceArn=self.c.describe_event_bus()["Arn"])
        event_id = self.put()
        self.deliveries(NOWHERE, 1)
        t0 = time.time()
        status, _, data = self.daemon.request("POST", "/_localbridge/reset", "{}")
        took = time.time() - t0
        self.assertEqual((status, json.loads(data)), (200, {"reset": True}))
        self.assertLess(took, 2.0)
        self.assertEqual([b["Name"] for b in self.c.list_event_buses()["EventBuses"]], ["default"])
        self.assertEqual(self.c.list_rules()["Rules"], [])
        self.assertEqual(self.c.list_archives()["Archives"], [])
        self.assertEqual(self.daemon.events(), [])
        self.assertEqual(self.get("/_localbridge/dead-letters")[1]["DeadLetters"], [])
        self.assertEqual(self.get("/_localbridge/events/" + event_id)[0], 404)
        self.assertEqual(self.deliveries(NOWHERE, 1, wait="0")[1]["deliveries"], [])
        # Everything works again from a clean slate, names included.
        self.c.create_event_bus(Name="orders")
        self.rule_with(OK)
        self.put()
        self.assertEqual(len(self.deliveries(OK, 1)[1]["deliveries"]), 1)

    def test_reset_drops_deliveries_still_waiting(self):
        self.rule_with(BAD)
        self.put()
        self.daemon.request("POST", "/_localbridge/reset", "{}")
        time.sleep(0.4)  # past the retries the wiped delivery would have had
        self.assertEqual(self.get("/_localbridge/status")[1]["pending_deliveries"], 0)
        self.assertEqual(self.get("/_localbridge/dead-letters")[1]["DeadLetters"], [])

    def test_metrics_json_has_per_minute_series(self):
        self.rule_with(OK)
        self.put()
        self.deliveries(OK, 1)
        status, m = self.get("/_localbridge/metrics.json?window=300")
        self.assertEqual((status, m["step"]), (200, 60))
        for name in ("Invocations", "FailedInvocations", "TriggeredRules", "MatchedEvents",
                     "DeadLetterInvocations", "Events"):
            self.assertEqual(len(m["series"][name]), 5, name)
        self.assertGreaterEqual(m["series"]["Invocations"][-1] + m["series"]["Invocations"][-2], 1)
        self.assertGreaterEqual(m["series"]["Events"][-1] + m["series"]["Events"][-2], 1)
        status, body = self.get("/_localbridge/metrics.json?window=5")
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))

    # ---- test-event-pattern against a stored event ----

    def test_pattern_against_a_stored_event(self):
        self.c.put_rule(Name="r", EventPattern='{"source":["app"],"detail":{"n":[2]}}')
        one, two = self.put({"n": 1}), self.put({"n": 2})
        status, _, data = self.daemon.request("POST", "/_localbridge/test-event-pattern",
                                              json.dumps({"RuleName": "r", "EventId": two}))
        self.assertEqual((status, json.loads(data)), (200, {"Result": True}))
        status, _, data = self.daemon.request("POST", "/_localbridge/test-event-pattern",
                                              json.dumps({"RuleName": "r", "EventId": one}))
        body = json.loads(data)
        self.assertEqual((status, body["Result"]), (200, False))
        self.assertIn("detail.n", body["Reason"])
        status, _, data = self.daemon.request("POST", "/_localbridge/test-event-pattern",
                                              json.dumps({"RuleName": "nope", "EventId": one}))
        self.assertEqual((status, json.loads(data)["__type"]), (400, "ResourceNotFoundException"))
        status, _, data = self.daemon.request("POST", "/_localbridge/test-event-pattern",
                                              json.dumps({"RuleName": "r", "EventId": "missing"}))
        self.assertEqual(json.loads(data)["__type"], "ResourceNotFoundException")


class LongPollAtShutdown(DaemonTestCase):
    def test_a_waiting_long_poll_is_answered_when_the_daemon_stops(self):
        d = Daemon().start()
        try:
            result = {}

            def poll():
                status, _, data = d.request("GET", "/_localbridge/deliveries?target=a&wait=60s",
                                            timeout=30)
                result["answer"] = (status, json.loads(data))

            t = threading.Thread(target=poll)
            t.start()
            time.sleep(0.3)
            t0 = time.time()
            self.assertEqual(d.stop(), 0)
            self.assertLess(time.time() - t0, 10)
            t.join(10)
            self.assertEqual(result["answer"], (200, {"deliveries": []}))
        finally:
            d.cleanup()

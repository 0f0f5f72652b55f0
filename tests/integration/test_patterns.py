"""TestEventPattern through the real API against every case real AWS answered
(shared/conformance/patterns.jsonl), plus the explaining admin endpoint."""
import json
import os

from lbharness import CONFORMANCE_DIR, DaemonTestCase


def load_cases():
    with open(os.path.join(CONFORMANCE_DIR, "patterns.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


class PatternConformance(DaemonTestCase):
    def test_all_aws_cases_through_the_api(self):
        cases = load_cases()
        self.assertEqual(len(cases), 168)
        failures = []
        for case in cases:
            pattern = case.get("pattern_raw") if case.get("pattern") is None else json.dumps(case["pattern"])
            if pattern is None:
                pattern = case["pattern_raw"]
            event = case["event_raw"] if case.get("event") is None else json.dumps(case["event"])
            status, body, _ = self.daemon.api("TestEventPattern",
                                              {"EventPattern": pattern, "Event": event})
            if case["error"]:
                got = (status, body.get("__type"))
                if got != (400, case["error"]) or (case.get("error_message") and
                                                   body.get("message") != case["error_message"]):
                    failures.append((case["name"], case["error"], case.get("error_message"), body))
            elif status != 200 or body.get("Result") is not case["match"]:
                failures.append((case["name"], case["match"], body))
        self.assertEqual(failures, [], "%d of %d cases differ from AWS" % (len(failures), len(cases)))

    def test_boto3_test_event_pattern(self):
        c = self.events_client
        event = {"id": "1", "source": "shop", "detail-type": "t", "account": "1",
                 "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "detail": {"n": 5}}
        r = c.test_event_pattern(EventPattern=json.dumps({"detail": {"n": [{"numeric": [">", 4]}]}}),
                                 Event=json.dumps(event))
        self.assertTrue(r["Result"])
        r = c.test_event_pattern(EventPattern=json.dumps({"detail": {"n": [{"numeric": [">", 5]}]}}),
                                 Event=json.dumps(event))
        self.assertFalse(r["Result"])
        self.assertNotIn("Reason", r)

    def test_explain_endpoint(self):
        event = {"id": "1", "source": "shop", "detail-type": "t", "account": "1",
                 "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
                 "detail": {"state": "stopped"}}
        status, _, data = self.daemon.request("POST", "/_localbridge/test-event-pattern", json.dumps({
            "EventPattern": json.dumps({"detail": {"state": ["running"]}}),
            "Event": json.dumps(event)}), {"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        body = json.loads(data)
        self.assertFalse(body["Result"])
        self.assertIn("detail.state", body["Reason"])
        self.assertIn("stopped", body["Reason"])
        # The AWS endpoint does not know the admin operation.
        status, body, _ = self.daemon.api("ExplainEventPattern", {})
        self.assertEqual(body["__type"], "UnknownOperationException")

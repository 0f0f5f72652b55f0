"""Admin endpoints as operations: /_localbridge/events, /_localbridge/dead-letters and
/_localbridge/dead-letters/redrive validate like the API (ValidationException naming what was
wrong), page with NextToken, and answer in the API's error shape with a request id. Includes B4:
{"Ids": [1e400]} to the redrive endpoint was an out-of-range float-to-integer conversion."""
import json
import unittest

from lbharness import DaemonTestCase


class AdminEndpoints(DaemonTestCase):
    def get(self, path):
        status, headers, data = self.daemon.request("GET", path)
        self.assertIn("x-amzn-RequestId", headers)
        return status, json.loads(data)

    def post(self, path, body):
        status, headers, data = self.daemon.request("POST", path, body,
                                                    {"Content-Type": "application/json"})
        self.assertIn("x-amzn-RequestId", headers)
        return status, json.loads(data)

    def test_b4_redrive_ids_out_of_range_are_refused(self):
        for ids in ("[1e400]", "[-1e400]", "[2.5]", '["3"]', "[0]", "[9223372036854775808]"):
            status, body = self.post("/_localbridge/dead-letters/redrive", '{"Ids":%s}' % ids)
            self.assertEqual((status, body["__type"]), (400, "ValidationException"), ids)
            self.assertIn("Ids[0] must be a dead-letter Id", body["message"])
        status, body = self.post("/_localbridge/dead-letters/redrive", '{"Ids":[123456789]}')
        self.assertEqual((status, body), (200, {"Redriven": 0}))

    def test_redrive_bad_json_is_a_serialization_error(self):
        status, body = self.post("/_localbridge/dead-letters/redrive", '{"Ids":[1,')
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))

    def test_listing_limits_are_validated(self):
        for path in ("/_localbridge/events", "/_localbridge/dead-letters"):
            for limit in ("0", "abc", "1000001", "1.5"):
                status, body = self.get("%s?limit=%s" % (path, limit))
                self.assertEqual((status, body["__type"]), (400, "ValidationException"))
                self.assertIn("Limit must be an integer from 1 to 1000000", body["message"])
            status, body = self.get(path + "?next_token=bogus")
            self.assertEqual((status, body["__type"]), (400, "ValidationException"))

    def test_events_page_with_next_token(self):
        c = self.events_client
        c.create_event_bus(Name="paged")
        for i in range(5):
            c.put_events(Entries=[{"Source": "paged", "DetailType": "n", "Detail": json.dumps(
                {"i": i}), "EventBusName": "paged"}])
        seen = []
        token = None
        while True:
            q = "?bus=paged&limit=2" + ("&next_token=" + token if token else "")
            status, body = self.get("/_localbridge/events" + q)
            self.assertEqual(status, 200)
            seen += [e["detail"]["i"] for e in body["Events"]]
            token = body.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, [4, 3, 2, 1, 0])

    def test_dead_letters_listing_shape(self):
        status, body = self.get("/_localbridge/dead-letters?rule=nothing-here")
        self.assertEqual((status, body), (200, {"DeadLetters": []}))


if __name__ == "__main__":
    unittest.main()

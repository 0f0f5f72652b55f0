"""An example test using the fixture: run with `pytest -p localbridge_fixture` from this folder
(LOCALBRIDGE_BIN=path/to/localbridge if it is not on PATH)."""
import json

QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders"


def test_an_order_event_reaches_its_target(localbridge):
    events = localbridge.client("events")
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="orders", Targets=[{"Id": "queue", "Arn": QUEUE}])
    out = events.put_events(Entries=[{"Source": "shop", "DetailType": "OrderPlaced",
                                      "Detail": json.dumps({"order": 42})}])
    assert out["FailedEntryCount"] == 0
    [got] = localbridge.deliveries(QUEUE, count=1, wait=5)
    assert json.loads(got["body"])["detail"] == {"order": 42}
    # And the whole story of the event, deliveries included:
    story = localbridge.event(out["Entries"][0]["EventId"])
    assert [d["rule"] for d in story["deliveries"]] == ["orders"]


def test_each_test_starts_from_a_clean_daemon(localbridge):
    events = localbridge.client("events")
    assert events.list_rules()["Rules"] == []
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]

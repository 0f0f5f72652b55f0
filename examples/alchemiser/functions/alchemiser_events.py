"""Publishing Alchemiser events, as the migration plan's publisher does.

Every event carries its Time, a Source of `alchemiser.<module>`, and two Resources that tie a
workflow together: `correlation:<id>` (the workflow, fixed by the first signal) and
`causation:<id>` (the event that caused this one). The same code runs on AWS Lambda and under
LocalBridge: there AWS_ENDPOINT_URL points at the daemon (set explicitly for boto3 versions older
than 1.28, which do not read it themselves).
"""
import datetime
import json
import os

import boto3

_client = None


def client():
    global _client
    if _client is None:
        _client = boto3.client("events", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    return _client


def correlation_of(event):
    """The workflow's correlation id: the detail's, else the first correlation: resource."""
    detail = event.get("detail") or {}
    if detail.get("correlation_id"):
        return detail["correlation_id"]
    for r in event.get("resources") or []:
        if r.startswith("correlation:"):
            return r[len("correlation:"):]
    return event.get("id")


def publish(module, detail_type, detail, correlation_id, causation_id):
    """Puts one event on the trading bus; raises if EventBridge refused it."""
    entry = {
        "Time": datetime.datetime.now(datetime.timezone.utc),
        "Source": "alchemiser.%s" % module,
        "DetailType": detail_type,
        "Detail": json.dumps(dict(detail, correlation_id=correlation_id)),
        "Resources": ["correlation:%s" % correlation_id, "causation:%s" % causation_id],
        "EventBusName": os.environ.get("EVENT_BUS_NAME", "alchemiser-trading-events"),
    }
    out = client().put_events(Entries=[entry])
    if out.get("FailedEntryCount"):
        raise RuntimeError("PutEvents refused %s: %s" % (detail_type, out["Entries"]))
    return out["Entries"][0]["EventId"]

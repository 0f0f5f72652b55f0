#!/usr/bin/env python3
"""Publishes one SignalGenerated, as the strategy module does, and prints its correlation id.

    python3 examples/alchemiser/signal.py [--endpoint-url http://127.0.0.1:4010] [--value 50000]
"""
import argparse
import datetime
import json
import uuid

import boto3

ap = argparse.ArgumentParser()
ap.add_argument("--endpoint-url", default="http://127.0.0.1:4010")
ap.add_argument("--value", type=float, default=50000, help="portfolio value")
ap.add_argument("--fail-execution", action="store_true", help="make Execution raise")
a = ap.parse_args()

correlation = str(uuid.uuid4())
detail = {"signal_id": correlation[:8], "correlation_id": correlation,
          "portfolio_value": a.value,
          "current_weights": {"AAPL": 0.5, "MSFT": 0.5},
          "target_weights": {"AAPL": 0.3, "MSFT": 0.4, "NVDA": 0.3}}
if a.fail_execution:
    detail["fail_execution"] = True
events = boto3.client("events", endpoint_url=a.endpoint_url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
out = events.put_events(Entries=[{
    "Time": datetime.datetime.now(datetime.timezone.utc),
    "Source": "alchemiser.strategy", "DetailType": "SignalGenerated",
    "Detail": json.dumps(detail),
    "Resources": ["correlation:%s" % correlation, "causation:%s" % correlation],
    "EventBusName": "alchemiser-trading-events"}])
print(json.dumps({"correlation_id": correlation, "event_id": out["Entries"][0].get("EventId"),
                  "failed": out["FailedEntryCount"]}))

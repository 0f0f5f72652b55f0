#!/usr/bin/env python3
"""Writes the libFuzzer seeds for fuzz_api.c into tests/fuzz/api_seeds/: one realistic request
per case, as a byte naming the operation (its index in proto/lb_api.c's table, read from the
source so the seeds follow the table; one past the end is the admin ExplainEventPattern)
followed by the JSON body. fuzz_api.c pre-creates bus "orders", rule "r1" on it with target
"t1", connection "c1", API destination "d1", archive "a1" on "orders" and replay "rp1" from it,
so requests may refer to them.

Usage: make_api_seeds.py [out_dir]"""
import json
import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "api_seeds")

with open(os.path.join(root, "proto", "lb_api.c"), encoding="utf-8") as f:
    src = f.read()
ops = re.findall(r'^\s*\{"([A-Za-z]+)", lb_op_[a-z_]+\},', src, re.M)
assert ops == sorted(ops) and "PutEvents" in ops, ops
ADMIN = "ExplainEventPattern"

ACCT = "123456789012"
ARN = "arn:aws:events:us-east-1:%s:" % ACCT
PATTERN = {"source": ["shop"], "detail-type": [{"prefix": "Order"}],
           "detail": {"n": [{"numeric": [">", 1, "<=", 100]}], "s": [{"anything-but": ["x"]}],
                      "e": [{"exists": False}], "w": [{"wildcard": "a*b"}]}}
EVENT = {"version": "0", "id": "1", "detail-type": "Order Placed", "source": "shop",
         "account": ACCT, "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
         "resources": ["arn:aws:s3:::b"], "detail": {"n": 5, "s": "y", "w": "acb"}}
TRANSFORMER = {"InputPathsMap": {"n": "$.detail.n", "src": "$.source", "all": "$"},
               "InputTemplate": "{\"n\": <n>, \"src\": \"<src>\", \"raw\": <all>}"}

cases = [
    ("CreateEventBus", {"Name": "payments", "Description": "d",
                        "Tags": [{"Key": "team", "Value": "a"}]}),
    ("CreateEventBus", {"Name": "orders"}),
    ("CreateEventBus", {"Name": "bad name"}),
    ("DescribeEventBus", {"Name": ARN + "event-bus/orders"}),
    ("DescribeEventBus", {}),
    ("UpdateEventBus", {"Name": "orders", "Description": "new",
                        "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:%s:dlq" % ACCT}}),
    ("DeleteEventBus", {"Name": "orders"}),
    ("ListEventBuses", {"NamePrefix": "o", "Limit": 1}),
    ("ListEventBuses", {"NextToken": "x"}),
    ("PutEvents", {"Entries": [
        {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"n": 5}),
         "EventBusName": "orders", "Resources": ["arn:aws:s3:::b"], "Time": 1715000000},
        {"Source": "shop", "DetailType": "t", "Detail": "[1]"},
        {"Source": "s", "Detail": "{}"},
        {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": ARN + "event-bus/orders",
         "TraceHeader": "Root=1"}]}),
    ("PutEvents", {"Entries": []}),
    ("PutRule", {"Name": "r2", "EventBusName": "orders", "EventPattern": json.dumps(PATTERN),
                 "State": "ENABLED", "Description": "d", "Tags": [{"Key": "k", "Value": "v"}]}),
    ("PutRule", {"Name": "sched", "ScheduleExpression": "rate(5 minutes)", "State": "DISABLED"}),
    ("PutRule", {"Name": "r1", "EventBusName": "orders",
                 "EventPattern": "{\"source\":[{\"prefix\":\"\"}],\"a\":[{\"cidr\":\"10.0.0.0/8\"}]}"}),
    ("PutRule", {"Name": "bad", "EventPattern": "{\"source\":\"notalist\"}"}),
    ("DescribeRule", {"Name": "r1", "EventBusName": "orders"}),
    ("DisableRule", {"Name": "r1", "EventBusName": "orders"}),
    ("EnableRule", {"Name": "r1", "EventBusName": ARN + "event-bus/orders"}),
    ("DeleteRule", {"Name": "r1", "EventBusName": "orders", "Force": True}),
    ("ListRules", {"EventBusName": "orders", "NamePrefix": "r", "Limit": 1}),
    ("ListRuleNamesByTarget", {"TargetArn": "arn:aws:sqs:us-east-1:%s:q" % ACCT,
                               "EventBusName": "orders"}),
    ("ListTargetsByRule", {"Rule": "r1", "EventBusName": "orders", "Limit": 5}),
    ("PutTargets", {"Rule": "r1", "EventBusName": "orders", "Targets": [
        {"Id": "t2", "Arn": "arn:aws:lambda:us-east-1:%s:function:f" % ACCT,
         "InputTransformer": TRANSFORMER},
        {"Id": "t3", "Arn": "arn:aws:sqs:us-east-1:%s:q2" % ACCT, "Input": "{\"fixed\":1}"},
        {"Id": "t4", "Arn": "arn:aws:sns:us-east-1:%s:t" % ACCT, "InputPath": "$.detail",
         "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120},
         "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:%s:dlq" % ACCT}},
        {"Id": "t5", "Arn": ARN + "api-destination/d1/abc",
         "HttpParameters": {"HeaderParameters": {"h": "v"}, "QueryStringParameters": {"q": "1"},
                            "PathParameterValues": ["p"]}}]}),
    ("PutTargets", {"Rule": "r1", "EventBusName": "orders", "Targets": [
        {"Id": "t6", "Arn": "arn:aws:sqs:us-east-1:%s:q" % ACCT,
         "InputTransformer": {"InputPathsMap": {"a": "$.detail.missing"},
                              "InputTemplate": "\"<a> and <aws.events.event.ingestion-time>\""}}]}),
    ("RemoveTargets", {"Rule": "r1", "EventBusName": "orders", "Ids": ["t1", "nope"],
                       "Force": False}),
    ("TestEventPattern", {"EventPattern": json.dumps(PATTERN), "Event": json.dumps(EVENT)}),
    ("TestEventPattern", {"EventPattern": "{\"detail\":{\"n\":[{\"numeric\":[\">\",10]}]}}",
                          "Event": json.dumps(EVENT)}),
    ("TestEventPattern", {"EventPattern": "{\"source\":[{\"equals-ignore-case\":\"SHOP\"},"
                          "{\"suffix\":\"op\"}],\"$or\":[{\"a\":[1]},{\"b\":[null]}]}",
                          "Event": json.dumps(EVENT)}),
    ("TagResource", {"ResourceARN": ARN + "event-bus/orders",
                     "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}),
    ("UntagResource", {"ResourceARN": ARN + "rule/orders/r1", "TagKeys": ["a"]}),
    ("ListTagsForResource", {"ResourceARN": ARN + "event-bus/orders"}),
    ("CreateConnection", {"Name": "basic", "AuthorizationType": "BASIC", "Description": "d",
                          "AuthParameters": {"BasicAuthParameters": {"Username": "u",
                                                                     "Password": "p"}}}),
    ("CreateConnection", {"Name": "oauth", "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
                          "AuthParameters": {"OAuthParameters": {
                              "AuthorizationEndpoint": "https://auth.example.com/token",
                              "HttpMethod": "POST",
                              "ClientParameters": {"ClientID": "id", "ClientSecret": "s"},
                              "OAuthHttpParameters": {
                                  "HeaderParameters": [{"Key": "h", "Value": "v",
                                                        "IsValueSecret": True}],
                                  "QueryStringParameters": [{"Key": "q", "Value": "1"}],
                                  "BodyParameters": [{"Key": "b", "Value": "2"}]}},
                              "InvocationHttpParameters": {
                                  "HeaderParameters": [{"Key": "x", "Value": "y"}]}}}),
    ("UpdateConnection", {"Name": "c1", "AuthorizationType": "API_KEY",
                          "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyValue": "t"}}}),
    ("DescribeConnection", {"Name": "c1"}),
    ("DeauthorizeConnection", {"Name": "c1"}),
    ("DeleteConnection", {"Name": "c1"}),
    ("ListConnections", {"NamePrefix": "c", "ConnectionState": "AUTHORIZED", "Limit": 10}),
    ("CreateApiDestination", {"Name": "d2", "ConnectionArn": ARN + "connection/c1/5c1b8d7e-0000-4000-8000-000000000000",
                              "InvocationEndpoint": "https://example.com/*/x",
                              "HttpMethod": "PUT", "InvocationRateLimitPerSecond": 10}),
    ("UpdateApiDestination", {"Name": "d1", "HttpMethod": "GET",
                              "InvocationEndpoint": "https://example.com/y"}),
    ("DescribeApiDestination", {"Name": "d1"}),
    ("DeleteApiDestination", {"Name": "d1"}),
    ("ListApiDestinations", {"ConnectionArn": ARN + "connection/c1/5c1b8d7e-0000-4000-8000-000000000000", "Limit": 2}),
    ("CreateArchive", {"ArchiveName": "a2", "EventSourceArn": ARN + "event-bus/orders",
                       "Description": "d", "EventPattern": json.dumps(PATTERN),
                       "RetentionDays": 3, "KmsKeyIdentifier": "alias/k"}),
    ("CreateArchive", {"ArchiveName": "a1", "EventSourceArn": "not-an-arn",
                       "RetentionDays": -1}),
    ("DescribeArchive", {"ArchiveName": "a1"}),
    ("ListArchives", {"NamePrefix": "a", "Limit": 1}),
    ("ListArchives", {"EventSourceArn": ARN + "event-bus/orders", "State": "ENABLED"}),
    ("UpdateArchive", {"ArchiveName": "a1", "EventPattern": "{\"source\":[\"x\"]}",
                       "RetentionDays": 0}),
    ("UpdateArchive", {"ArchiveName": "a1"}),
    ("DeleteArchive", {"ArchiveName": "a1"}),
    ("StartReplay", {"ReplayName": "rp2", "EventSourceArn": ARN + "archive/a1",
                     "EventStartTime": 1699990000, "EventEndTime": "2023-11-14T22:00:00Z",
                     "Destination": {"Arn": ARN + "event-bus/orders",
                                     "FilterArns": [ARN + "rule/orders/r1"]}}),
    ("StartReplay", {"ReplayName": "rp3", "EventSourceArn": ARN + "archive/a1",
                     "EventStartTime": 1699999000, "EventEndTime": 1699990000,
                     "Destination": {"Arn": ARN + "event-bus/default"}}),
    ("DescribeReplay", {"ReplayName": "rp1"}),
    ("ListReplays", {"EventSourceArn": ARN + "archive/a1", "Limit": 5}),
    ("ListReplays", {"State": "RUNNING", "NamePrefix": "r"}),
    ("CancelReplay", {"ReplayName": "rp1"}),
    ("PutPermission", {"EventBusName": "orders", "Action": "events:PutEvents",
                       "Principal": "111111111111", "StatementId": "s1"}),
    ("PutPermission", {"EventBusName": "orders", "Action": "events:PutEvents", "Principal": "*",
                       "StatementId": "org", "Condition": {"Type": "StringEquals",
                                                           "Key": "aws:PrincipalOrgID",
                                                           "Value": "o-1234567890"}}),
    ("PutPermission", {"EventBusName": "orders", "Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "a", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "events:PutEvents", "Resource": ARN + "event-bus/orders"}]})}),
    ("RemovePermission", {"EventBusName": "orders", "StatementId": "s1"}),
    ("RemovePermission", {"EventBusName": "orders", "RemoveAllPermissions": True}),
    ("CreatePartnerEventSource", {"Name": "aws.partner/example.com/t1/orders", "Account": ACCT}),
    ("CreatePartnerEventSource", {"Name": "aws.partner/x", "Account": "1"}),
    ("DescribePartnerEventSource", {"Name": "aws.partner/example.com/t1/orders"}),
    ("ListPartnerEventSources", {"NamePrefix": "aws.partner/example.com", "Limit": 1}),
    ("ListPartnerEventSourceAccounts", {"EventSourceName": "aws.partner/example.com/t1/orders"}),
    ("ListEventSources", {"NamePrefix": "aws.partner/", "Limit": 2}),
    ("DescribeEventSource", {"Name": "aws.partner/example.com/t1/orders"}),
    ("ActivateEventSource", {"Name": "aws.partner/example.com/t1/orders"}),
    ("DeactivateEventSource", {"Name": "aws.partner/example.com/t1/orders"}),
    ("DeletePartnerEventSource", {"Name": "aws.partner/example.com/t1/orders", "Account": ACCT}),
    ("PutPartnerEvents", {"Entries": [
        {"Source": "aws.partner/example.com/t1/orders", "DetailType": "invoice.paid",
         "Detail": json.dumps({"amount": 12}), "Resources": ["r"], "Time": 1715000000}]}),
    ("CreateEndpoint", {"Name": "ep1", "RoutingConfig": {"FailoverConfig": {
        "Primary": {"HealthCheck": "arn:aws:route53:::healthcheck/abc"},
        "Secondary": {"Route": "us-west-2"}}},
        "ReplicationConfig": {"State": "ENABLED"},
        "EventBuses": [{"EventBusArn": ARN + "event-bus/orders"},
                       {"EventBusArn": "arn:aws:events:us-west-2:%s:event-bus/orders" % ACCT}],
        "RoleArn": "arn:aws:iam::%s:role/r" % ACCT}),
    ("DescribeEndpoint", {"Name": "ep1", "HomeRegion": "us-east-1"}),
    ("ListEndpoints", {"NamePrefix": "ep", "MaxResults": 1}),
    ("UpdateEndpoint", {"Name": "ep1", "ReplicationConfig": {"State": "DISABLED"}}),
    ("DeleteEndpoint", {"Name": "ep1"}),
    ("PutEvents", {"EndpointId": "abcde.veo", "Entries": [
        {"Source": "s", "DetailType": "t", "Detail": "{}"}]}),
    (ADMIN, {"EventPattern": json.dumps(PATTERN), "Event": json.dumps(EVENT)}),
    (ADMIN, {"EventPattern": "{\"source\":[\"other\"]}", "Event": json.dumps(EVENT)}),
]

os.makedirs(out, exist_ok=True)
for old in os.listdir(out):
    os.unlink(os.path.join(out, old))
counts = {}
for op, body in cases:
    if op == ADMIN:
        index = len(ops)
    elif op in ops:
        index = ops.index(op)
    else:
        print("skipping %s: not in the operation table" % op, file=sys.stderr)
        continue
    counts[op] = counts.get(op, 0) + 1
    with open(os.path.join(out, "%s_%d" % (op, counts[op])), "wb") as seed:
        seed.write(bytes([index]) + json.dumps(body).encode("utf-8"))
# Framing: malformed JSON, a non-object, deep nesting.
for name, body in (("bad_json", b"{oops"), ("array", b"[]"), ("deep", b"[" * 150 + b"]" * 150)):
    with open(os.path.join(out, "frame_" + name), "wb") as seed:
        seed.write(bytes([ops.index("ListEventBuses")]) + body)
missing = [op for op in ops if op not in counts]
if missing:
    print("no seed yet for: " + ", ".join(missing), file=sys.stderr)

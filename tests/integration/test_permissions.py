"""Event bus permissions (PutPermission, RemovePermission, Policy in DescribeEventBus) through
boto3 and the AWS CLI. The policies and errors are compared with AWS's recorded answers in
tests/conformance/permissions.snapshot.json (copied from LocalStack's test_events snapshot)."""
import json
import os
import re
import unittest

import botocore.exceptions

from lbharness import CONFORMANCE_DIR, Daemon, DaemonTestCase

ClientError = botocore.exceptions.ClientError
ACCOUNT = "000000000000"
SECONDARY = "111111111111"
KEY = "tests/aws/services/events/test_events.py::TestEventBus::"


def snapshot(name):
    with open(os.path.join(CONFORMANCE_DIR, "permissions.snapshot.json")) as f:
        return json.load(f)[KEY + name]["recorded-content"]


def normalize(policy, bus, sids):
    """A policy as the snapshot writes it: ids and names as placeholders, statements by Sid."""
    text = json.dumps(policy)
    for placeholder, value in (("<secondary-account-id>", SECONDARY), ("<account-id>", ACCOUNT),
                               (":<region>:", ":us-east-1:"), ("arn:<partition>:", "arn:aws:")):
        text = text.replace(value, placeholder)
    text = re.sub(r"event-bus/" + re.escape(bus) + '"', 'event-bus/<bus-name>"', text)
    for i, sid in enumerate(sids, 1):
        text = text.replace('"%s"' % sid, '"<sid:%d>"' % i)
    out = json.loads(text)
    out["Statement"].sort(key=lambda s: s["Sid"])
    return out


class Permissions(DaemonTestCase):
    def put(self, bus, principal, sid, **kw):
        return self.events_client.put_permission(EventBusName=bus, Action="events:PutEvents",
                                                 Principal=principal, StatementId=sid, **kw)

    def policy(self, bus):
        d = self.events_client.describe_event_bus(Name=bus)
        return json.loads(d["Policy"]) if "Policy" in d else None

    def check_put_permission(self, bus):
        rec = snapshot("test_put_permission[%s]" % ("default" if bus == "default" else "custom"))
        r = self.put(bus, ACCOUNT, "statement-1-a")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.put(bus, ACCOUNT, "statement-2-b")
        self.put(bus, SECONDARY, "statement-3-c")
        sids = ["statement-1-a", "statement-2-b", "statement-3-c", "statement-4-d", "statement-5-e"]
        self.assertEqual(normalize(self.policy(bus), bus, sids),
                         rec["describe-event-bus-put-permission-multiple-principals"]["Policy"])
        # The same StatementId twice: the statement is replaced, ids stay unique.
        self.put(bus, "*", "statement-4-d")
        self.put(bus, "*", "statement-4-d")
        self.assertEqual(normalize(self.policy(bus), bus, sids),
                         rec["describe-event-bus-put-permission"]["Policy"])
        # A whole policy document replaces every statement.
        doc = {"Version": "2012-10-17", "Statement": [{
            "Sid": "statement-5-e", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "events:ListRules", "Resource": "*"}]}
        self.events_client.put_permission(EventBusName=bus, Policy=json.dumps(doc))
        self.assertEqual(normalize(self.policy(bus), bus, sids),
                         rec["describe-event-bus-put-permission-policy"]["Policy"])
        self.events_client.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
        self.assertIsNone(self.policy(bus))

    def test_put_permission_custom_bus(self):
        self.events_client.create_event_bus(Name="perm-custom")
        self.check_put_permission("perm-custom")

    def test_put_permission_default_bus(self):
        try:
            self.check_put_permission("default")
        finally:
            self.daemon.api("RemovePermission", {"RemoveAllPermissions": True})

    def check_remove_permission(self, bus):
        rec = snapshot("test_remove_permission[%s]" % ("default" if bus == "default" else "custom"))
        self.put(bus, ACCOUNT, "statement-1-x")
        self.put(bus, SECONDARY, "statement-2-y")
        r = self.events_client.remove_permission(EventBusName=bus, StatementId="statement-1-x",
                                                 RemoveAllPermissions=False)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(normalize(self.policy(bus), bus, ["statement-2-y"]),
                         rec["describe-event-bus-remove-permission"]["Policy"])
        self.events_client.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
        # Raw: Debian's botocore drops the members its older model lacks (CreationTime, ...).
        _, d, _ = self.daemon.api("DescribeEventBus", {"Name": bus})
        self.assertNotIn("Policy", d)
        self.assertEqual(set(rec["describe-event-bus-remove-permission-all"]) - {"ResponseMetadata"},
                         set(d))

    def test_remove_permission_custom_bus(self):
        self.events_client.create_event_bus(Name="perm-remove")
        self.check_remove_permission("perm-remove")

    def test_remove_permission_default_bus(self):
        try:
            self.check_remove_permission("default")
        finally:
            self.daemon.api("RemovePermission", {"RemoveAllPermissions": True})

    def test_remove_unknown_statement(self):
        rec = snapshot("test_remove_permission_non_existing_sid[True-custom]")
        want = rec["remove-permission-non-existing-sid-error"]["Error"]
        self.events_client.create_event_bus(Name="perm-sid")
        for with_policy in (False, True):
            if with_policy:
                self.put("perm-sid", ACCOUNT, "present")
            with self.assertRaises(ClientError) as ctx:
                self.events_client.remove_permission(EventBusName="perm-sid",
                                                     StatementId="non-existing-sid")
            self.assertAwsError(ctx, want["Code"], want["Message"])

    def test_unknown_bus(self):
        rec = snapshot("test_put_permission_non_existing_event_bus")
        want = rec["remove-permission-non-existing-sid-error"]["Error"]
        with self.assertRaises(ClientError) as ctx:
            self.put("non-existing-bus-1", "*", "statement-id")
        self.assertAwsError(ctx, want["Code"],
                            want["Message"].replace("<bus-name>", "non-existing-bus-1"))
        with self.assertRaises(ClientError) as ctx:
            self.events_client.remove_permission(EventBusName="non-existing-bus-1",
                                                 RemoveAllPermissions=True)
        self.assertAwsError(ctx, "ResourceNotFoundException",
                            "Event bus non-existing-bus-1 does not exist.")

    def test_organization_condition(self):
        self.events_client.create_event_bus(Name="perm-org")
        self.put("perm-org", "*", "org", Condition={
            "Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abc123"})
        st = self.policy("perm-org")["Statement"][0]
        self.assertEqual(st, {
            "Sid": "org", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
            "Resource": "arn:aws:events:us-east-1:000000000000:event-bus/perm-org",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}})

    def test_validation(self):
        c = self.events_client
        c.create_event_bus(Name="perm-bad")
        cases = [
            (dict(Action="events:PutEvents", Principal="12345", StatementId="s"),
             "ValidationException",
             "1 validation error detected: Value '12345' at 'principal' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: (\\d{12}|\\*)"),
            (dict(Action="events:PutEvents", Principal="*", StatementId="bad id!"),
             "ValidationException",
             "1 validation error detected: Value 'bad id!' at 'statementId' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+"),
            (dict(Action="events:ListRules", Principal="*", StatementId="s"),
             "ValidationException", "Provided value in parameter 'action' is not supported."),
            (dict(Action="sqs:Send", Principal="*", StatementId="s"),
             "ValidationException",
             "1 validation error detected: Value 'sqs:Send' at 'action' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: events:[a-zA-Z]+"),
            (dict(Action="events:PutEvents", StatementId="s"),
             "ValidationException", "Parameter Principal must be specified."),
            (dict(Action="events:PutEvents", Principal=ACCOUNT, StatementId="s",
                  Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"}),
             "ValidationException",
             "Value of the parameter 'principal' must be '*' when the parameter 'condition' is "
             "set."),
            (dict(Policy="{not json"), "ValidationException", "This policy contains invalid Json"),
            (dict(Policy=json.dumps({"Statement": [{"Sid": "a", "Effect": "Allow",
                                                    "Principal": "*", "Action": "events:PutEvents",
                                                    "Resource": "*"}] * 2})),
             "ValidationException", "Statement ids must be unique: a appears more than once."),
            (dict(Policy=json.dumps({"Statement": [{"Sid": "a" * 64, "Effect": "Allow",
                                                    "Principal": "*", "Action": "events:PutEvents",
                                                    "Resource": "x" * 11000}]})),
             "PolicyLengthExceededException", None),
        ]
        for kw, code, msg in cases:
            with self.subTest(kw=kw):
                with self.assertRaises(ClientError) as ctx:
                    c.put_permission(EventBusName="perm-bad", **kw)
                self.assertAwsError(ctx, code, msg)
        with self.assertRaises(ClientError) as ctx:
            c.remove_permission(EventBusName="perm-bad")
        self.assertAwsError(ctx, "ValidationException", "Parameter StatementId is required.")
        with self.assertRaises(ClientError) as ctx:
            c.remove_permission(EventBusName="perm-bad", RemoveAllPermissions=True)
        self.assertAwsError(ctx, "ResourceNotFoundException", "EventBus does not have a policy.")
        # Nothing was half-stored by any of these.
        self.assertIsNone(self.policy("perm-bad"))

    def test_aws_cli_and_list(self):
        self.events_client.create_event_bus(Name="perm-cli")
        rc, _, err = self.daemon.aws("put-permission", "--event-bus-name", "perm-cli",
                                     "--action", "events:PutEvents", "--principal", SECONDARY,
                                     "--statement-id", "cli")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.daemon.aws("describe-event-bus", "--name", "perm-cli")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out["Policy"])["Statement"][0]["Principal"],
                         {"AWS": "arn:aws:iam::%s:root" % SECONDARY})
        buses = {b["Name"]: b for b in self.events_client.list_event_buses()["EventBuses"]}
        self.assertIn("Policy", buses["perm-cli"])
        rc, _, err = self.daemon.aws("remove-permission", "--event-bus-name", "perm-cli",
                                     "--statement-id", "cli")
        self.assertEqual(rc, 0, err)
        self.assertIsNone(self.policy("perm-cli"))

    def test_update_keeps_policy_and_delete_removes_it(self):
        c = self.events_client
        c.create_event_bus(Name="perm-life")
        self.put("perm-life", SECONDARY, "keep")
        status, r, _ = self.daemon.api("UpdateEventBus", {"Name": "perm-life",
                                                         "Description": "d"})
        self.assertEqual(status, 200, r)
        c.tag_resource(ResourceARN="arn:aws:events:us-east-1:000000000000:event-bus/perm-life",
                       Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(self.policy("perm-life")["Statement"][0]["Sid"], "keep")
        c.delete_event_bus(Name="perm-life")
        c.create_event_bus(Name="perm-life")
        self.assertIsNone(self.policy("perm-life"))


class PermissionsDurable(unittest.TestCase):
    def test_policy_survives_restart(self):
        d = Daemon().start()
        try:
            c = d.client()
            c.create_event_bus(Name="durable")
            c.put_permission(EventBusName="durable", Action="events:PutEvents",
                             Principal=SECONDARY, StatementId="s1")
            c.put_permission(Action="events:PutEvents", Principal="*", StatementId="s2")
            d.kill9()
            d.start()
            c = d.client()
            self.assertEqual(json.loads(c.describe_event_bus(Name="durable")["Policy"])
                             ["Statement"][0]["Sid"], "s1")
            self.assertEqual(json.loads(c.describe_event_bus()["Policy"])
                             ["Statement"][0]["Sid"], "s2")
        finally:
            d.cleanup()

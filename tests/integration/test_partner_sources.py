"""Partner event sources, both sides, with boto3: a SaaS partner simulated locally creates a
source offered to the daemon's account, the customer matches a partner bus to it, and
PutPartnerEvents delivers onto that bus as AWS delivers partner events."""
import json
import os
import time

import botocore.exceptions

from lbharness import DaemonTestCase, Sink

ClientError = botocore.exceptions.ClientError
ACCOUNT = "000000000000"
OTHER = "111111111111"
PATTERN = "aws\\.partner(/[\\.\\-_A-Za-z0-9]+){2,}"


def arn(name):
    return "arn:aws:events:us-east-1::event-source/" + name


class PartnerSources(DaemonTestCase):
    def test_lifecycle(self):
        c = self.events_client
        name = "aws.partner/example.com/tenant1/orders"
        r = c.create_partner_event_source(Name=name, Account=ACCOUNT)
        self.assertEqual(r["EventSourceArn"], arn(name))
        d = c.describe_partner_event_source(Name=name)
        self.assertEqual((d["Arn"], d["Name"]), (arn(name), name))
        d = c.describe_event_source(Name=name)
        self.assertEqual((d["Arn"], d["CreatedBy"], d["Name"], d["State"]),
                         (arn(name), "example.com", name, "PENDING"))
        self.assertIn("CreationTime", d)
        accounts = c.list_partner_event_source_accounts(EventSourceName=name)
        self.assertEqual([(a["Account"], a["State"]) for a in accounts["PartnerEventSourceAccounts"]],
                         [(ACCOUNT, "PENDING")])
        # Events before the partner bus exists are dropped, not refused (AWS drops them).
        r = c.put_partner_events(Entries=[{"Source": name, "DetailType": "t", "Detail": "{}"}])
        self.assertEqual(r["FailedEntryCount"], 0)
        # Matching bus: the source turns ACTIVE.
        bus = c.create_event_bus(Name=name, EventSourceName=name)
        self.assertEqual(bus["EventBusArn"], "arn:aws:events:us-east-1:%s:event-bus/%s" %
                         (ACCOUNT, name))
        self.assertEqual(c.describe_event_source(Name=name)["State"], "ACTIVE")
        self.assertEqual(self.daemon.events(bus=name), [])
        # Deactivate: PENDING, events dropped; activate again: ACTIVE.
        c.deactivate_event_source(Name=name)
        self.assertEqual(c.describe_event_source(Name=name)["State"], "PENDING")
        c.put_partner_events(Entries=[{"Source": name, "DetailType": "t", "Detail": "{}"}])
        self.assertEqual(self.daemon.events(bus=name), [])
        c.activate_event_source(Name=name)
        self.assertEqual(c.describe_event_source(Name=name)["State"], "ACTIVE")
        # The partner deletes the source while the bus is there: DELETED for the customer.
        c.delete_partner_event_source(Name=name, Account=ACCOUNT)
        self.assertEqual(c.describe_event_source(Name=name)["State"], "DELETED")
        with self.assertRaises(ClientError) as ctx:
            c.describe_partner_event_source(Name=name)
        self.assertAwsError(ctx, "ResourceNotFoundException",
                            "Event source %s does not exist." % name)
        with self.assertRaises(ClientError) as ctx:
            c.activate_event_source(Name=name)
        self.assertAwsError(ctx, "InvalidStateException")
        r = c.put_partner_events(Entries=[{"Source": name, "DetailType": "t", "Detail": "{}"}])
        self.assertEqual(r["Entries"][0]["ErrorCode"], "NotAuthorizedForSourceException")
        # Deleting the bus forgets the deleted source.
        c.delete_event_bus(Name=name)
        with self.assertRaises(ClientError) as ctx:
            c.describe_event_source(Name=name)
        self.assertAwsError(ctx, "ResourceNotFoundException",
                            "Event source %s does not exist." % name)

    def test_partner_events_arrive_as_aws_delivers_them(self):
        c = self.events_client
        sink = Sink()
        self.addCleanup(sink.close)
        name = "aws.partner/saas.example/acct-9/invoices"
        c.create_partner_event_source(Name=name, Account=ACCOUNT)
        c.create_event_bus(Name=name, EventSourceName=name)
        c.put_rule(Name="paid", EventBusName=name,
                   EventPattern=json.dumps({"source": [{"prefix": "aws.partner/saas.example"}],
                                            "detail-type": ["invoice.paid"]}))
        conf = os.path.join(self.daemon.data_dir, "partner.conf")
        with open(conf, "w") as f:
            f.write("target_map = arn:aws:sqs:*:*:partner -> %s/partner\n" % sink.url)
        self.daemon.stop()
        self.daemon.args = ["--config", conf]
        self.daemon.start()
        c = type(self).events_client = self.daemon.client()
        c.put_targets(Rule="paid", EventBusName=name,
                      Targets=[{"Id": "q", "Arn": "arn:aws:sqs:us-east-1:000000000000:partner"}])
        when = 1700000000
        r = c.put_partner_events(Entries=[
            {"Source": name, "DetailType": "invoice.paid", "Detail": json.dumps({"amount": 12}),
             "Resources": ["arn:aws:events:us-east-1::event-source/" + name], "Time": when},
            {"Source": name, "DetailType": "invoice.sent", "Detail": "{}"},
            {"Source": "aws.partner/saas.example/acct-9/unknown", "DetailType": "x",
             "Detail": "{}"},
            {"Source": name, "DetailType": "x", "Detail": "[1]"},
        ])
        self.assertEqual(r["FailedEntryCount"], 2)
        self.assertEqual(r["Entries"][2], {"ErrorCode": "NotAuthorizedForSourceException",
                                           "ErrorMessage": "Not authorized for the source."})
        self.assertEqual(r["Entries"][3]["ErrorCode"], "MalformedDetail")
        got = sink.wait_for("/partner", 1)
        self.assertEqual(len(got), 1)
        ev = json.loads(got[0]["body"])
        self.assertEqual(list(ev), ["version", "id", "detail-type", "source", "account", "time",
                                    "region", "resources", "detail"])
        self.assertEqual(ev["id"], r["Entries"][0]["EventId"])
        self.assertEqual((ev["source"], ev["account"], ev["region"], ev["detail-type"]),
                         (name, ACCOUNT, "us-east-1", "invoice.paid"))
        self.assertEqual(ev["time"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)))
        self.assertEqual(ev["resources"], [arn(name)])
        self.assertEqual(ev["detail"], {"amount": 12})
        self.assertEqual(len(self.daemon.events(bus=name)), 2)

    def test_partner_bus_requires_its_source(self):
        c = self.events_client
        name = "aws.partner/example.com/t/none"
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name=name, EventSourceName=name)
        self.assertAwsError(ctx, "ResourceNotFoundException",
                            "Event source %s does not exist." % name)
        # Offered to another account: not this customer's.
        c.create_partner_event_source(Name=name, Account=OTHER)
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name=name, EventSourceName=name)
        self.assertAwsError(ctx, "ResourceNotFoundException")
        self.assertNotIn(name, [s["Name"] for s in c.list_event_sources()["EventSources"]])
        with self.assertRaises(ClientError) as ctx:
            c.describe_event_source(Name=name)
        self.assertAwsError(ctx, "ResourceNotFoundException")
        # The partner still sees it and the account it is offered to.
        acc = c.list_partner_event_source_accounts(EventSourceName=name)
        self.assertEqual(acc["PartnerEventSourceAccounts"][0]["Account"], OTHER)
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name="aws.partner/mismatch", EventSourceName=name)
        self.assertAwsError(ctx, "ValidationException")
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name="aws.partner-bus")
        self.assertAwsError(ctx, "ValidationException",
                            "EventBus name starting with 'aws.' is not valid.")
        with self.assertRaises(ClientError) as ctx:
            c.delete_partner_event_source(Name=name, Account=ACCOUNT)
        self.assertAwsError(ctx, "ResourceNotFoundException")
        c.delete_partner_event_source(Name=name, Account=OTHER)
        self.assertEqual(c.list_partner_event_sources(NamePrefix="aws.partner/example.com/t/")
                         ["PartnerEventSources"], [])

    def test_names_and_validation(self):
        c = self.events_client
        for bad in ("aws.partner/onlyone", "partner/x/y", "aws.partner//x", "aws.partner/a/b c"):
            with self.subTest(name=bad):
                with self.assertRaises(ClientError) as ctx:
                    c.create_partner_event_source(Name=bad, Account=ACCOUNT)
                self.assertAwsError(
                    ctx, "ValidationException",
                    "1 validation error detected: Value '%s' at 'name' failed to satisfy "
                    "constraint: Member must satisfy regular expression pattern: %s" % (bad, PATTERN))
        # boto3 checks the length itself: raw.
        status, r, _ = self.daemon.api("CreatePartnerEventSource",
                                       {"Name": "aws.partner/a/b", "Account": "12"})
        self.assertEqual((status, r["__type"], r["message"]), (
            400, "ValidationException",
            "1 validation error detected: Value '12' at 'account' failed to satisfy constraint: "
            "Member must have length greater than or equal to 12"))
        c.create_partner_event_source(Name="aws.partner/a.com/b/c", Account=ACCOUNT)
        with self.assertRaises(ClientError) as ctx:
            c.create_partner_event_source(Name="aws.partner/a.com/b/c", Account=ACCOUNT)
        self.assertAwsError(ctx, "ResourceAlreadyExistsException",
                            "Event source aws.partner/a.com/b/c already exists.")
        with self.assertRaises(ClientError) as ctx:
            c.list_partner_event_sources(NamePrefix="aws.partner")
        self.assertAwsError(ctx, "ValidationException")
        with self.assertRaises(ClientError) as ctx:
            c.put_partner_events(Entries=[{"Source": "not-a-source", "DetailType": "x",
                                           "Detail": "{}"}])
        self.assertAwsError(ctx, "ValidationException",
                            "1 validation error detected: Value 'not-a-source' at "
                            "'entries.1.member.source' failed to satisfy constraint: Member must "
                            "satisfy regular expression pattern: " + PATTERN)
        with self.assertRaises(ClientError) as ctx:
            c.activate_event_source(Name="aws.partner/a.com/b/c")
        self.assertAwsError(ctx, "ResourceNotFoundException",
                            "Event source aws.partner/a.com/b/c or event bus "
                            "aws.partner/a.com/b/c does not exist.")
        for op in (c.describe_event_source, c.describe_partner_event_source,
                   c.activate_event_source, c.deactivate_event_source):
            with self.assertRaises(ClientError) as ctx:
                op(Name="aws.partner/a.com/b/missing")
            self.assertAwsError(ctx, "ResourceNotFoundException",
                                "Event source aws.partner/a.com/b/missing does not exist.")

    def test_listing_and_paging(self):
        c = self.events_client
        names = ["aws.partner/pager.io/ns/s%02d" % i for i in range(7)]
        for n in names:
            c.create_partner_event_source(Name=n, Account=ACCOUNT)
        seen, token = [], None
        while True:
            kw = {"NamePrefix": "aws.partner/pager.io/", "Limit": 3}
            if token:
                kw["NextToken"] = token
            page = c.list_partner_event_sources(**kw)
            seen += [s["Name"] for s in page["PartnerEventSources"]]
            self.assertEqual(set(page["PartnerEventSources"][0]), {"Arn", "Name"})
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, names)
        mine = c.list_event_sources(NamePrefix="aws.partner/pager.io", Limit=100)["EventSources"]
        self.assertEqual([s["Name"] for s in mine], names)
        self.assertEqual({s["State"] for s in mine}, {"PENDING"})
        # Durable: a restart keeps sources, states and the partner bus.
        c.create_event_bus(Name=names[0], EventSourceName=names[0])
        c.deactivate_event_source(Name=names[0])
        self.daemon.kill9()
        self.daemon.start()
        c = type(self).events_client = self.daemon.client()
        self.assertEqual(c.describe_event_source(Name=names[0])["State"], "PENDING")
        self.assertEqual(c.describe_event_source(Name=names[1])["State"], "PENDING")
        c.activate_event_source(Name=names[0])
        self.assertEqual(c.describe_event_source(Name=names[0])["State"], "ACTIVE")

    def test_aws_cli(self):
        name = "aws.partner/cli.example/x/y"
        rc, out, err = self.daemon.aws("create-partner-event-source", "--name", name,
                                       "--account", ACCOUNT)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["EventSourceArn"], arn(name))
        rc, out, err = self.daemon.aws("describe-event-source", "--name", name)
        self.assertEqual((rc, out["State"]), (0, "PENDING"), err)

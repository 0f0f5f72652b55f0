"""Event bus lifecycle through boto3 and the AWS CLI; expected errors and messages come from the
recorded AWS answers in shared/conformance/aws-snapshots/test_events.snapshot.json."""
import botocore.exceptions

from lbharness import DaemonTestCase

ClientError = botocore.exceptions.ClientError


class BusLifecycle(DaemonTestCase):
    def test_create_describe_list_update_delete(self):
        c = self.events_client
        # Debian's botocore predates Description/UpdateEventBus: send those calls raw.
        status, r, _ = self.daemon.api("CreateEventBus", {
            "Name": "lifecycle", "Description": "test bus", "Tags": [{"Key": "team", "Value": "a"}]})
        self.assertEqual(status, 200, r)
        arn = "arn:aws:events:us-east-1:000000000000:event-bus/lifecycle"
        self.assertEqual(r["EventBusArn"], arn)
        self.assertEqual(r["Description"], "test bus")
        _, d, _ = self.daemon.api("DescribeEventBus", {"Name": "lifecycle"})
        self.assertEqual((d["Name"], d["Arn"], d["Description"]), ("lifecycle", arn, "test bus"))
        self.assertIn("CreationTime", d)
        self.assertIn("LastModifiedTime", d)
        # Describe by ARN too.
        self.assertEqual(c.describe_event_bus(Name=arn)["Name"], "lifecycle")
        names = [b["Name"] for b in c.list_event_buses()["EventBuses"]]
        self.assertIn("lifecycle", names)
        self.assertIn("default", names)
        status, u, _ = self.daemon.api("UpdateEventBus", {"Name": "lifecycle",
                                                         "Description": "changed"})
        self.assertEqual(status, 200, u)
        self.assertEqual((u["Name"], u["Arn"], u["Description"]), ("lifecycle", arn, "changed"))
        self.assertEqual(self.daemon.api("DescribeEventBus", {"Name": "lifecycle"})[1]["Description"],
                         "changed")
        c.delete_event_bus(Name="lifecycle")
        with self.assertRaises(ClientError) as ctx:
            c.describe_event_bus(Name="lifecycle")
        self.assertAwsError(ctx, "ResourceNotFoundException", "Event bus lifecycle does not exist.")

    def test_default_bus_always_exists_and_cannot_be_deleted(self):
        c = self.events_client
        d = c.describe_event_bus()
        self.assertEqual(d["Name"], "default")
        with self.assertRaises(ClientError) as ctx:
            c.delete_event_bus(Name="default")
        self.assertAwsError(ctx, "ValidationException", "Cannot delete event bus default.")

    def test_duplicate_and_missing(self):
        c = self.events_client
        c.create_event_bus(Name="dup")
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name="dup")
        self.assertAwsError(ctx, "ResourceAlreadyExistsException", "Event bus dup already exists.")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertRaises(ClientError) as ctx:
            c.delete_event_bus(Name="never-made")
        self.assertAwsError(ctx, "ResourceNotFoundException", "Event bus never-made does not exist.")

    def test_invalid_names(self):
        c = self.events_client
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name="bad name!")
        self.assertAwsError(
            ctx, "ValidationException",
            "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+")
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name="x" * 257)
        self.assertAwsError(ctx, "ValidationException")
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name="default")
        self.assertAwsError(ctx, "ResourceAlreadyExistsException")

    def test_nul_in_name_does_not_create_a_shorter_bus(self):
        """Regression (B2): a name holding U+0000 was read up to it, so "bus\\u0000evil" created
        the bus "bus". It now fails the name pattern, and PutEvents fails an entry whose Source
        holds U+0000 instead of accepting it as a shorter source."""
        c = self.events_client
        with self.assertRaises(ClientError) as ctx:
            c.create_event_bus(Name="nulbus\x00evil")
        self.assertAwsError(ctx, "ValidationException",
                            "1 validation error detected: Value 'nulbus\x00evil' at 'name' failed "
                            "to satisfy constraint: Member must satisfy regular expression "
                            "pattern: [/\\.\\-_A-Za-z0-9]+")
        self.assertNotIn("nulbus", [b["Name"] for b in c.list_event_buses()["EventBuses"]])
        r = c.put_events(Entries=[{"Source": "shop\x00evil", "DetailType": "t", "Detail": "{}"}])
        self.assertEqual(r["FailedEntryCount"], 1)
        self.assertEqual(r["Entries"][0]["ErrorCode"], "InvalidArgument")
        self.assertEqual(r["Entries"][0]["ErrorMessage"],
                         "Parameter Source is not valid. Reason: Source must not contain U+0000.")

    def test_list_prefix_limit_and_pagination(self):
        c = self.events_client
        for i in range(7):
            c.create_event_bus(Name="page-%d" % i)
        r = c.list_event_buses(NamePrefix="page-", Limit=3)
        self.assertEqual([b["Name"] for b in r["EventBuses"]], ["page-0", "page-1", "page-2"])
        r2 = c.list_event_buses(NamePrefix="page-", Limit=3, NextToken=r["NextToken"])
        self.assertEqual([b["Name"] for b in r2["EventBuses"]], ["page-3", "page-4", "page-5"])
        r3 = c.list_event_buses(NamePrefix="page-", Limit=3, NextToken=r2["NextToken"])
        self.assertEqual([b["Name"] for b in r3["EventBuses"]], ["page-6"])
        self.assertNotIn("NextToken", r3)
        status, body, _ = self.daemon.api("ListEventBuses", {"Limit": 0})
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))
        with self.assertRaises(ClientError) as ctx:
            c.list_event_buses(NextToken="zz-not-a-token")
        self.assertAwsError(ctx, "ValidationException")

    def test_region_from_credential_scope(self):
        eu = self.daemon.client(region="eu-west-1")
        r = eu.create_event_bus(Name="regional")
        self.assertEqual(r["EventBusArn"],
                         "arn:aws:events:eu-west-1:000000000000:event-bus/regional")
        # Buses are regional, as in AWS.
        with self.assertRaises(ClientError):
            self.events_client.describe_event_bus(Name="regional")
        self.assertEqual(eu.describe_event_bus()["Arn"],
                         "arn:aws:events:eu-west-1:000000000000:event-bus/default")

    def test_aws_cli(self):
        rc, out, err = self.daemon.aws("create-event-bus", "--name", "orders")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["EventBusArn"], "arn:aws:events:us-east-1:000000000000:event-bus/orders")
        rc, out, err = self.daemon.aws(
            "put-events", "--entries",
            '[{"Source":"shop","DetailType":"OrderPlaced","Detail":"{\\"id\\":1}",'
            '"EventBusName":"orders"}]')
        self.assertEqual(rc, 0, err)
        self.assertEqual(out["FailedEntryCount"], 0)
        stored = self.daemon.events(bus="orders")
        self.assertEqual(stored[0]["id"], out["Entries"][0]["EventId"])
        self.assertEqual(stored[0]["detail"], {"id": 1})
        rc, out, err = self.daemon.aws("describe-event-bus", "--name", "no-such-bus")
        self.assertNotEqual(rc, 0)
        self.assertIn("ResourceNotFoundException", err)

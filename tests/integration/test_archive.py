"""Archives through boto3 and the AWS CLI, checked against AWS's recorded answers
(tests/conformance/archive-and-replay.snapshot.json): the lifecycle, listings and their filters,
every recorded error, EventCount and SizeBytes as AWS counts them, pattern updates, a bus with
archives, restarts, and the retention sweep (with a short test-only day)."""
import json
import time
import unittest

import botocore.exceptions

from lbharness import Daemon, DaemonTestCase
from snapshot import ACCOUNT, cli_error, client_error, normalize, recorded

ClientError = botocore.exceptions.ClientError
# LocalStack's TEST_EVENT_PATTERN and TEST_EVENT_DETAIL, as the recording tests sent them.
PATTERN = {"source": ["core.update-account-command"],
           "detail-type": ["core.update-account-command"],
           "detail": {"command": ["update-account"]}}
PATTERN_NO_DETAIL = {"source": ["core.update-account-command"],
                     "detail-type": ["core.update-account-command"]}
DETAIL = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}


def bus_arn(name, region="us-east-1"):
    return "arn:aws:events:%s:%s:event-bus/%s" % (region, ACCOUNT, name)


def entry(bus):
    return {"Source": PATTERN["source"][0], "DetailType": PATTERN["detail-type"][0],
            "Detail": json.dumps(DETAIL), "EventBusName": bus}


class Archives(DaemonTestCase):
    daemon_args = ("--account-id", ACCOUNT)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.events_client.create_event_bus(Name="custom-bus")
        cls.n = 0

    def name(self, prefix="test-archive"):
        Archives.n += 1
        return "%s-%d" % (prefix, Archives.n)

    def bus(self, kind):
        return ("default", bus_arn("default")) if kind == "default" else ("custom-bus",
                                                                          bus_arn("custom-bus"))

    def test_lifecycle_matches_aws(self):
        c = self.events_client
        for kind in ("default", "custom"):
            bus, arn = self.bus(kind)
            name = self.name()
            names = {name: "<archive-name>", bus: "<event-bus-name>"}
            test = "TestArchive::test_create_list_describe_update_delete_archive[%s]" % kind
            r = c.create_archive(ArchiveName=name, EventSourceArn=arn,
                                 Description="description of the archive",
                                 EventPattern=json.dumps(PATTERN), RetentionDays=1)
            self.assertEqual(normalize(r, names), recorded(test, "create-archive"))
            r = c.list_archives(NamePrefix=name)
            self.assertEqual(normalize(r, names), recorded(test, "list-archives"))
            r = c.describe_archive(ArchiveName=name)
            self.assertEqual(normalize(r, names), recorded(test, "describe-archive"))
            r = c.update_archive(ArchiveName=name, Description="updated description of the archive",
                                 EventPattern=json.dumps(PATTERN_NO_DETAIL), RetentionDays=2)
            self.assertEqual(normalize(r, names), recorded(test, "update-archive"))
            d = c.describe_archive(ArchiveName=name)
            self.assertEqual((d["Description"], json.loads(d["EventPattern"]), d["RetentionDays"]),
                             ("updated description of the archive", PATTERN_NO_DETAIL, 2))
            r = c.delete_archive(ArchiveName=name)
            self.assertEqual(normalize(r, names), recorded(test, "delete-archive"))

    def test_lifecycle_with_the_cli(self):
        bus, arn = self.bus("custom")
        name = self.name("cli-archive")
        names = {name: "<archive-name>", bus: "<event-bus-name>"}
        test = "TestArchive::test_create_list_describe_update_delete_archive[custom]"
        rc, out, err = self.daemon.aws("create-archive", "--archive-name", name,
                                       "--event-source-arn", arn, "--description",
                                       "description of the archive", "--event-pattern",
                                       json.dumps(PATTERN), "--retention-days", "1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(normalize(out, names), recorded(test, "create-archive"))
        rc, out, err = self.daemon.aws("list-archives", "--name-prefix", name)
        self.assertEqual(normalize(out, names), recorded(test, "list-archives"))
        rc, out, err = self.daemon.aws("describe-archive", "--archive-name", name)
        self.assertEqual(normalize(out, names), recorded(test, "describe-archive"))
        rc, out, err = self.daemon.aws("update-archive", "--archive-name", name,
                                       "--retention-days", "2")
        self.assertEqual(normalize(out, names), recorded(test, "update-archive"))
        rc, out, err = self.daemon.aws("delete-archive", "--archive-name", name)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.daemon.aws("describe-archive", "--archive-name", name)
        self.assertNotEqual(rc, 0)
        self.assertEqual(cli_error(err, {name: "<archive-name>"}),
                         ("ResourceNotFoundException", "Archive <archive-name> does not exist."))

    def test_errors_match_aws(self):
        c = self.events_client
        missing = "doesnotexist-bus"
        cases = [
            ("TestArchive::test_create_archive_error_unknown_event_bus",
             "create-archive-unknown-event-bus-error", {missing: "<event-bus-name>"},
             lambda: c.create_archive(
                 ArchiveName="test-archive", EventSourceArn=
                 "arn:aws:events:us-east-1:123456789012:event-bus/" + missing,
                 Description="description of the archive", EventPattern=json.dumps(PATTERN),
                 RetentionDays=1)),
            ("TestArchive::test_describe_archive_error_unknown_archive",
             "describe-archive-unknown-archive-error", {"doesnotexist-a": "<archive-name>"},
             lambda: c.describe_archive(ArchiveName="doesnotexist-a")),
            ("TestArchive::test_list_archive_error_unknown_source_arn",
             "list-archives-unknown-event-bus-error", {missing: "<event-bus-name>"},
             lambda: c.list_archives(EventSourceArn=bus_arn(missing))),
            ("TestArchive::test_update_archive_error_unknown_archive",
             "update-archive-unknown-archive-error", {},
             lambda: c.update_archive(ArchiveName="doesnotexist-a")),
            ("TestArchive::test_delete_archive_error_unknown_archive",
             "delete-archive-unknown-archive-error", {"doesnotexist-a": "<archive-name>"},
             lambda: c.delete_archive(ArchiveName="doesnotexist-a")),
        ]
        for test, key, names, call in cases:
            with self.subTest(test=test):
                with self.assertRaises(ClientError) as ctx:
                    call()
                self.assertEqual(client_error(ctx.exception, names), recorded(test, key))
        for kind in ("default", "custom"):
            bus, arn = self.bus(kind)
            name = self.name()
            c.create_archive(ArchiveName=name, EventSourceArn=arn, RetentionDays=1)
            with self.assertRaises(ClientError) as ctx:
                c.create_archive(ArchiveName=name, EventSourceArn=arn,
                                 Description="description of the archive",
                                 EventPattern=json.dumps(PATTERN), RetentionDays=1)
            test = "TestArchive::test_create_archive_error_duplicate[%s]" % kind
            self.assertEqual(client_error(ctx.exception, {name: "<archive-name>"}),
                             recorded(test, "create-archive-duplicate-error"))
            c.delete_archive(ArchiveName=name)

    def test_errors_with_the_cli(self):
        rc, out, err = self.daemon.aws("create-archive", "--archive-name", "x",
                                       "--event-source-arn", bus_arn("doesnotexist-bus"))
        self.assertEqual(cli_error(err, {}), ("ResourceNotFoundException",
                                              "Event bus doesnotexist-bus does not exist."))
        rc, out, err = self.daemon.aws("update-archive", "--archive-name", "doesnotexist-a")
        self.assertEqual(cli_error(err, {}), (
            "ValidationException",
            "At least one of EventPattern, RetentionDays or Description must be provided."))
        rc, out, err = self.daemon.aws("create-archive", "--archive-name", "bad-pattern",
                                       "--event-source-arn", bus_arn("default"),
                                       "--event-pattern", '{"source": []}')
        self.assertEqual(cli_error(err, {}), (
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: Empty arrays are not allowed"))
        rc, out, err = self.daemon.aws("list-archives", "--name-prefix", "a", "--state", "ENABLED")
        self.assertEqual(cli_error(err, {}), (
            "ValidationException", "At most one filter is allowed for ListArchives. Use either : "
                                   "State, EventSourceArn, or NamePrefix."))

    def test_bad_input(self):
        c = self.events_client
        with self.assertRaises(ClientError) as ctx:
            c.create_archive(ArchiveName="bad", EventSourceArn=bus_arn("default"),
                             EventPattern='{"source": "not-a-list"}')
        self.assertAwsError(ctx, "InvalidEventPatternException")
        status, body, _ = self.daemon.api("CreateArchive", {
            "ArchiveName": "x" * 49, "EventSourceArn": "not-an-arn", "RetentionDays": -1})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "ValidationException")
        self.assertTrue(body["message"].startswith("3 validation errors detected: Value '%s' at "
                                                   "'archiveName' failed to satisfy constraint: "
                                                   "Member must have length less than or equal "
                                                   "to 48" % ("x" * 49)), body)
        status, body, _ = self.daemon.api("ListArchives", {"State": "ON"})
        self.assertEqual(body["__type"], "ValidationException")
        status, body, _ = self.daemon.api("DescribeArchive", {"ArchiveName": ["x"]})
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        # Nothing half-created: the refused archives are not there.
        self.assertEqual(c.list_archives(NamePrefix="bad")["Archives"], [])

    def test_listing_filters_match_aws(self):
        c = self.events_client
        for kind in ("default", "custom"):
            bus, arn = self.bus(kind)
            prefix = "filters-%s" % kind
            name = "%s-%d" % (prefix, Archives.n)
            names = {name: "<archive-name>", bus: "<event-bus-name>"}
            c.create_archive(ArchiveName=name, EventSourceArn=arn,
                             Description="description of the archive",
                             EventPattern=json.dumps(PATTERN), RetentionDays=1)
            test = "TestArchive::test_list_archive_with_name_prefix[%s]" % kind
            self.assertEqual(normalize(c.list_archives(NamePrefix=prefix), names),
                             recorded(test, "list-archives-with-name-prefix"))
            self.assertEqual(normalize(c.list_archives(NamePrefix=name), names),
                             recorded(test, "list-archives-with-full-name"))
            self.assertEqual(normalize(c.list_archives(NamePrefix="doesnotexist"), names),
                             recorded(test, "list-archives-not-existing-archive"))
            if kind == "custom":
                test = "TestArchive::test_list_archive_with_source_arn[%s]" % kind
                self.assertEqual(normalize(c.list_archives(EventSourceArn=arn), names),
                                 recorded(test, "list-archives-with-source-arn"))
            listed = c.list_archives(State="ENABLED")["Archives"]
            self.assertIn(name, [a["ArchiveName"] for a in listed])
            self.assertEqual(c.list_archives(State="DISABLED")["Archives"], [])
            c.delete_archive(ArchiveName=name)

    def test_paging(self):
        c = self.events_client
        for i in range(5):
            c.create_archive(ArchiveName="page-%d" % i, EventSourceArn=bus_arn("default"))
        seen, token = [], None
        while True:
            kw = {"NamePrefix": "page-", "Limit": 2}
            if token:
                kw["NextToken"] = token
            r = c.list_archives(**kw)
            seen += [a["ArchiveName"] for a in r["Archives"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, ["page-%d" % i for i in range(5)])
        rc, out, err = self.daemon.aws("list-archives", "--name-prefix", "page-")
        self.assertEqual([a["ArchiveName"] for a in out["Archives"]], seen)
        for i in range(5):
            c.delete_archive(ArchiveName="page-%d" % i)

    def test_events_are_counted_as_aws_counts_them(self):
        c = self.events_client
        bus = "counted-bus"
        c.create_event_bus(Name=bus)
        for match in (True, False):
            name = self.name()
            kw = {"EventPattern": json.dumps(PATTERN)} if match else {}
            c.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus),
                             Description="description of the archive", RetentionDays=1, **kw)
            for _ in range(10):
                self.assertEqual(c.put_events(Entries=[entry(bus)])["FailedEntryCount"], 0)
            if match:
                # An event the pattern does not select is not archived, nor counted.
                c.put_events(Entries=[{"Source": "other", "DetailType": "x", "Detail": "{}",
                                       "EventBusName": bus}])
            names = {name: "<archive-name>", bus: "<event-bus-name>"}
            test = "TestArchive::test_list_archive_with_events[%s-custom]" % match
            self.assertEqual(normalize(c.describe_archive(ArchiveName=name), names),
                             recorded(test, "describe-archive"))
            self.assertEqual(normalize(c.list_archives(NamePrefix=name), names),
                             recorded(test, "list-archives"))
            c.delete_archive(ArchiveName=name)
        c.delete_event_bus(Name=bus)

    def test_pattern_update_applies_from_then_on(self):
        c = self.events_client
        name = self.name()
        c.create_archive(ArchiveName=name, EventSourceArn=bus_arn("custom-bus"),
                         EventPattern=json.dumps({"source": ["a"]}))
        put = lambda src: c.put_events(Entries=[{"Source": src, "DetailType": "t",
                                                 "Detail": "{}", "EventBusName": "custom-bus"}])
        put("a"), put("b")
        self.assertEqual(c.describe_archive(ArchiveName=name)["EventCount"], 1)
        c.update_archive(ArchiveName=name, EventPattern=json.dumps({"source": ["b"]}))
        put("a"), put("b"), put("b")
        self.assertEqual(c.describe_archive(ArchiveName=name)["EventCount"], 3)
        c.delete_archive(ArchiveName=name)

    def test_bus_with_archives_cannot_be_deleted(self):
        c = self.events_client
        c.create_event_bus(Name="doomed")
        c.create_archive(ArchiveName="on-doomed", EventSourceArn=bus_arn("doomed"))
        with self.assertRaises(ClientError) as ctx:
            c.delete_event_bus(Name="doomed")
        self.assertAwsError(ctx, "ValidationException",
                            "EventBus can't be deleted since it has rules.")
        rc, out, err = self.daemon.aws("delete-event-bus", "--name", "doomed")
        self.assertEqual(cli_error(err, {})[0], "ValidationException")
        c.delete_archive(ArchiveName="on-doomed")
        c.delete_event_bus(Name="doomed")


class ArchivesAcrossRestarts(unittest.TestCase):
    def test_archives_and_counts_survive_a_restart(self):
        d = Daemon(args=["--account-id", ACCOUNT]).start()
        try:
            c = d.client()
            c.create_archive(ArchiveName="kept", EventSourceArn=bus_arn("default"),
                             EventPattern=json.dumps(PATTERN), RetentionDays=3)
            for _ in range(4):
                c.put_events(Entries=[entry("default")])
            before = c.describe_archive(ArchiveName="kept")
            d.kill9()
            d.start()
            after = d.client().describe_archive(ArchiveName="kept")
            for k in ("ArchiveArn", "EventPattern", "RetentionDays", "EventCount", "SizeBytes",
                      "CreationTime", "State"):
                self.assertEqual(after[k], before[k], k)
            self.assertEqual(after["EventCount"], 4)
        finally:
            d.cleanup()


class RetentionSweep(unittest.TestCase):
    """With a one-second "day" (archive_retention_day, for tests only) RetentionDays=1 expires
    an archived event after a second; the sweep removes them in steps of a few hundred."""

    def test_expired_events_go_and_counters_follow(self):
        d = Daemon(args=["--archive-retention-day", "1s", "--archive-sweep-interval", "100ms"])
        d.start()
        try:
            c = d.client()
            arn = "arn:aws:events:us-east-1:000000000000:event-bus/default"
            c.create_archive(ArchiveName="short", EventSourceArn=arn, RetentionDays=1)
            c.create_archive(ArchiveName="forever", EventSourceArn=arn)
            entries = [{"Source": "s", "DetailType": "t", "Detail": "{}"}] * 10
            for _ in range(130):  # 1300 events: three sweep steps
                self.assertEqual(c.put_events(Entries=entries)["FailedEntryCount"], 0)
            # Every event was archived in "short" (the counter does not fall as they expire;
            # EventCount may already have, on a machine slower than the one-second day).
            _, _, m = d.request("GET", "/metrics")
            self.assertIn('localbridge_archive_events_archived_total{region="us-east-1",'
                          'archive_name="short",event_bus_name="default"} 1300', m.decode())
            deadline = time.time() + 15
            while time.time() < deadline:
                short = c.describe_archive(ArchiveName="short")
                if short["EventCount"] == 0:
                    break
                time.sleep(0.1)
            self.assertEqual((short["EventCount"], short["SizeBytes"]), (0, 0))
            forever = c.describe_archive(ArchiveName="forever")
            self.assertEqual(forever["EventCount"], 1300)
            # Deleting an archive leaves its events to the sweep too; a new archive of the same
            # name starts empty.
            c.delete_archive(ArchiveName="forever")
            c.create_archive(ArchiveName="forever", EventSourceArn=arn)
            self.assertEqual(c.describe_archive(ArchiveName="forever")["EventCount"], 0)
            _, _, m = d.request("GET", "/metrics")
            self.assertIn('localbridge_archive_event_count{region="us-east-1",archive_name="short",'
                          'event_bus_name="default"} 0', m.decode())
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()

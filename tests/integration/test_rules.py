"""Rules, targets and tags through boto3; messages from the recorded AWS answers
(shared/conformance/aws-snapshots/test_events.snapshot.json, test_events_tags.snapshot.json)."""
import json

import botocore.exceptions

from lbharness import DaemonTestCase

ClientError = botocore.exceptions.ClientError
PATTERN = json.dumps({"source": ["core.update-account-command"],
                      "detail": {"command": ["update-account"]}})


class Rules(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.events_client.create_event_bus(Name="rb")

    def test_rule_lifecycle_on_custom_bus(self):
        c = self.events_client
        r = c.put_rule(Name="r1", EventBusName="rb", EventPattern=PATTERN)
        self.assertEqual(r["RuleArn"], "arn:aws:events:us-east-1:000000000000:rule/rb/r1")
        d = c.describe_rule(Name="r1", EventBusName="rb")
        self.assertEqual((d["Name"], d["State"], d["EventBusName"], d["CreatedBy"], d["EventPattern"]),
                         ("r1", "ENABLED", "rb", "000000000000", PATTERN))
        c.disable_rule(Name="r1", EventBusName="rb")
        self.assertEqual(c.describe_rule(Name="r1", EventBusName="rb")["State"], "DISABLED")
        c.enable_rule(Name="r1", EventBusName="rb")
        self.assertEqual(c.describe_rule(Name="r1", EventBusName="rb")["State"], "ENABLED")
        rules = c.list_rules(EventBusName="rb", NamePrefix="r1")["Rules"]
        self.assertEqual([x["Name"] for x in rules], ["r1"])
        c.delete_rule(Name="r1", EventBusName="rb")
        self.assertEqual(c.list_rules(EventBusName="rb", NamePrefix="r1")["Rules"], [])

    def test_default_bus_arn_and_errors(self):
        c = self.events_client
        r = c.put_rule(Name="dr", EventPattern=PATTERN)
        self.assertEqual(r["RuleArn"], "arn:aws:events:us-east-1:000000000000:rule/dr")
        with self.assertRaises(ClientError) as ctx:
            c.describe_rule(Name="missing-rule")
        self.assertAwsError(ctx, "ResourceNotFoundException",
                            "Rule missing-rule does not exist on EventBus default.")
        with self.assertRaises(ClientError) as ctx:
            c.put_rule(Name="bad", EventPattern='{"source": []}')
        self.assertAwsError(ctx, "InvalidEventPatternException",
                            "Event pattern is not valid. Reason: Empty arrays are not allowed")
        with self.assertRaises(ClientError) as ctx:
            c.put_rule(Name="sched", EventBusName="rb", ScheduleExpression="rate(5 minutes)")
        self.assertAwsError(ctx, "ValidationException",
                            "ScheduleExpression is supported only on the default event bus.")
        with self.assertRaises(ClientError) as ctx:
            c.put_rule(Name="sched", ScheduleExpression="rate(5 minute)")
        self.assertAwsError(ctx, "ValidationException", "Parameter ScheduleExpression is not valid.")
        c.put_rule(Name="sched", ScheduleExpression="cron(0 12 * * ? *)")
        with self.assertRaises(ClientError) as ctx:
            c.put_rule(Name="bus-missing", EventBusName="nope", EventPattern=PATTERN)
        self.assertAwsError(ctx, "ResourceNotFoundException", "Event bus nope does not exist.")

    def test_targets(self):
        c = self.events_client
        c.put_rule(Name="tr", EventBusName="rb", EventPattern=PATTERN)
        arn = "arn:aws:sqs:us-east-1:000000000000:q1"
        r = c.put_targets(Rule="tr", EventBusName="rb", Targets=[{"Id": "t1", "Arn": arn}])
        self.assertEqual((r["FailedEntryCount"], r["FailedEntries"]), (0, []))
        self.assertEqual(c.list_targets_by_rule(Rule="tr", EventBusName="rb")["Targets"],
                         [{"Id": "t1", "Arn": arn}])
        self.assertEqual(c.list_rule_names_by_target(TargetArn=arn, EventBusName="rb")["RuleNames"],
                         ["tr"])
        with self.assertRaises(ClientError) as ctx:
            c.delete_rule(Name="tr", EventBusName="rb")
        self.assertAwsError(ctx, "ValidationException", "Rule can't be deleted since it has targets.")
        with self.assertRaises(ClientError) as ctx:
            c.put_targets(Rule="tr", EventBusName="rb", Targets=[{"Id": "!@#$@!#$", "Arn": arn}])
        self.assertAwsError(ctx, "ValidationException",
                            "1 validation error detected: Value '!@#$@!#$' at 'targets.1.member.id' "
                            "failed to satisfy constraint: Member must satisfy regular expression "
                            "pattern: [\\.\\-_A-Za-z0-9]+")
        with self.assertRaises(ClientError) as ctx:
            c.put_targets(Rule="tr", EventBusName="rb",
                          Targets=[{"Id": "t%d" % i, "Arn": arn} for i in range(2, 7)])
        self.assertAwsError(ctx, "LimitExceededException",
                            "The requested resource exceeds the maximum number allowed.")
        with self.assertRaises(ClientError) as ctx:
            c.put_targets(Rule="tr", EventBusName="rb", Targets=[
                {"Id": "t9", "Arn": arn, "InputTransformer": {
                    "InputPathsMap": {"a": "$.detail"}, "InputTemplate": "<notdefinedkey>"}}])
        self.assertAwsError(ctx, "ValidationException",
                            "InputTemplate for target t9 contains invalid placeholder notdefinedkey.")
        r = c.remove_targets(Rule="tr", EventBusName="rb", Ids=["t1"])
        self.assertEqual(r["FailedEntryCount"], 0)
        self.assertEqual(c.list_targets_by_rule(Rule="tr", EventBusName="rb")["Targets"], [])
        c.delete_rule(Name="tr", EventBusName="rb")

    def test_put_targets_refuses_bad_arn_fifo_without_sqs_parameters_and_repeated_id(self):
        """Regression (B9): these were accepted; AWS answers ValidationException for each."""
        c = self.events_client
        c.put_rule(Name="b9", EventBusName="rb", EventPattern=PATTERN)
        with self.assertRaises(ClientError) as ctx:
            c.put_targets(Rule="b9", EventBusName="rb",
                          Targets=[{"Id": "p", "Arn": "lambda:Portfolio"}])
        self.assertAwsError(ctx, "ValidationException",
                            "Parameter lambda:Portfolio is not valid. Reason: Provided Arn is not "
                            "in correct format.")
        fifo = "arn:aws:sqs:us-east-1:000000000000:orders.fifo"
        with self.assertRaises(ClientError) as ctx:
            c.put_targets(Rule="b9", EventBusName="rb", Targets=[{"Id": "f", "Arn": fifo}])
        self.assertAwsError(ctx, "ValidationException",
                            "Parameter(s) SqsParameters must be specified for target: f.")
        queue = "arn:aws:sqs:us-east-1:000000000000:q1"
        with self.assertRaises(ClientError) as ctx:
            c.put_targets(Rule="b9", EventBusName="rb",
                          Targets=[{"Id": "d", "Arn": queue}, {"Id": "d", "Arn": queue}])
        self.assertAwsError(ctx, "ValidationException")
        self.assertEqual(c.list_targets_by_rule(Rule="b9", EventBusName="rb")["Targets"], [])
        c.put_targets(Rule="b9", EventBusName="rb",
                      Targets=[{"Id": "f", "Arn": fifo, "SqsParameters": {"MessageGroupId": "g"}}])
        self.assertEqual([t["Id"] for t in
                          c.list_targets_by_rule(Rule="b9", EventBusName="rb")["Targets"]], ["f"])
        c.remove_targets(Rule="b9", EventBusName="rb", Ids=["f"])
        c.delete_rule(Name="b9", EventBusName="rb")

    def test_tags(self):
        c = self.events_client
        arn = c.put_rule(Name="tagged", EventPattern=PATTERN)["RuleArn"]
        c.tag_resource(ResourceARN=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        c.untag_resource(ResourceARN=arn, TagKeys=["a"])
        self.assertEqual(c.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "b", "Value": "2"}])
        bus_arn = "arn:aws:events:us-east-1:000000000000:event-bus/rb"
        c.tag_resource(ResourceARN=bus_arn, Tags=[{"Key": "team", "Value": "x"}])
        self.assertEqual(c.list_tags_for_resource(ResourceARN=bus_arn)["Tags"],
                         [{"Key": "team", "Value": "x"}])
        with self.assertRaises(ClientError) as ctx:
            c.list_tags_for_resource(ResourceARN="arn:aws:events:us-east-1:000000000000:rule/nope")
        self.assertAwsError(ctx, "ResourceNotFoundException",
                            "Rule nope does not exist on EventBus default.")

    def test_error_message_over_4096_bytes_is_not_cut_inside_utf8(self):
        """Regression (B3): error messages were formatted into 4,096 bytes and cut, here in the
        middle of an 'é', so the body was not UTF-8 and boto3 raised UnicodeDecodeError instead of
        ClientError. The whole message now arrives."""
        name = "a" + "\u00e9" * 3000
        with self.assertRaises(ClientError) as ctx:
            self.events_client.put_rule(Name=name, EventPattern=PATTERN)
        self.assertAwsError(
            ctx, "ValidationException",
            "2 validation errors detected: Value '%s' at 'name' failed to satisfy constraint: "
            "Member must have length less than or equal to 64; Value '%s' at 'name' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "[\\.\\-_A-Za-z0-9]+" % (name, name))

    def test_rules_and_targets_survive_restart(self):
        c = self.events_client
        c.put_rule(Name="kept", EventBusName="rb", EventPattern=PATTERN, State="DISABLED")
        c.put_targets(Rule="kept", EventBusName="rb",
                      Targets=[{"Id": "x", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
                                "Input": "{\"k\":1}"}])
        d = self.daemon
        self.assertEqual(d.stop(), 0)
        d.start()
        c = d.client()
        self.__class__.events_client = c
        self.assertEqual(c.describe_rule(Name="kept", EventBusName="rb")["State"], "DISABLED")
        self.assertEqual(c.list_targets_by_rule(Rule="kept", EventBusName="rb")["Targets"][0]["Input"],
                         "{\"k\":1}")

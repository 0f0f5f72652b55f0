"""`localbridge deploy` against the real daemon: a template with buses (tags, policy), rules with
every target option, archives, a connection and an API destination, parameters, conditions and
mappings; deployed twice (the second a no-op), changed and redeployed (updates, replacements,
deletions, targets removed first), --plan changing nothing, and template errors (YAML syntax, an
unsupported intrinsic, a cycle) and failed calls named by their line. Queues and SAM functions:
the plan here; the deploy itself once the daemon has the SQS API and local functions."""
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import unittest

from lbharness import BINARY, DaemonTestCase, Sink

JSON = {"Content-Type": "application/json"}  # admin PUTs carry it (the browser guards)

ACCOUNT = "123456789012"

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: Orders wiring
Parameters:
  Environment:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  SinkUrl:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
  NotProd: !Not [!Condition IsProd]
Mappings:
  Retention:
    dev: {Days: 7}
    prod: {Days: 365}
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: !Sub 'orders-${Environment}'
      Description: Orders bus
      Tags:
        - {Key: Environment, Value: !Ref Environment}
        - {Key: Project, Value: Orders}
  Policy:
    Type: AWS::Events::EventBusPolicy
    Properties:
      EventBusName: !Ref Bus
      StatementId: AllowSameAccountPublish
      Statement:
        Effect: Allow
        Principal: {AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'}
        Action: events:PutEvents
        Resource: !GetAtt Bus.Arn
  Archive:
    Type: AWS::Events::Archive
    Properties:
      ArchiveName: orders-archive
      SourceArn: !GetAtt Bus.Arn
      RetentionDays: !FindInMap [Retention, !Ref Environment, Days]
      EventPattern:
        source: [{prefix: orders.}]
  Conn:
    Type: AWS::Events::Connection
    Properties:
      AuthorizationType: API_KEY
      AuthParameters:
        ApiKeyAuthParameters: {ApiKeyName: x-api-key, ApiKeyValue: s3cret}
  Dest:
    Type: AWS::Events::ApiDestination
    Properties:
      Name: orders-hook
      ConnectionArn: !GetAtt Conn.Arn
      InvocationEndpoint: !Sub '${SinkUrl}/hook'
      HttpMethod: POST
      InvocationRateLimitPerSecond: 50
  OrderRule:
    Type: AWS::Events::Rule
    Properties:
      Name: order-placed
      EventBusName: !Ref Bus
      EventPattern: {source: [orders.web], detail-type: [OrderPlaced]}
      Targets:
        - Id: hook
          Arn: !GetAtt Dest.Arn
          RoleArn: !GetAtt Role.Arn
          RetryPolicy: {MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600}
          DeadLetterConfig: {Arn: !Sub 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:orders-dlq'}
          InputTransformer:
            InputPathsMap: {id: $.detail.id}
            InputTemplate: !Sub '{"order": <id>, "stack": "${AWS::StackName}"}'
        - Id: copy
          Arn: !Sub 'arn:aws:events:${AWS::Region}:${AWS::AccountId}:event-bus/default'
          InputPath: $.detail
        - Id: fifo
          Arn: !Sub 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:orders.fifo'
          SqsParameters: {MessageGroupId: orders}
          Input: '{"fixed": true}'
  StringPatternRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: '{"source": ["orders.batch"]}'
      State: DISABLED
      Targets:
        - {Id: t1, Arn: !GetAtt Dest.Arn}
  Tick:
    Type: AWS::Events::Rule
    Condition: IsProd
    Properties:
      ScheduleExpression: rate(5 minutes)
      Targets:
        - {Id: tick, Arn: !GetAtt Bus.Arn}
  DevOnly:
    Type: AWS::Events::Rule
    Condition: NotProd
    Properties:
      EventBusName: !Ref Bus
      EventPattern: {source: [orders.debug]}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {Threshold: 1}
Outputs:
  BusArn:
    Value: !GetAtt Bus.Arn
  Rules:
    Value: !Join [',', [!Ref OrderRule, !Ref StringPatternRule]]
  ProdOnly:
    Condition: IsProd
    Value: !Ref Tick
"""


class Deploy(DaemonTestCase):
    daemon_args = ("--account-id", ACCOUNT)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sink = Sink()
        cls.dir = tempfile.mkdtemp(prefix="lb-deploy-")

    @classmethod
    def tearDownClass(cls):
        cls.sink.close()
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def deploy(self, path, *args, stack="orders"):
        cmd = [BINARY, "deploy", path, "--endpoint-url", self.daemon.url, "--stack-name", stack]
        p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def deploy_json(self, path, *args, stack="orders"):
        rc, out, err = self.deploy(path, "--json", *args, stack=stack)
        return rc, json.loads(out), err

    def actions(self, result):
        return {c["LogicalId"]: c["Action"] for c in result["Changes"]}

    def overrides(self, env="dev"):
        return ["--parameter-overrides", "Environment=" + env, "SinkUrl=" + self.sink.url]

    def test_1_deploy_twice_then_change(self):
        ev = self.events_client
        path = self.write("orders.yaml", TEMPLATE)
        # --plan first: it lists the creations and changes nothing.
        rc, plan, err = self.deploy_json(path, "--plan", *self.overrides())
        self.assertEqual(rc, 0, err)
        self.assertTrue(plan["Plan"])
        acts = self.actions(plan)
        self.assertEqual(acts["Bus"], "create")
        self.assertEqual(acts["Role"], "skipped")
        self.assertEqual(acts["Alarm"], "skipped")
        self.assertEqual(acts["Tick"], "skipped")  # its Condition is false
        self.assertNotIn("orders-dev", [b["Name"] for b in ev.list_event_buses()["EventBuses"]])
        st, _, _ = self.daemon.request("GET", "/_localbridge/stacks/orders")
        self.assertEqual(st, 400)

        rc, res, err = self.deploy_json(path, *self.overrides())
        self.assertEqual(rc, 0, err)
        self.assertEqual(res["create"], 8, res)
        self.assertEqual(res["Outputs"]["BusArn"],
                         "arn:aws:events:us-east-1:%s:event-bus/orders-dev" % ACCOUNT)
        self.assertTrue(res["Outputs"]["Rules"].startswith("orders-dev|order-placed,orders-dev|orders-StringPatternRule-"))
        self.assertNotIn("ProdOnly", res["Outputs"])
        self.assertEqual(res["skipped"], 3, res)

        # Raw: Debian's boto3 1.26 predates Description in DescribeEventBus and drops it.
        bus = self.daemon.api("DescribeEventBus", {"Name": "orders-dev"})[1]
        self.assertEqual(bus["Description"], "Orders bus")
        policy = json.loads(bus["Policy"])
        self.assertEqual(policy["Statement"][0]["Sid"], "AllowSameAccountPublish")
        self.assertEqual(policy["Statement"][0]["Principal"], {"AWS": "arn:aws:iam::%s:root" % ACCOUNT})
        tags = ev.list_tags_for_resource(ResourceARN=bus["Arn"])["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags),
                         [("Environment", "dev"), ("Project", "Orders")])
        archive = ev.describe_archive(ArchiveName="orders-archive")
        self.assertEqual(archive["RetentionDays"], 7)
        self.assertEqual(json.loads(archive["EventPattern"]), {"source": [{"prefix": "orders."}]})
        dest = ev.describe_api_destination(Name="orders-hook")
        conn_name = dest["ConnectionArn"].split("/")[1]
        self.assertTrue(conn_name.startswith("orders-Conn-"), conn_name)
        self.assertEqual(dest["InvocationRateLimitPerSecond"], 50)
        targets = {t["Id"]: t for t in
                   ev.list_targets_by_rule(Rule="order-placed", EventBusName="orders-dev")["Targets"]}
        self.assertEqual(targets["hook"]["Arn"], dest["ApiDestinationArn"])
        self.assertEqual(targets["hook"]["RetryPolicy"],
                         {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600})
        self.assertEqual(targets["hook"]["DeadLetterConfig"],
                         {"Arn": "arn:aws:sqs:us-east-1:%s:orders-dlq" % ACCOUNT})
        self.assertTrue(targets["hook"]["RoleArn"].startswith("arn:aws:iam::%s:role/orders-Role-" % ACCOUNT))
        self.assertEqual(targets["hook"]["InputTransformer"]["InputTemplate"],
                         '{"order": <id>, "stack": "orders"}')
        self.assertEqual(targets["copy"]["InputPath"], "$.detail")
        self.assertEqual(targets["fifo"]["SqsParameters"], {"MessageGroupId": "orders"})
        self.assertEqual(targets["fifo"]["Input"], '{"fixed": true}')
        rules = {r["Name"]: r for r in ev.list_rules(EventBusName="orders-dev")["Rules"]}
        string_rule = [r for n, r in rules.items() if n.startswith("orders-StringPatternRule-")][0]
        self.assertEqual(string_rule["State"], "DISABLED")
        self.assertEqual(json.loads(string_rule["EventPattern"]), {"source": ["orders.batch"]})
        self.assertTrue(any(n.startswith("orders-DevOnly-") for n in rules))

        # The wiring works: an event reaches the API destination with the transformed body.
        ev.put_events(Entries=[{"Source": "orders.web", "DetailType": "OrderPlaced",
                                "Detail": json.dumps({"id": 42}), "EventBusName": "orders-dev"}])
        got = self.sink.wait_for("/hook", 1)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(json.loads(got[0]["body"]), {"order": 42, "stack": "orders"})
        self.assertEqual({k.lower(): v for k, v in got[0]["headers"].items()}.get("x-api-key"), "s3cret")

        # The second deploy of the same template changes nothing.
        rc, res, err = self.deploy_json(path, *self.overrides())
        self.assertEqual(rc, 0, err)
        self.assertEqual((res["create"], res["update"], res["replace"], res["delete"]), (0, 0, 0, 0), res)
        self.assertEqual(res["unchanged"], 8)
        modified = self.daemon.api("DescribeEventBus", {"Name": "orders-dev"})[1]["LastModifiedTime"]

        # A changed template: a target dropped, a tag dropped, a rule removed, a pattern changed.
        changed = (TEMPLATE
                   .replace("        - {Key: Project, Value: Orders}\n", "")
                   .replace("'{\"source\": [\"orders.batch\"]}'", "'{\"source\": [\"orders.bulk\"]}'")
                   .replace("""        - Id: fifo
          Arn: !Sub 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:orders.fifo'
          SqsParameters: {MessageGroupId: orders}
          Input: '{"fixed": true}'
""", ""))
        changed = changed[:changed.index("  DevOnly:")] + changed[changed.index("  Role:"):]
        path2 = self.write("orders2.yaml", changed)
        rc, plan, err = self.deploy_json(path2, "--plan", *self.overrides())
        self.assertEqual(rc, 0, err)
        acts = self.actions(plan)
        self.assertEqual(acts["Bus"], "update")
        self.assertEqual(acts["OrderRule"], "update")
        self.assertEqual(acts["StringPatternRule"], "update")
        self.assertEqual(acts["DevOnly"], "delete")
        self.assertEqual(acts["Archive"], "unchanged")
        # --plan changed nothing.
        self.assertEqual(len(ev.list_tags_for_resource(ResourceARN=bus["Arn"])["Tags"]), 2)
        self.assertIn("fifo", [t["Id"] for t in ev.list_targets_by_rule(
            Rule="order-placed", EventBusName="orders-dev")["Targets"]])
        self.assertEqual(self.daemon.api("DescribeEventBus", {"Name": "orders-dev"})[1]["LastModifiedTime"], modified)

        rc, out, err = self.deploy(path2, *self.overrides())
        self.assertEqual(rc, 0, err)
        self.assertIn("~   OrderRule (AWS::Events::Rule) orders-dev|order-placed", out)
        self.assertIn("-   DevOnly (AWS::Events::Rule)", out)
        self.assertEqual(ev.list_tags_for_resource(ResourceARN=bus["Arn"])["Tags"],
                         [{"Key": "Environment", "Value": "dev"}])
        self.assertEqual(sorted(t["Id"] for t in ev.list_targets_by_rule(
            Rule="order-placed", EventBusName="orders-dev")["Targets"]), ["copy", "hook"])
        names = [r["Name"] for r in ev.list_rules(EventBusName="orders-dev")["Rules"]]
        self.assertFalse(any(n.startswith("orders-DevOnly-") for n in names), names)
        rc, res, err = self.deploy_json(path2, *self.overrides())
        self.assertEqual((rc, res["unchanged"]), (0, 7), (err, res))

        # prod: the bus is renamed (a replacement: the new one first, the old one cleaned up
        # at the end, after its rules), the archive's source changes, the scheduled rule appears.
        rc, res, err = self.deploy_json(path2, *self.overrides("prod"))
        self.assertEqual(rc, 0, err)
        acts = self.actions(res)
        self.assertEqual((acts["Bus"], acts["Archive"], acts["Tick"]), ("replace", "replace", "create"))
        buses = [b["Name"] for b in ev.list_event_buses()["EventBuses"]]
        self.assertIn("orders-prod", buses)
        self.assertNotIn("orders-dev", buses)
        self.assertEqual(ev.describe_archive(ArchiveName="orders-archive")["RetentionDays"], 365)
        rc, res, err = self.deploy_json(path2, *self.overrides("prod"))
        self.assertEqual((rc, res["unchanged"]), (0, 8), (err, res))

        # The stack record is the daemon's.
        st, _, body = self.daemon.request("GET", "/_localbridge/stacks/orders")
        self.assertEqual(st, 200)
        rec = json.loads(body)
        self.assertEqual(rec["StackName"], "orders")
        ids = {r["LogicalId"]: r for r in rec["Resources"]}
        self.assertEqual(ids["Bus"]["PhysicalId"], "orders-prod")
        self.assertEqual(len(ids["Bus"]["Hash"]), 64)
        self.assertNotIn("Role", ids)

    def test_json_template_and_policies_sharing_a_bus(self):
        tpl = {"Resources": {
            "B": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "pbus"}},
            "P1": {"Type": "AWS::Events::EventBusPolicy", "Properties": {
                "EventBusName": {"Ref": "B"}, "StatementId": "legacy",
                "Action": "events:PutEvents", "Principal": "111122223333"}},
            "P2": {"Type": "AWS::Events::EventBusPolicy", "Properties": {
                "EventBusName": {"Ref": "B"}, "StatementId": "modern",
                "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                              "Action": "events:PutEvents",
                              "Resource": {"Fn::GetAtt": ["B", "Arn"]}}}}}}
        path = self.write("policies.json", json.dumps(tpl, indent=2))
        rc, _, err = self.deploy(path, stack="policies")
        self.assertEqual(rc, 0, err)
        policy = json.loads(self.events_client.describe_event_bus(Name="pbus")["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["legacy", "modern"])
        del tpl["Resources"]["P1"]
        path = self.write("policies.json", json.dumps(tpl))
        rc, res, err = self.deploy_json(path, stack="policies")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.actions(res), {"B": "unchanged", "P2": "unchanged", "P1": "delete"})
        policy = json.loads(self.events_client.describe_event_bus(Name="pbus")["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["modern"])

    def test_syntax_error_names_line(self):
        path = self.write("bad.yaml", "Resources:\n  Bus:\n    Type: AWS::Events::EventBus\n"
                                      "    Properties:\n      Name: [unclosed\n")
        rc, out, err = self.deploy(path, stack="bad")
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"bad\.yaml:\d+: YAML syntax error")
        path = self.write("bad.json", '{"Resources": {\n  "Bus": {"Type": "AWS::Events::EventBus",}}}')
        rc, out, err = self.deploy(path, stack="bad")
        self.assertEqual(rc, 2)
        self.assertIn("bad.json:2: JSON syntax error: Unexpected character ('}' (code 125))", err)

    def test_unsupported_intrinsic_names_line(self):
        path = self.write("transform.yaml", textwrap.dedent("""\
            Resources:
              Bus:
                Type: AWS::Events::EventBus
                Properties:
                  Name: plain
              OrderRule:
                Type: AWS::Events::Rule
                Properties:
                  EventPattern: {source: [x]}
                  Description: !Transform {Name: AWS::Include}
            """))
        rc, out, err = self.deploy(path, stack="transform")
        self.assertEqual(rc, 2, out)
        self.assertIn("transform.yaml:10: Resource OrderRule: unsupported intrinsic Fn::Transform", err)
        # Nothing was created: every resource is resolved before the first call.
        self.assertNotIn("plain", [b["Name"] for b in self.events_client.list_event_buses()["EventBuses"]])

    def test_cycle_and_bad_parameters(self):
        path = self.write("cycle.yaml", textwrap.dedent("""\
            Parameters:
              Env: {Type: String, AllowedValues: [a, b]}
            Resources:
              A:
                Type: AWS::Events::EventBus
                Properties: {Name: !Ref B}
              B:
                Type: AWS::Events::EventBus
                Properties: {Name: !GetAtt A.Name}
            """))
        rc, _, err = self.deploy(path, "--parameter-overrides", "Env=a", stack="cycle")
        self.assertEqual(rc, 2)
        self.assertIn("cycle.yaml:5: Resource A: circular dependency: A -> B -> A", err)
        rc, _, err = self.deploy(path, "--parameter-overrides", "Env=c", stack="cycle")
        self.assertEqual(rc, 2)
        self.assertIn("Parameter 'Env' must be one of AllowedValues; got 'c'", err)
        rc, _, err = self.deploy(path, "--parameter-overrides", "Nope=1", stack="cycle")
        self.assertEqual(rc, 2)
        self.assertIn("Parameters: [Nope] do not exist in the template", err)
        # The AWS CLI's ParameterKey=...,ParameterValue=... shape works too.
        rc, _, err = self.deploy(path, "--parameter-overrides",
                                 "ParameterKey=Env,ParameterValue=c", stack="cycle")
        self.assertIn("Parameter 'Env' must be one of AllowedValues; got 'c'", err)
        rc, _, err = self.deploy(path, "--no-such-flag", stack="cycle")
        self.assertEqual(rc, 2)
        self.assertIn("Usage: localbridge deploy", err)

    def test_failed_call_names_resource_and_line(self):
        path = self.write("fail.yaml", textwrap.dedent("""\
            Resources:
              Good:
                Type: AWS::Events::EventBus
                Properties: {Name: fail-good}
              BadRule:
                Type: AWS::Events::Rule
                Properties:
                  EventBusName: !Ref Good
                  EventPattern: 'not json'
            """))
        rc, out, err = self.deploy(path, stack="fail")
        self.assertEqual(rc, 1, out)
        self.assertIn("fail.yaml:6: Resource BadRule (AWS::Events::Rule): PutRule failed: "
                      "InvalidEventPatternException: ", err)
        # What succeeded is recorded: fixing the template and deploying again converges.
        with open(path, "w") as f:
            f.write(textwrap.dedent("""\
                Resources:
                  Good:
                    Type: AWS::Events::EventBus
                    Properties: {Name: fail-good}
                  BadRule:
                    Type: AWS::Events::Rule
                    Properties:
                      EventBusName: !Ref Good
                      EventPattern: '{"source": ["ok"]}'
                """))
        rc, res, err = self.deploy_json(path, stack="fail")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.actions(res), {"Good": "unchanged", "BadRule": "create"})

    def test_unreachable_daemon(self):
        path = self.write("any.yaml", "Resources:\n  B:\n    Type: AWS::Events::EventBus\n"
                                      "    Properties: {Name: x}\n")
        p = subprocess.run([BINARY, "deploy", path, "--endpoint-url", "http://127.0.0.1:9"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot reach the daemon at http://127.0.0.1:9", p.stderr)

    def test_stack_record_endpoint(self):
        st, _, body = self.daemon.request("GET", "/_localbridge/stacks/nothing-here")
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body), {"__type": "ResourceNotFoundException",
                                            "message": "Stack with id nothing-here does not exist"})
        st, _, body = self.daemon.request("PUT", "/_localbridge/stacks/9bad", body=b'{"Resources": []}', headers=JSON)
        self.assertEqual(st, 400)
        self.assertIn("[a-zA-Z][-a-zA-Z0-9]*", json.loads(body)["message"])
        st, _, body = self.daemon.request("PUT", "/_localbridge/stacks/s1", body=b'{"Resources": [{}]}', headers=JSON)
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body)["message"],
                         "Resources[0].LogicalId must be a string of 1 to 2048 characters.")
        st, _, body = self.daemon.request("PUT", "/_localbridge/stacks/s1", body=b'{nope', headers=JSON)
        self.assertEqual(st, 400)
        st, _, body = self.daemon.request("GET", "/_localbridge/stacks/s1?region=EU%20WEST")
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body)["message"],
                         "Region must be 1 to 31 lower-case letters, digits and '-'.")
        st, _, _ = self.daemon.request("PUT", "/_localbridge/stacks/s1", body=b'{"Resources": []}', headers=JSON)
        self.assertEqual(st, 200)
        st, _, _ = self.daemon.request("DELETE", "/_localbridge/stacks/s1")
        self.assertEqual(st, 200)
        st, _, _ = self.daemon.request("DELETE", "/_localbridge/stacks/s1")
        self.assertEqual(st, 400)
        st, _, _ = self.daemon.request("POST", "/_localbridge/stacks/s1", body=b"{}",
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(st, 405)


class DeploySigned(unittest.TestCase):
    """auth = sigv4: deploy signs every call with the caller's key, as the AWS CLI does."""

    KEY, SECRET, TOKEN = "AKIDDEPLOY", "deploy-secret", "deploy-admin-token"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lb-deploy-sigv4-")
        keys = os.path.join(cls.dir, "callers")
        with open(keys, "w") as f:
            f.write("%s %s %s\n" % (cls.KEY, cls.SECRET, ACCOUNT))
        from lbharness import Daemon
        cls.daemon = Daemon(args=["--auth", "sigv4", "--credentials-file", keys, "--account-id",
                                  ACCOUNT, "--admin-token", cls.TOKEN]).start()
        cls.path = os.path.join(cls.dir, "t.yaml")
        with open(cls.path, "w") as f:
            f.write("Resources:\n  B:\n    Type: AWS::Events::EventBus\n"
                    "    Properties: {Name: signed-bus}\n"
                    "  Q:\n    Type: AWS::Events::Rule\n"
                    "    Properties: {EventBusName: !Ref B, EventPattern: {source: [x]}}\n")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.daemon.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_deploy(self, **env):
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("AWS_") and k != "LOCALBRIDGE_ADMIN_TOKEN"}
        base.update(env, HOME=self.dir)
        return subprocess.run([BINARY, "deploy", self.path, "--endpoint-url", self.daemon.url,
                               "--stack-name", "signed", "--region", "eu-west-1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60, env=base)

    def test_signed_deploy(self):
        p = self.run_deploy()
        self.assertEqual(p.returncode, 1)
        # Unsigned (the region rides in an unsigned credential scope): refused, AWS's error shown.
        self.assertIn("refused DescribeEventBus: IncompleteSignatureException", p.stderr)
        p = self.run_deploy(AWS_ACCESS_KEY_ID=self.KEY, AWS_SECRET_ACCESS_KEY="wrong")
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidSignatureException", p.stderr)
        for expect in ("2 to create", "2 unchanged"):
            p = self.run_deploy(AWS_ACCESS_KEY_ID=self.KEY, AWS_SECRET_ACCESS_KEY=self.SECRET)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(expect, p.stdout)
        # The region is the signature's.
        st, _, body = self.daemon.request("GET", "/_localbridge/stacks/signed?region=eu-west-1",
                                          headers={"Authorization": "Bearer " + self.TOKEN})
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body)["Region"], "eu-west-1")
        # Keys from the shared credentials file, as the AWS CLI reads them.
        os.makedirs(os.path.join(self.dir, ".aws"), exist_ok=True)
        with open(os.path.join(self.dir, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (self.KEY, self.SECRET))
        p = self.run_deploy()
        self.assertEqual(p.returncode, 0, p.stderr)


SAM_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: 30
    Environment:
      Variables: {EVENT_BUS_NAME: !Ref Bus}
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: {Name: sam-bus}
  Dlq:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: sam-dlq
      MessageRetentionPeriod: 1209600
  Portfolio:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: handlers/
      Handler: portfolio.eventbridge_handler
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Dlq.Arn}
      Events:
        Signal:
          Type: EventBridgeRule
          Properties:
            RuleName: sam-signal-generated
            EventBusName: !Ref Bus
            Pattern: {source: [sam.strategy], detail: {total: [{numeric: ['>', 10000]}]}}
            RetryPolicy: {MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600}
            DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}
        Nightly:
          Type: Schedule
          Properties: {Schedule: cron(0 3 * * ? *), Enabled: false}
"""


def daemon_has(daemon, what):
    """Whether this daemon build serves the SQS API and local functions (other branches)."""
    if what == "sqs":
        st, body, _ = daemon.api("ListQueues", {}, headers={
            "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"})
        return st == 200
    st, _, body = daemon.request("DELETE", "/_localbridge/functions/lb-probe")
    return b"No such endpoint" not in body


class StandIn:
    """Until the daemon has them (other branches): answers the SQS API and the local function
    endpoint itself, recording each call, and passes everything else to the daemon."""

    def __init__(self, daemon):
        import http.server
        import threading
        import urllib.request
        self.calls = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                target = self.headers.get("X-Amz-Target") or ""
                if target.startswith("AmazonSQS.") or self.path.startswith("/_localbridge/functions/"):
                    outer.calls.append((self.command, target or self.path,
                                        json.loads(body) if body else None))
                    if target == "AmazonSQS.CreateQueue":
                        return self.answer(200, {"QueueUrl": daemon.url + "/" + ACCOUNT + "/"
                                                 + json.loads(body)["QueueName"]})
                    return self.answer(200, {})
                req = urllib.request.Request(daemon.url + self.path, data=body if body else None,
                                             method=self.command,
                                             headers={k: v for k, v in self.headers.items()
                                                      if k.lower() not in ("host", "content-length")})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class DeploySam(DaemonTestCase):
    daemon_args = ("--account-id", ACCOUNT)

    def test_plan_of_queues_and_functions(self):
        d = tempfile.mkdtemp(prefix="lb-deploy-sam-")
        try:
            path = os.path.join(d, "template.yaml")
            with open(path, "w") as f:
                # Its own names: another test of this class deploys SAM_TEMPLATE itself.
                f.write(SAM_TEMPLATE.replace("sam-", "samp-"))
            p = subprocess.run([BINARY, "deploy", path, "--endpoint-url", self.daemon.url,
                                "--stack-name", "samp", "--plan", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            res = json.loads(p.stdout)
            acts = {c["LogicalId"]: (c["Action"], c["PhysicalId"]) for c in res["Changes"]}
            self.assertEqual(acts["Dlq"], ("create", "samp-dlq"))
            self.assertEqual(acts["Portfolio"][0], "create")
            self.assertTrue(acts["Portfolio"][1].startswith("samp-Portfolio-"))
            # Nothing was made by the plan.
            buses = self.events_client.list_event_buses()["EventBuses"]
            self.assertNotIn("samp-bus", [b["Name"] for b in buses])
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_deploy_queues_and_functions_to_a_stand_in(self):
        stand = StandIn(self.daemon)
        d = tempfile.mkdtemp(prefix="lb-deploy-sam-")
        try:
            path = os.path.join(d, "template.yaml")
            template = SAM_TEMPLATE.replace("sam-", "sami-")
            with open(path, "w") as f:
                f.write(template)
            cmd = [BINARY, "deploy", path, "--endpoint-url", stand.url, "--stack-name", "sami",
                   "--lambda-runner", "/opt/runner", "--json"]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            calls = stand.calls
            self.assertEqual(calls[0], ("POST", "AmazonSQS.CreateQueue", {
                "QueueName": "sami-dlq", "Attributes": {"MessageRetentionPeriod": "1209600"}}))
            method, where, body = calls[1]
            self.assertEqual(method, "PUT")
            self.assertTrue(where.startswith("/_localbridge/functions/sami-Portfolio-"), where)
            self.assertEqual(body, {
                "command": ["/opt/runner", "--code-dir", os.path.realpath(d) + "/handlers",
                            "portfolio.eventbridge_handler"],
                "timeout": 30, "environment": {"EVENT_BUS_NAME": "sami-bus"},
                "maximum_retry_attempts": 1,
                "on_failure_arn": "arn:aws:sqs:us-east-1:%s:sami-dlq" % ACCOUNT})
            fn = where.rsplit("/", 1)[1]
            targets = self.events_client.list_targets_by_rule(
                Rule="sami-signal-generated", EventBusName="sami-bus")["Targets"]
            self.assertEqual(targets, [{
                "Id": "PortfolioSignalLambdaTarget",
                "Arn": "arn:aws:lambda:us-east-1:%s:function:%s" % (ACCOUNT, fn),
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
                "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:%s:sami-dlq" % ACCOUNT}}])
            # Again: nothing to do, no call.
            del calls[:]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual({c["Action"] for c in json.loads(p.stdout)["Changes"]}, {"unchanged"})
            self.assertEqual(calls, [])
            # The function and queue gone from the template: their rules go first, then they do.
            with open(path, "w") as f:
                f.write(template[:template.index("  Dlq:")])
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(calls, [("DELETE", "/_localbridge/functions/" + fn, None),
                                     ("POST", "AmazonSQS.DeleteQueue",
                                      {"QueueUrl": stand.url + "/%s/sami-dlq" % ACCOUNT})])
            self.assertEqual(self.events_client.list_rules(EventBusName="sami-bus")["Rules"], [])
            self.assertFalse([r for r in self.events_client.list_rules()["Rules"]
                              if r["Name"].startswith("sami-")])
        finally:
            stand.close()
            shutil.rmtree(d, ignore_errors=True)

    def test_alchemiser_example_deploys_twice(self):
        """examples/alchemiser/template.yaml unchanged: deployed (queues and functions through the
        stand-in until the daemon has them), then deployed again as a no-op."""
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                               "alchemiser", "template.yaml")
        if not os.path.exists(example):
            self.skipTest("no examples/alchemiser/template.yaml in this tree")
        stand = StandIn(self.daemon)
        try:
            # No --stack-name: a SAM project's template.yaml is named after its directory.
            cmd = [BINARY, "deploy", example, "--endpoint-url", stand.url,
                   "--parameter-overrides", "Environment=dev", "--json"]
            for expect in ({"create", "skipped"}, {"unchanged", "skipped"}):
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                res = json.loads(p.stdout)
                self.assertEqual({c["Action"] for c in res["Changes"]}, expect, res)
            self.assertEqual(res["skipped"], 1)  # the CloudWatch alarm
            self.assertEqual(res["StackName"], "alchemiser")
            ev = self.events_client
            bus = ev.describe_event_bus(Name="alchemiser-trading-events")
            self.assertEqual(json.loads(bus["Policy"])["Statement"][0]["Sid"], "AllowSameAccountPublish")
            self.assertEqual(ev.describe_archive(ArchiveName="alchemiser-event-archive")["RetentionDays"], 365)
            names = sorted(r["Name"] for r in ev.list_rules(EventBusName="alchemiser-trading-events")["Rules"])
            self.assertEqual(names, ["alchemiser-all-events-to-orchestrator", "alchemiser-high-value-rebalance",
                                     "alchemiser-rebalance-planned", "alchemiser-signal-generated"])
            fns = {c[1].rsplit("/", 1)[1]: c[2] for c in stand.calls if c[0] == "PUT"}
            self.assertEqual(sorted(fns), ["alchemiser-execution", "alchemiser-orchestrator",
                                           "alchemiser-portfolio"])
            self.assertEqual(fns["alchemiser-execution"]["on_failure_arn"],
                             "arn:aws:sqs:us-east-1:%s:alchemiser-event-dlq" % ACCOUNT)
            self.assertTrue(fns["alchemiser-portfolio"]["command"][2].endswith("examples/alchemiser/functions"))
        finally:
            stand.close()

    def test_deploy_queues_and_functions(self):
        if not (daemon_has(self.daemon, "sqs") and daemon_has(self.daemon, "functions")):
            self.skipTest("for the lead: needs the built-in SQS API and local functions")
        d = tempfile.mkdtemp(prefix="lb-deploy-sam-")
        try:
            os.makedirs(os.path.join(d, "handlers"))
            path = os.path.join(d, "template.yaml")
            with open(path, "w") as f:
                f.write(SAM_TEMPLATE)
            cmd = [BINARY, "deploy", path, "--endpoint-url", self.daemon.url, "--stack-name",
                   "sam", "--json"]
            for expect in ("create", "unchanged"):
                p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr)
                res = json.loads(p.stdout)
                self.assertEqual({c["Action"] for c in res["Changes"]}, {expect}, res)
            rules = self.events_client.list_rules(EventBusName="sam-bus")["Rules"]
            self.assertEqual([r["Name"] for r in rules], ["sam-signal-generated"])
            nightly = [r for r in self.events_client.list_rules()["Rules"]
                       if r["Name"].startswith("sam-PortfolioNightly-")]
            self.assertEqual(nightly[0]["State"], "DISABLED")
            targets = self.events_client.list_targets_by_rule(
                Rule=rules[0]["Name"], EventBusName="sam-bus")["Targets"]
            self.assertEqual(targets[0]["Id"], "PortfolioSignalLambdaTarget")
        finally:
            shutil.rmtree(d, ignore_errors=True)


class DeployAfterReset(DaemonTestCase):
    """POST /_localbridge/reset between tests wipes what a deploy made, and its stack record with
    it: the next deploy of the same stack creates everything again (it once took the wiped
    resources for still there and changed nothing)."""

    def test_redeploy_after_reset_creates_again(self):
        d = tempfile.mkdtemp(prefix="lb-deploy-reset-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "bus.yaml")
        with open(path, "w") as f:
            f.write("Resources:\n  Bus:\n    Type: AWS::Events::EventBus\n"
                    "    Properties: {Name: reset-bus}\n")

        def deploy():
            p = subprocess.run([BINARY, "deploy", path, "--endpoint-url", self.daemon.url,
                                "--stack-name", "resettable", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            return {c["LogicalId"]: c["Action"] for c in json.loads(p.stdout)["Changes"]}

        self.assertEqual(deploy(), {"Bus": "create"})
        status, _, _ = self.daemon.admin_post("/_localbridge/reset", {})
        self.assertEqual(status, 200)
        self.assertEqual(deploy(), {"Bus": "create"})
        names = [b["Name"] for b in self.events_client.list_event_buses()["EventBuses"]]
        self.assertIn("reset-bus", names)


if __name__ == "__main__":
    unittest.main()

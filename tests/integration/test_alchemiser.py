"""The Alchemiser migration example end to end (examples/alchemiser): the team's SAM template
deployed with `localbridge deploy`, their three Python handlers run as local Lambda handlers,
and their flow SignalGenerated -> Portfolio -> RebalancePlanned -> Execution -> TradeExecuted ->
Orchestrator -> WorkflowCompleted, with the high-value rule, Lambda's asynchronous failure
semantics, kill -9 mid-flow, a replay from the archive, metrics, and hybrid forwarding to a
stand-in Amazon EventBridge.

The tests run in order (test_1 ... test_7) on one daemon that each may restart."""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import boto3
from botocore.config import Config

from lbharness import BINARY, Daemon, Upstream, forward_env

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "alchemiser")
TEMPLATE = os.path.join(EXAMPLE, "template.yaml")
BUS = "alchemiser-trading-events"
ACCOUNT, REGION = "000000000000", "us-east-1"
UPSTREAM_KEY, UPSTREAM_SECRET = "AKIDALCHEMISER", "alchemiser-secret"
PROD_BUS = "arn:aws:events:us-east-1:111122223333:event-bus/alchemiser-prod"
# Lambda's retry clock shortened (1 and 2 "minutes" become 0.1 and 0.2 s), EventBridge's too.
DAEMON_ARGS = ["--lambda-retry-delay", "100ms", "--retry-base-delay", "50ms",
               "--retry-max-delay", "500ms"]


def rule_arn(name):
    return "arn:aws:events:%s:%s:rule/%s/%s" % (REGION, ACCOUNT, BUS, name)


class Alchemiser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream(keys={UPSTREAM_KEY: UPSTREAM_SECRET})
        cls.home = tempfile.mkdtemp(prefix="lb-alchemiser-home-")
        cls.env = forward_env(cls.upstream, cls.home, AWS_ACCESS_KEY_ID=UPSTREAM_KEY,
                              AWS_SECRET_ACCESS_KEY=UPSTREAM_SECRET)
        cls.daemon = Daemon(args=DAEMON_ARGS, env=cls.env).start()
        cls.connect()

    @classmethod
    def connect(cls):
        cfg = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
        kw = dict(endpoint_url=cls.daemon.url, region_name=REGION, aws_access_key_id="test",
                  aws_secret_access_key="test", config=cfg)
        cls.events = boto3.client("events", **kw)
        cls.sqs = boto3.client("sqs", **kw)

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        logs = cls.daemon.logs()
        cls.daemon.cleanup()
        cls.upstream.close()
        shutil.rmtree(cls.home, ignore_errors=True)
        assert rc == 0, logs

    # ---- helpers ----

    def deploy(self, *args):
        cmd = [BINARY, "deploy", TEMPLATE, "--stack-name", "alchemiser", "--endpoint-url",
               self.daemon.url, "--parameter-overrides", "Environment=test", "--json"]
        p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        return json.loads(p.stdout)

    def signal(self, value, fail_execution=False):
        """Publishes a SignalGenerated as the strategy module does; returns its correlation id."""
        correlation = str(uuid.uuid4())
        detail = {"signal_id": correlation[:8], "correlation_id": correlation,
                  "portfolio_value": value,
                  "current_weights": {"AAPL": 0.5, "MSFT": 0.5},
                  "target_weights": {"AAPL": 0.3, "MSFT": 0.4, "NVDA": 0.3}}
        if fail_execution:
            detail["fail_execution"] = True
        out = self.events.put_events(Entries=[{
            "Time": datetime.datetime.now(datetime.timezone.utc),
            "Source": "alchemiser.strategy", "DetailType": "SignalGenerated",
            "Detail": json.dumps(detail), "EventBusName": BUS,
            "Resources": ["correlation:" + correlation, "causation:" + correlation]}])
        self.assertEqual(out["FailedEntryCount"], 0, out)
        return correlation

    def workflow(self, correlation):
        """The stored events of one workflow, oldest first."""
        status, _, data = self.daemon.request(
            "GET", "/_localbridge/events?bus=%s&limit=1000" % BUS)
        self.assertEqual(status, 200, data)
        return [e for e in reversed(json.loads(data)["Events"])
                if "correlation:" + correlation in e.get("resources", [])]

    def wait_for(self, correlation, detail_type, count=1, timeout=60):
        deadline = time.time() + timeout
        while True:
            got = [e for e in self.workflow(correlation) if e["detail-type"] == detail_type]
            if len(got) >= count:
                return got
            if time.time() > deadline:
                self.fail("no %s for %s after %ss; the workflow: %s\nlogs:\n%s" % (
                    detail_type, correlation, timeout,
                    [e["detail-type"] for e in self.workflow(correlation)],
                    self.daemon.logs()[-4000:]))
            time.sleep(0.1)

    def queue_url(self, name):
        return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def receive_all(self, name, wait=1):
        url = self.queue_url(name)
        got = []
        while True:
            out = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=wait, MessageAttributeNames=["All"])
            msgs = out.get("Messages", [])
            if not msgs:
                return got
            for m in msgs:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got += msgs
            wait = 0

    def metric(self, text, name, **labels):
        """The sum of a metric's samples that carry these labels."""
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            head, value = line.rsplit(" ", 1)
            if all(('%s="%s"' % kv) in head for kv in labels.items()):
                total += float(value)
        return total

    # ---- the flow ----

    def test_1_deploys_unchanged_twice(self):
        plan = self.deploy("--plan")
        self.assertIn("TradingEventBus", {c["LogicalId"] for c in plan["Changes"]})
        # --plan changes nothing: no bus yet.
        self.assertNotIn(BUS, [b["Name"] for b in self.events.list_event_buses()["EventBuses"]])
        first = self.deploy()
        acts = {c["LogicalId"]: c["Action"] for c in first["Changes"]}
        self.assertEqual(acts["TradingEventBus"], "create")
        self.assertEqual(acts["DLQDepthAlarm"], "skipped")
        second = self.deploy()
        self.assertEqual({a for c in second["Changes"] for a in [c["Action"]]} - {"skipped"},
                         {"unchanged"}, second)
        bus = self.events.describe_event_bus(Name=BUS)
        policy = json.loads(bus["Policy"])
        self.assertEqual(policy["Statement"][0]["Sid"], "AllowSameAccountPublish")
        tags = self.events.list_tags_for_resource(ResourceARN=bus["Arn"])["Tags"]
        self.assertIn({"Key": "Environment", "Value": "test"}, tags)
        self.assertIn({"Key": "Project", "Value": "Alchemiser"}, tags)
        archive = self.events.describe_archive(ArchiveName="alchemiser-event-archive")
        self.assertEqual(archive["RetentionDays"], 365)
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url("alchemiser-event-dlq"),
                                              AttributeNames=["MessageRetentionPeriod"])
        self.assertEqual(attrs["Attributes"]["MessageRetentionPeriod"], "1209600")
        names = {r["Name"] for r in self.events.list_rules(EventBusName=BUS)["Rules"]}
        self.assertLessEqual({"alchemiser-signal-generated", "alchemiser-rebalance-planned",
                              "alchemiser-all-events-to-orchestrator",
                              "alchemiser-high-value-rebalance"}, names)

    def test_2_signal_to_workflow_completed(self):
        correlation = self.signal(50000)
        done = self.wait_for(correlation, "WorkflowCompleted")[0]
        self.assertEqual(done["source"], "alchemiser.orchestrator")
        self.assertEqual(done["detail"]["status"], "COMPLETED")
        self.assertEqual(done["detail"]["total_filled_value"], 30000.0)
        chain = self.workflow(correlation)
        kinds = [e["detail-type"] for e in chain]
        self.assertEqual(kinds, ["SignalGenerated", "RebalancePlanned", "TradeExecuted",
                                 "WorkflowCompleted"])
        self.assertEqual([e["source"] for e in chain],
                         ["alchemiser.strategy", "alchemiser.portfolio", "alchemiser.execution",
                          "alchemiser.orchestrator"])
        # Each event names the one that caused it.
        for cause, effect in zip(chain, chain[1:]):
            self.assertIn("causation:" + cause["id"], effect["resources"])
        # 30,000 traded: the high-value rule fired, with its transformed message.
        msgs = self.receive_all("alchemiser-high-value-trades")
        self.assertEqual([json.loads(m["Body"]) for m in msgs],
                         [{"plan_id": chain[1]["detail"]["plan_id"], "total_trade_value": 30000.0,
                           "correlation_id": correlation}])
        self.assertEqual(self.receive_all("alchemiser-event-dlq", wait=0), [])

    def test_3_high_value_rule_only_above_10000(self):
        correlation = self.signal(10000)  # trades 6,000 in all
        self.wait_for(correlation, "WorkflowCompleted")
        self.assertEqual(self.receive_all("alchemiser-high-value-trades"), [])

    def test_4_execution_raising_ends_in_the_functions_destination(self):
        correlation = self.signal(50000, fail_execution=True)
        planned = self.wait_for(correlation, "RebalancePlanned")[0]
        # Lambda runs Execution three times (two retries), then hands the event to the
        # function's on-failure destination: the DLQ queue, as Lambda's invocation record.
        deadline = time.time() + 60
        records = []
        while time.time() < deadline and not records:
            records = self.receive_all("alchemiser-event-dlq")
        self.assertEqual(len(records), 1, records)
        record = json.loads(records[0]["Body"])
        self.assertEqual(record["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 3)
        self.assertTrue(record["requestContext"]["functionArn"].endswith(
            ":function:alchemiser-execution:$LATEST"))
        self.assertEqual(record["requestPayload"]["id"], planned["id"])
        self.assertEqual(record["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(record["responsePayload"]["errorType"], "ExecutionFailed")
        # No TradeExecuted, and EventBridge's own delivery to the function succeeded: the rule's
        # dead-letter config saw nothing (the queue held only Lambda's record).
        time.sleep(0.5)
        self.assertEqual([e["detail-type"] for e in self.workflow(correlation)],
                         ["SignalGenerated", "RebalancePlanned"])
        self.assertEqual(self.receive_all("alchemiser-event-dlq", wait=0), [])
        # Visible: the dead-letter store has it with Lambda's error.
        status, _, data = self.daemon.request("GET", "/_localbridge/dead-letters?limit=100")
        dead = [d for d in json.loads(data)["DeadLetters"]
                if planned["id"] in json.dumps(d)]
        self.assertTrue(dead, data)
        # Metrics: EventBridge invoked the targets; the function's errors are Lambda's.
        m = self.daemon.request("GET", "/metrics")[2].decode()
        self.assertGreater(self.metric(m, "localbridge_invocations_total"), 0)
        self.assertIn("localbridge_failed_invocations_total", m)
        self.assertEqual(self.metric(m, "localbridge_lambda_errors_total",
                                     function="alchemiser-execution"), 3)

    def test_5_kill9_mid_flow_loses_nothing_acknowledged(self):
        correlation = self.signal(50000)
        self.daemon.kill9()
        self.daemon.start()
        type(self).connect()
        done = self.wait_for(correlation, "WorkflowCompleted")
        self.assertGreaterEqual(len(done), 1)
        kinds = {e["detail-type"] for e in self.workflow(correlation)}
        self.assertEqual(kinds, {"SignalGenerated", "RebalancePlanned", "TradeExecuted",
                                 "WorkflowCompleted"})

    def test_6_replay_from_the_archive_reprocesses_a_window(self):
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
        correlation = self.signal(50000)
        self.wait_for(correlation, "WorkflowCompleted")
        end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        time.sleep(2.1)  # the window must have ended before a replay may start
        archive_arn = "arn:aws:events:%s:%s:archive/alchemiser-event-archive" % (REGION, ACCOUNT)
        self.events.start_replay(
            ReplayName="reprocess-" + correlation[:8], EventSourceArn=archive_arn,
            EventStartTime=start, EventEndTime=end,
            Destination={"Arn": "arn:aws:events:%s:%s:event-bus/%s" % (REGION, ACCOUNT, BUS),
                         "FilterArns": [rule_arn("alchemiser-signal-generated")]})
        deadline = time.time() + 60
        while time.time() < deadline:
            r = self.events.describe_replay(ReplayName="reprocess-" + correlation[:8])
            if r["State"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.1)
        self.assertEqual(r["State"], "COMPLETED", r)
        # The replayed signal ran the workflow again: a second plan, execution and completion.
        self.wait_for(correlation, "WorkflowCompleted", count=2)
        plans = [e for e in self.workflow(correlation) if e["detail-type"] == "RebalancePlanned"]
        self.assertEqual(len(plans), 2)

    def test_7_hybrid_forwarding_reaches_the_upstream(self):
        self.daemon.stop()
        self.daemon.args = DAEMON_ARGS + ["--forward", "%s -> %s" % (BUS, PROD_BUS)]
        self.daemon.start()
        type(self).connect()
        self.upstream.clear()
        correlation = self.signal(50000)
        self.wait_for(correlation, "WorkflowCompleted")
        deadline = time.time() + 30
        while time.time() < deadline:
            got = [e["entry"] for e in self.upstream.entries()
                   if "correlation:" + correlation in e["entry"].get("Resources", [])]
            if len(got) >= 4:
                break
            time.sleep(0.1)
        self.assertEqual(sorted(e["DetailType"] for e in got),
                         ["RebalancePlanned", "SignalGenerated", "TradeExecuted",
                          "WorkflowCompleted"])
        self.assertTrue(all(e["EventBusName"] == PROD_BUS for e in got))
        self.assertEqual(self.upstream.stats()["bad_signatures"], 0)


if __name__ == "__main__":
    unittest.main()

"""Forwarding to Amazon EventBridge, against upstream.py: a stand-in that checks every signature
with botocore's own signer and injects throttling, partial failures, 5xx, resets and hangs.

A rule target whose ARN is an event bus of another account (or region) is delivered upstream with
PutEvents; a `forward = BUS -> ARN` line does the same for a whole bus through a managed rule (the
sidecar). Entries are rebuilt from the envelope exactly, batched (10 entries, 256 KB as AWS counts
them), retried one by one after a partial failure, and durable: kill -9 and an upstream outage
lose none."""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

import botocore

from lbharness import AWS_CLI, Daemon, Upstream, forward_env

PROD = "arn:aws:events:eu-west-1:111122223333:event-bus/prod"
KEY, SECRET = "AKIDFORWARD", "forward-secret"
FAST_RETRY = ["--retry-base-delay", "50ms", "--retry-max-delay", "500ms",
              "--delivery-timeout", "1500ms"]


def entry(source="shop", detail="{}", **kw):
    e = {"Source": source, "DetailType": kw.pop("detail_type", "Order"), "Detail": detail}
    e.update(kw)
    return e


class ForwardBase(unittest.TestCase):
    daemon_args = ()
    keys = {KEY: SECRET}

    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream(keys=cls.keys)
        cls.home = tempfile.mkdtemp(prefix="lb-home-")
        cls.daemon = Daemon(args=list(FAST_RETRY) + list(cls.daemon_args),
                            env=forward_env(cls.upstream, cls.home, AWS_ACCESS_KEY_ID=KEY,
                                            AWS_SECRET_ACCESS_KEY=SECRET)).start()
        cls.c = cls.daemon.client()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        logs = cls.daemon.logs()
        cls.daemon.cleanup()
        cls.upstream.close()
        shutil.rmtree(cls.home, ignore_errors=True)
        assert rc == 0, logs

    def setUp(self):
        self.upstream.clear()

    def tearDown(self):
        self.assertEqual(self.upstream.stats()["bad_signatures"], 0,
                         "the stand-in refused a signature")

    def rule_to(self, name, arn=PROD, pattern=None):
        self.c.put_rule(Name=name, EventPattern=pattern or json.dumps({"detail-type": [name]}))
        self.c.put_targets(Rule=name, Targets=[{"Id": "up", "Arn": arn}])

    def metrics(self):
        status, _, data = self.daemon.request("GET", "/metrics")
        out = {}
        for line in data.decode().splitlines():
            if line.startswith("localbridge_forward") and " " in line:
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def wait_metric(self, name, value, timeout=10):
        """The metric once it reaches value: the upstream records an entry when its request
        arrives, the daemon counts it when the answer is back, a moment later."""
        deadline = time.time() + timeout
        while True:
            got = self.metrics().get(name)
            if got == value or time.time() > deadline:
                return got
            time.sleep(0.05)

    def health(self):
        status, _, data = self.daemon.request("GET", "/health")
        return status, json.loads(data)

    def dead_letters(self, rule):
        status, _, data = self.daemon.request("GET", "/_localbridge/dead-letters?rule=" + rule)
        return json.loads(data)["DeadLetters"]


class Forwarding(ForwardBase):
    def test_entry_is_rebuilt_faithfully_and_signed(self):
        self.rule_to("Faithful")
        detail = '{ "n": 12345678901234567890123, "s": "caf\\u00e9 \\"q\\"", "l": [1, 2.50] }'
        out = self.c.put_events(Entries=[entry(
            detail=detail, detail_type="Faithful", Resources=["arn:aws:s3:::a", "arn:x:y"],
            Time=1704164645, TraceHeader="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")])
        local_id = out["Entries"][0]["EventId"]
        got = self.upstream.wait_for(1)
        self.assertEqual(len(got), 1)
        up = got[0]["entry"]
        envelope = next(e for e in self.daemon.events(limit=50) if e["id"] == local_id)
        self.assertEqual(up["Source"], "shop")
        self.assertEqual(up["DetailType"], "Faithful")
        # The Detail text as the envelope holds it: whitespace gone, every digit and escape kept.
        self.assertEqual(up["Detail"],
                         '{"n":12345678901234567890123,"s":"caf\\u00e9 \\"q\\"","l":[1,2.50]}')
        self.assertEqual(json.loads(up["Detail"]), envelope["detail"])
        self.assertEqual(up["Resources"], ["arn:aws:s3:::a", "arn:x:y"])
        self.assertEqual(up["Time"], 1704164645)
        self.assertEqual(up["EventBusName"], PROD)
        self.assertEqual(up["TraceHeader"], "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
        self.assertEqual(got[0]["auth_key"], KEY)
        self.assertNotIn(SECRET, self.daemon.logs())

    def test_due_together_go_in_batches_of_ten(self):
        self.rule_to("Batched")
        self.daemon.stop()
        # Held deliveries come due together at the next start: one round, batched.
        self.daemon.args += ["--delivery-enabled", "false"]
        self.daemon.start()
        c = self.daemon.client()
        for i in range(5):
            c.put_events(Entries=[entry(detail=json.dumps({"i": i * 10 + k}),
                                        detail_type="Batched") for k in range(10)])
        self.daemon.stop()
        self.daemon.args = self.daemon.args[:-2]
        self.daemon.start()
        type(self).c = self.daemon.client()  # the class's client, for the tests after this one
        got = self.upstream.wait_for(50)
        self.assertEqual(sorted(json.loads(e["entry"]["Detail"])["i"] for e in got),
                         list(range(50)))
        stats = self.upstream.stats()
        self.assertEqual(stats["max_batch"], 10)
        self.assertLessEqual(stats["requests"], 8)
        self.assertEqual(self.wait_metric("localbridge_forwarded_entries_total", 50), 50)

    def test_batches_stay_within_256_kb_as_aws_counts_entries(self):
        self.rule_to("Big")
        big = json.dumps({"pad": "x" * (100 * 1024)})
        self.daemon.stop()
        self.daemon.args += ["--delivery-enabled", "false"]
        self.daemon.start()
        self.daemon.client().put_events(Entries=[entry(detail=big, detail_type="Big")])
        self.daemon.client().put_events(Entries=[entry(detail=big, detail_type="Big")])
        self.daemon.client().put_events(Entries=[entry(detail=big, detail_type="Big")])
        self.daemon.stop()
        self.daemon.args = self.daemon.args[:-2]
        self.daemon.start()
        got = self.upstream.wait_for(3)
        self.assertEqual(len(got), 3)
        # Two 100 KB entries fit in 256 KB, three do not.
        self.assertEqual(self.upstream.stats()["max_batch"], 2)
        type(self).c = self.daemon.client()

    def test_partial_failure_retries_only_the_failed_entries(self):
        self.rule_to("Partial")
        self.upstream.control(entry_errors=[
            {"source": "throttled", "code": "ThrottlingException", "times": 3},
            {"source": "internal", "code": "InternalException", "times": 1},
            {"source": "denied", "code": "AccessDeniedException", "times": -1}])
        self.c.put_events(Entries=[entry(source=s, detail_type="Partial", Detail=json.dumps(
            {"s": s})) for s in ("ok1", "throttled", "internal", "denied", "ok2")])
        got = self.upstream.wait_for(4)
        sources = sorted(e["entry"]["Source"] for e in got)
        time.sleep(0.5)
        # Each accepted entry arrived exactly once: no resend of what was accepted.
        self.assertEqual(sorted(e["entry"]["Source"] for e in self.upstream.entries()),
                         ["internal", "ok1", "ok2", "throttled"])
        self.assertEqual(sources, ["internal", "ok1", "ok2", "throttled"])
        deadline = time.time() + 10
        dead = []
        while time.time() < deadline and not dead:
            dead = self.dead_letters("Partial")
            time.sleep(0.05)
        self.assertEqual(len(dead), 1)
        attrs = dead[0]
        self.assertEqual(attrs["ERROR_CODE"], "AccessDeniedException")
        self.assertEqual(attrs["ERROR_MESSAGE"], "Entry refused: AccessDeniedException")
        self.assertEqual(json.loads(attrs["Body"])["source"], "denied")
        m = self.metrics()
        self.assertGreaterEqual(m["localbridge_forward_retried_entries_total"], 4)
        self.assertGreaterEqual(m["localbridge_forward_failed_entries_total"], 1)

    def test_whole_request_faults_are_retried(self):
        self.rule_to("Faults")
        self.upstream.control(throttle=2)
        self.c.put_events(Entries=[entry(detail_type="Faults", Detail='{"k":1}')])
        self.upstream.control(status=[503, 2])
        self.c.put_events(Entries=[entry(detail_type="Faults", Detail='{"k":2}')])
        self.upstream.control(reset=1)
        self.c.put_events(Entries=[entry(detail_type="Faults", Detail='{"k":3}')])
        self.upstream.control(hang=1)
        self.c.put_events(Entries=[entry(detail_type="Faults", Detail='{"k":4}')])
        got = self.upstream.wait_for(4, timeout=30)
        self.assertEqual(sorted(json.loads(e["entry"]["Detail"])["k"] for e in got), [1, 2, 3, 4])
        self.assertEqual(self.dead_letters("Faults"), [])

    def test_refused_request_dead_letters_with_the_upstreams_error(self):
        self.rule_to("Refused")
        self.upstream.control(error=["ResourceNotFoundException", 1])
        self.c.put_events(Entries=[entry(detail_type="Refused")])
        deadline = time.time() + 10
        dead = []
        while time.time() < deadline and not dead:
            dead = self.dead_letters("Refused")
            time.sleep(0.05)
        self.assertEqual(dead[0]["ERROR_CODE"], "ResourceNotFoundException")
        self.assertEqual(dead[0]["ERROR_MESSAGE"], "Refused by the stand-in.")

    def test_local_buses_stay_local(self):
        self.c.create_event_bus(Name="here")
        self.c.put_rule(Name="LocalHop", EventPattern='{"detail-type":["LocalHop"]}')
        self.c.put_targets(Rule="LocalHop", Targets=[
            {"Id": "b", "Arn": "arn:aws:events:us-east-1:000000000000:event-bus/here"}])
        self.c.put_events(Entries=[entry(detail_type="LocalHop")])
        deadline = time.time() + 10
        while time.time() < deadline and not self.daemon.events(bus="here"):
            time.sleep(0.05)
        self.assertEqual(len(self.daemon.events(bus="here")), 1)
        self.assertEqual(self.upstream.entries(), [])


class Outage(unittest.TestCase):
    """The upstream down, then back; kill -9 of the daemon with forwards pending."""

    def setUp(self):
        self.upstream = Upstream(keys={KEY: SECRET})
        self.home = tempfile.mkdtemp(prefix="lb-home-")
        self.conf = os.path.join(self.home, "lb.conf")
        with open(self.conf, "w") as f:
            f.write("forward = default -> %s\n" % PROD)
        self.daemon = Daemon(args=FAST_RETRY + ["--config", self.conf],
                             env=forward_env(self.upstream, self.home, AWS_ACCESS_KEY_ID=KEY,
                                             AWS_SECRET_ACCESS_KEY=SECRET))

    def tearDown(self):
        self.daemon.cleanup()
        self.upstream.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def health(self):
        _, _, data = self.daemon.request("GET", "/health")
        return json.loads(data)

    def test_upstream_down_then_back_loses_nothing_and_health_says_stuck(self):
        self.daemon.start()
        c = self.daemon.client()
        self.upstream.stop()
        for i in range(30):
            c.put_events(Entries=[entry(detail=json.dumps({"i": i}))])
        deadline = time.time() + 30
        h = self.health()
        while time.time() < deadline and h.get("forward", {}).get("status") != "stuck":
            time.sleep(0.5)
            h = self.health()
        self.assertEqual(h["status"], "degraded", h)
        self.assertEqual(h["forward"]["status"], "stuck")
        self.assertEqual(h["forward"]["pending"], 30)
        self.assertGreater(h["forward"]["oldest_pending_seconds"], 10)
        self.assertIn("CONNECTION_ERROR", h["forward"]["last_error"])
        self.upstream.start()
        got = self.upstream.wait_for(30, timeout=30)
        self.assertEqual(sorted(json.loads(e["entry"]["Detail"])["i"] for e in got),
                         list(range(30)))
        deadline = time.time() + 10
        while time.time() < deadline and self.health()["status"] != "ok":
            time.sleep(0.1)
        self.assertEqual(self.health()["status"], "ok")
        self.assertEqual(self.upstream.stats()["bad_signatures"], 0)
        self.assertEqual(self.daemon.stop(), 0)

    def test_kill_9_with_forwards_pending_loses_none(self):
        self.daemon.start()
        self.upstream.control(hang=1000)
        c = self.daemon.client()
        ids = []
        for i in range(20):
            ids += [e["EventId"] for e in c.put_events(
                Entries=[entry(detail=json.dumps({"i": i * 5 + k})) for k in range(5)])["Entries"]]
        time.sleep(0.3)
        self.daemon.kill9()
        self.upstream.stop()
        self.upstream.start()
        self.daemon.start()
        got = self.upstream.wait_for(100, timeout=60)
        received = {json.loads(e["entry"]["Detail"])["i"] for e in got}
        self.assertEqual(received, set(range(100)))
        self.assertEqual(self.daemon.stop(), 0)


class Sidecar(unittest.TestCase):
    """A legacy process publishes to the local default bus; every event arrives upstream through
    the managed rule of a forward line, which the API shows and cannot change."""

    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream(keys={KEY: SECRET})
        cls.home = tempfile.mkdtemp(prefix="lb-home-")
        cls.conf = os.path.join(cls.home, "lb.conf")
        with open(cls.conf, "w") as f:
            f.write("forward = default -> %s\n"
                    "forward = audit -> arn:aws:events:us-east-1:111122223333:event-bus/audit "
                    '{"source": ["auth"]}\n' % PROD)
        cls.daemon = Daemon(args=FAST_RETRY + ["--config", cls.conf],
                            env=forward_env(cls.upstream, cls.home, AWS_ACCESS_KEY_ID=KEY,
                                            AWS_SECRET_ACCESS_KEY=SECRET)).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        cls.daemon.cleanup()
        cls.upstream.close()
        shutil.rmtree(cls.home, ignore_errors=True)
        assert rc == 0

    def test_legacy_process_publishes_locally_and_everything_arrives_upstream(self):
        # The "legacy process": a separate program that only knows its local endpoint.
        script = ("import boto3, json, sys\n"
                  "c = boto3.client('events', endpoint_url=sys.argv[1], region_name='us-east-1',"
                  " aws_access_key_id='x', aws_secret_access_key='y')\n"
                  "for i in range(20):\n"
                  "    c.put_events(Entries=[{'Source': 'legacy', 'DetailType': 'Tick',"
                  " 'Detail': json.dumps({'i': i * 5 + k})} for k in range(5)])\n")
        subprocess.run([sys.executable, "-c", script, self.daemon.url], check=True, timeout=120,
                       env=dict(os.environ, AWS_EC2_METADATA_DISABLED="true"))
        if AWS_CLI:
            rc, _, err = self.daemon.aws("put-events", "--entries", json.dumps(
                [{"Source": "legacy", "DetailType": "Tick", "Detail": '{"i": 100}'}]))
            self.assertEqual(rc, 0, err)
        want = 101 if AWS_CLI else 100
        got = self.upstream.wait_for(want, where=lambda e: e["entry"]["Source"] == "legacy")
        self.assertEqual(sorted(json.loads(e["entry"]["Detail"])["i"] for e in got),
                         list(range(want)))
        self.assertTrue(all(e["entry"]["EventBusName"] == PROD for e in got))
        self.assertEqual(self.upstream.stats()["bad_signatures"], 0)

    def test_pattern_limits_what_a_forward_line_sends(self):
        c = self.daemon.client()
        c.put_events(Entries=[entry(source="auth", EventBusName="audit"),
                              entry(source="noise", EventBusName="audit")])
        got = self.upstream.wait_for(1, where=lambda e: e["entry"]["EventBusName"].endswith("/audit"))
        time.sleep(0.5)
        audit = [e for e in self.upstream.entries()
                 if e["entry"]["EventBusName"].endswith("/audit")]
        self.assertEqual([e["entry"]["Source"] for e in audit], ["auth"])
        self.assertEqual(got[0]["entry"]["Source"], "auth")

    def test_managed_rule_is_listed_and_cannot_be_changed(self):
        c = self.daemon.client()
        rules = c.list_rules()["Rules"]
        managed = [r for r in rules if r.get("ManagedBy") == "localbridge"]
        self.assertEqual(len(managed), 1, rules)
        rule = managed[0]
        self.assertTrue(rule["Name"].startswith("LocalBridgeForward-prod-"))
        self.assertEqual(json.loads(rule["EventPattern"]), {"source": [{"prefix": ""}]})
        self.assertEqual(rule["State"], "ENABLED")
        targets = c.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        self.assertEqual(targets, [{"Id": "forward", "Arn": PROD}])
        name = rule["Name"]
        for call in (lambda: c.put_rule(Name=name, EventPattern='{"source":["x"]}'),
                     lambda: c.disable_rule(Name=name),
                     lambda: c.put_targets(Rule=name, Targets=[{"Id": "x", "Arn": PROD}]),
                     lambda: c.tag_resource(ResourceARN=rule["Arn"],
                                            Tags=[{"Key": "k", "Value": "v"}])):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                call()
            self.assertEqual(ctx.exception.response["Error"]["Code"], "ManagedRuleException")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            c.delete_rule(Name=name)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ManagedRuleException")
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "%s is a managed rule. Set 'force' parameter to true to override." % name)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            c.remove_targets(Rule=name, Ids=["forward"], Force=True)
        self.assertIn("forward line of the LocalBridge configuration",
                      ctx.exception.response["Error"]["Message"])
        self.assertEqual(c.describe_rule(Name=name)["ManagedBy"], "localbridge")


class Credentials(unittest.TestCase):
    """The SDKs' credential chain, one source at a time: the stand-in checks which key signed."""

    def setUp(self):
        self.upstream = Upstream(keys={"AKIDCHAIN": "chain-secret"})
        self.home = tempfile.mkdtemp(prefix="lb-home-")

    def tearDown(self):
        self.upstream.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def forward_one(self, **env):
        conf = os.path.join(self.home, "lb.conf")
        with open(conf, "w") as f:
            f.write("forward = default -> %s\n" % PROD)
        d = Daemon(args=FAST_RETRY + ["--config", conf],
                   env=forward_env(self.upstream, self.home, **env)).start()
        try:
            d.client().put_events(Entries=[entry()])
            got = self.upstream.wait_for(1)
            self.assertEqual(len(got), 1, d.logs())
            self.assertEqual(got[0]["auth_key"], "AKIDCHAIN")
            self.assertEqual(self.upstream.stats()["bad_signatures"], 0)
            logs = d.logs()
            self.assertNotIn("chain-secret", logs)
            self.assertNotIn("session-AKIDCHAIN", logs)
            self.assertEqual(d.stop(), 0)
            return logs
        finally:
            d.cleanup()

    def test_environment(self):
        logs = self.forward_one(AWS_ACCESS_KEY_ID="AKIDCHAIN", AWS_SECRET_ACCESS_KEY="chain-secret")
        self.assertIn("source=environment", logs)

    def test_shared_credentials_file_profile(self):
        os.makedirs(os.path.join(self.home, ".aws"))
        with open(os.path.join(self.home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = x\n"
                    "[forwarder]\naws_access_key_id = AKIDCHAIN\n"
                    "aws_secret_access_key = chain-secret\n")
        logs = self.forward_one(AWS_PROFILE="forwarder")
        self.assertIn("profile forwarder (credentials file)", logs)

    def test_credential_process(self):
        script = os.path.join(self.home, "creds.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDCHAIN\", "
                    "\"SecretAccessKey\": \"chain-secret\", \"SessionToken\": "
                    "\"session-AKIDCHAIN\", \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n")
        os.chmod(script, 0o700)
        config = os.path.join(self.home, "config")
        with open(config, "w") as f:
            f.write("[profile proc]\ncredential_process = %s\n" % script)
        logs = self.forward_one(AWS_PROFILE="proc", AWS_CONFIG_FILE=config)
        self.assertIn("source=credential_process", logs)

    def test_temporary_credentials_are_refreshed_before_they_expire(self):
        # Credentials that expire in ten minutes and three seconds are due for a refresh three
        # seconds from now (the provider refreshes ten minutes ahead).
        count = os.path.join(self.home, "count")
        script = os.path.join(self.home, "creds.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho x >> %s\n"
                    "exp=$(date -u -d '+603 seconds' +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
                    "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDCHAIN\", "
                    "\"SecretAccessKey\": \"chain-secret\", \"SessionToken\": \"s\", "
                    "\"Expiration\": \"'$exp'\"}'\n" % count)
        os.chmod(script, 0o700)
        config = os.path.join(self.home, "config")
        with open(config, "w") as f:
            f.write("[default]\ncredential_process = %s\n" % script)
        conf = os.path.join(self.home, "lb.conf")
        with open(conf, "w") as f:
            f.write("forward = default -> %s\n" % PROD)
        d = Daemon(args=FAST_RETRY + ["--config", conf],
                   env=forward_env(self.upstream, self.home, AWS_CONFIG_FILE=config)).start()
        try:
            c = d.client()
            c.put_events(Entries=[entry()])
            self.assertEqual(len(self.upstream.wait_for(1)), 1)
            self.assertEqual(len(open(count).read().split()), 1)
            time.sleep(3.5)
            c.put_events(Entries=[entry()])
            self.assertEqual(len(self.upstream.wait_for(2)), 2)
            deadline = time.time() + 5
            while time.time() < deadline and len(open(count).read().split()) < 2:
                time.sleep(0.05)
            self.assertEqual(len(open(count).read().split()), 2)
            self.assertEqual(self.upstream.stats()["bad_signatures"], 0)
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    def test_ecs_container_credentials_with_token_file(self):
        token = os.path.join(self.home, "token")
        with open(token, "w") as f:
            f.write("ecs-token-1\n")
        logs = self.forward_one(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.upstream.url + "/ecs-creds",
                                AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token)
        self.assertIn('source="container credentials"', logs)
        self.assertEqual(self.upstream.stats()["requests_by_kind"].get("/ecs-creds"), 1)

    def test_ec2_instance_metadata_v2(self):
        logs = self.forward_one(AWS_EC2_METADATA_DISABLED="",
                                AWS_EC2_METADATA_SERVICE_ENDPOINT=self.upstream.url)
        self.assertIn('source="instance metadata"', logs)

    def test_no_credentials_holds_forwards_without_losing_them(self):
        conf = os.path.join(self.home, "lb.conf")
        with open(conf, "w") as f:
            f.write("forward = default -> %s\n" % PROD)
        d = Daemon(args=FAST_RETRY + ["--config", conf],
                   env=forward_env(self.upstream, self.home)).start()
        try:
            d.client().put_events(Entries=[entry()])
            time.sleep(1)
            _, _, data = d.request("GET", "/health")
            self.assertIn("no AWS credentials", json.loads(data)["forward"]["credentials"])
            self.assertEqual(self.upstream.entries(), [])
            self.assertEqual(d.stop(), 0)
            # With credentials at the next start, the held forward goes out.
            d.env.update({"AWS_ACCESS_KEY_ID": "AKIDCHAIN",
                          "AWS_SECRET_ACCESS_KEY": "chain-secret"})
            d.start()
            self.assertEqual(len(self.upstream.wait_for(1)), 1)
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()

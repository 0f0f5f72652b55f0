"""The shipped Prometheus rules (conf/prometheus) and Grafana dashboard (conf/grafana) cannot
rot: each is well-formed, and every metric they use is exported by a running daemon."""
import json
import os
import re
import unittest

import yaml

from lbharness import DaemonTestCase

CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf")
METRIC = re.compile(r"\blocalbridge_[a-z_]+\b")
DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")


def rule_exprs():
    with open(os.path.join(CONF, "prometheus", "localbridge-rules.yml")) as f:
        doc = yaml.safe_load(f)
    exprs = []
    for group in doc["groups"]:
        assert group["name"] and group["rules"], group
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["alert"] and rule["expr"], rule
            if "for" in rule:
                assert DURATION.match(rule["for"]), rule["for"]
            exprs.append(rule["expr"])
    return exprs


def dashboard_exprs():
    with open(os.path.join(CONF, "grafana", "localbridge-dashboard.json")) as f:
        dash = json.load(f)
    titles = [p["title"] for p in dash["panels"]]
    for needed in ("Invocations", "FailedInvocations", "ThrottledRules", "DLQ depth"):
        assert needed in titles, titles
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


class TestObservabilityConf(DaemonTestCase):
    def test_every_metric_used_is_exported(self):
        exprs = rule_exprs() + dashboard_exprs()
        used = set()
        for e in exprs:
            # Balanced brackets and parentheses: a cheap syntax check without promtool.
            for o, c in ("()", "{}", "[]"):
                self.assertEqual(e.count(o), e.count(c), e)
            used |= set(METRIC.findall(e))
        self.assertIn("localbridge_sqs_messages_visible", used)
        status, _, data = self.daemon.request("GET", "/metrics")
        self.assertEqual(status, 200)
        exported = set(re.findall(r"^# TYPE (localbridge_[a-z_]+) ", data.decode(), re.M))
        self.assertEqual(sorted(used - exported), [])


if __name__ == "__main__":
    unittest.main()

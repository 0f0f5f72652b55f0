"""pytest fixtures for testing against a local EventBridge (LocalBridge).

Copy this file next to your tests (or into conftest.py), or point pytest at it with
`-p localbridge_fixture`. It starts one `localbridge serve --ephemeral` for the test session
(a temporary data dir, a free port, removed at exit) and wipes its state before each test
(POST /_localbridge/reset takes milliseconds).

    def test_order_event_reaches_the_queue(localbridge):
        events = localbridge.client("events")          # boto3, pointed at the daemon
        events.put_rule(Name="orders", EventPattern='{"source": ["shop"]}')
        events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": QUEUE_ARN}])
        events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": "{}"}])
        [got] = localbridge.deliveries(QUEUE_ARN, count=1)   # long-polls, no server needed
        assert json.loads(got["body"])["source"] == "shop"

Fixtures: `localbridge` (state reset before the test) and `localbridge_session` (the shared
daemon, no reset). Settings: LOCALBRIDGE_BIN (the binary; default `localbridge` on PATH) and
LOCALBRIDGE_ARGS (extra `serve` options, e.g. "--target-map 'arn:*:q -> http://...'").

Only the standard library is needed; `client()` needs boto3.
"""
import json
import os
import shlex
import subprocess
import urllib.parse
import urllib.request

import pytest


class LocalBridge:
    """A running daemon: its endpoint and the admin calls a test needs."""

    def __init__(self, binary="localbridge", args=(), region="us-east-1"):
        self.region = region
        cmd = [binary, "serve", "--ephemeral", "--region", region, *args]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        # The first stdout line is the bound endpoint, written once the daemon is ready.
        line = self.process.stdout.readline().strip()
        if not line.startswith("http"):
            self.process.kill()
            err = self.process.stderr.read()
            raise RuntimeError(f"localbridge did not start: {err.strip() or line}")
        self.endpoint = line

    def _call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")

    def reset(self):
        """Wipes buses (but default), rules, targets, events, deliveries, archives, replays."""
        return self._call("POST", "/_localbridge/reset", {})

    def deliveries(self, target_arn, count=1, wait=5.0):
        """What target_arn received (final deliveries, oldest first): waits up to `wait` seconds
        until there are `count` of them; returns those there are by then."""
        q = urllib.parse.urlencode({"target": target_arn, "count": count,
                                    "wait": f"{int(wait * 1000)}ms"})
        return self._call("GET", f"/_localbridge/deliveries?{q}", timeout=wait + 30)["deliveries"]

    def event(self, event_id):
        """The event and what happened to each of its deliveries."""
        return self._call("GET", f"/_localbridge/events/{urllib.parse.quote(event_id)}")

    def status(self):
        return self._call("GET", "/_localbridge/status")

    def client(self, service="events", **kwargs):
        """A boto3 client for this daemon (dummy credentials unless given)."""
        import boto3
        kwargs.setdefault("region_name", self.region)
        kwargs.setdefault("aws_access_key_id", "test")
        kwargs.setdefault("aws_secret_access_key", "test")
        return boto3.client(service, endpoint_url=self.endpoint, **kwargs)

    def stop(self):
        """SIGTERM: the daemon stops and removes its temporary data dir."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture(scope="session")
def localbridge_session():
    lb = LocalBridge(os.environ.get("LOCALBRIDGE_BIN", "localbridge"),
                     shlex.split(os.environ.get("LOCALBRIDGE_ARGS", "")))
    yield lb
    lb.stop()


@pytest.fixture
def localbridge(localbridge_session):
    localbridge_session.reset()
    return localbridge_session

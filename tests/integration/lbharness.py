"""Black-box harness: starts the real localbridge binary on a free port with a temp data dir and
drives it with real clients (boto3, the AWS CLI, raw HTTP)."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import boto3
from botocore.config import Config

BINARY = os.environ.get("LB_BINARY", os.path.join(os.path.dirname(__file__), "..", "..",
                                                  "build", "localbridge"))
# AWS's recorded answers, copied into the repository with their attribution.
CONFORMANCE_DIR = os.environ.get("LB_CONFORMANCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
# Debian's AWS CLI, as the deps script installs it; a user-level shim may shadow it on PATH.
AWS_CLI = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")


class Daemon:
    def __init__(self, data_dir=None, args=(), env=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="lb-test-")
        self.args = list(args)
        self.env = env or {}
        self.proc = None
        self.url = None
        self.log_path = os.path.join(self.data_dir, "daemon.log")

    def start(self, timeout=10):
        env = dict(os.environ)
        env.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BINARY, "serve", "--listen", "127.0.0.1:0", "--data-dir",
             os.path.join(self.data_dir, "var"), "--config", ""] + self.args,
            stdout=subprocess.PIPE, stderr=self.log, env=env)
        deadline = time.time() + timeout
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://"):
            raise RuntimeError("daemon did not print its URL: %r\n%s" % (line, self.logs()))
        self.url = line
        self.host, self.port = line[len("http://"):].rsplit(":", 1)
        self.port = int(self.port)
        while time.time() < deadline:
            try:
                status, _, _ = self.request("GET", "/health")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError("daemon not healthy:\n" + self.logs())

    def logs(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def client(self, region="us-east-1"):
        return boto3.client(
            "events", endpoint_url=self.url, region_name=region, aws_access_key_id="AKIDTEST",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))

    def aws(self, *args, region="us-east-1"):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION=region, AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
        p = subprocess.run([AWS_CLI, "events"] + list(args) + ["--endpoint-url", self.url,
                                                               "--output", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                           timeout=60)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out, p.stderr

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), data
        finally:
            conn.close()

    def admin_post(self, path, body):
        """A POST to an admin endpoint as a client sends it: JSON, with its content type (the
        daemon refuses any other, see the browser guards)."""
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def api(self, operation, payload, headers=None):
        """One raw AWS JSON 1.1 call; returns (status, parsed body, headers)."""
        h = {"X-Amz-Target": "AWSEvents." + operation,
             "Content-Type": "application/x-amz-json-1.1"}
        h.update(headers or {})
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        status, hdrs, data = self.request("POST", "/", body, h)
        return status, (json.loads(data) if data else None), hdrs

    def events(self, bus=None, limit=100):
        q = "?limit=%d" % limit + ("&bus=%s" % bus if bus else "")
        status, _, data = self.request("GET", "/_localbridge/events" + q)
        assert status == 200, data
        return json.loads(data)["Events"]

    def raw_socket(self):
        return socket.create_connection((self.host, self.port), timeout=10)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if not self.proc:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def cleanup(self):
        if self.proc:
            self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


class DaemonTestCase(unittest.TestCase):
    """One daemon per test class (started in milliseconds), torn down with a SIGTERM that must
    exit 0."""
    daemon_args = ()

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(args=cls.daemon_args).start()
        cls.events_client = cls.daemon.client()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        logs = cls.daemon.logs()
        cls.daemon.cleanup()
        if rc != 0:
            raise AssertionError("daemon exited %r on SIGTERM\n%s" % (rc, logs))

    def assertAwsError(self, ctx, code, message=None):
        err = ctx.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if message is not None:
            self.assertEqual(err["Message"], message)


class Sink:
    """The sink.py HTTP target in its own process."""

    def __init__(self):
        import sys
        self.dir = tempfile.mkdtemp(prefix="lb-sink-")
        portfile = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "sink.py"),
                                      portfile])
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(portfile) and open(portfile).read().strip():
                break
            time.sleep(0.01)
        self.port = int(open(portfile).read())
        self.url = "http://127.0.0.1:%d" % self.port

    def requests(self, prefix=""):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/_requests")
        data = json.loads(conn.getresponse().read())
        conn.close()
        # A path matches itself and what lies below it: "/ok/b" is not "/ok/bus2".
        return [r for r in data if not prefix or r["path"] == prefix or
                r["path"].startswith(prefix.rstrip("/") + "/") or r["path"].startswith(prefix + "?")]

    def wait_for(self, prefix, count, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.requests(prefix)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        return self.requests(prefix)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class QuietSink(Sink):
    """A Sink for fault and crash tests: its stderr is discarded (cut connections would each
    print a traceback) and its listen backlog is 1024 instead of socketserver's 5, so dozens of
    concurrent deliveries are not dropped at connect (a dropped SYN is retried only after 1 s,
    which a short delivery_timeout counts as a TIMEOUT)."""

    def __init__(self):
        import sys
        self.dir = tempfile.mkdtemp(prefix="lb-sink-")
        portfile = os.path.join(self.dir, "port")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sink.py")
        boot = ("import runpy, socketserver, sys; socketserver.TCPServer.request_queue_size = 1024;"
                " sys.argv = [%r, %r]; runpy.run_path(%r, run_name='__main__')"
                % (script, portfile, script))
        self.proc = subprocess.Popen([sys.executable, "-c", boot], stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(portfile) and open(portfile).read().strip():
                break
            time.sleep(0.01)
        self.port = int(open(portfile).read())
        self.url = "http://127.0.0.1:%d" % self.port


def vm_rss_kb(pid):
    """Resident set size of process pid in KiB (from /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


class Upstream:
    """upstream.py, the stand-in for Amazon EventBridge that checks every signature with
    botocore's signer, in its own process. keys: access key id -> secret it knows."""

    def __init__(self, keys=None, ecs_token="ecs-token-1", verify=True):
        import sys
        self.dir = tempfile.mkdtemp(prefix="lb-upstream-")
        self.keys_path = os.path.join(self.dir, "keys.json")
        self.keys = keys or {"AKIDFORWARD": "forward-secret"}
        with open(self.keys_path, "w") as f:
            json.dump({"keys": self.keys, "ecs_token": ecs_token,
                       "ecs_key": next(iter(self.keys)), "imds_key": next(iter(self.keys))}, f)
        self.verify = verify
        self.python = sys.executable
        self.port = None
        self.proc = None
        self.start()

    def start(self):
        portfile = os.path.join(self.dir, "port")
        if os.path.exists(portfile):
            os.unlink(portfile)
        cmd = [self.python, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "upstream.py"), portfile, self.keys_path]
        if self.port:
            cmd.append(str(self.port))  # the same port again: "the upstream is back"
        if not self.verify:
            cmd.append("--no-verify")
        self.proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and not os.path.exists(portfile):
            if self.proc.poll() is not None and self.port:
                time.sleep(0.1)  # the port may still be in TIME_WAIT: try again
                self.proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
            time.sleep(0.01)
        self.port = int(open(portfile).read())
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def _call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None)
            return json.loads(conn.getresponse().read() or b"{}")
        finally:
            conn.close()

    def entries(self):
        return self._call("GET", "/_entries")

    def stats(self):
        return self._call("GET", "/_stats")

    def control(self, **faults):
        return self._call("POST", "/_control", faults)

    def clear(self):
        return self._call("DELETE", "/_entries")

    def wait_for(self, count, timeout=20, where=None):
        deadline = time.time() + timeout
        got = []
        while time.time() < deadline:
            got = [e for e in self.entries() if where is None or where(e)]
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return got

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# Environment for a daemon that forwards: no credential source of the machine running the tests
# leaks in (every variable the chain reads is blanked, HOME points at an empty directory and
# instance metadata is off) unless a test sets it.
def forward_env(upstream, home, **extra):
    env = {name: "" for name in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_SERVICE_ENDPOINT")}
    env.update({"HOME": home, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ENDPOINT_URL_EVENTS": upstream.url})
    env.update(extra)
    return env

"""Local Lambda handlers: rules targeting Lambda functions run real Python handlers through
localbridge-lambda-python (lambda_handler lines and functions registered through
/_localbridge/functions), with Lambda's environment and context, Lambda's asynchronous retry
semantics (function errors retried by the function's own policy, then dead-lettered and sent to
its on-failure destination), timeouts, the concurrency limit as a throttle under the target's
RetryPolicy, a runner that cannot start, the maximum event age, a pending Lambda retry across
kill -9, and a chained flow where a handler publishes the next event with its own boto3."""
import json
import os
import shutil
import tempfile
import time
import unittest

from lbharness import BINARY, Daemon

HERE = os.path.dirname(os.path.abspath(__file__))
HANDLERS = os.path.join(HERE, "lambda_handlers")
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
# Lambda's 1 minute becomes this: its retry waits, throttle backoff and event age scale with it.
RETRY_DELAY_MS = 400


def wait_until(check, timeout=20, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    return check()


class LocalLambdaBase(unittest.TestCase):
    extra_config = ""

    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="lb-lambda-out-")
        # AWS_PROFILE empty, as a sidecar's environment may blank it: boto3 in a handler would
        # fail on it (ProfileNotFound); a handler has Lambda's credentials, not a profile.
        cls.daemon = Daemon(env={"LB_LAMBDA_OUT": cls.out, "LOCALBRIDGE_TEST_SETTING": "x",
                                 "AWS_PROFILE": ""})
        cls.conf = os.path.join(cls.daemon.data_dir, "lb.conf")
        with open(cls.conf, "w") as f:
            f.write(cls.config())
        cls.daemon.args = ["--config", cls.conf]
        cls.daemon.start()
        cls.c = cls.daemon.client()

    @classmethod
    def config(cls):
        py = "@python-runner --code-dir %s handlers." % HANDLERS
        return ("retry_base_delay = 50ms\nretry_max_delay = 200ms\n"
                "lambda_retry_delay = %dms\n" % RETRY_DELAY_MS +
                "lambda_handler = ok-* -> %sok\n" % py +
                "lambda_handler = fail-* -> @python-runner \"%s/handlers.py:fail\"\n" % HANDLERS +
                "lambda_handler = once-* -> %sfail_once\n" % py +
                # The interpreter named: no PATH lookup, a quick start before a short timeout.
                "lambda_handler = slow-* -> /usr/bin/python3 @python-runner --code-dir %s "
                "handlers.slow\n" % HANDLERS +
                "lambda_handler = missing-* -> /nonexistent/bin/handler --flag\n"
                "lambda_handler = chain-* -> /usr/bin/python3 @python-runner --code-dir %s "
                "handlers.publish\n" % HANDLERS +
                "lambda_function = fail-zero timeout=5s retries=0\n"
                "lambda_function = fail-* timeout=5s retries=2 "
                "on_failure=arn:aws:events:us-east-1:000000000000:event-bus/failures\n"
                "lambda_function = slow-conc concurrency=1 timeout=10s\n"
                "lambda_function = slow-* timeout=2s retries=0\n"
                "lambda_function = fail-age max_event_age=60s\n"
                # Generous: a loaded machine may take seconds to start Python.
                "lambda_function = * timeout=20s\n" + cls.extra_config)

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        logs = cls.daemon.logs()
        cls.daemon.cleanup()
        shutil.rmtree(cls.out, ignore_errors=True)
        if rc != 0:
            raise AssertionError("daemon exited %r\n%s" % (rc, logs))

    def runs(self, function):
        try:
            with open(os.path.join(self.out, function + ".jsonl")) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_runs(self, function, count, timeout=20):
        return wait_until(lambda: len(self.runs(function)) >= count and self.runs(function),
                          timeout) or []

    def route(self, rule, function, source, bus="default", retry_policy=None):
        self.c.put_rule(Name=rule, EventBusName=bus,
                        EventPattern=json.dumps({"source": [source]}))
        target = {"Id": "fn", "Arn": ARN + function}
        if retry_policy:
            target["RetryPolicy"] = retry_policy
        out = self.c.put_targets(Rule=rule, EventBusName=bus, Targets=[target])
        self.assertEqual(out["FailedEntryCount"], 0, out)

    def put(self, source, detail=None, bus="default"):
        out = self.c.put_events(Entries=[{"Source": source, "DetailType": "Test",
                                          "EventBusName": bus,
                                          "Detail": json.dumps(detail or {"n": 1})}])
        self.assertEqual(out["FailedEntryCount"], 0, out)
        return out["Entries"][0]["EventId"]

    def dead_letters(self, rule):
        status, _, body = self.daemon.request("GET", "/_localbridge/dead-letters?rule=" + rule)
        self.assertEqual(status, 200, body)
        return json.loads(body)["DeadLetters"]

    def wait_dead(self, rule, count=1, timeout=20):
        return wait_until(lambda: len(self.dead_letters(rule)) >= count and
                          self.dead_letters(rule), timeout) or []

    def metrics(self):
        status, _, body = self.daemon.request("GET", "/metrics")
        self.assertEqual(status, 200)
        return body.decode()


class TestLocalHandlers(LocalLambdaBase):
    def test_success_gets_the_event_environment_and_context(self):
        self.route("r-ok", "ok-fn", "t.ok")
        event_id = self.put("t.ok", {"order": 7, "text": "caf\u00e9"})
        run = self.wait_runs("ok-fn", 1)[0]
        stored = [e for e in self.daemon.events() if e["id"] == event_id][0]
        self.assertEqual(run["event"], stored)
        env = run["env"]
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "ok-fn")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128")
        self.assertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/ok-fn")
        self.assertRegex(env["AWS_LAMBDA_LOG_STREAM_NAME"],
                         r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertEqual(env["AWS_DEFAULT_REGION"], "us-east-1")
        self.assertEqual(env["_HANDLER"], "handlers.ok")
        self.assertEqual(env["TZ"], ":UTC")
        self.assertEqual(env["LAMBDA_TASK_ROOT"], HANDLERS)
        # The daemon's real address, although port 0 was asked for.
        self.assertEqual(env["AWS_ENDPOINT_URL"], self.daemon.url)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            self.assertTrue(env[key])
        # The parent's environment is kept (a pyenv shim running the runner prepends its own).
        self.assertTrue(env["PATH"].endswith(os.environ["PATH"]), env["PATH"])
        self.assertIsNone(env["LOCALBRIDGE_TEST_SETTING"])  # but not the daemon's settings
        self.assertIsNone(env["AWS_PROFILE"])  # nor its profile
        ctx = run["context"]
        self.assertEqual(ctx["function_name"], "ok-fn")
        self.assertEqual(ctx["function_version"], "$LATEST")
        self.assertEqual(ctx["invoked_function_arn"], ARN + "ok-fn")
        self.assertEqual(ctx["memory_limit_in_mb"], 128)
        self.assertRegex(ctx["aws_request_id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(ctx["log_stream_name"], env["AWS_LAMBDA_LOG_STREAM_NAME"])
        self.assertTrue(0 < ctx["remaining_ms"] <= 20000, ctx)
        # Its output is in the daemon's log, tagged with the function and the request id.
        logs = wait_until(lambda: "handled event" in self.daemon.logs() and self.daemon.logs())
        line = [l for l in logs.splitlines() if "handled event " + event_id in l][0]
        self.assertIn("function=ok-fn", line)
        self.assertIn("request_id=" + ctx["aws_request_id"], line)
        self.assertIn("stream=stderr", line)
        self.assertEqual(self.dead_letters("r-ok"), [])
        self.assertIn('localbridge_lambda_invocations_total{function="ok-fn"}', self.metrics())

    def test_exception_is_retried_by_lambda_then_dead_lettered_and_sent_on_failure(self):
        self.c.create_event_bus(Name="failures")
        self.route("r-fail", "fail-fn", "t.fail")
        self.route("r-failures", "ok-failures", "lambda", bus="failures")
        event_id = self.put("t.fail", {"order": 9})
        dead = self.wait_dead("r-fail")
        self.assertEqual(len(dead), 1)
        runs = self.runs("fail-fn")
        # The first run and Lambda's two retries, about 1 and 2 "minutes" apart, one request id.
        self.assertEqual(len(runs), 3)
        self.assertEqual(len({r["context"]["aws_request_id"] for r in runs}), 1)
        gaps = [runs[i + 1]["t"] - runs[i]["t"] for i in range(2)]
        self.assertGreaterEqual(gaps[0], RETRY_DELAY_MS / 1000 * 0.9)
        self.assertGreaterEqual(gaps[1], 2 * RETRY_DELAY_MS / 1000 * 0.9)
        dl = dead[0]
        self.assertEqual(dl["EventId"], event_id)
        self.assertEqual(dl["ERROR_CODE"], "LAMBDA_FUNCTION_ERROR")
        self.assertEqual(dl["EXHAUSTED_RETRY_CONDITION"], "RetriesExhausted")
        self.assertEqual(dl["RETRY_ATTEMPTS"], 2)
        err = json.loads(dl["ERROR_MESSAGE"])
        self.assertEqual(err["errorType"], "ValueError")
        self.assertEqual(err["errorMessage"], "boom " + event_id)
        self.assertEqual(err["requestId"], runs[0]["context"]["aws_request_id"])
        self.assertIn("in fail", "".join(err["stackTrace"]))
        # The on-failure bus got Lambda's invocation record, as an event from "lambda".
        records = wait_until(lambda: [r["event"] for r in self.runs("ok-failures")
                                      if r["event"]["resources"] == [ARN + "fail-fn:$LATEST"]])
        self.assertEqual(len(records), 1)
        record_run = records[0]
        self.assertEqual(record_run["source"], "lambda")
        self.assertEqual(record_run["detail-type"], "Lambda Function Invocation Result - Failure")
        self.assertEqual(record_run["resources"], [ARN + "fail-fn:$LATEST"])
        rec = record_run["detail"]
        self.assertEqual(rec["version"], "1.0")
        self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual(rec["requestContext"], {
            "requestId": runs[0]["context"]["aws_request_id"],
            "functionArn": ARN + "fail-fn:$LATEST", "condition": "RetriesExhausted",
            "approximateInvokeCount": 3})
        self.assertEqual(rec["requestPayload"], runs[0]["event"])
        self.assertEqual(rec["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST",
                                                  "functionError": "Unhandled"})
        self.assertEqual(rec["responsePayload"], err)
        m = self.metrics()
        self.assertIn('localbridge_lambda_errors_total{function="fail-fn"} 3', m)

    def test_retries_zero_dead_letters_after_one_run(self):
        self.route("r-fail0", "fail-zero", "t.fail0")
        self.put("t.fail0")
        dead = self.wait_dead("r-fail0")
        self.assertEqual(dead[0]["EXHAUSTED_RETRY_CONDITION"], "RetriesExhausted")
        time.sleep(3 * RETRY_DELAY_MS / 1000)
        self.assertEqual(len(self.runs("fail-zero")), 1)

    def test_a_retry_that_succeeds_is_delivered(self):
        self.route("r-once", "once-fn", "t.once")
        self.put("t.once")
        runs = self.wait_runs("once-fn", 2)
        self.assertEqual([r["first"] for r in runs], [True, False])
        self.assertEqual(runs[0]["context"]["aws_request_id"], runs[1]["context"]["aws_request_id"])
        time.sleep(0.3)
        self.assertEqual(self.dead_letters("r-once"), [])

    def test_timeout_kills_the_handler_and_is_a_function_error(self):
        self.route("r-slow", "slow-fn", "t.slow")
        started = time.time()
        self.put("t.slow", {"sleep": 30})
        dead = self.wait_dead("r-slow")
        self.assertLess(time.time() - started, 10)
        runs = self.wait_runs("slow-fn", 1, timeout=1)
        self.assertTrue(runs, "the handler was killed before it started: machine too slow?")
        run = runs[0]
        self.assertTrue(wait_until(lambda: not os.path.exists("/proc/%d" % run["pid"]), 5),
                        "the timed-out handler is still running")
        err = json.loads(dead[0]["ERROR_MESSAGE"])
        self.assertEqual(err["errorType"], "Sandbox.Timedout")
        self.assertEqual(err["errorMessage"], "RequestId: %s Error: Task timed out after 2.00 "
                         "seconds" % run["context"]["aws_request_id"])
        self.assertEqual(dead[0]["ERROR_CODE"], "LAMBDA_FUNCTION_ERROR")
        self.assertIn('localbridge_lambda_timeouts_total{function="slow-fn"} 1', self.metrics())

    def test_concurrency_limit_throttles_under_the_retry_policy(self):
        self.route("r-conc", "slow-conc", "t.conc")
        self.put("t.conc", {"sleep": 1.0})
        self.put("t.conc", {"sleep": 1.0})
        runs = self.wait_runs("slow-conc", 2, timeout=20)
        self.assertEqual(len(runs), 2)
        # One at a time: the second started after the first had finished.
        self.assertGreaterEqual(runs[1]["t"] - runs[0]["t"], 0.9)
        m = self.metrics()
        throttles = [l for l in m.splitlines()
                     if l.startswith('localbridge_lambda_throttles_total{function="slow-conc"}')]
        self.assertGreater(int(throttles[0].split()[-1]), 0)
        time.sleep(1.5)
        self.assertEqual(self.dead_letters("r-conc"), [])

    def test_runner_missing_is_a_failure_to_invoke_under_the_retry_policy(self):
        self.route("r-missing", "missing-fn", "t.missing",
                   retry_policy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60})
        self.put("t.missing")
        dead = self.wait_dead("r-missing")
        self.assertEqual(dead[0]["ERROR_CODE"], "NO_RESOURCE")
        self.assertEqual(dead[0]["EXHAUSTED_RETRY_CONDITION"], "MaximumRetryAttempts")
        self.assertEqual(dead[0]["RETRY_ATTEMPTS"], 2)
        self.assertIn("could not be started", dead[0]["ERROR_MESSAGE"])

    def test_max_event_age_ends_lambda_retries(self):
        # 60 s of Lambda time is one lambda_retry_delay here: the second retry would start later.
        self.route("r-age", "fail-age", "t.age")
        self.put("t.age")
        dead = self.wait_dead("r-age")
        self.assertEqual(dead[0]["EXHAUSTED_RETRY_CONDITION"], "EventAgeExceeded")
        self.assertEqual(len(self.runs("fail-age")), 2)

    def test_chained_flow_handler_publishes_the_next_event_with_old_boto3(self):
        self.c.create_event_bus(Name="next")
        self.route("r-chain", "chain-fn", "t.chain")
        self.route("r-next", "ok-next", "chain", bus="next")
        event_id = self.put("t.chain")
        nxt = self.wait_runs("ok-next", 1)
        self.assertTrue(nxt, self.daemon.logs()[-3000:])
        self.assertEqual(nxt[0]["event"]["detail"], {"from": event_id})
        self.assertEqual(nxt[0]["event"]["source"], "chain")
        # "@python-runner" after an interpreter is the runner too.
        self.assertEqual(self.runs("chain-fn")[0]["env"]["_HANDLER"], "handlers.publish")
        # Debian's boto3 predates AWS_ENDPOINT_URL; the runner pointed it at the daemon.
        self.assertLess(tuple(int(x) for x in self.runs("chain-fn")[0]["botocore"].split(".")[:2]),
                        (1, 31))


class TestFunctionsEndpoint(LocalLambdaBase):
    def call(self, method, name="", body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        status, _, data = self.daemon.request(
            method, "/_localbridge/functions" + ("/" + name if name else ""),
            None if body is None else (body if isinstance(body, str) else json.dumps(body)),
            headers)
        return status, json.loads(data) if data else None

    def test_register_run_list_replace_and_delete(self):
        spec = {"command": ["@python-runner", "--code-dir", HANDLERS, "handlers.ok"],
                "timeout": 30, "environment": {"GREETING": "hello there"},
                "maximum_retry_attempts": 1, "maximum_event_age_seconds": 3600}
        status, out = self.call("PUT", "reg-fn", spec)
        self.assertEqual(status, 200, out)
        self.assertEqual(out["name"], "reg-fn")
        self.assertEqual(out["command"], spec["command"])
        status, out = self.call("GET")
        self.assertEqual([f["name"] for f in out["Functions"]], ["reg-fn"])
        self.route("r-reg", "reg-fn", "t.reg")
        self.put("t.reg")
        run = self.wait_runs("reg-fn", 1)[0]
        self.assertEqual(run["env"]["GREETING"], "hello there")
        self.assertEqual(run["env"]["_HANDLER"], "handlers.ok")
        self.assertTrue(20000 < run["context"]["remaining_ms"] <= 30000)
        # A registered function wins over the config's ok-* glob for its exact name.
        spec2 = dict(spec, command=["@python-runner", "--code-dir", HANDLERS, "handlers.special"])
        self.assertEqual(self.call("PUT", "ok-special", spec2)[0], 200)
        self.route("r-special", "ok-special", "t.special")
        self.put("t.special")
        self.assertTrue(self.wait_runs("ok-special", 1)[0].get("special"))
        status, out = self.call("DELETE", "ok-special")
        self.assertEqual((status, out), (200, {}))
        status, out = self.call("DELETE", "ok-special")
        self.assertEqual(status, 404)
        self.assertEqual(out["__type"], "NotFoundException")
        self.assertEqual(out["message"],
                         "Function not found: arn:aws:lambda:us-east-1:000000000000:function:"
                         "ok-special")
        # Gone from the registry, the glob runs it again.
        self.put("t.special")
        runs = self.wait_runs("ok-special", 2)
        self.assertFalse(runs[1].get("special"))

    def test_runner_by_its_path_as_deploy_writes_it(self):
        runner = os.path.join(os.path.dirname(os.path.abspath(BINARY)),
                              "localbridge-lambda-python")
        spec = {"command": [runner, "--code-dir", HANDLERS, "handlers.ok"]}
        self.assertEqual(self.call("PUT", "path-fn", spec)[0], 200)
        self.route("r-path", "path-fn", "t.path")
        self.put("t.path")
        run = self.wait_runs("path-fn", 1)[0]
        self.assertEqual(run["env"]["_HANDLER"], "handlers.ok")
        self.assertEqual(run["env"]["LAMBDA_TASK_ROOT"], HANDLERS)

    def test_bad_definitions_are_validation_errors(self):
        for name, body, fragment in [
                ("f1", {"command": []}, "command must be a non-empty array"),
                ("f1", {"command": "python3 x"}, "command must be a non-empty array"),
                ("f1", {"command": ["x"], "timeout": 0}, "timeout must be a whole number"),
                ("f1", {"command": ["x"], "maximum_retry_attempts": 3},
                 "maximum_retry_attempts must be a whole number from 0 to 2"),
                ("f1", {"command": ["x"], "maximum_event_age_seconds": 59},
                 "maximum_event_age_seconds"),
                ("f1", {"command": ["x"], "environment": {"A": 1}}, "environment"),
                ("f1", {"command": ["x"], "on_failure_arn": "queue"}, "on_failure_arn"),
                ("bad.name", {"command": ["x"]}, "[a-zA-Z0-9-_]{1,64}"),
                ("f1", [1], "must be a JSON object")]:
            status, out = self.call("PUT", name, body)
            self.assertEqual(status, 400, (name, body, out))
            self.assertEqual(out["__type"], "ValidationException")
            self.assertIn(fragment, out["message"])
        status, out = self.call("PUT", "f1", "{not json")
        self.assertEqual((status, out["__type"]), (400, "SerializationException"))
        self.assertEqual(self.call("GET")[1]["Functions"],
                         [f for f in self.call("GET")[1]["Functions"] if f["name"] != "f1"])


class TestPersistence(unittest.TestCase):
    """A pending Lambda retry and a registered function survive kill -9."""

    def test_pending_lambda_retry_resumes_after_kill9(self):
        out = tempfile.mkdtemp(prefix="lb-lambda-out-")
        d = Daemon(env={"LB_LAMBDA_OUT": out})
        conf = os.path.join(d.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("lambda_retry_delay = 3s\n")
        d.args = ["--config", conf]
        try:
            d.start()
            c = d.client()
            spec = {"command": ["@python-runner", "--code-dir", HANDLERS, "handlers.fail_once"]}
            status, _, body = d.request("PUT", "/_localbridge/functions/once-kill",
                                        json.dumps(spec), {"Content-Type": "application/json"})
            self.assertEqual(status, 200, body)
            c.put_rule(Name="r", EventPattern=json.dumps({"source": ["k"]}))
            c.put_targets(Rule="r", Targets=[{"Id": "f", "Arn": ARN + "once-kill"}])
            c.put_events(Entries=[{"Source": "k", "DetailType": "x", "Detail": "{}"}])
            path = os.path.join(out, "once-kill.jsonl")
            self.assertTrue(wait_until(lambda: os.path.exists(path), 15))
            # The failure's outcome (Lambda's retry in 3 s) is recorded, then the daemon dies.
            self.assertTrue(wait_until(lambda: "its own retry policy" in d.logs(), 10))
            time.sleep(0.3)
            d.kill9()
            d.start()
            runs = wait_until(lambda: len(open(path).readlines()) >= 2 and
                              [json.loads(l) for l in open(path)], 20)
            self.assertTrue(runs, d.logs()[-3000:])
            self.assertEqual([r["first"] for r in runs], [True, False])
            self.assertEqual(runs[0]["context"]["aws_request_id"],
                             runs[1]["context"]["aws_request_id"])
            self.assertGreaterEqual(runs[1]["t"] - runs[0]["t"], 2.5)
            status, _, body = d.request("GET", "/_localbridge/functions")
            self.assertEqual([f["name"] for f in json.loads(body)["Functions"]], ["once-kill"])
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()


class _InvokeApi:
    """A stand-in for `sam local start-lambda` (sam=True: Event invokes answer SAM's 501) or for
    Lambda's Invoke API. Functions named *fail* answer 200 with X-Amz-Function-Error."""

    def __init__(self, sam):
        import http.server
        import threading
        calls = self.calls = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
                calls.append((self.path, kind, body))
                if kind == "Event" and sam:
                    out = json.dumps({"Type": "LocalService", "Message": "invocation-type: Event "
                                      "is not supported. RequestResponse is only supported."})
                    self.reply(501, out, {"x-amzn-errortype": "NotImplemented"})
                elif "fail" in self.path:
                    out = json.dumps({"errorMessage": "sam boom", "errorType": "KeyError",
                                      "stackTrace": []})
                    self.reply(200, out, {"X-Amz-Function-Error": "Unhandled"})
                elif kind == "Event":
                    self.reply(202, "", {})
                else:
                    self.reply(200, '"done"', {})

            def reply(self, status, body, headers):
                data = body.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class TestLambdaEndpoint(unittest.TestCase):
    def start(self, sam, extra=""):
        api = _InvokeApi(sam)
        self.addCleanup(api.close)
        d = Daemon()
        self.addCleanup(d.cleanup)
        conf = os.path.join(d.data_dir, "lb.conf")
        with open(conf, "w") as f:
            f.write("lambda_endpoint = %s\nlambda_retry_delay = %dms\n%s"
                    % (api.url, RETRY_DELAY_MS, extra))
        d.args = ["--config", conf]
        d.start()
        return api, d, d.client()

    def test_sam_501_falls_back_to_request_response_once(self):
        api, d, c = self.start(sam=True)
        c.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
        c.put_targets(Rule="r", Targets=[{"Id": "f", "Arn": ARN + "sam-ok"}])
        c.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}])
        self.assertTrue(wait_until(lambda: [x for x in api.calls if x[1] == "RequestResponse"]))
        # The Event invoke, answered 501, sent again at once as RequestResponse...
        self.assertEqual([x[1] for x in api.calls], ["Event", "RequestResponse"])
        # ... and every invoke since is RequestResponse, even several at once.
        c.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}] * 3)
        self.assertTrue(wait_until(lambda: len(api.calls) >= 5))
        time.sleep(0.2)
        self.assertEqual([x[1] for x in api.calls][2:], ["RequestResponse"] * 3)
        time.sleep(0.3)
        status, _, body = d.request("GET", "/_localbridge/dead-letters")
        self.assertEqual(json.loads(body)["DeadLetters"], [])
        self.assertEqual(d.logs().count("does not take Event invokes"), 1)
        self.assertEqual(d.stop(), 0)

    def test_function_error_header_gets_lambdas_retries(self):
        api, d, c = self.start(sam=True, extra="lambda_function = sam-fail retries=1\n")
        c.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
        c.put_targets(Rule="r", Targets=[{"Id": "f", "Arn": ARN + "sam-fail"}])
        c.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}])
        dead = wait_until(lambda: json.loads(d.request("GET", "/_localbridge/dead-letters")[2])
                          ["DeadLetters"])
        self.assertTrue(dead)
        self.assertEqual(dead[0]["ERROR_CODE"], "LAMBDA_FUNCTION_ERROR")
        self.assertEqual(dead[0]["EXHAUSTED_RETRY_CONDITION"], "RetriesExhausted")
        self.assertEqual(json.loads(dead[0]["ERROR_MESSAGE"])["errorMessage"], "sam boom")
        # The 501'd Event invoke, then the run and Lambda's one retry.
        self.assertEqual([x[1] for x in api.calls], ["Event", "RequestResponse", "RequestResponse"])
        self.assertEqual(d.stop(), 0)

    def test_lambda_invoke_api_takes_event_invokes(self):
        api, d, c = self.start(sam=False)
        c.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
        c.put_targets(Rule="r", Targets=[{"Id": "f", "Arn": ARN + "real-ok"}])
        c.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}])
        self.assertTrue(wait_until(lambda: api.calls))
        self.assertEqual(api.calls[0][1], "Event")
        self.assertEqual(api.calls[0][0], "/2015-03-31/functions/real-ok/invocations")
        self.assertEqual(d.stop(), 0)

    def test_request_response_when_configured(self):
        api, d, c = self.start(sam=False, extra="lambda_invocation_type = RequestResponse\n")
        c.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
        c.put_targets(Rule="r", Targets=[{"Id": "f", "Arn": ARN + "real-ok"}])
        c.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}])
        self.assertTrue(wait_until(lambda: api.calls))
        self.assertEqual(api.calls[0][1], "RequestResponse")
        self.assertEqual(d.stop(), 0)


class TestOnFailureDestinations(unittest.TestCase):
    """The on-failure record goes to any ARN an adapter takes (here a queue ARN mapped to an HTTP
    sink with target_map); reserved concurrency 0 sends events there without running them."""

    def test_record_to_a_mapped_queue_and_zero_reserved_concurrency(self):
        sink = _InvokeApi(sam=False)
        self.addCleanup(sink.close)
        out = tempfile.mkdtemp(prefix="lb-lambda-out-")
        self.addCleanup(shutil.rmtree, out, True)
        d = Daemon(env={"LB_LAMBDA_OUT": out})
        self.addCleanup(d.cleanup)
        conf = os.path.join(d.data_dir, "lb.conf")
        queue = "arn:aws:sqs:us-east-1:000000000000:fn-failures"
        rule_dlq = "arn:aws:sqs:us-east-1:000000000000:rule-dlq"
        with open(conf, "w") as f:
            f.write("lambda_retry_delay = 200ms\n"
                    "target_map = %s -> %s/failures\n" % (queue, sink.url) +
                    "target_map = %s -> %s/rule-dlq\n" % (rule_dlq, sink.url) +
                    "lambda_handler = * -> @python-runner --code-dir %s handlers.fail\n" % HANDLERS +
                    "lambda_function = q-fn retries=0 on_failure=%s\n" % queue +
                    "lambda_function = zero-fn concurrency=0 on_failure=%s\n" % queue)
        d.args = ["--config", conf]
        d.start()
        c = d.client()
        c.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
        c.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": ARN + "q-fn",
                                          "DeadLetterConfig": {"Arn": rule_dlq}},
                                         {"Id": "z", "Arn": ARN + "zero-fn"}])
        event_id = c.put_events(Entries=[{"Source": "s", "DetailType": "x",
                                          "Detail": "{}"}])["Entries"][0]["EventId"]
        self.assertTrue(wait_until(lambda: len(sink.calls) >= 2), d.logs()[-3000:])
        records = {}
        for path, _, body in sink.calls:
            self.assertEqual(path, "/failures")
            rec = json.loads(body)
            records[rec["requestContext"]["functionArn"]] = rec
        q = records[ARN + "q-fn:$LATEST"]
        self.assertEqual(q["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(q["requestContext"]["approximateInvokeCount"], 1)
        self.assertEqual(q["requestPayload"]["id"], event_id)
        self.assertEqual(q["responsePayload"]["errorMessage"], "boom " + event_id)
        z = records[ARN + "zero-fn:$LATEST"]
        self.assertEqual(z["requestContext"]["condition"], "ZeroReservedConcurrency")
        self.assertEqual(z["requestContext"]["approximateInvokeCount"], 0)
        self.assertEqual(z["requestPayload"]["id"], event_id)
        # zero-fn never ran; both are dead letters.
        self.assertFalse(os.path.exists(os.path.join(out, "zero-fn.jsonl")))
        dead = json.loads(d.request("GET", "/_localbridge/dead-letters")[2])["DeadLetters"]
        self.assertEqual(sorted(x["EXHAUSTED_RETRY_CONDITION"] for x in dead),
                         ["RetriesExhausted", "ZeroReservedConcurrency"])
        # EventBridge's delivery to the function succeeded (it is asynchronous): the rule's
        # dead-letter queue never sees a function error, and EventBridge counts no failure.
        time.sleep(0.5)
        self.assertNotIn("/rule-dlq", [path for path, _, _ in sink.calls])
        m = d.request("GET", "/metrics")[2].decode()
        self.assertNotRegex(m, r'localbridge_failed_invocations_total\{[^}]*rule_name="r"[^}]*\} [1-9]')
        self.assertNotRegex(m, r'localbridge_dead_letter_invocations_total\{[^}]*rule_name="r"[^}]*\} [1-9]')
        self.assertEqual(d.stop(), 0)

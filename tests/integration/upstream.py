#!/usr/bin/env python3
"""A stand-in for Amazon EventBridge, run as its own process, for forwarding tests.

PutEvents (POST / with X-Amz-Target: AWSEvents.PutEvents) is answered as AWS answers it, after
its SigV4 signature is checked by an independent implementation: botocore's own signer signs the
received request again (same headers, body and X-Amz-Date) and the Authorization headers must
match. A request that is not signed, signed with an unknown key or signed wrongly is refused with
AWS's error and counted in bad_signatures.

Faults to inject (POST /_control with a JSON object; each applies to the next N requests):
  {"throttle": N}          whole request: 400 ThrottlingException
  {"status": [CODE, N]}    whole request: HTTP CODE with an InternalException body
  {"error": [TYPE, N]}     whole request: 400 TYPE (AccessDeniedException, ...)
  {"reset": N}             connection closed without an answer
  {"hang": N}              no answer for 60 s
  {"entry_errors": [{"source": S, "code": C, "times": K}]}
                           entries whose Source is S fail with ErrorCode C, K times (-1: always)
  {"slow_ms": MS}          every answer waits MS milliseconds
GET /_entries lists accepted entries (with the time they arrived); GET /_stats the counters;
DELETE /_entries clears entries and faults.

Credential endpoints for the credential chain tests (the keys they hand out are known here):
  GET /ecs-creds           ECS container credentials; needs Authorization: the token in KEYS
  PUT /latest/api/token, GET /latest/meta-data/iam/security-credentials/[ROLE]   IMDSv2

Usage: upstream.py PORTFILE KEYS.json [PORT] [--no-verify]
KEYS.json: {"keys": {"AKID": "secret", ...}, "ecs_token": "...", "ecs_key": "AKID",
            "imds_key": "AKID"}"""
import datetime
import json
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import botocore.auth
from botoclock import signing_time
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

lock = threading.Lock()
entries = []
faults = {}
stats = {"requests": 0, "bad_signatures": 0, "accepted": 0, "entry_failures": 0,
         "max_batch": 0, "requests_by_kind": {}}
CONFIG = {}
VERIFY = True
IMDS_TOKEN = "imds-session-" + uuid.uuid4().hex


def take(name):
    """One use of fault `name`; returns its value or None."""
    with lock:
        f = faults.get(name)
        if not f:
            return None
        value, left = f
        if left != -1:
            left -= 1
            if left <= 0:
                del faults[name]
            else:
                faults[name] = (value, left)
        return value



def check_signature(method, path, headers, body):
    """None if botocore, signing the same request with the key's secret, writes the same
    Authorization header; otherwise (type, message) of AWS's refusal."""
    auth = headers.get("Authorization")
    if not auth:
        return ("MissingAuthenticationTokenException", "Missing Authentication Token")
    try:
        parts = dict(p.strip().split("=", 1) for p in auth.split(" ", 1)[1].split(","))
        akid, date, region, service, _ = parts["Credential"].split("/")
        signed = parts["SignedHeaders"].split(";")
    except (ValueError, KeyError, IndexError):
        return ("IncompleteSignatureException", "Authorization header is malformed.")
    secret = CONFIG["keys"].get(akid)
    if secret is None:
        return ("UnrecognizedClientException",
                "The security token included in the request is invalid.")
    lower = {k.lower(): v for k, v in headers.items()}
    amz_date = lower.get("x-amz-date", "")
    request = AWSRequest(method=method, url="http://%s%s" % (lower["host"], path), data=body)
    for name in signed:
        if name in ("x-amz-date", "x-amz-security-token"):
            continue  # add_auth sets these itself
        request.headers[name] = lower.get(name, "")
    creds = Credentials(akid, secret, lower.get("x-amz-security-token"))
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    with signing_time(when):
        botocore.auth.SigV4Auth(creds, service, region).add_auth(request)
    if request.headers["Authorization"] != auth:
        return ("InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.")
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body, ctype="application/x-amz-json-1.1"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        if self.path.startswith("/_entries"):
            with lock:
                return self.answer(200, entries, "application/json")
        if self.path.startswith("/_stats"):
            with lock:
                return self.answer(200, stats, "application/json")
        if self.path.startswith("/ecs-creds"):
            if self.headers.get("Authorization") != CONFIG.get("ecs_token"):
                return self.answer(403, {"message": "bad token"}, "application/json")
            return self.creds(CONFIG["ecs_key"], token_key="Token")
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.answer(401, b"", "text/plain")
            role = self.path[len("/latest/meta-data/iam/security-credentials/"):]
            if not role:
                return self.answer(200, b"forwarder-role", "text/plain")
            return self.creds(CONFIG["imds_key"], token_key="Token", code=True)
        return self.answer(404, {"message": "no such path"}, "application/json")

    def creds(self, akid, token_key, code=False):
        expires = (datetime.datetime.now(datetime.timezone.utc) +
                   datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = {"AccessKeyId": akid, "SecretAccessKey": CONFIG["keys"][akid],
               token_key: "session-" + akid, "Expiration": expires}
        if code:
            doc.update({"Code": "Success", "Type": "AWS-HMAC"})
        with lock:
            kinds = stats["requests_by_kind"]
            kinds[self.path.split("?")[0]] = kinds.get(self.path.split("?")[0], 0) + 1
        return self.answer(200, doc, "application/json")

    def do_PUT(self):
        self.body()
        if self.path == "/latest/api/token":
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.answer(400, b"", "text/plain")
            return self.answer(200, IMDS_TOKEN.encode(), "text/plain")
        return self.answer(404, {"message": "no such path"}, "application/json")

    def do_DELETE(self):
        if self.path.startswith("/_entries"):
            with lock:
                entries.clear()
                faults.clear()
                for k in list(stats):
                    stats[k] = {} if k == "requests_by_kind" else 0
            return self.answer(200, {}, "application/json")
        return self.answer(404, {}, "application/json")

    def do_POST(self):
        body = self.body()
        if self.path == "/_control":
            with lock:
                for k, v in json.loads(body).items():
                    if k == "entry_errors":
                        faults[k] = ([dict(e) for e in v], -1)
                    elif k == "slow_ms":
                        faults[k] = (v, -1)
                    elif isinstance(v, list):
                        faults[k] = (v[0], v[1])
                    else:
                        faults[k] = (True, v)
            return self.answer(200, {}, "application/json")
        with lock:
            stats["requests"] += 1
        if VERIFY:
            refused = check_signature("POST", self.path, dict(self.headers.items()), body)
            if refused:
                with lock:
                    stats["bad_signatures"] += 1
                return self.answer(400, {"__type": refused[0], "message": refused[1]})
        if self.headers.get("X-Amz-Target") != "AWSEvents.PutEvents":
            return self.answer(400, {"__type": "UnknownOperationException"})
        slow = faults.get("slow_ms")
        if slow:
            time.sleep(slow[0] / 1000.0)
        if take("reset"):
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
            return
        if take("hang"):
            time.sleep(60)
            return
        if take("throttle"):
            return self.answer(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        status = take("status")
        if status:
            return self.answer(status, {"__type": "InternalException",
                                        "message": "Internal service error"})
        error = take("error")
        if error:
            return self.answer(400, {"__type": error, "message": "Refused by the stand-in."})
        return self.put_events(json.loads(body))

    def put_events(self, req):
        results, failed, now = [], 0, time.time()
        batch = req.get("Entries", [])
        with lock:
            stats["max_batch"] = max(stats["max_batch"], len(batch))
            rules = faults.get("entry_errors", ([], -1))[0]
            for e in batch:
                code = None
                for rule in rules:
                    if rule["source"] == e.get("Source") and rule["times"] != 0:
                        code = rule["code"]
                        if rule["times"] > 0:
                            rule["times"] -= 1
                        break
                if code:
                    failed += 1
                    stats["entry_failures"] += 1
                    results.append({"ErrorCode": code, "ErrorMessage": "Entry refused: " + code})
                    continue
                event_id = str(uuid.uuid4())
                entries.append({"entry": e, "received": now, "event_id": event_id,
                                "auth_key": self.headers.get("Authorization", "").split(
                                    "Credential=")[1].split("/")[0] if VERIFY else None})
                stats["accepted"] += 1
                results.append({"EventId": event_id})
        return self.answer(200, {"FailedEntryCount": failed, "Entries": results})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    global CONFIG, VERIFY
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    VERIFY = "--no-verify" not in sys.argv
    portfile, keys = args[0], args[1]
    port = int(args[2]) if len(args) > 2 else 0
    with open(keys) as f:
        CONFIG = json.load(f)
    server = Server(("127.0.0.1", port), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""auth = sigv4: every API request must be signed with a key of credentials_file, checked by the
daemon's one SigV4 implementation; boto3 and the AWS CLI sign as they do against AWS. Each refusal
is the error AWS's JSON services answer: MissingAuthenticationTokenException,
UnrecognizedClientException, InvalidSignatureException (signature mismatch, "Signature expired",
scope errors), IncompleteSignatureException. /_localbridge/* and /metrics take a signature or the
admin bearer token; /health stays open. A key of another account is a caller of that account."""
import datetime
import json
import os
import re
import subprocess
import tempfile
import unittest
from unittest import mock

import boto3
import botocore
import botocore.auth
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from botoclock import signing_time
from lbharness import AWS_CLI, Daemon

KEY, SECRET, ACCOUNT = "AKIDLOCALOWNER", "owner/secret+key", "000000000000"
OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT = "AKIDOTHERACCOUNT", "other-secret", "111111111111"
TOKEN = "admin-token-123"

SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult the "
                      "service documentation for details.")


def signed(daemon, method, path, body=b"", headers=None, key=KEY, secret=SECRET,
           region="us-east-1", service="events", when=None, query=None, expires=None):
    """Signs with botocore's own signer (optionally at another time, or presigned) and sends the
    request as is; returns (status, parsed body or raw bytes)."""
    url = daemon.url + path
    request = AWSRequest(method=method, url=url, data=body, params=query or {})
    for k, v in (headers or {}).items():
        request.headers[k] = v
    creds = Credentials(key, secret)
    signer = (botocore.auth.SigV4QueryAuth(creds, service, region, expires=expires)
              if expires is not None else botocore.auth.SigV4Auth(creds, service, region))
    now = when or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    with signing_time(now):
        signer.add_auth(request)
    prepared = request.prepare()
    target = prepared.url[len(daemon.url):]
    status, _, data = daemon.request(method, target, body=prepared.body,
                                     headers=dict(prepared.headers))
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data


def api_headers(operation):
    return {"X-Amz-Target": "AWSEvents." + operation,
            "Content-Type": "application/x-amz-json-1.1"}


class SigV4Callers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="lb-sigv4-")
        cls.keys = os.path.join(cls.dir, "callers")
        with open(cls.keys, "w") as f:
            f.write("# the daemon's own account\n%s %s %s\n\n%s %s %s\n"
                    % (KEY, SECRET, ACCOUNT, OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT))
        cls.daemon = Daemon(args=["--auth", "sigv4", "--credentials-file", cls.keys,
                                  "--admin-token", TOKEN]).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        cls.daemon.cleanup()
        assert rc == 0

    def client(self, key=KEY, secret=SECRET, region="us-east-1", **config):
        return boto3.client("events", endpoint_url=self.daemon.url, region_name=region,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=Config(retries={"max_attempts": 1}, **config))

    def assertError(self, ctx, code, message=None, status=400):
        err = ctx.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        if message is not None:
            if hasattr(message, "match"):
                self.assertRegex(err["Message"], message)
            else:
                self.assertEqual(err["Message"], message)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)

    def test_signed_boto3_works_and_scope_region_is_the_region(self):
        c = self.client()
        self.assertTrue(any(b["Name"] == "default" for b in c.list_event_buses()["EventBuses"]))
        eu = self.client(region="eu-west-1")
        arn = eu.create_event_bus(Name="signed-eu")["EventBusArn"]
        self.assertEqual(arn, "arn:aws:events:eu-west-1:000000000000:event-bus/signed-eu")
        out = c.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": "{}"}])
        self.assertEqual(out["FailedEntryCount"], 0)

    def test_unsigned_is_missing_authentication_token(self):
        c = self.client(signature_version=UNSIGNED)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            c.list_rules()
        self.assertError(ctx, "MissingAuthenticationTokenException", "Missing Authentication Token")
        status, body, _ = self.daemon.api("ListRules", {})
        self.assertEqual(status, 400)
        self.assertEqual(body, {"__type": "MissingAuthenticationTokenException",
                                "message": "Missing Authentication Token"})

    def test_unknown_key_is_unrecognized_client(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client(key="AKIDNOBODY").list_rules()
        self.assertError(ctx, "UnrecognizedClientException",
                         "The security token included in the request is invalid.")

    def test_wrong_secret_is_invalid_signature(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client(secret="not-the-secret").list_rules()
        self.assertError(ctx, "InvalidSignatureException", SIGNATURE_MISMATCH)

    def test_tampered_body_is_invalid_signature(self):
        body = json.dumps({"Name": "x"}).encode()
        request = AWSRequest(method="POST", url=self.daemon.url + "/", data=body,
                             headers=api_headers("DescribeEventBus"))
        botocore.auth.SigV4Auth(Credentials(KEY, SECRET), "events", "us-east-1").add_auth(request)
        headers = dict(request.prepare().headers)
        status, _, data = self.daemon.request("POST", "/", body=b'{"Name":"default"}',
                                              headers=headers)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["__type"], "InvalidSignatureException")

    def test_clock_skew_over_five_minutes_is_signature_expired(self):
        past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
            datetime.timedelta(minutes=6)
        status, body = signed(self.daemon, "POST", "/", b"{}", api_headers("ListRules"), when=past)
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        stamp = past.strftime("%Y%m%dT%H%M%SZ")
        self.assertRegex(body["message"], r"^Signature expired: %s is now earlier than "
                                          r"\d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$" % stamp)
        future = past + datetime.timedelta(minutes=13)
        status, body = signed(self.daemon, "POST", "/", b"{}", api_headers("ListRules"),
                              when=future)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertRegex(body["message"], r"^Signature not yet current: %s is still later than "
                                          r"\d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$"
                         % future.strftime("%Y%m%dT%H%M%SZ"))
        # Within five minutes is fine.
        near = past + datetime.timedelta(minutes=2)
        status, body = signed(self.daemon, "POST", "/", b"{}", api_headers("ListRules"), when=near)
        self.assertEqual(status, 200, body)

    def test_scope_and_incomplete_headers(self):
        status, body = signed(self.daemon, "POST", "/", b"{}", api_headers("ListRules"),
                              service="sqs")
        self.assertEqual(body, {"__type": "InvalidSignatureException",
                                "message": "Credential should be scoped to correct service: "
                                           "'events'. "})
        status, _, data = self.daemon.request(
            "POST", "/", b"{}", dict(api_headers("ListRules"), Authorization="AWS4-HMAC-SHA256 "
                                     "Credential=%s/20240101/us-east-1/events/aws4_request" % KEY))
        body = json.loads(data)
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "IncompleteSignatureException")
        self.assertEqual(body["message"],
                         "Authorization header requires 'Signature' parameter. Authorization "
                         "header requires 'SignedHeaders' parameter. Authorization header requires"
                         " existence of either a 'X-Amz-Date' or a 'Date' header. "
                         "Authorization=AWS4-HMAC-SHA256 Credential=%s/20240101/us-east-1/events/"
                         "aws4_request" % KEY)

    def test_presigned_query_and_its_expiry(self):
        status, body = signed(self.daemon, "GET", "/_localbridge/events",
                              query={"bus": "default", "limit": "5"}, expires=60)
        self.assertEqual(status, 200, body)
        self.assertIn("Events", body)
        old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
            datetime.timedelta(seconds=120)
        status, body = signed(self.daemon, "GET", "/_localbridge/events", query={"bus": "default"},
                              expires=60, when=old)
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertRegex(body["message"], r"^Signature expired: .* \(\d{8}T\d{6}Z - 60 sec\.\)$")

    def test_admin_and_metrics_need_signature_or_bearer_token(self):
        for path in ("/metrics", "/_localbridge/events?bus=default",
                     "/_localbridge/dead-letters"):
            status, _, data = self.daemon.request("GET", path)
            self.assertEqual(status, 400, path)
            self.assertEqual(json.loads(data)["__type"], "MissingAuthenticationTokenException")
            status, _, _ = self.daemon.request("GET", path,
                                               headers={"Authorization": "Bearer " + TOKEN})
            self.assertEqual(status, 200, path)
            status, _, data = self.daemon.request("GET", path,
                                                  headers={"Authorization": "Bearer nope"})
            self.assertEqual(status, 400, path)
        status, body = signed(self.daemon, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"localbridge_", body)
        status, _, _ = self.daemon.request("GET", "/health")
        self.assertEqual(status, 200)
        # The bearer token opens admin endpoints only, never the API.
        status, body, _ = self.daemon.api("ListRules", {}, {"Authorization": "Bearer " + TOKEN})
        self.assertEqual(body["__type"], "IncompleteSignatureException")

    def test_other_accounts_key_may_not_manage_this_accounts_resources(self):
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client(key=OTHER_KEY, secret=OTHER_SECRET).list_rules()
        self.assertError(ctx, "AccessDeniedException",
                         "User: arn:aws:iam::111111111111:root is not authorized to perform: "
                         "events:ListRules on resource: arn:aws:events:us-east-1:000000000000:* "
                         "because no resource-based policy allows the events:ListRules action")

    def test_other_account_puts_events_only_where_the_bus_policy_allows(self):
        other = self.client(key=OTHER_KEY, secret=OTHER_SECRET)
        bus_arn = "arn:aws:events:us-east-1:000000000000:event-bus/default"
        out = other.put_events(Entries=[{"Source": "x", "DetailType": "t", "Detail": "{}",
                                         "EventBusName": bus_arn}])
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["Entries"][0]["ErrorCode"], "AccessDeniedException")
        self.assertEqual(out["Entries"][0]["ErrorMessage"],
                         "User: arn:aws:iam::111111111111:root is not authorized to perform: "
                         "events:PutEvents on resource: %s because no resource-based policy "
                         "allows the events:PutEvents action" % bus_arn)
        # A plain name is the caller's own account's bus, which this daemon does not hold.
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            other.put_events(Entries=[{"Source": "x", "DetailType": "t", "Detail": "{}"}])
        self.assertError(ctx, "ResourceNotFoundException", "Event bus default does not exist.")
        # The owner's own key puts events anywhere on its buses.
        out = self.client().put_events(Entries=[{"Source": "x", "DetailType": "t", "Detail": "{}",
                                                 "EventBusName": bus_arn}])
        self.assertEqual(out["FailedEntryCount"], 0)
        # Test patterns are open to any caller.
        self.assertTrue(other.test_event_pattern(
            EventPattern='{"source":["x"]}',
            Event=json.dumps({"id": "1", "source": "x", "detail-type": "t", "account": "1",
                              "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
                              "resources": [], "detail": {}}))["Result"])

    def aws(self, *args, key=KEY, secret=SECRET):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")
        env.pop("AWS_SESSION_TOKEN", None)
        p = subprocess.run([AWS_CLI, "events"] + list(args) + ["--endpoint-url", self.daemon.url,
                                                               "--output", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                           timeout=60)
        return p.returncode, p.stdout, p.stderr

    @unittest.skipIf(AWS_CLI is None, "no AWS CLI")
    def test_aws_cli_signed_unsigned_and_wrong_secret(self):
        rc, out, err = self.aws("list-event-buses")
        self.assertEqual(rc, 0, err)
        self.assertIn("default", out)
        rc, out, err = self.aws("list-event-buses", "--no-sign-request")
        self.assertNotEqual(rc, 0)
        self.assertIn("MissingAuthenticationTokenException", err)
        rc, out, err = self.aws("list-event-buses", secret="wrong")
        self.assertNotEqual(rc, 0)
        self.assertIn("InvalidSignatureException", err)
        self.assertIn("The request signature we calculated does not match", err)
        rc, out, err = self.aws("list-event-buses", key="AKIDUNKNOWN")
        self.assertNotEqual(rc, 0)
        self.assertIn("UnrecognizedClientException", err)


class SigV4Configuration(unittest.TestCase):
    def test_sigv4_without_credentials_file_refuses_to_start(self):
        d = Daemon(args=["--auth", "sigv4"])
        with self.assertRaises(RuntimeError):
            d.start(timeout=5)
        d.stop()
        self.assertIn("auth = sigv4 needs credentials_file", d.logs())
        d.cleanup()

    def test_bad_credentials_file_names_the_line_and_never_the_secret(self):
        d = Daemon()
        path = os.path.join(d.data_dir, "keys")
        with open(path, "w") as f:
            f.write("AKID1 topsecretvalue 000000000000\nAKID2 othersecretvalue 12345\n")
        d.args = ["--auth", "sigv4", "--credentials-file", path]
        with self.assertRaises(RuntimeError):
            d.start(timeout=5)
        d.stop()
        logs = d.logs()
        self.assertIn("%s:2: the account id of key AKID2 must be exactly 12 digits" % path, logs)
        self.assertNotIn("secretvalue", logs)
        d.cleanup()


if __name__ == "__main__":
    unittest.main()

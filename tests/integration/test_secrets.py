"""Connection secrets (API keys, passwords, OAuth client secrets) are encrypted at rest with
AES-256-GCM under a key file kept beside the config (created 0600 when missing): the database
file and its WAL never hold them in plain, deliveries still use them, and a database written by
an older build (secrets in plain) is encrypted in place at start-up."""
import json
import os
import sqlite3
import stat
import tempfile
import time
import unittest

from lbharness import Daemon, Sink

SECRETS = ("apikey-9f3a1c-SECRET", "basic-pass-77e2-SECRET", "oauth-client-41bd-SECRET")


def db_bytes(var):
    out = b""
    for name in ("localbridge.db", "localbridge.db-wal"):
        path = os.path.join(var, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                out += f.read()
    return out


def make_connections(c):
    c.create_connection(Name="key", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": SECRETS[0]}})
    c.create_connection(Name="basic", AuthorizationType="BASIC", AuthParameters={
        "BasicAuthParameters": {"Username": "u", "Password": SECRETS[1]}})
    c.create_connection(Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                        AuthParameters={"OAuthParameters": {
                            "ClientParameters": {"ClientID": "id", "ClientSecret": SECRETS[2]},
                            "AuthorizationEndpoint": "http://127.0.0.1:9/token",
                            "HttpMethod": "POST"}})


class SecretsAtRest(unittest.TestCase):
    def setUp(self):
        self.sink = Sink()
        self.dir = tempfile.mkdtemp(prefix="lb-secrets-")
        self.conf = os.path.join(self.dir, "localbridge.conf")
        with open(self.conf, "w") as f:
            f.write("delivery_timeout = 2s\n")

    def tearDown(self):
        self.sink.close()

    def daemon(self):
        d = Daemon()
        d.args = ["--config", self.conf]
        return d

    def deliver_with_key(self, d, c, tag):
        arn = c.describe_connection(Name="key")["ConnectionArn"]
        dest = c.create_api_destination(
            Name="dest-" + tag, ConnectionArn=arn, InvocationEndpoint=self.sink.url + "/ok/" + tag,
            HttpMethod="POST", InvocationRateLimitPerSecond=10)
        c.put_rule(Name="r-" + tag, EventPattern=json.dumps({"detail-type": [tag]}))
        c.put_targets(Rule="r-" + tag, Targets=[{"Id": "d", "Arn": dest["ApiDestinationArn"]}])
        c.put_events(Entries=[{"Source": "s", "DetailType": tag, "Detail": "{}"}])
        got = self.sink.wait_for("/ok/" + tag, 1)
        self.assertEqual(len(got), 1)
        headers = {k.lower(): v for k, v in got[0]["headers"].items()}
        return headers["x-api-key"]

    def test_secrets_never_in_the_database_in_plain(self):
        d = self.daemon()
        # The key does not exist yet: created 0600 beside the config file.
        d.args = ["--config", self.conf]
        d.start()
        try:
            key = os.path.join(self.dir, "localbridge.key")
            self.assertTrue(os.path.exists(key), d.logs())
            self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
            c = d.client()
            make_connections(c)
            var = os.path.join(d.data_dir, "var")
            data = db_bytes(var)
            self.assertIn(b"lbenc:v1:", data)
            for secret in SECRETS:
                self.assertNotIn(secret.encode(), data, secret)
            self.assertEqual(self.deliver_with_key(d, c, "live"), SECRETS[0])
            self.assertEqual(d.stop(), 0)
            for secret in SECRETS:
                self.assertNotIn(secret.encode(), db_bytes(var), secret)
            # After a restart the sealed rows open with the same key.
            d.start()
            self.assertEqual(self.deliver_with_key(d, d.client(), "restarted"), SECRETS[0])
            for secret in SECRETS:
                self.assertNotIn(secret.encode(), d.logs().encode())
        finally:
            d.cleanup()

    def test_plaintext_rows_of_an_older_build_are_encrypted_at_start(self):
        d = self.daemon().start()
        try:
            c = d.client()
            make_connections(c)
            key_arn = c.describe_connection(Name="key")["ConnectionArn"]
            self.assertEqual(d.stop(), 0)
            var = os.path.join(d.data_dir, "var")
            # What an older LocalBridge stored: the definition in plain.
            db = sqlite3.connect(os.path.join(var, "localbridge.db"))
            arn = "arn:aws:events:us-east-1:000000000000:connection/legacy/1"
            doc = {"Name": "legacy", "ConnectionArn": arn, "AuthorizationType": "API_KEY",
                   "ConnectionState": "AUTHORIZED", "SecretArn": "arn:x", "CreationTime": 1,
                   "LastModifiedTime": 1, "LastAuthorizedTime": 1, "AuthParameters": {
                       "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key",
                                                "ApiKeyValue": "legacy-plain-SECRET"}}}
            db.execute("UPDATE connections SET json = ? WHERE name = 'key'",
                       (json.dumps(dict(doc, Name="key", ConnectionArn=key_arn, AuthParameters={"ApiKeyAuthParameters": {
                           "ApiKeyName": "x-api-key", "ApiKeyValue": "old-plain-SECRET"}})),))
            db.execute("INSERT INTO connections (region, name, json, created_ms, modified_ms) "
                       "VALUES ('us-east-1', 'legacy', ?, 1, 1)", (json.dumps(doc),))
            db.commit()
            db.close()
            self.assertIn(b"old-plain-SECRET", db_bytes(var))
            d.start()
            self.assertIn("connection secrets stored in plain were encrypted", d.logs())
            data = db_bytes(var)
            self.assertNotIn(b"old-plain-SECRET", data)
            self.assertNotIn(b"legacy-plain-SECRET", data)
            c = d.client()
            self.assertEqual(c.describe_connection(Name="legacy")["ConnectionState"], "AUTHORIZED")
            self.assertEqual(self.deliver_with_key(d, c, "migrated"), "old-plain-SECRET")
        finally:
            d.cleanup()

    def test_another_key_cannot_open_them(self):
        d = self.daemon().start()
        try:
            make_connections(d.client())
            self.assertEqual(d.stop(), 0)
            with open(os.path.join(self.dir, "localbridge.key"), "w") as f:
                f.write("00" * 32 + "\n")
            d.start()
            names = [x["Name"] for x in d.client().list_connections()["Connections"]]
            self.assertEqual(names, [])
            self.assertIn("skipped", d.logs())
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()

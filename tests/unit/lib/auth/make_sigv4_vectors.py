#!/usr/bin/env python3
"""Generates sigv4_vectors.json, the SigV4 test vectors test_sigv4.c checks lb_sigv4 against.

Every canonical request, string to sign, signature and Authorization header in the output was
computed by botocore's own signer (botocore.auth.SigV4Auth / SigV4QueryAuth), an implementation
independent of ours, with the clock pinned so the output is stable. Run it again (python3
make_sigv4_vectors.py > sigv4_vectors.json) only to add cases; the committed file is what the
unit test reads, so the test needs no Python.
"""
import datetime
import hashlib
import json
import sys
from unittest import mock
from urllib.parse import urlsplit

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# (name, method, url, [(header, value)...], body, region, service, creds, when, presign_expires)
CASES = [
    ("put_events_json", "POST", "http://127.0.0.1:4010/",
     [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AWSEvents.PutEvents")],
     '{"Entries":[{"Source":"app","DetailType":"t","Detail":"{\\"a\\":1}"}]}',
     "us-east-1", "events", ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None),
     (2024, 1, 2, 3, 4, 5), None),
    ("session_token_https_default_port", "POST", "https://events.eu-west-1.amazonaws.com:443/",
     [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AWSEvents.ListRules")],
     "{}", "eu-west-1", "events",
     ("ASIAEXAMPLE", "secret/with+chars=", "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDA=="),
     (2025, 12, 31, 23, 59, 59), None),
    ("path_dot_segments_and_spaces", "POST", "http://localhost:4010/a/./b/../c%20d/%C3%A9//x/",
     [("Content-Type", "application/json")], "", "ap-southeast-2", "events",
     ("AKID2", "s2", None), (2023, 6, 15, 12, 0, 0), None),
    ("query_sorted_repeated_empty", "GET", "http://127.0.0.1:4010/_localbridge/events?z=1&a=2&a=1&m=&b=x%2Fy&c=~-_.",
     [], "", "us-west-2", "events", ("AKID3", "s3", None), (2024, 2, 29, 0, 0, 0), None),
    ("headers_trimmed_and_repeated", "POST", "http://[::1]:4010/",
     [("X-Amz-Target", "AWSEvents.DescribeEventBus"), ("X-Custom", "  a   b  \t c "),
      ("X-Dup", "one"), ("X-Dup", " two "), ("Content-Type", "application/x-amz-json-1.1")],
     '{"Name":"default"}', "us-east-1", "events", ("AKID4", "s4", None),
     (2024, 7, 1, 1, 2, 3), None),
    ("unicode_body", "POST", "http://127.0.0.1:4010/",
     [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AWSEvents.PutEvents")],
     '{"Entries":[{"Source":"caf\u00e9","DetailType":"\u6f22","Detail":"{}"}]}',
     "us-east-1", "events", ("AKID5", "s5", None), (2024, 3, 3, 3, 3, 3), None),
    ("presigned_get", "GET", "http://127.0.0.1:4010/metrics?format=text",
     [], "", "us-east-1", "events", ("AKID6", "s6", None), (2024, 5, 5, 5, 5, 5), 300),
    ("presigned_with_token", "GET", "http://127.0.0.1:4010/_localbridge/dead-letters?bus=a%20b",
     [], "", "eu-central-1", "events", ("ASIA7", "s7", "tok/en+=="), (2024, 8, 8, 8, 8, 8), 3600),
]


def one(name, method, url, headers, body, region, service, creds, when, expires):
    request = AWSRequest(method=method, url=url, data=body.encode("utf-8"))
    for k, v in headers:
        request.headers[k] = v
    credentials = Credentials(*creds)
    now = datetime.datetime(*when)
    if expires is None:
        signer = botocore.auth.SigV4Auth(credentials, service, region)
    else:
        signer = botocore.auth.SigV4QueryAuth(credentials, service, region, expires=expires)
    # Record what add_auth itself computes (calling these afterwards would see the signature
    # already in the request).
    seen = {}
    real_cr, real_sts, real_sig = signer.canonical_request, signer.string_to_sign, signer.signature

    def rec_cr(req):
        seen["canonical"] = real_cr(req)
        return seen["canonical"]

    def rec_sts(req, cr):
        seen["sts"] = real_sts(req, cr)
        return seen["sts"]

    def rec_sig(sts, req):
        seen["signature"] = real_sig(sts, req)
        return seen["signature"]

    signer.canonical_request, signer.string_to_sign, signer.signature = rec_cr, rec_sts, rec_sig
    with mock.patch("botocore.auth.get_current_datetime", return_value=now):
        signer.add_auth(request)
    canonical, sts, signature = seen["canonical"], seen["sts"], seen["signature"]
    parts = urlsplit(request.url)
    # What the server sees: every header the client sends (host is the HTTP client's to add,
    # and it is the same value botocore signed).
    sent = [[k, v] for k, v in request.headers.items()]
    if not any(k.lower() == "host" for k, _ in sent):
        sent.append(["Host", botocore.auth._host_from_url(request.url)])
    return {
        "name": name,
        "method": method,
        "path": parts.path or "/",
        "query": parts.query,
        "headers": sent,
        "body": body,
        "payload_hash": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        "region": region,
        "service": service,
        "access_key_id": creds[0],
        "secret": creds[1],
        "session_token": creds[2],
        "amz_date": now.strftime("%Y%m%dT%H%M%SZ"),
        "presigned": expires is not None,
        "canonical_request": canonical,
        "string_to_sign": sts,
        "signature": signature,
        "authorization": request.headers.get("Authorization"),
    }


def main():
    out = {"generator": "botocore %s SigV4Auth/SigV4QueryAuth" % botocore.__version__,
           "vectors": [one(*c) for c in CASES]}
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

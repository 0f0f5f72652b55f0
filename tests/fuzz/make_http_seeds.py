#!/usr/bin/env python3
"""Writes the libFuzzer seeds for fuzz_http.c into tests/fuzz/http_seeds/: raw bytes a client
sends on one connection (fuzz_http.c half-closes after them). Valid requests as boto3 and curl
send them, pipelined requests, chunked bodies, requests at and over the limits fuzz_http.c sets
(8 KiB of headers, 64 KiB of body), and garbage.

Usage: make_http_seeds.py [out_dir]"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "http_seeds")


def api(op, body, extra=b""):
    b = json.dumps(body).encode()
    return (b"POST / HTTP/1.1\r\nHost: 127.0.0.1:4010\r\nX-Amz-Target: AWSEvents." + op.encode() +
            b"\r\nContent-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 "
            b"Credential=AKIDTEST/20240101/eu-west-1/events/aws4_request, SignedHeaders=host, "
            b"Signature=00\r\n" + extra + b"Content-Length: " + str(len(b)).encode() +
            b"\r\n\r\n" + b)


def get(path, extra=b""):
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n"


event = {"Source": "shop", "DetailType": "t", "Detail": "{\"n\":1}"}
seeds = {
    "get_health": get(b"/health"),
    "get_query": get(b"/_localbridge/events?limit=5&bus=orders&x=a%20b+c"),
    "get_http10": b"GET /defer?x=1 HTTP/1.0\r\n\r\n",
    "list_buses": api("ListEventBuses", {"Limit": 1}),
    "put_events": api("PutEvents", {"Entries": [event]}),
    "test_pattern": api("TestEventPattern", {
        "EventPattern": "{\"source\":[\"shop\"]}",
        "Event": json.dumps({"id": "1", "source": "shop", "detail-type": "t", "account": "1",
                             "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
                             "resources": [], "detail": {}})}),
    "explain_admin": api("ExplainEventPattern", {"EventPattern": "{\"a\":[1]}", "Event": "{}"})
    .replace(b"POST / ", b"POST /_localbridge/explain "),
    "pipelined": get(b"/a") + api("ListRules", {}) + get(b"/defer/b") + get(b"/c?x=%41"),
    "pipelined_close": get(b"/defer", b"Connection: close\r\n") + get(b"/never"),
    "chunked": (b"POST /defer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n" + get(b"/after")),
    "chunked_api": (b"POST / HTTP/1.1\r\nX-Amz-Target: AWSEvents.ListEventBuses\r\n"
                    b"Content-Type: application/x-amz-json-1.1\r\nTransfer-Encoding: chunked"
                    b"\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n"),
    "chunked_bad": b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
    "cl_and_te": (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"0\r\n\r\n"),
    "body_too_large": b"POST / HTTP/1.1\r\nContent-Length: 70000\r\n\r\n" + b"a" * 100,
    "body_at_limit": b"POST /defer HTTP/1.1\r\nContent-Length: 65536\r\n\r\n" + b"{" * 65536,
    "huge_header": b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n",
    "many_headers": b"GET / HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(120)) +
    b"\r\n",
    "long_url": b"GET /" + b"p" * 8500 + b" HTTP/1.1\r\n\r\n",
    "folded_header": b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n",
    "bad_method": b"BREW /pot HTTP/1.1\r\n\r\n",
    "bad_version": b"GET / HTTP/9.9\r\n\r\n",
    "lf_only": b"GET /x?x=1 HTTP/1.1\nHost: x\n\n",
    "nul_in_header": b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n",
    "partial": b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
    "garbage": bytes(range(256)),
    "tls_hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
    "upgrade": (b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                b"\x81\x05hello"),
    # The daemon aborted in uv_close() on this one: an upgrade request answered with a 400 and
    # a half-close, whose cancelled write closed the connection a second time.
    "regress_conn_close_twice": (b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                                 b"\x81\x05hello"),
    "connect": b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "expect_continue": (b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
                        b"X-Amz-Target: AWSEvents.ListEventBuses\r\n\r\n{}"),
}
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

"""The HTTP and AWS JSON 1.1 framing: errors for bad requests, limits, keep-alive, pipelining."""
import json
import time

from lbharness import DaemonTestCase


def recv_responses(sock, count, timeout=10):
    """Reads count HTTP responses (Content-Length framed) from sock."""
    sock.settimeout(timeout)
    data = b""
    out = []
    while len(out) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        while True:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if not sep:
                break
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            if len(rest) < length:
                break
            out.append((head.split(b"\r\n")[0].decode(), head.decode(), rest[:length]))
            data = rest[length:]
    return out


class HttpFraming(DaemonTestCase):
    daemon_args = ("--max-body-size", "300k", "--max-header-size", "8k",
                   "--request-timeout", "1s")

    def test_health(self):
        status, _, data = self.daemon.request("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)["status"], "ok")

    def test_request_id_on_every_response(self):
        for payload in ({}, "not json"):
            status, body, headers = self.daemon.api("ListEventBuses", payload)
            self.assertIn("x-amzn-RequestId", headers)

    def test_malformed_json(self):
        status, body, _ = self.daemon.api("ListEventBuses", "{not json")
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        status, body, _ = self.daemon.api("ListEventBuses", "[1]")
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        status, body, _ = self.daemon.api("ListEventBuses", '{"a":1} trailing')
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))

    def test_unknown_and_missing_operation(self):
        status, body, _ = self.daemon.api("FlyToTheMoon", {})
        self.assertEqual((status, body["__type"]), (400, "UnknownOperationException"))
        status, _, data = self.daemon.request("POST", "/", "{}", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["__type"], "UnknownOperationException")

    def test_unsupported_content_type(self):
        status, body, _ = self.daemon.api("ListEventBuses", {}, {"Content-Type": "text/xml"})
        self.assertEqual(status, 415)
        self.assertIn("message", body)

    def test_invalid_utf8(self):
        status, body, _ = self.daemon.api("CreateEventBus", b'{"Name":"\xff\xfe"}')
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))

    def test_deep_nesting(self):
        status, body, _ = self.daemon.api("ListEventBuses", "[" * 100000 + "]" * 100000)
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        deep_detail = json.dumps({"a": "["}) [:-1] + ',"b":' + "[" * 5000 + "]" * 5000 + "}"
        status, body, _ = self.daemon.api("PutEvents", {"Entries": [
            {"Source": "s", "DetailType": "t", "Detail": deep_detail}]})
        self.assertEqual(status, 200)  # the envelope is fine; the detail is too deep
        self.assertEqual(body["Entries"][0]["ErrorCode"], "MalformedDetail")

    def test_huge_numbers(self):
        status, body, _ = self.daemon.api("PutEvents", {"Entries": [
            {"Source": "s", "DetailType": "t", "Detail": '{"n": 1e400, "m": -123456789012345678901234567890}'}]})
        self.assertEqual(status, 200)

    def test_oversized_body_413(self):
        status, _, data = self.daemon.request(
            "POST", "/", b"{" + b" " * (400 * 1024) + b"}",
            {"X-Amz-Target": "AWSEvents.ListEventBuses"})
        self.assertEqual(status, 413)
        self.assertIn("__type", json.loads(data))
        # The daemon is unaffected.
        self.assertEqual(self.daemon.request("GET", "/health")[0], 200)

    def test_oversized_headers_431(self):
        status, headers, data = self.daemon.request("GET", "/health",
                                                    headers={"X-Big": "a" * 20000})
        self.assertEqual(status, 431)
        self.assertEqual(json.loads(data), {"__type": "RequestHeaderFieldsTooLargeException",
                                            "message": "Request headers exceed the configured "
                                                       "limits."})
        self.assertIn("x-amzn-RequestId", headers)

    def test_keep_alive_and_pipelining(self):
        s = self.daemon.raw_socket()
        body = b"{}"
        one = (b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSEvents.ListEventBuses\r\n"
               b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n" + body)
        s.sendall(one * 5 + b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        responses = recv_responses(s, 6)
        self.assertEqual(len(responses), 6)
        for status, _, payload in responses[:5]:
            self.assertIn("200", status)
            self.assertIn("EventBuses", json.loads(payload))
        self.assertIn("status", json.loads(responses[5][2]))
        # Still open for more.
        s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertEqual(len(recv_responses(s, 1)), 1)
        s.close()

    def test_pipelined_writes_answer_in_order(self):
        s = self.daemon.raw_socket()
        reqs = b""
        for i in range(20):
            body = json.dumps({"Entries": [{"Source": "pipe", "DetailType": str(i),
                                            "Detail": "{}"}]}).encode()
            reqs += (b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSEvents.PutEvents\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body)) + body
        s.sendall(reqs)
        responses = recv_responses(s, 20)
        self.assertEqual(len(responses), 20)
        ids = [json.loads(p)["Entries"][0]["EventId"] for _, _, p in responses]
        stored = {e["id"]: e["detail-type"] for e in self.daemon.events(limit=10000)}
        self.assertEqual([stored[i] for i in ids], [str(i) for i in range(20)])
        s.close()

    def test_expect_100_continue(self):
        # curl sends this before bodies over 1 KiB and would otherwise wait a second.
        body = json.dumps({"Entries": [{"Source": "s", "DetailType": "t",
                                        "Detail": json.dumps({"pad": "x" * 2000})}]}).encode()
        s = self.daemon.raw_socket()
        s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSEvents.PutEvents\r\n"
                  b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        s.settimeout(0.5)
        interim = s.recv(64)
        self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim)
        s.sendall(body)
        rest = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        s.settimeout(10)
        while b"\r\n\r\n" not in rest:
            chunk = s.recv(65536)
            self.assertTrue(chunk, "the daemon closed the connection without answering")
            rest += chunk
        self.assertTrue(rest.startswith(b"HTTP/1.1 200"), rest)
        s.close()

    def test_garbage_request_400(self):
        s = self.daemon.raw_socket()
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        responses = recv_responses(s, 1)
        self.assertIn("400", responses[0][0])
        s.close()

    def test_slowloris_gets_408(self):
        s = self.daemon.raw_socket()
        s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\n")
        time.sleep(1.5)
        responses = recv_responses(s, 1, timeout=5)
        self.assertEqual(len(responses), 1)
        self.assertIn("408", responses[0][0])
        s.close()
        self.assertEqual(self.daemon.request("GET", "/health")[0], 200)

    def test_unknown_path_404(self):
        status, headers, data = self.daemon.request("GET", "/nope")
        self.assertEqual(status, 404)
        self.assertIn("x-amzn-RequestId", headers)
        self.assertEqual(json.loads(data), {"__type": "NotFoundException",
                                            "message": "No such endpoint."})

    def test_wrong_method_on_api_405(self):
        status, headers, data = self.daemon.request("GET", "/")
        self.assertEqual(status, 405)
        self.assertIn("x-amzn-RequestId", headers)
        self.assertEqual(json.loads(data)["__type"], "MethodNotAllowedException")

    def test_malformed_request_400_in_api_shape(self):
        s = self.daemon.raw_socket()
        s.sendall(b"GET /health HTTP/1.1\r\nHost x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400 "), head)
        self.assertIn(b"x-amzn-RequestId: ", head)
        self.assertEqual(json.loads(body), {"__type": "BadRequestException",
                                            "message": "Malformed HTTP request."})

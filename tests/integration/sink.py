#!/usr/bin/env python3
"""A real HTTP target for delivery tests, run as its own process. It records every request and
answers according to its path:
  /ok/...              200
  /status/CODE/...     always CODE
  /flaky/N/KEY/...     500 for the first N requests with that KEY, then 200
  /hang/...            never answers (until the client gives up)
  /reset/...           closes the connection without an answer
  /slow/MS/...         answers 200 after MS milliseconds
GET /_requests returns the recorded requests as JSON; DELETE /_requests clears them.
Usage: sink.py PORTFILE   (binds 127.0.0.1:0 and writes the port to PORTFILE)"""
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
requests = []
flaky_counts = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, code, body=b"{}"):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/_requests"):
            with lock:
                body = json.dumps(requests).encode()
            return self._answer(200, body)
        return self._handle()

    def do_DELETE(self):
        if self.path.startswith("/_requests"):
            with lock:
                requests.clear()
                flaky_counts.clear()
            return self._answer(200)
        return self._handle()

    def do_POST(self):
        return self._handle()

    do_PUT = do_PATCH = do_POST

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = self.path.split("?")[0].strip("/").split("/")
        with lock:
            requests.append({"method": self.command, "path": self.path,
                             "headers": {k: v for k, v in self.headers.items()},
                             "body": body.decode("utf-8", "replace"), "time": time.time()})
        kind = parts[0] if parts else ""
        if kind == "status":
            return self._answer(int(parts[1]), b'{"error":"as asked"}')
        if kind == "flaky":
            n, key = int(parts[1]), parts[2]
            with lock:
                flaky_counts[key] = flaky_counts.get(key, 0) + 1
                count = flaky_counts[key]
            return self._answer(500 if count <= n else 200)
        if kind == "hang":
            time.sleep(60)
            return
        if kind == "reset":
            # An abortive close (RST) with no answer at all.
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "slow":
            time.sleep(int(parts[1]) / 1000.0)
        return self._answer(200)


def main():
    # socketserver's default backlog of 5 drops connects when many deliveries arrive at once;
    # a dropped SYN is retried only after a second, which a short delivery_timeout counts as a
    # TIMEOUT.
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()

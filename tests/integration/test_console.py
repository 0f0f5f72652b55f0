"""The web console's files as the daemon serves them, without a browser (the Chromium test in
tests/console drives the pages themselves): every file the index loads exists with its content
type, an ETag that turns a repeat into a 304, a policy that lets the page reach nothing but this
daemon, and AWS-shaped errors for a missing file or a method other than GET."""
import json
import re
import unittest

from lbharness import DaemonTestCase

BASE = "/_localbridge/console/"


class Console(DaemonTestCase):
    def get(self, path, headers=None):
        return self.daemon.request("GET", path, headers=headers)

    def test_bare_prefix_redirects_to_the_index(self):
        status, headers, _ = self.get("/_localbridge/console")
        self.assertEqual(status, 301)
        self.assertEqual(headers["Location"], BASE)

    def test_index_and_every_file_it_loads(self):
        status, headers, data = self.get(BASE)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        html = data.decode()
        self.assertEqual(self.get(BASE + "index.html")[2], data)
        files = re.findall(r'(?:src|href)="([^"#:]+)"', html)
        self.assertIn("app.js", files)
        self.assertIn("style.css", files)
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".svg": "image/svg+xml"}
        for name in files:
            status, headers, data = self.get(BASE + name)
            self.assertEqual(status, 200, name)
            self.assertEqual(headers["Content-Type"], types[name[name.rindex("."):]], name)
            self.assertEqual(int(headers["Content-Length"]), len(data))
            self.assertGreater(len(data), 0, name)

    def test_no_outside_reference_in_any_file(self):
        _, _, html = self.get(BASE)
        for name in ["index.html"] + re.findall(r'(?:src|href)="([^"#:]+)"', html.decode()):
            _, _, data = self.get(BASE + name)
            # The SVG namespace is a name, not a fetch.
            text = data.decode().replace("http://www.w3.org/2000/svg", "")
            self.assertNotRegex(text, r"https?://", name)

    def test_etag_gives_a_304_without_a_body(self):
        status, headers, _ = self.get(BASE + "app.js")
        etag = headers["ETag"]
        self.assertRegex(etag, r'^"[0-9a-f]{20}"$')
        self.assertEqual(headers["Cache-Control"], "no-cache")
        for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
            status, headers, data = self.get(BASE + "app.js", {"If-None-Match": inm})
            self.assertEqual((status, data), (304, b""), inm)
            self.assertNotIn("Content-Length", headers)
            self.assertEqual(headers["ETag"], etag)
        status, _, _ = self.get(BASE + "app.js", {"If-None-Match": '"other"'})
        self.assertEqual(status, 200)

    def test_security_headers(self):
        _, headers, _ = self.get(BASE)
        csp = headers["Content-Security-Policy"]
        for part in ("default-src 'none'", "script-src 'self'", "connect-src 'self'",
                     "frame-ancestors 'none'"):
            self.assertIn(part, csp)
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")

    def test_missing_file_and_wrong_method_are_aws_errors(self):
        for path in (BASE + "nope.js", BASE + "../health", BASE + "app.js/x"):
            status, _, data = self.get(path)
            self.assertEqual(status, 404, path)
            self.assertEqual(json.loads(data)["__type"], "NotFoundException")
        status, _, data = self.daemon.admin_post(BASE, "{}")
        self.assertEqual(status, 405)
        self.assertEqual(json.loads(data)["__type"], "MethodNotAllowedException")
        # Only the console's own prefix: /_localbridge/consoleX is someone else's 404.
        status, _, data = self.get("/_localbridge/consoles")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(data)["message"], "No such endpoint.")


if __name__ == "__main__":
    unittest.main()

"""The test fixture side of issue 13: `serve --ephemeral` (a temporary data dir removed at exit,
port 0, the endpoint on stdout's first line), --log-format, and the recipes in contrib/ (the
pytest fixture and the Node global setup), whose example tests run here."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from lbharness import BINARY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start(*args, env=None):
    p = subprocess.Popen([BINARY, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    url = p.stdout.readline().strip()
    return p, url


def stop(p):
    p.send_signal(signal.SIGTERM)
    rc = p.wait(15)
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    return rc, err


class Ephemeral(unittest.TestCase):
    def test_temporary_data_dir_is_removed_at_exit(self):
        tmp = tempfile.mkdtemp(prefix="lb-eph-")
        try:
            p, url = start("--ephemeral", "--log-format", "kv", env=dict(os.environ, TMPDIR=tmp))
            self.assertRegex(url, r"^http://127\.0\.0\.1:\d+$")
            self.assertNotEqual(url.rsplit(":", 1)[1], "4010")
            with urllib.request.urlopen(url + "/health", timeout=5) as r:
                self.assertEqual(r.status, 200)
            [data_dir] = glob.glob(os.path.join(tmp, "localbridge-*"))
            self.assertTrue(os.path.exists(os.path.join(data_dir, "localbridge.db")))
            rc, err = stop(p)
            self.assertEqual(rc, 0, err)
            self.assertFalse(os.path.exists(data_dir))
            self.assertIn("data_dir=" + data_dir, err)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_listen_is_honoured_and_two_run_side_by_side(self):
        a, url_a = start("--ephemeral")
        b, url_b = start("--ephemeral")
        try:
            self.assertNotEqual(url_a, url_b)
        finally:
            self.assertEqual(stop(a)[0], 0)
            self.assertEqual(stop(b)[0], 0)
        p, url = start("--ephemeral", "--listen", "127.0.0.1:0", "--region", "eu-west-1")
        try:
            with urllib.request.urlopen(url + "/_localbridge/status", timeout=5) as r:
                self.assertEqual(json.loads(r.read())["buses"][0]["region"], "eu-west-1")
        finally:
            self.assertEqual(stop(p)[0], 0)

    def test_ready_quickly(self):
        # The target is 20 ms on an idle machine; a loaded CI box gets a wide margin.
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            p, url = start("--ephemeral")
            with urllib.request.urlopen(url + "/health", timeout=5) as r:
                self.assertEqual(r.status, 200)
            times.append(time.perf_counter() - t0)
            stop(p)
        self.assertLess(sorted(times)[2], 1.0)


class LogFormat(unittest.TestCase):
    def test_json_kv_and_text(self):
        p, _ = start("--ephemeral", "--log-format", "json")
        rc, err = stop(p)
        lines = [json.loads(l) for l in err.splitlines()]
        self.assertEqual(lines[0]["msg"], "listening")
        self.assertEqual(lines[0]["level"], "info")
        self.assertIn("url", lines[0])
        self.assertTrue(lines[0]["ts"].endswith("Z"))
        # Not a terminal: key=value by default.
        p, _ = start("--ephemeral")
        rc, err = stop(p)
        self.assertRegex(err.splitlines()[0], r'^ts=\S+Z level=info msg="listening" url=http')
        p, _ = start("--ephemeral", "--log-format", "text")
        rc, err = stop(p)
        self.assertRegex(err.splitlines()[0], r"^\d\d:\d\d:\d\d\.\d{3} listening url=http")

    def test_bad_log_format_is_refused(self):
        tmp = tempfile.mkdtemp(prefix="lb-eph-")
        try:
            p = subprocess.run([BINARY, "serve", "--ephemeral", "--log-format", "xml"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=10, env=dict(os.environ, TMPDIR=tmp))
            self.assertEqual(p.returncode, 2)
            self.assertIn("--log-format: 'xml' must be one of auto, text, kv, json", p.stderr)
            self.assertEqual(os.listdir(tmp), [])  # its temporary dir went too
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def python_with_pytest():
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import pytest, boto3"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL).returncode == 0:
            return exe
    return None


class Recipes(unittest.TestCase):
    def test_pytest_fixture_example(self):
        exe = python_with_pytest()
        if not exe:
            self.skipTest("no Python with pytest and boto3")
        p = subprocess.run([exe, "-m", "pytest", "-q", "-p", "localbridge_fixture",
                            "-p", "no:cacheprovider", "test_example.py"],
                           cwd=os.path.join(ROOT, "contrib", "pytest"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120,
                           env=dict(os.environ, LOCALBRIDGE_BIN=BINARY,
                                    PYTHONPATH=os.path.join(ROOT, "contrib", "pytest")))
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("2 passed", p.stdout)

    def test_node_global_setup_example(self):
        node = shutil.which("node")
        if not node:
            self.skipTest("no node")
        p = subprocess.run([node, "--test", os.path.join(ROOT, "contrib", "node")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120, env=dict(os.environ, LOCALBRIDGE_BIN=BINARY))
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("# pass 3", p.stdout)

#!/usr/bin/env python3
"""Runs the whole LocalBridge suite: the Check unit tests (through ctest), then the black-box
integration tests against the real binary, then the web console in headless Chromium (where
Debian's chromium is installed; skipped with a message elsewhere). Its last line is the combined count,
'N passed, N failed', which CI reads."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_unit(build):
    proc = subprocess.run(["ctest", "--output-on-failure", "-j", str(os.cpu_count() or 2)],
                          cwd=build, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(proc.stdout)
    m = re.search(r"(\d+)% tests passed, (\d+) tests? failed out of (\d+)", proc.stdout)
    if not m:
        if "No tests were found" in proc.stdout:
            return 0, 0
        return 0, 1
    failed, total = int(m.group(2)), int(m.group(3))
    return total - failed, failed


def run_integration(build, pattern):
    os.environ["LB_BINARY"] = os.path.join(os.path.abspath(build), "localbridge")
    os.environ.setdefault("LB_CONFORMANCE_DIR", os.path.join(HERE, "conformance"))
    sys.path.insert(0, os.path.join(HERE, "integration"))
    suite = unittest.defaultTestLoader.discover(os.path.join(HERE, "integration"),
                                                pattern=pattern, top_level_dir=os.path.join(HERE, "integration"))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    return result.testsRun - failed - len(result.skipped), failed, len(result.skipped)


def run_console(build):
    """tests/console/console_test.js: puppeteer-core (installed from its lock file with npm ci)
    driving Debian's Chromium against the real daemon."""
    here = os.path.join(HERE, "console")
    chromium = os.environ.get("LB_CHROMIUM", "/usr/bin/chromium")
    node, npm = shutil.which("node"), shutil.which("npm")
    if not os.path.exists(chromium) or not node or not npm:
        missing = chromium if not os.path.exists(chromium) else ("node" if not node else "npm")
        print(f"console: skipped: {missing} is not installed (.ci/deps installs Debian's chromium "
              "and Node.js); the web console was not tested")
        return 0, 0, 1
    stamp = os.path.join(here, "node_modules", ".package-lock.json")
    lock = os.path.join(here, "package-lock.json")
    if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(lock):
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=here,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            print("console: npm ci failed in tests/console")
            return 0, 1, 0
    proc = subprocess.run([node, "console_test.js", "--binary",
                           os.path.join(os.path.abspath(build), "localbridge")], cwd=here,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    sys.stdout.write(proc.stdout)
    m = re.search(r"^console: (\d+) passed, (\d+) failed", proc.stdout, re.M)
    if not m:
        return 0, 1, 0
    failed = int(m.group(2)) + (1 if proc.returncode and not int(m.group(2)) else 0)
    return int(m.group(1)), failed, 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--integration-only", action="store_true")
    ap.add_argument("--pattern", default="test_*.py")
    ap.add_argument("--no-console", action="store_true", help="leave out the web console test")
    args = ap.parse_args()
    passed = failed = skipped = 0
    if not args.integration_only:
        p, f = run_unit(args.build)
        print(f"unit: {p} passed, {f} failed")
        passed, failed = passed + p, failed + f
    p, f, s = run_integration(args.build, args.pattern)
    print(f"integration: {p} passed, {f} failed, {s} skipped")
    passed, failed, skipped = passed + p, failed + f, skipped + s
    # The console test runs with the whole suite, not when one integration file is picked.
    if not args.no_console and args.pattern == "test_*.py":
        p, f, s = run_console(args.build)
        print(f"console: {p} passed, {f} failed, {s} skipped")
        passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

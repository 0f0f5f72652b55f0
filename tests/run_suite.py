#!/usr/bin/env python3
"""Runs the whole LocalBridge suite: the Check unit tests (through ctest), then the black-box
integration tests against the real binary. Its last line is the combined count,
'N passed, N failed', which CI reads."""
import argparse
import os
import re
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--integration-only", action="store_true")
    ap.add_argument("--pattern", default="test_*.py")
    args = ap.parse_args()
    passed = failed = skipped = 0
    if not args.integration_only:
        p, f = run_unit(args.build)
        print(f"unit: {p} passed, {f} failed")
        passed, failed = passed + p, failed + f
    p, f, s = run_integration(args.build, args.pattern)
    print(f"integration: {p} passed, {f} failed, {s} skipped")
    passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

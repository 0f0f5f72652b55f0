#!/usr/bin/env python3
"""Writes one libFuzzer seed per conformance case into tests/fuzz/pattern_seeds/: the pattern
text, a NUL byte, then the event text (the format fuzz_pattern.c expects).

Source: tests/conformance/patterns.jsonl (AWS-validated cases from the LocalStack test suite,
Apache-2.0). Usage: make_pattern_seeds.py [patterns.jsonl] [out_dir]"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "conformance", "patterns.jsonl")
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "pattern_seeds")
os.makedirs(out, exist_ok=True)
with open(src, encoding="utf-8") as f:
    for i, line in enumerate(f):
        case = json.loads(line)
        pattern = case.get("pattern_raw") or json.dumps(case.get("pattern"), ensure_ascii=False)
        event = case.get("event_raw") or json.dumps(case.get("event"), ensure_ascii=False)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in case["name"])[:80]
        with open(os.path.join(out, "%03d_%s" % (i, name)), "wb") as seed:
            seed.write(pattern.encode("utf-8") + b"\0" + event.encode("utf-8"))

"""AWS's recorded answers for archives and replays (tests/conformance/archive-and-replay.snapshot.json,
from LocalStack's test_archive_and_replay.py run against AWS; see tests/conformance/README.md), and
how a LocalBridge answer is written in the same form to compare with them."""
import datetime
import json
import os

from lbharness import CONFORMANCE_DIR

# The account the recordings were made with: daemons comparing with them use it too.
ACCOUNT = "111111111111"
TIME_KEYS = {"CreationTime", "EventStartTime", "EventEndTime", "EventLastReplayedTime",
             "ReplayStartTime", "ReplayEndTime"}
_PREFIX = "tests/aws/services/events/test_archive_and_replay.py::"
_DATA = None


def recorded(test, key):
    """The answer AWS gave in LocalStack test `test` (e.g. "TestArchive::test_x[custom]")."""
    global _DATA
    if _DATA is None:
        with open(os.path.join(CONFORMANCE_DIR, "archive-and-replay.snapshot.json")) as f:
            _DATA = json.load(f)
    value = _DATA[_PREFIX + test]["recorded-content"][key]
    return strip_metadata(value)


def strip_metadata(value):
    """Drops ResponseMetadata but its status code (the recordings keep no headers)."""
    if isinstance(value, dict) and "ResponseMetadata" in value:
        value = dict(value)
        status = value.pop("ResponseMetadata").get("HTTPStatusCode")
        if "Error" in value:
            value["Status"] = status
    return value


def normalize(value, names, region="us-east-1"):
    """A boto3 or AWS CLI answer as the recordings write it: timestamps as "datetime", ARNs with
    <partition> and <region>, each name in `names` ({name: "<placeholder>"}) replaced, EventPattern
    parsed (LocalStack records JSON strings as JSON), ResponseMetadata dropped."""
    def text(s):
        for name in sorted(names, key=len, reverse=True):
            s = s.replace(name, names[name])
        return s.replace("arn:aws:", "arn:<partition>:").replace(":%s:" % region, ":<region>:")

    def walk(v, key=None):
        if key in TIME_KEYS:
            return "datetime"
        if key == "EventPattern" and isinstance(v, str):
            return json.loads(v)
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items() if k != "ResponseMetadata"}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, datetime.datetime):
            return "datetime"
        if isinstance(v, str):
            return text(v)
        return v
    return walk(value)


def client_error(exc, names):
    """A botocore ClientError in the recordings' form."""
    r = exc.response
    return {"Error": {"Code": r["Error"]["Code"], "Message": normalize(r["Error"]["Message"], names)},
            "Status": r["ResponseMetadata"]["HTTPStatusCode"]}


def cli_error(stderr, names):
    """The AWS CLI's error line, "An error occurred (Code) when calling the Op operation[ (reached
    max retries: 0)]: Msg", as (code, message)."""
    line = [l for l in stderr.strip().splitlines() if "An error occurred (" in l][-1]
    code = line.split("(", 1)[1].split(")", 1)[0]
    message = line.split("): ", 1)[1] if "(reached max retries" in line else \
        line.split("operation: ", 1)[1]
    return code, normalize(message, names)

"""Python Lambda handlers the local-handler tests run through localbridge-lambda-python. Each run
appends one JSON line to $LB_LAMBDA_OUT/<function>.jsonl saying what it saw."""
import json
import os
import time

ENV_KEYS = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER", "TZ",
            "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "LAMBDA_TASK_ROOT", "GREETING", "PATH", "LOCALBRIDGE_TEST_SETTING", "AWS_PROFILE")


def record(event, context, **extra):
    line = {"event": event, "pid": os.getpid(), "t": time.time(),
            "env": {k: os.environ.get(k) for k in ENV_KEYS},
            "context": {"function_name": context.function_name,
                        "function_version": context.function_version,
                        "invoked_function_arn": context.invoked_function_arn,
                        "memory_limit_in_mb": context.memory_limit_in_mb,
                        "aws_request_id": context.aws_request_id,
                        "log_group_name": context.log_group_name,
                        "log_stream_name": context.log_stream_name,
                        "remaining_ms": context.get_remaining_time_in_millis()}}
    line.update(extra)
    path = os.path.join(os.environ["LB_LAMBDA_OUT"], context.function_name + ".jsonl")
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


def ok(event, context):
    record(event, context)
    print("handled event", event.get("id"))
    return {"ok": True}


def special(event, context):
    record(event, context, special=True)
    return "special"


def fail(event, context):
    record(event, context)
    raise ValueError("boom %s" % event.get("id"))


def fail_once(event, context):
    """Fails the first run of each event, succeeds on its retry."""
    marker = os.path.join(os.environ["LB_LAMBDA_OUT"], "seen-" + event["id"])
    first = not os.path.exists(marker)
    record(event, context, first=first)
    if first:
        open(marker, "w").close()
        raise RuntimeError("first run fails")
    return "second run"


def slow(event, context):
    record(event, context)
    time.sleep(float(event.get("detail", {}).get("sleep", 30)))
    return "woke"


def publish(event, context):
    """A chained flow: the handler publishes the next event with its own boto3 client, which only
    AWS_ENDPOINT_URL points at LocalBridge."""
    import boto3
    import botocore
    record(event, context, botocore=botocore.__version__)
    client = boto3.client("events")
    out = client.put_events(Entries=[{"Source": "chain", "DetailType": "Next",
                                      "Detail": json.dumps({"from": event["id"]}),
                                      "EventBusName": "next"}])
    assert out["FailedEntryCount"] == 0, out
    return out["Entries"][0]["EventId"]

"""Execution: carries out a RebalancePlanned and reports TradeExecuted.

Raising means the execution failed. EventBridge invoked this function asynchronously, so Lambda
(not the rule) retries it, and after the last retry the event goes to the function's on-failure
destination (the template points it at alchemiser-event-dlq).
"""
import alchemiser_events as ev


class ExecutionFailed(Exception):
    pass


def eventbridge_handler(event, context):
    if event.get("detail-type") != "RebalancePlanned":
        return {"ignored": event.get("detail-type")}
    detail = event["detail"]
    if detail.get("fail_execution"):
        raise ExecutionFailed("broker rejected plan %s" % detail.get("plan_id"))
    fills = [dict(t, status="FILLED") for t in detail.get("trades", [])]
    report = {
        "plan_id": detail.get("plan_id"),
        "fills": fills,
        "total_filled_value": round(sum(f["value"] for f in fills), 2),
    }
    event_id = ev.publish("execution", "TradeExecuted", report, ev.correlation_of(event),
                          event["id"])
    print("executed %s: %d fills -> %s" % (report["plan_id"], len(fills), event_id))
    return {"event_id": event_id}

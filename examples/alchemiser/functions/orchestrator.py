"""Orchestrator: sees every alchemiser.* event and closes a workflow on TradeExecuted."""
import alchemiser_events as ev


def eventbridge_handler(event, context):
    kind = event.get("detail-type")
    correlation = ev.correlation_of(event)
    print("orchestrator saw %s from %s (correlation %s)" % (kind, event.get("source"), correlation))
    if kind != "TradeExecuted":
        return {"seen": kind}
    detail = event["detail"]
    done = {"plan_id": detail.get("plan_id"), "status": "COMPLETED",
            "total_filled_value": detail.get("total_filled_value")}
    event_id = ev.publish("orchestrator", "WorkflowCompleted", done, correlation, event["id"])
    return {"event_id": event_id}
